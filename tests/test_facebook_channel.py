"""The Facebook Page channel against a local Graph API fake: threads, errors, reconcile."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal

import aiohttp
import pytest
import structlog
from aiohttp.test_utils import TestServer
from aiohttp.web import Application
from blockbuster import BlockBuster
from pydantic import SecretStr

from broadcaster.config.secret_refs import SecretLookup
from broadcaster.core.channel_contract import OutgoingMessage, RenderedContent, ThreadContext
from broadcaster.core.models import ChannelKind, IncidentStatus
from broadcaster.core.outcomes import Delivered, Failed, NotFound, Retry
from channels.facebook.page_channel import FacebookPageChannel, marker_in_text
from channels.facebook.spec import GraphSettings
from tests.fakes.faults import Fault, FaultPlan
from tests.fakes.graph_api import GraphErrorReply, GraphFake
from tests.messages import outgoing_message

PAGE = "1000001"
TOKEN = "EAAGtestpagetoken0001secret"
EXHAUSTED = {"call_count": 100, "total_cputime": 12, "total_time": 30}  # X-App-Usage, in %
MakeServer = Callable[[Application], Awaitable[TestServer]]
OPENING_TEXT = "INVESTIGATING: phones down at Riverside Surgery\nUse 111 online. Ref INC-42"


def opening(marker: str = "Ref INC-42", text: str = OPENING_TEXT) -> OutgoingMessage:
    return outgoing_message(
        incident_ref=marker.removeprefix("Ref ").split(".")[0],
        channel=ChannelKind.FACEBOOK,
        recipient=PAGE,
        credential_ref="fb_m83001",
        body=text,
        marker=marker,
    )


def update(root_id: str | None, *, headline: str | None = "IDENTIFIED: phone line fault") -> OutgoingMessage:
    body = "Update: the phone provider has found the fault. Ref INC-42.2"
    content = RenderedContent(body=body, opening_body=f"{headline}\nPhones down. {body}", headline=headline)
    thread = ThreadContext(root_id=root_id, root_body=OPENING_TEXT if root_id else None)
    return outgoing_message(
        delivery_id=2,
        update_seq=2,
        status=IncidentStatus.IDENTIFIED,
        channel=ChannelKind.FACEBOOK,
        recipient=PAGE,
        credential_ref="fb_m83001",
        content=content,
        thread=thread,
    )


def posted_id(result: object) -> str:
    """The provider id of a delivery the test needs to have succeeded."""
    assert isinstance(result, Delivered)
    assert result.provider_id
    return result.provider_id


@dataclass
class Rig:
    fake: GraphFake
    plan: FaultPlan
    channel: FacebookPageChannel
    server: TestServer


@pytest.fixture
async def rig(aiohttp_server: MakeServer, blockbuster: BlockBuster) -> AsyncIterator[Rig]:
    plan = FaultPlan(throttle_hint_seconds=90.0)
    fake = GraphFake(plan=plan, hang_seconds=0.5)
    fake.add_page(PAGE, TOKEN)
    server = await aiohttp_server(fake.app())
    settings = GraphSettings(base_url=str(server.make_url("/")), timeout_seconds=0.2)
    secrets = SecretLookup({"fb_m83001": SecretStr(TOKEN)})
    async with aiohttp.ClientSession() as session:
        channel = FacebookPageChannel(settings=settings, session=session, secrets=secrets)
        yield Rig(fake, plan, channel, server)


async def test_opening_message_becomes_one_page_post(rig: Rig) -> None:
    """An incident's first message is posted to the page feed and its post id comes back."""
    result = await rig.channel.send(opening())
    [post] = rig.fake.posts_on(PAGE)
    assert result == Delivered(provider_id=post.id)
    assert post.message == OPENING_TEXT


