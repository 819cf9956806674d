"""The commissioner's email when channels stop being ready (sent as delivery.staff_email sends)."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

from broadcaster.config.settings import Settings
from broadcaster.delivery.staff_email import send_staff_email, staff_message
from broadcaster.directory.practices import Directory
from broadcaster.readiness.checks import CellReadiness

OUTBOX_FOLDER = "readiness"  # under BROADCASTER_OUTBOX_DIR


def readiness_alert(
    cells: Sequence[CellReadiness], *, to: str, settings: Settings, names: dict[str, str], now: float
) -> EmailMessage:
    practices = sorted({c.practice for c in cells})
    lines = [
        "These channels would not work if an incident were sent now:",
        "",
        *(f"- {c.practice} {names.get(c.practice, '')} {c.channel.value}: {c.reason}" for c in cells),
        "",
        "Fix them, then run `broadcaster readiness` to check. You are told once per change.",
    ]
    subject = f"Channels not ready at {len(practices)} practice(s): {', '.join(practices[:5])}"
    return staff_message(subject=subject, lines=lines, to=to, settings=settings, now=now, kind="readiness")


async def send_readiness_alert(message: EmailMessage, *, settings: Settings, directory: Directory) -> None:
    """To the outbox folder `readiness` when the directory's email is the outbox, else by SMTP."""
    await send_staff_email(message, settings=settings, directory=directory, folder=OUTBOX_FOLDER)
