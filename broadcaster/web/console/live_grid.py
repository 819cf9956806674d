"""The incident page's grid, live: Server-Sent Events carrying the cells that changed, fed by
the result writer's outcome stream (an outcome is sent only once it is recorded)."""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp_sse import sse_response

from broadcaster.core.incident_refs import update_number
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.web.app_keys import DIRECTORY, DISPATCHER, ENGINE
from broadcaster.web.auth import principal_of
from broadcaster.web.console.grid_cells import cell_html, cells_of
from broadcaster.web.console.incident_pages import summary_text
from broadcaster.web.console.layout import csrf_field, html_refusals
from broadcaster.web.console.scope import visible_incident

# The store is read again after this long without an outcome for this incident: another process
# (a command-line send) may be delivering part of it, and its outcomes reach the store only.
_RECHECK_SECONDS = 5.0


@html_refusals
async def grid_events(request: web.Request) -> web.StreamResponse:
    who = principal_of(request)
    incident_id = await visible_incident(request, who)
    wanted = request.query.get("update", "")
    seq = update_number(wanted)
    queries = IncidentQueries(request.app[ENGINE])
    csrf = await csrf_field(request)
    grid = await queries.grid(incident_id, seq=seq, practices=who.scope)  # refusals before the stream starts
    sent: dict[str, str] = {}
    async with sse_response(request, headers={"Cache-Control": "no-store"}) as events:
        with request.app[DISPATCHER].writer.outcomes.subscribe() as stream:
            while events.is_connected():
                seq = grid.shown_seq
                ids = {d.id for d in grid.deliveries}
                _, _, cells = cells_of(grid, request.app[DIRECTORY])
                changed = {}
                for key, cell in cells.items():
                    html = cell_html(cell, csrf=csrf, ref=grid.incident.ref, seq=seq, may_retry=True)
                    if sent.get(key) != html:
                        changed[key] = {"html": html, "label": cell.label}
                        sent[key] = html
                if changed:
                    message = {"cells": changed, "summary": summary_text(grid.shown_counts())}
                    await events.send(json.dumps(message), event="cells")
                if all(d.state.is_final for d in grid.deliveries):
                    # Settled: nothing more will change until someone acts, and acting reloads the page.
                    await events.send("{}", event="done")
                    break
                while True:  # wait for an outcome of this grid (or the recheck)
                    batch = await stream.next_batch(within=_RECHECK_SECONDS)
                    if batch is None or stream.lagged or any(o.delivery_id in ids for o in batch):
                        stream.lagged = False
                        break
                grid = await queries.grid(incident_id, seq=seq, practices=who.scope)
    return events
