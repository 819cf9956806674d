"""The offline outbox-folder channel, writing real files under tmp_path."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from blockbuster import BlockBuster

from broadcaster.core.channel_contract import OutgoingMessage, RenderedContent
from broadcaster.core.models import ChannelKind, IncidentStatus
from broadcaster.core.outcomes import Delivered, NotFound
from channels.outbox.folder import OutboxFolderChannel
from channels.outbox.spec import EMAIL_OUTBOX, FACEBOOK_OUTBOX, SMS_OUTBOX
from tests.messages import outgoing_message

PAGE = "100000000990001"
MAILBOX = "manager@riverside-surgery.example"


def outgoing(
    channel: ChannelKind,
    recipient: str,
    seq: int = 0,
    *,
    root_id: str | None = None,
    previous: tuple[str, ...] = (),
    practice: str = "X99001",
) -> OutgoingMessage:
    return outgoing_message(
        delivery_id=10 + seq,
        update_seq=seq,
        status=IncidentStatus.INVESTIGATING if seq == 0 else IncidentStatus.MONITORING,
        practice=practice,
        channel=channel,
        recipient=recipient,
        content=RenderedContent(
            body=f"Update {seq}: phones back soon.",
            subject="[INC-42] Phones down",
            opening_body=f"Phones are down (update {seq}). Ref INC-42",
            headline="MONITORING: phones down",
        ),
        marker=f"Ref INC-42.{seq}",
        root_id=root_id,
        previous_ids=previous,
    )


def channel_at(root: Path, route: str) -> OutboxFolderChannel:
    return OutboxFolderChannel(route=route, root=root, message_id_domain="alerts.example")


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def read_eml(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


async def test_outbox_writes_threaded_eml_files(tmp_path: Path) -> None:
    """Update 1's .eml replies to update 0's Message-ID, which send() reported as provider id."""
    channel = channel_at(tmp_path, EMAIL_OUTBOX)
    first = await channel.send(outgoing(ChannelKind.EMAIL, MAILBOX))
    assert isinstance(first, Delivered)
    assert first.provider_id is not None
    previous = (first.provider_id,)
    second = await channel.send(
        outgoing(ChannelKind.EMAIL, MAILBOX, 1, root_id=first.provider_id, previous=previous)
    )
    folder = tmp_path / "INC-42" / "X99001"
    opening = read_eml(folder / f"00-email-{MAILBOX}.eml")
    update = read_eml(folder / f"01-email-{MAILBOX}.eml")
    assert isinstance(second, Delivered)
    assert opening["Message-ID"] == first.provider_id
    assert opening["In-Reply-To"] is None
    assert update["Message-ID"] == second.provider_id
    assert str(update["In-Reply-To"]).strip() == first.provider_id
    assert update.get_content().strip() == "Update 1: phones back soon."


async def test_outbox_facebook_post_then_comment_on_that_post(tmp_path: Path) -> None:
    """The opening is labelled a post; the update is a comment naming the post's synthetic id."""
    channel = channel_at(tmp_path, FACEBOOK_OUTBOX)
    post = await channel.send(outgoing(ChannelKind.FACEBOOK, PAGE))
    assert isinstance(post, Delivered)
    assert post.provider_id is not None
    assert post.provider_id.startswith(f"{PAGE}_")
    await channel.send(outgoing(ChannelKind.FACEBOOK, PAGE, 1, root_id=post.provider_id))
    folder = tmp_path / "INC-42" / "X99001"
    post_text = (folder / f"00-facebook-{PAGE}.txt").read_text()
    comment_text = (folder / f"01-facebook-{PAGE}.txt").read_text()
    assert f"facebook POST on page {PAGE}" in post_text
    assert "Phones are down (update 0). Ref INC-42" in post_text
    assert f"facebook COMMENT on post {post.provider_id}" in comment_text
    assert "Post's first line now reads: MONITORING: phones down" in comment_text
    assert comment_text.endswith("Update 1: phones back soon.\n")


async def test_outbox_retry_rewrites_the_same_file_with_the_same_id(tmp_path: Path) -> None:
    """Sending a message twice leaves one file, no temporary files, and one provider id."""
    channel = channel_at(tmp_path, SMS_OUTBOX)
    message = outgoing(ChannelKind.SMS, "+447700900001")
    first = await channel.send(message)
    again = await channel.send(message)
    assert first == again
    assert [p.name for p in files_under(tmp_path)] == ["00-sms-+447700900001.txt"]


async def test_outbox_reconcile_finds_only_written_messages(tmp_path: Path) -> None:
    """Reconcile reports Delivered with the same id once the file exists, NotFound before."""
    channel = channel_at(tmp_path, SMS_OUTBOX)
    message = outgoing(ChannelKind.SMS, "+447700900001")
    assert await channel.reconcile(message) == NotFound()
    sent = await channel.send(message)
    assert await channel.reconcile(message) == sent


async def test_outbox_names_cannot_escape_the_root(tmp_path: Path) -> None:
    """Path separators and ".." in a practice code or recipient stay inside the outbox root."""
    root = tmp_path / "outbox"
    channel = channel_at(root, SMS_OUTBOX)
    await channel.send(outgoing(ChannelKind.SMS, "../../x", practice="../../etc"))
    written = files_under(tmp_path)
    assert len(written) == 1
    assert written[0].is_relative_to(root)


async def test_outbox_writes_files_off_the_event_loop(tmp_path: Path, blockbuster: BlockBuster) -> None:
    """File I/O runs in a worker thread: the blockbuster guard stays quiet."""
    result = await channel_at(tmp_path, EMAIL_OUTBOX).send(outgoing(ChannelKind.EMAIL, MAILBOX))
    assert isinstance(result, Delivered)
