"""Worker instances: one row per worker process, with its heartbeat.

A job's lease was the only sign that its worker was gone, so a server killed and started
again left its jobs ``running`` (and every later job of their pull requests waiting) for the
whole lease, 300 s by default. Each process that runs workers now registers an instance
(host, pid, a random part) and beats every few seconds; the jobs its workers hold are named
after it, so a restarted server, or any live worker, releases the jobs of an instance that is
gone (a stale heartbeat, a dead pid on the same host, a new start in the same host/pid slot)
at once (`steward.server.jobs.Instances`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("id", sa.String(160), primary_key=True),
        sa.Column("host", sa.String(100), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("heartbeat_at", Time, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("instances")
