"""The call-handler console's calls: handler, caller and subject labels, notes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 07:55:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_calls",
        sa.Column("contact_id", sa.String(length=16), nullable=False),
        sa.Column("handler", sa.String(length=64), nullable=False),
        sa.Column("caller_name", sa.String(length=80), nullable=True),
        sa.Column("about", sa.String(length=80), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_console_calls_contact_id_contacts")),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_console_calls")),
    )
    op.create_index(op.f("ix_console_calls_handler"), "console_calls", ["handler"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_console_calls_handler"), table_name="console_calls")
    op.drop_table("console_calls")
