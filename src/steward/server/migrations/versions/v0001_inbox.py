"""The inbox, jobs, schedules and the GitHub caches.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("hook_id", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(100), nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("action", sa.String(100), nullable=True),
        sa.Column("installation_id", sa.BigInteger, nullable=True),
        sa.Column("repository", sa.String(200), nullable=True),
        sa.Column("sender", sa.String(140), nullable=True),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("body_encoding", sa.String(16), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("hook_id", "delivery_id", name="uq_deliveries_hook_delivery"),
    )
    op.create_index("ix_deliveries_received_at", "deliveries", ["received_at"])
    op.create_index("ix_deliveries_delivery_id", "deliveries", ["delivery_id"])
    op.create_table(
        "jobs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "delivery_pk",
            Id,
            sa.ForeignKey("deliveries.id", ondelete="CASCADE", name="fk_jobs_delivery"),
            nullable=True,
        ),
        sa.Column("installation_id", sa.BigInteger, nullable=True),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("run_after", Time, nullable=False),
        sa.Column("lease_until", Time, nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("started_at", Time, nullable=True),
        sa.Column("finished_at", Time, nullable=True),
    )
    op.create_index("ix_jobs_state_run_after", "jobs", ["state", "run_after"])
    op.create_index("ix_jobs_subject_id", "jobs", ["subject", "id"])
    op.create_index("ix_jobs_delivery_pk", "jobs", ["delivery_pk"])
    op.create_table(
        "schedules",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("installation_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("interval_seconds", sa.Integer, nullable=False),
        sa.Column("next_run_at", Time, nullable=False),
        sa.Column("last_run_at", Time, nullable=True),
        sa.UniqueConstraint("installation_id", "kind", name="uq_schedules_installation_kind"),
    )
    op.create_index("ix_schedules_next_run_at", "schedules", ["next_run_at"])
    op.create_table(
        "etags",
        sa.Column("key", sa.String(1000), primary_key=True),
        sa.Column("etag", sa.String(300), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_table(
        "repo_configs",
        sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("full_name", sa.String(200), primary_key=True),
        sa.Column("sha", sa.String(100), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("fetched_at", Time, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("repo_configs")
    op.drop_table("etags")
    op.drop_index("ix_schedules_next_run_at", table_name="schedules")
    op.drop_table("schedules")
    op.drop_index("ix_jobs_delivery_pk", table_name="jobs")
    op.drop_index("ix_jobs_subject_id", table_name="jobs")
    op.drop_index("ix_jobs_state_run_after", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_deliveries_delivery_id", table_name="deliveries")
    op.drop_index("ix_deliveries_received_at", table_name="deliveries")
    op.drop_table("deliveries")
