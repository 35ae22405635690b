"""python-engineio 4.15's AsyncClient as a contender of the benchmark (bench/README.md).

Started by the benchmark's `measure` child (which execs tests/peers/python/.venv/bin/python
on this file): argv[1] is the job as JSON, {scenario: {name, kind, size, count, sessions,
batch}, contender, base}. Prints the measurement as JSON, {metrics: {...}, notes: [...]},
on stdout, as the Rust contenders do; an error goes to stderr with exit status 1. Every
echo is checked: message i is i in ten digits followed by a fixed pattern, and echoes
must come back in order.
"""

import asyncio
import gc
import json
import math
import resource
import sys
import time

import engineio

JOB = json.loads(sys.argv[1])
SCENARIO = JOB["scenario"]
METRICS = {}
NOTES = []

# Sends queued before the sender lets the event loop run (AsyncClient.send only puts the
# packet on an unbounded queue and does not yield): the Rust contenders keep up to 256
# sends unanswered.
WINDOW = 256


class Payloads:
    def __init__(self, size):
        self.size = size
        self.tail = "".join(chr(97 + i % 26) for i in range(size - 10))

    def make(self, i):
        return f"{i:010d}" + self.tail

    def check(self, i, got):
        if isinstance(got, (bytes, bytearray)):
            got = got.decode("utf-8", "replace")
        if len(got) == self.size and got == self.make(i):
            return
        raise RuntimeError(
            f"echo #{i} is wrong: expected {self.size} bytes starting {self.make(i)[:10]!r}, "
            f"got {len(got)} bytes starting {got[:24]!r}"
        )


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def percentile(values, p):
    if not values:
        return math.nan
    v = sorted(values)
    rank = math.ceil(p / 100 * len(v))
    return v[min(max(rank, 1), len(v)) - 1]


def record_latencies(lat):
    METRICS["p50_us"] = percentile(lat, 50)
    METRICS["p99_us"] = percentile(lat, 99)
    METRICS["p999_us"] = percentile(lat, 99.9)


class Stopwatch:
    def __init__(self):
        self.wall = time.perf_counter()
        self.cpu = cpu_seconds()

    def finish(self, msgs):
        secs = time.perf_counter() - self.wall
        METRICS.update(
            msgs=msgs,
            secs=secs,
            rate=msgs / secs,
            cpu_us_per_msg=(cpu_seconds() - self.cpu) * 1e6 / msgs,
        )


class Session:
    """An AsyncClient whose echoes go to a queue the waiting code reads in order."""

    def __init__(self):
        self.eio = engineio.AsyncClient(handle_sigint=False)
        self.echoes = asyncio.Queue()

        async def on_message(data):
            self.echoes.put_nowait(("message", data))

        async def on_disconnect(reason=None):
            self.echoes.put_nowait(("end", f"disconnected: {reason}"))

        self.eio.on("message", on_message)
        self.eio.on("disconnect", on_disconnect)

    async def connect(self, transports):
        try:
            await self.eio.connect(JOB["base"], transports=transports, engineio_path="engine.io")
        except Exception as e:  # noqa: BLE001 - the error is the result
            raise RuntimeError(f"connect: {e}") from e

    async def echo(self, p, i):
        kind, data = await self.echoes.get()
        if kind == "end":
            raise RuntimeError(f"after {i} echoes: {data}")
        p.check(i, data)

    async def close(self):
        await self.eio.disconnect()


async def open_session(transports):
    s = Session()
    await s.connect(transports)
    return s


async def sequential(s, p, count):
    lat = []
    sw = Stopwatch()
    for i in range(count):
        t = time.perf_counter()
        await s.eio.send(p.make(i))
        await s.echo(p, i)
        lat.append((time.perf_counter() - t) * 1e6)
    sw.finish(count)
    record_latencies(lat)


async def pipelined(s, p, count):
    async def sender():
        for i in range(count):
            await s.eio.send(p.make(i))
            if (i + 1) % WINDOW == 0:
                await asyncio.sleep(0)

    task = asyncio.create_task(sender())
    try:
        for i in range(count):
            await s.echo(p, i)
    finally:
        if not task.done():
            task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def open_many(n, batch):
    sessions = []
    for start in range(0, n, batch):
        end = min(start + batch, n)
        try:
            opened = await asyncio.gather(*(open_session(["websocket"]) for _ in range(start, end)))
        except Exception as e:  # noqa: BLE001
            raise RuntimeError(f"after {len(sessions)} sessions: {e}") from e
        sessions.extend(opened)
    return sessions


async def settle():
    await asyncio.sleep(0.5)
    gc.collect()


async def main():
    kind = SCENARIO["kind"]
    p = Payloads(max(SCENARIO["size"], 10))
    count = SCENARIO["count"]
    if kind in ("ws-seq", "poll-seq"):
        s = await open_session(["websocket" if kind == "ws-seq" else "polling"])
        await sequential(s, p, count)
        await s.close()
    elif kind in ("ws-pipe", "poll-pipe"):
        if kind == "poll-pipe":
            # python-engineio's client refuses a polling response of more than 16
            # packets ("Unexpected packet from server") and ends the session; the echo
            # server answers a GET with everything queued, so the limit is raised, as a
            # user of this server would have to.
            engineio.payload.Payload.max_decode_packets = 1_000_000
            NOTES.append("python-engineio's max_decode_packets raised from 16 (see eio_client.py)")
        s = await open_session(["websocket" if kind == "ws-pipe" else "polling"])
        sw = Stopwatch()
        await pipelined(s, p, count)
        sw.finish(count)
        await s.close()
    elif kind == "upgrade":
        # connect() with both transports: the polling handshake, then the websocket
        # probe and upgrade, all before it returns.
        lat = []
        for n in range(SCENARIO["sessions"]):
            t = time.perf_counter()
            s = Session()
            await s.connect(["polling", "websocket"])
            if s.eio.transport() != "websocket":
                raise RuntimeError(f"session {n}: did not upgrade ({s.eio.transport()})")
            lat.append((time.perf_counter() - t) * 1e6)
            await s.close()
        record_latencies(lat)
    elif kind == "idle":
        n = SCENARIO["sessions"]
        warm = await open_session(["websocket"])
        await settle()
        before = rss_kib()
        t = time.perf_counter()
        sessions = await open_many(n, SCENARIO["batch"])
        open_secs = time.perf_counter() - t
        await settle()
        after = rss_kib()
        METRICS.update(
            sessions=n,
            batch=SCENARIO["batch"],
            open_secs=open_secs,
            rss_before_mib=before / 1024,
            rss_after_mib=after / 1024,
            kib_per_session=(after - before) / n,
        )
        await asyncio.gather(*(s.close() for s in sessions))
        await warm.close()
    elif kind == "many":
        n = SCENARIO["sessions"]
        t = time.perf_counter()
        sessions = await open_many(n, SCENARIO["batch"])
        METRICS["open_secs"] = time.perf_counter() - t
        sw = Stopwatch()
        results = await asyncio.gather(
            *(pipelined(s, p, count) for s in sessions), return_exceptions=True
        )
        sw.finish(n * count)
        METRICS["sessions"] = n
        for i, r in enumerate(results):
            if isinstance(r, BaseException):
                raise RuntimeError(f"session {i}: {r}")
        await asyncio.gather(*(s.close() for s in sessions))
    else:
        raise RuntimeError(f"unknown scenario kind {kind}")
    METRICS["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as e:  # noqa: BLE001 - reported as the measurement's error
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"metrics": METRICS, "notes": NOTES}))
