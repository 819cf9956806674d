"""Build one incident email, with the headers that make mail clients thread its updates."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from broadcaster.channel_contract import OutgoingMessage

# RFC 5322 §3.2.3 atext (plus "." between atoms): anything else cannot appear in a msg-id.
_NOT_ATEXT = re.compile(r"[^a-z0-9!#$%&'*+/=?^_`{|}~.-]")
_INCIDENT_PREFIX = re.compile(r"^\s*\[[^\]]*\]\s*")  # "[INC-42] " at the start of a subject


def message_id_for(message: OutgoingMessage, domain: str) -> str:
    """This delivery's one Message-ID: the same on every attempt, so receivers keep one copy."""
    left = f"{message.incident_ref}.{message.update_seq}.{message.delivery_id}"
    return f"<{_id_part(left)}@{_id_part(domain)}>"


def build_email(
    message: OutgoingMessage,
    *,
    from_address: str,
    from_name: str,
    message_id_domain: str,
    now: datetime | None = None,
) -> EmailMessage:
    """The email for one delivery; replies to the recipient's earlier emails of the incident."""
    subject = message.content.subject or f"[{message.incident_ref}]"
    email = EmailMessage()
    email["Message-ID"] = message_id_for(message, message_id_domain)
    email["Date"] = format_datetime(now or datetime.now(UTC))
    email["From"] = Address(display_name=from_name, addr_spec=from_address)
    email["To"] = message.recipient
    # The renderer keeps the subject identical across the thread: Gmail needs that to thread,
    # and "Re:" would make it differ from the first email.
    email["Subject"] = subject
    # Outlook groups by Thread-Topic (the normalised subject) rather than by References.
    email["Thread-Topic"] = _INCIDENT_PREFIX.sub("", subject) or subject
    previous = [_bracketed(i) for i in message.thread.previous_ids]
    if previous:
        email["In-Reply-To"] = previous[-1]
        email["References"] = " ".join(previous)
    # RFC 3834: tells out-of-office responders not to answer an automatic broadcast.
    email["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps non-ASCII text readable in a saved .eml and 7-bit safe on the wire.
    email.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    return email


def _id_part(text: str) -> str:
    cleaned = _NOT_ATEXT.sub("-", text.lower())
    return re.sub(r"\.{2,}", ".", cleaned).strip(".") or "x"


def _bracketed(message_id: str) -> str:
    stripped = message_id.strip()
    return stripped if stripped.startswith("<") else f"<{stripped}>"
