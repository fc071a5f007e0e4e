"""Surveys: what the maintainers' page shows of each repository, read from GitHub by a
scheduled job so the page never calls GitHub when it renders.

``surveys`` holds one row per repository of an installation (its pending-release issues,
blocked pull requests, what the next sweep will do, its last releases and their run records,
as JSON: `steward.server.surveys`); ``survey_budgets`` one row per installation: the requests
its last survey sent, how many of its reads the ETag store answered (304), and the rate limit
GitHub reported last.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("repository", sa.String(200), primary_key=True),
        sa.Column("taken_at", Time, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "survey_budgets",
        sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("taken_at", Time, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("reads", sa.Integer, nullable=False),
        sa.Column("not_modified", sa.Integer, nullable=False),
        sa.Column("rate_resource", sa.String(40), nullable=True),
        sa.Column("rate_limit", sa.Integer, nullable=True),
        sa.Column("rate_remaining", sa.Integer, nullable=True),
        sa.Column("rate_reset_at", Time, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("survey_budgets")
    op.drop_table("surveys")
