"""What a send or an update asks for, from a console form or a JSON body, turned into the
service's requests; and the preview with the confidentiality check's verdict, as data."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, ValidationError, model_validator
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from broadcaster.config.settings import Settings
from broadcaster.config.shipped_files import shipped_runbooks_path
from broadcaster.content.confidentiality import Finding
from broadcaster.content.content_checks import check_confidentiality
from broadcaster.content.message_content import MessageContent, content_from_runbook, content_from_text
from broadcaster.content.preview import SendPreview
from broadcaster.core.errors import ConfigError, ContentRefused
from broadcaster.core.models import ChannelKind, IncidentStatus, Severity
from broadcaster.directory.audience import Audience
from broadcaster.incidents.queries import IncidentView
from broadcaster.incidents.service import IncidentRequest, UpdateRequest
from broadcaster.runbooks.templates import Runbook, load_runbooks
from broadcaster.web.bodies import AudienceBody, NonBlank

_STRICT = ConfigDict(strict=True, extra="forbid")
# Said instead of a reason while previewing only: the preview is shown, the send is not allowed.
_PREVIEW_ONLY = "(preview only)"


class SendBody(BaseModel):
    """A new incident from a runbook (`runbook` and its `fields`) or free text (`title`, `message`)."""

    model_config = _STRICT

    runbook: str | None = None
    fields: dict[str, str] = {}
    title: Annotated[NonBlank, Field(max_length=200)] | None = None
    message: NonBlank | None = None
    severity: Severity | None = None
    audience: AudienceBody
    channels: Annotated[list[ChannelKind], Field(min_length=1)] = list(ChannelKind)
    sms: bool | None = None
    confidentiality_override: NonBlank | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _runbook_or_text(cls, data: Any, handler: ModelWrapValidatorHandler[SendBody]) -> SendBody:
        # Checked beside the fields' own problems, so one reply names everything to fix.
        problem = _source_problem(data) if isinstance(data, dict) else None
        try:
            body = handler(data)
        except ValidationError as exc:
            if problem is None:
                raise
            errors = [_again(e) for e in exc.errors()]
            errors.append(_source_error(problem, data))
            raise ValidationError.from_exception_data(cls.__name__, errors) from None
        if problem is not None:
            raise ValidationError.from_exception_data(cls.__name__, [_source_error(problem, data)])
        return body


def _source_problem(data: dict[str, Any]) -> str | None:
    """Where the text comes from: a runbook, or a title and a message; never both or neither."""
    if data.get("runbook") is None and (data.get("title") is None or data.get("message") is None):
        return "give a runbook, or both a title and a message"
    if data.get("runbook") is not None and data.get("message") is not None:
        return "give a runbook or a message, not both"
    return None


def _again(error: ErrorDetails) -> InitErrorDetails:
    """A field's problem as pydantic reported it, ready to be raised again beside ours."""
    again: InitErrorDetails = {"type": error["type"], "loc": error["loc"], "input": error["input"]}
    if "ctx" in error:
        again["ctx"] = error["ctx"]
    return again


def _source_error(problem: str, data: dict[str, Any]) -> InitErrorDetails:
    return {"type": PydanticCustomError("value_error", problem), "loc": ("message",), "input": data}


class UpdateSendBody(BaseModel):
    """An update: free text, or (without `message`) the incident's runbook wording for `status`."""

    model_config = _STRICT

    status: IncidentStatus
    message: NonBlank | None = None
    sms: bool | None = None
    reopen: bool = False
    confidentiality_override: NonBlank | None = None


class RetryBody(BaseModel):
    model_config = _STRICT

    practice: Annotated[str, Field(pattern=r"^[A-Z][0-9]{5}$")]
    channel: ChannelKind
    update: Annotated[int, Field(ge=0, lt=2**31)] | None = None


class RunbookShelf:
    """The runbooks the console offers, read from disk once, on first use."""

    def __init__(self, settings: Settings) -> None:
        self._folder: Path | None = settings.runbooks_dir
        self._loaded: dict[str, Runbook] | None = None

    async def ready(self) -> RunbookShelf:
        """This shelf, its runbooks read (in a worker thread: file reads would stall the loop)."""
        if self._loaded is None:
            self._loaded = await asyncio.to_thread(
                lambda: load_runbooks(self._folder or shipped_runbooks_path())
            )
        return self

    @property
    def runbooks(self) -> dict[str, Runbook]:
        if self._loaded is None:
            raise RuntimeError("await RunbookShelf.ready() first")
        return self._loaded

    def get(self, name: str) -> Runbook:
        found = self.runbooks.get(name)
        if found is None:
            raise ConfigError(f"no runbook {name!r}; choose one of {', '.join(sorted(self.runbooks))}")
        return found


