"""Durable state: incidents, their updates, the delivery outbox and the audit trail.

The bottom layer with core: takes and returns plain rows; knows nothing of rendering,
audiences or adapters. May import core only (and SQLAlchemy, Alembic).
"""
