"""The audit log is append-only and tamper-evident, on SQLite and PostgreSQL.

The database refuses UPDATE and DELETE; someone who gets past that (dropping the trigger,
or inserting a forged row) is caught by `verify`, which names the first broken row.
"""
from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from conftest import T0
from web.store import audit
from web.store.models import GENESIS_HASH


def _log(store, count: int) -> None:
    for number in range(count):
        store.run(lambda db, n=number: audit.append(db, actor="sup-1", actor_role="supervisor",
                                                    action="contact.view", target=f"SPA-0000-000{n}",
                                                    details={"via": "audit"}, at=T0))


def _verify(store):
    with store.session() as db:
        return audit.verify(db)


def _drop_audit_triggers(store) -> None:
    with store.engine.begin() as connection:
        if store.backend == "postgresql":
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))


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
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 3 rows" in ok.output
    _drop_audit_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET target = 'SPA-XXXX-XXXX' WHERE id = 2"))
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN at row 2" in broken.output
