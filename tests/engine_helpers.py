"""Shared helpers for the decision engine's tests: one triage service per process, contacts
with the emergency screen answered, and the `covers` marker the rulebook integrity test reads.

Not a conftest: test modules import what they use (`from engine_helpers import ...`).
The engine is compiled once per process (build_triage is cached here, and the adapter caches
compiled rulesets by version), so every test module shares one ruleset.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from spoa.bootstrap import Triage, build_triage
from spoa.vocabulary import EMERGENCY_SCREEN, decision_schema

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"
EXAMPLES_DIR = Path(__file__).resolve().parent / "protocol_examples"

# Thursday 26 November 2026, 10:00 in London (GMT): inside the UCR's 8am-8pm hours.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
IN_HOURS = "2026-11-26T10:00:00Z"
OUT_OF_HOURS = "2026-11-26T21:00:00Z"

SCREEN_NO = {fact: False for fact in EMERGENCY_SCREEN}
# An adult in Kent with the emergency screen answered "none of these": the usual starting point.
ADULT_IN_KENT = {"age": 70, "locality": "thanet"}

DECISION_VALIDATOR = Draft202012Validator(decision_schema())


@lru_cache(maxsize=1)
def get_triage() -> Triage:
    """The decision service, built once per process (no flows: the engine does not need them)."""
    return build_triage(flows_dir=None)


@pytest.fixture(scope="session")
def triage() -> Triage:
    return get_triage()


def contact(screen: bool = True, base: bool = True, received_at: str | None = None, **facts) -> dict:
    """A raw contact. By default an adult in Kent with the emergency screen answered no; the
    keyword facts override (None means unknown and is sent as null)."""
    merged = {**(SCREEN_NO if screen else {}), **(ADULT_IN_KENT if base else {}), **facts}
    data = {"channel": "phone", "facts": merged}
    if received_at:
        data["received_at"] = received_at
    return data


def decide_raw(data: dict, now: datetime = NOW) -> dict:
    """Validate a raw contact and decide it, as the web app and the CLI do."""
    service = get_triage()
    return service.decide(service.parse_contact(data), now)


def decide(screen: bool = True, base: bool = True, received_at: str | None = None, now: datetime = NOW, **facts) -> dict:
    """The decision for `contact(...)`; every decision is checked against the schema."""
    decision = decide_raw(contact(screen=screen, base=base, received_at=received_at, **facts), now)
    assert_valid(decision)
    return decision


def assert_valid(decision: dict) -> None:
    errors = sorted(DECISION_VALIDATOR.iter_errors(decision), key=lambda e: list(e.absolute_path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def fired(decision: dict) -> list[str]:
    return [entry["rule"] for entry in decision["fired"]]


def summary(decision: dict) -> tuple:
    """What a person acts on: route, pathway, target, also and the safeguarding level."""
    return (decision["route"], decision["pathway"], decision["response_target"], tuple(decision["also"]),
            decision["safeguarding"]["level"])


def covers(*rule_ids: str, positive: bool):
    """Declares which rules a scenario test exercises: positive (the rule applies) or negative
    (a near miss where it does not). tests/test_rulebook_integrity.py scans test files for this
    decorator and requires both kinds for every rule id in rules/."""
    def mark(test):
        test.covers = (*getattr(test, "covers", ()), (rule_ids, positive))
        return test
    return mark


def examples() -> list[Path]:
    return sorted(EXAMPLES_DIR.glob("*.json"))


def load_example(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# Engine bugs these tests find are pinned as pytest.mark.xfail(strict=True, reason=...) markers
# defined here until fixed; an XPASS then fails the run, so the marker goes with the fix.


