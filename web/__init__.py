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
    app.config.update(app_settings.from_environment())
    app.config.update(config)
    if app.config["DATABASE_URL"].startswith("sqlite"):
        instance_path.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = app_settings.instance_secret_key(instance_path)
    if not app.config.get("SPOA_AUDIT_KEY"):
        app.config["SPOA_AUDIT_KEY"] = app_settings.instance_secret_key(instance_path, "audit_key")
    if not app.config.get("SPOA_AUDIT_HEAD_FILE"):
        app.config["SPOA_AUDIT_HEAD_FILE"] = str(instance_path / "audit-head.log")
    logging.getLogger("web").setLevel(logging.INFO)

    users.use_profile(app.config["SPOA_ARGON2_PROFILE"])
    app.extensions["spoa"] = bootstrap(app.config)
    security.init_app(app)
    errors.init_app(app)
    register_blueprints(app)
    security.init_rate_limits(app)
    return app