SHELF = web.AppKey("runbooks", RunbookShelf)


def incident_request(body: SendBody, *, shelf: RunbookShelf, settings: Settings) -> IncidentRequest:
    audience = Audience.parse(
        everyone=body.audience.all, groups=body.audience.groups, ods_codes=body.audience.ods
    )
    override = body.confidentiality_override
    if body.runbook is not None:
        book = shelf.get(body.runbook)
        fields = {k: v for k, v in body.fields.items() if v.strip()}
        content = content_from_runbook(
            book.texts_for(IncidentStatus.INVESTIGATING, fields),
            sms_max_segments=book.spec.sms_segments,
            confidentiality_override=override,
        )
        title = body.title or book.title_for(fields)
        severity = body.severity or book.spec.severity
    else:
        assert body.title is not None  # checked by the model
        assert body.message is not None
        content = content_from_text(
            body.message, sms_max_segments=settings.sms.max_segments, confidentiality_override=override
        )
        title, severity = body.title, body.severity or Severity.MAJOR
    return IncidentRequest(
        title=title.strip(),
        severity=severity,
        content=content,
        audience=audience,
        channels=frozenset(body.channels),
        sms=body.sms,
        runbook=body.runbook,
        fields=dict(body.fields) if body.runbook else {},
    )


def update_request(
    body: UpdateSendBody,
    incident: IncidentView,
    *,
    shelf: RunbookShelf,
    settings: Settings,
    practices: frozenset[str] | None,
) -> UpdateRequest:
    override = body.confidentiality_override
    if body.message is not None:
        content = content_from_text(
            body.message, sms_max_segments=settings.sms.max_segments, confidentiality_override=override
        )
    elif incident.summary.runbook is not None:
        book = shelf.get(incident.summary.runbook)
        content = content_from_runbook(
            book.texts_for(body.status, incident.summary.fields),
            sms_max_segments=book.spec.sms_segments,
            confidentiality_override=override,
        )
    else:
        raise ContentRefused(f"{incident.ref} was not opened from a runbook: write the update's message")
    return UpdateRequest(
        status=body.status, content=content, sms=body.sms, reopens=body.reopen, practices=practices
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """The confidentiality check's answer: nothing found, found and overridden, or found and refused."""

    findings: list[Finding]
    override: str | None

    @property
    def state(self) -> str:
        if not self.findings:
            return "clear"
        return "overridden" if self.override else "needs a reason"

    @property
    def may_send(self) -> bool:
        return self.state != "needs a reason"

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.state,
            "findings": [
                {"kind": f.kind.value, "excerpt": f.excerpt, "explain": f.explain()} for f in self.findings
            ],
        }


def verdict_of(title: str, content: MessageContent) -> Verdict:
    findings = check_confidentiality(content.texts, title=title, override_reason=_PREVIEW_ONLY)
    return Verdict(findings, content.confidentiality_override)


def previewable(content: MessageContent, verdict: Verdict) -> MessageContent:
    """The content to preview: with a stand-in reason when one is still needed, so the sender
    sees what would go while the send itself stays refused until they type a reason."""
    if verdict.may_send:
        return content
    return replace(content, confidentiality_override=_PREVIEW_ONLY)


def preview_json(preview: SendPreview, verdict: Verdict, *, show_recipients: bool) -> dict[str, Any]:
    return {
        "practices": preview.practices,
        "deliveries": preview.deliveries,
        "by_channel": {c.value: preview.count(c) for c in ChannelKind if preview.count(c)},
        "sms": {
            "segments": preview.sms_segments,
            "cost_pounds": round(preview.sms_cost_pounds, 2),
            "price_per_segment_pence": preview.price_per_segment_pence,
            "normalised": preview.sms_notes,
        },
        "confidentiality": verdict.as_json(),
        "messages": [
            {
                "practice": m.practice,
                "channel": m.channel.value,
                "recipients": len(m.recipients),
                **({"to": list(m.recipients)} if show_recipients else {}),
                "subject": m.subject,
                "body": m.body,
                "sms": None
                if m.sms is None
                else {"encoding": m.sms.encoding.value, "length": m.sms.length, "segments": m.sms.segments},
            }
            for m in preview.messages
        ],
    }
