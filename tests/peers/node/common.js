// What the node test peers share: the command line, the JSON event log on stdout, the plain
// http(s) server that answers 404 outside the engine.io path, the request log, and the exit
// when the harness goes away. `server.js` (engine.io 6.6) and `../node3/server.js`
// (engine.io 3.6) require it; it requires no engine.io itself, so each peer brings its own.
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");

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
    clientCa: null,
    addTrailingSlash: true,
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
    if (flag === "--allow-eio3") {
      opts.allowEIO3 = true;
      continue;
    }
    if (flag === "--per-message-deflate") {
      opts.perMessageDeflate = true;
      continue;
    }
    if (flag === "--no-trailing-slash") {
      opts.addTrailingSlash = false;
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
      case "--client-ca":
        opts.clientCa = value;
        break;
      default:
        throw new Error(`unknown flag ${flag}`);
    }
  }
  if ((opts.tlsCert === null) !== (opts.tlsKey === null)) {
    throw new Error("--tls-cert and --tls-key go together");
  }
  if (opts.clientCa !== null && opts.tlsCert === null) {
    throw new Error("--client-ca needs --tls-cert and --tls-key");
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

// Requests outside the engine.io path get a 404 (engine.io's attach() hands them to the
// listeners that existed before it; without one they would hang).
function notFound(req, res) {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
}

// The http server (https with --tls-cert/--tls-key) that engine.io is attached to.
function createHttpServer(opts) {
  return opts.tlsCert === null
    ? http.createServer(notFound)
    : https.createServer(
        Object.assign(
          { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) },
          // Mutual TLS: a client without a certificate signed by this CA is refused in
          // the TLS handshake.
          opts.clientCa === null
            ? {}
            : { ca: fs.readFileSync(opts.clientCa), requestCert: true, rejectUnauthorized: true }
        ),
        notFound
      );
}

// The "request" event of an HTTP request. From the raw headers, so that repeated headers
// are joined with ", " as by the other peers (req.headers joins cookies with "; " and drops
// repeated host, user-agent, ...).
function logRequest(req) {
  const headers = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  log({ event: "request", method: req.method, url: req.url, headers });
}

// A session as every node peer serves it: logs its open, upgrade, messages and close, echoes
// every message, and closes the session on the text message "close-me".
function echoSession(socket) {
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
}

// Listens, logs {"event":"listening","port":N}, and exits when the harness goes away (stdin
// closed, with --exit-with-stdin) or on a termination signal.
function listen(httpServer, opts) {
  httpServer.listen(opts.port, "127.0.0.1", () => {
    log({ event: "listening", port: httpServer.address().port });
  });
  if (opts.exitWithStdin) {
    process.stdin.on("end", () => process.exit(0));
    process.stdin.on("error", () => process.exit(0));
    process.stdin.resume();
  }
  process.on("SIGTERM", () => process.exit(0));
  process.on("SIGINT", () => process.exit(0));
}

module.exports = { parseArgs, log, messageEvent, createHttpServer, logRequest, echoSession, listen };
