"""The question flows: every fact is asked, the emergency screen comes as one question, and
answers in buttons or plain words become the right facts."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spoa.config import load_config
from spoa.dialogue.core import next_fact_question
from spoa.flows import (AnswerError, FlowError, Question, all_questions, answer_to_facts,
                        contract_facts, load_flows, parse_answer, question_by_id)


def next_question(flows, missing, facts, audience, skip=()):
    """The dialogue core's next question for a decision that still needs `missing`."""
    return next_fact_question(flows, {"missing": list(missing)}, facts, audience, skip=skip)

ROOT = Path(__file__).resolve().parent.parent
EMERGENCY_SCREEN = ["unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs",
                    "severe_bleeding", "seizure_ongoing", "severe_allergic_reaction", "serious_injury",
                    "overdose_or_self_harm", "immediate_danger"]
UCR_NEEDS = ["frailty_decompensation", "sudden_loss_of_mobility", "palliative_crisis",
             "urgent_equipment_needed", "new_confusion", "catheter_problem", "diabetes_urgent",
             "carer_breakdown"]


@pytest.fixture(scope="module")
def flows():
    return load_flows(ROOT / "flows")


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "config.yml")


def ask(flows, question_id, audience="resident", facts=None) -> Question:
    return question_by_id(flows, question_id, audience, facts)


# --- the flow files against the contract ---------------------------------------------------

def test_every_fact_in_the_contract_is_asked_by_exactly_one_question(flows):
    schema = json.loads((ROOT / "spoa" / "schemas" / "contact.schema.json").read_text())
    asked = [fact for spec in flows.questions for fact in spec.facts]
    assert sorted(asked) == sorted(schema["properties"]["facts"]["properties"]) == sorted(contract_facts())
    assert len(asked) == len(set(asked))


def test_every_question_has_both_wordings_and_a_reason(flows):
    for audience in ("resident", "call_handler"):
        for question in all_questions(flows, audience):
            assert question.text.strip() and question.why.strip(), question.id
    for spec in flows.questions:
        assert spec.resident != spec.call_handler, spec.id
        # Call-handler wording is short: what to ask, not a script.
        assert len(spec.call_handler.split()) <= 12, spec.id


def test_every_allowed_value_is_offered_with_a_label(flows):
    facts = contract_facts()
    for spec in flows.questions:
        for fact in spec.facts:
            if facts[fact].kind in ("choice", "multi"):
                offered = {option.value for option in spec.options}
                assert offered == set(facts[fact].options), fact
        assert all(option.label.strip() for option in spec.options), spec.id


def test_question_ids_are_stable_snake_case_and_unique(flows):
    ids = [spec.id for spec in flows.questions]
    assert len(ids) == len(set(ids))
    assert "emergency_screen" in ids and "age" in ids and "locality" in ids


# --- the emergency screen and other checklists ---------------------------------------------

def test_emergency_screen_is_one_checklist_question(flows):
    question = next_question(flows, EMERGENCY_SCREEN + ["age"], {}, "resident")
    assert question.id == "emergency_screen"
    assert question.kind == "checklist"
    assert question.text == "Is any of this happening now?"
    assert question.facts == EMERGENCY_SCREEN
    values = [option["value"] for option in question.options]
    assert values == EMERGENCY_SCREEN + ["none", "unknown"]
    assert question.options[-2]["label"] == "None of these"


@pytest.mark.hazard("HAZ-002")
def test_emergency_screen_asks_only_the_red_flags_still_unknown(flows):
    question = next_question(flows, ["chest_pain", "immediate_danger", "age"], {}, "call_handler")
    assert question.facts == ["chest_pain", "immediate_danger"]
    assert [o["value"] for o in question.options] == ["chest_pain", "immediate_danger", "none", "unknown"]


def test_none_of_these_answers_every_red_flag_no(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "resident")
    assert answer_to_facts(question, ["none"]) == {fact: False for fact in EMERGENCY_SCREEN}
    assert parse_answer(question, "None of those") == {fact: False for fact in EMERGENCY_SCREEN}
    assert parse_answer(question, "no") == {fact: False for fact in EMERGENCY_SCREEN}


def test_ticking_chest_pain_makes_it_true_and_the_rest_false(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "call_handler")
    facts = answer_to_facts(question, ["chest_pain"])
    assert facts["chest_pain"] is True
    assert [fact for fact, value in facts.items() if value is not False] == ["chest_pain"]


