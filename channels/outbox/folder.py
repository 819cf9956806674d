"""The offline channel: every message becomes a file under one folder, emails as real .eml files."""

from __future__ import annotations

import asyncio
import email.policy
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.models import ChannelKind
from broadcaster.core.outcomes import Delivered, NotFound, ReconcileResult, SendResult
from channels.email.message import build_email, message_id_for

_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9@.+_-]")


@dataclass(frozen=True, slots=True)
class _OutboxFile:
    path: Path
    provider_id: str


class OutboxFolderChannel:
    """Writes `root/<incident>/<practice>/<NN>-<channel>-<recipient>.(txt|eml)` per message.

    Provider ids are derived from the message alone, so a retry rewrites the same file with
    the same id, and the next update's Facebook comment names the synthetic post it is under.
    """

    def __init__(
        self,
        *,
        route: str,
        root: Path,
        message_id_domain: str,
        from_address: str | None = None,
        from_name: str = "Practice incident alerts",
    ) -> None:
        self.route = route
        self._root = root
        self._domain = message_id_domain
        self._from_address = from_address or f"incident-alerts@{message_id_domain}"
        self._from_name = from_name

    async def send(self, message: OutgoingMessage) -> SendResult:
        target = self._file_for(message)
        await asyncio.to_thread(_write_atomically, target.path, self._render(message, target))
        return Delivered(provider_id=target.provider_id)

    async def reconcile(self, message: OutgoingMessage) -> ReconcileResult:
        target = self._file_for(message)
        if await asyncio.to_thread(target.path.exists):
            return Delivered(provider_id=target.provider_id)
        return NotFound()

    async def close(self) -> None:
        """Nothing is held open between messages."""

    def _file_for(self, message: OutgoingMessage) -> _OutboxFile:
        folder = self._root / _safe(message.incident_ref) / _safe(message.practice)
        is_email = message.channel is ChannelKind.EMAIL
        name = f"{message.update_seq:02d}-{message.channel}-{_safe(message.recipient)}"
        path = folder / f"{name}.{'eml' if is_email else 'txt'}"
        return _OutboxFile(path, self._provider_id(message, path))

    def _provider_id(self, message: OutgoingMessage, path: Path) -> str:
        unique = f"{_safe(message.incident_ref).lower()}-{message.update_seq}-{message.delivery_id}"
        if message.channel is ChannelKind.EMAIL:
            return message_id_for(message, self._domain)
        if message.channel is ChannelKind.FACEBOOK and message.opens_thread:
            return f"{message.recipient}_outbox-post-{unique}"  # Graph post ids: page_post
        if message.channel is ChannelKind.FACEBOOK:
            return f"{message.thread.root_id}_outbox-comment-{unique}"  # and post_comment
        return f"outbox:{path.relative_to(self._root).as_posix()}"

    def _render(self, message: OutgoingMessage, target: _OutboxFile) -> bytes:
        if message.channel is ChannelKind.EMAIL:
            built = build_email(
                message,
                from_address=self._from_address,
                from_name=self._from_name,
                message_id_domain=self._domain,
            )
            return built.as_bytes(policy=email.policy.SMTP)  # CRLF, as a mail client saves it
        header = [
            f"Channel: {_describe_target(message)}",
            f"Incident: {message.incident_ref}, update {message.update_seq} ({message.status})",
            f"Practice: {message.practice}",
            f"Marker: {message.marker}",
            f"Provider id: {target.provider_id}",
        ]
        if message.content.subject:
            header.append(f"Subject: {message.content.subject}")
        facebook_update = message.channel is ChannelKind.FACEBOOK and not message.opens_thread
        if facebook_update and message.content.headline:
            header.append(f"Post's first line now reads: {message.content.headline}")
        return ("\n".join(header) + "\n\n" + message.text + "\n").encode()


def _describe_target(message: OutgoingMessage) -> str:
    if message.channel is ChannelKind.FACEBOOK:
        if message.opens_thread:
            return f"facebook POST on page {message.recipient}"
        return f"facebook COMMENT on post {message.thread.root_id} (page {message.recipient})"
    return f"{message.channel} to {message.recipient}"


def _safe(text: str) -> str:
    """A file-name piece: no separators, no "..", nothing a shell or file system trips on."""
    cleaned = _UNSAFE_IN_NAME.sub("_", text).strip(".")
    return cleaned or "_"


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
