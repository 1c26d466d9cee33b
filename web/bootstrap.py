"""Wiring in one place: the web app's dependencies, built once when the app is created.

`bootstrap(settings)` builds the triage service (config, rules, flows), the store, the clock
and (later) the fact extractor and dialogue client, and returns them as one `Services`
object that `create_app` puts on `app.extensions["spoa"]`. Nothing is built at import time.
Tests pass their settings (or a triage built once per session) to `create_app`.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from flask import current_app

from web.store import Store
from web.store.audit import AuditSettings


log = logging.getLogger(__name__)
_EXTRACTOR_LOCK = threading.Lock()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    config: Any                      # spoa.config.Config
    triage: Any                      # spoa.bootstrap.Triage
    store: Store
    clock: Callable[[], datetime]
    extractor: Any = None            # spoa.extraction.Extractor, built on first use
    dialogue: Any = None             # the Rasa dialogue client (web.dialogue_client)

    def now(self) -> datetime:
        return self.clock()

    def fact_extractor(self):  # noqa: ANN201
        """The rule-based fact extractor, built once on first use (about 1.5 s, so not at
        start-up: most apps in the tests never read free text). None if it can't be built:
        callers carry on without it (answers and buttons still work; the emergency screen is
        still asked first), and the next call tries again."""
        if self.extractor is None:
            with _EXTRACTOR_LOCK:
                if self.extractor is None:
                    try:
                        from spoa.extraction import build_extractor

                        self.extractor = build_extractor(self.config)
                    except Exception as error:  # noqa: BLE001 - see the docstring
                        log.warning("fact extraction unavailable: %s", type(error).__name__)
        return self.extractor


def audit_settings(settings: Mapping[str, Any]) -> AuditSettings:
    """The audit chain's key (from the environment or instance/, never the database) and head file."""
    key = settings.get("SPOA_AUDIT_KEY") or ""
    head_file = settings.get("SPOA_AUDIT_HEAD_FILE")
    return AuditSettings(key=key.encode("utf-8"), head_file=Path(head_file) if head_file else None)


def bootstrap(settings: Mapping[str, Any]) -> Services:
    """Build every dependency from the app's settings (see web/settings.py for the keys)."""
    triage = settings.get("SPOA_TRIAGE")
    if triage is None:
        from spoa.bootstrap import build_triage

        triage = build_triage(config_path=settings["SPOA_CONFIG"], rules_dir=settings["SPOA_RULES_DIR"],
                              flows_dir=settings["SPOA_FLOWS_DIR"])
    store = settings.get("SPOA_STORE") or Store(settings["DATABASE_URL"], schema=settings.get("DATABASE_SCHEMA"),
                                                 pool_size=int(settings.get("DATABASE_POOL_SIZE", 10)),
                                                 audit_settings=audit_settings(settings))
    dialogue = settings.get("SPOA_DIALOGUE")
    if dialogue is None:
        from web.dialogue_client import RasaClient

        dialogue = RasaClient.from_settings(settings)  # RASA_URL, default http://127.0.0.1:5005
    return Services(config=triage.config, triage=triage, store=store,
                    clock=settings.get("SPOA_CLOCK") or utc_now,
                    extractor=settings.get("SPOA_EXTRACTOR"), dialogue=dialogue)


def services() -> Services:
    """The running app's services (inside a request or app context)."""
    return current_app.extensions["spoa"]
