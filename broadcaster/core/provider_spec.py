"""What a provider adapter says about itself: its route, settings, limits, needs and factory.

Each provider module in channels/ exports one ProviderSpec per route, and the list of them
(broadcaster.config.providers) is all the rest of the service knows of providers: settings
sections, directory provider names, checks before sending and the adapters built all come
from it. A spec module imports only this core and pydantic, so reading settings never loads an
adapter's libraries (aiohttp, apprise, aiosmtplib); its factory imports the adapter when called,
and so does its readiness probe (`broadcaster readiness`: would this route work now?).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel

from broadcaster.core.channel_contract import Channel
from broadcaster.core.models import ChannelKind

if TYPE_CHECKING:
    import aiohttp

S = TypeVar("S", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SettingsSection(Generic[S]):
    """A provider's block of settings: `name` is its field on Settings, so `notify` is read from
    BROADCASTER_NOTIFY__*, a `.env` line of that name or a secret file `notify__*`."""

    name: str
    model: type[S]

    def of(self, settings: object) -> S:
        """This section of the whole Settings, typed: how code reaches a provider's settings."""
        section = getattr(settings, self.name, None)
        if not isinstance(section, self.model):
            raise TypeError(f"settings have no {self.name!r} section of type {self.model.__name__}")
        return section

    def env_name(self, setting: str) -> str:
        """The variable that sets one field: `api_key` -> BROADCASTER_NOTIFY__API_KEY."""
        return f"BROADCASTER_{self.name}__{setting}".upper()


@dataclass(frozen=True, slots=True)
class Credential:
    """A route needs a secret per practice, named in the directory's `field`."""

    field: str  # as a person reads the directory: "facebook.token", "sms.apprise_url"
    given_in: str | None = None  # where else it may be named, for the message when it is not


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    """The most the provider itself accepts (None: it states no limit we rely on).

    Content is checked against per-channel caps (broadcaster.content.channel_limits), which
    are at or below every provider's of that channel; a test holds each spec to that.
    """

    body_max_chars: int | None = None
    subject_max_chars: int | None = None


class SecretSource(Protocol):
    """A secret's value by the name the directory gives it (config.secret_refs.SecretLookup)."""

    def __call__(self, ref: str) -> str: ...


class BuildContext(Protocol):
    """What a factory may use: the settings, the secrets, and resources its routes share."""

    @property
    def settings(self) -> BaseModel:
        """The whole Settings; a provider reads its own section with `SECTION.of(...)`."""
        ...

    @property
    def secrets(self) -> SecretSource: ...

    def http_session(self) -> aiohttp.ClientSession:
        """The one HTTP connection pool of every provider, closed with the channels."""
        ...

    def thread_pool(self, name: str, workers: int) -> ThreadPoolExecutor:
        """A pool shared by the routes that ask for `name`, shut down with the channels."""
        ...

    def shared(self, name: str, make: Callable[[], T]) -> T:
        """One `make()` for every route that asks for `name` (e.g. Notify's per-key pacer)."""
        ...


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether one endpoint would work if an incident were sent now, and why (never a secret)."""

    ready: bool
    reason: str  # "page token valid, expires in 40 days", "missing pages_manage_posts"


class ProbeContext(Protocol):
    """What a readiness probe may use: settings, secrets, the endpoint it checks, an HTTP pool."""

    @property
    def settings(self) -> BaseModel: ...

    @property
    def secrets(self) -> SecretSource: ...

    @property
    def recipient(self) -> str:
        """The endpoint's recipient as the directory gives it (a page id, a number, a URL's name)."""
        ...

    @property
    def credential_ref(self) -> str | None:
        """The secret the directory names for the endpoint, if its route needs one."""
        ...

    def http_session(self) -> aiohttp.ClientSession: ...

    def now(self) -> float:
        """Seconds since the epoch, from the caller's clock (tests pass their own)."""
        ...


Probe = Callable[[ProbeContext], Awaitable[Readiness]]


class BuiltChannel(NamedTuple):
    channel: Channel
    concurrency: int  # the most of this route's sends in flight at once


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One provider route: `kind/provider`, as the directory names it (`sms` + `notify`)."""

    route: str  # a constant in the provider's module, e.g. SMS_NOTIFY = "sms/notify"
    kind: ChannelKind
    provider: str
    build: Callable[[BuildContext], BuiltChannel]
    section: SettingsSection[Any] | None = None
    required: tuple[str, ...] = ()  # fields of `section` the route cannot work without
    credential: Credential | None = None
    limits: ProviderLimits = field(default_factory=ProviderLimits)
    # Checks, sending nothing, that the route would work now (a token's validity, a login);
    # None: nothing outside to check (the outbox).
    probe: Probe | None = None

    def __post_init__(self) -> None:
        if self.route != f"{self.kind.value}/{self.provider}":
            raise ValueError(f"route {self.route!r} must be {self.kind.value}/{self.provider}")
        fields = self.section.model.model_fields if self.section else {}
        if unknown := [name for name in self.required if name not in fields]:
            raise ValueError(f"route {self.route} requires settings it does not have: {unknown}")

    def unset_settings(self, settings: object) -> list[tuple[str, str]]:
        """The required settings left empty in the whole `settings`, each as a person writes it
        with the variable that sets it: ("notify.api_key", "BROADCASTER_NOTIFY__API_KEY")."""
        if self.section is None:
            return []
        values = self.section.of(settings)
        return [
            (f"{self.section.name}.{name}", self.section.env_name(name))
            for name in self.required
            if not getattr(values, name)
        ]
