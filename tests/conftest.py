"""Shared fixtures for the web app and the store (reusable by every test module).

Stores and apps are real: SQLite in a temporary folder, or PostgreSQL at 127.0.0.1:5432
(database `test`, trust auth) in a schema of its own that is dropped afterwards. The schema
comes from the Alembic migrations, as in production.

Fixtures:
- `triage`                      the real decision service, built once per test session
- `backend`                     "sqlite" or "postgresql" (parametrises `store` and `any_app`)
- `store`                       a migrated, empty web.store.Store on each backend
- `app`, `client`               the app on SQLite; `pg_app` on PostgreSQL; `any_app` on both
- `require_postgres()`, `require_redis()`  skip without the server; fail in CI (SPOA_REQUIRE_POSTGRES,
                                SPOA_REQUIRE_REDIS set by .ci/run)
- `service_headers`             {"Authorization": "Bearer <token>"} for the action server's calls
- `make_user(role, username=None, password=PASSWORD)`  creates a staff user in `app`'s store
- `client_as(role, app=None)`   a test client logged in (through the login form) as a new user
- `staff_json(client)`          {"X-CSRFToken": ...} for JSON POSTs made with a staff session
- `clock`                       a settable clock (FakeClock) that `app` reads instead of the time
- `live_app`, `live_server`     (per module) the app on SQLite with the real clock, and the base URL
                                it is served at (werkzeug, a thread, a free 127.0.0.1 port)
- `browser`                     (per module) headless Chromium (/usr/bin/chromium; skipped if absent)
- `new_page(width, height)`     a page in a fresh browser context on `live_server`, errors in page.errors
Helpers: `login(client, username, password)`, `csrf_token(client)`, `make_app(settings, triage)`,
`screen_clear(**facts)`, `PASSWORD`, `SERVICE_TOKEN`.
"""
from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from browser_helpers import CHROMIUM, launch_chromium, record_errors, serve
from engine_helpers import get_triage
from spoa.vocabulary import EMERGENCY_SCREEN
from web import create_app
from web.store import Store
from web.store.audit import AuditSettings
from web.store.db import sqlite_url

