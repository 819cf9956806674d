"""The monitors' webhooks: Alertmanager, Uptime Kuma and the generic form, each read into alerts
and acted on once per cause (monitoring.alert_actions). A token with the monitor role (or an
admin's) may call them; a monitor token may do nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from broadcaster.accounts.permissions import Action
from broadcaster.monitoring.alert_actions import AlertActions
from broadcaster.monitoring.alerts import Alert, merge_by_cause
from broadcaster.monitoring.payloads import (
    AlertmanagerPayload,
    GenericAlert,
    KumaPayload,
    alertmanager_alerts,
    generic_alerts,
    uptime_kuma_alerts,
)
from broadcaster.public.routes import LIVE_SITE
from broadcaster.web.app_keys import DISPATCHER
from broadcaster.web.auth import actor_of
from broadcaster.web.bodies import parse_body
from broadcaster.web.console.send_requests import SHELF

ACTIONS = web.AppKey("alert_actions", AlertActions)
_Payload = TypeVar("_Payload", bound=BaseModel)
ROUTE_ACTIONS: dict[tuple[str, str], Action] = {
    ("POST", "/api/hooks/alertmanager"): Action.CALL_HOOKS,
    ("POST", "/api/hooks/uptime-kuma"): Action.CALL_HOOKS,
    ("POST", "/api/hooks/generic"): Action.CALL_HOOKS,
}


def add_hook_routes(app: web.Application, actions: AlertActions) -> None:
    app[ACTIONS] = actions
    app.router.add_post("/api/hooks/alertmanager", _hook(AlertmanagerPayload, alertmanager_alerts))
    app.router.add_post("/api/hooks/uptime-kuma", _hook(KumaPayload, uptime_kuma_alerts))
    app.router.add_post("/api/hooks/generic", _hook(GenericAlert, generic_alerts))


def _hook(
    model: type[_Payload], read: Callable[[_Payload, dict[str, str]], list[Alert]]
) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        actor = actor_of(request)
        alerts = merge_by_cause(read(parse_body(model, await request.read()), dict(request.query)))
        actions = request.app[ACTIONS]
        await request.app[SHELF].ready()  # the runbooks alerts name are read once, off the loop
        for alert in alerts:  # every alert of the delivery can become an incident, or none is acted on
            actions.check(alert)
        results = [await actions.apply(alert, actor=actor) for alert in alerts]
        if results:
            request.app[DISPATCHER].wake()
            request.app[LIVE_SITE].invalidate()
        return web.json_response({"results": [r.to_json() for r in results]})

    return handle
