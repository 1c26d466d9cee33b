"""The blueprints, one per audience. Adding one is one line in BLUEPRINTS.

Each module named here exposes `bp`, a flask.Blueprint with its own url_prefix, and, if it
serves JSON under /api, `OPENAPI_PATHS` ({"/api/...": {OpenAPI 3.1 path item}}) for the
OpenAPI document.
"""
from __future__ import annotations

from importlib import import_module

from flask import Flask

BLUEPRINTS = [
    "web.blueprints.auth",      # staff login and logout
    "web.blueprints.api",       # JSON API (/api): contacts, facts, triage, health, worklist
    "web.blueprints.referrals",  # JSON API (/api): the person's details, one referral, supervisors' queue, calls
    "web.blueprints.audit",     # supervisors: contacts, traces, overrides, CSV, charts, replay, audit log (/audit)
    "web.blueprints.worklist",  # duty workers: referrals and call-backs to accept or return (/worklist)
    "web.blueprints.outbox",    # supervisors: referral messages not delivered, send again (/worklist/outbox)
    "web.blueprints.console",   # call handlers: guided triage on the phone (/console)
    "web.blueprints.dialogue_api",  # the chat's Rasa action server: one dialogue turn (/api/dialogue)
    "web.blueprints.chat",      # residents: the web chat page, relayed to Rasa, with a guided-form fallback (/chat)
]


def register_blueprints(app: Flask) -> None:
    """Register each blueprint; a module's OPENAPI_PATHS (if any) join /api/openapi.json."""
    extra_paths = app.extensions.setdefault("spoa_openapi_paths", {})
    for name in BLUEPRINTS:
        module = import_module(name)
        app.register_blueprint(module.bp)
        extra_paths.update(getattr(module, "OPENAPI_PATHS", {}))
