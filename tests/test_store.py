"""The store, on SQLite and PostgreSQL: contacts with their decisions, fact events, reviews,
the worklist, append-only history and the migrations."""
from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from conftest import T0, screen_clear
from spoa.contact import ContactError
from web.store import contacts, worklist
from web.store.models import Base, Contact, Decision, FactEvent, Review, WorklistItem

KENT = {"age": 80, "locality": "swale"}


def _count(store, model) -> int:
    with store.session() as db:
        return db.scalar(select(func.count()).select_from(model))


def _create(store, triage, facts, *, at=T0, channel="web_chat", source="chat"):
    return store.run(lambda db: contacts.create_contact(
        db, triage, {"channel": channel, "received_at": at.isoformat(), "facts": facts}, now=at, source=source))


def test_contact_and_its_first_decision_are_stored_together(store, triage):
    outcome = _create(store, triage, screen_clear(**KENT, fallen=True, on_floor_cannot_get_up=True,
                                                  fall_injury="none", head_injury=False))
    assert re.fullmatch(r"SPA-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", outcome.contact.id)
    with store.session() as db:
        stored = db.get(Contact, outcome.contact.id)
        decision = db.scalars(select(Decision).where(Decision.contact_id == stored.id)).one()
        assert (stored.route, stored.pathway, stored.status) == ("rapid_response", "ucr", "open")
        assert decision.decision["route"] == "rapid_response"
        assert decision.ruleset_version == triage.ruleset.version
        assert decision.facts["fall_injury"] == "none"
        assert db.scalar(select(func.count()).select_from(FactEvent)
                         .where(FactEvent.contact_id == stored.id)) == len(decision.facts)


def test_invalid_contact_leaves_nothing_behind(store, triage):
    with pytest.raises(ContactError):
        _create(store, triage, {"fallen": "yes"})
    assert _count(store, Contact) == 0 and _count(store, FactEvent) == 0


@pytest.mark.hazard("HAZ-019")
def test_failure_after_the_contact_is_written_rolls_the_contact_back(store, triage):
    def work(db):
        contacts.create_contact(db, triage, {"facts": screen_clear(**KENT)}, now=T0)
        raise RuntimeError("the process died before the commit")

    with pytest.raises(RuntimeError):
        store.run(work)
    assert _count(store, Contact) == 0 and _count(store, Decision) == 0 and _count(store, FactEvent) == 0


def test_correcting_a_fall_injury_to_serious_makes_a_new_emergency_decision_and_keeps_the_first_answer(store, triage):
    first = _create(store, triage, screen_clear(**KENT, fallen=True, fall_injury="none"))
    assert first.decision["route"] == "rapid_response"
    second = store.run(lambda db: contacts.add_facts(db, triage, first.contact.id, {"fall_injury": "serious"},
                                                     now=T0 + timedelta(minutes=5), source="console",
                                                     actor="handler-1"))
    assert second.decision["route"] == "emergency"
    with store.session() as db:
        record = contacts.contact_record(db, first.contact.id, now=T0)
    answers = [(e["value"], e["source"]) for e in record["fact_events"] if e["fact"] == "fall_injury"]
    assert answers == [("none", "chat"), ("serious", "console")]
    assert [d["route"] for d in record["decisions"]] == ["rapid_response", "emergency"]
    assert record["facts"]["fall_injury"] == "serious" and record["route"] == "emergency"


def test_a_fact_set_back_to_null_is_unknown_again(store, triage):
    first = _create(store, triage, screen_clear(**KENT, lonely_or_isolated=True))
    store.run(lambda db: contacts.add_facts(db, triage, first.contact.id, {"lonely_or_isolated": None}, now=T0))
    with store.session() as db:
        assert "lonely_or_isolated" not in contacts.current_facts(db, first.contact.id)


def test_adding_facts_to_an_unknown_contact_is_not_found(store, triage):
    with pytest.raises(contacts.ContactNotFound):
        store.run(lambda db: contacts.add_facts(db, triage, "SPA-0000-0000", {"fallen": True}, now=T0))


def test_reference_read_out_with_letters_for_digits_is_understood():
    assert contacts.normalise_reference("spa-7k3q-9f2m") == "SPA-7K3Q-9F2M"
    assert contacts.normalise_reference("SPA7K3QOF2M") == "SPA-7K3Q-0F2M"


