"""Faults while residents and staff are being served (issue 9, item 5): Rasa killed or
restarted mid-conversation, PostgreSQL cut mid-load, a web worker killed with SIGKILL.

Everything is real: `spoa serve` under gunicorn, the trained Rasa model with the action
server, Rasa's SQL tracker store in a PostgreSQL schema of its own and its Redis lock store
(assistant/endpoints.production.yml), the machine's PostgreSQL. The database outage is a TCP
proxy between the app and PostgreSQL that the test cuts (the real server is shared with
other sessions and is never stopped).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests

from conftest import PG_URL, PgSchema, require_postgres, require_redis, screen_clear
from serving_helpers import SpoaServer, TcpProxy, open_chat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "assistant"))

import chat_stack  # noqa: E402

pytestmark = [pytest.mark.fault, pytest.mark.slow]

TOKEN = "fault-test-service-token-0123456789abcdef"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
FALL = {"channel": "phone", "facts": screen_clear(age=90, fallen=True, on_floor_cannot_get_up=True)}


def pg_count(schema: str, sql: str) -> int:
    with psycopg.connect(PG_URL.replace("+psycopg", ""), options=f"-csearch_path={schema}") as connection:
        return connection.execute(sql).fetchone()[0]


# -- Rasa killed or restarted mid-conversation ----------------------------------------------------

@pytest.fixture(scope="module")
def stack():
    missing = chat_stack.prerequisites()
    if missing:
        pytest.skip("the chat stack can't run: missing " + "; ".join(missing))
    require_postgres()
    require_redis()
    tracker = PgSchema()   # Rasa's tracker store, a schema of its own
    running = chat_stack.new_stack()
    running.endpoints = chat_stack.production_endpoints()
    running.rasa_env = {"RASA_DB_HOST": "127.0.0.1", "RASA_DB_PORT": "5432", "RASA_DB_NAME": "test",
                        "RASA_DB_USER": "postgres", "RASA_DB_PASSWORD": "", "POSTGRESQL_SCHEMA": tracker.name,
                        "SQL_POOL_SIZE": "2", "SQL_MAX_OVERFLOW": "4", "RASA_REDIS_HOST": "127.0.0.1",
                        "RASA_REDIS_PORT": "6379", "RASA_REDIS_DB": "14"}
    running.env = {"SPOA_CHAT_RATE_LIMIT": "1000 per minute"}
    try:
        with running:
            yield running
    finally:
        tracker.close()


@pytest.mark.hazard("HAZ-007")
def test_rasa_restarted_mid_conversation_resumes_from_the_tracker_store(stack):
    sender = chat_stack.new_sender()
    first = stack.say(sender, "my mum has fallen and can't get up")
    question, contact_id = chat_stack.question_in(first), None
    assert question is not None and question["question_id"] == "emergency_screen", first
    contact_id = question.get("contact_id")

    stack.kill("rasa")
    stack.start_rasa()

    after = stack.say(sender, "none of those")
    following = chat_stack.question_in(after) or chat_stack.outcome_in(after)
    assert following is not None, after
    # The restarted Rasa knew the question asked and the contact: the answer was read as the
    # emergency screen's, and the conversation went on (not "tell me what is happening").
    assert following.get("question_id") != "emergency_screen"
    assert following.get("contact_id") == contact_id
    tracker = stack.rasa_env["POSTGRESQL_SCHEMA"]
    assert pg_count(tracker, f"SELECT count(*) FROM events WHERE sender_id = '{sender}'") > 0


@pytest.mark.hazard("HAZ-007")
def test_rasa_killed_mid_conversation_the_page_carries_on_with_the_same_contact(stack):
    session, headers = open_chat(stack.web_url)
    first = session.post(stack.web_url + "/chat/api/message", headers=headers, timeout=60,
                         json={"text": "my dad has fallen and can't get up"}).json()
    assert first["fallback"] is False and first["contact_id"], first

    stack.kill("rasa")

    after = session.post(stack.web_url + "/chat/api/message", headers=headers, timeout=60,
                         json={"text": "none of those"}).json()
    assert after["fallback"] is True and after["contact_id"] == first["contact_id"], after
    # Read from the store: the service token writes for the chat but reads no contact back.
    from web.store import Store, contacts

    store = Store(stack._app_env()["DATABASE_URL"])
    try:
        with store.session() as db:
            facts = contacts.current_facts(db, first["contact_id"])
    finally:
        store.dispose()
    assert facts["on_floor_cannot_get_up"] is True   # what was said to Rasa is kept


# -- PostgreSQL unavailable mid-load ------------------------------------------------------------

def _hammer(url: str, seconds: float, results: list, clients: int = 4) -> None:
    """`clients` threads POST contacts for `seconds`; each result kept as (status, the id or the
    error body, when it was answered); status 0 is a dropped connection."""
    stop = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            try:
                response = session.post(url + "/api/contacts", json=FALL, headers=HEADERS, timeout=30)
                body = response.json()
                results.append((response.status_code, body.get("id") if response.status_code == 201 else body,
                                time.monotonic()))
            except requests.RequestException as error:
                results.append((0, type(error).__name__, time.monotonic()))
                time.sleep(0.1)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.hazard("HAZ-019")
def test_postgresql_cut_mid_load_answers_503_loses_nothing_acknowledged_and_resumes(tmp_path):
    require_postgres()
    schema, proxy = PgSchema(), TcpProxy(("127.0.0.1", 5432))
    url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test"
    env = {"DATABASE_URL": url, "DATABASE_SCHEMA": schema.name, "SECRET_KEY": "s" * 40, "SPOA_SERVICE_TOKEN": TOKEN}
    try:
        with SpoaServer(env, ["--workers", "1", "--threads", "4"]) as server:
            results: list = []
            load = threading.Thread(target=_hammer, args=(server.url, 9.0, results))
            load.start()
            time.sleep(2.5)
            proxy.cut()
            time.sleep(1.5)
            health = requests.get(server.url + "/api/health", timeout=30)
            time.sleep(1.5)
            proxy.restore()
            restored = time.monotonic()
            load.join()
        statuses = {status for status, _, _ in results}
        assert health.status_code == 503 and health.json()["database"]["ok"] is False
        unavailable = [body for status, body, _ in results if status == 503]
        assert unavailable and all(body["error"] == "database_unavailable" for body in unavailable), unavailable[:3]
        assert statuses <= {201, 503}, sorted(statuses)                                 # clear 503s, never a 500
        assert any(status == 201 and at > restored for status, _, at in results)        # served again
        acknowledged = {body for status, body, _ in results if status == 201}
        ids = "', '".join(sorted(acknowledged))
        assert pg_count(schema.name, f"SELECT count(*) FROM contacts WHERE id IN ('{ids}')") == len(acknowledged)
        assert pg_count(schema.name, "SELECT count(*) FROM contacts c WHERE NOT EXISTS "
                                     "(SELECT 1 FROM decisions d WHERE d.contact_id = c.id)") == 0
    finally:
        proxy.close()
        schema.close()


# -- a web worker killed with SIGKILL -------------------------------------------------------------

@pytest.mark.hazard("HAZ-019")
def test_web_worker_killed_mid_write_leaves_no_half_written_contact(tmp_path):
    import sqlite3

    database = tmp_path / "spoa.db"
    env = {"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "s" * 40, "SPOA_SERVICE_TOKEN": TOKEN}
    with SpoaServer(env, ["--workers", "1", "--threads", "4"]) as server:
        results: list = []
        load = threading.Thread(target=_hammer, args=(server.url, 12.0, results))
        load.start()
        time.sleep(2.0)
        killed = server.worker_pids()
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        at_kill = time.monotonic()
        load.join()
        assert killed and set(server.worker_pids()).isdisjoint(killed)   # gunicorn started a new worker
    assert any(status == 201 and at < at_kill for status, _, at in results)
    assert any(status == 201 and at > at_kill for status, _, at in results)     # served again after the kill
    acknowledged = {body for status, body, _ in results if status == 201}
    with sqlite3.connect(database) as connection:
        stored = {row[0] for row in connection.execute("SELECT id FROM contacts")}
        undecided = connection.execute("SELECT count(*) FROM contacts c WHERE NOT EXISTS "
                                       "(SELECT 1 FROM decisions d WHERE d.contact_id = c.id)").fetchone()[0]
        factless = connection.execute("SELECT count(*) FROM contacts c WHERE NOT EXISTS "
                                      "(SELECT 1 FROM fact_events f WHERE f.contact_id = c.id)").fetchone()[0]
    assert acknowledged <= stored            # nothing acknowledged was lost
    assert undecided == 0 and factless == 0  # and nothing half-written was kept
