"""The contract every channel adapter honours, and the message the dispatcher hands it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from broadcaster.core.incident_refs import PROVISIONAL_REF
from broadcaster.core.models import ChannelKind, IncidentStatus
from broadcaster.core.outcomes import ReconcileResult, SendResult


@dataclass(frozen=True, slots=True)
class ThreadContext:
    """What earlier messages of the same thread (incident x practice x channel x recipient) left.

    `root_id` is the provider id of the message that opened the thread where this recipient can
    see it (the Facebook post, the first email). When it is None this message opens the thread,
    even if it is an update: the first post failed there, so the update becomes a new post.
    """

    root_id: str | None = None
    root_body: str | None = None
    previous_ids: tuple[str, ...] = ()  # every delivered message of the thread, oldest first

    @property
    def is_open(self) -> bool:
        return self.root_id is not None


@dataclass(frozen=True, slots=True)
class RenderedContent:
    """One rendered message, as written into the outbox before anything is sent.

    `body` is what is sent when the thread is already open (a comment, an "Update:" text, a
    reply email). `opening_body` is the standalone text used when this message must open the
    thread itself; `headline` is the status line a Facebook post's first line is edited to.
    """

    body: str
    subject: str | None = None
    opening_body: str | None = None
    headline: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {
            "body": self.body,
            "subject": self.subject,
            "opening_body": self.opening_body,
            "headline": self.headline,
        }

    def with_reference(self, ref: str) -> RenderedContent:
        """This content with PROVISIONAL_REF replaced by the incident's real reference.

        Cheap next to rendering again: the reference only appears in markers, subjects and
        footers."""

        def real(text: str | None) -> str | None:
            return text.replace(PROVISIONAL_REF, ref) if text is not None else None

        return RenderedContent(
            body=self.body.replace(PROVISIONAL_REF, ref),
            subject=real(self.subject),
            opening_body=real(self.opening_body),
            headline=real(self.headline),
        )

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> RenderedContent:
        return cls(
            body=data["body"] or "",
            subject=data.get("subject"),
            opening_body=data.get("opening_body"),
            headline=data.get("headline"),
        )


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """Everything an adapter needs for one attempt at one delivery."""

    delivery_id: int
    incident_ref: str  # "INC-42"
    update_seq: int  # 0 opens the incident
    status: IncidentStatus
    practice: str  # ODS code
    channel: ChannelKind
    recipient: str  # page id, E.164 number, email address, or apprise secret reference
    credential_ref: str | None  # name of the secret (page token); never the secret itself
    content: RenderedContent
    marker: str  # "Ref INC-42" / "Ref INC-42.2": lets a reconcile find this exact message
    attempt: int = 1
    thread: ThreadContext = field(default_factory=ThreadContext)

    @property
    def opens_thread(self) -> bool:
        return not self.thread.is_open

    @property
    def text(self) -> str:
        """The text to send: the standalone version when this message opens the thread."""
        if self.opens_thread and self.content.opening_body:
            return self.content.opening_body
        return self.content.body


class Channel(Protocol):
    """One provider route (e.g. Facebook via the Graph API, SMS via Notify).

    `send` classifies every remote outcome into a SendResult and never raises for one.
    `reconcile` is asked before resending after an ambiguous attempt: Delivered when the earlier
    attempt did land, NotFound when a resend is safe, Retry when the provider cannot say yet.
    """

    route: str  # a spec's route (FACEBOOK_GRAPH, SMS_NOTIFY, ...): the dispatcher's concurrency bucket

    async def send(self, message: OutgoingMessage) -> SendResult: ...

    async def reconcile(self, message: OutgoingMessage) -> ReconcileResult: ...

    async def close(self) -> None: ...
