"""The SPoA web app: `create_app(config=None)` builds it (application factory).

One blueprint per audience (api, auth, audit, worklist; chat and console join the list in
web/blueprints/__init__.py). Dependencies are built by `web.bootstrap.bootstrap` and kept on
`app.extensions["spoa"]`; nothing is built at import time. Tests pass their settings here.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from web import errors, security, settings as app_settings
from web.blueprints import register_blueprints
from web.bootstrap import bootstrap
from web.store import users


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides the defaults and the environment (see web/settings.py)."""
    config = dict(config or {})
    instance_path = Path(config.get("INSTANCE_PATH") or app_settings.DEFAULT_INSTANCE).resolve()
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    app.config.update(app_settings.defaults(instance_path))
    environment = app_settings.from_environment()
    app.config.update(environment)
    app.config.update(config)
    if app_settings.is_production(app.config):
        _check_production(app, explicit={**environment, **config})
    if app.config["DATABASE_URL"].startswith("sqlite"):
        instance_path.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = app_settings.instance_secret_key(instance_path)
    if not app.config.get("SPOA_AUDIT_KEY"):
        app.config["SPOA_AUDIT_KEY"] = app_settings.instance_secret_key(instance_path, "audit_key")
    if not app.config.get("SPOA_AUDIT_HEAD_FILE"):
        app.config["SPOA_AUDIT_HEAD_FILE"] = str(instance_path / "audit-head.log")
    if int(app.config.get("SPOA_PROXY_HOPS") or 0) > 0:
        # Behind N proxies (TLS terminator, load balancer) the client's address is the Nth
        # X-Forwarded-For entry from the right; the rate limits count it, not the proxy's.
        hops = int(app.config["SPOA_PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    logging.getLogger("web").setLevel(logging.INFO)

    users.use_profile(app.config["SPOA_ARGON2_PROFILE"])
    app.extensions["spoa"] = bootstrap(app.config)
    security.init_app(app)
    errors.init_app(app)
    register_blueprints(app)
    security.init_rate_limits(app)
    return app


def _check_production(app: Flask, explicit: Mapping[str, Any]) -> None:
    """SPOA_ENV=production refuses to start half-configured (see web/settings.py), or
    without its Redis; its session cookie is HTTPS-only unless set explicitly."""
    problems = app_settings.production_problems(app.config)
    if not problems:
        import redis

        try:
            redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"], socket_connect_timeout=3,
                                 socket_timeout=3).ping()
        except redis.RedisError as error:
            problems.append(f"Redis at RATELIMIT_STORAGE_URI is not reachable ({type(error).__name__})")
    if problems:
        raise app_settings.ConfigurationError("SPOA_ENV=production can't start: " + "; ".join(problems))
    if "SESSION_COOKIE_SECURE" not in explicit:
        app.config["SESSION_COOKIE_SECURE"] = True
