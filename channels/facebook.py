"""Facebook Page channel: a page post opens the thread; updates edit its status line and comment."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import quote

import aiohttp
import structlog
from pydantic import BaseModel, ValidationError

from broadcaster.channel_contract import OutgoingMessage
from broadcaster.errors import ConfigError
from broadcaster.log_setup import REDACTED
from broadcaster.outcomes import Delivered, Failed, NotFound, ReconcileResult, Retry, SendResult
from broadcaster.secret_refs import SecretLookup
from broadcaster.settings import GraphSettings
from channels.facebook_errors import (
    classify_graph_error,
    classify_unreadable_reply,
    parse_graph_error,
    throttle_hint_seconds,
)

_log = structlog.get_logger(__name__)
_Reply = TypeVar("_Reply", bound=BaseModel)


class _Created(BaseModel):
    id: str


class _Edited(BaseModel):
    success: bool


class _Entry(BaseModel):
    id: str
    message: str = ""  # Graph omits the field for posts without text


class _Listing(BaseModel):
    data: list[_Entry]


def marker_in_text(marker: str, text: str) -> bool:
    """True when `marker` stands alone: "Ref INC-4" is in neither "Ref INC-42" nor "Ref INC-4.2"."""
    return re.search(rf"(?<![\w.-]){re.escape(marker)}(?![\w]|[.-]\w)", text) is not None


def edited_post_text(headline: str, root_body: str) -> str:
    """The opening post with its first line (the status) replaced by the current headline."""
    _status_line, _newline, rest = root_body.partition("\n")
    return f"{headline}\n{rest}" if rest else headline


class FacebookPageChannel:
    """Posts as a Facebook Page through the Graph API; the page token comes from SecretLookup."""

    route = "facebook/graph"

    def __init__(
        self, *, settings: GraphSettings, session: aiohttp.ClientSession, secrets: SecretLookup
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
            created = await call.post("create post", path, message.text, _Created)
            return _delivered(created, "facebook_post_created", call)
        return await self._update_thread(message, call)

    async def _update_thread(self, message: OutgoingMessage, call: _GraphCall) -> SendResult:
        root_id = message.thread.root_id or ""
        headline, root_body = message.content.headline, message.thread.root_body
        if headline is not None and root_body is not None:
            text = edited_post_text(headline, root_body)
            # An edit is idempotent, so a failed one is a plain retry and no comment goes out yet.
            edited = await call.post("edit post", _seg(root_id), text, _Edited, creates=False)
            if isinstance(edited, Retry | Failed):
                return edited
            if not edited.success:
                return Retry(reason="edit post: graph did not apply the edit")
            call.log.info("facebook_post_edited", post_id=root_id)
        path = f"{_seg(root_id)}/comments"
        created = await call.post("comment", path, message.text, _Created)
        return _delivered(created, "facebook_comment_created", call)

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
                return Delivered(provider_id=entry.id)
        call.log.info("facebook_reconciled", found=False, searched=len(listing.data))
        return NotFound()

    async def close(self) -> None:
        """Nothing to release: the session belongs to the caller."""

    def _call_for(self, message: OutgoingMessage) -> _GraphCall | Failed:
        if not message.credential_ref:
            return Failed(reason="needs attention: no page token configured", needs_attention=True)
        try:
            token = self._secrets(message.credential_ref)
        except ConfigError as exc:
            return Failed(reason=f"needs attention: {exc}", needs_attention=True)
        # Built per call, never at import, so settings (and tests) decide where requests go.
        base = f"{self._settings.base_url.rstrip('/')}/{self._settings.api_version}"
        return _GraphCall(self._session, base, self._timeout, message, token)


def _delivered(outcome: _Created | Retry | Failed, event: str, call: _GraphCall) -> SendResult:
    if isinstance(outcome, _Created):
        call.log.info(event, provider_id=outcome.id)
        return Delivered(provider_id=outcome.id)
    return outcome


def _seg(graph_id: str) -> str:
    return quote(graph_id, safe="")


class _GraphCall:
    """One message's Graph requests: token placement, classification, scrubbing, logging."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: str,
        timeout: aiohttp.ClientTimeout,
        message: OutgoingMessage,
        token: str,
    ) -> None:
        self._session, self._base, self._timeout = session, base, timeout
        self._page_id, self._token = message.recipient, token
        self.log = _log.bind(
            delivery=message.delivery_id,
            incident=message.incident_ref,
            update=message.update_seq,
            practice=message.practice,
            channel="facebook",
            attempt=message.attempt,
        )

    async def post(
        self, what: str, path: str, text: str, reply: type[_Reply], *, creates: bool = True
    ) -> _Reply | Retry | Failed:
        # The token travels in the form body, never in a URL that a proxy or log could keep.
        form = {"message": text, "access_token": self._token}
        return await self._request(what, "POST", path, reply, creates=creates, data=form)

    async def get(self, what: str, path: str, query: Mapping[str, str]) -> _Listing | Retry | Failed:
        auth = {"Authorization": f"Bearer {self._token}"}
        return await self._request(what, "GET", path, _Listing, params=query, headers=auth)

    async def _request(
        self,
        what: str,
        method: str,
        path: str,
        reply: type[_Reply],
        *,
        creates: bool = False,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Reply | Retry | Failed:
        url = f"{self._base}/{path}"
        try:
            async with self._session.request(
                method, url, data=data, params=params, headers=headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                status, response_headers = response.status, response.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            # Refused before connecting: the request never left, so nothing can have landed.
            sent = not isinstance(exc, aiohttp.ClientConnectorError)
            reason = f"{what}: no answer from graph ({type(exc).__name__})"
            return self._failed(Retry(reason=reason, ambiguous=creates and sent))
        if status == 200:
            try:
                return reply.model_validate_json(raw)
            except ValidationError:
                return self._failed(Retry(reason=f"{what}: unreadable reply", ambiguous=creates))
        return self._classify(what, status, response_headers, raw, creates=creates)

    def _classify(
        self, what: str, status: int, headers: Mapping[str, str], raw: bytes, *, creates: bool
    ) -> Retry | Failed:
        hint = throttle_hint_seconds(headers, object_id=self._page_id)
        error = parse_graph_error(raw)
        if error is None:
            outcome = classify_unreadable_reply(status, creates=creates, hint=hint)
            return self._failed(outcome, what=what, http_status=status)
        outcome = classify_graph_error(error, creates=creates, hint=hint)
        trace = {"code": error.code, "subcode": error.error_subcode, "fbtrace_id": error.fbtrace_id}
        return self._failed(outcome, what=what, **trace)

    def _failed(self, outcome: Retry | Failed, what: str = "", **fields: object) -> Retry | Failed:
        # Meta's error text is echoed into reasons; never let it carry the token back out.
        reason = f"{what}: {outcome.reason}" if what else outcome.reason
        outcome = dataclasses.replace(outcome, reason=reason.replace(self._token, REDACTED))
        self.log.warning("facebook_error", reason=outcome.reason, outcome=type(outcome).__name__, **fields)
        return outcome
