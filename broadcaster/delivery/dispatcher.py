"""Claim due deliveries and send them, with bounded concurrency per provider route.

Each route (facebook/graph, sms/notify, email/smtp, ...) has its own loop: it claims work up to
its concurrency plus a small prefetch, so the outbox rather than memory holds the tail of a big
broadcast and newer updates are claimed first. This is the one place that catches an adapter's
unexpected exception: it is logged once with its traceback and recorded as a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import DispatchSettings
from broadcaster.content.render import reference_marker
from broadcaster.core.channel_contract import Channel, OutgoingMessage, ThreadContext
from broadcaster.core.incident_refs import incident_ref
from broadcaster.core.models import DeliveryState
from broadcaster.core.outcomes import Delivered, Failed, NotFound, Retry, SendResult
from broadcaster.delivery.result_writer import ResultWriter
from broadcaster.delivery.retry_policy import RetryPolicy
from broadcaster.delivery.store_health import StoreHealth
from broadcaster.store.claims import (
    Attention,
    ClaimedDelivery,
    RecordedOutcome,
    claim_due,
    next_due_at,
    recover_expired_leases,
    release_claims,
    thread_contexts,
)

log = structlog.get_logger(__name__)

_CLAIMING = "claiming deliveries"
_RECOVERING = "taking back expired claims"


@dataclass
class _RouteState:
    channel: Channel
    concurrency: int
    semaphore: asyncio.Semaphore
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    in_hand: set[int] = field(default_factory=set)  # claimed, not yet finished
    unstarted: set[int] = field(default_factory=set)  # claimed, waiting for a slot


class Dispatcher:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        channels: Mapping[str, Channel],
        concurrency: Mapping[str, int],
        policy: RetryPolicy,
        settings: DispatchSettings,
        owner: str,
        incident_id: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`incident_id`: deliver only that incident's messages (a command-line send)."""
        self._engine = engine
        self._policy = policy
        self._settings = settings
        self._owner = owner
        self._clock = clock
        self._routes = {
            route: _RouteState(channel, concurrency[route], asyncio.Semaphore(concurrency[route]))
            for route, channel in channels.items()
        }
        self._incident_id = incident_id
        self.health = StoreHealth(clock=clock)
        self.writer = ResultWriter(engine=engine, health=self.health, on_released=self.wake, clock=clock)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        """Every loop is alive: for `/readyz`."""
        return bool(self._background) and not any(t.done() for t in self._background)

    def wake(self) -> None:
        """New or newly due work may exist: every route looks again now."""
        for state in self._routes.values():
            state.wake.set()

    async def run(self) -> None:
        """Dispatch until `stop()`; then let sends in flight finish, write every outcome and hand
        back every claim that was never attempted, so no other process waits out their lease."""
        writer = self._background_task(self.writer.run(), "result-writer")
        loops = [self._background_task(self._route_loop(route), f"route:{route}") for route in self._routes]
        loops.append(self._background_task(self._maintenance_loop(), "lease-recovery"))
        try:
            await self._stopping.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self._finish_in_flight()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await self._hand_back()

    def _background_task(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(self._report_crash)
        self._background.append(task)
        return task

    def _report_crash(self, task: asyncio.Task[None]) -> None:
        # Said at once, not at shutdown: a loop that died silently once let sending run on.
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.health.failed(f"dispatcher loop {task.get_name()}", exc)

    async def _hand_back(self) -> None:
        unwritten = await self.writer.flush_remaining(give_up_after=self._settings.shutdown_write_seconds)
        try:
            released = await release_claims(
                self._engine, owner=self._owner, now=self._clock(), keep=unwritten
            )
        except Exception as exc:  # reported, then the lease brings them back
            log.error(
                "claims_not_handed_back",
                error=str(exc),
                comes_back_after_seconds=self._settings.lease_seconds,
            )
            return
        if released:
            log.info("claims_handed_back", deliveries=released)

    def stop(self) -> None:
        self._stopping.set()

    async def _finish_in_flight(self) -> None:
        unstarted_names = {f"delivery:{i}" for s in self._routes.values() for i in s.unstarted}
        for task in list(self._tasks):
            if task.get_name() in unstarted_names:
                task.cancel()
        if self._tasks:
            # In-flight sends finish (adapters time out on their own); a cancel here would turn
            # a clean result into an ambiguous one.
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _capacity(self, state: _RouteState) -> int:
        return state.concurrency + self._settings.prefetch_per_route

    @staticmethod
    def _claim_threshold(state: _RouteState) -> int:
        """Claim when this many slots are free: in batches, not one query per finished send."""
        return max(1, state.concurrency // 2)

    async def _route_loop(self, route: str) -> None:
        state = self._routes[route]
        capacity = self._capacity(state)
        while True:
            state.wake.clear()
            await self.writer.accepting.wait()  # claim nothing whose outcome could not be recorded
            room = capacity - len(state.in_hand)
            try:
                if room >= self._claim_threshold(state) or (room > 0 and not state.in_hand):
                    claimed = await claim_due(
                        self._engine,
                        route=route,
                        limit=room,
                        owner=self._owner,
                        lease_seconds=self._settings.lease_seconds,
                        now=self._clock(),
                        incident_id=self._incident_id,
                    )
                    self.health.succeeded(_CLAIMING)
                    if claimed:
                        await self._start(state, claimed)
                        continue
                await self._idle(route, state, room_left=room > 0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store refused: say so, wait, try again
                self.health.failed(_CLAIMING, exc)
                await asyncio.sleep(self.health.retry_in(_CLAIMING))

    async def _idle(self, route: str, state: _RouteState, *, room_left: bool) -> None:
        timeout = self._settings.idle_poll_seconds
        if room_left and not state.in_hand:
            due = await next_due_at(self._engine, route=route)
            if due is not None:
                timeout = min(timeout, max(due - self._clock(), 0.0))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):  # no extra task per wait, unlike wait_for
                await state.wake.wait()

    async def _start(self, state: _RouteState, claimed: list[ClaimedDelivery]) -> None:
        contexts = await thread_contexts(self._engine, claimed)
        for item in claimed:
            state.in_hand.add(item.id)
            state.unstarted.add(item.id)
            task = asyncio.create_task(
                self._deliver(state, item, contexts.get(item.thread_key, ThreadContext())),
                name=f"delivery:{item.id}",
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, state: _RouteState, item: ClaimedDelivery, thread: ThreadContext) -> None:
        try:
            async with state.semaphore:
                # Outcomes cannot be written now: hold the send until they can (or shutdown).
                await self.writer.accepting.wait()
                if self._stopping.is_set():  # stopping: start nothing new; it is handed back
                    return
                state.unstarted.discard(item.id)
                message = _message_for(item, thread)
                with structlog.contextvars.bound_contextvars(
                    incident=message.incident_ref,
                    update=item.seq,
                    practice=item.practice,
                    channel=item.channel.value,
                    attempt=message.attempt,
                    delivery=item.id,
                ):
                    outcome = await self._attempt(state.channel, message, item)
                    self.writer.add(self._record(item, message, outcome))
        finally:
            state.in_hand.discard(item.id)
            # Wake the route's loop only once enough slots are free to be worth a claim.
            if self._capacity(state) - len(state.in_hand) >= self._claim_threshold(state):
                state.wake.set()

    async def _attempt(self, channel: Channel, message: OutgoingMessage, item: ClaimedDelivery) -> SendResult:
        try:
            if item.needs_reconcile:
                found = await channel.reconcile(message)
                if isinstance(found, Delivered):
                    log.info("delivery_reconciled", provider_id=found.provider_id)
                    return found
                if isinstance(found, Retry):  # cannot tell yet: still possibly sent
                    return Retry(found.reason, found.after, ambiguous=True)
                assert isinstance(found, NotFound)
            return await channel.send(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("adapter_crashed")
            return Failed(
                f"internal error in the {channel.route} adapter ({type(exc).__name__}); see the service log"
            )

    def _record(
        self, item: ClaimedDelivery, message: OutgoingMessage, outcome: SendResult
    ) -> RecordedOutcome:
        attempts = item.attempts + 1
        decision = self._policy.decide(
            outcome, attempts_made=attempts, now=self._clock(), deadline_at=item.deadline_at
        )
        _log_decision(decision.state, outcome, decision.next_attempt_at - self._clock())
        attention = None
        if isinstance(outcome, Failed) and outcome.needs_attention:
            attention = Attention(item.route, item.recipient, item.practice, outcome.reason)
        return RecordedOutcome(
            delivery_id=item.id,
            update_id=item.update_id,
            thread_key=item.thread_key,
            route=item.route,
            recipient=item.recipient,
            state=decision.state,
            attempts=attempts,
            next_attempt_at=decision.next_attempt_at,
            needs_reconcile=decision.needs_reconcile,
            provider_id=outcome.provider_id if isinstance(outcome, Delivered) else None,
            is_thread_root=isinstance(outcome, Delivered) and message.opens_thread,
            last_error=decision.error,
            attention=attention,
        )

    async def _maintenance_loop(self) -> None:
        interval = max(self._settings.lease_seconds / 4, 1.0)
        while True:
            try:
                recovered = await recover_expired_leases(self._engine, now=self._clock())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # reported; the next round tries again
                self.health.failed(_RECOVERING, exc)
                await asyncio.sleep(self.health.retry_in(_RECOVERING))
                continue
            self.health.succeeded(_RECOVERING)
            if recovered:
                self.wake()
            await asyncio.sleep(interval)


def _message_for(item: ClaimedDelivery, thread: ThreadContext) -> OutgoingMessage:
    ref = incident_ref(item.incident_id)
    return OutgoingMessage(
        delivery_id=item.id,
        incident_ref=ref,
        update_seq=item.seq,
        status=item.status,
        practice=item.practice,
        channel=item.channel,
        recipient=item.recipient,
        credential_ref=item.credential_ref,
        content=item.content,
        marker=reference_marker(ref, item.seq),
        attempt=item.attempts + 1,
        thread=thread,
    )


def _log_decision(state: DeliveryState, outcome: SendResult, wait: float) -> None:
    match outcome:
        case Delivered(provider_id=provider_id):
            # Debug, not info: one line per message is the outbox's job (`status --json`); at
            # info level it cost a tenth of a broadcast's CPU. Retries and failures stay loud.
            log.debug("delivery_sent", provider_id=provider_id)
        case Failed(reason=reason, needs_attention=attention):
            log.warning("delivery_failed", reason=reason, needs_attention=attention)
        case Retry(reason=reason, ambiguous=ambiguous) if state is DeliveryState.FAILED:
            log.warning("delivery_gave_up", reason=reason, ambiguous=ambiguous)
        case Retry(reason=reason, ambiguous=ambiguous):
            log.info(
                "delivery_retrying",
                reason=reason,
                ambiguous=ambiguous,
                retry_in_seconds=round(wait, 2),
            )
