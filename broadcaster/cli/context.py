"""What every command needs: settings, the practice directory, who is acting, and logging.

Each is loaded on first use, and so is the code behind it: `--help` must not wait for
pydantic, the YAML parser or SQLAlchemy (see cli/main.py).
"""

from __future__ import annotations

import gc
import getpass
import socket
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broadcaster.config.settings import Settings
    from broadcaster.directory.practices import Directory
    from broadcaster.incidents.service import Actor
    from broadcaster.runbooks.templates import Runbook


@dataclass
class CliContext:
    log_level: str | None = None
    actor_name: str | None = None

    @cached_property
    def settings(self) -> Settings:
        from broadcaster.config.log_setup import configure_logging  # noqa: PLC0415
        from broadcaster.config.settings import load_settings  # noqa: PLC0415

        settings = load_settings()
        configure_logging(
            log_format=settings.log_format,
            # A person at a terminal wants the progress bar, not a line per message.
            level=self.log_level or "warning",
            secrets=settings.secret_values(),
        )
        return settings

    @cached_property
    def directory(self) -> Directory:
        from broadcaster.directory.practices import load_directory  # noqa: PLC0415

        # Read before the event loop starts: file I/O never blocks the dispatcher.
        directory = load_directory(self.settings.directory)
        # The directory lives as long as the process: keep its objects out of every later GC
        # pass, which otherwise rescans them all and stalls the event loop (~100 ms at 6,500).
        gc.freeze()
        return directory

    @cached_property
    def runbooks_folder(self) -> Path:
        from broadcaster.config.shipped_files import shipped_runbooks_path  # noqa: PLC0415

        return self.settings.runbooks_dir or shipped_runbooks_path()

    @cached_property
    def runbooks(self) -> dict[str, Runbook]:
        from broadcaster.runbooks.templates import load_runbooks  # noqa: PLC0415

        return load_runbooks(self.runbooks_folder)

    def runbook(self, name: str) -> Runbook:
        from broadcaster.core.errors import ConfigError  # noqa: PLC0415

        found = self.runbooks.get(name)
        if found is None:
            raise ConfigError(
                f"no runbook {name!r} in {self.runbooks_folder}; "
                f"`broadcaster runbooks` lists them: {', '.join(sorted(self.runbooks))}"
            )
        return found

    def actor(self) -> Actor:
        from broadcaster.incidents.service import Actor  # noqa: PLC0415

        name = self.actor_name or _login_name()
        return Actor(name=name, origin=f"cli@{socket.gethostname()}")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
