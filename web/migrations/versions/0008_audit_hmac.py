"""The keyed audit chain: where keying and the records' seals begin.

Rows already in `audit_log` keep their unkeyed SHA-256 links (`keyed_from` is the first keyed
row), and the fact events, decisions and reviews already stored are listed as written before
the seal (`sealed_from`): verification checks the old rows as they were made and every new row
against its key and seal (web/store/audit.py, web/store/seal.py).

Revision ID: 0008_audit_hmac
Revises: 0004_serving
Create Date: 2026-11-29 16:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_audit_hmac"
down_revision = "0004_serving"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("keyed_from", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("sealed_from", sa.JSON(), nullable=True))
    connection = op.get_bind()
    sealed_from = {table: connection.execute(sa.text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar()
                   for table in ("fact_events", "decisions", "reviews")}
    connection.execute(sa.text("UPDATE audit_head SET keyed_from = last_id + 1, sealed_from = :sealed WHERE id = 1")
                       .bindparams(sa.bindparam("sealed", value=sealed_from, type_=sa.JSON())))


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("sealed_from")
        batch.drop_column("keyed_from")
