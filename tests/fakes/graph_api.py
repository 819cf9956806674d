"""A local Facebook Graph API for Pages: the channel's endpoints, Meta's error bodies, faults.

Test: `await aiohttp_server(fake.app())`. Own process: `python -m tests.fakes.graph_api --port N
--page ID=TOKEN --latency 0.1 --transient-rate 0.1`. Shapes follow developers.facebook.com/docs/
pages-api/posts and .../comments-mentions; the token is read from the form, the query or an
`Authorization: Bearer|OAuth` header, as Graph does; a wrong or absent one gets code 190.
`GET /{version}/debug_token?input_token=...` answers what `token_info` says of a page token
(developers.facebook.com/docs/graph-api/reference/debug_token), asked by `app_token` or any
page token the fake knows.
Each write asks `plan.next_fault(key)`, key "feed:{page}", "comment:{post}" or "edit:{post}".
Throttle replies carry `X-Business-Use-Case-Usage` whose `estimated_time_to_regain_access` is
`plan.throttle_hint_seconds / 60`: Meta sends whole minutes, this fake a fractional minute, so
tests can ask for a one-second wait.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

from tests.fakes.bench_records import AcceptedMessage, run_app_until_stopped, write_records
from tests.fakes.faults import Fault, FaultPlan

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Act = Callable[[], dict[str, Any]]  # performs one write, returns Graph's reply body


@dataclass(frozen=True)
class GraphErrorReply:
    """A Graph error as Meta sends it: HTTP 400 and an error object, unless said otherwise."""

    code: int
    message: str
    type: str = "OAuthException"
    subcode: int | None = None
    status: int = 400
    is_transient: bool | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class PageItem:
    """A page post, or a comment on one (then `page_id` is empty and `comments` unused)."""

    id: str
    message: str
    page_id: str = ""
    created_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    comments: list[PageItem] = field(default_factory=list)


@dataclass(frozen=True)
class GraphWrite:
    """One accepted write, in arrival order: what a test asserts on."""

    kind: Literal["post", "edit", "comment"]
    target: str  # the page id for a post, the post id for an edit or a comment
    object_id: str  # the post or comment written
    message: str
    at: float  # time.time() when it took effect


# Meta's wording for each scripted fault (Graph error-handling guide; subcode 463 = expired).
FAULT_REPLIES = {
    Fault.TRANSIENT: GraphErrorReply(2, "An unexpected error has occurred. Please retry your "
                                     "request later.", status=500, is_transient=True),
    Fault.ACT_THEN_ERROR: GraphErrorReply(1, "An unknown error occurred", status=500),
    Fault.TOKEN_EXPIRED: GraphErrorReply(190, "Error validating access token: Session has "
                                         "expired.", subcode=463),
    Fault.PERMISSION: GraphErrorReply(200, "(#200) The user hasn't authorized the application "
                                      "to perform this action"),
}  # fmt: skip
THROTTLE_MESSAGES = {
    32: "(#32) Page request limit reached",
    80001: "There have been too many calls to this Page account. Wait a bit and try again.",
}
BAD_TOKEN = GraphErrorReply(190, "Invalid OAuth access token - Cannot parse access token")
NO_SUCH_OBJECT = GraphErrorReply(100, "Unsupported post request. Object does not exist, cannot "
                                 "be loaded due to missing permissions, or does not support this "
                                 "operation", type="GraphMethodException", subcode=33)  # fmt: skip
# What a page token from "Get Page Access Token" carries (developers.facebook.com/docs/pages-api).
PAGE_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "pages_manage_engagement")
# Meta's words for a token that is no longer valid, by subcode (access token guide).
TOKEN_INVALID_MESSAGES = {
    458: "Error validating access token: The user has not authorized application 100000000000001.",
    460: "Error validating access token: The session has been invalidated because the user changed "
         "their password.",
    463: "Error validating access token: Session has expired.",
}  # fmt: skip


@dataclass
class TokenInfo:
    """What debug_token says of one token: valid, its expiry (0: never), scopes and type."""

    is_valid: bool = True
    expires_at: int = 0
    scopes: tuple[str, ...] = PAGE_SCOPES
    type: str = "PAGE"
    subcode: int | None = None  # why it is not valid: 458 app removed, 460, 463 expired

    def to_json(self, app_id: str, page_id: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "app_id": app_id, "type": self.type, "application": "Practice broadcaster",
            "data_access_expires_at": self.expires_at, "expires_at": self.expires_at,
            "is_valid": self.is_valid, "scopes": list(self.scopes), "user_id": "100000000000009",
        }  # fmt: skip
        if page_id is not None:
            data["profile_id"] = page_id
        if not self.is_valid:
            code = self.subcode or 463
            data["error"] = {"code": 190, "message": TOKEN_INVALID_MESSAGES.get(code, "Invalid token"),
                             "subcode": code}  # fmt: skip
        return data


LOW_USAGE = {"call_count": 1, "total_cputime": 1, "total_time": 1}  # percentages of app quota


@dataclass(kw_only=True)
class GraphFake:
    """Pages, their posts and comments, and a scripted-fault Graph API in front of them."""

    version: str = "v26.0"
    plan: FaultPlan = field(default_factory=FaultPlan)
    throttle_code: Literal[32, 80001] = 80001
    hang_seconds: float = 2.0  # act-then-timeout: how long the written request is held
    latency_seconds: float = 0.0
    jitter_seconds: float = 0.0
    any_page_token: str | None = None  # benchmarks: every page id accepts this one token
    seed: int = 0
    app_usage: dict[str, int] = field(default_factory=lambda: dict(LOW_USAGE))  # X-App-Usage
    tokens: dict[str, str] = field(default_factory=dict)
    token_info: dict[str, TokenInfo] = field(default_factory=dict)  # by token; default: valid
    app_token: str | None = None  # may ask debug_token about any token
    app_id: str = "100000000000001"
    posts: dict[str, PageItem] = field(default_factory=dict)
    writes: list[GraphWrite] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # "METHOD /path?query", as received
    arrivals: list[float] = field(default_factory=list)  # time.time() as each request arrived
    # Tests: writes after this many are made but their replies wait for `replies_released`,
    # so a client can be caught for certain with requests the provider acted on but never answered.
    answer_only_first_writes: int | None = None
    replies_released: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._errors: dict[str, deque[GraphErrorReply]] = defaultdict(deque)
        self._ids = itertools.count(100001)
        self._random = random.Random(self.seed)

    def add_page(self, page_id: str, token: str) -> None:
        self.tokens[page_id] = token

    def reply_with_error(self, key: str, *errors: GraphErrorReply) -> None:
        """The next writes about `key` get these Graph errors, before the fault plan is asked."""
        self._errors[key].extend(errors)

    def posts_on(self, page_id: str) -> list[PageItem]:
        return [p for p in self.posts.values() if p.page_id == page_id]

    def write_records(self, path: Path) -> None:
        """Dump every accepted write and request arrival for a benchmark (bench_records)."""
        accepted = (AcceptedMessage(w.at, w.kind, w.target, w.object_id, w.message)
                    for w in self.writes)  # fmt: skip
        write_records(path, accepted=accepted, arrivals=self.arrivals, injected=self.plan.injected)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._around])
        app.router.add_get("/{version}/debug_token", self._debug_token)
        app.router.add_post("/{version}/{node}/feed", self._create_post)
        app.router.add_get("/{version}/{node}/feed", self._list_feed)
        app.router.add_post("/{version}/{node}/comments", self._create_comment)
        app.router.add_get("/{version}/{node}/comments", self._list_comments)
        app.router.add_post("/{version}/{node}", self._edit_post)
        return app

    @web.middleware
    async def _around(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path_qs}")
        self.arrivals.append(time.time())
        delay = self.latency_seconds + self._random.uniform(0.0, self.jitter_seconds)
        if delay:
            await asyncio.sleep(delay)
        if request.match_info.get("version") != self.version:
            # The fake's own wording: Meta's reply to an unknown version is not documented.
            unknown = f"Unknown API version; this server speaks {self.version}"
            response: web.StreamResponse = self._error(GraphErrorReply(100, unknown))
        else:
            response = await handler(request)
        response.headers["X-App-Usage"] = json.dumps(self.app_usage)
        return response

    async def _debug_token(self, request: web.Request) -> web.StreamResponse:
        asking = await _token_of(request)
        if asking is None or (asking != self.app_token and asking not in self.tokens.values()):
            return self._error(BAD_TOKEN)
        token = request.query.get("input_token", "")
        page_id = next((page for page, known in self.tokens.items() if known == token), None)
        if page_id is None:
            unknown = TokenInfo(is_valid=False, subcode=467, scopes=())
            return web.json_response({"data": unknown.to_json(self.app_id, None)})
        info = self.token_info.get(token, TokenInfo())
        return web.json_response({"data": info.to_json(self.app_id, page_id)})

    async def _create_post(self, request: web.Request) -> web.StreamResponse:
        page_id = request.match_info["node"]
        if not await self._authorised(request, page_id):
            return self._error(BAD_TOKEN)
        text = await _form_message(request)
        return await self._write(f"feed:{page_id}", page_id, lambda: self._add_post(page_id, text))

    def _add_post(self, page_id: str, text: str) -> dict[str, Any]:
        post = PageItem(f"{page_id}_{next(self._ids)}", text, page_id=page_id)
        self.posts[post.id] = post
        self.writes.append(GraphWrite("post", page_id, post.id, text, time.time()))
        return {"id": post.id}

    async def _edit_post(self, request: web.Request) -> web.StreamResponse:
        return await self._write_on_post(request, "edit", self._apply_edit)

    async def _create_comment(self, request: web.Request) -> web.StreamResponse:
        return await self._write_on_post(request, "comment", self._add_comment)

    def _apply_edit(self, post: PageItem, text: str) -> dict[str, Any]:
        post.message = text
        self.writes.append(GraphWrite("edit", post.id, post.id, text, time.time()))
        return {"success": True}

    def _add_comment(self, post: PageItem, text: str) -> dict[str, Any]:
        comment = PageItem(f"{post.id.rpartition('_')[2]}_{next(self._ids)}", text)
        post.comments.append(comment)
        self.writes.append(GraphWrite("comment", post.id, comment.id, text, time.time()))
        return {"id": comment.id}

    async def _list_feed(self, request: web.Request) -> web.StreamResponse:
        page_id = request.match_info["node"]
        if not await self._authorised(request, page_id):
            return self._error(BAD_TOKEN)
        return _listing(request, self.posts_on(page_id)[::-1])  # newest first, as Graph lists

    async def _list_comments(self, request: web.Request) -> web.StreamResponse:
        post = await self._post_for(request)
        if not isinstance(post, PageItem):
            return post
        newest_first = request.query.get("order") == "reverse_chronological"
        return _listing(request, post.comments[::-1] if newest_first else post.comments)

    async def _write_on_post(
        self, request: web.Request, kind: str, act: Callable[[PageItem, str], dict[str, Any]]
    ) -> web.StreamResponse:
        post = await self._post_for(request)
        if not isinstance(post, PageItem):
            return post
        text = await _form_message(request)
        return await self._write(f"{kind}:{post.id}", post.page_id, lambda: act(post, text))

    async def _write(self, key: str, page_id: str, act: Act) -> web.StreamResponse:
        if self._errors.get(key):
            return self._error(self._errors[key].popleft())
        fault = self.plan.next_fault(key)
        if fault is Fault.THROTTLE:
            return self._error(self._throttle_reply(page_id))
        if fault in FAULT_REPLIES and fault is not Fault.ACT_THEN_ERROR:
            return self._error(FAULT_REPLIES[fault])
        body = act()
        if self.answer_only_first_writes is not None and len(self.writes) > self.answer_only_first_writes:
            await self.replies_released.wait()
        if fault is Fault.ACT_THEN_TIMEOUT:
            await asyncio.sleep(self.hang_seconds)  # written already; the client has given up
        if fault is Fault.ACT_THEN_ERROR:
            return self._error(FAULT_REPLIES[fault])
        return web.json_response(body)

    def _throttle_reply(self, page_id: str) -> GraphErrorReply:
        minutes = self.plan.throttle_hint_seconds / 60.0  # fractional: see the module docstring
        usage = {"type": "pages", "call_count": 100, "estimated_time_to_regain_access": minutes}
        header = {"X-Business-Use-Case-Usage": json.dumps({page_id: [usage]})}
        code = self.throttle_code
        return GraphErrorReply(code, THROTTLE_MESSAGES[code], headers=header)

    async def _post_for(self, request: web.Request) -> PageItem | web.Response:
        post = self.posts.get(request.match_info["node"])
        if post is None:
            return self._error(NO_SUCH_OBJECT)
        if not await self._authorised(request, post.page_id):
            return self._error(BAD_TOKEN)
        return post

    async def _authorised(self, request: web.Request, page_id: str) -> bool:
        expected = self.tokens.get(page_id, self.any_page_token)
        return expected is not None and await _token_of(request) == expected

    def _error(self, reply: GraphErrorReply) -> web.Response:
        trace = self._random.randbytes(6).hex()
        error = {"message": reply.message, "type": reply.type, "code": reply.code,
                 "error_subcode": reply.subcode, "is_transient": reply.is_transient,
                 "fbtrace_id": trace}  # fmt: skip
        body = {"error": {k: v for k, v in error.items() if v is not None}}
        return web.json_response(body, status=reply.status, headers=reply.headers)


async def _token_of(request: web.Request) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and credentials:
        return credentials.strip()
    form_token = (await request.post()).get("access_token")
    return form_token if isinstance(form_token, str) else request.query.get("access_token")


async def _form_message(request: web.Request) -> str:
    value = (await request.post()).get("message", "")
    return value if isinstance(value, str) else ""


def _listing(request: web.Request, items: list[PageItem]) -> web.Response:
    fields = set(request.query.get("fields", "id,message,created_time").split(","))
    limit = min(int(request.query.get("limit", "25")), 100)  # Graph caps a page of results at 100
    data: list[dict[str, str]] = []
    for item in items[:limit]:
        when = item.created_time.strftime("%Y-%m-%dT%H:%M:%S+0000")  # Graph's timestamp format
        entry = {"id": item.id, "message": item.message, "created_time": when}
        data.append({k: v for k, v in entry.items() if k == "id" or k in fields})
    body: dict[str, Any] = {"data": data}
    if data:
        body["paging"] = {"cursors": {"before": data[0]["id"], "after": data[-1]["id"]}}
    return web.json_response(body)


def main(argv: list[str] | None = None) -> None:
    """Run the fake in its own process, so a benchmark measures the client, not the fake."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.graph_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--version", default="v26.0")
    parser.add_argument("--page", action="append", default=[], metavar="PAGE_ID=TOKEN")
    parser.add_argument("--any-page-token", help="accept every page id with this token")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--jitter", type=float, default=0.0, help="extra random 0..N seconds")
    parser.add_argument("--transient-rate", type=float, default=0.0)
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--throttle-hint", type=float, default=1.0, help="seconds")
    parser.add_argument("--hang", type=float, default=2.0, help="act-then-timeout delay, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dump", type=Path, help="on exit, write what was received here (JSON)")
    args = parser.parse_args(argv)
    rates = {"transient_rate": args.transient_rate, "throttle_rate": args.throttle_rate}
    plan = FaultPlan(**rates, throttle_hint_seconds=args.throttle_hint, seed=args.seed)
    fake = GraphFake(
        version=args.version, plan=plan, hang_seconds=args.hang, latency_seconds=args.latency,
        jitter_seconds=args.jitter, any_page_token=args.any_page_token, seed=args.seed,
        tokens=dict(spec.split("=", 1) for spec in args.page),
    )  # fmt: skip
    run_app_until_stopped(
        fake.app(), host=args.host, port=args.port, dump=args.dump, write=fake.write_records
    )


if __name__ == "__main__":
    main()
