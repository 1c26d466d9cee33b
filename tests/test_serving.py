"""Serving many residents at once (issue 9, items 1 and 3): gunicorn's threaded workers, the
dialogue API in a process of its own, the relay's choice of Rasa process, and the production
profile (refuses to start half-configured, Redis rate limits, proxy hops, no demo seeding).

The servers are real (`spoa serve` subprocesses, the machine's PostgreSQL and Redis); Rasa
and its actions are stood in for by a small server that makes the same dialogue calls
(tests/serving_helpers.py), since here the question is threads, not the model.
"""
from __future__ import annotations

import re
import secrets
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from sqlalchemy import func, select

from conftest import PG_URL, REDIS_URL, PgSchema, csrf_token, make_app, require_postgres, require_redis
from serving_helpers import SPOA, ROOT, ActionsLikeRasa, SpoaServer, open_chat
from test_chat_page import FakeRasa, closed_port_url
from web import create_app
from web.dialogue_client import RasaClient, rasa_for
from web.settings import ConfigurationError, production_problems
from web.store import Store
from web.store.models import Contact, User

TOKEN = secrets.token_urlsafe(32)
PRODUCTION = {"SPOA_ENV": "production", "SECRET_KEY": "k" * 40, "SPOA_SERVICE_TOKEN": TOKEN,
              "SPOA_AUDIT_KEY": "a" * 40, "DATABASE_URL": PG_URL, "RATELIMIT_STORAGE_URI": REDIS_URL}


def count(url: str, model, schema: str | None = None) -> int:
    store = Store(url, schema=schema, pool_size=1)
    try:
        with store.session() as db:
            return db.scalar(select(func.count()).select_from(model))
    finally:
        store.dispose()


# -- the production profile -------------------------------------------------------------------

@pytest.mark.parametrize("missing, says", [
    ("SECRET_KEY", "SECRET_KEY"), ("SPOA_SERVICE_TOKEN", "SPOA_SERVICE_TOKEN"), ("SPOA_AUDIT_KEY", "SPOA_AUDIT_KEY"),
    ("DATABASE_URL", "PostgreSQL"), ("RATELIMIT_STORAGE_URI", "Redis")])
def test_production_without_a_setting_refuses_to_start_naming_it(missing, says):
    problems = production_problems({**PRODUCTION, missing: None})
    assert len(problems) == 1 and says in problems[0]


def test_production_on_sqlite_refuses_to_start(tmp_path):
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        create_app({**PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "INSTANCE_PATH": str(tmp_path)})


def test_production_with_redis_down_refuses_to_start(tmp_path):
    with pytest.raises(ConfigurationError, match="Redis at RATELIMIT_STORAGE_URI is not reachable"):
        create_app({**PRODUCTION, "RATELIMIT_STORAGE_URI": closed_port_url().replace("http", "redis"),
                    "INSTANCE_PATH": str(tmp_path)})


@pytest.mark.postgres
@pytest.mark.redis
def test_production_with_postgresql_and_redis_starts_with_https_cookies_and_shared_limits(triage, tmp_path):
    require_postgres()
    require_redis()
    schema = PgSchema()
    prefix = "spoa-test-" + uuid.uuid4().hex[:8]
    try:
        app = make_app({**PRODUCTION, "DATABASE_SCHEMA": schema.name, "RATELIMIT_KEY_PREFIX": prefix,
                        "SPOA_LOGIN_RATE_LIMIT": "2 per minute", "TESTING": False}, triage, tmp_path)
        assert app.config["SESSION_COOKIE_SECURE"] is True
        client, https = app.test_client(), "https://localhost"   # the session cookie is HTTPS-only
        html = client.get("/auth/login", base_url=https).get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
        statuses = [client.post("/auth/login", base_url=https, headers={"Referer": https + "/auth/login"},
                                data={"username": "x", "password": "y", "csrf_token": token}).status_code
                    for _ in range(3)]
        assert statuses[-1] == 429
        assert redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")   # the counters are in Redis
        app.extensions["spoa"].store.dispose()
    finally:
        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(f"*{prefix}*"):
            connection.delete(key)
        schema.close()


