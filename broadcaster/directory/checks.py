"""Health checks as the directory declares them: per practice (its own website, its booking
page) or per group (one telephony gateway a PCN shares).

    checks:                                  # top level: one target for a whole group
      - {name: telephony, group: north-pcn, kind: tcp, target: "gw.north.example:5060"}
    practices:
      - ods: X99001
        checks:
          - {name: online-booking, kind: http, target: "https://book.example/x99001",
             expect_status: 200, expect_text: "Book an appointment", runbook: website-down,
             fields: {services: online booking}}

Checks with the same `name` are one kind of check: when several practices fail it at once
(a shared supplier is down), they make one incident (monitoring.health_checks).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from broadcaster.core.models import AlertPolicy

_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")


class CheckSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=_NAME)]  # the kind of check: same name, one incident
    kind: Literal["http", "tcp", "dns"]
    target: Annotated[str, Field(min_length=1, max_length=500)]  # URL; host:port; host name
    interval: Annotated[float, Field(gt=0, le=86400)] = 60.0  # seconds between probes
    timeout: Annotated[float, Field(gt=0, le=300)] = 10.0  # a probe taking longer has failed
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] = []  # http; empty: any 2xx or 3xx
    expect_text: Annotated[str, Field(min_length=1, max_length=500)] | None = None  # http body; dns address
    resolver: str | None = None  # dns: "host:port" of the name server to ask; unset: the system's
    fail_after: Annotated[int, Field(ge=1, le=100)] = 3  # consecutive failures before it is down
    recover_after: Annotated[int, Field(ge=1, le=100)] = 2  # consecutive successes before it is up
    group_seconds: Annotated[float, Field(ge=0, le=3600)] = 30.0  # wait for others failing the same
    hold_down: Annotated[float, Field(ge=0, le=86400)] = 600.0  # after a resolve, no new incident sooner
    policy: AlertPolicy = AlertPolicy.OPEN  # open and send at once, or a draft a person confirms
    runbook: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    fields: dict[str, Annotated[str, Field(max_length=500)]] = {}

    @field_validator("policy", mode="before")
    @classmethod
    def _known_policy(cls, value: object) -> object:
        if isinstance(value, str) and value not in {p.value for p in AlertPolicy}:
            raise ValueError(
                f"unknown policy {value!r}; use policy: open (open and send at once) "
                "or policy: draft (a draft a person confirms with `broadcaster confirm`)"
            )
        return value

    @model_validator(mode="after")
    def _target_fits_kind(self) -> CheckSpec:
        problem = _target_problem(self.kind, self.target)
        if problem:
            raise ValueError(f"target {self.target!r}: {problem}")
        if self.resolver is not None and (self.kind != "dns" or _host_port(self.resolver) is None):
            raise ValueError('resolver is for dns checks and is "host:port", e.g. "10.0.0.53:53"')
        if self.timeout > self.interval:
            raise ValueError(
                f"timeout ({self.timeout:g} s) must not be longer than interval ({self.interval:g} s)"
            )
        return self


class GroupCheck(CheckSpec):
    group: Annotated[str, Field(min_length=1)]


def _target_problem(kind: str, target: str) -> str | None:
    if kind == "http":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "an http check's target is a URL such as https://booking.example/x99001"
        return None
    if kind == "tcp":
        return None if _host_port(target) else 'a tcp check\'s target is "host:port", e.g. "gw.example:5060"'
    return None if _HOST.match(target) else "a dns check's target is a host name, e.g. booking.example"


def _host_port(value: str) -> tuple[str, int] | None:
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    if (
        not host
        or not port.isdigit()
        or not 0 < int(port) < 65536
        or not _HOST.match(host if ":" not in host else f"[{host}]")
    ):
        return None
    return host, int(port)


def host_port(value: str) -> tuple[str, int]:
    """A checked "host:port" target's parts."""
    found = _host_port(value)
    if found is None:
        raise ValueError(f"not host:port: {value!r}")
    return found
