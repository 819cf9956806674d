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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.channel_contract import Channel, OutgoingMessage, ThreadContext
from broadcaster.models import DeliveryState
from broadcaster.outcomes import Delivered, Failed, NotFound, Retry, SendResult
from broadcaster.render import reference_marker
from broadcaster.result_writer import ResultWriter
from broadcaster.retry_policy import RetryPolicy
from broadcaster.settings import DispatchSettings
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
from broadcaster.store.records import incident_ref
from broadcaster.store.write_queue import write_queue

log = structlog.get_logger(__name__)


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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._settings = settings
        self._owner = owner
        self._clock = clock
        self._routes = {
            route: _RouteState(channel, concurrency[route], asyncio.Semaphore(concurrency[route]))
            for route, channel in channels.items()
        }
        self._store_writes = write_queue(engine)
        self.writer = ResultWriter(engine=engine, on_released=self.wake, clock=clock)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """New or newly due work may exist: every route looks again now."""
        for state in self._routes.values():
            state.wake.set()

    async def run(self) -> None:
        """Dispatch until `stop()`; then hand back unstarted claims and flush results."""
        writer = asyncio.create_task(self.writer.run(), name="result-writer")
        loops = [
            asyncio.create_task(self._route_loop(route), name=f"route:{route}") for route in self._routes
        ]
        loops.append(asyncio.create_task(self._maintenance_loop(), name="lease-recovery"))
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
            await self.writer.flush()

    def stop(self) -> None:
        self._stopping.set()

    async def _finish_in_flight(self) -> None:
        unstarted = [i for s in self._routes.values() for i in s.unstarted]
        async with self._store_writes:
            await release_claims(self._engine, unstarted, owner=self._owner, now=self._clock())
        unstarted_names = {f"delivery:{i}" for i in unstarted}
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
            room = capacity - len(state.in_hand)
            if room >= self._claim_threshold(state) or (room > 0 and not state.in_hand):
                async with self._store_writes:
                    claimed = await claim_due(
                        self._engine,
                        route=route,
                        limit=room,
                        owner=self._owner,
                        lease_seconds=self._settings.lease_seconds,
                        now=self._clock(),
                    )
                if claimed:
                    await self._start(state, claimed)
                    continue
            await self._idle(route, state, room_left=room > 0)

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
            async with self._store_writes:
                recovered = await recover_expired_leases(self._engine, now=self._clock())
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
