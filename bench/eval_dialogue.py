"""Questions per contact and under-triage, for two simulated callers, without Rasa.

Each evaluation story (assistant/chat_eval.py's everyday contacts, and the stories from
issue 12 that the service used to get wrong) is told as the opening message, then every
question the dialogue asks is answered through the same turn the chat uses
(web.dialogue_service.take_turn: extraction, the dialogue core, the store, the engine), with
a button's value, by two callers:

- caller A says no to what the story leaves out (a yes/no or checklist item not mentioned
  isn't happening; a number, choice or place not mentioned, they don't know);
- caller B doesn't know anything the story leaves out.

Questions count the triage questions (the consent to share included), from the first
message to the outcome; the contact details asked at the end are counted apart.

Under-triage: the dialogue's final route is less urgent than the engine's decision on
everything the story says (the truth), or its safeguarding level is lower. Prints a table
and both callers' medians; exits 1 if any contact is under-triaged.

    .venv/bin/python bench/eval_dialogue.py [--json reports/dialogue_eval.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "assistant"))

from chat_eval import NOT_IN_CRISIS, SCENARIOS, SCREEN_CLEAR  # noqa: E402
from chat_stack import Resident  # noqa: E402

from spoa.vocabulary import ROUTE_PRECEDENCE  # noqa: E402

# Thursday 26 November 2026, 10:00 in London: inside the urgent response team's hours.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
LEVELS = ("none", "concern", "referral", "urgent")

# Issue 12's stories: told the way residents and relatives told them.
ISSUE_STORIES = [
    ("plan without admitting thoughts",
     "I'm worried about my brother, he's 52 and lives in Margate. He says he isn't suicidal but he has "
     "been giving his things away and he told me he has worked out how he would do it.",
     {**SCREEN_CLEAR, "caller": "family_friend", "age": 52, "locality": "Margate", "suicidal_thoughts": False,
      "suicide_plan_or_intent": True}),
    ("domestic abuse, children, long-term condition",
     "My partner hits me and the children see it. I'm 34 and I have epilepsy and asthma. I live in Dover.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "self", "age": 34, "locality": "Dover",
      "abuse_types": ["domestic", "physical"], "child_at_risk": True, "long_term_conditions": ["epilepsy", "asthma"],
      "able_to_protect_self": False}),
    ("learning disability, two everyday things",
     "My son is 27 and has a learning disability. He can't cook for himself or keep his flat clean and it is "
     "getting him down. He lives in Tonbridge.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "family_friend", "age": 27, "locality": "Tonbridge",
      "learning_disability": True, "outcomes_unable": ["nutrition", "habitable_home"],
      "needs_from_illness_or_disability": True, "wellbeing_impact_significant": True}),
    ("she hasn't fallen",
     "My mum is 88 and lives in Whitstable. She hasn't fallen but she's getting very unsteady and confused today.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "family_friend", "age": 88, "locality": "Whitstable",
      "fallen": False, "new_confusion": True}),
    ("carer hurt their own back",
     "I look after my husband, he's 79 and has dementia. I hurt my back lifting him yesterday and I can't "
     "lift him now, and there's nobody else. We live in Folkestone.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "unpaid_carer", "age": 79, "locality": "Folkestone",
      "dementia": True, "is_unpaid_carer": True, "carer_breakdown": True}),
]


# Contact details as a caller gives them at the end (fictional; spoa/person.py checks them).
DETAILS = {"details.name": "Ann Example", "details.date_of_birth": "3 March 1941",
           "details.address": "1 High Street, Margate", "details.postcode": "CT9 1AA",
           "details.phone": "01843 123456", "details.nhs_number": "I don't know", "details.caller_name": "Sam Example",
           "details.caller_phone": "07700 900123", "details.caller_relationship": "daughter"}


class FormResident(Resident):
    """Caller A, answering the chat's guided form: ticks every box that applies (a button
    answer can hold one), and gives contact details when asked."""

    def answer(self, question: dict[str, Any]) -> Any:
        ask = list(question.get("ask") or [])
        if question["id"] in DETAILS:
            return DETAILS[question["id"]]
        if question.get("kind") == "checklist":
            return [fact for fact in ask if self.knows.get(fact) is True] or ["none"]
        if question.get("kind") == "multi":
            return list(self.knows.get(ask[0]) or []) or ["none"]
        return super().answer(question)


class DontKnowResident(FormResident):
    """Caller B: answers what the story says, and "I don't know" to everything else."""

    def answer(self, question: dict[str, Any]) -> Any:
        ask = list(question.get("ask") or [])
        if question["id"] in DETAILS:
            return super().answer(question)
        if question.get("kind") == "checklist":
            if any(self.knows.get(fact) is True for fact in ask) or all(fact in self.knows for fact in ask):
                return super().answer(question)
            return self._dont_know()
        if ask and ask[0] not in self.knows:
            return self._dont_know()
        return super().answer(question)


def stories() -> list[tuple[str, str, dict]]:
    return [(name, opening, knows) for name, opening, knows, _route, _everyday in SCENARIOS] + ISSUE_STORIES


def build_app(folder: Path):  # noqa: ANN201
    from spoa.bootstrap import build_triage
    from spoa.extraction import build_extractor
    from web import create_app

    triage = build_triage()
    app = create_app({"TESTING": True, "SECRET_KEY": "eval", "INSTANCE_PATH": str(folder / "instance"),
                      "SPOA_TRIAGE": triage, "SPOA_CLOCK": lambda: NOW, "SPOA_EXTRACTOR": build_extractor(triage.config),
                      "DATABASE_URL": f"sqlite:///{folder / 'eval.db'}"})
    app.extensions["spoa"].store.upgrade()
    return app


def truth(triage, knows: dict) -> dict:  # noqa: ANN001
    """The engine's decision on everything the story says."""
    return triage.decide(triage.parse_contact({"channel": "web_chat", "facts": knows}), NOW)


