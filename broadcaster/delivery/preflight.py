"""Checks made before anything is written or sent: secrets exist, provider settings are complete."""

from __future__ import annotations

from collections.abc import Iterable

from broadcaster.config.secret_refs import SecretLookup, env_name_for
from broadcaster.config.settings import Settings
from broadcaster.core.errors import ConfigError
from broadcaster.directory.practices import Endpoint

_FIELD_FOR_CHANNEL = {"facebook": "facebook.token", "sms": "sms.apprise_url", "apprise": "apprise"}

# Settings each provider route cannot work without, with the variable that sets each one.
_REQUIRED_SETTINGS = {
    "sms/notify": (
        ("notify.api_key", "BROADCASTER_NOTIFY__API_KEY"),
        ("notify.sms_template_id", "BROADCASTER_NOTIFY__SMS_TEMPLATE_ID"),
    ),
    "email/notify": (
        ("notify.api_key", "BROADCASTER_NOTIFY__API_KEY"),
        ("notify.email_template_id", "BROADCASTER_NOTIFY__EMAIL_TEMPLATE_ID"),
    ),
}


def check_endpoints_ready(settings: Settings, endpoints: Iterable[Endpoint]) -> None:
    """Raise ConfigError naming every practice, field and variable that must be set first."""
    endpoints = list(endpoints)
    problems = _missing_secrets(settings, endpoints) + _missing_settings(settings, endpoints)
    if problems:
        raise ConfigError(
            "cannot send until these are set; nothing was sent:\n" + "\n".join(f"  {p}" for p in problems)
        )


def _missing_secrets(settings: Settings, endpoints: list[Endpoint]) -> list[str]:
    lookup, problems = SecretLookup(settings.secrets), []
    for ep in endpoints:
        if ep.credential_ref is None and ep.route == "sms/apprise":
            problems.append(
                f"practice {ep.practice}: sms.apprise_url is needed for provider "
                "apprise (in the practice or in defaults.sms_apprise_url)"
            )
        elif ep.credential_ref and lookup.missing([ep.credential_ref]) and not ep.route.endswith("/outbox"):
            field = _FIELD_FOR_CHANNEL.get(ep.channel.value, ep.channel.value)
            problems.append(
                f"practice {ep.practice}, field {field}: secret "
                f"{ep.credential_ref!r} is not set "
                f"(set {env_name_for(ep.credential_ref)})"
            )
    return sorted(set(problems))


def _missing_settings(settings: Settings, endpoints: list[Endpoint]) -> list[str]:
    problems = []
    for route in sorted({ep.route for ep in endpoints}):
        for dotted, env in _REQUIRED_SETTINGS.get(route, ()):
            section, name = dotted.split(".")
            if not getattr(getattr(settings, section), name):
                problems.append(f"route {route} needs {dotted} (set {env})")
    return problems
