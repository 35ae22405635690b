#!/usr/bin/env python3
"""Real python-engineio 3.14 server (AsyncServer on aiohttp; Engine.IO protocol v3 only:
what python-socketio 4 servers run), used as a test peer by the actix-engineio test-suite.

Usage: server.py [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
                 [--path PATH] [--cookie NAME] [--transports polling,websocket]
                 [--port N] [--tls-cert FILE --tls-key FILE] [--exit-with-stdin]

The same command line, event log and behaviour as the python-engineio 4 peer
(`../python/server.py`, whose `peer_common.py` this imports, with the same two quirks worked
around: text messages are not JSON-decoded, POST bodies are read whole), except:
  * --transports must be both (python-engineio 3 has no such option);
  * python-engineio 3 refuses a request whose EIO is not 2 or 3 (400);
  * its disconnect handler is given no reason: the peer tells them apart itself, as
    python-engineio 4 names them: "client disconnect" (the client's close packet),
    "server disconnect" (close-me), "ping timeout" (no ping from the client within
    pingInterval plus the 5 s grace) and "transport close" (anything else, a websocket
    silent for pingTimeout included);
  * an empty message reaches the handler as None, a binary one too (its packet decoder
    sets no data for a packet of one byte): the peer gives an empty message its empty
    bytes or text back as it is received.
Without --cookie it sets no cookie (python-engineio 3 would set `io` by default).
"""

import os
import sys

import engineio
from engineio import asyncio_socket
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as eio_aiohttp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from peer_common import (  # noqa: E402  (the path above first)
    TextPreservingJson, argument_parser, exact_body, log, log_connect, log_messages_on_receipt,
    parse_arguments, run, serve)


def parse_args():
    p = argument_parser(__doc__.splitlines()[0])
    args, _ = parse_arguments(p)
    transports = {t.strip() for t in args.transports.split(",") if t.strip()}
    if transports != {"polling", "websocket"}:
        p.error("--transports: python-engineio 3 always offers polling and websocket")
    return args


# Why each session closed, by sid, for the close event (see the module doc).
close_reasons = {}


def wrap_socket_methods():
    """Wraps the socket methods that tell why a session ends, and that receive an empty
    message."""
    receive = asyncio_socket.AsyncSocket.receive
    check_ping_timeout = asyncio_socket.AsyncSocket.check_ping_timeout

    async def receive_noting_close(self, pkt):
        if pkt.packet_type == eio_packet.MESSAGE and pkt.data is None:
            pkt.data = b"" if pkt.binary else ""
        if pkt.packet_type == eio_packet.CLOSE:
            close_reasons.setdefault(self.sid, "client disconnect")
        return await receive(self, pkt)

    async def check_noting_timeout(self):
        alive = await check_ping_timeout(self)
        if not alive:
            close_reasons.setdefault(self.sid, "ping timeout")
        return alive

    asyncio_socket.AsyncSocket.receive = receive_noting_close
    asyncio_socket.AsyncSocket.check_ping_timeout = check_noting_timeout


async def main(args):
    eio = engineio.AsyncServer(
        async_mode="aiohttp",
        ping_interval=args.ping_interval / 1000.0,
        ping_timeout=args.ping_timeout / 1000.0,
        max_http_buffer_size=args.max_payload,
        cookie=args.cookie,
        cors_allowed_origins="*",
        json=TextPreservingJson,
    )
    # The POST body read whole. `_async` is the per-server driver table.
    eio._async = dict(eio._async)
    eio._async["translate_request"] = exact_body(eio_aiohttp.translate_request)
    log_messages_on_receipt(eio)
    wrap_socket_methods()

    @eio.on("connect")
    async def on_connect(sid, environ):
        log_connect(sid, environ)

    @eio.on("disconnect")
    async def on_disconnect(sid):
        reason = close_reasons.pop(sid, "transport close")
        log({"event": "close", "sid": sid, "reason": reason})

    @eio.on("message")
    async def on_message(sid, data):
        if isinstance(data, str) and data == "close-me":
            close_reasons.setdefault(sid, "server disconnect")
            await eio.disconnect(sid)
        else:
            await eio.send(sid, data)

    await serve(args, lambda app: eio.attach(app, engineio_path=args.path))


if __name__ == "__main__":
    run(main, parse_args())
