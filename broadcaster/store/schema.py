"""Tables, in SQLAlchemy Core: one schema for SQLite (one node) and PostgreSQL (several).

Times are Unix seconds (float): cheap to compare in claims, identical on both engines.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("runbook", String(64)),
    Column("fields", JSON, nullable=False),  # runbook field values
    Column("audience", JSON, nullable=False),  # {"all": true} | {"groups": [...], "ods": [...]}
    Column("channels", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("resolved_at", Float),
    # A drill: sent only to test endpoints or the outbox, never public (0003).
    Column("exercise", Boolean, nullable=False, server_default=text("false")),
    # A monitor's draft (0005): the update waiting for a person to confirm or discard it, and
    # whether the first message has gone out at all (not while it waits, nor once discarded).
    Column("waiting_draft_seq", Integer),
    Column("sent", Boolean, nullable=False, server_default=text("true")),
)

updates = Table(
    "updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("seq", Integer, nullable=False),  # 0 opens the incident
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("channels", JSON, nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", Float, nullable=False),  # when it went out (a draft: when confirmed)
    # A draft (0005): "waiting" (its deliveries are held), "confirmed" or "discarded"; NULL: an
    # update written to be sent at once. When it was drafted, and who decided it, when.
    Column("draft", String(16)),
    Column("drafted_at", Float),
    Column("decided_by", String(200)),
    Column("decided_at", Float),
    # A drafted update's runbook values, given to the incident only when it is confirmed.
    Column("draft_fields", JSON),
    UniqueConstraint("incident_id", "seq", name="uq_updates_incident_seq"),
)

# One row per update x practice x channel x recipient: the outbox the dispatcher works from.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("update_id", Integer, ForeignKey("updates.id"), nullable=False),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("update_status", String(16), nullable=False),
    Column("practice", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("route", String(32), nullable=False),
    Column("credential_ref", String(64)),
    Column("content", JSON, nullable=False),
    # incident|practice|channel|recipient: update N waits for update N-1 of the same thread.
    Column("thread_key", String(400), nullable=False),
    Column("state", String(16), nullable=False),
    Column("needs_reconcile", Boolean, nullable=False, server_default=text("false")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", Float, nullable=False),
    Column("deadline_at", Float, nullable=False),
    Column("lease_owner", String(200)),
    Column("lease_until", Float),
    Column("provider_id", String(400)),
    Column("is_thread_root", Boolean, nullable=False, server_default=text("false")),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("delivered_at", Float),
)

# The claim walks this partial index in priority order (newest update first) and stops at LIMIT.
Index(
    "ix_deliveries_claimable",
    deliveries.c.route,
    deliveries.c.update_id.desc(),
    deliveries.c.id,
    sqlite_where=deliveries.c.state.in_(["pending", "retrying", "unknown"]),
    postgresql_where=deliveries.c.state.in_(["pending", "retrying", "unknown"]),
)
Index("ix_deliveries_thread", deliveries.c.thread_key, deliveries.c.seq)
Index("ix_deliveries_update_state", deliveries.c.update_id, deliveries.c.state)
Index("ix_deliveries_state_lease", deliveries.c.state, deliveries.c.lease_until)

# Endpoints that cannot work until a person acts (expired page token, removed permission).
endpoint_attention = Table(
    "endpoint_attention",
    metadata,
    Column("route", String(32), primary_key=True),
    Column("recipient", String(320), primary_key=True),
    Column("practice", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("since", Float, nullable=False),
)

# Append-only: who did what, when, from where.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("origin", String(200), nullable=False),  # "cli@host", "api 10.0.0.7", ...
    # How the actor proved who it was: "cli", "session", "api-token", "legacy-token".
    Column("credential", String(32), nullable=False, server_default=text("''")),
    Column("action", String(64), nullable=False),
    Column("incident_id", Integer),
    Column("detail", JSON, nullable=False),
)

# People who sign in to the console. Secrets are never stored as given: the password as an
# argon2id hash, the TOTP secret encrypted with a key that lives outside the database.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("ods_codes", JSON, nullable=False),  # practice role: the practices they act for
    Column("password_hash", Text, nullable=False),
    Column("totp_secret_encrypted", Text, nullable=False),
    Column("totp_last_step", Integer),  # the last accepted code's time step: a code works once
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    # Raised by disable, reset-password and reset-totp: sessions signed in before are refused.
    Column("session_epoch", Integer, nullable=False, server_default=text("0")),
    Column("created_at", Float, nullable=False),
)

# Single-use second-factor fallbacks; SHA-256 of a random 80-bit code.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("code_digest", String(64), nullable=False),
    Column("used_at", Float),
)
Index("ix_recovery_codes_user", recovery_codes.c.user_id)

# Bearer tokens for automation; SHA-256 of a random 256-bit token, looked up by that digest.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("ods_codes", JSON, nullable=False),
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

# What each monitored cause (an alert's fingerprint, a monitor, a failing check) last did: the
# incident it opened, so a repeated delivery changes nothing and one cause has at most one open
# incident. "opening" while the incident is being written (a claim: a second delivery arriving
# meanwhile does nothing); "open"; "resolved" (kept, so a late repeat of the same episode is ignored).
alert_causes = Table(
    "alert_causes",
    metadata,
    Column("cause_key", String(400), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("incident_id", Integer, ForeignKey("incidents.id")),
    Column("episode", String(200), nullable=False, server_default=text("''")),  # e.g. startsAt
    Column("digest", String(200), nullable=False, server_default=text("''")),  # what it said (digests)
    Column("updated_at", Float, nullable=False),
)
