"""Facebook Page channel: a page post opens the thread; updates comment, then edit its status line."""

from __future__ import annotations

import re
from urllib.parse import quote

import aiohttp

from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.errors import ConfigError
from broadcaster.core.outcomes import Delivered, Failed, NotFound, ReconcileResult, Retry, SendResult
from broadcaster.core.provider_spec import SecretSource
from channels.facebook.graph_call import Created, Edited, GraphCall
from channels.facebook.spec import FACEBOOK_GRAPH, GraphSettings


def marker_in_text(marker: str, text: str) -> bool:
    """True when `marker` stands alone: "Ref INC-4" is in neither "Ref INC-42" nor "Ref INC-4.2"."""
    return re.search(rf"(?<![\w.-]){re.escape(marker)}(?![\w]|[.-]\w)", text) is not None


def edited_post_text(headline: str, root_body: str) -> str:
    """The opening post with its first line (the status) replaced by the current headline."""
    _status_line, _newline, rest = root_body.partition("\n")
    return f"{headline}\n{rest}" if rest else headline


class FacebookPageChannel:
    """Posts as a Facebook Page through the Graph API; the page token is a named secret."""

    route = FACEBOOK_GRAPH

    def __init__(
        self, *, settings: GraphSettings, session: aiohttp.ClientSession, secrets: SecretSource
    ) -> None:
        self._settings = settings
        self._session = session
        self._secrets = secrets
        self._timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)

    async def send(self, message: OutgoingMessage) -> SendResult:
        call = self._call_for(message)
        if isinstance(call, Failed):
            return call
        if message.opens_thread:
            path = f"{_seg(message.recipient)}/feed"
            created = await call.post("create post", path, message.text, Created)
            return _delivered(created, "facebook_post_created", call)
        return await self._update_thread(message, call)

    async def _update_thread(self, message: OutgoingMessage, call: GraphCall) -> SendResult:
        # The comment (the news itself) goes first; the status line is edited after it, so a
        # failed edit never holds the update back.
        path = f"{_seg(message.thread.root_id or '')}/comments"
        created = await call.post("comment", path, message.text, Created)
        if not isinstance(created, Created):
            return created
        call.log.debug("facebook_comment_created", provider_id=created.id)
        return await self._show_status(message, call, comment_id=created.id)

    async def _show_status(
        self, message: OutgoingMessage, call: GraphCall, *, comment_id: str
    ) -> Delivered | Retry:
        """Edit the post's first line to this update's status, once its comment is on the page.

        If the edit fails for now, the retry is marked as possibly sent: the next attempt finds
        the comment by its marker (see reconcile) and only edits, so nothing is commented twice.
        """
        root_id, headline, root_body = (
            message.thread.root_id,
            message.content.headline,
            message.thread.root_body,
        )
        if root_id is None or headline is None or root_body is None:
            return Delivered(provider_id=comment_id)
        text = edited_post_text(headline, root_body)
        edited = await call.post("edit post", _seg(root_id), text, Edited, creates=False)
        if isinstance(edited, Failed):
            # The update reached the page; a post that can no longer be edited does not undo that.
            call.log.warning("facebook_status_line_not_edited", post_id=root_id, reason=edited.reason)
            return Delivered(provider_id=comment_id)
        if isinstance(edited, Retry):
            return Retry(
                f"comment posted, status line not yet: {edited.reason}", edited.after, ambiguous=True
            )
        if not edited.success:
            return Retry("comment posted, status line not yet: graph did not apply the edit", ambiguous=True)
        call.log.debug("facebook_post_edited", post_id=root_id)
        return Delivered(provider_id=comment_id)

    async def reconcile(self, message: OutgoingMessage) -> ReconcileResult:
        """Whether an earlier ambiguous attempt landed, judged by its marker in the newest items."""
        call = self._call_for(message)
        if isinstance(call, Failed):
            return Retry(reason=call.reason)
        limit = str(self._settings.reconcile_feed_limit)
        if message.opens_thread:
            path = f"{_seg(message.recipient)}/feed"
            query = {"fields": "id,message,created_time", "limit": limit}
        else:
            path = f"{_seg(message.thread.root_id or '')}/comments"
            query = {"fields": "id,message", "order": "reverse_chronological", "limit": limit}
        what = "read feed" if message.opens_thread else "read comments"
        listing = await call.get(what, path, query)
        if isinstance(listing, Retry | Failed):
            after = listing.after if isinstance(listing, Retry) else None
            return Retry(reason=f"cannot tell yet: {listing.reason}", after=after)
        for entry in listing.data:
            if marker_in_text(message.marker, entry.message):
                call.log.info("facebook_reconciled", found=True, provider_id=entry.id)
                if message.opens_thread:
                    return Delivered(provider_id=entry.id)
                return await self._show_status(message, call, comment_id=entry.id)
        call.log.info("facebook_reconciled", found=False, searched=len(listing.data))
        return NotFound()

    async def close(self) -> None:
        """Nothing to release: the session belongs to the caller."""

    def _call_for(self, message: OutgoingMessage) -> GraphCall | Failed:
        if not message.credential_ref:
            return Failed(reason="needs attention: no page token configured", needs_attention=True)
        try:
            token = self._secrets(message.credential_ref)
        except ConfigError as exc:
            return Failed(reason=f"needs attention: {exc}", needs_attention=True)
        # Built per call, never at import, so settings (and tests) decide where requests go.
        base = f"{self._settings.base_url.rstrip('/')}/{self._settings.api_version}"
        return GraphCall(self._session, base, self._timeout, message, token)


def _delivered(outcome: Created | Retry | Failed, event: str, call: GraphCall) -> SendResult:
    if isinstance(outcome, Created):
        call.log.debug(event, provider_id=outcome.id)
        return Delivered(provider_id=outcome.id)
    return outcome


def _seg(graph_id: str) -> str:
    return quote(graph_id, safe="")
