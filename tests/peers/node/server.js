#!/usr/bin/env node
// Real engine.io 6.6 server used as a test peer by the actix-engineio test-suite.
//
// Usage: node server.js [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
//                       [--path PATH] [--cookie NAME] [--transports polling,websocket]
//                       [--port N] [--tls-cert FILE --tls-key FILE] [--allow-eio3]
//                       [--client-ca FILE] [--no-trailing-slash] [--per-message-deflate]
//                       [--exit-with-stdin]
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
// With --client-ca (beside --tls-cert and --tls-key) it requires a client certificate
// signed by the CA of that PEM file (mutual TLS: `requestCert`, `rejectUnauthorized`).
// With --no-trailing-slash the path is served without its trailing slash, as engine.io's
// `addTrailingSlash: false` does (`/engine.io` and anything that starts with it).
// With --per-message-deflate its websockets accept permessage-deflate (engine.io's
// `perMessageDeflate`, with `threshold: 0`: every message compressed, however small).
// The command line, the log, the http server and the exit are `common.js`, shared with the
// engine.io 3.6 peer (`../node3/server.js`).
// With --exit-with-stdin the process exits when its stdin is closed, so it never
// outlives the test process that spawned it.
"use strict";

const engine = require("engine.io");
const { parseArgs, createHttpServer, logRequest, echoSession, listen } = require("./common");

const opts = parseArgs(process.argv.slice(2));
const httpServer = createHttpServer(opts);
const engineOpts = {
  path: opts.path,
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  maxHttpBufferSize: opts.maxPayload,
  transports: opts.transports,
  allowEIO3: opts.allowEIO3,
  addTrailingSlash: opts.addTrailingSlash,
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
  logRequest(req);
  next();
});

server.on("connection", echoSession);

server.on("connection_error", (err) => {
  process.stderr.write(
    `node peer: connection_error code=${err.code} message=${err.message} url=${err.req && err.req.url}\n`
  );
});

listen(httpServer, opts);