@pytest.mark.hazard("HAZ-014")
@pytest.mark.parametrize("table", ["fact_events", "decisions"])
def test_history_rows_cannot_be_edited_or_deleted(store, triage, table):
    _create(store, triage, screen_clear(**KENT))
    column = "fact" if table == "fact_events" else "route"
    for statement in (f"UPDATE {table} SET {column} = 'changed'", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            with store.engine.begin() as connection:
                connection.execute(text(statement))


def test_the_database_refuses_an_override_without_a_reason(store, triage):
    outcome = _create(store, triage, screen_clear(**KENT))
    with pytest.raises(IntegrityError):
        with store.engine.begin() as connection:
            connection.execute(text("INSERT INTO reviews (contact_id, actor, action, route, reason, at) "
                                    "VALUES (:c, 'someone', 'override', 'mdt', '  ', :at)"),
                               {"c": outcome.contact.id, "at": T0.replace(tzinfo=None)})


@pytest.mark.hazard("HAZ-012")
def test_override_without_a_reason_is_refused_and_with_one_is_recorded(store, triage):
    outcome = _create(store, triage, screen_clear(**KENT, information_topic="pendant alarm"))
    assert outcome.decision["route"] == "self_care"
    with pytest.raises(contacts.ReviewError, match="reason"):
        store.run(lambda db: contacts.review(db, outcome.contact.id, action="override", actor="sup",
                                             actor_role="supervisor", now=T0, route="voluntary_sector"))
    store.run(lambda db: contacts.review(db, outcome.contact.id, action="override", actor="sup",
                                         actor_role="supervisor", now=T0, route="voluntary_sector",
                                         reason="Lives alone, wants company"))
    with store.session() as db:
        contact = db.get(Contact, outcome.contact.id)
        assert (contact.route, contact.overridden) == ("voluntary_sector", True)
        review = db.scalars(select(Review)).one()
        assert (review.action, review.reason, review.route) == ("override", "Lives alone, wants company",
                                                                "voluntary_sector")
        # The override sends someone: it now waits on the worklist for a duty worker.
        assert db.scalars(select(WorklistItem)).one().route == "voluntary_sector"


# -- the worklist ------------------------------------------------------------------------------

def test_fall_goes_on_the_worklist_with_a_two_hour_target(store, triage):
    outcome = _create(store, triage, screen_clear(**KENT, fallen=True, fall_injury="none"))
    item = outcome.worklist_item
    assert (item.kind, item.status, item.route, item.response_target) == ("referral", "open", "rapid_response", "PT2H")
    assert item.due_at == T0 + timedelta(hours=2)


def test_information_only_goes_to_nobody_s_worklist(store, triage):
    outcome = _create(store, triage, screen_clear(**KENT, information_topic="pendant alarm"))
    assert outcome.decision["route"] == "self_care"
    assert outcome.worklist_item is None and _count(store, WorklistItem) == 0


@pytest.mark.hazard("HAZ-012")
def test_chest_pain_999_advice_needs_no_worklist_item(store, triage):
    outcome = _create(store, triage, {**KENT, "chest_pain": True})
    assert outcome.decision["route"] == "emergency" and outcome.worklist_item is None


def test_worklist_puts_urgent_safeguarding_then_rapid_response_then_mdt_then_voluntary_then_oldest(store, triage):
    lonely_old = _create(store, triage, screen_clear(**KENT, lonely_or_isolated=True), at=T0 - timedelta(hours=5))
    lonely_new = _create(store, triage, screen_clear(**KENT, lonely_or_isolated=True), at=T0 - timedelta(hours=1))
    high_risk = _create(store, triage, screen_clear(**KENT, long_term_conditions=["copd", "diabetes"],
                                                    admissions_12m=3), at=T0 - timedelta(hours=3))
    fall = _create(store, triage, screen_clear(**KENT, fallen=True, fall_injury="none"), at=T0 - timedelta(hours=2))
    child_at_risk = _create(store, triage, screen_clear(**KENT, child_at_risk=True), at=T0)
    with store.session() as db:
        order = [item.contact_id for item in worklist.list_items(db)]
    assert order == [child_at_risk.contact.id, fall.contact.id, high_risk.contact.id, lonely_old.contact.id,
                     lonely_new.contact.id]


@pytest.mark.hazard("HAZ-012")
def test_duty_worker_accepts_a_referral_and_returns_another_with_a_reason(store, triage):
    first = _create(store, triage, screen_clear(**KENT, fallen=True, fall_injury="none"))
    second = _create(store, triage, screen_clear(**KENT, lonely_or_isolated=True))
    store.run(lambda db: worklist.accept(db, first.worklist_item.id, actor="duty", actor_role="duty_worker", now=T0))
    with pytest.raises(worklist.WorklistError, match="reason"):
        store.run(lambda db: worklist.return_item(db, second.worklist_item.id, actor="duty",
                                                  actor_role="duty_worker", now=T0, reason=" "))
    store.run(lambda db: worklist.return_item(db, second.worklist_item.id, actor="duty", actor_role="duty_worker",
                                              now=T0, reason="Already has a befriender"))
    with pytest.raises(worklist.WorklistError, match="already accepted"):
        store.run(lambda db: worklist.accept(db, first.worklist_item.id, actor="duty", actor_role="duty_worker",
                                             now=T0))
    with store.session() as db:
        assert worklist.list_items(db) == []
        actions = [(r.action, r.reason) for r in db.scalars(select(Review).order_by(Review.id))]
    assert actions == [("accept", None), ("return", "Already has a befriender")]


def test_new_facts_that_make_it_an_emergency_withdraw_the_open_referral(store, triage):
    first = _create(store, triage, screen_clear(**KENT, fallen=True, fall_injury="none"))
    store.run(lambda db: contacts.add_facts(db, triage, first.contact.id, {"fall_injury": "serious"}, now=T0))
    with store.session() as db:
        assert db.get(WorklistItem, first.worklist_item.id).status == "superseded"
        assert worklist.list_items(db) == []


@pytest.mark.hazard("HAZ-006")
def test_a_second_call_back_request_keeps_one_item(store, triage):
    outcome = _create(store, triage, screen_clear(**KENT, information_topic="pendant alarm"))

    def ask(db):
        return worklist.request_callback(db, contacts.get_contact(db, outcome.contact.id), now=T0,
                                         note="Would like to talk to someone").id

    assert store.run(ask) == store.run(ask)
    with store.session() as db:
        (item,) = worklist.list_items(db, kind="callback")
    assert item.note == "Would like to talk to someone"


def test_contact_list_filters_by_route_day_and_locality(store, triage):
    _create(store, triage, screen_clear(**KENT, fallen=True, fall_injury="none"), at=T0 - timedelta(days=2))
    _create(store, triage, screen_clear(age=70, locality="thanet", lonely_or_isolated=True), at=T0)
    _create(store, triage, screen_clear(**KENT, lonely_or_isolated=True), at=T0)
    with store.session() as db:
        rows, total = contacts.list_contacts(db, contacts.ContactFilter(route="voluntary_sector"))
        assert total == 2 and {row.route for row in rows} == {"voluntary_sector"}
        rows, total = contacts.list_contacts(db, contacts.ContactFilter(date_to=(T0 - timedelta(days=1)).date()))
        assert total == 1 and rows[0].route == "rapid_response"
        _, total = contacts.list_contacts(db, contacts.ContactFilter(locality="thanet", date_from=T0.date()))
        assert total == 1
        rows, total = contacts.list_contacts(db, page=2, per_page=2)
        assert total == 3 and len(rows) == 1


def test_concurrent_fact_updates_to_one_contact_each_see_the_other(store, triage):
    outcome = _create(store, triage, screen_clear(**KENT))
    errors = []

    def add(fact):
        try:
            store.run(lambda db: contacts.add_facts(db, triage, outcome.contact.id, {fact: True}, now=T0))
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=add, args=(fact,)) for fact in ("lonely_or_isolated", "lives_alone",
                                                                       "dementia", "new_confusion")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.session() as db:
        last = contacts.latest_decision(db, outcome.contact.id)
    assert {"lonely_or_isolated", "lives_alone", "dementia", "new_confusion"} <= set(last.facts)


