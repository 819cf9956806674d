"""/metrics: deliveries by channel and outcome, trigger-to-acceptance, queue depth and retries, for
admins (or anyone, when the operator opens it), counted from the outcomes the writer records."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.config.settings import Settings, WebSettings
from broadcaster.directory.practices import Directory
from tests.accounts_helpers import KEYS, bearer, make_token
from tests.api_server import AUTH, OPEN, api_client
from tests.polling import eventually_async


async def _samples(
    client: TestClient, headers: dict[str, str]
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/plain"
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(await response.text())
        for s in family.samples
    }


async def test_metrics_count_what_the_writer_recorded(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> None:
    """One incident to X99002 (Facebook, a text, an email): three delivered outcomes, three
    acceptance times, and an empty queue once they have landed."""
    async with api_client(engine, example_directory, tmp_path, keys=KEYS) as client:
        assert (await client.post("/api/incidents", json=OPEN, headers=AUTH)).status == 201

        async def all_delivered() -> bool:
            samples = await _samples(client, AUTH)
            done = [
                samples.get(("broadcaster_deliveries_total", (("channel", c), ("outcome", "delivered"))))
                for c in ("facebook", "sms", "email")
            ]
            return done == [1.0, 1.0, 1.0]

        await eventually_async(all_delivered)
        samples = await _samples(client, AUTH)
        for channel in ("facebook", "sms", "email"):
            assert (
                samples[("broadcaster_trigger_to_acceptance_seconds_count", (("channel", channel),))] == 1.0
            )
        assert samples[("broadcaster_queue_depth", (("state", "pending"),))] == 0.0
        assert not any(name == "broadcaster_delivery_retries_total" for name, _ in samples)


async def test_metrics_need_an_admin_unless_opened(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> None:
    """A commissioner token is refused and no credential is a 401; with METRICS_OPEN anyone reads them."""
    async with api_client(engine, example_directory, tmp_path, keys=KEYS) as client:
        commissioner = bearer(await make_token(engine, "drill", Role.COMMISSIONER))
        assert (await client.get("/metrics", headers=commissioner)).status == 403
        assert (await client.get("/metrics")).status == 401
    opened = Settings(outbox_dir=tmp_path / "outbox", web=WebSettings(metrics_open=True))
    async with api_client(engine, example_directory, tmp_path, keys=KEYS, settings=opened) as client:
        assert (await client.get("/metrics")).status == 200
