"""The transactional outbox of referral messages (FHIR BaRS referral requests).

Revision ID: 0006_outbox
Revises: 0005_referral
Create Date: 2026-11-29 16:10:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006_outbox'
down_revision = '0005_referral'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("contact_id", sa.String(length=16), nullable=False),
        sa.Column("worklist_item_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=8), nullable=False),
        sa.Column("team_id", sa.String(length=120), nullable=False),
        sa.Column("team_name", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=500), nullable=True),
        sa.Column("auth_env", sa.String(length=80), nullable=True),
        sa.Column("bundle", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sending', 'delivered', 'dead', 'email')",
                           name=op.f("ck_outbox_messages_status")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_outbox_messages_contact_id_contacts")),
        sa.ForeignKeyConstraint(["worklist_item_id"], ["worklist_items.id"],
                                name=op.f("fk_outbox_messages_worklist_item_id_worklist_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_messages_message_id")),
    )
    op.create_index(op.f("ix_outbox_messages_contact_id"), "outbox_messages", ["contact_id"], unique=False)
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_contact_id"), table_name="outbox_messages")
    op.drop_table("outbox_messages")
