"""What the python test peers share: the JSON event log on stdout, the two workarounds of
python-engineio quirks (text kept as text, POST bodies read whole), the aiohttp server with
its request log and TLS, and the exit when the harness goes away. `server.py`
(python-engineio 4) and `../python3/server.py` (python-engineio 3, its own venv) import it;
it imports no engineio itself, so each peer brings its own.
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

from aiohttp import web


# The engine options and their defaults (the peers'; the stock python server refuses them).
ENGINE_OPTIONS = {
    "ping_interval": 25000,
    "ping_timeout": 20000,
    "max_payload": 1000000,
    "path": "/engine.io/",
    "cookie": None,
    "transports": "polling,websocket",
}


def argument_parser(description):
    """The command line every python peer takes; a peer adds its own flags to it."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--ping-interval", type=int, help="milliseconds (default 25000)")
    p.add_argument("--ping-timeout", type=int, help="milliseconds (default 20000)")
    p.add_argument("--max-payload", type=int, help="bytes (default 1000000)")
    p.add_argument("--path", help="default /engine.io/")
    p.add_argument("--cookie", help="name of the sticky session cookie")
    p.add_argument("--transports", help="default polling,websocket")
    p.add_argument("--port", type=int, default=0, help="0: an ephemeral port")
    p.add_argument("--tls-cert", help="serve https/wss: certificate chain, PEM, leaf first")
    p.add_argument("--tls-key", help="serve https/wss: the private key of --tls-cert, PEM")
    p.add_argument("--exit-with-stdin", action="store_true",
                   help="exit when stdin is closed (the harness holds it open)")
    return p


def parse_arguments(p):
    """Parses the command line of `argument_parser`: the engine options not given get
    their defaults. Returns the arguments and the names of the engine options given."""
    args = p.parse_args()
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    given = [name for name in ENGINE_OPTIONS if getattr(args, name) is not None]
    for name, default in ENGINE_OPTIONS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args, given


def log_connect(sid, environ):
    """The connect event of a session, with the transport it opened on."""
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    transport = query.get("transport", ["polling"])[0]
    log({"event": "connect", "sid": sid, "transport": transport})


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


def exact_body(translate_request):
    """Wraps a python-engineio aiohttp driver's `translate_request` so that the POST body
    (environ['wsgi.input']) is read whole."""

    def translate_request_exact(request):
        environ = translate_request(request)
        environ["wsgi.input"] = ExactBody(request.content)
        return environ

    return translate_request_exact


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


async def serve(args, attach):
    """Serves on 127.0.0.1 (port `args.port`, https with `args.tls_cert`), with every request
    logged, `attach(app)` hooking the engine.io server in; logs the port, then runs until
    the process ends."""

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
    attach(app)

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


def run(main, args):
    """Runs `main(args)`, exiting on SIGTERM/SIGINT and, with --exit-with-stdin, when stdin
    closes."""
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    if args.exit_with_stdin:
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    asyncio.run(main(args))
