"""The practice directory: who the practices are and where their messages go.

Format (YAML; see docs/directory.md):

    defaults: {facebook_provider: graph, sms_provider: notify, email_provider: smtp}
    practices:
      - ods: Y00001
        name: Riverside Surgery
        groups: [north-pcn]
        placeholders: {alt_phone: "01632 960001", website: "https://riverside.example"}
        facebook: {page_id: "100000000000001", token: fb_y00001}   # token: a secret's NAME
        sms: {recipients: ["07700 900001"]}
        email: {recipients: [manager@riverside.example]}
        apprise: [teams_north]                                       # secret names of apprise URLs
        exercise:                        # optional: where a drill (`send --exercise`) goes instead
          facebook: {page_id: "100000000000901", token: fb_test_page}
          sms: {recipients: ["07700 900901"]}
          email: {recipients: [drills@riverside.example]}
        checks: [{name: website, kind: http, target: "https://riverside.example"}]  # directory.checks

Secrets are referenced by name and resolved from settings; a value that looks like a real token
is refused here so it can never be committed by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    field_validator,
)

from broadcaster.config.providers import DEFAULT_PROVIDERS, spec_for
from broadcaster.config.yaml_source import YamlDocument, dotted, load_yaml, problems_from
from broadcaster.core.control_characters import first_in_line, first_in_message
from broadcaster.core.errors import DirectoryError, FileProblem
from broadcaster.core.models import ChannelKind
from broadcaster.core.phone import NotAUkMobile, normalise_uk_mobile
from broadcaster.directory.checks import CheckSpec, GroupCheck
from channels.outbox.spec import APPRISE_OUTBOX, EMAIL_OUTBOX, FACEBOOK_OUTBOX, SMS_OUTBOX

_SECRET_REF = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LOOKS_LIKE_A_TOKEN = re.compile(r"^(EAA|eaa)[A-Za-z0-9]{20,}")  # Facebook tokens start EAA
_PLACEHOLDER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
BUILT_IN_PLACEHOLDERS = ("practice_name", "ods")
# Where a drill goes on a channel the practice declared no test endpoint for.
_OUTBOX_ROUTES = {
    ChannelKind.FACEBOOK: FACEBOOK_OUTBOX,
    ChannelKind.SMS: SMS_OUTBOX,
    ChannelKind.EMAIL: EMAIL_OUTBOX,
    ChannelKind.APPRISE: APPRISE_OUTBOX,
}


def _secret_reference(value: str) -> str:
    ref = value.strip().lower()
    if _LOOKS_LIKE_A_TOKEN.match(value.strip()) or not _SECRET_REF.match(ref):
        raise ValueError(
            "must be the NAME of a secret (letters, digits, underscores, e.g. fb_y00001), "
            "not the secret itself; put the value in BROADCASTER_SECRETS__<NAME> or the "
            "secrets directory"
        )
    return ref


def _uk_mobile(value: str) -> str:
    try:
        return normalise_uk_mobile(value)
    except NotAUkMobile as exc:
        raise ValueError(f"{exc}; give a UK mobile such as 07700 900123") from None


def _provider_on(kind: ChannelKind) -> AfterValidator:
    """A provider name known for `kind` (broadcaster.config.providers lists them)."""

    def known(value: str) -> str:
        spec_for(kind, value)  # ValueError naming the known ones
        return value

    return AfterValidator(known)


SecretRef = Annotated[str, AfterValidator(_secret_reference)]
FacebookProvider = Annotated[str, _provider_on(ChannelKind.FACEBOOK)]
SmsProvider = Annotated[str, _provider_on(ChannelKind.SMS)]
EmailProvider = Annotated[str, _provider_on(ChannelKind.EMAIL)]
UkMobile = Annotated[str, AfterValidator(_uk_mobile)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


class FacebookEndpoint(_Strict):
    page_id: Annotated[str, Field(pattern=r"^\d{5,20}$")]
    token: SecretRef
    provider: FacebookProvider | None = None


class SmsEndpoint(_Strict):
    recipients: Annotated[list[UkMobile], Field(min_length=1)]
    provider: SmsProvider | None = None
    apprise_url: SecretRef | None = None  # for a provider that needs one (apprise: URL containing {phone})


class EmailEndpoint(_Strict):
    recipients: Annotated[list[EmailStr], Field(min_length=1)]
    provider: EmailProvider | None = None


class ExerciseEndpoints(_Strict):
    """A practice's test endpoints: what a drill sends to instead of the real ones."""

    facebook: FacebookEndpoint | None = None
    sms: SmsEndpoint | None = None
    email: EmailEndpoint | None = None
    apprise: list[SecretRef] = []


