"""What a benchmark client process is told (where the fakes are, how many in flight) and what it reports."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Self

from tests.fakes.notify_api import FAKE_EMAIL_TEMPLATE_ID, FAKE_SECRET, FAKE_SERVICE_ID, FAKE_SMS_TEMPLATE_ID

NOTIFY_API_KEY = f"bench_fake-{FAKE_SERVICE_ID}-{FAKE_SECRET}"
NOTIFY_SMS_TEMPLATE = FAKE_SMS_TEMPLATE_ID
NOTIFY_EMAIL_TEMPLATE = FAKE_EMAIL_TEMPLATE_ID
GRAPH_VERSION = "v26.0"


@dataclass(frozen=True, slots=True)
class Concurrency:
    """Requests in flight per provider route: the same for our dispatcher and the bare client."""

    graph: int = 16  # Meta: 10-20 in flight across pages is safe (provider-apis.md A4)
    notify: int = 40  # the product's default; Notify's real limit is its rate, not connections
    smtp: int = 40  # a relay takes many sessions (the product's default is 8: set per relay)


@dataclass(frozen=True, slots=True)
class ClientSpec:
    practices: int
    directory: str  # the practice directory YAML
    workdir: str  # database, log and result files go here
    graph_url: str
    notify_url: str
    smtp_port: int
    concurrency: Concurrency
    notify_per_minute: int  # our pacer's rate: Notify's 3,000, or effectively off
    update_after: float | None  # seconds after the trigger; None: once the opening settled
    update_sms: bool = True  # the update goes by text too (`broadcaster update --sms`)
    texts_only: bool = False  # the rate-limit scenario
    give_up_after: float = 900.0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Self:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["concurrency"] = Concurrency(**data["concurrency"])
        return cls(**data)


@dataclass(frozen=True, slots=True)
class ClientResult:
    """Times are time.time() on the shared clock; the fakes record acceptance on the same one."""

    trigger: float
    written: float | None  # ours: the opening is in the outbox (the bare client has no outbox)
    update_posted: float | None
    finished: float
    cpu_seconds: float  # user + system, all threads, trigger to finished
    peak_rss_mb: float
    max_stall_ms: float  # longest event-loop stall, trigger to finished
    stall_at: float  # seconds after the trigger when it happened: for a person profiling a miss

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Self:
        return cls(**json.loads(path.read_text(encoding="utf-8")))
