"""The public copy outside: `broadcaster publish --to DIR`, and serve's republishing to a real
local S3-compatible server (moto's server mode), failures retried and shown by `status`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import PublishSettings
from broadcaster.directory.practices import Directory
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.public.publish import BucketTarget
from broadcaster.public.republisher import Republisher
from tests.api_server import AUTH, api_client
from tests.cli_runner import run_cli

OPENING = {
    "title": "Website down",
    "message": "Our website is down. Call {alt_phone}.",
    "audience": {"all": True},
}


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_settings(url: str, bucket: str, **more: Any) -> PublishSettings:
    return PublishSettings(
        s3_bucket=bucket,
        s3_endpoint_url=url,
        s3_region="us-east-1",
        s3_access_key_id=SecretStr("testing"),
        s3_secret_access_key=SecretStr("testing-secret"),
        retry_initial_seconds=0.01,
        retry_max_seconds=0.05,
        **more,
    )


def bucket_client(url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    )


def read_object(url: str, bucket: str, key: str) -> str:
    return bucket_client(url).get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def test_publish_to_a_folder_writes_pages_feeds_cap_and_banner(tmp_path: Path) -> None:
    """After a send, `broadcaster publish --to DIR` writes every public file a static host needs."""
    assert (
        run_cli(tmp_path, "send", "--title", "Phones down", "--message", "Call {alt_phone}.", "--all").code
        == 0
    )

    done = run_cli(tmp_path, "publish", "--to", str(tmp_path / "site"))

    assert done.code == 0, done.err
    site = tmp_path / "site"
    assert "Call 0113 496 0004." in (site / "status" / "X99004" / "index.html").read_text()
    assert (site / "status" / "index.html").is_file()
    assert "<entry>" in (site / "status" / "feed.atom").read_text()
    assert "<msgType>Alert</msgType>" in (site / "cap" / "INC-1.xml").read_text()
    assert '"open": true' in (site / "banner" / "X99001.json").read_text()
    assert (site / "banner.js").is_file()
    assert "integrity=" in (site / "banner" / "index.html").read_text()


def test_publish_without_a_destination_is_refused(tmp_path: Path) -> None:
    """`publish` with neither --to nor --s3 says what to give, exit 2."""
    done = run_cli(tmp_path, "publish")
    assert done.code == 2
    assert "--to DIR" in done.err


async def test_serve_republishes_every_update_to_the_bucket(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path, s3_url: str
) -> None:
    """Open then update: after each, the bucket's copy of the practice page has the new words,
    and the incident's status records the copy as published."""
    await asyncio.to_thread(bucket_client(s3_url).create_bucket, Bucket="status-copy")
    settings = s3_settings(s3_url, "status-copy", s3_prefix="gp/")
    republisher = Republisher(
        engine=engine,
        directory=example_directory,
        settings=settings,
        target=BucketTarget(settings),
        origin="serve@test",
    )
    async with api_client(engine, example_directory, tmp_path) as client:
        assert (await client.post("/api/incidents", json=OPENING, headers=AUTH)).status == 201
        assert await republisher.publish_if_changed()
        first = await asyncio.to_thread(read_object, s3_url, "status-copy", "gp/status/X99001/index.html")
        update = {"status": "monitoring", "message": "The website is back; we are checking it."}
        assert (await client.post("/api/incidents/INC-1/updates", json=update, headers=AUTH)).status == 201
        assert await republisher.publish_if_changed()
        second = await asyncio.to_thread(read_object, s3_url, "status-copy", "gp/status/X99001/index.html")

    assert "Call 0113 496 0001." in first
    assert "we are checking it" in second
    copy = await IncidentQueries(engine).public_copy(1)
    assert copy is not None
    assert copy.ok
    assert copy.update_seq == 1
    assert copy.target == "s3://status-copy/gp/"


async def test_a_failed_upload_is_retried_until_the_bucket_answers(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path, s3_url: str
) -> None:
    """The first try fails (the bucket does not exist yet); tenacity tries again after its backoff
    and the copy lands, recorded as published after 2 attempts."""
    settings = s3_settings(s3_url, "late-bucket", max_attempts=3)
    waits: list[float] = []

    async def bucket_appears_while_waiting(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.to_thread(bucket_client(s3_url).create_bucket, Bucket="late-bucket")

    target = BucketTarget(settings, sleep=bucket_appears_while_waiting)
    republisher = Republisher(
        engine=engine, directory=example_directory, settings=settings, target=target, origin="serve@test"
    )
    async with api_client(engine, example_directory, tmp_path) as client:
        assert (await client.post("/api/incidents", json=OPENING, headers=AUTH)).status == 201
        assert await republisher.publish_if_changed()

    assert len(waits) == 1
    page = await asyncio.to_thread(read_object, s3_url, "late-bucket", "status/X99003/index.html")
    assert "Website down" in page
    copy = await IncidentQueries(engine).public_copy(1)
    assert copy is not None
    assert copy.ok
    assert copy.attempts == 2


def test_a_copy_that_keeps_failing_shows_in_status_as_failed(tmp_path: Path, s3_url: str) -> None:
    """When every try fails, `broadcaster status` names the failure and exits 4, like a channel."""
    assert (
        run_cli(tmp_path, "send", "--title", "Phones down", "--message", "Call {alt_phone}.", "--all").code
        == 0
    )
    settings = s3_settings(s3_url, "never-created", max_attempts=2)

    async def one_round() -> None:
        from broadcaster.config.settings import Settings  # noqa: PLC0415
        from broadcaster.config.shipped_files import example_directory_path  # noqa: PLC0415
        from broadcaster.delivery.runtime import open_database  # noqa: PLC0415
        from broadcaster.directory.practices import load_directory  # noqa: PLC0415

        db = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'broadcaster.db'}")
        async with open_database(db) as engine:
            republisher = Republisher(
                engine=engine,
                directory=load_directory(example_directory_path()),
                settings=settings,
                target=BucketTarget(settings),
                origin="serve@test",
            )
            assert not await republisher.publish_if_changed()

    asyncio.run(one_round())
    shown = run_cli(tmp_path, "status", "INC-1")

    assert shown.code == 4, shown.out + shown.err
    assert "Public copy s3://never-created/: failed for update 0" in shown.out
    assert "after 2 attempt(s)" in shown.out
    assert "NoSuchBucket" in shown.out or "does not exist" in shown.out
    assert "testing-secret" not in shown.out
