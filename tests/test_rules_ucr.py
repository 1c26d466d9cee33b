"""UCR rules: the two-hour urgent community response (PROTOCOL.md §3 UCR, FAILSAFE-1), and
its out-of-hours advice from the contact's received_at."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine_helpers import IN_HOURS, OUT_OF_HOURS, covers, decide, fired

UCR_NEEDS = {
    "UCR-2": "frailty_decompensation", "UCR-3": "sudden_loss_of_mobility", "UCR-4": "palliative_crisis",
    "UCR-5": "urgent_equipment_needed", "UCR-6": "new_confusion", "UCR-7": "catheter_problem",
    "UCR-8": "diabetes_urgent", "UCR-9": "carer_breakdown",
}
OUT_OF_HOURS_WORDS = "Outside those hours call NHS 111"


def assert_ucr(decision):
    assert (decision["route"], decision["pathway"], decision["response_target"]) == ("rapid_response", "ucr", "PT2H")


# --- UCR-0 and UCR-1: falls ------------------------------------------------------------------

@covers("UCR-0", positive=True)
@covers("UCR-1", positive=True)
def test_fall_with_long_lie_goes_to_rapid_response():
    decision = decide(fallen=True, on_floor_cannot_get_up=True, fall_injury="none", head_injury=False)
    assert_ucr(decision)
    assert {"UCR-0", "UCR-1"} <= set(fired(decision))


@covers("UCR-0", positive=True)
@covers("UCR-1", positive=True)
def test_on_the_floor_and_cannot_get_up_is_a_fall_even_before_fallen_is_asked():
    decision = decide(on_floor_cannot_get_up=True)
    assert_ucr(decision)
    assert "UCR-0" in fired(decision)


@covers("UCR-0", positive=True)
def test_a_minor_fall_injury_implies_the_fall():
    decision = decide(fall_injury="minor")
    assert_ucr(decision)
    assert "UCR-0" in fired(decision)


@covers("UCR-1", positive=True)
def test_fall_with_injury_not_yet_known_is_rapid_response_and_asks_about_the_injury():
    decision = decide(fallen=True)
    assert_ucr(decision)
    assert "fall_injury" in decision["missing"]


@covers("UCR-0", positive=False)
@covers("UCR-1", positive=False)
def test_no_fall_is_not_the_falls_response():
    decision = decide(fallen=False, on_floor_cannot_get_up=False)
    assert decision["route"] == "self_care"
    assert not {"UCR-0", "UCR-1"} & set(fired(decision))


@covers("UCR-1", positive=False)
def test_fall_with_serious_injury_is_not_ucr_but_999():
    decision = decide(fallen=True, fall_injury="serious")
    assert decision["route"] == "emergency" and "UCR-1" not in fired(decision)


def test_fall_with_no_injury_then_stays_ucr_when_the_injury_turns_out_minor():
    assert decide(fallen=True, fall_injury="none")["route"] == decide(fallen=True, fall_injury="minor")["route"] == "rapid_response"


# --- UCR-2 to UCR-9: the other national conditions ------------------------------------------

@covers("UCR-2", "UCR-3", "UCR-4", "UCR-5", "UCR-6", "UCR-7", "UCR-8", "UCR-9", positive=True)
@pytest.mark.parametrize("rule_id", sorted(UCR_NEEDS))
def test_urgent_community_need_goes_to_the_two_hour_response(rule_id):
    decision = decide(**{UCR_NEEDS[rule_id]: True})
    assert_ucr(decision)
    assert rule_id in fired(decision)


@covers("UCR-2", "UCR-3", "UCR-4", "UCR-5", "UCR-6", "UCR-7", "UCR-8", "UCR-9", positive=False)
@pytest.mark.parametrize("rule_id", sorted(UCR_NEEDS))
def test_urgent_community_need_answered_no_is_not_the_two_hour_response(rule_id):
    decision = decide(**{UCR_NEEDS[rule_id]: False})
    assert decision["route"] == "self_care" and rule_id not in fired(decision)


@covers("UCR-2", "UCR-3", "UCR-4", "UCR-5", "UCR-6", "UCR-7", "UCR-8", "UCR-9", positive=False)
@pytest.mark.parametrize("rule_id", sorted(UCR_NEEDS))
def test_urgent_community_need_for_a_seventeen_year_old_goes_to_childrens_services(rule_id):
    decision = decide(age=17, **{UCR_NEEDS[rule_id]: True})
    assert decision["route"] == "out_of_scope" and rule_id not in fired(decision)


@pytest.mark.parametrize("rule_id", sorted(UCR_NEEDS))
def test_urgent_community_need_for_an_eighteen_year_old_is_the_two_hour_response(rule_id):
    assert_ucr(decide(age=18, **{UCR_NEEDS[rule_id]: True}))


@covers("UCR-2", "UCR-3", "UCR-4", "UCR-5", "UCR-6", "UCR-7", "UCR-8", "UCR-9", positive=False)
@pytest.mark.parametrize("rule_id", sorted(UCR_NEEDS))
def test_urgent_community_need_with_an_emergency_is_999(rule_id):
    decision = decide(chest_pain=True, **{UCR_NEEDS[rule_id]: True})
    assert decision["route"] == "emergency" and rule_id not in fired(decision)


# --- care needs must never lower the response (boundary pairs) -------------------------------

@pytest.mark.parametrize("frailty_score", [3, 4])
def test_fall_of_a_mildly_frail_person_goes_to_rapid_response(frailty_score):
    assert_ucr(decide(fallen=True, fall_injury="none", frailty_score=frailty_score))


@pytest.mark.parametrize("frailty_score", [5, 6])
def test_fall_of_a_frail_person_goes_to_rapid_response(frailty_score):
    assert_ucr(decide(fallen=True, fall_injury="none", frailty_score=frailty_score))


def test_sudden_worsening_of_dementia_goes_to_rapid_response():
    assert_ucr(decide(new_confusion=True, dementia=True))


def test_end_of_life_crisis_goes_to_rapid_response_with_end_of_life_coordination_after():
    decision = decide(palliative_crisis=True, end_of_life=True)
    assert_ucr(decision)
    assert "MDT-4" not in fired(decision), "MDT-4 is end of life without a crisis"


def test_blocked_catheter_in_a_care_home_goes_to_rapid_response():
    assert_ucr(decide(catheter_problem=True, setting="care_home"))


def test_blocked_catheter_at_home_goes_to_rapid_response():
    assert_ucr(decide(catheter_problem=True, setting="own_home"))


@pytest.mark.parametrize("conditions", [[], ["copd"]])
def test_fall_with_fewer_than_two_long_term_conditions_goes_to_rapid_response(conditions):
    assert_ucr(decide(fallen=True, fall_injury="none", long_term_conditions=conditions))


def test_fall_with_two_long_term_conditions_goes_to_rapid_response_with_mdt_also():
    decision = decide(fallen=True, fall_injury="none", long_term_conditions=["copd", "heart_failure"], admissions_12m=2)
    assert_ucr(decision)
    assert decision["also"] == ["mdt"]


# --- out of hours ----------------------------------------------------------------------------

@pytest.mark.hazard("HAZ-010")
def test_fall_at_9pm_london_time_stays_rapid_response_and_names_the_out_of_hours_service():
    decision = decide(fallen=True, fall_injury="none", received_at=OUT_OF_HOURS)
    assert_ucr(decision)
    assert any(OUT_OF_HOURS_WORDS in line for line in decision["advice"])


@pytest.mark.hazard("HAZ-010")
def test_fall_at_10am_london_time_has_no_out_of_hours_advice():
    decision = decide(fallen=True, fall_injury="none", received_at=IN_HOURS)
    assert_ucr(decision)
    assert not any(OUT_OF_HOURS_WORDS in line for line in decision["advice"])


@pytest.mark.parametrize("received_at, out_of_hours", [
    ("2026-07-15T06:59:00Z", True),   # 07:59 BST
    ("2026-07-15T07:00:00Z", False),  # 08:00 BST: the team opens
    ("2026-07-15T18:59:00Z", False),  # 19:59 BST
    ("2026-07-15T19:00:00Z", True),   # 20:00 BST: closed
    ("2026-01-15T07:59:00Z", True),   # 07:59 GMT
    ("2026-01-15T08:00:00Z", False),  # 08:00 GMT
    ("2026-01-15T19:59:00Z", False),
    ("2026-01-15T20:00:00Z", True),
    ("2026-07-15T20:30:00+02:00", False),  # 20:30 in Paris is 19:30 in London
])
@pytest.mark.hazard("HAZ-010")
def test_ucr_hours_are_judged_in_london_time_from_received_at(received_at, out_of_hours):
    decision = decide(frailty_decompensation=True, received_at=received_at)
    assert_ucr(decision)
    assert any(OUT_OF_HOURS_WORDS in line for line in decision["advice"]) is out_of_hours


def test_without_received_at_the_decision_time_decides_the_hours():
    late = datetime(2026, 11, 26, 22, 0, tzinfo=timezone.utc)
    assert any(OUT_OF_HOURS_WORDS in line for line in decide(catheter_problem=True, now=late)["advice"])
    assert not any(OUT_OF_HOURS_WORDS in line for line in decide(catheter_problem=True)["advice"])


def test_received_at_wins_over_the_decision_time():
    late = datetime(2026, 11, 26, 22, 0, tzinfo=timezone.utc)
    decision = decide(catheter_problem=True, received_at=IN_HOURS, now=late)
    assert not any(OUT_OF_HOURS_WORDS in line for line in decision["advice"])


def test_mental_health_crisis_at_night_gets_no_ucr_out_of_hours_advice():
    decision = decide(mental_health_crisis=True, received_at=OUT_OF_HOURS)
    assert decision["pathway"] == "mental_health_crisis"
    assert not any(OUT_OF_HOURS_WORDS in line for line in decision["advice"])