async def test_update_on_open_thread_comments_then_edits_first_line(rig: Rig) -> None:
    """An update is commented first (the news), then the post's status line is rewritten."""
    post_id = posted_id(await rig.channel.send(opening()))
    result = await rig.channel.send(update(post_id))
    post = rig.fake.posts[post_id]
    assert post.message == "IDENTIFIED: phone line fault\nUse 111 online. Ref INC-42"
    assert [w.kind for w in rig.fake.writes] == ["post", "comment", "edit"]
    assert [c.message for c in post.comments] == [update(None).content.body]
    assert result == Delivered(provider_id=post.comments[0].id)


async def test_update_without_headline_only_comments(rig: Rig) -> None:
    """With no status line to show, the post is left alone and only the comment is made."""
    post_id = posted_id(await rig.channel.send(opening()))
    await rig.channel.send(update(post_id, headline=None))
    assert [w.kind for w in rig.fake.writes] == ["post", "comment"]


async def test_update_on_page_whose_first_post_failed_becomes_new_post(rig: Rig) -> None:
    """When the thread never opened on this page, the update is posted as a standalone post."""
    result = await rig.channel.send(update(None))
    [post] = rig.fake.posts_on(PAGE)
    assert result == Delivered(provider_id=post.id)
    assert post.message.startswith("IDENTIFIED: phone line fault\n")
    assert "Ref INC-42.2" in post.message


async def test_failed_edit_keeps_the_comment_and_retries_only_the_edit(rig: Rig) -> None:
    """A failed status-line edit does not hold the comment back, and its retry edits only."""
    post_id = posted_id(await rig.channel.send(opening()))
    rig.plan.script(f"edit:{post_id}", Fault.TRANSIENT)
    first = await rig.channel.send(update(post_id))
    [comment] = rig.fake.posts[post_id].comments
    assert isinstance(first, Retry)
    assert first.ambiguous  # the next attempt reconciles: it must not comment again
    assert rig.fake.posts[post_id].message == OPENING_TEXT

    retried = await rig.channel.reconcile(replace(update(post_id), attempt=2))

    assert retried == Delivered(provider_id=comment.id)
    assert [c.id for c in rig.fake.posts[post_id].comments] == [comment.id]
    assert rig.fake.posts[post_id].message == "IDENTIFIED: phone line fault\nUse 111 online. Ref INC-42"


async def test_update_still_delivered_when_the_post_can_no_longer_be_edited(rig: Rig) -> None:
    """A refused edit (permission gone) after the comment landed: the update reached the page."""
    post_id = posted_id(await rig.channel.send(opening()))
    rig.plan.script(f"edit:{post_id}", Fault.PERMISSION)
    with structlog.testing.capture_logs() as logs:
        result = await rig.channel.send(update(post_id))
    [comment] = rig.fake.posts[post_id].comments
    assert result == Delivered(provider_id=comment.id)
    assert rig.fake.posts[post_id].message == OPENING_TEXT  # what the page still shows
    assert "facebook_status_line_not_edited" in [entry["event"] for entry in logs]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault.TOKEN_EXPIRED, "page token expired - get a new page token"),  # Graph 190/463
        (Fault.PERMISSION, "graph error 200"),  # permission removed
    ],
)
async def test_lost_page_access_fails_and_flags_the_page(rig: Rig, fault: Fault, reason: str) -> None:
    """No retry when the page's token or permission is gone: the delivery fails, flagged for a person."""
    rig.plan.script(f"feed:{PAGE}", fault)
    result = await rig.channel.send(opening())
    assert isinstance(result, Failed)
    assert result.needs_attention
    assert reason in result.reason
    assert rig.fake.posts_on(PAGE) == []


