"""Precision, recall and F1 of the rule-based fact extraction on a labelled sentence set.

    python bench/eval_extraction.py                      # both held-out sets
    python bench/eval_extraction.py --set tests/extraction_dev.yml --errors

The held-out sets are measured, never tuned on: tests/extraction_heldout.yml (the first
patterns) and tests/extraction_heldout_v2.yml (issue 12: plans without the word "suicide",
denials, injury severity in everyday words, carer breakdown, children in the household,
everyday outcomes, named conditions, caller vs person).

Each sentence's facts are compared as (fact, value) pairs, array facts item by item
(`abuse_types: [physical, domestic]` is two pairs). A pair extracted and expected is a true
positive; extracted but not expected (including a wrong value) a false positive; expected but
not extracted a false negative. Red-flag recall is over the emergency-screen facts expected
true; a red-flag false alarm is one extracted true where the sentence does not say so.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spoa.config import load_config  # noqa: E402
from spoa.extraction import build_extractor  # noqa: E402

EMERGENCY_SCREEN = ("unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs",
                    "severe_bleeding", "seizure_ongoing", "severe_allergic_reaction", "serious_injury",
                    "overdose_or_self_harm", "immediate_danger")

HELD_OUT = [str(ROOT / "tests/extraction_heldout.yml"), str(ROOT / "tests/extraction_heldout_v2.yml")]


def pairs(facts: dict) -> set[tuple[str, object]]:
    out = set()
    for fact, value in facts.items():
        if isinstance(value, list):
            out.update((fact, item) for item in value)
        elif value is not None:
            out.add((fact, value))
    return out


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(extractor, cases: list[dict]) -> dict:
    counts: dict[str, Counter] = {}
    errors = []
    for case in cases:
        expected = pairs(case.get("facts") or {})
        got = pairs(extractor.extract(case["text"])["facts"])
        for fact, _ in expected | got:
            counts.setdefault(fact, Counter())
        for fact, value in got & expected:
            counts[fact]["tp"] += 1
        for fact, value in got - expected:
            counts[fact]["fp"] += 1
        for fact, value in expected - got:
            counts[fact]["fn"] += 1
        if got != expected:
            errors.append((case["text"], sorted(got - expected, key=str), sorted(expected - got, key=str)))
    flags_expected = flags_caught = false_alarms = 0
    for case in cases:
        expected = case.get("facts") or {}
        got = extractor.extract(case["text"])["facts"]
        for fact in EMERGENCY_SCREEN:
            if expected.get(fact) is True:
                flags_expected += 1
                flags_caught += got.get(fact) is True
            elif got.get(fact) is True:
                false_alarms += 1
    return {"counts": counts, "errors": errors, "flags": (flags_caught, flags_expected, false_alarms)}


def report(result: dict, name: str, show_errors: bool) -> None:
    counts = result["counts"]
    print(f"Fact extraction on {name}")
    print(f"{'fact':36} {'tp':>4} {'fp':>4} {'fn':>4} {'P':>6} {'R':>6} {'F1':>6}")
    total = Counter()
    for fact in sorted(counts):
        c = counts[fact]
        total.update(c)
        p, r, f = prf(c["tp"], c["fp"], c["fn"])
        print(f"{fact:36} {c['tp']:4} {c['fp']:4} {c['fn']:4} {p:6.2f} {r:6.2f} {f:6.2f}")
    p, r, f = prf(total["tp"], total["fp"], total["fn"])
    print(f"{'MICRO':36} {total['tp']:4} {total['fp']:4} {total['fn']:4} {p:6.2f} {r:6.2f} {f:6.2f}")
    caught, expected, false_alarms = result["flags"]
    recall = caught / expected if expected else 1.0
    print(f"Red-flag recall (emergency screen, expected true): {caught}/{expected} = {recall:.2f}; "
          f"red-flag false alarms: {false_alarms}")
    if show_errors:
        print("\nSentences not extracted exactly (extra / missing):")
        for text, extra, missing in result["errors"]:
            print(f"- {text}\n    extra: {extra}\n    missing: {missing}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", dest="sets", help="labelled YAML sentences (repeatable; "
                        "default: both held-out sets)")
    parser.add_argument("--config", default=str(ROOT / "config.yml"))
    parser.add_argument("--errors", action="store_true", help="list the sentences not extracted exactly")
    args = parser.parse_args(argv)
    extractor = build_extractor(load_config(args.config))
    for index, name in enumerate(args.sets or HELD_OUT):
        cases = yaml.safe_load(Path(name).read_text(encoding="utf-8"))
        if index:
            print()
        report(evaluate(extractor, cases), f"{Path(name).name} ({len(cases)} sentences)", args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
