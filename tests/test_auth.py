"""Staff login: Argon2 hashes, CSRF, rate limits, idle timeout, roles per page, headers."""
from __future__ import annotations

import time
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from conftest import PASSWORD, csrf_token, login, make_app
from web.store import audit
from web.store.models import AuditEntry, User


@pytest.mark.hazard("HAZ-013")
def test_password_is_stored_as_an_argon2id_hash(app, make_user):
    username = make_user("supervisor")
    with app.extensions["spoa"].store.session() as db:
        user = db.scalar(select(User).where(User.username == username))
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_supervisor_logs_in_and_lands_on_the_audit_pages(app, make_user):
    username = make_user("supervisor")
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302 and response.headers["Location"].startswith("/audit")
    assert client.get("/audit/").status_code == 200


def test_duty_worker_logs_in_and_lands_on_the_worklist(app, make_user):
    response = login(app.test_client(), make_user("duty_worker"))
    assert response.status_code == 302 and response.headers["Location"] == "/worklist/"


def test_wrong_password_is_refused_and_the_attempt_audited(app, make_user):
    username = make_user("supervisor")
    client = app.test_client()
    response = login(client, username, "not the password at all")
    assert response.status_code == 401
    assert client.get("/audit/").status_code == 302  # still not logged in
    with app.extensions["spoa"].store.session() as db:
        actions = [(e.actor, e.action) for e in db.scalars(select(AuditEntry))]
    assert (username, "auth.login_failed") in actions


def test_login_form_without_its_csrf_token_is_refused(app, make_user):
    username = make_user("supervisor")
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/audit/").status_code == 302


def test_sixth_login_attempt_in_a_minute_is_rate_limited(app, make_user):
    username = make_user("supervisor")
    client = app.test_client()
    statuses = [login(client, username, "wrong password here").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429


def test_rate_limits_can_live_in_redis(triage, tmp_path, make_user):
    pytest.importorskip("redis")
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    prefix = f"spoa-test-{uuid.uuid4().hex}"
    app = make_app({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", "RATELIMIT_KEY_PREFIX": prefix,
                    "SPOA_LOGIN_RATE_LIMIT": "2 per minute"}, triage, tmp_path)
    client = app.test_client()
    statuses = [login(client, "nobody-here", "wrong password here").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    server = redis.Redis(host="127.0.0.1", port=6379)
    keys = server.keys(f"*{prefix}*")
    assert keys  # the counters are in Redis, shared by every server process
    server.delete(*keys)


# Which role opens which page: tests/test_audit_pages.py (every audit page, the worklist).

def test_call_handler_cannot_verify_the_audit_log_through_the_api(client_as):
    assert client_as("call_handler").get("/api/audit/verify").status_code == 403


@pytest.mark.hazard("HAZ-013")
def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_session_ends_after_thirty_idle_minutes(client_as):
    supervisor = client_as("supervisor")
    with supervisor.session_transaction() as session:
        session["last_seen"] = time.time() - 31 * 60
    response = supervisor.get("/audit/")
    assert response.status_code == 302 and "timed_out=1" in response.headers["Location"]
    assert supervisor.get("/audit/").status_code == 302


def test_session_twenty_nine_idle_minutes_old_is_still_open(client_as):
    supervisor = client_as("supervisor")
    with supervisor.session_transaction() as session:
        session["last_seen"] = time.time() - 29 * 60
    assert supervisor.get("/audit/").status_code == 200


def test_logout_needs_a_post_with_the_csrf_token(client_as):
    supervisor = client_as("supervisor")
    assert supervisor.get("/auth/logout").status_code == 405
    supervisor.post("/auth/logout", data={"csrf_token": csrf_token(supervisor, "/audit/")})
    assert supervisor.get("/audit/").status_code == 302


def test_login_does_not_redirect_to_another_site(app, make_user):
    username = make_user("supervisor")
    client = app.test_client()
    token = csrf_token(client, "/auth/login?next=//evil.example/")
    response = client.post("/auth/login?next=//evil.example/",
                           data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/audit")


def test_every_page_carries_a_csp_without_inline_script(client):
    response = client.get("/auth/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.get_data(as_text=True)


def test_login_and_logout_are_in_the_audit_log(app, client_as):
    supervisor = client_as("supervisor")
    supervisor.post("/auth/logout", data={"csrf_token": csrf_token(supervisor, "/audit/")})
    with app.extensions["spoa"].store.session() as db:
        actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert audit.verify(db).ok
    assert actions == ["auth.login", "auth.logout"]


def test_spoa_users_add_reads_the_password_from_stdin(monkeypatch, tmp_path):
    from web.cli import cli
    from web.store import Store, users
    from web.store.db import sqlite_url

    url = sqlite_url(tmp_path / "users.db")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "test")
    result = CliRunner().invoke(cli, ["users", "add", "Alex.Duty", "--role", "duty_worker", "--password-stdin"],
                                input="a sufficiently long one\n")
    assert result.exit_code == 0, result.output
    store = Store(url)
    with store.session() as db:
        assert users.authenticate(db, "alex.duty", "a sufficiently long one").role == "duty_worker"
    short = CliRunner().invoke(cli, ["users", "add", "sam", "--role", "admin", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    store.dispose()


def test_unknown_role_is_refused_by_the_cli(monkeypatch, tmp_path):
    from web.cli import cli

    result = CliRunner().invoke(cli, ["users", "add", "sam", "--role", "boss", "--password-stdin"], input="x\n")
    assert result.exit_code == 2 and "boss" in result.output


def test_idle_staff_session_gets_a_json_401_from_the_api(client_as):
    supervisor = client_as("supervisor")
    with supervisor.session_transaction() as session:
        session["last_seen"] = time.time() - 31 * 60
    response = supervisor.get("/api/contacts")
    assert response.status_code == 401 and "timed out" in response.get_json()["message"]
