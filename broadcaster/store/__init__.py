"""Durable state: incidents, their updates, the delivery outbox and the audit trail."""