def test_none_ticked_with_a_red_flag_is_refused(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "call_handler")
    with pytest.raises(AnswerError, match="none"):
        answer_to_facts(question, ["none", "chest_pain"])


def test_ticking_an_item_that_is_not_on_the_screen_is_refused(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "call_handler")
    with pytest.raises(AnswerError, match="chest_pains"):
        answer_to_facts(question, ["chest_pains"])


def test_chest_pain_said_in_words_sets_only_that_red_flag(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "resident")
    # Only what was named is known; the rest stays unknown, never silently "no".
    assert parse_answer(question, "she has chest pains") == {"chest_pain": True}


def test_a_typo_in_a_red_flag_is_still_read(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "resident")
    assert parse_answer(question, "chets pain") == {"chest_pain": True}


def test_red_flag_denied_in_words_is_no_and_the_other_named_one_is_yes(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "resident")
    facts = parse_answer(question, "no chest pain but she's not breathing")
    assert facts["chest_pain"] is False
    assert facts["breathing_difficulty_severe"] is True


def test_possible_broken_hip_reads_as_serious_injury(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "resident")
    assert parse_answer(question, "she fell and might have broken her hip") == {"serious_injury": True}


def test_bare_yes_to_the_emergency_screen_is_asked_again(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "resident")
    assert parse_answer(question, "yes") is None


def test_not_sure_about_the_emergency_screen_leaves_every_red_flag_unknown(flows):
    question = next_question(flows, EMERGENCY_SCREEN, {}, "resident")
    assert parse_answer(question, "I'm not sure") == {fact: None for fact in EMERGENCY_SCREEN}
    assert answer_to_facts(question, "unknown") == {fact: None for fact in EMERGENCY_SCREEN}


def test_urgent_community_response_needs_are_one_checklist(flows):
    question = next_question(flows, ["new_confusion", "catheter_problem", "lonely_or_isolated"], {}, "resident")
    assert question.id == "urgent_needs" and question.kind == "checklist"
    assert question.facts == ["new_confusion", "catheter_problem"]
    assert parse_answer(question, "her catheter is blocked") == {"catheter_problem": True}
    assert answer_to_facts(question, "none") == {"new_confusion": False, "catheter_problem": False}


# --- asking in order --------------------------------------------------------------------------

@pytest.mark.hazard("HAZ-002")
def test_the_engines_missing_order_decides_the_next_question(flows):
    assert next_question(flows, ["age", "chest_pain"], {}, "resident").id == "age"
    assert next_question(flows, ["chest_pain", "age"], {}, "resident").id == "emergency_screen"


def test_a_fact_answered_dont_know_is_not_asked_again(flows):
    question = next_question(flows, ["age", "locality"], {}, "resident", skip={"age"})
    assert question.id == "locality"


def test_red_flags_answered_dont_know_leave_the_rest_of_the_screen(flows):
    question = next_question(flows, ["chest_pain", "stroke_signs", "age"], {}, "resident",
                             skip={"chest_pain"})
    assert question.id == "emergency_screen" and question.facts == ["stroke_signs"]


def test_nothing_left_to_ask_gives_no_question(flows):
    assert next_question(flows, [], {}, "resident") is None
    assert next_question(flows, ["age"], {}, "resident", skip={"age"}) is None


def test_a_person_asking_for_themselves_is_asked_as_you(flows):
    assert next_question(flows, ["age"], {"caller": "self"}, "resident").text == "How old are you?"
    assert next_question(flows, ["age"], {"caller": "family_friend"}, "resident").text == "How old is the person?"


def test_call_handler_gets_short_wording_and_keyboard_keys(flows):
    question = next_question(flows, ["lives_alone"], {}, "call_handler")
    assert question.text == "Person lives alone?"          # whose situation: the person's
    assert [(o["value"], o["key"]) for o in question.options] == [("yes", "Y"), ("no", "N"), ("unknown", "U")]
    screen = next_question(flows, EMERGENCY_SCREEN, {}, "call_handler")
    keys = [o["key"] for o in screen.options]
    assert keys[:10] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"] and keys[10:] == ["N", "U"]
    assert len(set(keys)) == len(keys)


