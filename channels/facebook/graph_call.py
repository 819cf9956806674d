"""One message's Graph API requests: token placement, classification, scrubbing and logging."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TypeVar

import aiohttp
import structlog
from pydantic import BaseModel, ValidationError

from broadcaster.config.log_setup import REDACTED
from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.outcomes import Failed, Retry
from channels.facebook.errors import (
    classify_graph_error,
    classify_unreadable_reply,
    parse_graph_error,
    throttle_hint_seconds,
)

_log = structlog.get_logger("channels.facebook.page_channel")
_Reply = TypeVar("_Reply", bound=BaseModel)


class Created(BaseModel):
    id: str


class Edited(BaseModel):
    success: bool


class Entry(BaseModel):
    id: str
    message: str = ""  # Graph omits the field for posts without text


class Listing(BaseModel):
    data: list[Entry]


class GraphCall:
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

    async def get(self, what: str, path: str, query: Mapping[str, str]) -> Listing | Retry | Failed:
        auth = {"Authorization": f"Bearer {self._token}"}
        return await self._request(what, "GET", path, Listing, params=query, headers=auth)

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
