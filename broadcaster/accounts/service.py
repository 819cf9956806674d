"""Managing users and tokens, and checking what they present: the one place that hashes,
seals and compares. Used by the CLI (`broadcaster users`, `tokens`) and the web (sign-in, the gate).

Argon2 work runs in a worker thread, so a sign-in never stalls the dispatcher's event loop.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts import api_tokens, passwords, second_factor
from broadcaster.accounts.permissions import CredentialKind, Principal, Role
from broadcaster.accounts.server_keys import ServerKeys
from broadcaster.core.errors import ConfigError
from broadcaster.store import account_rows
from broadcaster.store.account_rows import TokenRow, UserRow
from broadcaster.store.audit_log import AuditRecord, append_audit, read_audit
from broadcaster.store.records import AuditEntry

_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")


class Acting(Protocol):
    """Who is making a change, for the audit trail (incidents.service.Actor fits)."""

    @property
    def name(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def credential(self) -> str: ...


@dataclass(frozen=True, slots=True)
class SecondFactorSetup:
    """Shown once, when a user is added or their second factor reset; never stored as such."""

    provisioning_uri: str
    recovery_codes: list[str]


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A user as `users list` and an admin's API show them: no hash, no secret."""

    name: str
    role: Role
    ods_codes: tuple[str, ...]
    disabled: bool
    created_at: float
    recovery_codes_left: int


def check_name(name: str, *, what: str = "user") -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"{what} name {name!r} is not allowed: use 1 to 64 lower-case letters, digits, "
            "'.', '_', '@' or '-', starting with a letter or digit"
        )
    return name


def check_scope(role: Role, ods_codes: Collection[str], *, known: Collection[str]) -> tuple[str, ...]:
    """A practice role needs its ODS codes (each in the directory); no other role takes any."""
    codes = tuple(sorted({c.strip().upper() for c in ods_codes}))
    if role is Role.PRACTICE and not codes:
        raise ConfigError("the practice role needs the practices it acts for: add --ods CODE (one or more)")
    if role is not Role.PRACTICE and codes:
        raise ConfigError(f"--ods is only for the practice role; the {role} role covers its own scope")
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ConfigError(
            f"ODS code {', '.join(unknown)} not found in the practice directory; "
            "`broadcaster check` lists the directory in use"
        )
    return codes


