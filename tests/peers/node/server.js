#!/usr/bin/env node
// Real engine.io 6.6 server used as a test peer by the actix-engineio test-suite.
//
// Usage: node server.js [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
//                       [--path PATH] [--cookie NAME] [--transports polling,websocket]
//                       [--port N] [--tls-cert FILE --tls-key FILE] [--allow-eio3]
//                       [--per-message-deflate] [--exit-with-stdin]
//
// Listens on 127.0.0.1 on an ephemeral port (on port N with --port N: a test restarts a
// server on the port of the one it killed) and prints JSON lines on stdout:
//   {"event":"listening","port":N}
//   {"event":"request","method":"GET","url":"/engine.io/?EIO=4&...","headers":{...}}
//   {"event":"connect","sid":"...","transport":"polling"}
//   {"event":"message","sid":"...","kind":"text|binary","len":N,"head":"..."}
//   {"event":"upgrade","sid":"...","transport":"websocket"}
//   {"event":"close","sid":"...","reason":"..."}
// Every message is echoed back (text as text, binary as binary), except the text
// message "close-me", which makes the server close the session.
// With --tls-cert and --tls-key (PEM files: the certificate chain, leaf first, and its
// private key) it serves https and wss instead of http and ws (node's `https` server).
// With --allow-eio3 it also accepts Engine.IO v3 clients (EIO=3), as engine.io's
// `allowEIO3` option does: they get a v3 session, and must send the pings themselves.
// With --per-message-deflate its websockets accept permessage-deflate (engine.io's
// `perMessageDeflate`, with `threshold: 0`: every message compressed, however small).
// With --exit-with-stdin the process exits when its stdin is closed, so it never
// outlives the test process that spawned it.
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const engine = require("engine.io");

function parseArgs(argv) {
  const opts = {
    pingInterval: 25000,
    pingTimeout: 20000,
    maxPayload: 1000000,
    path: "/engine.io/",
    cookie: null,
    transports: ["polling", "websocket"],
    port: 0,
    tlsCert: null,
    tlsKey: null,
    exitWithStdin: false,
    allowEIO3: false,
    perMessageDeflate: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--exit-with-stdin") {
      opts.exitWithStdin = true;
      continue;
    }
    if (flag === "--per-message-deflate") {
      opts.perMessageDeflate = true;
      continue;
    }
    if (flag === "--allow-eio3") {
      opts.allowEIO3 = true;
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined) {
      throw new Error(`missing value for ${flag}`);
    }
    i++;
    switch (flag) {
      case "--ping-interval":
        opts.pingInterval = Number(value);
        break;
      case "--ping-timeout":
        opts.pingTimeout = Number(value);
        break;
      case "--max-payload":
        opts.maxPayload = Number(value);
        break;
      case "--path":
        opts.path = value;
        break;
      case "--cookie":
        opts.cookie = value;
        break;
      case "--transports":
        opts.transports = value.split(",").map((t) => t.trim()).filter((t) => t.length > 0);
        break;
      case "--port":
        opts.port = Number(value);
        break;
      case "--tls-cert":
        opts.tlsCert = value;
        break;
      case "--tls-key":
        opts.tlsKey = value;
        break;
      default:
        throw new Error(`unknown flag ${flag}`);
    }
  }
  if ((opts.tlsCert === null) !== (opts.tlsKey === null)) {
    throw new Error("--tls-cert and --tls-key go together");
  }
  return opts;
}

function log(obj) {
  // stdout is a pipe: writes are synchronous on Linux, so lines are never interleaved.
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// A received message as logged: its kind, its size in bytes and its first HEAD characters
// (text) or bytes (binary, in hex): enough to check what arrived in which order without
// copying megabytes into the log.
const HEAD = 100;
function messageEvent(sid, data) {
  if (data === undefined || data === null) {
    // engine.io hands an empty text message over as undefined.
    data = "";
  }
  if (typeof data === "string") {
    // By code points, like python's data[:100] and Rust's chars().take(100).
    const head = Array.from(data.slice(0, 2 * HEAD)).slice(0, HEAD).join("");
    return { event: "message", sid, kind: "text", len: Buffer.byteLength(data), head };
  }
  const bytes = Buffer.from(data);
  return {
    event: "message",
    sid,
    kind: "binary",
    len: bytes.length,
    head: bytes.subarray(0, HEAD).toString("hex"),
  };
}

const opts = parseArgs(process.argv.slice(2));

// Requests outside the engine.io path get a 404 (engine.io's attach() hands them to the
// listeners that existed before it; without one they would hang).
function notFound(req, res) {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
}
const httpServer =
  opts.tlsCert === null
    ? http.createServer(notFound)
    : https.createServer(
        { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) },
        notFound
      );
const engineOpts = {
  path: opts.path,
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  maxHttpBufferSize: opts.maxPayload,
  transports: opts.transports,
  allowEIO3: opts.allowEIO3,
};
if (opts.perMessageDeflate) {
  engineOpts.perMessageDeflate = { threshold: 0 };
}
if (opts.cookie) {
  engineOpts.cookie = { name: opts.cookie };
}
const server = engine.attach(httpServer, engineOpts);

// Runs for every HTTP request engine.io handles: polling GET/POST and websocket upgrades.
server.use((req, res, next) => {
  // From the raw headers, so that repeated headers are joined with ", " as by the other
  // peers (req.headers joins cookies with "; " and drops repeated host, user-agent, ...).
  const headers = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  log({ event: "request", method: req.method, url: req.url, headers });
  next();
});

server.on("connection", (socket) => {
  log({ event: "connect", sid: socket.id, transport: socket.transport.name });
  socket.on("upgrade", (transport) => {
    log({ event: "upgrade", sid: socket.id, transport: transport.name });
  });
  socket.on("message", (data) => {
    log(messageEvent(socket.id, data));
    if (typeof data === "string" && data === "close-me") {
      socket.close();
      return;
    }
    socket.send(data);
  });
  socket.on("close", (reason) => {
    log({ event: "close", sid: socket.id, reason: String(reason) });
  });
});

server.on("connection_error", (err) => {
  process.stderr.write(
    `node peer: connection_error code=${err.code} message=${err.message} url=${err.req && err.req.url}\n`
  );
});

httpServer.listen(opts.port, "127.0.0.1", () => {
  log({ event: "listening", port: httpServer.address().port });
});

// Exit when the harness goes away (stdin closed) or on a termination signal.
if (opts.exitWithStdin) {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
