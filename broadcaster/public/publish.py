"""Writing the public copy somewhere else: a folder (`broadcaster publish --to DIR`) or an
S3-compatible bucket, so it can be served from outside the network the service runs in.

The bucket is written with boto3, each upload batch in a worker thread: a publish is a few
dozen small PUTs per update, which does not need aiobotocore, whose exact botocore pin fights
every other botocore user (and moto, which the tests run as a real local S3 server). Each batch
is retried with tenacity's exponential backoff; only files whose content changed since the last
successful upload are sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from broadcaster.config.log_setup import SCRUBBER
from broadcaster.config.settings import PublishSettings
from broadcaster.core.errors import ConfigError
from broadcaster.public.site import SiteFiles

if TYPE_CHECKING:
    from botocore.client import BaseClient


def write_folder(files: SiteFiles, folder: Path) -> int:
    """Write every file under `folder` (created if need be); returns how many were written."""
    for path, file in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.body)
    return len(files)


class PublishFailed(Exception):
    """An upload batch failed after every retry; the message is safe to show and record."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason, self.attempts = reason, attempts


@dataclass(frozen=True, slots=True)
class Uploaded:
    files: int  # how many were sent (the rest were unchanged)
    attempts: int


class BucketTarget:
    """An S3-compatible bucket the copy is uploaded to, remembering what it already holds."""

    def __init__(
        self, settings: PublishSettings, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        if not settings.s3_bucket:
            raise ConfigError("no bucket to publish to: set BROADCASTER_PUBLISH__S3_BUCKET")
        self._settings, self._sleep = settings, sleep
        self.bucket, self.prefix = settings.s3_bucket, settings.s3_prefix
        self._client: BaseClient | None = None
        self._sent: dict[str, str] = {}  # key -> ETag of what the bucket was last given

    @property
    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    async def upload(self, files: SiteFiles) -> Uploaded:
        """Send what changed, retrying each batch; raises PublishFailed when every try failed."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415  # only when configured

        settings = self._settings
        retrying = AsyncRetrying(
            stop=stop_after_attempt(settings.max_attempts),
            wait=wait_exponential_jitter(
                multiplier=settings.retry_initial_seconds, max=settings.retry_max_seconds, jitter=1.0
            ),
            retry=retry_if_exception_type((BotoCoreError, ClientError)),
            sleep=self._sleep,
            reraise=True,
        )
        changed = {p: f for p, f in files.items() if self._sent.get(p) != f.etag}
        sent = 0
        try:
            async for attempt in retrying:
                with attempt:
                    sent += await asyncio.to_thread(self._put_all, changed)
        except (BotoCoreError, ClientError) as exc:
            raise PublishFailed(_reason(exc), retrying.statistics.get("attempt_number", 1)) from exc
        return Uploaded(files=sent, attempts=retrying.statistics.get("attempt_number", 1))

    def _put_all(self, changed: SiteFiles) -> int:
        """In a worker thread: upload what is still unsent; what succeeds is not sent again."""
        client, sent = self._bucket_client(), 0
        for path, file in changed.items():
            if self._sent.get(path) == file.etag:
                continue  # sent by an earlier try of this batch
            client.put_object(
                Bucket=self.bucket,
                Key=f"{self.prefix}{path}",
                Body=file.body,
                ContentType=file.content_type,
                CacheControl=file.cache_control,
            )
            self._sent[path] = file.etag
            sent += 1
        return sent

    def _bucket_client(self) -> BaseClient:
        if self._client is None:
            import boto3  # noqa: PLC0415  # a second of import time, only when a bucket is configured
            from botocore.config import Config  # noqa: PLC0415

            s = self._settings
            extra: dict[str, Any] = {}
            if s.s3_access_key_id and s.s3_secret_access_key:
                extra["aws_access_key_id"] = s.s3_access_key_id.get_secret_value()
                extra["aws_secret_access_key"] = s.s3_secret_access_key.get_secret_value()
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=s.s3_endpoint_url or None,
                region_name=s.s3_region,
                config=Config(
                    connect_timeout=s.timeout_seconds,
                    read_timeout=s.timeout_seconds,
                    retries={"max_attempts": 1},  # tenacity retries, with our backoff
                ),
                **extra,
            )
        return self._client


def _reason(exc: Exception) -> str:
    return SCRUBBER.scrub(str(exc))[:300] or type(exc).__name__
