#!/usr/bin/env node
// Real engine.io 3.6 server (Engine.IO protocol v3 only: what Socket.IO 2 servers run), used
// as a test peer by the actix-engineio test-suite.
//
// Usage: node server.js [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
//                       [--path PATH] [--cookie NAME] [--transports polling,websocket]
//                       [--port N] [--tls-cert FILE --tls-key FILE] [--exit-with-stdin]
//
// The same command line, event log and behaviour as the engine.io 6.6 peer
// (`../node/server.js`, whose `common.js` this requires), except:
//   * --allow-eio3 is refused: engine.io 3 speaks v3 only, and ignores the EIO query
//     parameter (a v4 client gets a v3 session); so is --no-trailing-slash (no such option);
//   * the request log comes from listeners put before engine.io's on the http server
//     (engine.io 3 has no `server.use()`), for the requests on the engine.io path;
//   * the cookie is engine.io 3's string option (without --cookie: none, where
//     engine.io 3 would set `io` by default).
"use strict";

const engine = require("engine.io");
const {
  parseArgs,
  createHttpServer,
  logRequest,
  echoSession,
  listen,
} = require("../node/common");

const opts = parseArgs(process.argv.slice(2));
if (opts.allowEIO3) {
  throw new Error("--allow-eio3: engine.io 3 speaks Engine.IO v3 only");
}
if (opts.perMessageDeflate) {
  throw new Error("--per-message-deflate: the engine.io 6.6 peer's switch");
}
if (!opts.addTrailingSlash) {
  throw new Error("--no-trailing-slash: engine.io 3 has no addTrailingSlash option");
}
const httpServer = createHttpServer(opts);
const server = engine.attach(httpServer, {
  path: opts.path,
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  maxHttpBufferSize: opts.maxPayload,
  transports: opts.transports,
  cookie: opts.cookie || false,
});

// engine.io 3 matches its path as the prefix `path` without its trailing slash, plus "/".
const enginePath = opts.path.replace(/\/$/, "") + "/";
const onEnginePath = (req) => req.url.substr(0, enginePath.length) === enginePath;
httpServer.prependListener("request", (req) => onEnginePath(req) && logRequest(req));
httpServer.prependListener("upgrade", (req) => onEnginePath(req) && logRequest(req));

server.on("connection", echoSession);

listen(httpServer, opts);
