"""Properties of decide() over random valid contacts (Hypothesis), issue 2 item 9.

The strategy is built from the contract's vocabulary (spoa.vocabulary.facts()): any subset of
the facts, each unknown (null) or a valid value. Contacts go through parse_contact like real
input, so only validated facts reach the engine.
"""
from __future__ import annotations

import pytest

from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine_helpers import NOW, assert_valid, decide, get_triage
from spoa.vocabulary import (EMERGENCY_SCREEN, ROUTE_PRECEDENCE, SAFEGUARDING_LEVELS, FactSpec, facts,
                             load_follow_ups, ruled_out)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PLACES = ["ashford", "thanet", "swale", "west_kent", "Margate", "Dover", "Chatham", "Cardiff"]


def value_strategy(spec: FactSpec):
    if spec.kind == "boolean":
        return st.booleans()
    if spec.kind == "integer":
        return st.integers(min_value=spec.minimum or 0, max_value=spec.maximum if spec.maximum is not None else 20)
    if spec.kind == "choice":
        return st.sampled_from(spec.options)
    if spec.kind == "multi":
        return st.lists(st.sampled_from(spec.options), unique=True, max_size=4)
    if spec.id == "locality":
        return st.sampled_from(PLACES)
    return st.text(alphabet="abcdefghij ", min_size=1, max_size=12)


VALUES = {fact_id: value_strategy(spec) for fact_id, spec in facts().items()}


@st.composite
def fact_sets(draw, max_facts: int = 20):
    chosen = draw(st.lists(st.sampled_from(sorted(VALUES)), unique=True, max_size=max_facts))
    return {fact_id: draw(st.none() | VALUES[fact_id]) for fact_id in chosen}


@st.composite
def contacts(draw):
    data = {"facts": draw(fact_sets())}
    if draw(st.booleans()):
        data["received_at"] = draw(st.sampled_from(["2026-11-26T10:00:00Z", "2026-11-26T21:00:00Z", "2026-07-01T07:30:00+01:00"]))
    return data


def decide_data(data: dict) -> dict:
    service = get_triage()
    return service.decide(service.parse_contact(data), NOW)


def with_fact(data: dict, fact_id: str, value) -> dict:
    return {**data, "facts": {**data["facts"], fact_id: value}}


def rank(route: str) -> int:
    return ROUTE_PRECEDENCE.index(route)


@SETTINGS
@given(contacts())
def test_every_decision_validates_against_the_schema(data):
    decision = decide_data(data)
    assert_valid(decision)
    assert decision["advice"], "safety-netting is on every decision"
    assert decision["missing"] == sorted(set(decision["missing"]), key=list(facts()).index)


@SETTINGS
@given(contacts())
def test_the_same_contact_always_gets_the_same_decision(data):
    assert decide_data(data) == decide_data(data)


@pytest.mark.hazard("HAZ-001")
@SETTINGS
@given(contacts(), st.sampled_from(EMERGENCY_SCREEN))
def test_setting_any_emergency_red_flag_never_lowers_the_route_and_gives_emergency(data, flag):
    before = decide_data(data)
    after = decide_data(with_fact(data, flag, True))
    assert rank(after["route"]) <= rank(before["route"])
    assert after["route"] == "emergency"
    assert after["status"] == "complete"


@st.composite
def emergencies(draw):
    data = draw(contacts())
    if draw(st.booleans()):
        data = with_fact(data, draw(st.sampled_from(EMERGENCY_SCREEN)), True)
    return data


@SETTINGS
@given(emergencies(), st.data())
def test_turning_an_unknown_fact_into_a_known_one_never_turns_an_emergency_into_something_else(data, more):
    before = decide_data(data)
    assume(before["route"] == "emergency")
    unknown = sorted(f for f in facts() if data["facts"].get(f) is None)
    fact_id = more.draw(st.sampled_from(unknown))
    after = decide_data(with_fact(data, fact_id, more.draw(VALUES[fact_id])))
    assert after["route"] == "emergency", (fact_id, after["route"])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(contacts(), min_size=8, max_size=16))
