"""Benchmark scenarios and their practice directories: each practice has a Page, 2 mobiles, 2 mailboxes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OPENING_TEXT = "Our phone lines are down. Please call {alt_phone} or use NHS 111 online."
UPDATE_TEXT = "Phone lines are back for most callers; online booking is still down."
UPDATE_MARK = "online booking is still down"  # in every channel's rendering of the update only
PAGE_TOKEN = "bench-page-token-0123456789"  # noqa: S105 - only the local Graph fake accepts it
PER_PRACTICE = 5  # one Facebook post, two texts, two emails
TEXTS_PER_PRACTICE = 2


@dataclass(frozen=True, slots=True)
class Scenario:
    practices: int
    faults: bool = False  # 10% transient failures and 2% throttled, at every provider
    update_after: float | None = None  # post the update this long after the trigger; None: once settled
    rate_limited: bool = False  # texts only, through Notify's real 3,000-a-minute limit

    @property
    def name(self) -> str:
        if self.rate_limited:
            return f"{self.practices} texts-rate-limited"
        suffix = " faults" if self.faults else ""
        if self.update_after is not None:
            suffix += f" update@{self.update_after:g}s"
        return f"{self.practices}{suffix}"

    @property
    def deliveries(self) -> int:
        """Opening messages: what the fan-out ratios are measured on."""
        per = TEXTS_PER_PRACTICE if self.rate_limited else PER_PRACTICE
        return self.practices * per


@dataclass(frozen=True, slots=True)
class BenchPractice:
    ods: str
    page_id: str
    mobiles: tuple[str, str]
    emails: tuple[str, str]

    @property
    def token_ref(self) -> str:
        return f"fb_{self.ods.lower()}"


def bench_practices(count: int) -> list[BenchPractice]:
    """`count` fictional practices. Mobiles are 07911 1xxxxx: real-format numbers libphonenumber
    accepts (the 07700 900xxx drama range has only 1,000), never dialled: the fakes answer."""
    if count > 40_000:
        raise ValueError("at most 40,000 practices: the 07911 1xxxxx range holds 100,000 numbers")
    return [
        BenchPractice(
            ods=f"B{i:05d}",
            page_id=str(200_000_000_000_000 + i),
            mobiles=(f"07911 {100_000 + 2 * i}", f"07911 {100_001 + 2 * i}"),
            emails=(f"manager@p{i:05d}.example", f"reception@p{i:05d}.example"),
        )
        for i in range(count)
    ]


def directory_yaml(practices: list[BenchPractice]) -> str:
    lines = ["defaults: {facebook_provider: graph, sms_provider: notify, email_provider: smtp}", "practices:"]
    for i, p in enumerate(practices):
        lines += [
            f"  - ods: {p.ods}",
            f"    name: Bench Practice {i}",
            f"    groups: [pcn-{i // 50}]",
            f"    placeholders: {{alt_phone: '0113 496 {i % 10000:04d}'}}",
            f"    facebook: {{page_id: '{p.page_id}', token: {p.token_ref}}}",
            f"    sms: {{recipients: ['{p.mobiles[0]}', '{p.mobiles[1]}']}}",
            f"    email: {{recipients: [{p.emails[0]}, {p.emails[1]}]}}",
        ]
    return "\n".join(lines) + "\n"


def write_directory(path: Path, count: int) -> list[BenchPractice]:
    practices = bench_practices(count)
    path.write_text(directory_yaml(practices), encoding="utf-8")
    return practices