def test_console_keys_answer_the_question(flows):
    screen = next_question(flows, EMERGENCY_SCREEN, {}, "call_handler")
    assert answer_to_facts(screen, ["3"])["chest_pain"] is True
    assert answer_to_facts(screen, "N") == {fact: False for fact in EMERGENCY_SCREEN}
    assert answer_to_facts(screen, "u") == {fact: None for fact in EMERGENCY_SCREEN}
    assert answer_to_facts(ask(flows, "lives_alone", "call_handler"), "Y") == {"lives_alone": True}
    assert answer_to_facts(ask(flows, "frailty_score", "call_handler"), "6") == {"frailty_score": 6}
    assert answer_to_facts(ask(flows, "setting", "call_handler"), "2") == {"setting": "care_home"}


def test_every_question_has_distinct_keys_for_the_console(flows):
    for question in all_questions(flows, "call_handler"):
        keys = [o["key"] for o in question.options]
        assert len(keys) == len(set(keys)), question.id


def test_question_to_dict_is_what_the_chat_channel_sends(flows):
    data = next_question(flows, ["fall_injury"], {"fallen": True}, "resident").to_dict()
    assert data["ask"] == ["fall_injury"]
    assert data["kind"] == "choice"
    assert [o["value"] for o in data["options"]] == ["none", "minor", "serious", "unknown"]
    assert data["why"] and data["text"]
    age = next_question(flows, ["age"], {}, "resident").to_dict()
    assert (age["kind"], age["minimum"], age["maximum"]) == ("number", 0, 130)


def test_an_unknown_audience_is_refused(flows):
    with pytest.raises(ValueError, match="audience"):
        next_question(flows, ["age"], {}, "clinician")


# --- plain-words answers ----------------------------------------------------------------------

@pytest.mark.parametrize("said, expected", [
    ("yes", True), ("Yeah", True), ("yep", True), ("she does", True), ("Yes, she lives on her own.", True),
    ("no", False), ("Nope", False), ("he doesn't", False), ("no she lives with her son", False),
])
def test_yes_and_no_in_plain_words(flows, said, expected):
    assert parse_answer(ask(flows, "lives_alone"), said) == {"lives_alone": expected}


@pytest.mark.parametrize("said", ["I don't know", "not sure", "No idea", "dunno", "I'm not sure, sorry"])
def test_dont_know_in_plain_words_leaves_the_fact_unknown(flows, said):
    assert parse_answer(ask(flows, "lives_alone"), said) == {"lives_alone": None}


@pytest.mark.parametrize("said", ["yes and no", "maybe not", "not really", "purple"])
def test_an_unclear_yes_or_no_is_asked_again(flows, said):
    # A hedged "no" to a question about risk is not taken as "no".
    assert parse_answer(ask(flows, "suicidal_thoughts"), said) is None


@pytest.mark.parametrize("said, age", [("84", 84), ("she's 84", 84), ("he is 90 years old", 90),
                                       ("She is 17.", 17), ("18", 18)])
def test_age_said_in_digits_is_read(flows, said, age):
    assert parse_answer(ask(flows, "age"), said) == {"age": age}


@pytest.mark.parametrize("said, age", [("eighty-four", 84), ("she's eighty four", 84),
                                       ("ninety", 90), ("a hundred and two", 102), ("seventeen", 17)])
def test_age_said_in_words_is_read(flows, said, age):
    assert parse_answer(ask(flows, "age"), said) == {"age": age}


def test_age_given_as_a_decade_is_asked_again(flows):
    assert parse_answer(ask(flows, "age"), "in her eighties") is None
    assert parse_answer(ask(flows, "age"), "84, or maybe 85") is None


@pytest.mark.parametrize("said", ["200", "she's 200", "-5"])
def test_impossible_age_is_refused_clearly(flows, said):
    with pytest.raises(AnswerError, match="can't be right"):
        parse_answer(ask(flows, "age"), said)


def test_impossible_age_from_a_button_is_refused_too(flows):
    with pytest.raises(AnswerError, match="0 to 130"):
        answer_to_facts(ask(flows, "age"), 131)
    assert answer_to_facts(ask(flows, "age"), "130") == {"age": 130}


@pytest.mark.parametrize("said, count", [("twice", 2), ("once", 1), ("never", 0), ("3 times", 3)])
def test_admissions_said_in_words_are_counted(flows, said, count):
    assert parse_answer(ask(flows, "admissions_12m"), said) == {"admissions_12m": count}


def test_once_or_twice_admissions_is_asked_again(flows):
    # One and two admissions sit either side of the high-risk threshold: don't guess.
    assert parse_answer(ask(flows, "admissions_12m"), "once or twice") is None


