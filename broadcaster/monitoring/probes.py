"""One probe of one check's target: HTTP(S) status and text, a TCP connect, a DNS lookup.

Each returns whether it passed and, if not, why in words a log can carry; the caller bounds it
with the check's timeout, so a probe itself never waits on its own for long.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import aiohttp
import dns.asyncresolver
import dns.exception
import dns.resolver

from broadcaster.directory.checks import CheckSpec, host_port

# Enough of a page to find the expected text in (a booking page's heading), not a whole download.
_BODY_LIMIT = 256 * 1024


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    detail: str = ""  # why it failed; never a secret (targets are public service addresses)


async def probe(spec: CheckSpec, *, session: aiohttp.ClientSession) -> ProbeResult:
    """Run the check once, within its timeout."""
    try:
        async with asyncio.timeout(spec.timeout):
            if spec.kind == "http":
                return await _http(spec, session)
            if spec.kind == "tcp":
                return await _tcp(spec)
            return await _dns(spec)
    except TimeoutError:
        return ProbeResult(ok=False, detail=f"no answer within {spec.timeout:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return ProbeResult(ok=False, detail=f"{type(exc).__name__}: {exc}"[:300])


async def _http(spec: CheckSpec, session: aiohttp.ClientSession) -> ProbeResult:
    async with session.get(spec.target, allow_redirects=True) as reply:
        wanted = spec.expect_status
        if (reply.status not in wanted) if wanted else not 200 <= reply.status < 400:
            return ProbeResult(ok=False, detail=f"HTTP {reply.status}")
        if spec.expect_text is not None:
            body = (await reply.content.read(_BODY_LIMIT)).decode(reply.charset or "utf-8", "replace")
            if spec.expect_text not in body:
                return ProbeResult(ok=False, detail=f"HTTP {reply.status} without the expected text")
    return ProbeResult(ok=True)


async def _tcp(spec: CheckSpec) -> ProbeResult:
    host, port = host_port(spec.target)
    _reader, writer = await asyncio.open_connection(host, port)
    writer.close()
    await writer.wait_closed()
    return ProbeResult(ok=True)


async def _dns(spec: CheckSpec) -> ProbeResult:
    if spec.resolver is None:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(spec.target, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            return ProbeResult(ok=False, detail=f"does not resolve: {exc.strerror}")
        addresses = {str(info[4][0]) for info in found}
    else:
        host, port = host_port(spec.resolver)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = [host], port
        try:
            answer = await resolver.resolve(spec.target, "A", lifetime=spec.timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers) as exc:
            return ProbeResult(ok=False, detail=f"does not resolve: {type(exc).__name__}")
        except dns.exception.Timeout:
            return ProbeResult(ok=False, detail=f"the name server gave no answer within {spec.timeout:g} s")
        addresses = {r.to_text() for r in answer}
    if spec.expect_text is not None and spec.expect_text not in addresses:
        return ProbeResult(ok=False, detail=f"resolves, but not to {spec.expect_text}")
    return ProbeResult(ok=True)