@pytest.mark.parametrize("code", [32, 80001])
async def test_throttled_post_is_retried_after_the_hinted_time(
    aiohttp_server: MakeServer, code: Literal[32, 80001]
) -> None:
    """A throttle reply is retried, not ambiguous, after the usage header's estimate."""
    plan = FaultPlan(throttle_hint_seconds=90.0)
    plan.script(f"feed:{PAGE}", Fault.THROTTLE)
    fake = GraphFake(plan=plan, throttle_code=code)
    fake.add_page(PAGE, TOKEN)
    server = await aiohttp_server(fake.app())
    settings = GraphSettings(base_url=str(server.make_url("/")))
    async with aiohttp.ClientSession() as session:
        channel = FacebookPageChannel(
            settings=settings,
            session=session,
            secrets=SecretLookup({"fb_m83001": SecretStr(TOKEN)}),
        )
        result = await channel.send(opening())
    assert isinstance(result, Retry)
    assert result.after == pytest.approx(90.0)
    assert not result.ambiguous
    assert f"graph error {code}" in result.reason


@pytest.mark.parametrize(
    ("fault", "posts_made"),
    [
        (Fault.TRANSIENT, 0),  # Graph code 2 on a create: it may have landed
        (Fault.ACT_THEN_ERROR, 1),  # code 1 after the post was written
        (Fault.ACT_THEN_TIMEOUT, 1),  # the reply never came; the post exists
    ],
)
async def test_a_create_that_may_have_landed_is_ambiguous(rig: Rig, fault: Fault, posts_made: int) -> None:
    """Retried only after a reconcile, whether or not the post is really there."""
    rig.plan.script(f"feed:{PAGE}", fault)
    result = await rig.channel.send(opening())
    assert isinstance(result, Retry)
    assert result.ambiguous
    assert len(rig.fake.posts_on(PAGE)) == posts_made


async def test_refused_connection_is_not_ambiguous(rig: Rig) -> None:
    """When Graph cannot be reached at all, nothing was sent: a plain retry."""
    await rig.server.close()
    result = await rig.channel.send(opening())
    assert isinstance(result, Retry)
    assert not result.ambiguous


async def test_reconcile_finds_post_by_marker_and_does_not_post_again(rig: Rig) -> None:
    """After a timed-out create, reconcile finds the post that landed and nothing is re-posted."""
    rig.plan.script(f"feed:{PAGE}", Fault.ACT_THEN_TIMEOUT)
    await rig.channel.send(opening())
    found = await rig.channel.reconcile(opening())
    [post] = rig.fake.posts_on(PAGE)
    assert found == Delivered(provider_id=post.id)
    assert [w.kind for w in rig.fake.writes] == ["post"]


async def test_reconcile_reports_not_found_when_nothing_landed(rig: Rig) -> None:
    """After a rejected create, reconcile says a resend is safe."""
    rig.plan.script(f"feed:{PAGE}", Fault.TRANSIENT)
    await rig.channel.send(opening())
    assert await rig.channel.reconcile(opening()) == NotFound()


async def test_reconcile_does_not_confuse_inc4_with_inc42(rig: Rig) -> None:
    """ "Ref INC-4" is not found in posts marked "Ref INC-42" or "Ref INC-4.2"."""
    await rig.channel.send(opening("Ref INC-42", "Phones down. Ref INC-42"))
    await rig.channel.send(opening("Ref INC-4.2", "Phones back. Ref INC-4.2"))
    assert await rig.channel.reconcile(opening("Ref INC-4")) == NotFound()


async def test_reconcile_picks_the_exact_marker_among_similar_ones(rig: Rig) -> None:
    """With INC-4, INC-42 and INC-4.2 on the page, reconcile for INC-4 returns INC-4's post."""
    await rig.channel.send(opening("Ref INC-42", "Phones down. Ref INC-42"))
    wanted = await rig.channel.send(opening("Ref INC-4", "Website down. Ref INC-4."))
    await rig.channel.send(opening("Ref INC-4.2", "Phones back. Ref INC-4.2"))
    assert await rig.channel.reconcile(opening("Ref INC-4")) == wanted


async def test_reconcile_finds_comment_by_marker(rig: Rig) -> None:
    """After a timed-out comment, reconcile finds it among the post's newest comments."""
    post_id = posted_id(await rig.channel.send(opening()))
    rig.plan.script(f"comment:{post_id}", Fault.ACT_THEN_TIMEOUT)
    sent = await rig.channel.send(update(post_id))
    assert isinstance(sent, Retry)
    assert sent.ambiguous
    [comment] = rig.fake.posts[post_id].comments
    assert await rig.channel.reconcile(update(post_id)) == Delivered(comment.id)


