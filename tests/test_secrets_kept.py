"""The first admin is made with the CLI and signs in over HTTP; no password, TOTP secret, recovery
code, token or server key ever shows in a response, a page, a log line or the database."""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from broadcaster.directory.practices import Directory
from broadcaster.store.schema import api_tokens
from tests.accounts_helpers import (
    KEYS,
    PASSWORD,
    SERVER_SECRET,
    bearer,
    submit_code,
    submit_password,
    totp_of,
)
from tests.api_server import AUTH, OPEN, TOKEN, api_client
from tests.cli_runner import CliResult, cli_env, run_cli

_URI = re.compile(r"otpauth://\S+")
_CODE = re.compile(r"^  ([0-9a-f]{4}(?:-[0-9a-f]{4}){4})$", re.MULTILINE)


def _cli(workdir: Path, *args: str, stdin: str = "") -> CliResult:
    env = cli_env(workdir, web__secret_key=SERVER_SECRET)
    done = subprocess.run(  # noqa: S603  # our own CLI
        [sys.executable, "-m", "broadcaster", *args],
        cwd=workdir,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def test_users_add_refuses_a_short_password_and_a_taken_name(tmp_path: Path) -> None:
    """A weak password or a second user of one name exits 2 with what to do; nothing echoes the password."""
    short = _cli(tmp_path, "users", "add", "alice", "--role", "admin", "--password-stdin", stdin="tiny\n")
    assert short.code == 2
    assert "at least 12 characters" in short.err
    assert "tiny" not in short.out + short.err
    assert (
        _cli(tmp_path, "users", "add", "alice", "--role", "admin", "--password-stdin", stdin=PASSWORD).code
        == 0
    )
    again = _cli(tmp_path, "users", "add", "alice", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert again.code == 2
    assert "already a user named 'alice'" in again.err


def test_tokens_add_needs_ods_for_the_practice_role(tmp_path: Path) -> None:
    """`tokens add --role practice` without --ods, or with a code not in the directory, exits 2."""
    missing = run_cli(tmp_path, "tokens", "add", "surgery", "--role", "practice")
    assert missing.code == 2
    assert "add --ods CODE" in missing.err
    unknown = run_cli(tmp_path, "tokens", "add", "surgery", "--role", "practice", "--ods", "Z99999")
    assert unknown.code == 2
    assert "Z99999 not found in the practice directory" in unknown.err


async def test_a_cli_made_admin_signs_in_and_no_secret_leaks(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything secret is shown once by the CLI and then appears nowhere: not in any HTTP answer,
    log event (structlog's or aiohttp's), later CLI output, nor anywhere in the SQLite file."""
    added = _cli(
        tmp_path, "users", "add", "alice", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert added.code == 0, added.err
    uri_match = _URI.search(added.out)
    assert uri_match is not None
    totp, codes = totp_of(uri_match.group(0)), _CODE.findall(added.out)
    assert len(codes) == 10
    made = _cli(tmp_path, "tokens", "add", "ci", "--role", "commissioner")
    assert made.code == 0, made.err
    token = made.out.strip().splitlines()[-1]
    assert token.startswith("bct_")

    secrets = [
        PASSWORD,
        totp.secret,
        token,
        SERVER_SECRET,
        TOKEN,
        *codes,
        *(c.replace("-", "") for c in codes),
    ]
    seen: list[str] = []
    caplog.set_level(logging.DEBUG)
    with capture_logs() as events:
        async with api_client(engine, example_directory, tmp_path, keys=KEYS) as client:
            for response in [
                await submit_password(client, "alice", "a wrong password here"),
                await submit_password(client, "alice", PASSWORD),
                await submit_code(client, totp.now()),
                await client.get("/account"),
                await client.get("/api/incidents", headers=bearer(token)),
                await client.post("/api/incidents", json=OPEN, headers=AUTH),
                await client.get("/api/incidents/INC-1/deliveries", headers=AUTH),
                await client.get("/api/audit"),
                await client.get("/api/audit.csv"),
                await client.get("/api/incidents", headers=bearer(token + "x")),
            ]:
                seen.append(f"{response.status} {dict(response.headers)} {await response.text()}")
    assert [s[:3] for s in seen] == ["401", "303", "303", "200", "200", "201", "200", "200", "200", "401"]
    later = [_cli(tmp_path, "users", "list"), _cli(tmp_path, "tokens", "list")]
    assert all(r.code == 0 for r in later)
    seen += [repr(e) for e in events] + [r.getMessage() for r in caplog.records]
    seen += [r.out + r.err for r in later] + [added.err, made.err]
    with sqlite3.connect(tmp_path / "broadcaster.db") as db:
        seen += list(db.iterdump())

    everything = "\n".join(seen)
    assert "signed_in" in everything  # what was read is the real trail
    for secret in secrets:
        assert secret not in everything, f"a secret ({secret[:4]}...) was found"


async def test_tokens_are_stored_only_as_their_sha256_digest(tmp_path: Path, engine: AsyncEngine) -> None:
    """The database holds the token's SHA-256 and nothing from which the token could be read."""
    made = run_cli(tmp_path, "tokens", "add", "ci", "--role", "commissioner")
    token = made.out.strip().splitlines()[-1]
    async with engine.connect() as conn:
        stored = (await conn.execute(select(api_tokens.c.token_digest))).scalar_one()
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    listed = run_cli(tmp_path, "tokens", "list")
    assert "ci" in listed.out
    assert token not in listed.out
