"""Which incidents a principal may see (a practice user: only those reaching one of its practices)
and whose drafts it may decide; the same rule for the API and the console."""

from __future__ import annotations

from aiohttp import web

from broadcaster.accounts.permissions import NotAllowed, Principal
from broadcaster.core.incident_refs import parse_incident_ref
from broadcaster.directory.audience import Audience
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.web.app_keys import DIRECTORY, ENGINE


def reach(request: web.Request, audience: Audience) -> set[str]:
    """The practices (ODS codes) an incident's audience reaches."""
    return {p.ods for p in audience.select(request.app[DIRECTORY])}


async def visible_incident(request: web.Request, principal: Principal) -> int:
    """The incident the path's {ref} names, if this principal may see it; NotAllowed otherwise
    (the same rule as the API's incident routes)."""
    incident_id = parse_incident_ref(request.match_info["ref"])
    if principal.scope is not None:
        found = await IncidentQueries(request.app[ENGINE]).incident(incident_id)
        if not principal.sees_any(reach(request, found.summary.audience)):
            raise NotAllowed(
                f"{found.ref} does not reach {', '.join(sorted(principal.scope))}; "
                f"{principal.name} sees only incidents for those practices"
            )
    return incident_id


def may_decide(request: web.Request, principal: Principal, audience: Audience) -> bool:
    """Whether this principal may confirm or discard a draft for `audience`: a practice user only
    when it reaches no practice but its own (confirming sends to every practice the draft is for)."""
    if principal.scope is None:
        return True
    reached = reach(request, audience)
    return bool(reached) and reached <= principal.scope


async def decidable_incident(request: web.Request, principal: Principal) -> int:
    """The incident the path's {ref} names, if this principal may confirm or discard its draft
    (`may_decide`); NotAllowed otherwise."""
    incident_id = parse_incident_ref(request.match_info["ref"])
    if principal.scope is not None:
        found = await IncidentQueries(request.app[ENGINE]).incident(incident_id)
        if not may_decide(request, principal, found.summary.audience):
            raise NotAllowed(
                f"{found.ref} reaches practices besides {', '.join(sorted(principal.scope))}; "
                "a commissioner confirms or discards a draft for several practices"
            )
    return incident_id
