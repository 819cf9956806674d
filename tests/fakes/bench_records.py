"""What a provider fake hands a benchmark when it stops: arrival and acceptance times, as JSON.

Times are `time.time()`: the fakes run in their own processes on the benchmark's machine, so
they share its clock with the client that records when it was triggered.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from aiohttp import web

from tests.fakes.faults import Fault


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    """One message the fake accepted: a post, comment, edit, text or email."""

    at: float  # time.time() when it took effect
    kind: str  # "post" | "comment" | "edit" | "sms" | "email" | "webhook"
    to: str  # page id, post id, phone number, mailbox or URL path
    ref: str  # provider id, Notify reference or Message-ID: what a duplicate repeats
    text: str


def write_records(
    path: Path,
    *,
    accepted: Iterable[AcceptedMessage],
    arrivals: Iterable[float],
    injected: Iterable[tuple[str, Fault]] = (),
    refusals: Mapping[int, int] | None = None,
) -> None:
    """Write everything a benchmark measures from one fake's run into `path`."""
    record = {
        "accepted": [asdict(a) for a in accepted],
        "arrivals": sorted(arrivals),
        "injected": dict(Counter(fault.value for _key, fault in injected)),
        "refusals": {str(status): n for status, n in (refusals or {}).items()},
    }
    path.write_text(json.dumps(record), encoding="utf-8")


def run_app_until_stopped(
    app: web.Application, *, host: str, port: int, dump: Path | None, write: Callable[[Path], None]
) -> None:
    """Serve a fake in its own process; on exit, write its records to `dump` if given.

    aiohttp runs cleanup on SIGTERM/SIGINT, which is how a benchmark stops a fake.
    """

    async def dump_on_exit(_app: web.Application) -> None:
        if dump is not None:
            write(dump)

    app.on_cleanup.append(dump_on_exit)
    web.run_app(app, host=host, port=port, print=None)
