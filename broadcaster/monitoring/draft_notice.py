"""Tell a person a monitor's draft is waiting: an email to BROADCASTER_MONITOR__DRAFT_NOTIFY_EMAIL
(a comms officer's or a duty inbox) each time a health check or alert writes one, saying what
it says, whom it would reach and how to confirm or discard it. Without it a draft raised at
6 am waits until somebody happens to look at the list.

Sent in the background, so a slow mail server never holds up the webhook's reply or the next
health-check round; a notice that fails is logged (`draft_notice_failed`), not retried: the
draft itself is safe in the store, and the list and console still show it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import structlog

from broadcaster.config.settings import Settings
from broadcaster.core.models import IncidentStatus
from broadcaster.delivery.staff_email import send_staff_email, staff_message
from broadcaster.directory.practices import Directory
from broadcaster.incidents.queries import IncidentView

log = structlog.get_logger(__name__)

OUTBOX_FOLDER = "drafts"  # under BROADCASTER_OUTBOX_DIR, when the directory's email is the outbox
Sender = Callable[[EmailMessage], Awaitable[None]]


def draft_notice(
    incident: IncidentView, *, to: str, settings: Settings, reach: str, now: float
) -> EmailMessage:
    """The email for the draft waiting on `incident` (which must have one)."""
    waiting = incident.waiting_draft
    assert waiting is not None, "a notice is only for a waiting draft"
    record, ref = waiting.record, incident.ref
    if record.seq == 0:
        what = "its first message"
        after = "If the problem ends before anyone confirms it, it is discarded by itself: nobody is told."
    elif record.status is IncidentStatus.RESOLVED:
        what, after = "its resolve", "If the problem comes back first, the resolve is discarded by itself."
    else:
        what, after = f"update {record.seq} ({record.status.value})", ""
    lines = [
        f"{record.author} raised a draft of {what} on {ref}, {incident.summary.title}, for {reach}.",
        "Nothing of it has been sent. It says:",
        "",
        *(f"    {line}" for line in record.message.splitlines()),
        *(["(Each practice's own details fill the blanks in braces.)"] if "{" in record.message else []),
        "",
        f"To send it as written: broadcaster confirm {ref} --update {record.seq}",
        f"  or Confirm and send on the console's page /incidents/{ref}",
        f'  or POST /api/incidents/{ref}/confirm with {{"seq": {record.seq}}}.',
        f"To drop it: broadcaster discard {ref} --update {record.seq} (or Discard on that page).",
        *([after] if after else []),
    ]
    subject = f"Draft waiting for you: {ref} {incident.summary.title} ({reach})"
    return staff_message(subject=subject, lines=lines, to=to, settings=settings, now=now, kind="draft")


class DraftNotices:
    """Emails the notice in the background; nothing at all when no address is set."""

    def __init__(
        self,
        *,
        settings: Settings,
        directory: Directory,
        send: Sender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._to = settings.monitor.draft_notify_email
        self._settings, self._directory, self._clock = settings, directory, clock
        self._send = send or (
            lambda m: send_staff_email(m, settings=settings, directory=directory, folder=OUTBOX_FOLDER)
        )
        self._sending: set[asyncio.Task[None]] = set()  # held, so a task is not collected mid-send

    @property
    def wanted(self) -> bool:
        """Whether anyone is to be told (BROADCASTER_MONITOR__DRAFT_NOTIFY_EMAIL is set)."""
        return bool(self._to)

    def drafted(self, incident: IncidentView) -> None:
        if not self._to or incident.waiting_draft is None:
            return
        reach = ", ".join(p.ods for p in incident.summary.audience.select(self._directory))
        notice = draft_notice(incident, to=self._to, settings=self._settings, reach=reach, now=self._clock())
        task = asyncio.create_task(self._deliver(notice, incident.ref))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _deliver(self, notice: EmailMessage, ref: str) -> None:
        try:
            await self._send(notice)
        except Exception as exc:  # the mail did not go: logged, the draft still waits in the store
            log.warning("draft_notice_failed", incident=ref, error=type(exc).__name__)
        else:
            log.info("draft_notice_sent", incident=ref)
