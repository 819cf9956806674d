"""What every command needs: settings, the practice directory, who is acting, and logging."""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from functools import cached_property

from broadcaster.directory import Directory, load_directory
from broadcaster.incident_service import Actor
from broadcaster.log_setup import configure_logging
from broadcaster.settings import Settings, load_settings


@dataclass
class CliContext:
    log_level: str | None = None
    actor_name: str | None = None

    @cached_property
    def settings(self) -> Settings:
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
        # Read before the event loop starts: file I/O never blocks the dispatcher.
        return load_directory(self.settings.directory)

    def actor(self) -> Actor:
        name = self.actor_name or _login_name()
        return Actor(name=name, origin=f"cli@{socket.gethostname()}")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