def test_decisions_from_eight_threads_equal_the_single_threaded_ones(batch):
    expected = [decide_data(data) for data in batch]

    def worker(offset: int):
        order = [(offset + i) % len(batch) for i in range(len(batch))]
        return [(i, decide_data(batch[i])) for i in order]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for results in pool.map(worker, range(8)):
            for index, decision in results:
                assert decision == expected[index]


CONTRADICTIONS = {"FAILSAFE-4A", "FAILSAFE-4B"}


def unasked_change(data: dict, fact_id: str, value):
    """(before, after) when fact_id is unknown and not in `missing`; None when the check does
    not apply. Two exclusions, stated rather than hidden: an emergency (the engine stops asking
    once 999 is advised; a second red flag may move ambulance to police or back, never off
    `emergency`, checked here), and an answer that contradicts another (FAILSAFE-4: no question
    is asked to discover a contradiction)."""
    before = decide_data(data)
    if fact_id in before["missing"]:
        return None
    after = decide_data(with_fact(data, fact_id, value))
    if before["route"] == "emergency":
        assert after["route"] == "emergency"
        return None
    if CONTRADICTIONS & ({entry["rule"] for entry in after["fired"]} - {entry["rule"] for entry in before["fired"]}):
        return None
    return before, after


@SETTINGS
@given(contacts(), st.data())
def test_a_fact_not_in_missing_cannot_change_the_route_or_pathway(data, more):
    """`missing` is honest: an unknown fact the engine does not ask for, whatever its value,
    leaves the route and the pathway as they are."""
    missing = decide_data(data)["missing"]
    unasked = sorted(f for f in facts() if data["facts"].get(f) is None and f not in missing)
    assume(unasked)
    fact_id = more.draw(st.sampled_from(unasked))
    value = more.draw(VALUES[fact_id])
    change = unasked_change(data, fact_id, value)
    assume(change is not None)
    before, after = change
    assert (after["route"], after["pathway"]) == (before["route"], before["pathway"]), \
        f"{fact_id}={value!r} changed the decision but was not in missing"


def test_person_being_exploited_with_repeat_admissions_is_asked_about_long_term_conditions():
    # Found by the property above: equal targets within a route go to the pathway listed first.
    decision = decide(dementia=True, abuse_types=["financial"], admissions_12m=3)
    assert (decision["route"], decision["pathway"]) == ("mdt", "safeguarding")
    assert "long_term_conditions" in decision["missing"], \
        "two conditions would make the person high risk, and complex_care leads safeguarding"


# --- Protocol 1.1: FAILSAFE-6 gates and `settled` (issue 12 item 3) --------------------------

# Follow-ups whose question presupposes a fall ("how badly were they hurt in the fall?", "did
# they hit their head in the fall?"): a denial of the fall and of a long lie answers them (issue
# 12 item 5). Only an answer contradicting that denial could change the route (FAILSAFE-4A: the
# more urgent reading, and a review), and no question is asked to provoke a contradiction. Every
# other gate must be safe for every value.
PRESUPPOSE_A_FALL = ("fall_injury", "head_injury")
LIST_FACTS = tuple(f for f, spec in facts().items() if spec.kind == "multi")
GATES = tuple(sorted(load_follow_ups()))



def all_values(fact_id: str) -> list:
    """Every value of a fact that a rule could tell apart (numbers at and around thresholds)."""
    spec = facts()[fact_id]
    if spec.kind == "boolean":
        return [True, False]
    if spec.kind == "choice":
        return list(spec.options)
    if spec.kind == "multi":
        return [[], *([option] for option in spec.options), list(spec.options[:2]), list(spec.options)]
    if spec.kind == "integer":
        return [0, 1, 2, 4, 5, 6, 9, 17, 18, 80]
    return ["thanet", "Chatham"] if fact_id == "locality" else ["pendant alarm"]


