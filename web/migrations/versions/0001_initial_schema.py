"""Initial schema: contacts, fact events, decisions, reviews, worklist, users, audit log.

The append-only tables (fact_events, decisions, reviews, audit_log) get triggers that refuse
UPDATE and DELETE (and TRUNCATE on PostgreSQL), so history can't be edited through the
application's own connection; the audit log's hash chain catches whatever gets past them.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 06:16:47
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
APPEND_ONLY_TABLES = ("fact_events", "decisions", "reviews", "audit_log")


def create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION spoa_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP;
            END $$""")
        for table in APPEND_ONLY_TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION spoa_refuse_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION spoa_refuse_change()")
    else:
        for table in APPEND_ONLY_TABLES:
            for operation in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END")


def drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS spoa_refuse_change()")
    else:
        for table in APPEND_ONLY_TABLES:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def upgrade() -> None:
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_log_hash'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('locality', sa.String(length=64), nullable=True),
    sa.Column('route', sa.String(length=20), nullable=True),
    sa.Column('pathway', sa.String(length=32), nullable=True),
    sa.Column('safeguarding_level', sa.String(length=10), nullable=True),
    sa.Column('decision_status', sa.String(length=12), nullable=True),
    sa.Column('review_required', sa.Boolean(), nullable=False),
    sa.Column('overridden', sa.Boolean(), nullable=False),
    sa.Column('ruleset_version', sa.String(length=80), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_contacts_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_received_at', ['received_at'], unique=False)
        batch_op.create_index('ix_contacts_route', ['route'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('call_handler', 'duty_worker', 'supervisor', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(length=16), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=False),
    sa.Column('pathway', sa.String(length=32), nullable=True),
    sa.Column('ruleset_version', sa.String(length=80), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_decisions_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_contact_id'), ['contact_id'], unique=False)

    op.create_table('fact_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(length=16), nullable=False),
    sa.Column('fact', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('chat', 'console', 'extraction', 'api')", name=op.f('ck_fact_events_source')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_fact_events_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fact_events'))
    )
    with op.batch_alter_table('fact_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fact_events_contact_id'), ['contact_id'], unique=False)

    op.create_table('worklist_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(length=16), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=True),
    sa.Column('pathway', sa.String(length=32), nullable=True),
    sa.Column('safeguarding_level', sa.String(length=10), nullable=True),
    sa.Column('response_target', sa.String(length=16), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('referral', 'callback')", name=op.f('ck_worklist_items_kind')),
    sa.CheckConstraint("status IN ('open', 'accepted', 'returned', 'superseded')", name=op.f('ck_worklist_items_status')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_worklist_items_contact_id_contacts')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_worklist_items_decision_id_decisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worklist_items'))
    )
    with op.batch_alter_table('worklist_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worklist_items_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_worklist_items_status_rank', ['status', 'rank', 'created_at'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(length=16), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('worklist_item_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=True),
    sa.Column('pathway', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('confirm', 'override', 'accept', 'return')", name=op.f('ck_reviews_action')),
    sa.CheckConstraint("action NOT IN ('override', 'return') OR length(trim(coalesce(reason, ''))) > 0", name=op.f('ck_reviews_reason_required')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_reviews_contact_id_contacts')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_reviews_decision_id_decisions')),
    sa.ForeignKeyConstraint(['worklist_item_id'], ['worklist_items.id'], name=op.f('fk_reviews_worklist_item_id_worklist_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_contact_id'), ['contact_id'], unique=False)

    op.execute(sa.text("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, :genesis)")
               .bindparams(genesis=GENESIS_HASH))
    create_append_only_triggers()


def downgrade() -> None:
    drop_append_only_triggers()
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_contact_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('worklist_items', schema=None) as batch_op:
        batch_op.drop_index('ix_worklist_items_status_rank')
        batch_op.drop_index(batch_op.f('ix_worklist_items_contact_id'))

    op.drop_table('worklist_items')
    with op.batch_alter_table('fact_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fact_events_contact_id'))

    op.drop_table('fact_events')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_contact_id'))

    op.drop_table('decisions')
    op.drop_table('users')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_route')
        batch_op.drop_index('ix_contacts_received_at')

    op.drop_table('contacts')
    op.drop_table('audit_log')
    op.drop_table('audit_head')
