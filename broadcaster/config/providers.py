"""Every provider the service can send through: add a provider's spec here, one line.

Settings sections, the providers a directory may name, the checks before sending and the
adapters built for a run all come from this list (see broadcaster.core.provider_spec). It sits
in config, below the directory and delivery that read it, because Settings is composed from it;
the spec modules it imports hold only constants, pydantic models and lazy factories.
"""

from __future__ import annotations

from collections.abc import Sequence

from broadcaster.core.errors import ConfigError
from broadcaster.core.models import ChannelKind
from broadcaster.core.provider_spec import ProviderSpec
from channels.apprise.spec import APPRISE_APPRISE_SPEC, SMS_APPRISE_SPEC
from channels.email.spec import EMAIL_SMTP_SPEC
from channels.facebook.spec import FACEBOOK_GRAPH_SPEC
from channels.notify.spec import EMAIL_NOTIFY_SPEC, SMS_NOTIFY_SPEC
from channels.outbox.spec import (
    APPRISE_OUTBOX_SPEC,
    EMAIL_OUTBOX_SPEC,
    FACEBOOK_OUTBOX_SPEC,
    SMS_OUTBOX_SPEC,
)

PROVIDERS: Sequence[ProviderSpec] = (
    FACEBOOK_GRAPH_SPEC,
    FACEBOOK_OUTBOX_SPEC,
    SMS_NOTIFY_SPEC,
    SMS_APPRISE_SPEC,
    SMS_OUTBOX_SPEC,
    EMAIL_SMTP_SPEC,
    EMAIL_NOTIFY_SPEC,
    EMAIL_OUTBOX_SPEC,
    APPRISE_APPRISE_SPEC,
    APPRISE_OUTBOX_SPEC,
)

# What a practice's channel goes through when neither it nor the directory's defaults say.
DEFAULT_PROVIDERS: dict[ChannelKind, ProviderSpec] = {
    ChannelKind.FACEBOOK: FACEBOOK_GRAPH_SPEC,
    ChannelKind.SMS: SMS_NOTIFY_SPEC,
    ChannelKind.EMAIL: EMAIL_SMTP_SPEC,
    ChannelKind.APPRISE: APPRISE_APPRISE_SPEC,
}


def spec_for_route(route: str) -> ProviderSpec:
    """The spec of a route, or ConfigError listing the known ones."""
    for spec in PROVIDERS:
        if spec.route == route:
            return spec
    known = ", ".join(spec.route for spec in PROVIDERS)
    raise ConfigError(f"unknown channel route {route!r}; known: {known}")


def providers_of(kind: ChannelKind) -> tuple[str, ...]:
    """The provider names a directory may give for a channel, in the order listed here."""
    return tuple(spec.provider for spec in PROVIDERS if spec.kind is kind)


def spec_for(kind: ChannelKind, provider: str) -> ProviderSpec:
    """The spec the directory means by `provider` on `kind`; ValueError naming the known ones."""
    for spec in PROVIDERS:
        if spec.kind is kind and spec.provider == provider:
            return spec
    raise ValueError(f"unknown {kind.value} provider {provider!r}; known: {', '.join(providers_of(kind))}")
