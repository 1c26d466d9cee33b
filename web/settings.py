"""The app's settings: defaults, then the environment (secrets), then what the caller passes.

Configuration is data (`config.yml`); secrets come from the environment: SECRET_KEY,
SPOA_SERVICE_TOKEN, DATABASE_URL, RATELIMIT_STORAGE_URI, SPOA_AUDIT_KEY. Without SECRET_KEY a key is
generated once into instance/secret_key (gitignored) so sessions survive a restart; likewise
the audit chain's key into instance/audit_key (it must never live in the database), and the
chain's head is copied to instance/audit-head.log unless SPOA_AUDIT_HEAD_FILE says otherwise.
"""
from __future__ import annotations

import os
import secrets
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
        "SPOA_AUTO_DEMO": True,
        "SPOA_ARGON2_PROFILE": "RFC_9106_LOW_MEMORY",  # argon2.profiles name; tests use CHEAPEST
    }


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for key in ("SECRET_KEY", "SPOA_SERVICE_TOKEN", "DATABASE_URL", "RATELIMIT_STORAGE_URI", "DATABASE_SCHEMA",
                "HOST", "RASA_URL", "SPOA_AUDIT_KEY", "SPOA_AUDIT_HEAD_FILE"):
        if environ.get(key):
            settings[key] = environ[key]
    for key in ("PORT", "SPOA_THREADS"):
        if environ.get(key):
            settings[key] = int(environ[key])
    if environ.get("SESSION_COOKIE_SECURE"):
        settings["SESSION_COOKIE_SECURE"] = environ["SESSION_COOKIE_SECURE"].lower() in ("1", "true", "yes")
    return settings


def instance_secret_key(instance_path: Path, name: str = "secret_key") -> str:
    """The key in instance/<name>, generated (owner-only) on first use."""
    path = instance_path / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key