async def test_reconcile_cannot_tell_when_graph_is_unreachable(rig: Rig) -> None:
    """If the feed cannot be read, reconcile asks to try again later rather than guess."""
    await rig.server.close()
    assert isinstance(await rig.channel.reconcile(opening()), Retry)


async def test_missing_page_token_fails_with_attention(rig: Rig) -> None:
    """A page whose token secret is not configured fails visibly, naming where to set it."""
    result = await rig.channel.send(replace(opening(), credential_ref="fb_unknown"))
    assert isinstance(result, Failed)
    assert result.needs_attention
    assert "BROADCASTER_SECRETS__FB_UNKNOWN" in result.reason


# One row per Graph error code (reference/provider-apis.md §A3), as answered to a create.
ERROR_TABLE = [
    pytest.param(GraphErrorReply(1, "An unknown error occurred", status=500), Retry, True, False,
                 id="1-unknown-ambiguous"),
    pytest.param(GraphErrorReply(2, "Service temporarily unavailable", status=500), Retry, True,
                 False, id="2-service-ambiguous"),
    pytest.param(GraphErrorReply(4, "Application request limit reached"), Retry, False, False,
                 id="4-app-throttle"),
    pytest.param(GraphErrorReply(17, "User request limit reached"), Retry, False, False,
                 id="17-user-throttle"),
    pytest.param(GraphErrorReply(32, "Page request limit reached"), Retry, False, False,
                 id="32-page-throttle"),
    pytest.param(GraphErrorReply(341, "Application limit reached"), Retry, False, False,
                 id="341-app-limit"),
    pytest.param(GraphErrorReply(613, "Calls to this api have exceeded the rate limit"), Retry,
                 False, False, id="613-custom-rate-limit"),
    pytest.param(GraphErrorReply(80001, "Too many calls to this Page account"), Retry, False,
                 False, id="80001-pages-buc"),
    pytest.param(GraphErrorReply(190, "Session has expired", subcode=463), Failed, False, True,
                 id="190-463-expired"),
    pytest.param(GraphErrorReply(190, "Password changed", subcode=460), Failed, False, True,
                 id="190-460-password-changed"),
    pytest.param(GraphErrorReply(190, "Invalid OAuth access token"), Failed, False, True,
                 id="190-no-subcode"),
    pytest.param(GraphErrorReply(10, "Permission denied"), Failed, False, True,
                 id="10-permission"),
    pytest.param(GraphErrorReply(200, "Permissions error"), Failed, False, True,
                 id="200-permission"),
    pytest.param(GraphErrorReply(299, "Permission removed"), Failed, False, True,
                 id="299-permission"),
    pytest.param(GraphErrorReply(3, "Unknown method"), Failed, False, True, id="3-capability"),
    pytest.param(GraphErrorReply(100, "Invalid parameter"), Failed, False, False,
                 id="100-invalid-parameter"),
    pytest.param(GraphErrorReply(368, "We limit how often you can post", subcode=1390008), Retry,
                 False, False, id="368-posting-too-fast"),
    pytest.param(GraphErrorReply(368, "You've already posted this"), Retry, True, False,
                 id="368-already-posted-ambiguous"),
    pytest.param(GraphErrorReply(506, "Duplicate status message"), Retry, True, False,
                 id="506-duplicate-ambiguous"),
    pytest.param(GraphErrorReply(12345, "Something new"), Failed, False, False,
                 id="unknown-code-fails"),
]  # fmt: skip


