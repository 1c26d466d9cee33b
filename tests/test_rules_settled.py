"""Protocol 1.1 in the engine: absent vs null, partial lists, and `settled` (PROTOCOL.md §2,
§4 and FAILSAFE-6). Scenarios in boundary pairs: the same story one answer apart."""
from __future__ import annotations

import pytest

from engine_helpers import contact, decide, decide_raw, get_triage, NOW

# A fall with a long lie and no injury, with the safeguarding questions answered "no".
FALL = {"fallen": True, "on_floor_cannot_get_up": True, "fall_injury": "none", "head_injury": False}
NO_ABUSE = {"abuse_types": [], "child_at_risk": False}


def decide_partial(partial: list[str], **facts) -> dict:
    return decide_raw({**contact(**facts), "partial": partial})


# --- settled ----------------------------------------------------------------------------------

def test_fall_with_a_long_lie_and_safeguarding_asked_is_settled():
    decision = decide(**FALL, **NO_ABUSE)
    assert (decision["route"], decision["settled"]) == ("rapid_response", True)


def test_fall_with_a_long_lie_and_safeguarding_not_asked_yet_is_not_settled():
    decision = decide(**FALL)
    assert (decision["route"], decision["settled"]) == ("rapid_response", False)
    assert "abuse_types" in decision["missing"] and "child_at_risk" in decision["missing"]


def test_fall_where_the_caller_does_not_know_about_children_or_abuse_is_settled():
    # null: asked, the person could not say. It is read as unknown and never holds a decision
    # open; it stays in `missing` for the professional who picks the referral up.
    decision = decide(**FALL, abuse_types=None, child_at_risk=None)
    assert decision["settled"] is True
    assert {"abuse_types", "child_at_risk"} <= set(decision["missing"])


def test_fall_with_the_age_not_asked_yet_is_not_settled():
    decision = decide(**FALL, **NO_ABUSE, age=None)
    assert decision["settled"] is True, "age asked and not known: served (FAILSAFE-3), settled"
    absent = decide_raw({"facts": {k: v for k, v in contact(**FALL, **NO_ABUSE)["facts"].items() if k != "age"}})
    assert absent["route"] == "rapid_response" and absent["settled"] is False


def test_fall_with_the_locality_not_asked_yet_is_not_settled_but_unknown_locality_is():
    facts = contact(**FALL, **NO_ABUSE)["facts"]
    absent = decide_raw({"facts": {k: v for k, v in facts.items() if k != "locality"}})
    unknown = decide_raw({"facts": {**facts, "locality": None}})
    assert (absent["settled"], unknown["settled"]) == (False, True)
    assert unknown["route"] == "rapid_response", "an unknown place never turns the person away"


def test_chest_pain_is_settled_at_once_with_nothing_else_asked():
    decision = decide(screen=False, base=False, chest_pain=True)
    assert (decision["route"], decision["settled"], decision["missing"]) == ("emergency", True, [])


def test_nothing_answered_yet_is_not_settled():
    decision = decide(screen=False, base=False, lonely_or_isolated=True)
    assert (decision["status"], decision["settled"]) == ("incomplete", False)


def test_lonely_man_with_everything_that_could_escalate_answered_no_is_settled():
    decision = decide(lonely_or_isolated=True, **NO_ABUSE, suicidal_thoughts=False, suicide_plan_or_intent=False,
                      mental_health_crisis=False, fallen=False, on_floor_cannot_get_up=False,
                      frailty_decompensation=False, sudden_loss_of_mobility=False, palliative_crisis=False,
                      urgent_equipment_needed=False, new_confusion=False, catheter_problem=False,
                      diabetes_urgent=False, carer_breakdown=False, long_term_conditions=[], outcomes_unable=[],
                      is_unpaid_carer=False, end_of_life=False, discharged_within_7_days=False)
    assert (decision["route"], decision["settled"]) == ("voluntary_sector", True)


def test_lonely_man_not_yet_asked_about_a_fall_is_not_settled():
    decision = decide(lonely_or_isolated=True, **NO_ABUSE, suicidal_thoughts=False, suicide_plan_or_intent=False,
                      mental_health_crisis=False, on_floor_cannot_get_up=False,
                      frailty_decompensation=False, sudden_loss_of_mobility=False, palliative_crisis=False,
                      urgent_equipment_needed=False, new_confusion=False, catheter_problem=False,
                      diabetes_urgent=False, carer_breakdown=False, long_term_conditions=[], outcomes_unable=[],
                      is_unpaid_carer=False, end_of_life=False, discharged_within_7_days=False)
    assert (decision["route"], decision["settled"]) == ("voluntary_sector", False)
    assert decision["missing"][0] == "fallen"


