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

Two python-engineio quirks are worked around here (see tests/peers/README.md):
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

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys
import threading
import urllib.parse

import engineio
from aiohttp import web
from engineio.async_drivers import aiohttp as eio_aiohttp


def log(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


# A received message is logged with its kind, its size in bytes and its first HEAD
# characters (text) or bytes (binary, in hex), as by the node peer.
HEAD = 100


def message_event(sid, data):
    if isinstance(data, (bytes, bytearray)):
        return {"event": "message", "sid": sid, "kind": "binary", "len": len(data),
                "head": bytes(data[:HEAD]).hex()}
    if not isinstance(data, str):
        # The stock server decodes text that parses as JSON: logged re-encoded.
        data = json.dumps(data, separators=(",", ":"))
    return {"event": "message", "sid": sid, "kind": "text",
            "len": len(data.encode("utf-8")), "head": data[:HEAD]}


def log_messages_on_receipt(eio):
    """Logs every message as its packet is handled, in the order received. The message
    handlers themselves run as background tasks (async_handlers), which the close of a
    packet right behind them overtakes: logged there, a message could follow the close."""
    trigger_event = eio._trigger_event

    async def logging_trigger_event(event, *args, **kwargs):
        if event == "message":
            log(message_event(args[0], args[1]))
        return await trigger_event(event, *args, **kwargs)

    eio._trigger_event = logging_trigger_event


class TextPreservingJson:
    """json replacement for python-engineio: never decodes text messages (so they are echoed
    byte for byte), but still encodes the handshake and error bodies."""

    @staticmethod
    def loads(*args, **kwargs):
        raise ValueError("text messages are not decoded as JSON by this peer")

    @staticmethod
    def dumps(*args, **kwargs):
        return json.dumps(*args, **kwargs)


class ExactBody:
    """Stands in for environ['wsgi.input']: `read(n)` returns exactly n bytes (python-engineio
    calls `read(Content-Length)` once and expects the whole body)."""

    def __init__(self, stream):
        self._stream = stream

    async def read(self, n=-1):
        if n is None or n < 0:
            return await self._stream.read()
        try:
            return await self._stream.readexactly(n)
        except asyncio.IncompleteReadError as e:
            # the client sent less than it announced: hand over what did arrive
            return e.partial


def translate_request_exact(request):
    environ = eio_aiohttp.translate_request(request)
    environ["wsgi.input"] = ExactBody(request.content)
    return environ


# The engine options and their defaults (the customised server's); --stock refuses them.
ENGINE_OPTIONS = {
    "ping_interval": 25000,
    "ping_timeout": 20000,
    "max_payload": 1000000,
    "path": "/engine.io/",
    "cookie": None,
    "transports": "polling,websocket",
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ping-interval", type=int, help="milliseconds (default 25000)")
    p.add_argument("--ping-timeout", type=int, help="milliseconds (default 20000)")
    p.add_argument("--max-payload", type=int, help="bytes (default 1000000)")
    p.add_argument("--path", help="default /engine.io/")
    p.add_argument("--cookie", help="name of the sticky session cookie")
    p.add_argument("--transports", help="default polling,websocket")
    p.add_argument("--port", type=int, default=0, help="0: an ephemeral port")
    p.add_argument("--tls-cert", help="serve https/wss: certificate chain, PEM, leaf first")
    p.add_argument("--tls-key", help="serve https/wss: the private key of --tls-cert, PEM")
    p.add_argument("--stock", action="store_true",
                   help="python-engineio with every default and no workaround")
    p.add_argument("--exit-with-stdin", action="store_true",
                   help="exit when stdin is closed (the harness holds it open)")
    args = p.parse_args()
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    for name, default in ENGINE_OPTIONS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
        elif args.stock:
            p.error(f"--{name.replace('_', '-')} cannot be used with --stock")
    return args


def tls_context(args):
    """The server-side TLS context of --tls-cert/--tls-key, or None for plain http."""
    if args.tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    return context


def headers_of(request):
    headers = {}
    for name, value in request.headers.items():
        name = name.lower()
        if name in headers:
            headers[name] = headers[name] + ", " + value
        else:
            headers[name] = value
    return headers


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
    eio._async["translate_request"] = translate_request_exact
    return eio


async def main(args):
    if args.stock:
        eio = engineio.AsyncServer(async_mode="aiohttp")
    else:
        eio = customised_server(args)
    log_messages_on_receipt(eio)

    @eio.on("connect")
    async def on_connect(sid, environ):
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        transport = query.get("transport", ["polling"])[0]
        log({"event": "connect", "sid": sid, "transport": transport})

    @eio.on("disconnect")
    async def on_disconnect(sid, reason):
        log({"event": "close", "sid": sid, "reason": str(reason)})

    @eio.on("message")
    async def on_message(sid, data):
        if isinstance(data, str) and data == "close-me":
            await eio.disconnect(sid)
        else:
            await eio.send(sid, data)

    @web.middleware
    async def log_requests(request, handler):
        log({
            "event": "request",
            "method": request.method,
            "url": request.path_qs,
            "headers": headers_of(request),
        })
        return await handler(request)

    # aiohttp's own limit (client_max_size) only applies to request.read()/post(), which
    # python-engineio does not use, but keep it above max-payload anyway.
    app = web.Application(
        middlewares=[log_requests],
        client_max_size=max(args.max_payload * 2, 1024 ** 2),
    )
    if args.stock:
        eio.attach(app)
    else:
        eio.attach(app, engineio_path=args.path)

    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, ssl_context=tls_context(args))
    await site.start()
    port = runner.addresses[0][1]
    log({"event": "listening", "port": port})
    await asyncio.Event().wait()


def exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


if __name__ == "__main__":
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    if args.exit_with_stdin:
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    asyncio.run(main(args))
