"""The app's settings: defaults, then the environment (secrets), then what the caller passes.

Configuration is data (`config.yml`); secrets come from the environment: SECRET_KEY,
SPOA_SERVICE_TOKEN, DATABASE_URL, RATELIMIT_STORAGE_URI, SPOA_AUDIT_KEY. Without SECRET_KEY a key is
generated once into instance/secret_key (gitignored) so sessions survive a restart; likewise
the audit chain's key into instance/audit_key (it must never live in the database), and the
chain's head is copied to instance/audit-head.log unless SPOA_AUDIT_HEAD_FILE says otherwise.

SPOA_ENV=production is the scaled-out profile (docs/DEPLOY.md): `production_problems` lists
what stops it starting (no SECRET_KEY, no PostgreSQL DATABASE_URL, no Redis for the rate
limits, no service token), so a half-configured service never serves; SPOA_PROXY_HOPS says
how many proxies in front set X-Forwarded-For (the client address the rate limits count).
"""
from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from web.store.db import sqlite_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"
IDLE_TIMEOUT = timedelta(minutes=30)


def defaults(instance_path: Path) -> dict[str, Any]:
    return {
        "SPOA_CONFIG": str(ROOT / "config.yml"),
        "SPOA_RULES_DIR": str(ROOT / "rules"),
        "SPOA_FLOWS_DIR": str(ROOT / "flows"),
        "DATABASE_URL": sqlite_url(instance_path / "spoa.db"),
        "DATABASE_SCHEMA": None,
        "SPOA_SERVICE_TOKEN": None,
        # A contact is a few kilobytes; 64 KiB leaves room and stops abuse early (413).
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "PERMANENT_SESSION_LIFETIME": IDLE_TIMEOUT,
        "SPOA_IDLE_TIMEOUT": IDLE_TIMEOUT,
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,  # set true behind HTTPS (env SESSION_COOKIE_SECURE=1)
        "SESSION_COOKIE_NAME": "spoa_session",
        "WTF_CSRF_TIME_LIMIT": None,     # the session's idle timeout bounds the token's life
        "RATELIMIT_STORAGE_URI": "memory://",
        "SPOA_LOGIN_RATE_LIMIT": "5 per minute;30 per hour",
        "SPOA_CHAT_RATE_LIMIT": "60 per minute;600 per hour",
        "RATELIMIT_HEADERS_ENABLED": True,
        "HOST": "127.0.0.1",
        "PORT": 5000,
        "SPOA_THREADS": 8,
        "SPOA_ENV": "development",
        "SPOA_PROXY_HOPS": 0,        # X-Forwarded-* headers trusted from this many proxies
        "SPOA_ARGON2_PROFILE": "RFC_9106_LOW_MEMORY",  # argon2.profiles name; tests use CHEAPEST
    }


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for key in ("SECRET_KEY", "SPOA_SERVICE_TOKEN", "DATABASE_URL", "RATELIMIT_STORAGE_URI", "DATABASE_SCHEMA",
                "HOST", "RASA_URL", "SPOA_AUDIT_KEY", "SPOA_AUDIT_HEAD_FILE", "SPOA_ENV", "SPOA_CHAT_RATE_LIMIT",
                "SPOA_LOGIN_RATE_LIMIT"):
        if environ.get(key):
            settings[key] = environ[key]
    for key in ("PORT", "SPOA_THREADS", "SPOA_PROXY_HOPS", "DATABASE_POOL_SIZE"):
        if environ.get(key):
            settings[key] = int(environ[key])
    for key in ("RASA_CONNECT_TIMEOUT", "RASA_READ_TIMEOUT"):
        if environ.get(key):
            settings[key] = float(environ[key])
    if environ.get("SESSION_COOKIE_SECURE"):
        settings["SESSION_COOKIE_SECURE"] = environ["SESSION_COOKIE_SECURE"].lower() in ("1", "true", "yes")
    return settings


MIN_SECRET_CHARS = 32


def is_production(settings: dict[str, Any]) -> bool:
    return str(settings.get("SPOA_ENV") or "").lower() == "production"


def production_problems(settings: dict[str, Any]) -> list[str]:
    """What the production profile lacks (empty when it may start). Settings only, no I/O."""
    problems = []
    if len(str(settings.get("SECRET_KEY") or "")) < MIN_SECRET_CHARS:
        problems.append(f"SECRET_KEY must be set (at least {MIN_SECRET_CHARS} characters)")
    if not str(settings.get("DATABASE_URL") or "").startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        problems.append("DATABASE_URL must be a PostgreSQL URL (postgresql://...)")
    if not str(settings.get("RATELIMIT_STORAGE_URI") or "").startswith(("redis://", "rediss://", "redis+sentinel://")):
        problems.append("RATELIMIT_STORAGE_URI must be a Redis URL (redis://...), shared by every worker")
    if len(str(settings.get("SPOA_SERVICE_TOKEN") or "")) < MIN_SECRET_CHARS:
        problems.append(f"SPOA_SERVICE_TOKEN must be set (at least {MIN_SECRET_CHARS} characters)")
    # Every process must key the audit chain alike, and the key must not be a file beside the
    # data that a database administrator could read (docs/safety/README.md).
    if len(str(settings.get("SPOA_AUDIT_KEY") or "")) < MIN_SECRET_CHARS:
        problems.append(f"SPOA_AUDIT_KEY must be set (at least {MIN_SECRET_CHARS} characters)")
    return problems


class ConfigurationError(RuntimeError):
    """The app can't start with these settings; the message lists why."""


def instance_secret_key(instance_path: Path, name: str = "secret_key") -> str:
    """The key in instance/<name>, generated (owner-only) on first use. Processes started
    together (make run) may race to make it: the loser reads the winner's key."""
    path = instance_path / name
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the winner writes one short line just after creating the file
            existing = path.read_text(encoding="utf-8").strip()
            if existing:
                return existing
            time.sleep(0.02)
        raise RuntimeError(f"{path} exists but is empty; remove it to generate a new key") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key