def test_child_with_no_abuse_risk_or_fall_is_settled_out_of_scope():
    # Emergency rules still win for a child, so a fall's injury could still mean 999.
    decision = decide(age=12, **NO_ABUSE, fallen=False, on_floor_cannot_get_up=False)
    assert (decision["route"], decision["settled"]) == ("out_of_scope", True)


def test_child_not_yet_asked_about_abuse_is_not_settled():
    decision = decide(age=12)
    assert (decision["route"], decision["settled"]) == ("out_of_scope", False)


# --- partial lists: "at least these items" ----------------------------------------------------

def test_abused_woman_with_one_condition_heard_in_passing_is_asked_about_her_conditions():
    # Issue 12: one condition heard made the list "complete", so the s.42 care-needs test
    # could never hold. Partial, it stays open: a second condition would make it a referral.
    decision = decide_partial(["long_term_conditions"], abuse_types=["physical"], able_to_protect_self=False,
                              long_term_conditions=["other"], child_at_risk=False)
    assert decision["safeguarding"]["level"] == "concern" and decision["settled"] is False
    assert "long_term_conditions" in decision["missing"]


@pytest.mark.hazard("HAZ-003")
def test_woman_hit_by_her_partner_with_children_who_see_it_and_one_condition_heard_is_not_settled():
    # Issue 12's story: the child referral is urgent at once; the adult referral hangs on her
    # care and support needs, so the conditions heard in passing are asked about.
    decision = decide_partial(["long_term_conditions"], age=34, abuse_types=["domestic", "physical"],
                              child_at_risk=True, long_term_conditions=["other"], able_to_protect_self=False)
    assert decision["safeguarding"]["level"] == "urgent" and decision["safeguarding"]["about"] == ["adult", "child"]
    assert decision["settled"] is False and "long_term_conditions" in decision["missing"]


def test_woman_hit_by_her_partner_with_two_conditions_confirmed_gets_the_adult_referral_too():
    decision = decide(age=34, abuse_types=["domestic", "physical"], child_at_risk=True,
                      long_term_conditions=["copd", "other"], able_to_protect_self=False)
    assert (decision["route"], decision["pathway"]) == ("mdt", "safeguarding")
    assert decision["safeguarding"]["consent_basis"] == "others_at_risk"


def test_abused_woman_whose_one_condition_is_confirmed_is_not_asked_about_conditions_again():
    decision = decide(abuse_types=["physical"], able_to_protect_self=False, long_term_conditions=["other"],
                      child_at_risk=False)
    assert "long_term_conditions" not in decision["missing"]


def test_abused_woman_with_two_conditions_heard_in_passing_is_referred_without_asking_for_more():
    # A rule needing fewer items than the partial list holds is decided.
    decision = decide_partial(["long_term_conditions"], abuse_types=["physical"], able_to_protect_self=False,
                              long_term_conditions=["copd", "diabetes"], child_at_risk=False)
    assert decision["safeguarding"]["level"] == "referral"
    assert "long_term_conditions" not in decision["missing"]


@pytest.mark.hazard("HAZ-003")
def test_man_with_a_learning_disability_and_one_everyday_task_heard_is_asked_for_the_others():
    # Issue 12: one of two tasks heard, the list read as complete, no Care Act assessment.
    decision = decide_partial(["outcomes_unable"], learning_disability=True, outcomes_unable=["hygiene"],
                              needs_from_illness_or_disability=True, wellbeing_impact_significant=True)
    assert decision["route"] == "voluntary_sector"
    assert "outcomes_unable" in decision["missing"]


@pytest.mark.hazard("HAZ-003")
def test_man_with_a_learning_disability_and_two_everyday_tasks_confirmed_gets_a_care_act_assessment():
    decision = decide(learning_disability=True, outcomes_unable=["nutrition", "hygiene"],
                      needs_from_illness_or_disability=True, wellbeing_impact_significant=True)
    assert (decision["route"], decision["pathway"]) == ("mdt", "care_act_assessment")


def test_a_partial_list_that_is_empty_keeps_its_follow_ups_askable():
    decision = decide_partial(["outcomes_unable"], outcomes_unable=[])
    confirmed = decide(outcomes_unable=[])
    assert "outcomes_unable" in decision["missing"]
    assert "outcomes_unable" not in confirmed["missing"]


def test_partial_naming_a_fact_not_held_changes_nothing():
    service = get_triage()
    plain = service.decide(service.parse_contact(contact(lonely_or_isolated=True)), NOW)
    named = service.decide(service.parse_contact({**contact(lonely_or_isolated=True), "partial": ["abuse_types"]}), NOW)
    assert plain == named
