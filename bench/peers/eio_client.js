// Node's engine.io-client 6.6 as a contender of the benchmark (bench/README.md).
//
// Started by the benchmark's `measure` child (which execs `node --expose-gc` on this file,
// with NODE_PATH pointing at tests/peers/node/node_modules): argv[2] is the job as JSON,
// {scenario: {name, kind, size, count, sessions, batch}, contender, base}. Prints the
// measurement as JSON, {metrics: {...}, notes: [...]}, on stdout, as the Rust contenders
// do; an error goes to stderr with exit status 1. Every echo is checked: message i is i
// in ten digits followed by a fixed pattern, and echoes must come back in order.
"use strict";

const fs = require("fs");
const { Socket } = require("engine.io-client");

const job = JSON.parse(process.argv[2]);
const scenario = job.scenario;
const metrics = {};
const notes = [];

// engine.io-client has no backpressure of its own (send() only queues), so the
// pipelining sender keeps at most WINDOW messages unechoed, and at most 4 MiB of them:
// the Rust contenders keep up to 256 sends unanswered. Without a bound, node falls so
// far behind with 64 KiB messages that the server's pings time out.
const WINDOW = 256;
const WINDOW_BYTES = 4 << 20;

class Payloads {
  constructor(size) {
    this.size = size;
    let tail = "";
    for (let i = 0; i < size - 10; i++) tail += String.fromCharCode(97 + (i % 26));
    this.tail = tail;
  }
  make(i) {
    return String(i).padStart(10, "0") + this.tail;
  }
  check(i, got) {
    const text = typeof got === "string" ? got : Buffer.from(got).toString();
    if (text.length === this.size && text === this.make(i)) return;
    throw new Error(
      `echo #${i} is wrong: expected ${this.size} bytes starting ${JSON.stringify(
        this.make(i).slice(0, 10),
      )}, got ${text.length} bytes starting ${JSON.stringify(text.slice(0, 24))}`,
    );
  }
}

const now = () => process.hrtime.bigint();
const micros = (from) => Number(now() - from) / 1000;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const rssKib = () => {
  const m = /VmRSS:\s*(\d+)\s*kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  if (!m) throw new Error("no VmRSS in /proc/self/status");
  return Number(m[1]);
};

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const v = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * v.length);
  return v[Math.min(Math.max(rank, 1), v.length) - 1];
}

function recordLatencies(lat) {
  metrics.p50_us = percentile(lat, 50);
  metrics.p99_us = percentile(lat, 99);
  metrics.p999_us = percentile(lat, 99.9);
}

class Stopwatch {
  constructor() {
    this.wall = now();
    this.cpu = cpuSeconds();
  }
  finish(msgs) {
    const secs = Number(now() - this.wall) / 1e9;
    metrics.msgs = msgs;
    metrics.secs = secs;
    metrics.rate = msgs / secs;
    metrics.cpu_us_per_msg = ((cpuSeconds() - this.cpu) * 1e6) / msgs;
  }
}

// A session, and its echoes as a queue the waiting code awaits one at a time.
class Session {
  constructor(transports) {
    this.queue = [];
    this.waiter = null;
    this.ended = null;
    this.socket = new Socket(job.base, { transports, path: "/engine.io/" });
    this.socket.on("message", (data) => this.push({ data }));
    this.socket.on("close", (reason, desc) => {
      this.ended = `session closed: ${reason}${desc ? ` (${desc.message || desc})` : ""}`;
      this.push({ end: this.ended });
    });
  }
  opened() {
    return new Promise((resolve, reject) => {
      this.socket.once("open", resolve);
      this.socket.once("error", (e) => reject(new Error(`connect: ${e.message || e}`)));
    });
  }
  push(event) {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(event);
    } else {
      this.queue.push(event);
    }
  }
  next() {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    return new Promise((resolve) => (this.waiter = resolve));
  }
  async echo(p, i) {
    const event = await this.next();
    if (event.end !== undefined) throw new Error(`after ${i} echoes: ${event.end}`);
    p.check(i, event.data);
  }
  drained() {
    return new Promise((resolve) => this.socket.once("drain", resolve));
  }
  close() {
    this.socket.removeAllListeners("close");
    this.socket.close();
  }
}

async function open(transports) {
  const s = new Session(transports);
  await s.opened();
  return s;
}

