"""The place as the person gave it, beside the resolved locality (issue 8).

`contacts.locality` holds a configured locality id, or a place recognised as outside the area
(PROTOCOL.md SCOPE-2, 1.1); it becomes Text, so no answer can overflow it (String(64) gave a
503 on PostgreSQL for a long place answer). `contacts.locality_words` keeps the person's own
words ("just outside Tenterden, near the church"), shown to staff on the contact page.

SQLite does not enforce VARCHAR lengths, and changing a column's type there needs a table copy
that the foreign keys pointing at contacts would trip: the type changes on PostgreSQL only.

Revision ID: 0003_gazetteer
Revises: 0006_outbox
Create Date: 2026-11-29 16:10:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = "0003_gazetteer"
down_revision = "0006_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("locality_words", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("contacts", "locality", type_=sa.Text(), existing_type=sa.String(length=64),
                        existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("contacts", "locality", type_=sa.String(length=64), existing_type=sa.Text(),
                        existing_nullable=True, postgresql_using="left(locality, 64)")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("locality_words")
