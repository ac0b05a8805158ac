"""Every table, in SQLAlchemy Core. Instants are epoch seconds (double) for portable SQL math."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
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
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# The conditions of the partial unique indexes, spelled once: SQLite uses a partial index only
# when the query repeats its condition exactly (a bound parameter would not do).
ALERT_FIRING = text("status = 'firing'")
TICKET_GROUPING = text("grouping")

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


def _managed() -> Column[bool]:
    # True for objects that `apply` owns; run-time objects (silences, overrides) are False.
    return Column("managed", Boolean, nullable=False, server_default=text("true"))


config_state = Table(
    "config_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("applied_at", Float, nullable=False),
    Column("document", JSON, nullable=True),
)

teams = Table(
    "teams",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("spec", JSON, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("email", String(320), nullable=True),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("team_id", String(128), nullable=True),
    Column("spec", JSON, nullable=False),
)

services = Table(
    "services",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("team_id", String(128), nullable=True),
    Column("spec", JSON, nullable=False),
)

service_dependencies = Table(
    "service_dependencies",
    metadata,
    Column("service_id", String(128), primary_key=True),
    Column("depends_on", String(128), primary_key=True),
)

channels = Table(
    "channels",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("kind", String(16), nullable=False),
)

integrations = Table(
    "integrations",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("type", String(32), nullable=False),
    Column("key", String(256), nullable=False, unique=True),
    Column("channel_id", String(128), nullable=False),
    Column("service_id", String(128), nullable=True),
    Column("spec", JSON, nullable=False),
)

# Rules that `apply` owns: filters, maintenance windows, schedules, escalation policies, SLOs,
# objectives. Their specs are the validated YAML; the pipeline compiles them per config version.
config_objects = Table(
    "config_objects",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("spec", JSON, nullable=False),
)

silences = Table(
    "silences",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("matchers", JSON, nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False),
    Column("expired_at", Float, nullable=True),  # set when deleted early
    _managed(),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("received_at", Float, nullable=False),
    Column("integration_id", String(128), nullable=True),
    Column("channel_id", String(128), nullable=True),
    Column("channel_kind", String(16), nullable=False),
    Column("action", String(16), nullable=False),
    Column("kind", String(16), nullable=False, server_default="alert"),
    Column("dedup_key", String(255), nullable=False),
    Column("idempotency_key", String(512), nullable=True),
    Column("service_id", String(128), nullable=True),
    Column("alert_id", BigInteger, nullable=True),
    Column("ticket_id", BigInteger, nullable=True),
    Column("severity", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("occurred_at", Float, nullable=True),
    Column("labels", JSON, nullable=False),
    Column("payload", JSON, nullable=True),
    # what the pipeline did with it, and why (invariant 4: every drop has a reason)
    Column("decision", String(32), nullable=False),
    Column("reason", Text, nullable=True),
    # Every index here is paid on each event written (~5 us for one whose entries land at
    # random places). An alert's events are found by its scope and dedup key (its events
    # all carry them), not by an index of their own.
    Index("ix_events_received", "received_at"),
    Index("ix_events_integration_dedup", "integration_id", "dedup_key"),
    Index(
        "ix_events_idempotency",
        "integration_id",
        "idempotency_key",
        sqlite_where=text("idempotency_key IS NOT NULL"),
        postgresql_where=text("idempotency_key IS NOT NULL"),
    ),
    # the miss-rate check: automatic events of a service shortly before a ticket
    Index("ix_events_service_received", "service_id", "received_at"),
)

ALERTS_FILLFACTOR = 70  # percent of a PostgreSQL page filled by inserts

alerts = Table(
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "scope", String(128), nullable=False
    ),  # the integration id: dedup keys are per integration
    Column("dedup_key", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # firing | resolved
    Column("integration_id", String(128), nullable=True),
    Column("channel_id", String(128), nullable=True),
    Column("channel_kind", String(16), nullable=False),
    Column("service_id", String(128), nullable=True),
    Column("ticket_id", BigInteger, nullable=True),
    Column("severity", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("source", String(512), nullable=True),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("details", JSON, nullable=False),
    Column("links", JSON, nullable=False),
    Column("route_reason", Text, nullable=True),
    Column("muted_reason", Text, nullable=True),
    Column("muted_until", Float, nullable=True),
    Column("event_count", Integer, nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("first_event_at", Float, nullable=False),
    Column("last_event_at", Float, nullable=False),
    Column("ends_at", Float, nullable=True),  # API v2: resolves when this passes without re-send
    # the alert's own timer: min(ends_at, last event + alert_timeout); the engine resolves it then
    Column("expires_at", Float, nullable=True),
    Column("resolved_at", Float, nullable=True),
    Column("resolved_by", String(128), nullable=True),
    Index(
        "uq_alerts_open",
        # the key first: a batch's lookup (`dedup_key IN (...) AND scope = ?`) seeks it on
        # PostgreSQL even before the table has statistics
        "dedup_key",
        "scope",
        unique=True,
        sqlite_where=ALERT_FIRING,
        postgresql_where=ALERT_FIRING,
    ),
    Index("ix_alerts_ticket", "ticket_id"),
    Index("ix_alerts_expires", "expires_at"),
    Index("ix_alerts_muted_until", "muted_until"),
    Index("ix_alerts_service_status", "service_id", "status"),
    # Every re-sent alert updates its row's counters (event_count, last_event_at: in no
    # index). With room left on each page, PostgreSQL rewrites the row in place (a HOT
    # update) instead of adding an entry to each of its six indexes.
    postgresql_with={"fillfactor": ALERTS_FILLFACTOR},
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("service_id", String(128), nullable=False),
    Column("group_key", String(255), nullable=False),
    # open for grouping (invariant 3): cleared on resolve and when max_group_age passes
    Column("grouping", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # triggered|acknowledged|resolved|closed
    Column("title", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("severity_set_by", String(128), nullable=True),  # a person's choice wins over alerts
    # quality timestamps (QUALITY.md)
    Column("impact_start", Float, nullable=False),
    Column("detected_at", Float, nullable=False),
    Column("acknowledged_at", Float, nullable=True),
    Column("acknowledged_by", String(128), nullable=True),
    Column("localized_at", Float, nullable=True),
    Column("mitigated_at", Float, nullable=True),
    Column("resolved_at", Float, nullable=True),
    Column("resolved_by", String(128), nullable=True),
    Column("closed_at", Float, nullable=True),
    Column("channel_id", String(128), nullable=True),
    Column("channel_kind", String(16), nullable=False),  # of the event that opened it
    Column("integration_id", String(128), nullable=True),
    Column("first_automatic_at", Float, nullable=True),
    Column("root_cause_service", String(128), nullable=True),
    Column("root_cause_category", String(64), nullable=True),
    Column("false_alarm", Boolean, nullable=False, server_default=text("false")),
    Column("escalation_count", Integer, nullable=False, server_default=text("0")),
    Column("round", Integer, nullable=False, server_default=text("1")),
    # where escalation stands: the last level paged (0-based) and the pass through the policy
    Column("escalation_level", Integer, nullable=True),
    Column("escalation_pass", Integer, nullable=False, server_default=text("0")),
    Column("assignee", String(128), nullable=True),
    Column("responders", JSON, nullable=False),
    Column("policy", JSON, nullable=True),  # the escalation policy frozen at open (invariant 7)
    Column("last_alert_at", Float, nullable=False),
    Column("alert_count", Integer, nullable=False, server_default=text("0")),
    Column("merged_into", BigInteger, nullable=True),
    Column("updated_at", Float, nullable=False),
    Index(
        "uq_tickets_grouping",
        "service_id",
        "group_key",
        unique=True,
        sqlite_where=TICKET_GROUPING,
        postgresql_where=TICKET_GROUPING,
    ),
    Index("ix_tickets_status", "status"),
    Index("ix_tickets_detected", "detected_at"),
    Index("ix_tickets_service_detected", "service_id", "detected_at"),
)

timeline = Table(
    "timeline",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("at", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(128), nullable=True),
    Column("message", Text, nullable=False),
    Column("data", JSON, nullable=True),
    Index("ix_timeline_ticket", "ticket_id", "id"),
)

# Invariant 6: every timed thing is a row the engine claims with a lease.
timers = Table(
    "timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("ref", String(255), nullable=False),
    Column("due_at", Float, nullable=False),
    Column("lease_until", Float, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("payload", JSON, nullable=True),
    UniqueConstraint("kind", "ref"),
    Index("ix_timers_due", "due_at"),
)

rejections = Table(
    "rejections",
    metadata,
    Column("integration_id", String(128), primary_key=True),  # "" for an unknown key
    Column("count", BigInteger, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("last_status", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("sample", Text, nullable=True),
    Column("last_remote", String(128), nullable=True),
)

change_events = Table(
    "change_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("received_at", Float, nullable=False),
    Column("occurred_at", Float, nullable=False),
    Column("integration_id", String(128), nullable=True),
    Column("service_id", String(128), nullable=True),
    Column("summary", Text, nullable=False),
    Column("source", String(512), nullable=True),
    Column("details", JSON, nullable=False),
    Column("links", JSON, nullable=False),
    Index("ix_change_events_service", "service_id", "occurred_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(128), nullable=True),
    Column("name", String(256), nullable=False),
    Column("admin", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

# --- on-call response: notifications and their delivery attempts ---------------------------

notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("round", Integer, nullable=False),
    # the level paged (0-based); an update has a negative one (-alert count: one per joined alert)
    Column("level", Integer, nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("contact_id", String(128), nullable=False),
    Column("contact_type", String(16), nullable=False),
    Column("kind", String(16), nullable=False),  # page | update | bundle
    Column("delivery_id", String(64), nullable=False, unique=True),
    # pending | sent | failed | cancelled | bundled
    Column("status", String(16), nullable=False),
    Column("paging", Boolean, nullable=False),  # counts as an interruption (QUALITY.md layer 2)
    Column("created_at", Float, nullable=False),
    Column("due_at", Float, nullable=False),
    Column("sent_at", Float, nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Column("time_zone", String(64), nullable=True),  # the person's zone when it was sent
    Column("hour_class", String(8), nullable=True),  # business | off | sleep, stamped at send
    Column("bundle_id", BigInteger, nullable=True),  # the bundle that carried it
    # when an engine took it to send on its own (or, for a bundle, sent it): bundling counts these
    Column("dispatched_at", Float, nullable=True),
    Column("detail", JSON, nullable=True),
    # each notification is recorded once, even with several engines (invariant 6)
    UniqueConstraint("ticket_id", "round", "level", "user_id", "contact_id", "kind"),
    Index("ix_notifications_ticket", "ticket_id"),
    Index("ix_notifications_user_sent", "user_id", "sent_at"),
    Index("ix_notifications_contact_dispatched", "user_id", "contact_id", "dispatched_at"),
    Index("ix_notifications_bundle", "bundle_id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("notification_id", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("retry_at", Float, nullable=True),
    Column("engine", String(64), nullable=True),
    Index("ix_deliveries_notification", "notification_id"),
)

# levels of escalation policies that resolved to nobody: a configuration error, counted
escalation_problems = Table(
    "escalation_problems",
    metadata,
    Column("policy_id", String(128), primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("first_at", Float, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("last_ticket_id", BigInteger, nullable=True),
)

# run-time schedule overrides and swaps (made through the API; `apply` leaves them alone)
schedule_overrides = Table(
    "schedule_overrides",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("schedule_id", String(128), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_schedule_overrides_schedule", "schedule_id"),
)

# secret feed URLs (iCal) per schedule or user; revocable
feed_tokens = Table(
    "feed_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # schedule | user
    Column("ref", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

# per (policy, level) round-robin position
round_robin = Table(
    "round_robin",
    metadata,
    Column("policy_id", String(128), primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("position", Integer, nullable=False),
)
