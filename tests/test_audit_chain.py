"""The audit log is append-only and tamper-evident, on SQLite and PostgreSQL.

The database refuses UPDATE and DELETE; someone who gets past that (dropping the trigger,
or inserting a forged row) is caught by `verify`, which names the first broken row.
"""
from __future__ import annotations

import json
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from conftest import AUDIT_KEY, T0, screen_clear
from web.store import Store, audit, seal
from web.store.audit import AuditSettings
from web.store.models import GENESIS_HASH, AuditEntry, FactEvent


def _log(store, count: int) -> None:
    for number in range(count):
        store.run(lambda db, n=number: audit.append(db, actor="sup-1", actor_role="supervisor",
                                                    action="contact.view", target=f"SPA-0000-000{n}",
                                                    details={"via": "audit"}, at=T0))


def _verify(store):
    with store.session() as db:
        return audit.verify(db)


def _drop_triggers(store, table: str) -> None:
    with store.engine.begin() as connection:
        if store.backend == "postgresql":
            connection.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
        else:
            connection.execute(text(f"DROP TRIGGER {table}_no_update"))
            connection.execute(text(f"DROP TRIGGER {table}_no_delete"))


def _drop_audit_triggers(store) -> None:
    _drop_triggers(store, "audit_log")


def test_an_untouched_log_verifies(store):
    _log(store, 5)
    result = _verify(store)
    assert result.ok and result.rows_checked == 5


def test_an_empty_log_verifies(store):
    assert _verify(store).ok


def test_each_row_holds_the_previous_row_s_hash(store):
    _log(store, 3)
    with store.session() as db:
        rows = list(reversed(audit.recent(db)))
    assert rows[0].prev_hash == GENESIS_HASH
    assert [row.prev_hash for row in rows[1:]] == [row.hash for row in rows[:-1]]


@pytest.mark.hazard("HAZ-014")
def test_the_database_refuses_to_change_an_audit_row(store):
    _log(store, 2)
    with pytest.raises(DBAPIError, match="append-only"):
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = 1"))


def test_the_database_refuses_to_delete_an_audit_row(store):
    _log(store, 2)
    with pytest.raises(DBAPIError, match="append-only"):
        with store.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_log WHERE id = 2"))


def test_a_row_changed_with_sql_after_dropping_the_trigger_is_named(store):
    _log(store, 5)
    _drop_audit_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = 3"))
    result = _verify(store)
    assert not result.ok and result.first_broken_id == 3
    assert "changed" in result.reason


def test_a_row_removed_from_the_middle_is_named(store):
    _log(store, 5)
    _drop_audit_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = 2"))
    result = _verify(store)
    assert not result.ok and result.first_broken_id == 2 and "missing" in result.reason


def test_rows_cut_from_the_end_are_caught_by_the_head(store):
    _log(store, 4)
    _drop_audit_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = 4"))
    result = _verify(store)
    assert not result.ok and result.first_broken_id == 4


def test_a_forged_row_inserted_at_the_end_is_caught(store):
    _log(store, 3)
    with store.session() as db:
        last = audit.recent(db, limit=1)[0]
    # A forger who knows the scheme but not to move the head, and who changes the content.
    forged_hash = audit.chain_hash(last.hash, audit.canonical_content(
        id=4, at=T0, actor="sup-1", actor_role="supervisor", action="contact.override", target="SPA-0000-0009",
        details={}))
    with store.engine.begin() as connection:
        connection.execute(text("INSERT INTO audit_log (id, at, actor, actor_role, action, target, details, "
                                "prev_hash, hash) VALUES (4, :at, 'sup-1', 'supervisor', 'contact.override', "
                                "'SPA-0000-0009', :details, :prev, :hash)"),
                           {"at": T0 if store.backend == "postgresql" else T0.replace(tzinfo=None),
                            "details": '{"forged": true}', "prev": last.hash, "hash": forged_hash})
    result = _verify(store)
    assert not result.ok and result.first_broken_id == 4


def test_concurrent_appends_make_one_unbroken_chain(store):
    errors = []

    def append_many():
        try:
            _log(store, 10)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=append_many) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = _verify(store)
    assert result.ok and result.rows_checked == 60