def clip(fact_id: str, values: list) -> list:
    spec = facts()[fact_id]
    return [v for v in values if not isinstance(v, int) or isinstance(v, bool) or
            ((spec.minimum is None or v >= spec.minimum) and (spec.maximum is None or v <= spec.maximum))]


@st.composite
def dialogue_contacts(draw):
    """A contact part way through a dialogue: most facts held (a value, or null for "don't
    know"), some not asked yet, some lists heard in passing (partial). No red flag on the screen:
    an emergency is settled at once with nothing missing, and the tests above cover it."""
    # Each contact draws how often a yes/no answer is "yes" and how much is not asked yet, so
    # quiet stories (a lonely man, mostly "no") are as common as busy ones.
    yes_percent = draw(st.sampled_from([3, 10, 30]))
    states = draw(st.sampled_from([["value"] * 6 + ["null", "absent"], ["value"] * 3 + ["null", "absent", "absent"]]))
    given = {}
    for fact_id, spec in facts().items():
        state = draw(st.sampled_from(states))
        if state == "null":
            given[fact_id] = None
        elif state == "value":
            yes = draw(st.integers(0, 99)) < yes_percent
            if spec.kind == "boolean":
                given[fact_id] = yes and fact_id not in EMERGENCY_SCREEN
            elif spec.kind == "multi":
                given[fact_id] = draw(VALUES[fact_id]) if yes else []
            elif fact_id != "fall_injury" or yes:  # any injury from a fall means a fall (UCR-0)
                given[fact_id] = draw(VALUES[fact_id])
    heard = [f for f in LIST_FACTS if given.get(f)]
    data = {"facts": given}
    if heard:
        data["partial"] = draw(st.lists(st.sampled_from(heard), unique=True))
    return data


def gated(data: dict) -> list[str]:
    given = data["facts"]
    known = {k: v for k, v in given.items() if v is not None}
    partial = frozenset(data.get("partial", ()))
    return [f for f in GATES if f not in given and ruled_out(f, known, partial)]


def escalates(before: dict, after: dict) -> bool:
    """A more urgent route, a change of scope, or a higher safeguarding level."""
    scope = (before["route"] == "out_of_scope") != (after["route"] == "out_of_scope")
    return (rank(after["route"]) < rank(before["route"]) or scope
            or SAFEGUARDING_LEVELS.index(after["safeguarding"]["level"])
            > SAFEGUARDING_LEVELS.index(before["safeguarding"]["level"]))


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.hazard("HAZ-003")
@PROPERTY_SETTINGS
@given(dialogue_contacts())
def test_every_follow_up_gate_is_safe_no_answer_to_a_skipped_question_escalates(data):
    """FAILSAFE-6: a question is skipped only when no answer to it could make the route more
    urgent or raise the safeguarding level."""
    skipped = [f for f in gated(data) if f not in PRESUPPOSE_A_FALL]
    assume(skipped)
    before = decide_data(data)
    assume(before["route"] != "emergency")
    for fact_id in skipped:
        assert fact_id not in before["missing"]
        for value in clip(fact_id, all_values(fact_id)):
            after = decide_data(with_fact(data, fact_id, value))
            assert not escalates(before, after), f"gate on {fact_id} skipped {value!r}, which escalates"


@PROPERTY_SETTINGS
@given(dialogue_contacts())
def test_fall_questions_are_skipped_only_once_the_fall_and_a_long_lie_are_denied(data):
    known = {k: v for k, v in data["facts"].items() if v is not None}
    for fact_id in set(gated(data)) & set(PRESUPPOSE_A_FALL):
        assert known.get("fallen") is False and known.get("on_floor_cannot_get_up") is False, fact_id