# -- the database itself -----------------------------------------------------------------------

def test_migrations_build_exactly_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_sqlite_keeps_an_acknowledged_contact_through_a_crash(tmp_path):
    from web.store import Store
    from web.store.db import sqlite_url

    store = Store(sqlite_url(tmp_path / "x.db"))
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    store.dispose()


def test_a_dropped_postgresql_connection_is_replaced_and_the_contact_kept(triage, tmp_path):
    from conftest import PG_URL, PgSchema, require_postgres
    from web.store import Store

    require_postgres()
    schema = PgSchema()
    store = Store(PG_URL, schema=schema.name, pool_size=1)
    try:
        store.upgrade()
        _create(store, triage, screen_clear(**KENT))
        with store.engine.connect() as connection:  # the pooled connection's server process
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        import psycopg
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        outcome = _create(store, triage, screen_clear(**KENT, lonely_or_isolated=True))
        with store.session() as db:
            assert db.get(Contact, outcome.contact.id) is not None
        assert _count(store, Contact) == 2
    finally:
        store.dispose()
        schema.close()


def test_list_contacts_on_an_empty_day_is_empty(store):
    with store.session() as db:
        assert contacts.list_contacts(db, contacts.ContactFilter(date_from=date(2020, 1, 1),
                                                                 date_to=date(2020, 1, 2))) == ([], 0)


def test_demo_seeds_logins_and_engine_decided_contacts_once(app):
    from web.demo import seed_demo_if_empty
    from web.store import audit, users

    spoa = app.extensions["spoa"]
    first = seed_demo_if_empty(spoa)
    assert first is not None and first.contacts == 36
    assert {role for _, role, _ in first.logins} == {"supervisor", "duty_worker", "call_handler", "admin"}
    assert all(password in first.text() for _, _, password in first.logins)
    assert seed_demo_if_empty(spoa) is None  # not twice
    with spoa.store.session() as db:
        rows, total = contacts.list_contacts(db, per_page=100)
        assert total == 36 and {row.ruleset_version for row in rows} == {spoa.triage.ruleset.version}
        assert {"rapid_response", "emergency", "mdt", "voluntary_sector", "self_care", "out_of_scope"} <= {
            row.route for row in rows}
        assert worklist.list_items(db) and audit.verify(db).ok
        username, _, password = first.logins[0]
        assert users.authenticate(db, username, password) is not None
