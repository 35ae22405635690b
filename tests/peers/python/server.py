#!/usr/bin/env python3
"""Real python-engineio 4.15 server (AsyncServer on aiohttp), used as a test peer by the
actix-engineio test-suite.

Usage: server.py [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
                 [--path PATH] [--cookie NAME] [--transports polling,websocket]
                 [--port N] [--tls-cert FILE --tls-key FILE] [--exit-with-stdin]
       server.py --stock [--port N] [--tls-cert FILE --tls-key FILE] [--exit-with-stdin]

Listens on 127.0.0.1 on an ephemeral port (on port N with --port N: a test restarts a server
on the port of the one it killed) and prints JSON lines on stdout:
  {"event":"listening","port":N}
  {"event":"request","method":"GET","url":"/engine.io/?EIO=4&...","headers":{...}}
  {"event":"connect","sid":"...","transport":"polling"}
  {"event":"message","sid":"...","kind":"text|binary","len":N,"head":"..."}
  {"event":"close","sid":"...","reason":"..."}
(python-engineio does not expose upgrades, so there is no "upgrade" event.)

Every message is echoed back (text as text, binary as binary), except the text message
"close-me", which makes the server close the session.

With --tls-cert and --tls-key (PEM files: the certificate chain, leaf first, and its private
key) it serves https and wss instead of http and ws (aiohttp with an ssl.SSLContext).

Two python-engineio quirks are worked around here (see tests/peers/README.md; the code shared
with the python-engineio 3 peer is peer_common.py):
  * its aiohttp driver reads a polling POST body with `request.content.read(length)`, which
    returns only what has arrived so far: a large body is truncated. The request
    translation is wrapped so the body is read with `readexactly(Content-Length)`.
  * it JSON-decodes every text message that parses as JSON and re-encodes it when sending,
    which changes the text (e.g. '{"a": 1}' comes back as '{"a":1}'). A json module whose
    `loads` always raises ValueError keeps text messages as they are.

--stock runs python-engineio as users deploy it instead: `AsyncServer(async_mode="aiohttp")`
with every default (ping interval 25 s, ping timeout 20 s, max_http_buffer_size 1000000, path
/engine.io/, both transports, compression, same-origin CORS, its own json handling and request
reading), attached with its default path, and only the echo, close-me and logging handlers
above. The engine options (--ping-interval, ..., --transports) are refused with --stock. The
request log is an aiohttp middleware, outside python-engineio, in both modes.
"""

import engineio
from engineio.async_drivers import aiohttp as eio_aiohttp

from peer_common import (
    TextPreservingJson, argument_parser, exact_body, log, log_connect, log_messages_on_receipt,
    parse_arguments, run, serve)


def parse_args():
    p = argument_parser(__doc__.splitlines()[0])
    p.add_argument("--stock", action="store_true",
                   help="python-engineio with every default and no workaround")
    args, given = parse_arguments(p)
    if args.stock and given:
        p.error(f"--{given[0].replace('_', '-')} cannot be used with --stock")
    return args


def customised_server(args):
    """The peer's usual server: the harness's options, and both quirks worked around."""
    transports = [t.strip() for t in args.transports.split(",") if t.strip()]
    eio = engineio.AsyncServer(
        async_mode="aiohttp",
        ping_interval=args.ping_interval / 1000.0,
        ping_timeout=args.ping_timeout / 1000.0,
        max_http_buffer_size=args.max_payload,
        cookie=args.cookie,
        transports=transports,
        cors_allowed_origins="*",
        json=TextPreservingJson,
    )
    # Quirk (a): read the whole POST body. `_async` is the per-server driver table.
    eio._async = dict(eio._async)
    eio._async["translate_request"] = exact_body(eio_aiohttp.translate_request)
    return eio


async def main(args):
    if args.stock:
        eio = engineio.AsyncServer(async_mode="aiohttp")
    else:
        eio = customised_server(args)
    log_messages_on_receipt(eio)

    @eio.on("connect")
    async def on_connect(sid, environ):
        log_connect(sid, environ)

    @eio.on("disconnect")
    async def on_disconnect(sid, reason):
        log({"event": "close", "sid": sid, "reason": str(reason)})

    @eio.on("message")
    async def on_message(sid, data):
        if isinstance(data, str) and data == "close-me":
            await eio.disconnect(sid)
        else:
            await eio.send(sid, data)

    def attach(app):
        if args.stock:
            eio.attach(app)
        else:
            eio.attach(app, engineio_path=args.path)

    await serve(args, attach)


if __name__ == "__main__":
    run(main, parse_args())