@pytest.mark.hazard("HAZ-003")
@PROPERTY_SETTINGS
@given(dialogue_contacts(), st.data())
def test_a_settled_decision_stays_settled_whatever_the_unasked_questions_would_have_said(data, more):
    """§4 `settled` is honest: completing every absent fact and partial list with any values
    never gives a more urgent route, a change of scope or a higher safeguarding level. (An
    emergency is settled at once, by the protocol; the fall questions a denial answered are
    left as they are, see PRESUPPOSE_A_FALL.)"""
    before = decide_data(data)
    assume(before["settled"] and before["route"] != "emergency")
    skipped = set(gated(data)) & set(PRESUPPOSE_A_FALL)
    completed = dict(data["facts"])
    for fact_id, spec in facts().items():
        if fact_id not in completed and fact_id not in skipped:
            completed[fact_id] = more.draw(VALUES[fact_id], label=fact_id)
    for fact_id in data.get("partial", ()):
        extra = more.draw(st.lists(st.sampled_from(facts()[fact_id].options), unique=True), label=f"more {fact_id}")
        completed[fact_id] = sorted(set(completed[fact_id]) | set(extra), key=facts()[fact_id].options.index)
    after = decide_data({"facts": completed})
    assert not escalates(before, after), (before["route"], after["route"], before["safeguarding"]["level"],
                                          after["safeguarding"]["level"])


@pytest.mark.hazard("HAZ-003")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dialogue_contacts())
def test_partial_lists_and_nulls_never_make_the_route_less_urgent_than_asking_would(data):
    """A "don't know" (null) is read as the engine reads an unasked fact: the same decision but
    for `missing`/`settled`/status and the review of an unknown red flag."""
    given = data["facts"]
    as_absent = {"facts": {k: v for k, v in given.items() if v is not None}, "partial": data.get("partial", [])}
    with_nulls, without = decide_data(data), decide_data(as_absent)
    assert (with_nulls["route"], with_nulls["pathway"], with_nulls["safeguarding"]) == \
        (without["route"], without["pathway"], without["safeguarding"])


@SETTINGS
@given(dialogue_contacts())
def test_out_of_area_urgent_advice_exactly_when_a_rapid_response_rule_would_serve_them_in_kent(data):
    """SCOPE-5 (1.1) names no conditions of its own: it follows the rapid-response rules (each
    asserts rapid_response_need), so the advice can't drift from them."""
    elsewhere = decide_data(with_fact(data, "locality", "Chatham"))
    in_kent = decide_data(with_fact(data, "locality", "thanet"))
    urgent = get_triage().config.advice("other_area_urgent")
    adult = elsewhere["route"] == "out_of_scope" and elsewhere["pathway"] == "other_area"
    would_be_rapid = any(entry["rule"] != "SCOPE-5" and get_triage().ruleset.rulebook.by_id(entry["rule"]).then.route
                         == "rapid_response" for entry in in_kent["fired"])
    assert (urgent in elsewhere["advice"]) == (adult and would_be_rapid)


@PROPERTY_SETTINGS
@given(dialogue_contacts(), st.data())
def test_a_partial_list_not_in_missing_is_decided_whatever_else_it_holds(data, more):
    """1.1 partial lists read as "at least these items": once the engine stops asking about
    one, no further items change the route, the pathway or the safeguarding level."""
    before = decide_data(data)
    decided = [f for f in data.get("partial", ()) if f not in before["missing"]]
    assume(decided and before["route"] != "emergency")
    fact_id = more.draw(st.sampled_from(decided))
    extra = more.draw(st.lists(st.sampled_from(facts()[fact_id].options), unique=True, min_size=1))
    grown = sorted(set(data["facts"][fact_id]) | set(extra), key=facts()[fact_id].options.index)
    after = decide_data(with_fact(data, fact_id, grown))
    assert (after["route"], after["pathway"], after["safeguarding"]["level"]) == \
        (before["route"], before["pathway"], before["safeguarding"]["level"]), (fact_id, grown)