def test_development_profile_starts_without_any_of_it(triage, tmp_path):
    app = make_app({"SPOA_ENV": "development"}, triage, tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    app.extensions["spoa"].store.dispose()


# -- proxy hops: the client address the rate limits count ---------------------------------------

def _login_statuses(app, forwarded_for: list[str]) -> list[int]:
    """A wrong password from each address in turn (a valid form: the limit, not CSRF, answers)."""
    client = app.test_client()
    token = csrf_token(client)
    return [client.post("/auth/login", data={"username": "x", "password": "y", "csrf_token": token},
                        headers={"X-Forwarded-For": address}).status_code for address in forwarded_for]


def test_behind_one_proxy_each_resident_has_their_own_limit(triage, tmp_path):
    app = make_app({"SPOA_PROXY_HOPS": 1, "SPOA_LOGIN_RATE_LIMIT": "1 per minute", "TESTING": False},
                   triage, tmp_path)
    assert 429 not in _login_statuses(app, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    assert _login_statuses(app, ["203.0.113.1"]) == [429]


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_dodge_the_limit(triage, tmp_path):
    app = make_app({"SPOA_LOGIN_RATE_LIMIT": "1 per minute", "TESTING": False}, triage, tmp_path)
    assert _login_statuses(app, ["203.0.113.1", "203.0.113.2"])[-1] == 429


# -- the relay's choice of Rasa process --------------------------------------------------------

def test_a_conversation_always_goes_to_the_same_rasa_process():
    urls = ("http://a", "http://b", "http://c")
    firsts = {rasa_for(f"web-{index}", urls)[0] for index in range(60)}
    assert firsts == set(urls)                                   # shared out
    assert all(rasa_for("web-x", urls) == rasa_for("web-x", urls) for _ in range(5))   # and sticky


def test_a_stopped_rasa_process_passes_its_conversation_to_the_next():
    rasa = FakeRasa()
    try:
        rasa.replies.append((200, [{"recipient_id": "x", "text": "hello"}]))
        closed = closed_port_url()
        sender = next(s for s in (f"web-{i}" for i in range(100)) if rasa_for(s, (closed, rasa.url))[0] == closed)
        client = RasaClient(base_url=f"{closed},{rasa.url}")
        assert client.send(sender, "hi") == [{"recipient_id": "x", "text": "hello"}]
    finally:
        rasa.close()


# -- no self-starvation: the actions' calls have their own process -----------------------------------

def _residents_at_once(web_url: str, residents: int) -> list[dict]:
    def first_message(index: int) -> dict:
        session, headers = open_chat(web_url)
        return session.post(web_url + "/chat/api/message", json={"text": "my mum has fallen and can't get up"},
                            headers=headers, timeout=60).json()

    with ThreadPoolExecutor(residents) as pool:
        return list(pool.map(first_message, range(residents)))


def _chat_env(tmp_path, rasa_url: str = "") -> dict:
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/spoa.db", "SECRET_KEY": "s" * 40, "SPOA_SERVICE_TOKEN": TOKEN,
            "RASA_URL": rasa_url, "RASA_READ_TIMEOUT": "10", "SPOA_CHAT_RATE_LIMIT": "1000 per minute"}


def _warm_up(dialogue_url: str) -> None:
    """One turn that stores nothing, so the extractor is built before the residents arrive."""
    assert requests.post(dialogue_url + "/api/dialogue/turn", json={"text": "hello"}, timeout=120,
                         headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@pytest.mark.hazard("HAZ-007")
@pytest.mark.slow
def test_ten_residents_at_once_on_two_threads_all_get_rasas_answer(tmp_path):
    """The page's relay holds a web thread while Rasa works; the actions' calls go to the
    dialogue process, so they never wait for those threads (issue 9: 8 of 10 fell back)."""
    env = _chat_env(tmp_path)
    with SpoaServer(env, ["--workers", "1", "--threads", "4"]) as dialogue:
        _warm_up(dialogue.url)
        rasa = ActionsLikeRasa(dialogue.url, TOKEN)
        try:
            with SpoaServer({**env, "RASA_URL": rasa.url}, ["--workers", "1", "--threads", "2"]) as web:
                replies = _residents_at_once(web.url, 10)
        finally:
            rasa.close()
    assert [reply["fallback"] for reply in replies] == [False] * 10, replies
    assert len({reply["contact_id"] for reply in replies}) == 10
    assert count(env["DATABASE_URL"], Contact) == 10


@pytest.mark.slow
def test_actions_calling_back_into_the_relays_own_threads_starve_them(tmp_path):
    """The boundary: the old topology (one pool for the relay and the actions) falls back
    under the same load, and still stores one contact per resident."""
    env = {**_chat_env(tmp_path), "RASA_READ_TIMEOUT": "3"}
    web = SpoaServer(env, ["--workers", "1", "--threads", "2"])
    rasa = ActionsLikeRasa(web.url, TOKEN)
    try:
        with SpoaServer({**env, "RASA_URL": rasa.url}, ["--workers", "1", "--threads", "2"], port=web.port):
            _warm_up(web.url)
            replies = _residents_at_once(web.url, 10)
    finally:
        rasa.close()
    assert any(reply["fallback"] for reply in replies)
    assert count(env["DATABASE_URL"], Contact) == 10   # the form continued each conversation's contact


# -- spoa serve never seeds the demo ------------------------------------------------------------------

@pytest.mark.slow
def test_serve_on_an_empty_database_creates_no_logins(tmp_path):
    env = _chat_env(tmp_path)
    with SpoaServer(env, ["--workers", "1"]):
        pass
    assert count(env["DATABASE_URL"], User) == 0


def test_demo_if_empty_seeds_once_and_says_so_once(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/spoa.db", "SECRET_KEY": "s" * 40, "PYTHONPATH": str(ROOT),
           "PATH": "/usr/bin:/bin"}
    first = subprocess.run([SPOA, "demo", "--if-empty"], env=env, capture_output=True, text=True, timeout=300)
    again = subprocess.run([SPOA, "demo", "--if-empty"], env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == again.returncode == 0, first.stderr
    assert "admin" in first.stdout and again.stdout.strip() == ""
    assert count(env["DATABASE_URL"], User) > 0
