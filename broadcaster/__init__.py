"""Practice broadcaster: one incident message to every GP practice's Facebook Page, SMS and email."""

__version__ = "0.1.0"