@pytest.mark.parametrize(("reply", "kind", "ambiguous", "attention"), ERROR_TABLE)
async def test_graph_error_table(
    rig: Rig, reply: GraphErrorReply, kind: type, ambiguous: bool, attention: bool
) -> None:
    """Each Graph error code on a create maps to its documented outcome, by code not HTTP status."""
    rig.fake.reply_with_error(f"feed:{PAGE}", reply)
    result = await rig.channel.send(opening())
    assert isinstance(result, kind)
    assert not isinstance(result, Delivered)
    assert str(reply.code) in result.reason
    assert "fbtrace_id" in result.reason
    if isinstance(result, Retry):
        assert result.ambiguous is ambiguous
    if isinstance(result, Failed):
        assert result.needs_attention is attention


async def test_policy_block_is_retried_slowly(rig: Rig) -> None:
    """Graph 368 (posting too fast) waits minutes, not the usual backoff."""
    rig.fake.reply_with_error(f"feed:{PAGE}", GraphErrorReply(368, "We limit how often you post"))
    result = await rig.channel.send(opening())
    assert isinstance(result, Retry)
    assert result.after is not None
    assert result.after >= 300


async def test_page_token_never_travels_in_a_url(rig: Rig) -> None:
    """Posts carry the token in the form body and reads in a header, never in a URL."""
    post_id = posted_id(await rig.channel.send(opening()))
    await rig.channel.send(update(post_id))
    await rig.channel.reconcile(opening())
    await rig.channel.reconcile(update(post_id))
    assert len(rig.fake.requests) == 6  # an update found by reconcile also gets its status-line edit
    assert all(TOKEN not in line for line in rig.fake.requests)


async def test_page_token_never_appears_in_reasons_or_logs(rig: Rig) -> None:
    """Whatever goes wrong, including Meta echoing the token, no reason or log line carries it."""
    echo = GraphErrorReply(190, f"Malformed access token {TOKEN}")
    rig.fake.reply_with_error(f"feed:{PAGE}", echo)
    for fault in (Fault.TOKEN_EXPIRED, Fault.ACT_THEN_TIMEOUT, Fault.THROTTLE, Fault.TRANSIENT):
        rig.plan.script(f"feed:{PAGE}", fault)
    results: list[object] = []
    with structlog.testing.capture_logs() as logs:
        for _ in range(6):
            results.append(await rig.channel.send(opening()))
        results.append(await rig.channel.reconcile(opening()))
        await rig.server.close()
        results.append(await rig.channel.reconcile(opening()))
    assert any(isinstance(r, Failed) for r in results)
    assert len(logs) >= 6
    assert TOKEN not in repr(results)
    assert TOKEN not in repr(logs)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Phones down. Ref INC-4", True),
        ("Phones down (Ref INC-4).", True),
        ("Ref INC-4\nmore text", True),
        ("Phones down. Ref INC-42", False),
        ("Phones back. Ref INC-4.2", False),
        ("Phones back. Ref INC-4-2", False),
        ("XRef INC-4", False),
    ],
)
def test_marker_match_is_exact(text: str, found: bool) -> None:
    """A marker matches only where it stands alone, so INC-4 never matches INC-42 or INC-4.2."""
    assert marker_in_text("Ref INC-4", text) is found


@pytest.mark.parametrize(
    ("reply", "usage", "wait"),
    [
        # No BUC estimate: a Retry-After header sets the wait.
        (GraphErrorReply(4, "Application request limit reached", headers={"Retry-After": "7"}), None, 7.0),
        # X-App-Usage at 100% with no estimate: the default one-minute wait.
        (GraphErrorReply(4, "Application limit reached"), EXHAUSTED, 60.0),
        # No estimate, no Retry-After, usage below 100%: no hint; the dispatcher's backoff decides.
        (GraphErrorReply(17, "User request limit reached"), None, None),
    ],
)  # fmt: skip
async def test_throttle_wait_follows_the_best_hint_graph_gives(
    rig: Rig, reply: GraphErrorReply, usage: dict[str, int] | None, wait: float | None
) -> None:
    if usage is not None:
        rig.fake.app_usage = usage
    rig.fake.reply_with_error(f"feed:{PAGE}", reply)
    result = await rig.channel.send(opening())
    assert isinstance(result, Retry)
    assert result.after == wait
