"""What each channel says: markers, headlines, "Update:" texts, one email subject per thread."""

from __future__ import annotations

import pytest

from broadcaster.content.render import ChannelTexts, UpdateHeading, check_placeholders, render_for_practice
from broadcaster.core.errors import ContentRefused
from broadcaster.core.models import ChannelKind, IncidentStatus
from broadcaster.directory.practices import Practice

RIVERSIDE = Practice(ods="Y00001", name="Riverside Surgery", placeholders={"alt_phone": "0113 496 0001"})
NO_PHONE = Practice(ods="Y00002", name="Oak Lane")


def rendered(seq: int, status: IncidentStatus, text: str = "Call {alt_phone}.") -> dict:
    heading = UpdateHeading("INC-7", "Phones down", seq, status)
    return render_for_practice(heading, ChannelTexts.same_everywhere(text), RIVERSIDE)


def test_opening_facebook_post_has_headline_text_and_marker() -> None:
    """The post's first line is the status; its last line is the reference a reconcile looks for."""
    post = rendered(0, IncidentStatus.INVESTIGATING)[ChannelKind.FACEBOOK]
    assert post.body.splitlines() == [
        "INCIDENT: Phones down",
        "Call 0113 496 0001.",
        "",
        "Ref INC-7",
    ]


def test_update_is_a_comment_with_its_own_marker_and_a_new_headline() -> None:
    """Update 2 comments with "Ref INC-7.2" and edits the post's first line to the new status."""
    update = rendered(2, IncidentStatus.IDENTIFIED, "Fault found.")[ChannelKind.FACEBOOK]
    assert update.body == "Update (Cause identified): Fault found.\n\nRef INC-7.2"
    assert update.headline == "UPDATE (Cause identified): Phones down"
    assert update.opening_body is not None
    assert update.opening_body.endswith("Ref INC-7.2")


def test_texts_say_update_and_name_the_practice() -> None:
    """Later texts start "Update:"; every text says which practice it is from."""
    first = rendered(0, IncidentStatus.INVESTIGATING, "Phones are down.")[ChannelKind.SMS]
    later = rendered(1, IncidentStatus.MONITORING, "Phones are back.")[ChannelKind.SMS]
    done = rendered(2, IncidentStatus.RESOLVED, "All fixed.")[ChannelKind.SMS]
    assert first.body == "Riverside Surgery: Phones are down."
    assert later.body == "Update: Riverside Surgery: Phones are back."
    assert done.body == "Resolved: Riverside Surgery: All fixed."


def test_text_messages_are_normalised_for_gsm7() -> None:
    """Curly quotes and dashes never switch a text to the expensive UCS-2 encoding."""
    sms = rendered(0, IncidentStatus.INVESTIGATING, "We\u2019re closed \u2013 sorry")[ChannelKind.SMS]
    assert sms.body == "Riverside Surgery: We're closed - sorry"


def test_email_subject_is_identical_for_every_update() -> None:
    """Mail clients thread on the subject, so it never changes within an incident."""
    subjects = {
        rendered(seq, status)[ChannelKind.EMAIL].subject
        for seq, status in [
            (0, IncidentStatus.INVESTIGATING),
            (1, IncidentStatus.IDENTIFIED),
            (2, IncidentStatus.RESOLVED),
        ]
    }
    assert subjects == {"[INC-7] Phones down"}


def test_missing_placeholder_lists_each_practice_and_value() -> None:
    """A send that would leave a blank for some practice is refused, naming who lacks what."""
    with pytest.raises(ContentRefused) as caught:
        check_placeholders(
            ChannelTexts.same_everywhere("Call {alt_phone} or {website}"), [RIVERSIDE, NO_PHONE]
        )
    message = str(caught.value)
    assert "Y00001 (Riverside Surgery): website" in message
    assert "Y00002 (Oak Lane): alt_phone, website" in message
    assert "Nothing was sent" in message


def test_placeholder_with_attribute_access_is_refused() -> None:
    """Templates cannot reach into objects: only bare names are placeholders."""
    with pytest.raises(ContentRefused, match="not a placeholder"):
        check_placeholders(ChannelTexts.same_everywhere("{practice_name.__class__}"), [RIVERSIDE])