class AccountService:
    def __init__(
        self, *, engine: AsyncEngine, keys: ServerKeys, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine, self._keys, self._now = engine, keys, clock

    # --- users ---------------------------------------------------------------------------

    async def add_user(
        self, *, name: str, role: Role, ods_codes: tuple[str, ...], password: str, by: Acting
    ) -> SecondFactorSetup:
        check_name(name)
        passwords.check_new_password(password, user_name=name)
        password_hash = await asyncio.to_thread(passwords.hash_password, password)
        secret = second_factor.new_totp_secret()
        codes = second_factor.new_recovery_codes()
        await account_rows.add_user(
            self._engine,
            name=name,
            role=role.value,
            ods_codes=ods_codes,
            password_hash=password_hash,
            totp_secret_encrypted=self._keys.seal_totp_secret(secret),
            recovery_digests=[second_factor.recovery_digest(c) for c in codes],
            audit=_audit(by, "user_added", {"user": name, "role": role.value, "ods": list(ods_codes)}),
            now=self._now(),
        )
        return SecondFactorSetup(second_factor.provisioning_uri(secret, user_name=name), codes)

    async def users(self) -> list[UserSummary]:
        return [
            UserSummary(
                u.name,
                Role(u.role),
                u.ods_codes,
                u.disabled,
                u.created_at,
                await account_rows.unused_recovery_codes(self._engine, u.id),
            )
            for u in await account_rows.list_users(self._engine)
        ]

    async def disable_user(self, name: str, *, by: Acting) -> None:
        await account_rows.change_user(
            self._engine,
            name,
            audit=_audit(by, "user_disabled", {"user": name}),
            now=self._now(),
            disabled=True,
        )

    async def reset_password(self, name: str, password: str, *, by: Acting) -> None:
        passwords.check_new_password(password, user_name=name)
        password_hash = await asyncio.to_thread(passwords.hash_password, password)
        await account_rows.change_user(
            self._engine,
            name,
            audit=_audit(by, "password_reset", {"user": name}),
            now=self._now(),
            password_hash=password_hash,
        )

    async def reset_second_factor(self, name: str, *, by: Acting) -> SecondFactorSetup:
        secret = second_factor.new_totp_secret()
        codes = second_factor.new_recovery_codes()
        await account_rows.change_user(
            self._engine,
            name,
            audit=_audit(by, "totp_reset", {"user": name}),
            now=self._now(),
            recovery_digests=[second_factor.recovery_digest(c) for c in codes],
            totp_secret_encrypted=self._keys.seal_totp_secret(secret),
            totp_last_step=None,
        )
        return SecondFactorSetup(second_factor.provisioning_uri(secret, user_name=name), codes)

    # --- signing in ----------------------------------------------------------------------

    async def check_password(self, name: str, password: str) -> UserRow | None:
        """The enabled user with this name and password, else None (in about the same time)."""
        user = await account_rows.user_by_name(self._engine, name.strip().lower())
        usable = user is not None and not user.disabled
        ok = await asyncio.to_thread(
            passwords.verify_password, user.password_hash if usable and user else None, password
        )
        return user if ok else None

    async def check_second_factor(self, user: UserRow, code: str) -> str | None:
        """ "totp" or "recovery code" when `code` is a current TOTP code not used before or an
        unused recovery code of this user (which is then used up); None otherwise."""
        if second_factor.looks_like_recovery_code(code):
            digest = second_factor.recovery_digest(code)
            used = await account_rows.use_recovery_code(self._engine, user.id, digest, now=self._now())
            return "recovery code" if used else None
        secret = self._keys.open_totp_secret(user.totp_secret_encrypted)
        step = second_factor.matching_step(secret, code, now=self._now())
        if step is None or not await account_rows.accept_totp_step(self._engine, user.id, step):
            return None
        return "totp"

    async def user_named(self, name: str) -> UserRow | None:
        return await account_rows.user_by_name(self._engine, name.strip().lower())

    async def record(self, entry: AuditEntry) -> None:
        """An audit event that changes nothing else (a sign-in, a refusal, an export)."""
        await append_audit(self._engine, entry, now=self._now())

    async def audit_events(self, *, limit: int, before_id: int | None = None) -> list[AuditRecord]:
        """The audit trail, newest first (admins only: the web checks READ_AUDIT)."""
        return await read_audit(self._engine, limit=limit, before_id=before_id)

    async def session_principal(self, user_id: int, epoch: int) -> Principal | None:
        """The user a session cookie names, while enabled and nothing has reset their sign-in since."""
        user = await account_rows.user_by_id(self._engine, user_id)
        if user is None or user.disabled or user.session_epoch != epoch:
            return None
        return user_principal(user)

    # --- API tokens ----------------------------------------------------------------------

    async def add_token(self, *, name: str, role: Role, ods_codes: tuple[str, ...], by: Acting) -> str:
        """The new token, to be shown once: only its digest is kept."""
        check_name(name, what="token")
        token = api_tokens.new_token()
        await account_rows.add_token(
            self._engine,
            name=name,
            role=role.value,
            ods_codes=ods_codes,
            token_digest=api_tokens.token_digest(token),
            audit=_audit(by, "token_added", {"token": name, "role": role.value, "ods": list(ods_codes)}),
            now=self._now(),
        )
        return token

    async def tokens(self) -> list[TokenRow]:
        return await account_rows.list_tokens(self._engine)

    async def revoke_token(self, name: str, *, by: Acting) -> None:
        await account_rows.revoke_token(
            self._engine, name, audit=_audit(by, "token_revoked", {"token": name}), now=self._now()
        )

    async def token_principal(self, token: str) -> Principal | None:
        found = await account_rows.token_by_digest(self._engine, api_tokens.token_digest(token))
        if found is None:
            return None
        return Principal(found.name, Role(found.role), frozenset(found.ods_codes), CredentialKind.API_TOKEN)


def user_principal(user: UserRow) -> Principal:
    return Principal(user.name, Role(user.role), frozenset(user.ods_codes), CredentialKind.SESSION)


def _audit(by: Acting, action: str, detail: dict[str, object]) -> AuditEntry:
    return AuditEntry(by.name, by.origin, action, detail, credential=by.credential)
