"""SELF-1: the only catch-all, with information and safety-netting (PROTOCOL.md §3 SELF,
FAILSAFE-5)."""
from __future__ import annotations

import pytest

from engine_helpers import covers, decide

SAFETY_NETTING = "If things get worse, or you are worried, call NHS 111"


@covers("SELF-1", positive=True)
def test_question_about_a_pendant_alarm_gets_information_on_it_and_safety_netting():
    decision = decide(information_topic="pendant alarm", lonely_or_isolated=False)
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("self_care", "information", None)
    assert decision["advice"][0].startswith("You asked about: pendant alarm.")
    assert decision["advice"][-1].startswith(SAFETY_NETTING)
    assert decision["also"] == [] and decision["review_required"] is False
    leader = [entry for entry in decision["fired"] if entry["rule"] == "SELF-1"]
    assert leader and leader[0]["role"] == "decided the route"


@covers("SELF-1", positive=False)
def test_lonely_person_is_not_left_at_self_care():
    decision = decide(lonely_or_isolated=True)
    assert decision["route"] == "voluntary_sector"
    self_care = [entry for entry in decision["fired"] if entry["rule"] == "SELF-1"]
    assert self_care and self_care[0]["role"] != "decided the route"
    assert not any(line.startswith("You asked about") for line in decision["advice"])


@pytest.mark.parametrize("facts", [
    {"chest_pain": True}, {"fallen": True}, {"mental_health_crisis": True}, {"end_of_life": True},
    {"lonely_or_isolated": True}, {}, {"age": 10}, {"locality": "Chatham"},
], ids=["emergency", "ucr", "mental_health", "mdt", "voluntary", "self_care", "child", "out_of_area"])
def test_every_decision_ends_with_safety_netting(facts):
    decision = decide(**facts)
    assert decision["advice"][-1].startswith(SAFETY_NETTING)


def test_self_care_without_a_topic_gives_general_information():
    decision = decide()
    assert decision["route"] == "self_care"
    assert any("Information and advice" in line for line in decision["advice"])