@pytest.mark.parametrize("said, injury", [("just a bruise", "minor"), ("no, just a bruise", "minor"),
                                          ("a small cut", "minor"), ("she's not hurt", "none"),
                                          ("no", "none"), ("I think it's broken", "serious"),
                                          ("she can't put weight on it", "serious")])
def test_fall_injury_in_plain_words(flows, said, injury):
    assert parse_answer(ask(flows, "fall_injury"), said) == {"fall_injury": injury}


def test_fall_injury_not_known_stays_unknown(flows):
    assert parse_answer(ask(flows, "fall_injury"), "I don't know") == {"fall_injury": None}


@pytest.mark.parametrize("said, caller", [("myself", "self"), ("it's about my mum", "family_friend"),
                                          ("I'm her GP", "professional"),
                                          ("I care for my husband", "unpaid_carer"),
                                          ("Someone I work with (I am a professional)", "professional")])
def test_who_is_calling_in_plain_words(flows, said, caller):
    assert parse_answer(ask(flows, "caller"), said) == {"caller": caller}


def test_frailty_is_read_from_a_score_or_a_description(flows):
    question = ask(flows, "frailty_score", "call_handler")
    assert parse_answer(question, "6") == {"frailty_score": 6}
    assert parse_answer(question, "needs help with all personal care") == {"frailty_score": 7}
    with pytest.raises(AnswerError):
        parse_answer(question, "12")


def test_practical_help_in_plain_words(flows):
    question = ask(flows, "practical_help")
    assert parse_answer(question, "shopping and a lift to the doctors") == {"practical_help": ["shopping", "transport"]}
    assert parse_answer(question, "none of those") == {"practical_help": []}
    assert answer_to_facts(question, "none") == {"practical_help": []}
    assert answer_to_facts(question, ["meals", "shopping", "meals"]) == {"practical_help": ["shopping", "meals"]}


def test_practical_help_that_is_not_offered_is_refused(flows):
    with pytest.raises(AnswerError, match="window_cleaning"):
        answer_to_facts(ask(flows, "practical_help"), ["window_cleaning"])


# --- place ------------------------------------------------------------------------------------

@pytest.mark.parametrize("said, locality", [("Ramsgate", "thanet"), ("she lives in Margate", "thanet"),
                                            ("Tunbridge Wells", "west_kent"), ("thanet", "thanet")])
def test_a_kent_place_gives_its_locality(flows, config, said, locality):
    assert parse_answer(ask(flows, "locality"), said, config) == {"locality": locality}
    assert answer_to_facts(ask(flows, "locality"), said, config) == {"locality": locality}


def test_a_place_recognised_outside_kent_is_kept_by_its_name(flows, config):
    # The engine treats any place that is not a configured locality as out of area, so only a
    # place the gazetteer recognised as outside gets there (SCOPE-2, 1.1).
    assert parse_answer(ask(flows, "locality"), "she lives in Chatham", config) == {"locality": "Chatham"}


@pytest.mark.parametrize("said", ["she lives in Manchester Road", "at home", "Minster"])
def test_a_place_answer_the_gazetteer_cannot_resolve_is_unknown_never_out_of_area(flows, config, said):
    assert parse_answer(ask(flows, "locality"), said, config) == {"locality": None}


def test_a_place_answer_without_config_is_refused_rather_than_guessed(flows):
    with pytest.raises(ValueError, match="config"):
        answer_to_facts(ask(flows, "locality"), "Ramsgate")


def test_information_topic_is_kept_in_the_callers_words(flows):
    question = ask(flows, "information_topic")
    assert parse_answer(question, "  staying  warm in winter ") == {"information_topic": "staying warm in winter"}


# --- structured answers -----------------------------------------------------------------------

@pytest.mark.parametrize("answer, value", [("yes", True), ("no", False), ("unknown", None), (True, True)])
def test_boolean_buttons(flows, answer, value):
    assert answer_to_facts(ask(flows, "fallen"), answer) == {"fallen": value}


def test_a_boolean_button_that_is_not_yes_no_or_unknown_is_refused(flows):
    with pytest.raises(AnswerError, match="yes, no or unknown"):
        answer_to_facts(ask(flows, "fallen"), "perhaps")


def test_choice_button_outside_the_options_is_refused(flows):
    with pytest.raises(AnswerError, match="allowed"):
        answer_to_facts(ask(flows, "setting"), "caravan")
    assert answer_to_facts(ask(flows, "setting"), "care_home") == {"setting": "care_home"}


# --- the loader refuses bad flow files --------------------------------------------------------

def copy_flows(tmp_path) -> Path:
    target = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", target)
    return target


