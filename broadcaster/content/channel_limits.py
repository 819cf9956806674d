"""How long a message may be on each channel: the limits runbooks and sends are checked against.

The SMS segment arithmetic (160/153 GSM-7, 70/67 UCS-2, Notify's 918-character maximum) lives in
broadcaster.content.sms_text beside the code that counts segments; these are the caps we choose to apply.

Why per channel and here, not per provider in the specs (channels/*/spec.py): a message is
rendered once per channel, and every provider of that channel gets the same text, so a practice
moved from Notify to apprise, or a drill on the outbox, never changes what may be sent; runbooks
are checked against these without knowing any practice's route. Each cap is the strictest
provider's (Facebook's, Notify's) or ours, so it is within every provider's own limit: the specs
state those limits, and tests/test_provider_specs.py holds these caps to them. Content never
imports channels.
"""

from __future__ import annotations

from broadcaster.content.sms_text import GSM7_MULTI, NOTIFY_MAX_CHARS

# Facebook's post length limit: the long-standing, widely cited cap of the post composer. Meta's
# Graph API reference does not state it, so a post this long may still be refused; none of ours
# comes close (the practical limit is the "See more" fold after a few hundred characters).
FACEBOOK_POST_MAX_CHARS = 63206

# Our own cap, not a protocol limit: RFC 5322 folds long header lines, but mail apps show only
# the first 40-80 characters of a subject in a list, so the end of a longer one is never seen.
# 150 leaves room for "[INC-12345] " and a full title while catching a paragraph pasted into it.
EMAIL_SUBJECT_MAX_CHARS = 150

# Our own caps, not a provider's: an incident email or chat message runs to a few paragraphs (the
# longest shipped runbook's email is under 2,000 characters); ten times that is a paste mistake,
# and refusing it keeps the checks every send runs on its text quick.
EMAIL_BODY_MAX_CHARS = 20_000
APPRISE_BODY_MAX_CHARS = 20_000

# The longest message any channel takes: anything longer is refused before it is looked at.
MESSAGE_MAX_CHARS = max(FACEBOOK_POST_MAX_CHARS, EMAIL_BODY_MAX_CHARS, APPRISE_BODY_MAX_CHARS)

# A title is the email subject and every post's headline; the API has always capped it here.
TITLE_MAX_CHARS = 200

# Texts cost money per segment and each recipient gets every one: one segment unless a runbook
# says otherwise (its `sms_segments`).
SMS_DEFAULT_MAX_SEGMENTS = 1

# The most segments any cap may allow: Notify refuses texts over 918 characters (153 x 6).
SMS_MAX_SEGMENTS = NOTIFY_MAX_CHARS // GSM7_MULTI