def test_spoa_audit_verify_names_the_first_broken_row(store, monkeypatch, tmp_path):
    from web.cli import cli

    _log(store, 3)
    url = store.url
    monkeypatch.setenv("DATABASE_URL", url)
    if store.schema:
        monkeypatch.setenv("DATABASE_SCHEMA", store.schema)
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("SPOA_AUDIT_KEY", AUDIT_KEY.decode())
    monkeypatch.setenv("SPOA_AUDIT_HEAD_FILE", str(tmp_path / "audit-head.log"))
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 3 rows" in ok.output
    _drop_audit_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET target = 'SPA-XXXX-XXXX' WHERE id = 2"))
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN at row 2" in broken.output


# -- the keyed chain, the records' seals and the head outside the database (issue 11) ----------

def _decided_contact(store, triage, **facts) -> str:
    from web.store import contacts

    outcome = store.run(lambda db: contacts.create_contact(
        db, triage, {"channel": "phone", "facts": screen_clear(**facts)}, now=T0))
    return outcome.contact.id


def _rechain_from(store, first_id: int, link) -> None:
    """What a forger with database access does: recompute every link from `first_id` on with
    `link(prev_hash, content)` and rewrite the head row to match."""
    with store.session() as db:
        rows = [entry for entry in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    prev = next((row.hash for row in rows if row.id == first_id - 1), GENESIS_HASH)
    with store.engine.begin() as connection:
        for row in rows:
            if row.id < first_id:
                continue
            forged = link(prev, audit.canonical_content(id=row.id, at=row.at, actor=row.actor,
                                                        actor_role=row.actor_role, action=row.action,
                                                        target=row.target, details=row.details))
            connection.execute(text("UPDATE audit_log SET prev_hash = :prev, hash = :hash WHERE id = :id"),
                               {"prev": prev, "hash": forged, "id": row.id})
            prev = forged
        connection.execute(text("UPDATE audit_head SET last_hash = :hash WHERE id = 1"), {"hash": prev})


@pytest.mark.parametrize("forger_link", [audit.chain_hash, lambda prev, content: audit.chain_mac(b"guess", prev, content)],
                         ids=["unkeyed", "wrong-key"])
@pytest.mark.hazard("HAZ-014")
def test_a_forger_who_recomputes_every_hash_and_the_head_is_still_named(store, forger_link):
    _log(store, 6)
    _drop_audit_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = 4"))
    _rechain_from(store, 4, forger_link)
    result = _verify(store)
    assert not result.ok and result.first_broken_id == 4


def test_the_chain_is_keyed_so_the_same_rows_fail_under_another_key(store):
    _log(store, 2)
    other = Store(store.url, schema=store.schema, audit_settings=AuditSettings(key=b"another key"))
    with other.session() as db:
        result = audit.verify(db)
    other.dispose()
    assert not result.ok and result.first_broken_id == 1


@pytest.mark.hazard("HAZ-014")
def test_a_decision_changed_in_the_database_is_named(store, triage):
    contact_id = _decided_contact(store, triage, fallen=True, on_floor_cannot_get_up=True, age=84)
    assert _verify(store).ok
    _drop_triggers(store, "decisions")
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE decisions SET route = 'self_care' WHERE contact_id = :id"), {"id": contact_id})
    result = _verify(store)
    assert not result.ok and result.broken_record.startswith("decisions#") and "changed" in result.reason


@pytest.mark.hazard("HAZ-014")
def test_a_changed_fact_whose_seal_and_chain_were_forged_is_named_at_its_seal(store, triage):
    contact_id = _decided_contact(store, triage, fallen=True, age=84)
    _drop_triggers(store, "fact_events")
    _drop_audit_triggers(store)
    with store.session() as db:
        event = db.scalars(select(FactEvent).where(FactEvent.contact_id == contact_id, FactEvent.fact == "fallen")).one()
        seal_row = next(entry for entry in db.scalars(select(AuditEntry).where(AuditEntry.action == audit.SEAL_ACTION))
                        if entry.details["table"] == "fact_events" and entry.details["row"] == event.id)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE fact_events SET value = 'false' WHERE id = :id"), {"id": event.id})
    with store.session() as db:
        forged_digest = seal.record_digest(db.get(FactEvent, event.id))
    details = json.dumps({**seal_row.details, "digest": forged_digest})
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET details = :details WHERE id = :id"),
                           {"details": details, "id": seal_row.id})
    _rechain_from(store, seal_row.id, audit.chain_hash)
    result = _verify(store)
    assert not result.ok and result.first_broken_id == seal_row.id


