"""Email to the service's own staff (a commissioner told a channel broke, or that a monitor's
draft waits): not a practice's incident message, so no thread and no retries, sent through the
directory's email route (the outbox folder when that is the outbox, else SMTP)."""

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
from channels.email.spec import SMTP_SETTINGS
from channels.outbox.spec import EMAIL_OUTBOX


def staff_message(
    *, subject: str, lines: Sequence[str], to: str, settings: Settings, now: float, kind: str
) -> EmailMessage:
    """A plain-text email from the configured sender; `kind` names its Message-ID (`readiness`)."""
    smtp = SMTP_SETTINGS.of(settings)
    message = EmailMessage()
    message["From"] = f"{smtp.from_name} <{smtp.from_address}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(now, localtime=True)
    message["Message-ID"] = make_msgid(kind, domain=smtp.message_id_domain)
    message.set_content("\n".join(lines))
    return message


async def send_staff_email(
    message: EmailMessage, *, settings: Settings, directory: Directory, folder: str
) -> None:
    """Through the directory's email route: BROADCASTER_OUTBOX_DIR/`folder` when it is the
    outbox, else SMTP. Raises what the sending raised; the caller decides whether to try again."""
    if f"email/{directory.defaults.email_provider}" == EMAIL_OUTBOX:
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{abs(hash(message['Message-ID'])):x}.eml"
        await _write(settings.outbox_dir / folder, name, message.as_bytes())
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
