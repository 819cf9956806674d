"""Run every route's readiness probe for the directory: a practice x channel grid of answers.

Each distinct (route, secret) is probed once per run, so one SMTP login or Notify key check
answers for every practice behind it; probes run at most `readiness.concurrency` at once and
each within `readiness.timeout_seconds`.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel

from broadcaster.config.providers import spec_for_route
from broadcaster.config.secret_refs import SecretLookup, env_name_for
from broadcaster.core.errors import ConfigError
from broadcaster.core.models import ChannelKind
from broadcaster.core.provider_spec import Readiness
from broadcaster.directory.practices import Directory, Endpoint

if TYPE_CHECKING:
    import aiohttp

    from broadcaster.config.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CellReadiness:
    """One practice's channel: ready, not ready, or None when there is nothing to check."""

    practice: str
    channel: ChannelKind
    ready: bool | None
    reasons: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.practice} {self.channel.value}"

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True, slots=True)
class ReadinessGrid:
    cells: tuple[CellReadiness, ...]
    checked_at: float

    @property
    def not_ready(self) -> list[CellReadiness]:
        return [c for c in self.cells if c.ready is False]


@dataclass(frozen=True, slots=True)
class _Probing:
    """The ProbeContext of one endpoint."""

    settings: BaseModel
    secrets: SecretLookup
    recipient: str
    credential_ref: str | None
    session: Callable[[], aiohttp.ClientSession]
    clock: Callable[[], float]

    def http_session(self) -> aiohttp.ClientSession:
        return self.session()

    def now(self) -> float:
        return self.clock()


class _Sessions:
    """One HTTP pool for the run, opened only if some probe speaks HTTP."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp  # noqa: PLC0415  # only when some route speaks HTTP

            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def check_readiness(
    *, settings: Settings, directory: Directory, clock: Callable[[], float] = time.time
) -> ReadinessGrid:
    """Probe every endpoint's route (once per route and secret) and fold the answers per cell."""
    secrets, sessions = SecretLookup(settings.secrets), _Sessions()
    limit = asyncio.Semaphore(settings.readiness.concurrency)
    timeout = settings.readiness.timeout_seconds
    probes: dict[tuple[str, str | None], asyncio.Task[Readiness]] = {}

    def probe_of(endpoint: Endpoint) -> asyncio.Task[Readiness]:
        key = (endpoint.route, endpoint.credential_ref)
        if key not in probes:
            context = _Probing(
                settings, secrets, endpoint.recipient, endpoint.credential_ref, sessions.get, clock
            )
            probes[key] = asyncio.create_task(_probe_one(endpoint, context, settings, limit, timeout))
        return probes[key]

    try:
        layout = [
            (practice.ods, endpoint, probe_of(endpoint))
            for practice in directory.practices
            for endpoint in directory.endpoints(practice)
        ]
        await asyncio.gather(*probes.values())
    finally:
        for task in probes.values():
            task.cancel()
        await sessions.close()
    answers: dict[tuple[str, ChannelKind], list[tuple[Readiness, bool]]] = defaultdict(list)
    for ods, endpoint, task in layout:
        checked = spec_for_route(endpoint.route).probe is not None
        answers[(ods, endpoint.channel)].append((task.result(), checked))
    cells = tuple(_cell(ods, channel, found) for (ods, channel), found in answers.items())
    return ReadinessGrid(cells=cells, checked_at=clock())


async def _probe_one(
    endpoint: Endpoint,
    context: _Probing,
    settings: Settings,
    limit: asyncio.Semaphore,
    within: float,
) -> Readiness:
    spec = spec_for_route(endpoint.route)
    if spec.probe is None:
        return Readiness(True, f"{spec.route}: nothing outside to check")
    if (unmet := _unmet_needs(endpoint, context, settings)) is not None:
        return unmet
    async with limit:
        try:
            return await asyncio.wait_for(spec.probe(context), within)
        except TimeoutError:
            return Readiness(False, f"no answer within {within:g}s")
        except ConfigError as exc:  # e.g. a Notify key that is not a key: says which setting
            return Readiness(False, str(exc))
        except Exception as exc:  # one probe's bug must not hide every other answer
            log.exception("readiness_probe_crashed", route=endpoint.route, practice=endpoint.practice)
            return Readiness(False, f"the check itself failed ({type(exc).__name__}); see the log")


def _unmet_needs(endpoint: Endpoint, context: _Probing, settings: Settings) -> Readiness | None:
    """What `broadcaster check` would refuse: a setting or a secret not set (no probe needed)."""
    spec = spec_for_route(endpoint.route)
    if unset := spec.unset_settings(settings):
        return Readiness(False, "; ".join(f"{dotted} is not set ({env})" for dotted, env in unset))
    if spec.credential is not None and endpoint.credential_ref is None:
        return Readiness(False, f"{spec.credential.field} is not named in the directory")
    if endpoint.credential_ref is not None and context.secrets.missing([endpoint.credential_ref]):
        ref = endpoint.credential_ref
        return Readiness(False, f"secret {ref!r} is not set (set {env_name_for(ref)})")
    return None


def _cell(ods: str, channel: ChannelKind, found: list[tuple[Readiness, bool]]) -> CellReadiness:
    checked = [r for r, was_checked in found if was_checked]
    if not checked:
        return CellReadiness(ods, channel, None, tuple(dict.fromkeys(r.reason for r, _ in found)))
    failing = [r.reason for r in checked if not r.ready]
    reasons = failing or [r.reason for r in checked]
    return CellReadiness(ods, channel, not failing, tuple(dict.fromkeys(reasons)))
