"""The blueprints, one per audience. Adding one is one line in BLUEPRINTS.

Each module named here exposes `bp`, a flask.Blueprint with its own url_prefix.
"""
from __future__ import annotations

from importlib import import_module

from flask import Flask

BLUEPRINTS = [
    "web.blueprints.auth",      # staff login and logout
    "web.blueprints.api",       # JSON API (/api): contacts, facts, triage, health, worklist
    "web.blueprints.audit",     # supervisors: contacts, decisions, traces, audit log (/audit)
    "web.blueprints.worklist",  # duty workers: referrals and call-backs (/worklist)
    "web.blueprints.audit_pages", "web.blueprints.worklist_pages",  # NHS-styled /supervisor and /duty pages
    "web.blueprints.dialogue_api",  # the chat's Rasa action server: one dialogue turn (/api/dialogue)
]


def register_blueprints(app: Flask) -> None:
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(name).bp)
