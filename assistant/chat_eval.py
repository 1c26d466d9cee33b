"""Measure the chat through Rasa's REST channel: turn latency (p50, p95) and questions per
contact, over everyday contacts told in a resident's own words. Run by `make evaluate`
(scripts/rasa_evaluate.sh) in the app's environment; writes a JSON report.

    .venv/bin/python assistant/chat_eval.py --out reports/rasa
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat_stack import Conversation, Resident, new_stack, prerequisites  # noqa: E402

SCREEN_CLEAR = {fact: False for fact in (
    "unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs", "severe_bleeding",
    "seizure_ongoing", "severe_allergic_reaction", "serious_injury", "overdose_or_self_harm", "immediate_danger")}
NOT_IN_CRISIS = {"suicidal_thoughts": False, "mental_health_crisis": False}

# (name, opening message, what the resident knows, expected route, everyday contact?)
SCENARIOS = [
    ("fall with a long lie",
     "My mum is 90 and she fell getting out of bed. She's been on the floor since 5am and can't get up. "
     "She isn't hurt and she didn't hit her head. She lives in Sittingbourne.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "family_friend", "age": 90, "locality": "Sittingbourne",
      "fallen": True, "on_floor_cannot_get_up": True, "fall_injury": "none", "head_injury": False,
      "lost_consciousness": False, "setting": "own_home", "lives_alone": True, "consent_to_share": True},
     "rapid_response", True),
    ("lonely neighbour",
     "I'm worried about my neighbour. He's 82 and lives on his own in Dartford, he hasn't left the house "
     "for weeks and he'd like some company.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "family_friend", "age": 82, "locality": "Dartford",
      "lonely_or_isolated": True, "lives_alone": True, "setting": "own_home", "consent_to_share": True,
      "practical_help": [], "outcomes_unable": []},
     "voluntary_sector", True),
    ("exhausted carer",
     "I care for my mum. I've had to give up work and I never see my friends any more, and I'm exhausted.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "unpaid_carer", "age": 59, "locality": "Canterbury",
      "is_unpaid_carer": True, "carer_breakdown": False,
      "carer_outcomes_unable": ["work_learning_volunteering", "relationships"],
      "carer_wellbeing_impact_significant": True, "consent_to_share": True},
     "mdt", True),
    ("financial abuse, dementia",
     "My nan is 85 and has dementia. I think her carer has been taking money out of her purse. She lives in Ashford.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "family_friend", "age": 85, "locality": "Ashford", "dementia": True,
      "abuse_types": ["financial"], "lacks_capacity": True, "able_to_protect_self": False,
      "others_at_risk": False, "child_at_risk": False},
     "mdt", True),
    ("pendant alarm information",
     "How do I get a pendant alarm? I'm 64 and live in Folkestone.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "self", "age": 64, "locality": "Folkestone",
      "information_topic": "pendant alarm", "lonely_or_isolated": False, "practical_help": [], "outcomes_unable": []},
     "self_care", True),
    ("home from hospital",
     "Dad came home from hospital two days ago and he can't wash or dress himself. He's 78 and lives in Maidstone.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "family_friend", "age": 78, "locality": "Maidstone",
      "discharged_within_7_days": True, "outcomes_unable": ["hygiene", "dressing"], "consent_to_share": True},
     "mdt", True),
    ("child",
     "I need some help for my grandson, he's 9.",
     {**SCREEN_CLEAR, "caller": "family_friend", "age": 9, "locality": "Margate", "child_at_risk": False,
      "abuse_types": []},
     "out_of_scope", True),
    ("out of area",
     "My mum lives in Croydon and she isn't coping at home on her own.",
     {**SCREEN_CLEAR, **NOT_IN_CRISIS, "caller": "family_friend", "age": 80, "locality": "Croydon", "lives_alone": True},
     "out_of_scope", True),
    ("chest pain",
     "I'm 70 and I've got chest pain going down my left arm.",
     {"chest_pain": True, "age": 70, "caller": "self"},
     "emergency", False),
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports/rasa", help="folder for chat_eval.json")
    args = parser.parse_args()
    missing = prerequisites()
    if missing:
        print("can't run the chat stack: missing " + "; ".join(missing), file=sys.stderr)
        return 2
    results, latencies = [], []
    with new_stack() as stack:
        for name, opening, knows, expected, everyday in SCENARIOS:
            for buttons in (False, True):
                conversation = Conversation(stack, Resident(knows, buttons=buttons))
                try:
                    outcome = conversation.run(opening)
                    route = outcome["decision"]["route"]
                except AssertionError as error:
                    route = f"no outcome ({str(error).splitlines()[0][:80]})"
                # The first turn also starts the conversation; every turn counts for latency.
                latencies.extend(conversation.latencies)
                results.append({"scenario": name, "answers": "buttons" if buttons else "plain words",
                                "everyday": everyday, "questions": len(conversation.questions),
                                "asked": [q.get("question_id") for q in conversation.questions],
                                "route": route, "expected": expected, "ok": route == expected})
    everyday = [r["questions"] for r in results if r["everyday"]]
    summary = {
        "turns": len(latencies),
        "latency_p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "latency_p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "median_questions_everyday": statistics.median(everyday) if everyday else None,
        "median_questions_all": statistics.median(r["questions"] for r in results),
        "outcomes_as_expected": f"{sum(r['ok'] for r in results)}/{len(results)}",
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "chat_eval.json").write_text(json.dumps({"summary": summary, "conversations": results}, indent=2))
    for r in results:
        print(f"{r['scenario']:<28} {r['answers']:<12} {r['questions']:>2} questions  -> {r['route']}"
              f"{'' if r['ok'] else '  (expected ' + r['expected'] + ')'}")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