async function sequential(s, p, count) {
  const lat = [];
  const sw = new Stopwatch();
  for (let i = 0; i < count; i++) {
    const t = now();
    s.socket.send(p.make(i));
    await s.echo(p, i);
    lat.push(micros(t));
  }
  sw.finish(count);
  recordLatencies(lat);
}

// Sends every message while the echoes are read and checked in order.
async function pipelined(s, p, count) {
  const window = Math.max(1, Math.min(WINDOW, Math.floor(WINDOW_BYTES / p.size)));
  let received = 0;
  let wake = null;
  const sender = (async () => {
    for (let i = 0; i < count; i++) {
      while (i - received >= window && !s.ended) {
        await new Promise((resolve) => (wake = resolve));
      }
      if (s.ended) return;
      s.socket.send(p.make(i));
    }
  })();
  for (let i = 0; i < count; i++) {
    await s.echo(p, i);
    received = i + 1;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  }
  await sender;
}

async function openMany(n, batch) {
  const sessions = [];
  for (let start = 0; start < n; start += batch) {
    const end = Math.min(start + batch, n);
    const opened = await Promise.all(
      Array.from({ length: end - start }, () => open(["websocket"])),
    ).catch((e) => {
      throw new Error(`after ${sessions.length} sessions: ${e.message}`);
    });
    sessions.push(...opened);
  }
  return sessions;
}

async function settle() {
  await new Promise((r) => setTimeout(r, 500));
  if (global.gc) global.gc();
}

async function main() {
  const p = new Payloads(Math.max(scenario.size, 10));
  switch (scenario.kind) {
    case "ws-seq":
    case "poll-seq": {
      const s = await open([scenario.kind === "ws-seq" ? "websocket" : "polling"]);
      await sequential(s, p, scenario.count);
      s.close();
      break;
    }
    case "ws-pipe":
    case "poll-pipe": {
      const s = await open([scenario.kind === "ws-pipe" ? "websocket" : "polling"]);
      const sw = new Stopwatch();
      await pipelined(s, p, scenario.count);
      sw.finish(scenario.count);
      s.close();
      break;
    }
    case "upgrade": {
      // From creating the socket (polling first) to the "upgrade" event, which the
      // client emits once it has sent `5` on the websocket.
      const lat = [];
      for (let n = 0; n < scenario.sessions; n++) {
        const t = now();
        const s = new Session(["polling", "websocket"]);
        await new Promise((resolve, reject) => {
          s.socket.once("upgrade", resolve);
          s.socket.once("upgradeError", (e) => reject(new Error(`session ${n}: upgrade: ${e.message}`)));
          s.socket.once("error", (e) => reject(new Error(`session ${n}: ${e.message || e}`)));
        });
        lat.push(micros(t));
        s.close();
      }
      recordLatencies(lat);
      break;
    }
    case "idle": {
      const warm = await open(["websocket"]);
      await settle();
      const before = rssKib();
      const t = now();
      const sessions = await openMany(scenario.sessions, scenario.batch);
      const openSecs = Number(now() - t) / 1e9;
      await settle();
      const after = rssKib();
      Object.assign(metrics, {
        sessions: scenario.sessions,
        batch: scenario.batch,
        open_secs: openSecs,
        rss_before_mib: before / 1024,
        rss_after_mib: after / 1024,
        kib_per_session: (after - before) / scenario.sessions,
      });
      for (const s of sessions) s.close();
      warm.close();
      break;
    }
    case "many": {
      const t = now();
      const sessions = await openMany(scenario.sessions, scenario.batch);
      metrics.open_secs = Number(now() - t) / 1e9;
      const sw = new Stopwatch();
      const results = await Promise.allSettled(
        sessions.map((s) => pipelined(s, p, scenario.count)),
      );
      sw.finish(scenario.sessions * scenario.count);
      metrics.sessions = scenario.sessions;
      const failed = results.findIndex((r) => r.status === "rejected");
      if (failed >= 0) throw new Error(`session ${failed}: ${results[failed].reason.message}`);
      for (const s of sessions) s.close();
      break;
    }
    default:
      throw new Error(`unknown scenario kind ${scenario.kind}`);
  }
  metrics.peak_rss_mib = process.resourceUsage().maxRSS / 1024;
  // Lets the close packets go out (over polling, a POST) before the process ends, so
  // the server has no session left over for the next measurement.
  await new Promise((r) => setTimeout(r, 200));
  process.stdout.write(JSON.stringify({ metrics, notes }) + "\n", () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(`${e.message || e}\n`, () => process.exit(1));
});
