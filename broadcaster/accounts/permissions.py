"""Roles, the actions each may take, and the principal every request acts as.

    admin         everything: users, tokens, the audit trail, /metrics, and all a commissioner may do
    commissioner  incidents for all practices or any group: read, open, update, the delivery grid
    practice      the same, but only for the practices (ODS codes) it is bound to
    monitor       only the health-check webhooks (/api/hooks/*); refused everywhere else

Admin is a superset so the legacy BROADCASTER_API_TOKEN, which has always opened incidents, keeps
working as an admin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COMMISSIONER = "commissioner"
    PRACTICE = "practice"
    MONITOR = "monitor"


class CredentialKind(StrEnum):
    """How a principal proved who it is; recorded with every audited action."""

    SESSION = "session"  # signed in with password and second factor
    API_TOKEN = "api-token"  # noqa: S105  # a kind of credential, not one: a token from `tokens add`
    LEGACY_TOKEN = "legacy-token"  # noqa: S105  # the kind: BROADCASTER_API_TOKEN


class Action(StrEnum):
    READ_INCIDENTS = "read incidents"
    OPEN_INCIDENT = "open incidents"
    POST_UPDATE = "post updates"
    READ_DELIVERIES = "read the delivery grid"
    MANAGE_USERS = "manage users"
    MANAGE_TOKENS = "manage API tokens"
    READ_AUDIT = "read the audit trail"
    CALL_HOOKS = "call the health-check webhooks"
    SEE_OWN_ACCOUNT = "see their own account"
    READ_METRICS = "read the delivery metrics"
    DECIDE_DRAFTS = "confirm or discard a monitor's drafts"


_INCIDENT_WORK = frozenset(
    {
        Action.READ_INCIDENTS,
        Action.OPEN_INCIDENT,
        Action.POST_UPDATE,
        Action.READ_DELIVERIES,
        Action.DECIDE_DRAFTS,  # a practice user: only drafts that reach none but its practices
    }
)
ALLOWED: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.COMMISSIONER: _INCIDENT_WORK | {Action.SEE_OWN_ACCOUNT},
    Role.PRACTICE: _INCIDENT_WORK | {Action.SEE_OWN_ACCOUNT},  # narrowed to its practices by Principal.scope
    Role.MONITOR: frozenset({Action.CALL_HOOKS, Action.SEE_OWN_ACCOUNT}),
}


class NotAllowed(Exception):
    """The principal is known but may not do this (HTTP 403); the message says what is needed."""


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    ods_codes: frozenset[str]  # the practice role's practices; empty for every other role
    credential: CredentialKind

    @property
    def scope(self) -> frozenset[str] | None:
        """The practices this principal is limited to; None: every practice."""
        return self.ods_codes if self.role is Role.PRACTICE else None

    def may(self, action: Action) -> bool:
        return action in ALLOWED[self.role]

    def require(self, action: Action) -> None:
        if not self.may(action):
            who = [r.value for r in Role if action in ALLOWED[r]]
            raise NotAllowed(
                f"{self.name} ({self.role} role) may not {action}; that needs the role {' or '.join(who)}"
            )

    def sees_any(self, practices: Iterable[str]) -> bool:
        """Whether an incident reaching `practices` is one this principal may see."""
        return self.scope is None or not self.scope.isdisjoint(practices)

    def require_practices(self, practices: Iterable[str], *, what: str) -> None:
        """Refuse unless every one of `practices` is within this principal's scope."""
        if self.scope is None:
            return
        outside = sorted(set(practices) - self.scope)
        if outside:
            raise NotAllowed(
                f"{self.name} may {what} only for {', '.join(sorted(self.scope))}; "
                f"this reaches {', '.join(outside[:10])}{' ...' if len(outside) > 10 else ''} too"
            )


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        from broadcaster.core.errors import ConfigError  # noqa: PLC0415  (rarely reached)

        raise ConfigError(
            f"unknown role {value!r}; choose one of {', '.join(r.value for r in Role)}"
        ) from None
