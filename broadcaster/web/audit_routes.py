"""The audit trail for admins: `GET /api/audit` (JSON, newest first, paged) and
`GET /api/audit.csv` (the same rows as a spreadsheet-safe CSV download). Each export is audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from aiohttp import web

from broadcaster.core.incident_refs import incident_ref
from broadcaster.store.audit_log import AuditRecord
from broadcaster.store.records import AuditEntry
from broadcaster.web.auth import actor_of
from broadcaster.web.sign_in_pages import ACCOUNTS

_MAX_ROWS = 10_000
_COLUMNS = ["id", "at", "actor", "credential", "origin", "action", "incident", "detail"]


def _limit(request: web.Request, default: int) -> tuple[int, int | None]:
    def number(name: str, fallback: int | None) -> int | None:
        raw = request.query.get(name)
        if raw is None:
            return fallback
        if not (raw.isascii() and raw.isdigit() and 0 < len(raw) < 10):
            raise web.HTTPBadRequest(text=f"{name}={raw!r} must be a whole number above 0")
        return int(raw)

    limit = number("limit", default)
    assert limit is not None
    return min(limit, _MAX_ROWS), number("before", None)


def _row(record: AuditRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "at": datetime.fromtimestamp(record.at, UTC).isoformat(timespec="seconds"),
        "actor": record.actor,
        "credential": record.credential,
        "origin": record.origin,
        "action": record.action,
        "incident": None if record.incident_id is None else incident_ref(record.incident_id),
        "detail": record.detail,
    }


async def _records(request: web.Request, default: int) -> list[AuditRecord]:
    limit, before = _limit(request, default)
    return await request.app[ACCOUNTS].audit_events(limit=limit, before_id=before)


async def audit_json(request: web.Request) -> web.Response:
    """`?limit=N` (default 100) and `?before=ID` (the last id of the previous page)."""
    records = await _records(request, 100)
    return web.json_response({"events": [_row(r) for r in records]})


async def audit_csv(request: web.Request) -> web.Response:
    """`?limit=N` (default and most 10,000) and `?before=ID`, newest first."""
    records = await _records(request, _MAX_ROWS)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_COLUMNS)
    for record in records:
        row = _row(record)
        row["detail"] = json.dumps(record.detail, ensure_ascii=False, sort_keys=True)
        writer.writerow([_cell(row[c]) for c in _COLUMNS])
    actor = actor_of(request)
    await request.app[ACCOUNTS].record(
        AuditEntry(
            actor.name, actor.origin, "audit_exported", {"rows": len(records)}, credential=actor.credential
        )
    )
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="broadcaster-audit.csv"'},
    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting =, +, - or @ is a formula to a spreadsheet: a title could run one on export.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