class Defaults(_Strict):
    facebook_provider: FacebookProvider = DEFAULT_PROVIDERS[ChannelKind.FACEBOOK].provider
    sms_provider: SmsProvider = DEFAULT_PROVIDERS[ChannelKind.SMS].provider
    sms_apprise_url: SecretRef | None = None
    email_provider: EmailProvider = DEFAULT_PROVIDERS[ChannelKind.EMAIL].provider


class Practice(_Strict):
    ods: Annotated[str, Field(pattern=r"^[A-Z][0-9]{5}$")]
    name: Annotated[str, Field(min_length=1, max_length=120)]
    # Public: the area of the practice's CAP alerts and its status page ("LS1 4AB").
    postcode: Annotated[str, Field(pattern=r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")] | None = None
    groups: list[Annotated[str, Field(min_length=1)]] = []
    placeholders: dict[str, str] = {}
    facebook: FacebookEndpoint | None = None
    sms: SmsEndpoint | None = None
    email: EmailEndpoint | None = None
    apprise: list[SecretRef] = []
    exercise: ExerciseEndpoints | None = None
    checks: list[CheckSpec] = []  # health checks of this practice's services (directory.checks)

    @field_validator("ods", mode="before")
    @classmethod
    def _upper_ods(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("postcode", mode="before")
    @classmethod
    def _upper_postcode(cls, value: object) -> object:
        return " ".join(value.upper().split()) if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _one_line_name(cls, value: str) -> str:
        if (found := first_in_line(value)) is not None:  # it starts every text and email footer
            raise ValueError(f"the name contains {found.describe()}: write it on one line")
        return value

    @field_validator("placeholders")
    @classmethod
    def _placeholder_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _PLACEHOLDER_NAME.match(name):
                raise ValueError(f"placeholder name {name!r} must be lower_case_with_underscores")
            if name in BUILT_IN_PLACEHOLDERS:
                raise ValueError(f"placeholder {name!r} is built in; remove it from placeholders")
            if (found := first_in_message(text)) is not None:  # it is filled into every text
                raise ValueError(f"placeholder {name!r} contains {found.describe()}: remove it")
        return value

    def placeholder_values(self) -> dict[str, str]:
        return {"practice_name": self.name, "ods": self.ods, **self.placeholders}


class DirectoryFile(_Strict):
    defaults: Defaults = Defaults()
    checks: list[GroupCheck] = []  # health checks of a target a whole group shares
    practices: Annotated[list[Practice], Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One recipient of one channel of one practice: one delivery per update."""

    practice: str
    channel: ChannelKind
    recipient: str
    route: str  # FACEBOOK_GRAPH, SMS_NOTIFY, ...: a spec's route (broadcaster.config.providers)
    credential_ref: str | None


@dataclass(frozen=True)
class Directory:
    path: Path
    defaults: Defaults
    practices: tuple[Practice, ...]
    group_checks: tuple[GroupCheck, ...] = ()

    def endpoints(self, practice: Practice) -> tuple[Endpoint, ...]:
        """Where this practice's messages go: worked out once per directory, not per send."""
        return self._endpoints_by_ods[practice.ods]

    def exercise_endpoints(self, practice: Practice) -> tuple[Endpoint, ...]:
        """Where a drill's messages for this practice go: on each channel the practice has, its
        declared test endpoints, else its own recipients through that channel's outbox route,
        so nothing of a drill leaves the machine unless someone named where it may go."""
        return self._exercise_endpoints_by_ods[practice.ods]

    def endpoints_for(self, practice: Practice, *, exercise: bool) -> tuple[Endpoint, ...]:
        return self.exercise_endpoints(practice) if exercise else self.endpoints(practice)

    def every_endpoint(self) -> list[Endpoint]:
        """Every endpoint a message or a drill may go to: what `serve` builds routes for and
        `check` checks the secrets of."""
        return [e for p in self.practices for e in (*self.endpoints(p), *self.exercise_endpoints(p))]

    @cached_property
    def _endpoints_by_ods(self) -> dict[str, tuple[Endpoint, ...]]:
        return {p.ods: tuple(self._endpoints_of(p)) for p in self.practices}

    @cached_property
    def _exercise_endpoints_by_ods(self) -> dict[str, tuple[Endpoint, ...]]:
        return {p.ods: tuple(self._exercise_endpoints_of(p)) for p in self.practices}

    def _exercise_endpoints_of(self, practice: Practice) -> list[Endpoint]:
        declared = practice.exercise or ExerciseEndpoints()
        tests = self._endpoints_of(
            practice.model_copy(
                update={
                    "facebook": declared.facebook,
                    "sms": declared.sms,
                    "email": declared.email,
                    "apprise": declared.apprise,
                }
            )
        )
        declared_channels = {e.channel for e in tests}
        out = []
        for channel in dict.fromkeys(e.channel for e in self.endpoints(practice)):  # in order
            if channel in declared_channels:
                out += [e for e in tests if e.channel is channel]
            else:
                out += [
                    replace(e, route=_OUTBOX_ROUTES[channel], credential_ref=None)
                    for e in self.endpoints(practice)
                    if e.channel is channel
                ]
        return out

    def by_ods(self) -> dict[str, Practice]:
        return {p.ods: p for p in self.practices}

    def groups(self) -> set[str]:
        return {g for p in self.practices for g in p.groups}

    def _endpoints_of(self, practice: Practice) -> list[Endpoint]:
        d, out = self.defaults, []
        if practice.facebook:
            route = spec_for(ChannelKind.FACEBOOK, practice.facebook.provider or d.facebook_provider).route
            out.append(
                Endpoint(
                    practice.ods,
                    ChannelKind.FACEBOOK,
                    practice.facebook.page_id,
                    route,
                    practice.facebook.token,
                )
            )
        if practice.sms:
            sms = spec_for(ChannelKind.SMS, practice.sms.provider or d.sms_provider)
            # The directory's one SMS secret field, for a provider that needs one (apprise).
            ref = (practice.sms.apprise_url or d.sms_apprise_url) if sms.credential else None
            out += [
                Endpoint(practice.ods, ChannelKind.SMS, number, sms.route, ref)
                for number in practice.sms.recipients
            ]
        if practice.email:
            route = spec_for(ChannelKind.EMAIL, practice.email.provider or d.email_provider).route
            out += [
                Endpoint(practice.ods, ChannelKind.EMAIL, address.lower(), route, None)
                for address in practice.email.recipients
            ]
        apprise = DEFAULT_PROVIDERS[ChannelKind.APPRISE].route  # the directory names no other
        out += [Endpoint(practice.ods, ChannelKind.APPRISE, ref, apprise, ref) for ref in practice.apprise]
        return out


def load_directory(path: Path) -> Directory:
    """Read and validate the directory; raise DirectoryError listing every problem with its line."""
    loaded = load_yaml(path)
    if isinstance(loaded, FileProblem):
        raise DirectoryError([loaded])
    try:
        parsed = DirectoryFile.model_validate(loaded.data if loaded.data is not None else {})
    except ValidationError as exc:
        raise DirectoryError(problems_from(loaded, exc, _where)) from None
    if repeated := _repeated_ods_codes(loaded, parsed.practices):
        raise DirectoryError(repeated)
    # Resolved here, off the event loop, for messages that must name it (or hide it).
    if unknown := _unknown_check_groups(loaded, parsed):
        raise DirectoryError(unknown)
    return Directory(
        path=path.resolve(),
        defaults=parsed.defaults,
        practices=tuple(parsed.practices),
        group_checks=tuple(parsed.checks),
    )


def _unknown_check_groups(doc: YamlDocument, parsed: DirectoryFile) -> list[FileProblem]:
    """A group check for a group no practice is in would never reach anyone."""
    known = {g for p in parsed.practices for g in p.groups}
    return [
        FileProblem(
            doc.path,
            doc.line_of(("checks", index, "group")),
            f"checks[{index}] ({check.name}), field group",
            f"no practice is in group {check.group!r}; known groups: {', '.join(sorted(known)) or 'none'}",
        )
        for index, check in enumerate(parsed.checks)
        if check.group not in known
    ]


def _repeated_ods_codes(doc: YamlDocument, practices: list[Practice]) -> list[FileProblem]:
    """Each entry whose ODS code an earlier one has, at its own line: it would double every message."""
    first: dict[str, int] = {}
    problems = []
    for index, practice in enumerate(practices):
        earlier = first.setdefault(practice.ods, index)
        if earlier != index:
            loc = ("practices", index, "ods")
            message = (
                f"ODS code {practice.ods} is already listed at entry {earlier + 1} "
                f"(line {doc.line_of(('practices', earlier, 'ods'))}): list each practice once, "
                "or it gets every message twice"
            )
            problems.append(FileProblem(doc.path, doc.line_of(loc), _where(doc, loc), message))
    return problems


def _where(doc: YamlDocument, loc: tuple[str | int, ...]) -> str:
    """Name the practice by ODS code and name, then the field inside it."""
    if len(loc) >= 2 and loc[0] == "practices" and isinstance(loc[1], int):
        entry = doc.data["practices"][loc[1]] if isinstance(doc.data, dict) else None
        ods = entry.get("ods", "?") if isinstance(entry, dict) else "?"
        name = entry.get("name") if isinstance(entry, dict) else None
        who = f"practice {ods}" + (f" ({name})" if name else "") + f" [entry {loc[1] + 1}]"
        field = dotted(loc[2:])
        return f"{who}, field {field}" if field else who
    return f"field {dotted(loc)}" if loc else "top level"
