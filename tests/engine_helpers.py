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


# --- engine bugs found by these tests (strict xfail: an XPASS means the bug is fixed, so
# remove the marker) ---------------------------------------------------------------------------

BUG_HEAD_INJURY_NEEDS_KNOWN_FALL = pytest.mark.xfail(strict=True, reason=(
    "rules bug: EMERG-2B requires `derived: fall_known`, but PROTOCOL.md EMERG-2 sends "
    "`head_injury` with `lost_consciousness` (or `on_anticoagulants`) to 999 without a fall "
    "condition, and head_injury means 'hit their head in the fall'. With `fallen` unknown the "
    "contact {\"head_injury\": true, \"lost_consciousness\": true} gets self_care: unknown "
    "lowers urgency (FAILSAFE-1)."))

BUG_PLAN_NOT_IN_MISSING = pytest.mark.xfail(strict=True, reason=(
    "engine bug: a fact read the urgent way while unknown (FAILSAFE-1) is not asked when only "
    "its answer could lower the decision. decide._would_change counts only rules that raise the "
    "route, shorten the target or raise safeguarding. (a) {\"suicidal_thoughts\": true}, screen "
    "no: MH-1 applies 'until the plan question is answered' (PROTOCOL.md MH-1), but "
    "suicide_plan_or_intent is not in missing (false -> MH-2, PT24H). (b) dementia, "
    "abuse_types [physical], consent_to_safeguarding_referral true: able_to_protect_self is not "
    "in missing, yet true turns the s.42 referral (mdt/safeguarding) into a concern (self_care)."))

BUG_FOLLOW_UP_HIDES_FALL_QUESTIONS = pytest.mark.xfail(strict=True, reason=(
    "engine bug (5c203de follow_ups): fall_injury and head_injury are 'ruled out' by fallen=false "
    "even when the contact is treated as a fall (FAILSAFE-4A: on_floor_cannot_get_up true). "
    "Contact: screen no, age 70, thanet, fallen false, on_floor_cannot_get_up true -> "
    "rapid_response/ucr with fall_injury and head_injury NOT in missing; fall_injury 'serious' "
    "would make it 999 (EMERG-2). ruled_out should follow the derived fall_known, not fallen."))

BUG_WHOLE_FLOAT_PASSES_VALIDATION = pytest.mark.xfail(strict=True, reason=(
    "contact bug: JSON Schema counts 70.0 as an integer, so parse_contact accepts "
    "{\"facts\": {\"age\": 70.0}} and keeps the float; the adapter then refuses it "
    "(EngineInputError: fact 'age' has a value of the wrong type: 70.0) and decide() raises "
    "on validated input: a crash (500) instead of a clear error or a decision. "
    "spoa/contact.py should turn an integral float into int, or refuse it with a ContactError."))

BUG_BLANK_LOCALITY_IS_OUT_OF_AREA = pytest.mark.xfail(strict=True, reason=(
    "contact/rules bug: a blank locality ({\"locality\": \"\"} or \"   \") passes validation and "
    "SCOPE-2 sends the person out_of_scope/other_area, though nothing about where they are is "
    "known (FAILSAFE-3: unknown locality is served). Blank text should be refused or read as unknown."))

BUG_MISSING_IGNORES_PATHWAY_TIES = pytest.mark.xfail(strict=True, reason=(
    "engine bug: `missing` is not honest about ties within a route. decide._would_change only "
    "counts a same-route rule that would give a strictly shorter target, but _primary breaks "
    "equal targets by PATHWAY_ORDER (complex_care before end_of_life, post_discharge, "
    "safeguarding...). Contact: screen answered no, age 70, thanet, dementia, abuse_types "
    "[financial], admissions_12m 3 -> mdt/safeguarding with long_term_conditions NOT in missing; "
    "adding long_term_conditions [copd, asthma] -> mdt/complex_care."))

BUG_CLI_MISSING_FILE_TRACEBACK = pytest.mark.xfail(strict=True, reason=(
    "CLI bug: `spoa triage no-such-file.json` ends in a Python traceback (FileNotFoundError, "
    "exit 1) instead of a clear message and exit 2: spoa/cli.py reads the path with "
    "Path(source).read_text() outside the ContactError handling; click.File or "
    "click.Path(exists=True, dir_okay=False) would report it."))
