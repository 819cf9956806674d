"""Provider adapters, one package per provider: Facebook Pages through the Graph API (facebook/),
GOV.UK Notify for texts and emails (notify/), SMTP email (email/), apprise for other services
(apprise/), and the outbox folder that stands in for every provider offline (outbox/).

Each provider's spec.py exports one ProviderSpec per route (broadcaster.core.provider_spec): its
route constant, settings model, required settings, limits and a factory. A spec module imports
broadcaster.core and pydantic only and loads its adapter inside the factory, since settings are
composed from the specs. Adding a provider is its package and one line in
broadcaster/config/providers.py.

Adapters implement broadcaster.core.channel_contract and may import broadcaster.core and
broadcaster.config only; broadcaster.delivery.registry builds them through their specs.
"""