def converse(services, opening: str, caller: Resident, limit: int = 60) -> tuple[dict, list[str]]:  # noqa: ANN001
    from web.dialogue_service import take_turn

    turn = take_turn(services, {"contact_id": None, "text": opening, "answer": None, "asked": [], "start": True})
    asked_ids: list[str] = []
    asked_facts: list[str] = []
    for _ in range(limit):
        question = turn.get("question")
        if question is None:
            return turn["decision"], asked_ids
        asked_ids.append(question["id"])     # contact details too; counted apart below
        asked_facts += [fact for fact in question["ask"] if fact not in asked_facts]
        turn = take_turn(services, {"contact_id": turn["contact_id"], "text": None, "asked": asked_facts,
                                    "answer": {"question_id": question["id"], "value": caller.answer(question)}})
    raise RuntimeError(f"no outcome after {limit} questions: {asked_ids}")


def under_triaged(decision: dict, expected: dict) -> list[str]:
    """Why the dialogue's decision is less safe than the truth (empty when it isn't)."""
    reasons = []
    rank = {route: index for index, route in enumerate(ROUTE_PRECEDENCE)}
    route, want = decision["route"], expected["route"]
    if route != want and "out_of_scope" not in (route, want) and rank.get(route, 99) > rank.get(want, 99):
        reasons.append(f"route {route}, truth {want}")
    if route == "out_of_scope" and want != "out_of_scope":
        reasons.append(f"out of scope, truth {want}")
    level = (decision.get("safeguarding") or {}).get("level", "none")
    truth_level = (expected.get("safeguarding") or {}).get("level", "none")
    if LEVELS.index(level) < LEVELS.index(truth_level):
        reasons.append(f"safeguarding {level}, truth {truth_level}")
    return reasons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="spoa-eval-") as folder:
        app = build_app(Path(folder))
        services = app.extensions["spoa"]
        for name, opening, knows in stories():
            expected = truth(services.triage, knows)
            for caller_name, caller in (("A", FormResident(knows, buttons=True)),
                                        ("B", DontKnowResident(knows, buttons=True))):
                decision, asked = converse(services, opening, caller)
                reasons = under_triaged(decision, expected)
                questions = [qid for qid in asked if qid not in DETAILS]
                results.append({"story": name, "caller": caller_name, "questions": len(questions),
                                "details_asked": len(asked) - len(questions), "asked": asked,
                                "route": decision["route"], "pathway": decision.get("pathway"),
                                "truth": expected["route"], "under_triage": reasons})
        services.store.dispose()
    for row in results:
        flag = ("  UNDER-TRIAGE: " + "; ".join(row["under_triage"])) if row["under_triage"] else ""
        print(f"{row['story']:<46} {row['caller']} {row['questions']:>3} questions (+{row['details_asked']} details) -> "
              f"{row['route']}/{row['pathway']} (truth {row['truth']}){flag}")
    summary = {}
    for caller in ("A", "B"):
        rows = [row for row in results if row["caller"] == caller]
        summary[caller] = {"median_questions": statistics.median(row["questions"] for row in rows),
                           "max_questions": max(row["questions"] for row in rows),
                           "under_triage": sum(1 for row in rows if row["under_triage"]), "contacts": len(rows)}
    print(f"caller A (says no to what the story leaves out): median {summary['A']['median_questions']} questions "
          f"per contact (max {summary['A']['max_questions']}), under-triage {summary['A']['under_triage']}"
          f"/{summary['A']['contacts']}")
    print(f"caller B (doesn't know what the story leaves out): median {summary['B']['median_questions']} questions "
          f"per contact (max {summary['B']['max_questions']}), under-triage {summary['B']['under_triage']}"
          f"/{summary['B']['contacts']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"summary": summary, "contacts": results}, indent=2))
    return 1 if any(row["under_triage"] for row in results) else 0


if __name__ == "__main__":
    sys.exit(main())
