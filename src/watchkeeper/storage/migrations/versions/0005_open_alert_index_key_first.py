"""open-alert index: dedup key first

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 14:00:00

The ingest path reads a batch's open alerts with `scope = ? AND dedup_key IN (...)`. With
(scope, dedup_key), PostgreSQL without statistics yet (a fresh or fast-growing table) took
the scope as the only index condition and filtered every open alert of the integration;
with the key first, the IN list is always the index condition.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FIRING = sa.text("status = 'firing'")


def _recreate(columns: list[str]) -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("uq_alerts_open")
        batch_op.create_index(
            "uq_alerts_open",
            columns,
            unique=True,
            sqlite_where=FIRING,
            postgresql_where=FIRING,
        )


def upgrade() -> None:
    _recreate(["dedup_key", "scope"])


def downgrade() -> None:
    _recreate(["scope", "dedup_key"])