def test_an_unknown_fact_in_a_flow_file_is_refused_naming_file_and_question(tmp_path):
    target = copy_flows(tmp_path)
    path = target / "05_urgent_needs.yml"
    path.write_text(path.read_text().replace("[frailty_decompensation,", "[frailty_decompenstion,", 1))
    with pytest.raises(FlowError) as error:
        load_flows(target)
    message = str(error.value)
    assert "05_urgent_needs.yml" in message and "'urgent_needs'" in message
    assert "frailty_decompenstion" in message and "did you mean 'frailty_decompensation'" in message


def test_a_fact_nobody_asks_is_refused(tmp_path):
    target = copy_flows(tmp_path)
    (target / "09_social.yml").write_text((target / "09_social.yml").read_text().split("  - id: information_topic")[0])
    with pytest.raises(FlowError, match="information_topic"):
        load_flows(target)


def test_a_choice_missing_an_allowed_value_is_refused(tmp_path):
    target = copy_flows(tmp_path)
    path = target / "02_about.yml"
    path.write_text(path.read_text().replace("      - value: no_fixed_abode", "      - value: no_fixed_abodes"))
    with pytest.raises(FlowError, match="no option for no_fixed_abode"):
        load_flows(target)


def test_a_fact_asked_twice_is_refused(tmp_path):
    target = copy_flows(tmp_path)
    (target / "99_extra.yml").write_text(
        "questions:\n  - id: age_again\n    facts: [age]\n    kind: number\n"
        "    resident: Age?\n    call_handler: Age?\n    why: Again.\n")
    with pytest.raises(FlowError, match="already asked"):
        load_flows(target)


def test_a_boolean_fact_asked_as_a_number_is_refused(tmp_path):
    target = copy_flows(tmp_path)
    path = target / "02_about.yml"
    path.write_text(path.read_text().replace("facts: [lives_alone]\n    kind: boolean", "facts: [lives_alone]\n    kind: number"))
    with pytest.raises(FlowError, match="lives_alone.*boolean"):
        load_flows(target)


# --- a whole dialogue against the real engine ---------------------------------------------------

def run_dialogue(flows, audience, answers, default_no=True, limit=80):
    """Ask what the engine's `missing` asks for, answer in plain words, until nothing is left.

    Returns the question ids asked and the last decision.
    """
    from engine_helpers import NOW, get_triage

    triage = get_triage()
    facts, skip, asked = {}, set(), []
    for _ in range(limit):
        decision = triage.decide(triage.parse_contact({"channel": "web_chat", "facts": facts}), NOW)
        question = next_question(flows, decision["missing"], facts, audience, skip)
        if question is None:
            return asked, decision
        said = answers.get(question.id, "none of these" if question.kind in ("multi", "checklist") else "no")
        got = parse_answer(question, said, triage.config)
        assert got is not None, f"{question.id}: {said!r} was not understood"
        asked.append(question.id)
        skip |= {fact for fact, value in got.items() if value is None}
        facts.update({fact: value for fact, value in got.items() if value is not None})
    raise AssertionError(f"the dialogue did not end after {limit} questions: {asked}")


def test_lonely_resident_in_dartford_is_asked_the_screen_first_and_offered_befriending(flows):
    asked, decision = run_dialogue(flows, "resident", {
        "age": "I'm 82", "locality": "Dartford", "lonely_or_isolated": "yes, I hardly see anyone",
        "fall_injury": "I don't know", "admissions_12m": "never", "frailty_score": "3",
        "information_topic": "I don't know"})
    assert asked[0] == "emergency_screen"
    assert asked.count("emergency_screen") == 1          # one question, not ten
    assert (decision["route"], decision["status"]) == ("voluntary_sector", "complete")
    assert "Dartford, Gravesham and Swanley Befriending Circle (sample)" in [s["name"] for s in decision["services"]]


def test_chest_pain_on_the_screen_goes_straight_to_999(flows):
    from engine_helpers import NOW, get_triage

    triage = get_triage()
    decision = triage.decide(triage.parse_contact({"channel": "phone", "facts": {}}), NOW)
    question = next_question(flows, decision["missing"], {}, "call_handler")
    assert question.id == "emergency_screen"
    facts = answer_to_facts(question, ["chest_pain"])
    decision = triage.decide(triage.parse_contact({"channel": "phone", "facts": facts}), NOW)
    assert (decision["route"], decision["pathway"]) == ("emergency", "ambulance")
