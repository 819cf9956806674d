"""Email over SMTP: long-lived sessions sending in turn (smtp) and the threaded message they send,
shared with the outbox folder (message); its route, settings and factory (spec)."""
