"""web sessions, registry settings, clinic KPI columns

Revision ID: 0002
Revises: 0001

Login sessions of the web app live in the database (only a hash of the session id is kept, so a
copy of the database opens no session); ``registry_settings`` holds facts about the database
itself, such as whether ``hccwatch serve --demo`` created it. Four columns of the stored
assessment feed the worklist and the clinic KPIs without reading every assessment's JSON: the
title of the most urgent alert, the latest surveillance test and the days counted and covered by
the schedule (what assess said about adherence).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SUMMARY_COLUMNS = (
    "patient_id", "urgency_rank", "top_urgency", "alert_count", "afp_suspicious", "overdue", "days_overdue",
    "next_due", "as_of", "error", "adherence_days_counted", "adherence_days_covered", "last_test_date",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_table(
        "registry_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_registry_settings")),
    )
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("top_alert", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("last_test_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("adherence_days_counted", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("adherence_days_covered", sa.Integer(), nullable=True))
    # The web worklist's fingerprint reads these maxima on every page: an index, not a scan.
    op.create_index(op.f("ix_patients_updated_at"), "patients", ["updated_at"])
    op.create_index(op.f("ix_assessments_computed_at"), "assessments", ["computed_at"])
    # Every column the worklist index, its counts and the KPIs read: a scan of this index never
    # touches the assessment JSON stored before them in the row (tens of KB a patient).
    op.create_index("ix_assessments_summary", "assessments", list(SUMMARY_COLUMNS))


def downgrade() -> None:
    op.drop_index("ix_assessments_summary", table_name="assessments")
    op.drop_index(op.f("ix_assessments_computed_at"), table_name="assessments")
    op.drop_index(op.f("ix_patients_updated_at"), table_name="patients")
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("adherence_days_covered")
        batch.drop_column("adherence_days_counted")
        batch.drop_column("last_test_date")
        batch.drop_column("top_alert")
    op.drop_table("registry_settings")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
