"""One contact per conversation, and idempotent creates.

`contacts.conversation_id` binds a web chat's conversation to at most one contact (a UNIQUE
constraint, so two racing turns of one conversation can't both create one: the loser's
insert fails and it continues the winner's contact). `idempotency_keys` remembers each
`Idempotency-Key` a client sent with a create, per caller, so a retried POST answers with
the first contact instead of storing a second.

Revision ID: 0004_serving
Revises: 0002
Create Date: 2026-11-29 16:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004_serving'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN and a UNIQUE index work in place on both databases (no table copy on SQLite,
    # whose batch copy would trip the foreign keys that point at contacts).
    op.add_column("contacts", sa.Column("conversation_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_contacts_conversation_id"), "contacts", ["conversation_id"], unique=True)
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_idempotency_keys_contact_id_contacts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index(op.f("ix_contacts_conversation_id"), table_name="contacts")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("conversation_id")
