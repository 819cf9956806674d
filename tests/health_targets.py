"""Local targets for health checks that a test takes down and brings back: an HTTP site, a TCP
port and a DNS name server, each in the test's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import dns.message
import dns.rcode
import dns.rrset
from aiohttp import web


@dataclass
class Site:
    """Answers 200 "Book an appointment" on every path listed in `up`, 503 elsewhere; a path in
    `hang` never answers."""

    up: set[str] = field(default_factory=set)
    hang: set[str] = field(default_factory=set)
    hits: dict[str, int] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{name}", self._page)
        return app

    async def _page(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.hits[name] = self.hits.get(name, 0) + 1
        if name in self.hang:
            await asyncio.Event().wait()
        if name in self.up:
            return web.Response(text="<h1>Book an appointment</h1>")
        return web.Response(status=503, text="Service Unavailable")


class TcpPort:
    """A listening port that can be closed and opened again on the same number."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self.port = 0

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()


class NameServer(asyncio.DatagramProtocol):
    """A name server on 127.0.0.1 answering A queries for the names in `records`, NXDOMAIN otherwise."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        name = query.question[0].name.to_text().rstrip(".")
        if name in self.records:
            reply.answer.append(
                dns.rrset.from_text(query.question[0].name, 60, "IN", "A", self.records[name])
            )
        else:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        assert self.transport is not None
        self.transport.sendto(reply.to_wire(), addr)

    @property
    def address(self) -> str:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return f"{host}:{port}"


@contextlib.asynccontextmanager
async def name_server() -> AsyncIterator[NameServer]:
    transport, server = await asyncio.get_running_loop().create_datagram_endpoint(
        NameServer, local_addr=("127.0.0.1", 0)
    )
    try:
        yield server
    finally:
        transport.close()
