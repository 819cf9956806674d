"""The published view: what patients were told, per practice, and nothing else.

Built from the store's incidents and updates and the practice directory. It holds titles, the
patient wording of each update (the text every patient channel carried, with the practice's own
placeholders such as {alt_phone} filled in), times and statuses, and the practices' public
names and postcodes. It never holds a recipient, a staff email or checklist, a credential
reference, an author or anything from the audit trail: every public page, feed, alert and
banner is rendered from this view alone.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.content.render import STATUS_LABEL
from broadcaster.core.incident_refs import incident_ref
from broadcaster.core.models import ChannelKind, DraftState, IncidentStatus, Severity
from broadcaster.directory.practices import Directory, Practice
from broadcaster.incidents.queries import IncidentQueries, IncidentSummary, IncidentView

# Channels whose readers are patients. An incident sent only to staff (email, or apprise
# routes such as a Teams channel) is internal and never published.
PATIENT_CHANNELS = frozenset({ChannelKind.FACEBOOK, ChannelKind.SMS})


def is_public(summary: IncidentSummary) -> bool:
    """Whether an incident's updates may be published.

    The one rule every public form goes through: only incidents whose sender chose to tell
    patients, never an exercise (a drill reached only test endpoints), and never a monitor's
    draft nobody has confirmed (waiting, or discarded): it reaches no page, feed, CAP alert or
    banner. A confirmed incident's own waiting drafts are left out update by update (`_public`).
    """
    return summary.sent and not summary.exercise and bool(summary.channels & PATIENT_CHANNELS)


@dataclass(frozen=True, slots=True)
class PublicPractice:
    ods: str
    name: str
    postcode: str | None

    @classmethod
    def of(cls, practice: Practice) -> PublicPractice:
        return cls(ods=practice.ods, name=practice.name, postcode=practice.postcode)


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    seq: int
    status: IncidentStatus
    reopened: bool  # the first update after the incident was resolved
    at: float
    texts: Mapping[str, str]  # by ODS code: the words that practice's patients were given

    @property
    def label(self) -> str:
        return "Reopened" if self.reopened else STATUS_LABEL[self.status]


@dataclass(frozen=True, slots=True)
class PublicIncident:
    id: int
    title: str
    severity: Severity
    status: IncidentStatus
    opened_at: float
    resolved_at: float | None
    practices: tuple[PublicPractice, ...]
    updates: tuple[PublicUpdate, ...]  # oldest first

    @property
    def ref(self) -> str:
        return incident_ref(self.id)

    @property
    def is_open(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED

    @property
    def latest(self) -> PublicUpdate:
        return self.updates[-1]

    @property
    def updated_at(self) -> float:
        return self.latest.at

    def affects(self, ods: str) -> bool:
        return any(p.ods == ods for p in self.practices)


@dataclass(frozen=True, slots=True)
class PublicView:
    area_name: str
    practices: tuple[PublicPractice, ...]  # directory order
    incidents: tuple[PublicIncident, ...]  # newest first

    @property
    def updated_at(self) -> float | None:
        return max((i.updated_at for i in self.incidents), default=None)

    def practice(self, ods: str) -> PublicPractice | None:
        return next((p for p in self.practices if p.ods == ods), None)

    def open_incidents(self) -> list[PublicIncident]:
        return [i for i in self.incidents if i.is_open]

    def incidents_of(self, ods: str) -> list[PublicIncident]:
        return [i for i in self.incidents if i.affects(ods)]

    def open_incident_of(self, ods: str) -> PublicIncident | None:
        """The practice's newest open incident, which its banner shows."""
        return next((i for i in self.incidents_of(ods) if i.is_open), None)


async def build_public_view(
    engine: AsyncEngine, directory: Directory, *, area_name: str, history_limit: int
) -> PublicView:
    """Every open public incident and the most recently resolved ones, as patients saw them."""
    found = await IncidentQueries(engine).open_and_recent(resolved_limit=history_limit)
    incidents = tuple(_public(view, directory) for view in found if is_public(view.summary))
    practices = tuple(PublicPractice.of(p) for p in directory.practices)
    return PublicView(area_name=area_name, practices=practices, incidents=incidents)


def _public(view: IncidentView, directory: Directory) -> PublicIncident:
    summary = view.summary
    practices = _audience(summary, directory)
    updates, previous = [], None
    for u in view.updates:
        record = u.record
        if record.draft is not None and record.draft is not DraftState.CONFIRMED:
            continue  # waiting for a person, or discarded: patients were never told it
        reopened = previous is IncidentStatus.RESOLVED and record.status is not IncidentStatus.RESOLVED
        texts = {p.ods: _filled(record.message, p) for p in practices}
        updates.append(PublicUpdate(record.seq, record.status, reopened, record.created_at, texts))
        previous = record.status
    return PublicIncident(
        id=summary.id,
        title=summary.title,
        severity=summary.severity,
        status=summary.status,
        opened_at=summary.created_at,
        resolved_at=summary.resolved_at,
        practices=tuple(PublicPractice.of(p) for p in practices),
        updates=tuple(updates),
    )


def _audience(summary: IncidentSummary, directory: Directory) -> list[Practice]:
    """The practices told, in directory order. Unlike Audience.select this never refuses: a
    practice or group since removed from the directory is simply no longer shown."""
    audience = summary.audience
    if audience.everyone:
        return list(directory.practices)
    groups, codes = set(audience.groups), set(audience.ods_codes)
    return [p for p in directory.practices if p.ods in codes or groups.intersection(p.groups)]


class _KeepMissing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""  # a placeholder the directory no longer has a value for: left out, not shown raw


_FORMATTER = string.Formatter()


def _filled(message: str, practice: Practice) -> str:
    """The update's patient wording as this practice's patients read it."""
    try:
        return _FORMATTER.vformat(message, (), _KeepMissing(practice.placeholder_values()))
    except (ValueError, IndexError, KeyError, AttributeError):
        return message  # not a template (stored before placeholders were checked): as written