@pytest.mark.hazard("HAZ-014")
def test_a_record_inserted_behind_the_service_s_back_has_no_seal(store, triage):
    contact_id = _decided_contact(store, triage, lonely_or_isolated=True)
    with store.engine.begin() as connection:
        connection.execute(text("INSERT INTO fact_events (contact_id, fact, value, source, actor, at) "
                                "VALUES (:id, 'immediate_danger', 'false', 'api', 'x', :at)"),
                           {"id": contact_id, "at": T0 if store.backend == "postgresql" else T0.replace(tzinfo=None)})
    result = _verify(store)
    assert not result.ok and result.broken_record.startswith("fact_events#") and "no seal" in result.reason


@pytest.mark.hazard("HAZ-014")
def test_a_removed_review_is_named_by_its_seal(store, triage):
    from web.store import contacts

    contact_id = _decided_contact(store, triage, fallen=True, age=80)
    store.run(lambda db: contacts.review(db, contact_id, action="confirm", actor="sup-1",
                                         actor_role="supervisor", now=T0))
    _drop_triggers(store, "reviews")
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM reviews WHERE contact_id = :id"), {"id": contact_id})
    result = _verify(store)
    assert not result.ok and result.broken_record.startswith("reviews#") and "removed" in result.reason


@pytest.mark.hazard("HAZ-014")
def test_a_tail_cut_with_the_head_row_rewritten_is_caught_by_the_head_file(store):
    _log(store, 5)
    _drop_audit_triggers(store)
    with store.session() as db:
        row3 = db.get(AuditEntry, 3)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id > 3"))
        connection.execute(text("UPDATE audit_head SET last_id = 3, last_hash = :hash WHERE id = 1"), {"hash": row3.hash})
    result = _verify(store)
    assert not result.ok and result.first_broken_id == 4 and "head file" in result.reason


@pytest.mark.hazard("HAZ-014")
def test_each_commit_copies_the_head_outside_the_database_and_a_rollback_does_not(store, tmp_path):
    _log(store, 2)
    anchors = audit.read_anchors(tmp_path / "audit-head.log")
    assert sorted(anchors) == [1, 2]

    def fail(db):
        audit.append(db, actor="sup-1", action="contact.view")
        raise ValueError("rolled back")

    with pytest.raises(ValueError):
        store.run(fail)
    assert sorted(audit.read_anchors(tmp_path / "audit-head.log")) == [1, 2]


def test_records_cannot_be_bulk_inserted_past_the_seal(store):
    with pytest.raises(RuntimeError, match="sealed"):
        store.run(lambda db: db.execute(insert(FactEvent), [{"contact_id": "SPA-0000-0001", "fact": "age",
                                                             "value": 80, "source": "api", "actor": "x", "at": T0}]))


def test_a_head_file_left_from_another_database_is_not_read_against_this_chain(store, tmp_path, database):
    _log(store, 3)
    other_file = tmp_path / "other-head.log"
    other_file.write_text('{"chain":"' + "f" * 64 + '","id":9,"hash":"' + "e" * 64 + '"}\n')
    other = Store(store.url, schema=store.schema, audit_settings=AuditSettings(key=AUDIT_KEY, head_file=other_file))
    with other.session() as db:
        result = audit.verify(db)
    other.dispose()
    assert result.ok and any("no heads of this chain" in warning for warning in result.warnings)


def test_two_processes_making_the_instance_key_at_once_get_the_same_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from web.settings import instance_secret_key

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: instance_secret_key(tmp_path, "audit_key"), range(16)))
    assert len(keys) == 1
