"""`GET /metrics`: delivery metrics in Prometheus's text format (see delivery/metrics.py).

It needs an admin credential, unless BROADCASTER_WEB__METRICS_OPEN=true serves it without one
(for a scraper on a private network; the metrics hold counts only, no names or numbers).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from broadcaster.delivery.metrics import DeliveryMetrics, counting
from broadcaster.delivery.outcome_stream import OutcomeStream

METRICS = web.AppKey("metrics", DeliveryMetrics)
PATH = "/metrics"


def add_metrics_route(app: web.Application, metrics: DeliveryMetrics, outcomes: OutcomeStream) -> None:
    app[METRICS] = metrics

    async def count_outcomes(_app: web.Application) -> AsyncIterator[None]:
        async with counting(metrics, outcomes):
            yield

    app.cleanup_ctx.append(count_outcomes)
    app.router.add_get(PATH, serve_metrics)


async def serve_metrics(request: web.Request) -> web.Response:
    body = await request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
