"""Run the real `broadcaster` command in a subprocess, as a user would, with settings in its env."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def cli_env(workdir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any BROADCASTER_ variable, plus a store in `workdir`
    and the given settings (`graph__base_url="..."` becomes BROADCASTER_GRAPH__BASE_URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env.update(
        {
            "BROADCASTER_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'broadcaster.db'}",
            "BROADCASTER_OUTBOX_DIR": str(workdir / "outbox"),
            "BROADCASTER_SECRETS_DIR": str(workdir / "no-secrets"),
        }
    )
    env.update({f"BROADCASTER_{name.upper()}": value for name, value in settings.items()})
    return env


def run_cli(workdir: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """`python -m broadcaster ARGS` in `workdir`, on the shipped example practices by default."""
    done = subprocess.run(  # noqa: S603  # our own CLI, arguments from the test
        [sys.executable, "-m", "broadcaster", *args],
        cwd=workdir,
        env={**cli_env(workdir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


async def start_cli(env: dict[str, str], workdir: Path, *args: str) -> asyncio.subprocess.Process:
    """Start the CLI without blocking this event loop, so fakes served by it keep answering."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "broadcaster",
        *args,
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_cli_async(env: dict[str, str], workdir: Path, *args: str, within: float = 240) -> CliResult:
    process = await start_cli(env, workdir, *args)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=within)
    except TimeoutError:
        process.kill()  # never leave a stuck CLI holding the port and database
        await process.wait()
        raise
    assert process.returncode is not None
    return CliResult(process.returncode, out.decode(), err.decode())
