"""Who may use the HTTP API and the pages: the credential gate, and wrong tokens slowed per client.

A request carries a bearer token (one from `broadcaster tokens add`, or the legacy
BROADCASTER_API_TOKEN, which acts as an admin) or a signed-in session cookie. Every route needs
one except those named public (health checks, the sign-in pages), and every route says which
action it is (api.ROUTE_ACTIONS), checked against the principal's role here; a practice user's
narrower scope is checked by the handler, which knows what the request touches. The audit trail
records the principal the gate accepted and how, never a name the caller chose to send.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import SecretStr

from broadcaster.accounts.permissions import Action, CredentialKind, NotAllowed, Principal, Role
from broadcaster.accounts.service import AccountService
from broadcaster.incidents.service import Actor
from broadcaster.web.sessions import session_principal

log = structlog.get_logger(__name__)

# BROADCASTER_API_TOKEN: one shared secret from before there were users; it acts as an admin.
# Its name in the audit trail is "api-token", as it always was.
LEGACY_PRINCIPAL = Principal("api-token", Role.ADMIN, frozenset(), CredentialKind.LEGACY_TOKEN)
ACTOR = web.RequestKey("actor", Actor)
PRINCIPAL = web.RequestKey("principal", Principal)


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


def credential_gate(
    *,
    legacy_token: SecretStr | None,
    accounts: AccountService,
    limiter: FailedTokenLimiter,
    public_paths: Collection[str],
    route_actions: Mapping[tuple[str, str], Action],
) -> Middleware:
    """Middleware: every route not in `public_paths` needs a principal (a bearer token, or a
        signed-in session) allowed the action `route_actions` names for it. A route missing from
        `route_actions` is refused to everyone, so a route added later is closed until someone says
        who may use it. A browser asking for a page (outside /api, Accept: text/html) without a session
    is sent to /login; anything else gets the 401."""
    # An empty token would match a missing one: an empty BROADCASTER_API_TOKEN is no token.
    legacy = (
        _digest(legacy_token.get_secret_value()) if legacy_token and legacy_token.get_secret_value() else None
    )

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        if request.match_info.http_exception is not None or (
            resource is not None and resource.canonical in public_paths
        ):
            return await handler(request)  # unknown paths get their 404 or 405, public ones stay open
        presented = request.headers.get("Authorization")
        principal = (
            await _token_principal(request, presented, legacy, accounts, limiter)
            if presented is not None
            else await session_principal(request, accounts)
        )
        if principal is None:
            if not request.path.startswith("/api/") and "text/html" in request.headers.get("Accept", ""):
                raise web.HTTPSeeOther(location="/login")  # a browser asking for a page
            raise _unauthorized("this request needs a credential")
        method = "GET" if request.method == "HEAD" else request.method
        action = route_actions.get((method, resource.canonical if resource is not None else ""))
        if action is None:
            raise NotAllowed(f"{request.method} {request.path} is open to no role")
        principal.require(action)
        request[PRINCIPAL] = principal
        where = "web" if principal.credential is CredentialKind.SESSION else "api"
        request[ACTOR] = Actor(
            name=principal.name,
            origin=f"{where} {request.remote or 'unknown'}",
            credential=principal.credential,
        )
        return await handler(request)

    return gate


async def _token_principal(
    request: web.Request,
    presented: str,
    legacy: bytes | None,
    accounts: AccountService,
    limiter: FailedTokenLimiter,
) -> Principal:
    client = client_of(request)
    _refuse_if_throttled(limiter, client)
    given = _bearer_token(presented)
    if given is not None:
        if legacy is not None and hmac.compare_digest(_digest(given), legacy):
            return LEGACY_PRINCIPAL
        found = await accounts.token_principal(given)
        if found is not None:
            return found
    failures = limiter.record_failure(client)
    log.warning("api_token_refused", client=client, failures=failures, path=request.path)
    raise _unauthorized("the API token is wrong")


def principal_of(request: web.Request) -> Principal:
    """Who the gate let in (every route but the public ones has one)."""
    if PRINCIPAL not in request:  # a route marked public by mistake must not act anonymously
        raise _unauthorized("this request needs a credential")
    return request[PRINCIPAL]


def actor_of(request: web.Request) -> Actor:
    """The principal the gate accepted, as the audit trail and the update's author record it."""
    if ACTOR not in request:
        raise _unauthorized("this request needs a credential")
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
        text=f"{reason}: send a token from `broadcaster tokens add` (or BROADCASTER_API_TOKEN) as "
        "'Authorization: Bearer <token>', or sign in at /login",
        headers={"WWW-Authenticate": 'Bearer realm="broadcaster"'},
    )
