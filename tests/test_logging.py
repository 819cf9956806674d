"""Logs are JSON events with the delivery's context bound, and never carry a secret."""

from __future__ import annotations

import io
import json
import logging

import structlog

from broadcaster.config.log_setup import REDACTED, configure_logging

TOKEN = "EAAGpageTOKENthatMustNeverLeak123"


def read_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_off_a_terminal_logs_are_json_with_bound_delivery_context() -> None:
    """Each event is one JSON object carrying incident, update, practice, channel and attempt."""
    stream = io.StringIO()
    configure_logging(log_format="auto", level="info", stream=stream)
    with structlog.contextvars.bound_contextvars(
        incident="INC-4", update=1, practice="Y00001", channel="facebook", attempt=2
    ):
        structlog.get_logger("test").info("delivery_sent", provider_id="1_2")
    [event] = read_lines(stream)
    assert event["event"] == "delivery_sent"
    assert {k: event[k] for k in ("incident", "update", "practice", "channel", "attempt")} == {
        "incident": "INC-4",
        "update": 1,
        "practice": "Y00001",
        "channel": "facebook",
        "attempt": 2,
    }


def test_secrets_are_scrubbed_from_messages_values_and_tracebacks() -> None:
    """A token in an event value, a nested dict, an exception or a stdlib log line is redacted."""
    stream = io.StringIO()
    configure_logging(log_format="json", level="info", secrets=[TOKEN], stream=stream)
    log = structlog.get_logger("test")
    log.warning("graph_error", url=f"https://graph.example/feed?access_token={TOKEN}", body={"echo": [TOKEN]})
    try:
        raise RuntimeError(f"bad token {TOKEN}")
    except RuntimeError:
        log.exception("adapter_crashed")
    logging.getLogger("aiohttp.client").error("request to ...?access_token=%s failed", TOKEN)
    output = stream.getvalue()
    assert TOKEN not in output
    assert output.count(REDACTED) >= 4
    assert len(read_lines(stream)) == 3
