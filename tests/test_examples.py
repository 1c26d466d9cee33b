"""Every shared protocol example (tests/protocol_examples, copies of the shared contract's
examples) gets the decision its author expected, and every decision validates against the
decision schema."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine_helpers import assert_valid, decide_raw, examples, load_example
from spoa.vocabulary import SCHEMA_DIR, decision_schema

EXAMPLES = examples()


def test_the_shared_examples_are_all_here():
    assert len(EXAMPLES) >= 13, "tests/protocol_examples should hold the shared protocol examples (13 in 1.1)"


@pytest.mark.hazard("HAZ-003")
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_gets_its_expected_decision(path):
    example = load_example(path)
    decision = decide_raw(example["contact"])
    assert_valid(decision)
    for key, expected in example["expected"].items():
        if key == "safeguarding":
            assert decision["safeguarding"]["level"] == expected["level"], (path.name, decision["safeguarding"])
            for extra in set(expected) - {"level"}:
                assert decision["safeguarding"][extra] == expected[extra], (path.name, extra)
        elif key == "missing_includes":
            assert set(expected) <= set(decision["missing"]), (path.name, decision["missing"], expected)
        else:
            assert decision[key] == expected, (path.name, key, decision[key], expected)


def test_every_expectation_the_examples_carry_is_one_this_test_checks():
    checked = set(decision_schema()["properties"]) | {"missing_includes"}
    for path in EXAMPLES:
        assert set(load_example(path)["expected"]) <= checked, path.name


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_decision_names_the_ruleset_and_the_rules_that_fired(path):
    decision = decide_raw(load_example(path)["contact"])
    assert decision["ruleset_version"].startswith("rs-")
    assert decision["fired"], "every decision fires at least SELF-1 or a higher rule"
    for entry in decision["fired"]:
        assert entry["rule"] and entry["source"] and isinstance(entry["version"], int)


SHARED = Path("/work/shared/protocol")


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared protocol folder is not on this machine (a fresh clone)")
def test_vendored_examples_and_schemas_match_the_shared_contract():
    shared_examples = sorted(p.name for p in (SHARED / "examples").glob("*.json"))
    assert [p.name for p in EXAMPLES] == shared_examples
    for path in EXAMPLES:
        assert json.loads(path.read_text(encoding="utf-8")) == json.loads((SHARED / "examples" / path.name).read_text(encoding="utf-8"))
    for name in ("contact.schema.json", "decision.schema.json"):
        vendored = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        assert vendored == json.loads((SHARED / name).read_text(encoding="utf-8")), name
