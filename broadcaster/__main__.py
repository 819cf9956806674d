"""Allows `python -m broadcaster`."""

from broadcaster.cli.main import main

main()
