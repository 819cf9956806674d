"""Users, their recovery codes and API tokens, as plain rows: what sign-in and the token gate read.

Only digests, hashes and ciphertext reach these tables; what they mean (argon2, TOTP, roles) is
broadcaster.accounts' business.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broadcaster.core.errors import BroadcasterError
from broadcaster.store.audit_log import insert_audit
from broadcaster.store.records import AuditEntry
from broadcaster.store.schema import api_tokens, recovery_codes, users
from broadcaster.store.transactions import write_transaction


class NameTaken(BroadcasterError):
    """A user or token of that name exists already."""


class UnknownAccount(BroadcasterError):
    """No user or token of that name."""


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    name: str
    role: str
    ods_codes: tuple[str, ...]
    password_hash: str
    totp_secret_encrypted: str
    totp_last_step: int | None
    disabled: bool
    session_epoch: int
    created_at: float


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: int
    name: str
    role: str
    ods_codes: tuple[str, ...]
    created_at: float
    revoked_at: float | None


def _user(row: Row[tuple[object, ...]]) -> UserRow:
    m = row._mapping
    return UserRow(
        id=m["id"],
        name=m["name"],
        role=m["role"],
        ods_codes=tuple(m["ods_codes"]),
        password_hash=m["password_hash"],
        totp_secret_encrypted=m["totp_secret_encrypted"],
        totp_last_step=m["totp_last_step"],
        disabled=bool(m["disabled"]),
        session_epoch=m["session_epoch"],
        created_at=m["created_at"],
    )


def _token(row: Row[tuple[object, ...]]) -> TokenRow:
    m = row._mapping
    return TokenRow(m["id"], m["name"], m["role"], tuple(m["ods_codes"]), m["created_at"], m["revoked_at"])


async def add_user(
    engine: AsyncEngine,
    *,
    name: str,
    role: str,
    ods_codes: tuple[str, ...],
    password_hash: str,
    totp_secret_encrypted: str,
    recovery_digests: list[str],
    audit: AuditEntry,
    now: float,
) -> UserRow:
    try:
        async with write_transaction(engine) as conn:
            user_id = (
                await conn.execute(
                    insert(users)
                    .values(
                        name=name,
                        role=role,
                        ods_codes=list(ods_codes),
                        password_hash=password_hash,
                        totp_secret_encrypted=totp_secret_encrypted,
                        created_at=now,
                    )
                    .returning(users.c.id)
                )
            ).scalar_one()
            await _replace_recovery_codes(conn, user_id, recovery_digests)
            await insert_audit(conn, audit, now=now)
    except IntegrityError:
        raise NameTaken(
            f"there is already a user named {name!r}; `broadcaster users list` shows them"
        ) from None
    found = await user_by_name(engine, name)
    assert found is not None
    return found


async def _replace_recovery_codes(conn: AsyncConnection, user_id: int, digests: list[str]) -> None:
    await conn.execute(recovery_codes.delete().where(recovery_codes.c.user_id == user_id))
    if digests:
        await conn.execute(insert(recovery_codes), [{"user_id": user_id, "code_digest": d} for d in digests])


async def user_by_name(engine: AsyncEngine, name: str) -> UserRow | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.name == name))).first()
    return None if row is None else _user(row)


async def user_by_id(engine: AsyncEngine, user_id: int) -> UserRow | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
    return None if row is None else _user(row)


async def list_users(engine: AsyncEngine) -> list[UserRow]:
    async with engine.connect() as conn:
        return [_user(r) for r in await conn.execute(select(users).order_by(users.c.name))]


async def change_user(
    engine: AsyncEngine,
    name: str,
    *,
    audit: AuditEntry,
    now: float,
    recovery_digests: list[str] | None = None,
    **values: object,
) -> UserRow:
    """Set `values` on the user and end every session it has (its epoch moves on)."""
    async with write_transaction(engine) as conn:
        user_id = await conn.scalar(select(users.c.id).where(users.c.name == name))
        if user_id is None:
            raise UnknownAccount(f"no user named {name!r}; `broadcaster users list` shows them")
        await conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(session_epoch=users.c.session_epoch + 1, **values)
        )
        if recovery_digests is not None:
            await _replace_recovery_codes(conn, user_id, recovery_digests)
        await insert_audit(conn, audit, now=now)
    found = await user_by_id(engine, user_id)
    assert found is not None
    return found


async def accept_totp_step(engine: AsyncEngine, user_id: int, step: int) -> bool:
    """Record `step` as the user's last accepted code; False if it (or a later one) was used already."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .where((users.c.totp_last_step.is_(None)) | (users.c.totp_last_step < step))
            .values(totp_last_step=step)
        )
    return result.rowcount == 1


async def use_recovery_code(engine: AsyncEngine, user_id: int, digest: str, *, now: float) -> bool:
    """Mark the user's unused code with this digest used; False when there is none."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_digest == digest,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
    return result.rowcount == 1


async def unused_recovery_codes(engine: AsyncEngine, user_id: int) -> int:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(recovery_codes.c.id).where(
                recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
            )
        )
        return len(rows.all())


async def add_token(
    engine: AsyncEngine,
    *,
    name: str,
    role: str,
    ods_codes: tuple[str, ...],
    token_digest: str,
    audit: AuditEntry,
    now: float,
) -> None:
    try:
        async with write_transaction(engine) as conn:
            await conn.execute(
                insert(api_tokens).values(
                    name=name, role=role, ods_codes=list(ods_codes), token_digest=token_digest, created_at=now
                )
            )
            await insert_audit(conn, audit, now=now)
    except IntegrityError:
        raise NameTaken(
            f"there is already a token named {name!r}; `broadcaster tokens list` shows them"
        ) from None


async def token_by_digest(engine: AsyncEngine, digest: str) -> TokenRow | None:
    """The live (not revoked) token with this digest."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(api_tokens).where(
                    api_tokens.c.token_digest == digest, api_tokens.c.revoked_at.is_(None)
                )
            )
        ).first()
    return None if row is None else _token(row)


async def list_tokens(engine: AsyncEngine) -> list[TokenRow]:
    async with engine.connect() as conn:
        return [_token(r) for r in await conn.execute(select(api_tokens).order_by(api_tokens.c.name))]


async def revoke_token(engine: AsyncEngine, name: str, *, audit: AuditEntry, now: float) -> None:
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(api_tokens)
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if result.rowcount != 1:
            raise UnknownAccount(f"no live token named {name!r}; `broadcaster tokens list` shows them")
        await insert_audit(conn, audit, now=now)
