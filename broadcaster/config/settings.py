"""Service configuration: environment (`BROADCASTER_`, nested with `__`), `.env`, a secrets directory.

Settings is CoreSettings (what the service itself needs) plus one section per provider, each
declared by its spec (broadcaster.config.providers): `notify` holds NotifySettings and is read
from BROADCASTER_NOTIFY__*. It is composed here, where every caller has always found it; the
provider list it reads imports spec modules only, never an adapter. Code reaches a provider's
section through its spec (`NOTIFY_SETTINGS.of(settings)`), typed; mypy sees CoreSettings.

Secrets (page tokens, API keys, SMTP password, apprise URLs) live only here, as SecretStr, never
in the practice directory: the directory names a secret by reference (`token: fb_m83001`) and
`secrets` maps that name to its value, e.g. `BROADCASTER_SECRETS__FB_M83001=...` or a file
`secrets__fb_m83001` in the secrets directory (`BROADCASTER_SECRETS_DIR`, default /run/secrets).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, create_model
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from broadcaster.config.providers import PROVIDERS
from broadcaster.config.shipped_files import example_directory_path
from broadcaster.core.errors import ConfigError
from broadcaster.core.models import AlertPolicy, IncidentStatus, Severity
from broadcaster.core.provider_spec import ProviderSpec
from broadcaster.core.setting_types import Port, PositiveFloat, PositiveInt


class RetrySettings(BaseModel):
    """Backoff schedule (tenacity's exponential-with-jitter) and the per-delivery deadline."""

    initial_seconds: PositiveFloat = 1.0
    max_backoff_seconds: PositiveFloat = 300.0
    jitter_seconds: Annotated[float, Field(ge=0)] = 1.0
    max_attempts: PositiveInt = 12
    deadline_seconds: PositiveFloat = 2 * 3600.0


class DispatchSettings(BaseModel):
    lease_seconds: PositiveFloat = 120.0  # a dead worker's claims come back after this
    idle_poll_seconds: PositiveFloat = 0.5  # how often an idle dispatcher looks for new work
    prefetch_per_route: PositiveInt = 32  # claimed ahead of free slots, per provider route
    outbox_concurrency: PositiveInt = 8
    # On the way out, how long to keep retrying outcomes the store refuses before leaving them
    # to the lease (they are then checked with the provider before any resend).
    shutdown_write_seconds: PositiveFloat = 30.0


class SmsPolicy(BaseModel):
    """SMS costs money per segment: by default texts go out when an incident opens and resolves.

    The opening message always goes by text; later updates only when their status is listed
    here, unless the sender asks otherwise for that update (--sms / --no-sms).
    """

    update_statuses: list[IncidentStatus] = [IncidentStatus.RESOLVED]
    # Cap for free-text messages (a runbook sets its own, usually 1): each segment is charged.
    max_segments: Annotated[int, Field(ge=1, le=6)] = 2
    price_per_segment_pence: Annotated[float, Field(ge=0)] = 2.27


class WebSettings(BaseModel):
    """Sign-in and sessions (see broadcaster.accounts.server_keys for the key)."""

    secret_key: SecretStr | None = None  # seals session cookies and stored TOTP secrets
    secret_key_file: Path = Path("broadcaster.key")  # created on first use when secret_key is unset
    secure_cookies: bool = False  # set true behind TLS: the session cookie is then sent over HTTPS only
    session_hours: PositiveFloat = 12.0  # a session ends this long after sign-in
    metrics_open: bool = False  # serve /metrics without a credential (a scraper on a private network)


class PublishSettings(BaseModel):
    """The public copy: status pages, feeds, CAP alerts and banner data (broadcaster/public/).

    With `s3_bucket` set, `serve` republishes them to that S3-compatible bucket on every update,
    so they stay readable when the network the service runs in is down.
    """

    # Where the public copy is read, e.g. https://status.example.nhs.uk: links in feeds and the
    # banner. Empty: links are relative to the site's root, as `serve` answers them.
    base_url: str = ""
    area_name: str = "Local GP practices"  # the heading of /status and the area feed
    cap_sender: Annotated[str, Field(pattern=r"^[^\s,<&]+$")] = "practice-broadcaster.invalid"
    history_limit: PositiveInt = 20  # resolved incidents listed on each page
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # any S3-compatible service; empty: AWS
    s3_region: str = "eu-west-2"
    s3_prefix: str = ""  # key prefix inside the bucket, e.g. "gp/"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    poll_seconds: PositiveFloat = 2.0  # how often `serve` looks for updates sent by other processes
    max_attempts: PositiveInt = 5  # tries at one upload before it is recorded as failed
    retry_initial_seconds: PositiveFloat = 1.0
    retry_max_seconds: PositiveFloat = 60.0  # also how soon a failed copy is tried again
    timeout_seconds: PositiveFloat = 20.0


class MonitorSettings(BaseModel):
    """What an alert from a monitor (the webhooks under /api/hooks) opens when it says little."""

    # The runbook an alert without a `runbook` label uses; without either, it needs a message.
    default_runbook: str | None = None
    # The group an alert without an `ods` or `group` label is for; without either, it is refused.
    default_group: str | None = None
    default_severity: Severity = Severity.MAJOR  # for free-text alerts (a runbook has its own)
    # An alert without a `policy` label: open and send at once, or a draft for a person to confirm.
    policy: AlertPolicy = AlertPolicy.OPEN
    # Who is emailed when a monitor writes a draft (each draft, once): what it says and how to
    # confirm it. Unset: nobody; the drafts wait in `broadcaster list` and the console.
    draft_notify_email: str | None = None
    resolved_message: str = "This is working again. Thank you for your patience."
    check_concurrency: PositiveInt = 50  # health-check probes in flight at once
    checks_in_serve: bool = True  # false when `broadcaster monitor` runs the checks instead


class ReadinessSettings(BaseModel):
    """`broadcaster readiness` and its daily run inside `serve` (broadcaster/readiness/)."""

    interval_hours: PositiveFloat = 24.0  # how often `serve` checks every channel
    # A commissioner told by email when a practice's channel stops being ready (once per change).
    notify_email: str | None = None
    concurrency: PositiveInt = 8  # checks in flight at once
    timeout_seconds: PositiveFloat = 20.0  # one check past this is reported not ready


class CoreSettings(BaseSettings):
    """Everything but the providers' sections, which Settings adds (see the module's docstring)."""

    model_config = SettingsConfigDict(
        env_prefix="BROADCASTER_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        secrets_prefix="",
        secrets_nested_delimiter="__",
        secrets_dir_missing="ok",
    )

    database_url: str = "sqlite+aiosqlite:///broadcaster.db"
    # How long a write waits while another process (a server, a command-line send) holds
    # SQLite's write lock; past it the write is retried with backoff and sending pauses.
    database_busy_timeout_seconds: PositiveFloat = 10.0
    directory: Path = Field(default_factory=example_directory_path)
    outbox_dir: Path = Path("outbox")
    runbooks_dir: Path | None = None
    host: str = "127.0.0.1"
    port: Port = 8080
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    api_token: SecretStr | None = None  # bearer token for the HTTP API's write endpoints
    # A dead man's switch (a healthchecks.io check's ping URL) pinged while the dispatcher is
    # healthy; a secret, since anyone holding it can keep the switch quiet.
    heartbeat_url: SecretStr | None = None
    heartbeat_seconds: PositiveFloat = 60.0
    node_name: str = Field(default_factory=lambda: f"{os.uname().nodename}-{os.getpid()}")

    retry: RetrySettings = RetrySettings()
    dispatch: DispatchSettings = DispatchSettings()
    sms: SmsPolicy = SmsPolicy()
    web: WebSettings = WebSettings()
    publish: PublishSettings = PublishSettings()
    monitor: MonitorSettings = MonitorSettings()
    readiness: ReadinessSettings = ReadinessSettings()
    secrets: dict[str, SecretStr] = {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Nested secrets: a file `notify__api_key` fills notify.api_key, `secrets__fb_x` a reference.
        nested_secrets = _SecretFiles(file_secret_settings)
        return (init_settings, env_settings, dotenv_settings, nested_secrets)

    def secret_values(self) -> list[str]:
        """Every secret this process knows, so log and error output can be scrubbed of them:
        the named secrets and every SecretStr of every section, a provider's included."""
        values = [s.get_secret_value() for s in self.secrets.values()]
        values += [secret.get_secret_value() for secret in _secrets_in(self)]
        return [v for v in values if v]


def _secrets_in(model: BaseModel) -> list[SecretStr]:
    found: list[SecretStr] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            found.append(value)
        elif isinstance(value, BaseModel):
            found += _secrets_in(value)
    return found


def compose_settings(providers: Sequence[ProviderSpec]) -> type[CoreSettings]:
    """CoreSettings with one field per provider section, defaulting to the section's defaults.

    Routes of one provider share its section (sms/notify and email/notify: `notify`).
    """
    sections: dict[str, type[BaseModel]] = {}
    for spec in providers:
        if spec.section is None:
            continue
        known = sections.setdefault(spec.section.name, spec.section.model)
        if known is not spec.section.model or spec.section.name in CoreSettings.model_fields:
            raise ValueError(f"settings section {spec.section.name!r} of {spec.route} is taken")
    fields: dict[str, Any] = {name: (model, Field(default_factory=model)) for name, model in sections.items()}
    return create_model("Settings", __base__=CoreSettings, __module__=__name__, **fields)


if TYPE_CHECKING:
    Settings = CoreSettings  # provider sections are reached through their specs, typed
else:
    Settings = compose_settings(PROVIDERS)


def load_settings(**overrides: Any) -> Settings:
    """Read settings the way an operator configures them: env, .env, secrets directory.

    A bad value raises ConfigError naming the variable; the value itself is never repeated,
    since it may be a secret.
    """
    secrets_dir = os.environ.get("BROADCASTER_SECRETS_DIR", "/run/secrets")
    try:
        return Settings(_secrets_dir=secrets_dir, **overrides)
    except ValidationError as exc:
        lines = [
            f"  BROADCASTER_{'__'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ConfigError("settings are not valid; fix these variables:\n" + "\n".join(lines)) from None
    except SettingsError as exc:
        raise ConfigError(_unreadable_setting(exc, secrets_dir)) from None
    except UnicodeDecodeError:
        # Secret files are checked one by one below, so this is the dotenv file.
        raise ConfigError(
            f"{Path.cwd() / '.env'} is not UTF-8 text; settings are read from it, so save it as "
            "UTF-8 or remove it"
        ) from None


class _SecretFiles(NestedSecretsSettingsSource):
    """Secret files as pydantic-settings reads them, but a file that is not text is named."""

    @classmethod
    def load_secrets(cls, path: Path) -> dict[str, str]:
        found: dict[str, str] = {}
        for file in cls._iter_secret_files(path):
            name = str(file.relative_to(path))
            try:
                found[name] = file.read_text(encoding="utf-8").strip()
            except UnicodeDecodeError:
                raise ConfigError(
                    f"secret file {name!r} in the secrets directory {path} (BROADCASTER_SECRETS_DIR) "
                    "is not UTF-8 text: write the secret as text, or move the file out of that "
                    "directory"
                ) from None
        return found


# pydantic-settings' only description of a value it could not parse, e.g. a JSON setting
# (BROADCASTER_SECRETS, BROADCASTER_SMS__UPDATE_STATUSES) that is not JSON.
_PARSE_FAILURE = re.compile(r'error parsing value for field "(\w+)" from source "(\w+)"')
_SOURCES = {
    "EnvSettingsSource": "in the environment",
    "DotEnvSettingsSource": "in the .env file",
}


def _unreadable_setting(exc: SettingsError, secrets_dir: str) -> str:
    match = _PARSE_FAILURE.search(str(exc))
    if match is None:  # the secrets directory itself: missing, not a directory, too large
        return f"settings could not be read: {exc}"
    field, source = match.groups()
    variable = f"BROADCASTER_{field.upper()}"
    where = _SOURCES.get(source, f"in a file named {field} or {field}__* in {secrets_dir}")
    # The JSON error gives a position, never the text: the value may hold secrets.
    cause = exc.__cause__
    why = f" ({cause.msg} at character {cause.pos})" if isinstance(cause, json.JSONDecodeError) else ""
    example = f"""e.g. {variable}='{{"fb_m83001": "EAAG..."}}', """ if field == "secrets" else ""
    return (
        f"settings are not valid: {variable} (or a {variable}__* variable) {where} is not valid "
        f"JSON{why}; write it as JSON, {example}or set each entry on its own as {variable}__NAME"
    )
