"""Run the real `broadcaster` command in a subprocess, as a user would, with settings in its env."""

from __future__ import annotations

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


def run_cli(workdir: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """`python -m broadcaster ARGS` in `workdir`, on the shipped example practices by default."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    clean.update(
        {
            "BROADCASTER_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'broadcaster.db'}",
            "BROADCASTER_OUTBOX_DIR": str(workdir / "outbox"),
            "BROADCASTER_SECRETS_DIR": str(workdir / "no-secrets"),
            **(env or {}),
        }
    )
    done = subprocess.run(  # noqa: S603  # our own CLI, arguments from the test
        [sys.executable, "-m", "broadcaster", *args],
        cwd=workdir,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)
