"""Wiring in one place: config, ruleset, service directory and flows, built once at start-up.

The web app, the CLI and the benchmarks call `build_triage`; nothing is built at import time.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from spoa.config import Config, load_config
from spoa.contact import parse_contact, parse_facts
from spoa.decide import decide
from spoa.directory import load_directory
from spoa.flows import load_flows
from spoa.ruleset import Ruleset, load_ruleset

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Triage:
    """The decision service: validated contacts in, decisions out."""

    config: Config
    ruleset: Ruleset
    directory: Any = None
    flows: Any = None

    def parse_contact(self, data: Any) -> dict:
        contact = parse_contact(data)
        contact["facts"] = self._with_locality_id(contact["facts"])
        return contact

    def parse_facts(self, raw: Any) -> dict:
        return self._with_locality_id(parse_facts(raw))

    def _with_locality_id(self, facts: dict) -> dict:
        """A place as given becomes what the gazetteer makes of it (SCOPE-2, 1.1): "Ramsgate" its
        locality id ("thanet"), a place recognised as outside its name, and anything else
        (ambiguous, unresolved, "at home") unknown (null), never out of area."""
        place = facts.get("locality")
        if isinstance(place, str) and place not in self.config.localities:
            facts = {**facts, "locality": self.config.resolve_place(place).fact_value}
        return facts

    def decide(self, contact: dict, now: datetime) -> dict:
        return decide(contact, self.ruleset, now)

    def load_candidate(self, rules_dir: str | Path) -> Ruleset:
        """Another rule set (for replaying a protocol change before it goes live)."""
        return load_ruleset(rules_dir, self.config, self.directory, _fingerprint(self.directory, self.config))


def _fingerprint(directory: Any, config: Config) -> bytes:
    """The service directory's and the gazetteer's bytes: both go into the ruleset version
    (the directory decides the services listed, the gazetteer decides scope)."""
    source = getattr(directory, "source_bytes", None)
    gazetteer = getattr(config.gazetteer, "digest", b"")
    return (hashlib.sha256(source).digest() if source else b"") + gazetteer


def _load_directory(config: Config):
    return load_directory(config.resolve(config.data["service_directory"]), config)


def build_triage(config_path: str | Path = ROOT / "config.yml", rules_dir: str | Path = ROOT / "rules",
                 flows_dir: str | Path | None = ROOT / "flows") -> Triage:
    config = load_config(config_path)
    directory = _load_directory(config)
    ruleset = load_ruleset(rules_dir, config, directory, _fingerprint(directory, config))
    flows = load_flows(Path(flows_dir)) if flows_dir else None
    return Triage(config=config, ruleset=ruleset, directory=directory, flows=flows)