SERVICE_TOKEN = "test-service-token-7c4f"
PASSWORD = "a long test password 1"
PG_URL = os.environ.get("SPOA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Database 15 of the machine's Redis: tests flush only the keys they make (their own prefix).
REDIS_URL = os.environ.get("SPOA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Thursday 26 November 2026, 10:00 UTC (inside the urgent community response's hours).
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)


def screen_clear(**facts) -> dict:
    """Facts with the ten emergency-screen questions answered "no", plus `facts`."""
    return {**{fact: False for fact in EMERGENCY_SCREEN}, **facts}


class FakeClock:
    """A clock the test sets (the app reads the time only through `spoa.clock`)."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _postgres_available() -> bool:
    try:
        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


_AVAILABLE: dict[str, bool] = {}


def _require(server: str, url: str, available, required_by: str) -> None:  # noqa: ANN001
    """Skip without the server; fail instead when `required_by` is set (CI, see .ci/run)."""
    if server not in _AVAILABLE:
        _AVAILABLE[server] = available()
    if not _AVAILABLE[server]:
        if os.environ.get(required_by):
            pytest.fail(f"{server} is required but not reachable at {url}")
        pytest.skip(f"{server} not reachable at {url}")


def require_postgres() -> None:
    _require("PostgreSQL", PG_URL, _postgres_available, "SPOA_REQUIRE_POSTGRES")


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def require_redis() -> None:
    _require("Redis", REDIS_URL, _redis_available, "SPOA_REQUIRE_REDIS")


class PgSchema:
    """A schema of its own in the `test` database, dropped on close."""

    def __init__(self):
        self.name = f"spoa_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{self.name}"')

    def close(self) -> None:
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


@pytest.fixture(scope="session")
def triage():
    return get_triage()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    if request.param == "postgresql":
        require_postgres()
    return request.param


@pytest.fixture
def database(backend: str, tmp_path: Path):
    """(url, schema) for an empty database on `backend`."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path / "spoa.db"), None
        return
    schema = PgSchema()
    try:
        yield PG_URL, schema.name
    finally:
        schema.close()


AUDIT_KEY = b"test-audit-key-5d1e"


@pytest.fixture
def store(database, tmp_path):
    """A migrated store whose audit chain is keyed, with its head copied to tmp_path."""
    url, schema = database
    instance = Store(url, schema=schema, pool_size=5,
                     audit_settings=AuditSettings(key=AUDIT_KEY, head_file=tmp_path / "audit-head.log"))
    instance.upgrade()
    yield instance
    instance.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_app(settings: dict, triage, tmp_path: Path):
    """The app with test settings (real engine, migrated database)."""
    base = {"TESTING": True, "SECRET_KEY": "test-secret-key", "SPOA_SERVICE_TOKEN": SERVICE_TOKEN,
            "INSTANCE_PATH": str(tmp_path / "instance"), "SPOA_TRIAGE": triage,
            "SPOA_ARGON2_PROFILE": "CHEAPEST",  # fast hashes in tests; production uses RFC 9106
            "DATABASE_URL": sqlite_url(tmp_path / "app.db")}
    app = create_app({**base, **settings})
    app.extensions["spoa"].store.upgrade()
    return app


@pytest.fixture
def app(triage, tmp_path, clock):
    app = make_app({"SPOA_CLOCK": clock}, triage, tmp_path)
    yield app
    app.extensions["spoa"].store.dispose()


@pytest.fixture
def pg_app(triage, tmp_path, clock):
    require_postgres()
    schema = PgSchema()
    app = make_app({"SPOA_CLOCK": clock, "DATABASE_URL": PG_URL, "DATABASE_SCHEMA": schema.name}, triage, tmp_path)
    yield app
    app.extensions["spoa"].store.dispose()
    schema.close()


@pytest.fixture
def any_app(backend, database, triage, tmp_path, clock):
    """The app on each backend in turn."""
    url, schema = database
    app = make_app({"SPOA_CLOCK": clock, "DATABASE_URL": url, "DATABASE_SCHEMA": schema}, triage, tmp_path)
    yield app
    app.extensions["spoa"].store.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def service_headers() -> dict:
    return {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def create_user(app, role: str, username: str | None = None, password: str = PASSWORD) -> str:
    from web.store import users

    username = username or f"{role.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    app.extensions["spoa"].store.run(lambda db: users.add_user(db, username, password, role))
    return username


@pytest.fixture
def make_user(app):
    def make(role: str, username: str | None = None, password: str = PASSWORD) -> str:
        return create_user(app, role, username, password)
    return make


_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" type="hidden" value="([^"]+)"'
                   r'|name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/auth/login") -> str:
    """A CSRF token for this client's session, read from a page."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return next(group for group in match.groups() if group)


def login(client, username: str, password: str = PASSWORD, follow: bool = False):
    token = csrf_token(client)
    return client.post("/auth/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=follow)


@pytest.fixture
def client_as(app):
    """client_as("supervisor") -> a test client logged in as a new supervisor."""
    def make(role: str, on_app=None):
        target = on_app or app
        username = create_user(target, role)
        client = target.test_client()
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        client.username = username
        return client
    return make


@pytest.fixture
def staff_json():
    def headers(client) -> dict:
        return {"X-CSRFToken": csrf_token(client, "/auth/login")}
    return headers


# -- the real app in a real browser -------------------------------------------------------------

@pytest.fixture(scope="module")
def live_app(triage, tmp_path_factory):
    """The app a module's browser tests share: SQLite in a temporary folder, the real clock.
    Tests seed it through its store (app.extensions["spoa"].store)."""
    # Each test logs in through the form: lift the login rate limit for this app only.
    app = make_app({"SPOA_LOGIN_RATE_LIMIT": "1000 per minute", "TESTING": False}, triage,
                   tmp_path_factory.mktemp("live"))
    yield app
    app.extensions["spoa"].store.dispose()


@pytest.fixture(scope="module")
def live_server(live_app) -> str:
    """The base URL (http://127.0.0.1:<port>) `live_app` is served at, for this module's tests."""
    with serve(live_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright (one per module: Playwright's sync API allows one
    instance at a time in a thread)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (run `make system-deps`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(width=1280, height=900) -> a page in a fresh browser context, relative URLs on
    `live_server`; its script errors and console errors are kept in page.errors."""
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = browser.new_context(base_url=live_server, viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        record_errors(page)
        return page

    yield make
    for context in contexts:
        context.close()
