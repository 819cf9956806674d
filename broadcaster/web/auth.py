"""Who may use the HTTP API: one bearer token for reads and writes, with wrong tokens slowed per client.

Every route needs the token except those named public (the health checks), so a route added
later is protected without anyone remembering to. The audit trail records the credential that
was checked ("api-token"), never a name the caller chose to send.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable, Collection

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import SecretStr

from broadcaster.incidents.service import Actor

log = structlog.get_logger(__name__)

CREDENTIAL = "api-token"  # the actor of every API request in the audit trail, until roles arrive
ACTOR = web.RequestKey("actor", Actor)


class FailedTokenLimiter:
    """Wrong tokens per client address over a sliding window: after `limit` of them within
    `window_seconds`, the address is refused until the oldest leaves the window.

    A counter of failures rather than a rate limiter on every request (aiolimiter's leaky
    bucket): someone with the right token is never slowed, a refused guesser is answered at
    once (429 and Retry-After) instead of holding a connection open while it waits, and it
    needs no dependency. Memory stays bounded: at most `limit` times per address and
    `max_addresses` addresses, the least recently failing forgotten first.
    """

    def __init__(
        self,
        *,
        limit: int = 10,
        window_seconds: float = 60.0,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window_seconds = limit, window_seconds
        self._max_addresses, self._clock = max_addresses, clock
        self._failures: dict[str, deque[float]] = {}

    def seconds_refused(self, client: str) -> float:
        """How long `client` must wait before its token is checked again; 0 when it need not."""
        recent = self._recent(client)
        if len(recent) < self.limit:
            return 0.0
        return max(recent[0] + self.window_seconds - self._clock(), 0.0)

    def record_failure(self, client: str) -> int:
        """Count one wrong token from `client`; returns its failures within the window."""
        recent = self._recent(client)
        recent.append(self._clock())
        self._failures.pop(client, None)
        self._failures[client] = recent  # most recently failing last, so eviction takes the oldest
        while len(self._failures) > self._max_addresses:
            del self._failures[next(iter(self._failures))]
        return len(recent)

    def _recent(self, client: str) -> deque[float]:
        recent = self._failures.get(client, deque(maxlen=self.limit))
        horizon = self._clock() - self.window_seconds
        while recent and recent[0] <= horizon:
            recent.popleft()
        if not recent:
            self._failures.pop(client, None)
        return recent


def client_of(request: web.Request) -> str:
    """The address failures are counted against: the peer's IP, or its /64 for IPv6, since one
    IPv6 host can use any address in its /64."""
    remote = request.remote or "unknown"
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def token_gate(
    *, token: SecretStr | None, limiter: FailedTokenLimiter, public_paths: Collection[str]
) -> Middleware:
    """Middleware: requests to any route not in `public_paths` must carry `Authorization: Bearer <token>`."""
    # An empty token would match a missing one: it disables the API like no token at all.
    expected = _digest(token.get_secret_value()) if token and token.get_secret_value() else None

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        if request.match_info.http_exception is not None or (
            resource is not None and resource.canonical in public_paths
        ):
            return await handler(request)  # unknown paths get their 404 or 405, health checks stay open
        if expected is None:
            raise web.HTTPForbidden(
                text="the API is disabled: set BROADCASTER_API_TOKEN to enable it "
                "(/healthz and /readyz answer without it)"
            )
        client = client_of(request)
        _refuse_if_throttled(limiter, client)
        presented = request.headers.get("Authorization")
        if presented is None:
            raise _unauthorized("this request needs the API token")
        given = _bearer_token(presented)
        if given is None or not hmac.compare_digest(_digest(given), expected):
            failures = limiter.record_failure(client)
            log.warning("api_token_refused", client=client, failures=failures, path=request.path)
            raise _unauthorized("the API token is wrong")
        request[ACTOR] = Actor(name=CREDENTIAL, origin=f"api {request.remote or 'unknown'}")
        return await handler(request)

    return gate


def actor_of(request: web.Request) -> Actor:
    """The credential that `token_gate` accepted for this request, for the audit trail."""
    if ACTOR not in request:  # a route marked public by mistake must not act anonymously
        raise _unauthorized("this request needs the API token")
    return request[ACTOR]


def _refuse_if_throttled(limiter: FailedTokenLimiter, client: str) -> None:
    wait = limiter.seconds_refused(client)
    if wait > 0:
        seconds = max(math.ceil(wait), 1)
        log.warning("api_client_throttled", client=client, retry_after=seconds)
        raise web.HTTPTooManyRequests(
            text=f"too many wrong API tokens from this address; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


def _bearer_token(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _digest(value: str) -> bytes:
    # Digests of equal length, compared with compare_digest: the time taken says nothing about
    # how much of a guess was right, nor how long the token is. surrogateescape: a header of
    # bytes that are not UTF-8 is compared (and refused), never an encoding error.
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


def _unauthorized(reason: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=f"{reason}: send it as 'Authorization: Bearer <token>' (the value of BROADCASTER_API_TOKEN)",
        headers={"WWW-Authenticate": 'Bearer realm="broadcaster"'},
    )
