"""The commissioner's email when channels stop being ready: by SMTP, or to the outbox folder."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from broadcaster.config.settings import Settings
from broadcaster.directory.practices import Directory
from broadcaster.readiness.checks import CellReadiness
from channels.email.spec import SMTP_SETTINGS
from channels.outbox.spec import EMAIL_OUTBOX

OUTBOX_FOLDER = "readiness"  # under BROADCASTER_OUTBOX_DIR


def readiness_alert(
    cells: Sequence[CellReadiness], *, to: str, settings: Settings, names: dict[str, str], now: float
) -> EmailMessage:
    smtp = SMTP_SETTINGS.of(settings)
    practices = sorted({c.practice for c in cells})
    message = EmailMessage()
    message["From"] = f"{smtp.from_name} <{smtp.from_address}>"
    message["To"] = to
    message["Subject"] = f"Channels not ready at {len(practices)} practice(s): {', '.join(practices[:5])}"
    message["Date"] = formatdate(now, localtime=True)
    message["Message-ID"] = make_msgid("readiness", domain=smtp.message_id_domain)
    lines = [
        "These channels would not work if an incident were sent now:",
        "",
        *(f"- {c.practice} {names.get(c.practice, '')} {c.channel.value}: {c.reason}" for c in cells),
        "",
        "Fix them, then run `broadcaster readiness` to check. You are told once per change.",
    ]
    message.set_content("\n".join(lines))
    return message


async def send_readiness_alert(message: EmailMessage, *, settings: Settings, directory: Directory) -> None:
    """Through the directory's email route: the outbox folder when it is the outbox, else SMTP."""
    if f"email/{directory.defaults.email_provider}" == EMAIL_OUTBOX:
        folder = settings.outbox_dir / OUTBOX_FOLDER
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{abs(hash(message['Message-ID'])):x}.eml"
        await _write(folder, name, message.as_bytes())
        return
    import aiosmtplib  # noqa: PLC0415  # only when mail goes out

    smtp = SMTP_SETTINGS.of(settings)
    await aiosmtplib.send(
        message,
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password.get_secret_value() if smtp.password and smtp.username else None,
        use_tls=smtp.security == "tls",
        start_tls=smtp.security == "starttls",
        timeout=smtp.timeout_seconds,
        local_hostname=socket.gethostname(),
    )


async def _write(folder: Path, name: str, data: bytes) -> None:
    def write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)

    await asyncio.to_thread(write)  # file I/O off the event loop
