"""Exactly what a send will say, per channel and practice, with SMS encoding, segments and cost.

Pure data, so the CLI's dry run and the console show the same thing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from broadcaster.content.render import PlannedDelivery
from broadcaster.content.sms_text import SegmentCount, SmsNormalisation, count_segments
from broadcaster.core.models import ChannelKind


@dataclass(frozen=True, slots=True)
class MessagePreview:
    practice: str
    channel: ChannelKind
    recipients: tuple[str, ...]
    subject: str | None
    body: str
    opening_body: str | None  # what is posted instead if the first message never arrived there
    sms: SegmentCount | None

    @property
    def sms_segments_total(self) -> int:
        return self.sms.segments * len(self.recipients) if self.sms else 0


@dataclass(frozen=True, slots=True)
class SendPreview:
    messages: tuple[MessagePreview, ...]
    sms_notes: str  # what normalisation changed in the text, for the sender to see
    price_per_segment_pence: float

    @property
    def deliveries(self) -> int:
        return sum(len(m.recipients) for m in self.messages)

    @property
    def practices(self) -> int:
        return len({m.practice for m in self.messages})

    def count(self, channel: ChannelKind) -> int:
        return sum(len(m.recipients) for m in self.messages if m.channel is channel)

    @property
    def sms_segments(self) -> int:
        return sum(m.sms_segments_total for m in self.messages)

    @property
    def sms_cost_pounds(self) -> float:
        return self.sms_segments * self.price_per_segment_pence / 100


def build_preview(
    planned: list[PlannedDelivery], *, sms_normalisation: SmsNormalisation, price_per_segment_pence: float
) -> SendPreview:
    grouped: dict[tuple[str, ChannelKind], list[PlannedDelivery]] = defaultdict(list)
    for item in planned:
        grouped[(item.endpoint.practice, item.endpoint.channel)].append(item)
    messages = []
    for (practice, channel), items in grouped.items():
        content = items[0].content
        messages.append(
            MessagePreview(
                practice=practice,
                channel=channel,
                recipients=tuple(i.endpoint.recipient for i in items),
                subject=content.subject,
                body=content.body,
                opening_body=content.opening_body,
                sms=count_segments(content.body) if channel is ChannelKind.SMS else None,
            )
        )
    return SendPreview(tuple(messages), sms_normalisation.describe(), price_per_segment_pence)
