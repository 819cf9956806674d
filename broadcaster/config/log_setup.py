"""structlog configuration: JSON off a terminal, key-value on one, and secrets scrubbed from every line.

`configure_logging` is called once, from the entry point, never at import.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 4  # shorter "secrets" would shred ordinary words


class SecretScrubber:
    """A structlog processor that replaces every known secret value wherever it appears."""

    def __init__(self) -> None:
        self._secrets: list[str] = []

    def register(self, values: Iterable[str]) -> None:
        known = set(self._secrets)
        known.update(v for v in values if len(v) >= _MIN_SECRET_LENGTH)
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted(known, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def _scrub_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self._scrub_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._scrub_value(v) for v in value)
        if isinstance(value, BaseException | bytes):
            return self.scrub(str(value))
        return value

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if not self._secrets:
            return event_dict
        for key, value in event_dict.items():
            event_dict[key] = self._scrub_value(value)
        return event_dict


SCRUBBER = SecretScrubber()


def configure_logging(
    *,
    log_format: str = "auto",
    level: str = "info",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Route structlog and the standard library's logging through one scrubbed pipeline."""
    SCRUBBER.register(secrets)
    stream = stream or sys.stderr
    as_json = log_format == "json" or (log_format == "auto" and not stream.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Tracebacks are rendered to text here so the scrubber sees them too.
        structlog.processors.format_exc_info,
        SCRUBBER,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party chatter stays out of an incident's log unless it is a problem.
    for noisy in ("apprise", "aiosqlite", "alembic", "aiohttp.access", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
