"""Where the files shipped with the product live, installed from a wheel or run from a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # broadcaster/, beside example/


def example_directory_path() -> Path:
    """The fictional practices that deliver to a local outbox folder: works offline."""
    return _PACKAGE / "example" / "practices.yaml"


def shipped_runbooks_path() -> Path:
    """The runbooks folder: inside the wheel, or ./runbooks beside the package in a checkout."""
    inside_wheel = _PACKAGE / "shipped_runbooks"
    return inside_wheel if inside_wheel.is_dir() else _PACKAGE.parent / "runbooks"
