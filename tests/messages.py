"""One builder for the OutgoingMessage that channel tests hand an adapter.

Defaults describe the opening SMS of INC-42 at Riverside (M83001); a test names only what it
is about. The marker follows the update number, as the dispatcher makes it.
"""

from __future__ import annotations

from typing import Any

from broadcaster.core.channel_contract import OutgoingMessage, RenderedContent, ThreadContext
from broadcaster.core.models import ChannelKind, IncidentStatus


def outgoing_message(
    *,
    update_seq: int = 0,
    body: str = "Phones are down. Use 111 online.",
    subject: str | None = None,
    root_id: str | None = None,
    previous_ids: tuple[str, ...] = (),
    **fields: Any,
) -> OutgoingMessage:
    """`body`/`subject` fill the content unless `content` is given; `root_id`/`previous_ids`
    fill the thread unless `thread` is given; any other OutgoingMessage field may be named."""
    values: dict[str, Any] = {
        "delivery_id": 1,
        "incident_ref": "INC-42",
        "update_seq": update_seq,
        "status": IncidentStatus.INVESTIGATING,
        "practice": "M83001",
        "channel": ChannelKind.SMS,
        "recipient": "+447700900123",
        "credential_ref": None,
        "content": RenderedContent(body=body, subject=subject),
        "marker": "Ref INC-42" if update_seq == 0 else f"Ref INC-42.{update_seq}",
        "thread": ThreadContext(
            root_id=root_id or (previous_ids[0] if previous_ids else None), previous_ids=previous_ids
        ),
    }
    values.update(fields)
    return OutgoingMessage(**values)
