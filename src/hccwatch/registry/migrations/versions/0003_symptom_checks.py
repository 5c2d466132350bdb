"""symptom checks: patient links and submissions

Revision ID: 0003
Revises: 0002

A link keeps only the SHA-256 of its token (the token itself is shown once, when it is made).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "symptom_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("used_count", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_symptom_links_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_symptom_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_symptom_links_token_hash")),
    )
    with op.batch_alter_table("symptom_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_symptom_links_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "symptom_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("top_urgency", sa.String(length=16), nullable=True),
        sa.Column("alert_ids", sa.Text(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation", sa.String(length=500), nullable=True),
        sa.Column("response_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["symptom_links.id"],
            name=op.f("fk_symptom_submissions_link_id_symptom_links"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_symptom_submissions_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_symptom_submissions")),
    )
    with op.batch_alter_table("symptom_submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_symptom_submissions_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("ix_symptom_submissions_open", ["acknowledged_at", "top_urgency"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("symptom_submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_symptom_submissions_open")
        batch_op.drop_index(batch_op.f("ix_symptom_submissions_patient_id"))
    op.drop_table("symptom_submissions")
    with op.batch_alter_table("symptom_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_symptom_links_patient_id"))
    op.drop_table("symptom_links")
