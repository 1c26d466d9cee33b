"""Referrals a team can act on: the person's details, the words they used, who has an item.

- `person_details`: the person and how to reach them, one row per contact, kept apart from
  the triage facts (the engine never reads them). Not append-only: `spoa erase` and the
  retention setting replace them with a pseudonym.
- `contact_words`: what the person said in their own words (chat messages), for the duty
  worker; erased with the details.
- `worklist_items`: who accepted an item (it becomes theirs), and when it was completed with
  what outcome (columns added, so the status check and the table stay as they were).
- `console_calls.close_reason`: a call closed as "call ended before triage finished".

Revision ID: 0005_referral
Revises: 0008_audit_hmac
Create Date: 2026-11-29 15:50:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005_referral'
down_revision = '0008_audit_hmac'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_details",
        sa.Column("contact_id", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pseudonym", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_person_details_contact_id_contacts")),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_person_details")),
    )
    op.create_table(
        "contact_words",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_contact_words_contact_id_contacts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_words")),
    )
    op.create_index(op.f("ix_contact_words_contact_id"), "contact_words", ["contact_id"], unique=False)
    # Plain ADD COLUMN (no table rebuild on SQLite): the tables' checks and triggers stay as they are.
    op.add_column("worklist_items", sa.Column("assigned_to", sa.String(length=64), nullable=True))
    op.add_column("worklist_items", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("worklist_items", sa.Column("outcome", sa.Text(), nullable=True))
    op.create_index(op.f("ix_worklist_items_assigned_to"), "worklist_items", ["assigned_to"], unique=False)
    op.add_column("console_calls", sa.Column("close_reason", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_calls") as batch_op:
        batch_op.drop_column("close_reason")
    op.drop_index(op.f("ix_worklist_items_assigned_to"), table_name="worklist_items")
    with op.batch_alter_table("worklist_items") as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("assigned_to")
    op.drop_index(op.f("ix_contact_words_contact_id"), table_name="contact_words")
    op.drop_table("contact_words")
    op.drop_table("person_details")
