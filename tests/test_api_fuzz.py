"""Random bodies, refs and headers at every API route of a running app: never a 5xx, never a server path.

The app runs on its own event loop in a thread (a real SQLite store in a temporary directory, a
dispatcher delivering to an outbox folder), so hypothesis can drive it with plain blocking
requests; http.client sends header bytes exactly as drawn, which aiohttp's client would refuse.
Derandomised, so a run is repeatable and a figure before and after a change compares like with like.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from broadcaster.config.settings import Settings
from broadcaster.config.shipped_files import example_directory_path
from broadcaster.delivery.runtime import running_dispatcher
from broadcaster.directory.practices import load_directory
from broadcaster.store.engine import create_engine, migrate
from broadcaster.web.api import make_app
from broadcaster.web.auth import FailedTokenLimiter

TOKEN = "fuzz-token-S3CRET"
EXAMPLES = 2000


@dataclass(frozen=True, slots=True)
class LiveApi:
    port: int
    routes: list[tuple[str, str]]  # (method, path template), read from the app's own router
    server_paths: list[str]  # none of these may appear in any reply


@contextlib.asynccontextmanager
async def _serving(tmp: Path) -> Any:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp / 'broadcaster.db'}")
    await migrate(engine)
    directory = load_directory(example_directory_path())
    settings = Settings(outbox_dir=tmp / "outbox", api_token=SecretStr(TOKEN))
    routes = {e.route for p in directory.practices for e in directory.endpoints(p)}
    server: TestServer | None = None
    try:
        async with running_dispatcher(engine, settings, routes) as dispatcher:
            # Wrong tokens are part of the fuzz; throttling them would hide the routes behind 429s.
            limiter = FailedTokenLimiter(limit=10**9)
            app = make_app(
                engine=engine,
                settings=settings,
                directory=directory,
                dispatcher=dispatcher,
                failed_tokens=limiter,
            )
            server = TestServer(app)
            await server.start_server()
            found = sorted(
                {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource is not None}
                # The live grid is a stream that stays open while deliveries are in flight;
                # tests/test_console_api.py sends it bad refs and a practice it may not see.
                - {("GET", "/incidents/{ref}/events"), ("HEAD", "/incidents/{ref}/events")}
            )
            assert server.port is not None
            yield LiveApi(
                port=server.port,
                routes=found,
                server_paths=[str(directory.path.parent), str(tmp)],
            )
    finally:
        if server is not None:
            await server.close()
        await engine.dispose()


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """The app served from a background event loop for the whole module."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="api-under-fuzz", daemon=True)
    thread.start()
    serving = _serving(tmp_path_factory.mktemp("fuzz"))
    try:
        yield asyncio.run_coroutine_threadsafe(serving.__aenter__(), loop).result(timeout=30)
    finally:
        asyncio.run_coroutine_threadsafe(serving.__aexit__(None, None, None), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


# --- what is thrown at it ----------------------------------------------------------------


def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` three times in four: most requests should get past the token to the route itself."""
    return st.integers(min_value=0, max_value=3).flatmap(lambda n: other if n == 0 else usual)


TRICKY_TEXT = [
    "",
    " ",
    "{",
    "}",
    "{0}",
    "{alt_phone!r}",
    "{__class__}",
    "{{literal}}",
    "\x00",
    "Phones down\r\nBcc: attacker@evil.example",
    "943 476 5919",
    "943\u200b476\u200b5919",
    "\N{SLIGHTLY SMILING FACE}" * 3,
    "x" * 5000,
]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(TRICKY_TEXT)
    | st.sampled_from(
        ["all", "sms", "email", "facebook", "apprise", "resolved", "major", "X99002", "north-pcn"]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
VALID_BODIES: list[dict[str, Any]] = [
    {"title": "Phones down", "message": "Call {alt_phone}.", "audience": {"ods": ["X99002"]}},
    {"title": "Phones down", "message": "Lines are back.", "audience": {"all": True}, "channels": ["sms"]},
    {"status": "monitoring", "message": "Still on it.", "sms": False},
    {"status": "resolved", "message": "Fixed."},
]
FIELDS = [
    "title",
    "message",
    "severity",
    "audience",
    "channels",
    "sms",
    "status",
    "all",
    "groups",
    "ods",
    "x",
]


@st.composite
def mutated_bodies(draw: st.DrawFn) -> bytes:
    """A valid body with a field replaced by, or added as, any JSON value (also inside the audience)."""
    body = json.loads(json.dumps(draw(st.sampled_from(VALID_BODIES))))
    target = body["audience"] if "audience" in body and draw(st.booleans()) else body
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        target[draw(st.sampled_from(FIELDS))] = draw(json_values)
    return json.dumps(body).encode()


@st.composite
def valid_bodies_saying_anything(draw: st.DrawFn) -> bytes:
    """A valid body whose title, message or audience codes are any text: reaches the content checks."""
    body = json.loads(json.dumps(draw(st.sampled_from(VALID_BODIES))))
    text = st.text(max_size=300) | st.sampled_from(TRICKY_TEXT)
    for name in draw(
        st.lists(st.sampled_from(["title", "message", "ods", "groups"]), min_size=1, unique=True)
    ):
        if name in {"ods", "groups"} and "audience" in body:
            body["audience"] = {name: draw(st.lists(text, min_size=1, max_size=3))}
        elif name in body:
            body[name] = draw(text)
    return json.dumps(body).encode()


bodies = mostly(
    st.sampled_from(VALID_BODIES).map(lambda b: json.dumps(b).encode())
    | mutated_bodies()
    | valid_bodies_saying_anything(),
    st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
        st.integers(min_value=1, max_value=3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    ),
)
refs = st.one_of(
    st.just("INC-1"),  # opened by the first valid POST: updates to it reach the service
    st.just("INC-1"),
    st.sampled_from(
        [
            *("INC-1", "1", "inc-1", " INC-1 ", "INC-0", "INC--1", "INC-1.5", "INC-1e3", "INC-²", "INC-①"),
            *("INC-٣", "INC-99999999999999999999", "INC-9223372036854775807", "INC-9223372036854775808"),
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(lambda n: f"INC-{n}"),
    st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=25).map(lambda s: f"INC-{s}"),
    st.text(st.characters(codec="utf-8"), max_size=40),
)
# Any bytes a client can put in a header value: http.client refuses a bare CR or LF, as servers must.
raw_header_bytes = st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
# Mostly values aiohttp's parser lets through to the app, sometimes bytes it may refuse itself (400).
header_bytes = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(str.encode),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(str.encode),
    raw_header_bytes,
)
wrong_authorizations = st.one_of(
    st.none(),
    header_bytes,
    header_bytes.map(lambda b: b"Bearer " + b),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30).map(
        lambda t: f"Bearer {t}".encode()
    ),
)
right_authorizations = st.sampled_from([f"Bearer {TOKEN}".encode(), f"bearer  {TOKEN} ".encode()])


authorizations = mostly(right_authorizations, wrong_authorizations)
headers = st.fixed_dictionaries(
    {},
    optional={
        "X-Actor": header_bytes,
        "Content-Type": st.sampled_from(
            [b"application/json", b"text/plain", b"application/json; charset=latin-1"]
        )
        | header_bytes,
        "Accept": header_bytes,
    },
)


@dataclass(frozen=True, slots=True)
class Reply:
    method: str
    path: str
    status: int
    body: bytes


def _send(api: LiveApi, method: str, path: str, head: dict[str, bytes], body: bytes) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in head.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Reply(method, path, response.status, response.read())
    finally:
        connection.close()


def test_no_route_answers_a_server_error_to_random_input(live_api: LiveApi) -> None:
    """2,000 random requests over every route (bodies, refs, headers): no 5xx, no path on the server."""
    failures: list[Reply] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        # Writes do the most with what they are given: drawn three times as often as reads.
        route=st.sampled_from([r for r in live_api.routes for _ in range(3 if r[0] == "POST" else 1)]),
        ref=refs,
        authorization=authorizations,
        head=headers,
        body=bodies,
    )
    def one_request(
        route: tuple[str, str], ref: str, authorization: bytes | None, head: dict[str, bytes], body: bytes
    ) -> None:
        method, template = route
        path = template.replace("{ref}", quote(ref, safe=""))
        sent = dict(head) if authorization is None else {**head, "Authorization": authorization}
        reply = _send(live_api, method, path, sent, body if method == "POST" else b"")
        if reply.status >= 500 or any(p.encode() in reply.body for p in live_api.server_paths):
            failures.append(reply)

    one_request()
    errors = sum(f.status >= 500 for f in failures)
    shown = "\n".join(f"  {f.method} {f.path} -> {f.status} {f.body[:160]!r}" for f in failures[:20])
    assert not failures, (
        f"of {EXAMPLES} requests, {errors} answered 5xx and {len(failures) - errors} "
        f"showed a path on the server:\n{shown}"
    )
