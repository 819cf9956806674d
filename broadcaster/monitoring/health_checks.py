"""Run the directory's health checks and act on them: a check that fails `fail_after` times in
a row is down; when a kind of check (its `name`) is down somewhere, one incident is opened for
every practice failing it (after `group_seconds`, so a shared supplier's outage is one incident,
not dozens); when every target of it is up again (`recover_after` passes in a row) the incident
is resolved, and none is opened again for `hold_down` seconds. The incidents go through the
same once-per-cause actions as the monitors' webhooks, so a restart opens nothing twice.

Each target probes on its own schedule in its own task, at most `concurrency` at once, each
probe bounded by its timeout: a hanging target delays nobody but itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import aiohttp
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.core.errors import BroadcasterError, ConfigError
from broadcaster.directory.checks import CheckSpec
from broadcaster.directory.practices import Directory
from broadcaster.incidents.service import Actor, IncidentService
from broadcaster.monitoring.alert_actions import AlertActions
from broadcaster.monitoring.alerts import Alert
from broadcaster.monitoring.probes import ProbeResult, probe
from broadcaster.runbooks.templates import Runbook
from broadcaster.store.alert_causes import CauseState, cause_of

log = structlog.get_logger(__name__)
CAUSE_PREFIX = "check:"


@dataclass
class CheckTarget:
    """One check of one practice (or of one group's shared target) and its recent results."""

    spec: CheckSpec
    ods: str | None = None
    group: str | None = None
    down: bool | None = None  # None: not probed enough yet to say
    failures: int = 0  # in a row
    passes: int = 0  # in a row
    next_due: float = 0.0
    detail: str = ""

    @property
    def where(self) -> str:
        return self.ods or f"group {self.group}"

    def record(self, result: ProbeResult) -> bool:
        """Count one probe; True if the target flipped between up and down."""
        self.detail = result.detail
        if result.ok:
            self.passes, self.failures = self.passes + 1, 0
            flipped = self.down is not False and self.passes >= self.spec.recover_after
            if flipped:
                self.down = False
        else:
            self.failures, self.passes = self.failures + 1, 0
            flipped = self.down is not True and self.failures >= self.spec.fail_after
            if flipped:
                self.down = True
        return flipped


@dataclass
class CheckCause:
    """Every target of one kind of check: at most one incident for all of them."""

    name: str
    targets: list[CheckTarget]
    open: bool = False
    first_down_at: float | None = None
    quiet_until: float = 0.0  # hold-down after a resolve
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def key(self) -> str:
        return f"{CAUSE_PREFIX}{self.name}"

    @property
    def spec(self) -> CheckSpec:
        return self.targets[0].spec


def causes_of(directory: Directory) -> list[CheckCause]:
    """The directory's checks, by name; refused if one name is used for different kinds or runbooks."""
    by_name: dict[str, list[CheckTarget]] = {}
    for practice in directory.practices:
        for spec in practice.checks:
            by_name.setdefault(spec.name, []).append(CheckTarget(spec, ods=practice.ods))
    for check in directory.group_checks:
        by_name.setdefault(check.name, []).append(CheckTarget(check, group=check.group))
    for name, targets in by_name.items():
        first = targets[0].spec
        for other in targets[1:]:
            if (other.spec.kind, other.spec.runbook, other.spec.policy) != (
                first.kind,
                first.runbook,
                first.policy,
            ):
                raise ConfigError(
                    f"{directory.path}: the checks named {name!r} differ in kind, runbook or policy "
                    f"({first.kind}/{first.runbook} for {targets[0].where}, {other.spec.kind}/"
                    f"{other.spec.runbook} for {other.where}); checks with one name are one kind of "
                    "check, grouped into one incident: give the others another name"
                )
    return [CheckCause(name, targets) for name, targets in by_name.items()]


class HealthMonitor:
    def __init__(
        self,
        *,
        causes: list[CheckCause],
        actions: AlertActions,
        actor: Actor,
        concurrency: int = 50,
        clock: Callable[[], float] = time.time,
        acted: Callable[[], None] = lambda: None,  # after an incident was opened or resolved
    ) -> None:
        self.causes = causes
        self._actions, self._actor, self._now, self._acted = actions, actor, clock, acted
        self._slots = asyncio.Semaphore(concurrency)

    def check_config(self) -> None:
        """Each check's opening could be sent to all its practices: the runbook exists, takes its
        fields, and every placeholder is filled (ConfigError, ContentRefused otherwise)."""
        for cause in self.causes:
            try:
                self._actions.preview(self._alert(cause, cause.targets, firing=True))
            except BroadcasterError as exc:
                raise ConfigError(
                    f"the health check {cause.name!r} could not send its incident, so the checks "
                    f"were not started: {exc}"
                ) from None

    async def restore(self) -> None:
        """After a restart: the incidents these checks had open are still theirs to resolve."""
        for cause in self.causes:
            found = await cause_of(self._actions.engine, cause.key)
            cause.open = found is not None and found.state is CauseState.OPEN

    async def run_round(self, session: aiohttp.ClientSession) -> None:
        """Probe every target that is due, all at once (bounded), then act on what changed."""
        now = self._now()
        due = [(c, t) for c in self.causes for t in c.targets if t.next_due <= now]
        await asyncio.gather(*(self._probe(t, session, now) for _, t in due))
        for cause in self.causes:
            await self.evaluate(cause)

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Forever: each target on its own schedule, in its own task."""
        await self.restore()
        async with asyncio.TaskGroup() as tasks:
            for cause in self.causes:
                for target in cause.targets:
                    tasks.create_task(self._target_loop(cause, target, session))

    async def _target_loop(
        self, cause: CheckCause, target: CheckTarget, session: aiohttp.ClientSession
    ) -> None:
        while True:
            try:
                await self._probe(target, session, self._now())
                await self.evaluate(cause)
            except Exception:  # the one place a bug in a check is caught: logged, the others go on
                log.exception("check_loop_failed", check=cause.name, practice=target.where)
                target.next_due = self._now() + target.spec.interval
            await asyncio.sleep(max(target.next_due - self._now(), 0.0))

    async def _probe(self, target: CheckTarget, session: aiohttp.ClientSession, now: float) -> None:
        target.next_due = now + target.spec.interval
        async with self._slots:
            result = await probe(target.spec, session=session)
        if target.record(result):
            event = "check_down" if target.down else "check_up"
            log.warning(event, check=target.spec.name, practice=target.where, detail=result.detail)

    async def evaluate(self, cause: CheckCause) -> None:
        """Open, resolve or leave alone this kind of check's incident."""
        async with cause.lock:
            now = self._now()
            down = [t for t in cause.targets if t.down]
            if down and not cause.open:
                if cause.first_down_at is None:
                    cause.first_down_at = now
                waited = now - cause.first_down_at >= cause.spec.group_seconds
                if waited and now >= cause.quiet_until:
                    cause.open = await self._act(cause, down, firing=True)
            elif not down:
                cause.first_down_at = None
                every_target_up = all(t.down is False for t in cause.targets)
                if cause.open and every_target_up and await self._act(cause, cause.targets, firing=False):
                    cause.open = False
                    cause.quiet_until = now + cause.spec.hold_down

    async def _act(self, cause: CheckCause, targets: list[CheckTarget], *, firing: bool) -> bool:
        """Whether it was done; a refusal (a bad runbook field, say) is logged and tried again later."""
        try:
            result = await self._actions.apply(self._alert(cause, targets, firing=firing), actor=self._actor)
        except BroadcasterError as exc:
            log.error("check_alert_refused", check=cause.name, firing=firing, reason=str(exc))
            return not firing  # a refused resolve is not retried forever: the incident stays for a person
        log.info(
            "check_alert",
            check=cause.name,
            firing=firing,
            outcome=result.outcome.value,
            incident=result.incident,
        )
        self._acted()
        return True

    def _alert(self, cause: CheckCause, targets: Iterable[CheckTarget], *, firing: bool) -> Alert:
        chosen = list(targets)
        return Alert(
            source="check",
            cause_key=cause.key,
            firing=firing,
            ods=tuple(dict.fromkeys(t.ods for t in chosen if t.ods)),
            groups=tuple(dict.fromkeys(t.group for t in chosen if t.group)),
            runbook=cause.spec.runbook,
            fields=cause.spec.fields,
            title=None,
            policy=cause.spec.policy.value,
        )


def health_monitor_for(
    *,
    engine: AsyncEngine,
    directory: Directory,
    settings: Settings,
    runbooks: Mapping[str, Runbook],
    acted: Callable[[], None] = lambda: None,
) -> HealthMonitor:
    """The directory's checks, wired to the incident service; each check's opening is rendered
    once here, so a check that could never be sent is refused at start-up."""
    service = IncidentService(engine=engine, directory=directory, settings=settings)

    def runbook(name: str) -> Runbook:
        if name not in runbooks:
            raise ConfigError(
                f"no runbook {name!r} for a health check; choose one of {', '.join(sorted(runbooks))}"
            )
        return runbooks[name]

    monitor = HealthMonitor(
        causes=causes_of(directory),
        actions=AlertActions(engine=engine, service=service, settings=settings, runbook=runbook),
        actor=Actor("health-checks", f"checks@{settings.node_name}"),
        concurrency=settings.monitor.check_concurrency,
        acted=acted,
    )
    monitor.check_config()
    return monitor


async def run_health_checks(monitor: HealthMonitor) -> None:
    """`monitor.run` with its own HTTP session, until cancelled."""
    async with aiohttp.ClientSession(headers={"User-Agent": "practice-broadcaster health check"}) as session:
        await monitor.run(session)
