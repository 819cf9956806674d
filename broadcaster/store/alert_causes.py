"""Which incident each monitored cause opened: claimed before the incident is written, so two
deliveries of one alert at once open one incident, and a repeat finds the incident it opened."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.store.schema import alert_causes
from broadcaster.store.transactions import write_transaction


class CauseState(StrEnum):
    OPENING = "opening"
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class CauseRow:
    cause_key: str
    source: str
    state: CauseState
    incident_id: int | None
    episode: str
    digest: str
    updated_at: float


async def cause_of(engine: AsyncEngine, cause_key: str) -> CauseRow | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(alert_causes).where(alert_causes.c.cause_key == cause_key))).first()
    return None if row is None else _row(row._mapping)


async def claim_cause(
    engine: AsyncEngine, *, cause_key: str, source: str, episode: str, now: float, stale_after: float
) -> CauseRow | None:
    """Claim the cause for opening a new incident: None if claimed (the caller opens, then
    `settle_cause` or `release_cause`); otherwise the row that stands in the way: open, being
    opened by someone else (a claim younger than `stale_after` s), or resolved for the same
    non-empty episode (a late repeat of an alert that has already been resolved)."""
    async with write_transaction(engine) as conn:
        row = (await conn.execute(select(alert_causes).where(alert_causes.c.cause_key == cause_key))).first()
        found = None if row is None else _row(row._mapping)
        if found is not None and _stands(found, episode=episode, now=now, stale_after=stale_after):
            return found
        values = {
            "source": source,
            "state": CauseState.OPENING.value,
            "incident_id": None,
            "episode": episode,
            "digest": "",
            "updated_at": now,
        }
        if found is None:
            await conn.execute(insert(alert_causes).values(cause_key=cause_key, **values))
        else:
            await conn.execute(
                update(alert_causes).where(alert_causes.c.cause_key == cause_key).values(**values)
            )
        return None


def _stands(found: CauseRow, *, episode: str, now: float, stale_after: float) -> bool:
    if found.state is CauseState.OPEN:
        return True
    if found.state is CauseState.OPENING:
        return now - found.updated_at < stale_after  # past it, the opener died: claim again
    return bool(episode) and episode == found.episode


async def settle_cause(
    engine: AsyncEngine, *, cause_key: str, incident_id: int, digest: str, now: float
) -> None:
    """The claimed cause's incident is written: it is open."""
    await _set(
        engine, cause_key, state=CauseState.OPEN.value, incident_id=incident_id, digest=digest, updated_at=now
    )


async def release_cause(engine: AsyncEngine, *, cause_key: str) -> None:
    """Opening failed (refused content, say): the claim is given up, nothing was written."""
    async with write_transaction(engine) as conn:
        await conn.execute(
            delete(alert_causes).where(
                alert_causes.c.cause_key == cause_key, alert_causes.c.state == CauseState.OPENING.value
            )
        )


async def record_digest(engine: AsyncEngine, *, cause_key: str, digest: str, now: float) -> None:
    """An update for a changed alert went out: remember what it said."""
    await _set(engine, cause_key, digest=digest, updated_at=now)


async def resolve_cause(engine: AsyncEngine, *, cause_key: str, now: float) -> None:
    await _set(engine, cause_key, state=CauseState.RESOLVED.value, updated_at=now)


async def _set(engine: AsyncEngine, cause_key: str, **values: object) -> None:
    async with write_transaction(engine) as conn:
        await conn.execute(update(alert_causes).where(alert_causes.c.cause_key == cause_key).values(**values))


def _row(m: object) -> CauseRow:
    data = dict(m)  # type: ignore[call-overload]  # a RowMapping
    return CauseRow(
        cause_key=data["cause_key"],
        source=data["source"],
        state=CauseState(data["state"]),
        incident_id=data["incident_id"],
        episode=data["episode"],
        digest=data["digest"],
        updated_at=data["updated_at"],
    )
