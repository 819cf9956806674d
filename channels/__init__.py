"""Provider adapters, one per route: Facebook Pages through the Graph API (facebook/), GOV.UK
Notify for texts and emails (notify/), SMTP email (email/), apprise for other services, and the
outbox folder that stands in for every provider offline.

Adapters implement broadcaster.core.channel_contract and may import broadcaster.core and
broadcaster.config only; the registry in broadcaster.delivery builds them.
"""
