"""Rule-based fact extraction (spoa/extraction): negation, hypothetical, historical and
other-person sentences in boundary pairs, the emergency screen in everyday phrasings, and the
output contract. These sentences are the development set; tests/extraction_heldout.yml is
kept apart for measuring (bench/eval_extraction.py)."""
import json
import threading
from pathlib import Path

import jsonschema
import pytest

from spoa.config import load_config
from spoa.extraction import ExtractionError, PatternError, build_extractor, load_patterns

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "spoa/schemas/contact.schema.json").read_text())


@pytest.fixture(scope="module")
def extractor():
    return build_extractor(load_config(ROOT / "config.yml"))


def facts_of(extractor, text, **known):
    result = extractor.extract(text, known=known or None)
    jsonschema.validate({"facts": result["facts"]}, SCHEMA)
    return result["facts"]


# --- the first message that fills several facts at once -------------------------------------

def test_relative_reports_long_lie_without_injury_fills_four_facts(extractor):
    facts = facts_of(extractor, "mum's fallen, she's on the floor and can't get up but she isn't hurt")
    assert facts == {"caller": "family_friend", "fallen": True, "on_floor_cannot_get_up": True,
                     "fall_injury": "none"}


# --- negation pairs ---------------------------------------------------------------------------

def test_no_chest_pain_with_swollen_legs_is_not_chest_pain(extractor):
    assert facts_of(extractor, "no chest pain but my legs are swollen").get("chest_pain") is False


def test_chest_pain_is_chest_pain(extractor):
    assert facts_of(extractor, "he's got chest pain and feels sick")["chest_pain"] is True


def test_she_didnt_hit_her_head_is_no_head_injury(extractor):
    assert facts_of(extractor, "she fell in the hall but she didn't hit her head")["head_injury"] is False


def test_she_hit_her_head_is_a_head_injury(extractor):
    assert facts_of(extractor, "she fell in the hall and she hit her head")["head_injury"] is True


def test_not_breathing_is_a_breathing_red_flag_not_its_negation(extractor):
    assert facts_of(extractor, "he's not breathing")["breathing_difficulty_severe"] is True


def test_breathing_fine_is_no_breathing_red_flag(extractor):
    assert facts_of(extractor, "her breathing is fine")["breathing_difficulty_severe"] is False


def test_isnt_bleeding_is_no_severe_bleeding(extractor):
    assert facts_of(extractor, "he isn't bleeding")["severe_bleeding"] is False


def test_bleeding_that_wont_stop_is_severe_bleeding(extractor):
    assert facts_of(extractor, "his arm is bleeding and it won't stop bleeding")["severe_bleeding"] is True


def test_not_on_blood_thinners(extractor):
    assert facts_of(extractor, "she's not on any blood thinners")["on_anticoagulants"] is False


def test_on_blood_thinners(extractor):
    assert facts_of(extractor, "she's on blood thinners for her heart")["on_anticoagulants"] is True


def test_denied_suicidal_thoughts(extractor):
    assert facts_of(extractor, "I'm not suicidal, just fed up")["suicidal_thoughts"] is False


def test_suicidal_thoughts(extractor):
    assert facts_of(extractor, "I've been feeling suicidal")["suicidal_thoughts"] is True


def test_a_denial_far_back_in_a_run_on_sentence_does_not_deny_a_collapse(extractor):
    assert facts_of(extractor, "I don't know what to do he's just collapsed in the kitchen")["unresponsive"] is True


def test_a_denial_next_to_it_denies_a_collapse(extractor):
    assert facts_of(extractor, "he hasn't collapsed")["unresponsive"] is False


def test_an_answer_no_run_into_a_statement_does_not_deny_it(extractor):
    assert facts_of(extractor, "no she has chest pain and feels sick")["chest_pain"] is True


def test_a_red_flag_said_once_stands_when_denied_elsewhere(extractor):
    facts = facts_of(extractor, "no chest pain earlier. Now he has crushing chest pain")
    assert facts["chest_pain"] is True


# --- hypothetical pairs -----------------------------------------------------------------------

def test_if_she_falls_again_sets_nothing(extractor):
    assert facts_of(extractor, "what do I do if she falls again?") == {}


def test_she_fell_this_morning_is_a_fall(extractor):
    assert facts_of(extractor, "she fell this morning")["fallen"] is True


def test_worried_she_might_have_a_stroke_is_not_stroke_signs(extractor):
    assert "stroke_signs" not in facts_of(extractor, "I'm worried she might have a stroke one day")


def test_think_she_has_had_a_stroke_is_stroke_signs(extractor):
    assert facts_of(extractor, "I think she's had a stroke, her face looks lopsided")["stroke_signs"] is True


def test_asking_how_to_help_with_a_red_flag_is_still_the_red_flag(extractor):
    assert facts_of(extractor, "how do I help him he's not breathing")["breathing_difficulty_severe"] is True


def test_a_modal_far_back_in_a_run_on_sentence_does_not_hide_a_red_flag(extractor):
    text = "the carer will be here in about an hour or so but meanwhile he's fitting"
    assert facts_of(extractor, text)["seizure_ongoing"] is True


def test_how_to_prevent_falls_is_not_a_fall(extractor):
    assert "fallen" not in facts_of(extractor, "how can I stop dad falling over?")


# --- historical pairs -------------------------------------------------------------------------

def test_fall_last_year_is_not_a_fall_now(extractor):
    assert "fallen" not in facts_of(extractor, "she had a fall last year")


def test_fall_an_hour_ago_is_a_fall_now(extractor):
    assert facts_of(extractor, "she had a fall an hour ago")["fallen"] is True


def test_stroke_years_ago_is_a_long_term_condition_not_stroke_signs(extractor):
    facts = facts_of(extractor, "my husband had a stroke years ago")
    assert "stroke_signs" not in facts
    assert facts["long_term_conditions"] == ["stroke"]


def test_face_dropped_is_stroke_signs(extractor):
    assert facts_of(extractor, "his face has dropped")["stroke_signs"] is True


def test_old_fall_and_a_new_one_in_one_sentence(extractor):
    facts = facts_of(extractor, "she had a fall last year and now she's on the floor again")
    assert facts["fallen"] is True


def test_overdose_years_ago_is_not_self_harm_now(extractor):
    assert "overdose_or_self_harm" not in facts_of(extractor, "he took an overdose back in 2019")


def test_overdose_tonight_is_self_harm(extractor):
    assert facts_of(extractor, "he's taken an overdose tonight")["overdose_or_self_harm"] is True


def test_he_says_hell_kill_himself_is_suicidal_thoughts_though_put_in_the_future(extractor):
    assert facts_of(extractor, "he says he'll kill himself")["suicidal_thoughts"] is True


def test_what_to_do_if_he_collapses_is_not_unresponsive(extractor):
    assert "unresponsive" not in facts_of(extractor, "if he ever collapses what should I do?")


# --- other person pairs -----------------------------------------------------------------------

@pytest.mark.hazard("HAZ-002")
def test_neighbours_husbands_collapse_is_not_about_the_caller_subject(extractor):
    facts = facts_of(extractor, "I'm ringing about my mum. My neighbour's husband collapsed earlier")
    assert "unresponsive" not in facts


def test_mums_collapse_is_about_mum(extractor):
    assert facts_of(extractor, "I'm ringing about my mum, she collapsed earlier")["unresponsive"] is True


def test_other_relatives_chest_pain_is_not_the_subjects(extractor):
    facts = facts_of(extractor, "I'm calling about my dad who's confused. My brother has chest pain from a cold")
    assert "chest_pain" not in facts
    assert facts["new_confusion"] is True


def test_friends_fall_is_not_the_subjects(extractor):
    assert "fallen" not in facts_of(extractor, "Mum's friend fell over at bingo, mum is fine")


def test_able_to_protect_herself_said_with_fear_of_him_counts_as_unable(extractor):
    facts = facts_of(extractor, "she says she can look after herself, but she's too scared of him to leave")
    assert facts["able_to_protect_self"] is False


def test_able_to_protect_herself(extractor):
    assert facts_of(extractor, "she can stand up for herself")["able_to_protect_self"] is True


def test_refusing_a_referral_is_recorded(extractor):
    assert facts_of(extractor, "she doesn't want anyone to know")["consent_to_safeguarding_referral"] is False


def test_agreeing_to_a_referral_is_recorded(extractor):
    assert facts_of(extractor, "she's happy for you to make a referral")["consent_to_safeguarding_referral"] is True


def test_others_at_risk_from_the_same_person(extractor):
    assert facts_of(extractor, "he does the same to other residents")["others_at_risk"] is True


def test_abuse_by_a_named_relative_is_about_the_person(extractor):
    assert facts_of(extractor, "her son takes her pension every week")["abuse_types"] == ["financial"]


def test_deceased_husband_does_not_make_the_caller_a_relative(extractor):
    facts = facts_of(extractor, "since my husband passed away I feel so lonely")
    assert facts.get("caller") == "self"
    assert facts["lonely_or_isolated"] is True


# --- the emergency screen in everyday phrasings -----------------------------------------------

RED_FLAGS = [
    ("he's gone grey and clammy with pain in his chest", "chest_pain"),
    ("she's got a tight chest and it's going down her arm", "chest_pain"),
    ("she's collapsed and won't wake up", "unresponsive"),
    ("he's unconscious on the kitchen floor", "unresponsive"),
    ("her face has dropped on one side", "stroke_signs"),
    ("his speech is all slurred and he can't lift his left arm", "stroke_signs"),
    ("she can't get her breath", "breathing_difficulty_severe"),
    ("he's gasping and his lips have gone blue", "breathing_difficulty_severe"),
    ("she's fitting and it won't stop", "seizure_ongoing"),
    ("he's been having a seizure for ten minutes", "seizure_ongoing"),
    ("her lips are swelling after peanuts", "severe_allergic_reaction"),
    ("his throat is closing up after a bee sting", "severe_allergic_reaction"),
    ("she's taken all her tablets", "overdose_or_self_harm"),
    ("he's cut his wrists", "overdose_or_self_harm"),
    ("she's swallowed a load of paracetamol", "overdose_or_self_harm"),
    ("I've taken 30 paracetamol", "overdose_or_self_harm"),
    ("i dont know what to do she wont wake up", "unresponsive"),
    ("could you send someone my wife is having a seizure", "seizure_ongoing"),
    ("the ambulance said 3 hours but he's unconscious", "unresponsive"),
    ("there's blood everywhere, it's gushing from his head", "severe_bleeding"),
    ("he's threatening her now, he's in the house", "immediate_danger"),
    ("her ex has got a knife and he's outside", "immediate_danger"),
    ("I think she's broken her hip", "serious_injury"),
    ("he can't put any weight on his leg after the fall", "serious_injury"),
]


@pytest.mark.hazard("HAZ-002")
@pytest.mark.parametrize("text,fact", RED_FLAGS)
def test_red_flag_phrasings_are_caught(extractor, text, fact):
    assert facts_of(extractor, text).get(fact) is True


# --- falls, mental health, UCR, person, safeguarding, social ----------------------------------

COVERAGE = [
    ("been on the floor since 5am", {"fallen": True, "on_floor_cannot_get_up": True}),
    ("he fell, just a bruise on his arm", {"fallen": True, "fall_injury": "minor"}),
    ("she slipped in the kitchen, she isn't hurt", {"fallen": True, "fall_injury": "none"}),
    ("she's fallen and I think she's broken her hip", {"fallen": True, "fall_injury": "serious"}),
    ("he fell and passed out for a minute", {"fallen": True, "lost_consciousness": True}),
    ("she's on warfarin", {"on_anticoagulants": True}),
    ("he takes apixaban", {"on_anticoagulants": True}),
    ("she keeps saying she wants to end it all", {"suicidal_thoughts": True}),
    ("he's written a note and says he's going to hang himself", {"suicide_plan_or_intent": True}),
    ("my daughter is hearing voices and is really paranoid", {"mental_health_crisis": True}),
    ("dad is suddenly very confused and doesn't know where he is", {"new_confusion": True}),
    ("her catheter is blocked", {"catheter_problem": True}),
    ("his blood sugar is really high", {"diabetes_urgent": True}),
    ("since yesterday she suddenly can't walk", {"sudden_loss_of_mobility": True}),
    ("we need a commode today", {"urgent_equipment_needed": True}),
    ("she's on end of life care and her pain isn't controlled", {"end_of_life": True, "palliative_crisis": True}),
    ("since his chest infection he's gone downhill", {"frailty_decompensation": True}),
    ("I care for my wife and I can't cope anymore", {"caller": "unpaid_carer", "carer_breakdown": True}),
    ("she's 84", {"age": 84}),
    ("my 90-year-old mum", {"age": 90, "caller": "family_friend"}),
    ("he is aged 72", {"age": 72}),
    ("I'm her district nurse", {"caller": "professional"}),
    ("my neighbour lives on her own", {"caller": "family_friend", "lives_alone": True}),
    ("she lives in a care home in Whitstable", {"setting": "care_home", "locality": "canterbury_coastal"}),
    ("he has Alzheimer's and COPD", {"dementia": True, "long_term_conditions": ["dementia", "copd"]}),
    ("he has a learning disability", {"learning_disability": True}),
    ("she came out of hospital on Friday", {"discharged_within_7_days": True}),
    ("her nephew is taking money from her purse", {"abuse_types": ["financial"]}),
    ("he hits her", {"abuse_types": ["physical", "domestic"]}),
    ("the carers leave her in soiled clothes", {"abuse_types": ["neglect"]}),
    ("she's not eating and the house is full of rubbish", {"abuse_types": ["self_neglect"]}),
    ("she lacks capacity", {"lacks_capacity": True}),
    ("she's too scared of him to leave", {"able_to_protect_self": False}),
    ("there are kids in the house when he kicks off", {"child_at_risk": True}),
    ("he hasn't left the house for weeks", {"lonely_or_isolated": True}),
    ("she doesn't see anyone", {"lonely_or_isolated": True}),
    ("I need help with shopping and cleaning", {"practical_help": ["shopping", "cleaning"]}),
    ("I'm exhausted, I can't go on", {"carer_wellbeing_impact_significant": True}),
    ("how do I get a pendant alarm", {"information_topic": "pendant alarm"}),
    ("she lives in Ramsgate", {"locality": "thanet"}),
]


@pytest.mark.parametrize("text,expected", COVERAGE)
def test_everyday_phrasings_set_the_facts(extractor, text, expected):
    facts = facts_of(extractor, text)
    assert {fact: facts.get(fact) for fact in expected} == expected


def test_contractions_typed_without_apostrophes_are_read(extractor):
    facts = facts_of(extractor, "Im 83 and I live on my own, I cant get up")
    assert facts["age"] == 83
    assert facts["on_floor_cannot_get_up"] is True


def test_neighbour_typing_without_apostrophes_keeps_their_own_age_out(extractor):
    facts = facts_of(extractor, "Im 83 and shes my neighbour, she cant get up")
    assert "age" not in facts
    assert facts["on_floor_cannot_get_up"] is True


def test_heavy_bleeding_after_a_fall_is_a_serious_fall_injury(extractor):
    facts = facts_of(extractor, "she fell and her leg is bleeding heavily")
    assert facts["fall_injury"] == "serious"


def test_a_cut_after_a_fall_is_a_minor_fall_injury(extractor):
    assert facts_of(extractor, "she fell and has a small cut on her shin")["fall_injury"] == "minor"


def test_a_place_that_is_also_a_word_needs_its_capital(extractor):
    assert "locality" not in facts_of(extractor, "it's a big deal for her")
    assert facts_of(extractor, "she lives in Deal")["locality"] == "south_kent_coast"
    assert facts_of(extractor, "she lives in herne bay")["locality"] == "canterbury_coastal"


@pytest.mark.parametrize("text", [
    "no chest pain, no breathing problems, no bleeding",
    "I want to know what to do if he has a fit",
    "she had a stroke in 2018 and uses a wheelchair",
    "he's a bit short of breath on the stairs with his COPD",
    "his face was drooping after his stroke last year",
    "she took two paracetamol for her headache",
])
@pytest.mark.hazard("HAZ-002")
def test_everyday_sentences_raise_no_red_flag(extractor, text):
    facts = facts_of(extractor, text)
    assert not [fact for fact, _ in RED_FLAGS if facts.get(fact) is True]


def test_cant_wash_or_dress_herself_are_two_care_act_outcomes(extractor):
    facts = facts_of(extractor, "she can't wash herself and needs help getting dressed")
    assert facts["outcomes_unable"] == ["hygiene", "dressing"]


def test_can_wash_herself_is_no_unmet_outcome(extractor):
    assert "outcomes_unable" not in facts_of(extractor, "she can wash herself")


def test_three_admissions_this_year_are_counted(extractor):
    assert facts_of(extractor, "he's been in hospital three times this year")["admissions_12m"] == 3


def test_place_outside_the_configured_localities_is_not_guessed(extractor):
    assert "locality" not in facts_of(extractor, "she lives in Brighton")


def test_just_a_bruise_is_a_fall_injury_only_where_a_fall_is_known(extractor):
    assert "fall_injury" not in facts_of(extractor, "just a bruise")
    assert facts_of(extractor, "just a bruise", fallen=True)["fall_injury"] == "minor"


def test_nothing_said_sets_nothing(extractor):
    assert facts_of(extractor, "hello, can you help?") == {}


# --- the output contract ----------------------------------------------------------------------

def test_evidence_points_at_the_words_that_set_each_fact(extractor):
    text = "Dad has fallen and hit his head, he's on warfarin"
    result = extractor.extract(text)
    for item in result["evidence"]:
        assert text[item["start"]:item["end"]] == item["text"]
        assert set(item) == {"fact", "value", "text", "start", "end", "rule", "negated"}
    assert {item["fact"] for item in result["evidence"]} >= {"fallen", "head_injury", "on_anticoagulants"}


def test_negated_evidence_is_marked(extractor):
    result = extractor.extract("no chest pain")
    assert result["evidence"] == [{"fact": "chest_pain", "value": False, "text": "chest pain", "start": 3,
                                   "end": 13, "rule": "chest_pain.pain_in_chest", "negated": True}]


def test_every_coverage_sentence_gives_facts_the_contract_allows(extractor):
    for text, _ in COVERAGE + RED_FLAGS:
        jsonschema.validate({"facts": extractor.extract(text)["facts"]}, SCHEMA)


def test_long_call_notes_are_read_in_pieces_with_offsets_and_subject_kept(extractor):
    filler = "She has been well in herself and likes her garden. " * 40
    text = ("Calling about my mum. " + filler + "Today she fell in the kitchen and hit her head. "
            + filler + "My brother has chest pain from a cold.")
    assert len(text) > 3000
    result = extractor.extract(text)
    assert result["facts"]["fallen"] is True and result["facts"]["head_injury"] is True
    assert "chest_pain" not in result["facts"]  # the brother, not mum, named pieces later
    for item in result["evidence"] + result["ignored"]:
        assert text[item["start"]:item["end"]] == item["text"]


def test_text_that_is_not_a_string_is_refused(extractor):
    with pytest.raises(ExtractionError):
        extractor.extract(None)


def test_text_too_long_is_refused(extractor):
    with pytest.raises(ExtractionError):
        extractor.extract("she fell " * 3000)


def test_extraction_from_many_threads_gives_the_same_facts(extractor):
    texts = [text for text, _ in COVERAGE]
    expected = [extractor.extract(text)["facts"] for text in texts]
    results: dict[int, list] = {}

    def run(worker):
        results[worker] = [extractor.extract(text)["facts"] for text in texts]

    threads = [threading.Thread(target=run, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[worker] == expected for worker in range(4))


def test_pattern_with_unknown_fact_is_refused_at_load(tmp_path):
    (tmp_path / "bad.yml").write_text("patterns:\n  - id: x\n    set: {chest_pains: true}\n    phrases: [ouch]\n")
    with pytest.raises(PatternError, match="chest_pains"):
        load_patterns(tmp_path)


def test_pattern_with_value_outside_the_contract_is_refused_at_load(tmp_path):
    (tmp_path / "bad.yml").write_text("patterns:\n  - id: x\n    set: {fall_injury: awful}\n    phrases: [ouch]\n")
    with pytest.raises(PatternError, match="fall_injury"):
        load_patterns(tmp_path)


@pytest.mark.parametrize("template", [
    "{can't|unable to|not able to} get {her|him|} {up|back up|off the floor}",
    "{i 'm|i am} {so|really|} {lonely|isolated}",
    "{lives|living} {alone|on {her|his} own}",
])
def test_a_compiled_template_matches_every_phrase_it_stands_for_and_no_other(template):
    import spacy
    from spacy.matcher import Matcher

    from spoa.extraction.components import token_patterns
    from spoa.extraction.patterns_file import expand

    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    matcher.add("t", token_patterns(nlp, template), greedy="LONGEST")
    for phrase in expand(template):
        doc = nlp(phrase.replace(" 'm", "'m").replace(" n't", "n't"))
        assert [(start, end) for _, start, end in matcher(doc)] == [(0, len(doc))], phrase
    assert matcher(nlp("she can get up")) == []


def test_every_pattern_file_loads_and_ids_are_unique():
    patterns = load_patterns()
    assert len({pattern.id for pattern in patterns}) == len(patterns) > 50


# --- the phrasings that matter most for safety (issue 12, item 4), in boundary pairs ---------
# (text, facts expected, facts that must stay unset). Tuning sentences: the held-out v2 set
# (tests/extraction_heldout_v2.yml) is measured by bench/eval_extraction.py, never tuned on.

SAFETY_PHRASINGS = [
    # a plan or intent without the word "suicide"
    pytest.param("he's been handing out his belongings and says he has pills hidden",
                 {"suicide_plan_or_intent": True, "suicidal_thoughts": True}, set(),
                 id="giving belongings away with pills hidden is a plan"),
    pytest.param("he's giving his old books away because he's clearing the loft", {},
                 {"suicide_plan_or_intent", "suicidal_thoughts"},
                 id="giving books away to clear the loft is no plan"),
    pytest.param("mum wrote goodbye letters to me and my brother",
                 {"suicide_plan_or_intent": True}, set(), id="goodbye letters are a plan"),
    pytest.param("she's been searching online for ways to do it",
                 {"suicide_plan_or_intent": True}, set(), id="searching for ways to do it is a plan"),
    pytest.param("He says he's going to walk into the sea",
                 {"suicide_plan_or_intent": True}, set(), id="going to walk into the sea is a plan"),
    pytest.param("she has a plan to go on a cruise in the spring", {},
                 {"suicide_plan_or_intent", "suicidal_thoughts"}, id="a plan to go on a cruise is no plan"),
    pytest.param("he says everyone would be better off if he wasn't around but he's got no plan",
                 {"suicidal_thoughts": True, "suicide_plan_or_intent": False}, set(),
                 id="better off if he wasn't around with no plan is thoughts without a plan"),
    # denials in every verb form
    pytest.param("she doesnt want to hurt herself, she's just very low", {"suicidal_thoughts": False}, set(),
                 id="doesn't want to hurt herself denies the thoughts"),
    pytest.param("he feels like hurting himself", {"suicidal_thoughts": True}, set(),
                 id="feels like hurting himself is thoughts"),
    pytest.param("he denies any thoughts of harming himself", {"suicidal_thoughts": False},
                 {"overdose_or_self_harm"}, id="denies thoughts of harming himself"),
    pytest.param("she didn't fall, she felt faint and sat down", {"fallen": False}, set(),
                 id="didn't fall denies the fall"),
    pytest.param("he did not fall, he sat down on the floor to get the remote", {"fallen": False}, set(),
                 id="sitting down on the floor on purpose is no fall"),
    pytest.param("she's sat on the floor and can't get up", {"fallen": True, "on_floor_cannot_get_up": True},
                 set(), id="sat on the floor and can't get up is a long lie"),
    pytest.param("dad has never had a fall", {"fallen": False}, set(), id="never had a fall denies the fall"),
    pytest.param("he hasn't taken any tablets, he's just upset", {"overdose_or_self_harm": False}, set(),
                 id="hasn't taken any tablets denies an overdose"),
    pytest.param("he's taken all his tablets", {"overdose_or_self_harm": True}, set(),
                 id="taken all his tablets is an overdose"),
    # injury severity in everyday words
    pytest.param("he fell and now he can't stand on his leg",
                 {"fall_injury": "serious", "serious_injury": True}, set(),
                 id="can't stand on his leg after a fall is serious"),
    pytest.param("his knee looks all wrong", {}, {"serious_injury", "fall_injury"},
                 id="a knee looking wrong with no fall heard is left to the emergency screen"),
    pytest.param("he fell and his knee looks all wrong", {"serious_injury": True, "fall_injury": "serious"},
                 set(), id="a knee looking wrong after a fall is serious"),
    pytest.param("she fell and her arm is at a funny angle", {"serious_injury": True, "fall_injury": "serious"},
                 set(), id="an arm at a funny angle after a fall is serious"),
    pytest.param("mum fell over and her leg looks shorter than the other one",
                 {"fall_injury": "serious", "serious_injury": True}, set(), id="a shortened leg is serious"),
    pytest.param("she fell and she cries out in pain when she moves her leg",
                 {"fall_injury": "serious"}, set(), id="crying out in pain after a fall is serious"),
    pytest.param("she slipped in the kitchen, only a small bruise on her arm", {"fall_injury": "minor"},
                 {"serious_injury"}, id="a small bruise is minor"),
    pytest.param("he fell and there's a deep cut on his leg, it's pouring with blood",
                 {"fall_injury": "serious", "severe_bleeding": True}, set(), id="pouring with blood is serious"),
    # a carer who suddenly can't go on, with no one to take over
    pytest.param("I care for my son and I'm having surgery on Monday",
                 {"caller": "unpaid_carer", "carer_breakdown": True}, set(),
                 id="carer having surgery is a carer breakdown"),
    pytest.param("I'm her carer and I have to go away for my job, no one can step in",
                 {"carer_breakdown": True}, set(), id="carer going away with no one to step in is a breakdown"),
    pytest.param("I'm his carer and I'm off to see my sister, my daughter will look after him",
                 {"carer_breakdown": False}, set(), id="carer going away with cover is no breakdown"),
    pytest.param("my dad looks after my mum but he's had a heart attack and is in hospital",
                 {"carer_breakdown": True}, {"chest_pain", "long_term_conditions"},
                 id="named carer in hospital is a breakdown and his heart attack is not hers"),
    pytest.param("my mum has had a heart attack and is in hospital", {}, {"carer_breakdown"},
                 id="the person in hospital is no carer breakdown"),
    # a child at risk in any household relation
    pytest.param("her husband hits her and her grandkids are living there",
                 {"child_at_risk": True, "abuse_types": ["physical", "domestic"]}, set(),
                 id="grandchildren living with violence are at risk"),
    pytest.param("my granddaughter lives with her and helps with the hoovering", {}, {"child_at_risk"},
                 id="a granddaughter living there with no abuse is not a child at risk"),
    pytest.param("his girlfriend's children are frightened of him", {"child_at_risk": True},
                 {"able_to_protect_self"}, id="a partners children frightened of him are at risk"),
    pytest.param("the partner's daughter is 10 and gets left alone for days", {"child_at_risk": True},
                 {"age"}, id="a partners daughter left alone is at risk and her age is not the persons"),
    # everyday outcomes in plain words
    pytest.param("she can't get out and about like she used to", {"outcomes_unable": ["community_access"]}, set(),
                 id="can't get out and about is community access"),
    pytest.param("dad can't make himself a meal anymore", {"outcomes_unable": ["nutrition"]}, set(),
                 id="can't make himself a meal is nutrition"),
    pytest.param("she can't see her grandchildren or her friends anymore", {"outcomes_unable": ["relationships"]},
                 set(), id="can't see her friends is relationships"),
    pytest.param("she sees her friends at the lunch club and cooks for herself", {}, {"outcomes_unable"},
                 id="seeing friends and cooking is no outcome unmet"),
    pytest.param("she's not able to keep on top of the cleaning", {"outcomes_unable": ["habitable_home"]}, set(),
                 id="can't keep on top of the cleaning is a habitable home"),
    pytest.param("he can't get himself to the loo", {"outcomes_unable": ["toileting"]}, set(),
                 id="can't get to the loo is toileting"),
    pytest.param("she can't get her clothes on without help", {"outcomes_unable": ["dressing"]}, set(),
                 id="can't get her clothes on is dressing"),
    pytest.param("he can't look after his little girl since his accident", {"outcomes_unable": ["caring_for_child"]},
                 set(), id="can't look after his little girl is caring for a child"),
    pytest.param("I can't go to my college course anymore",
                 {"caller": "self", "outcomes_unable": ["work_learning_volunteering"]}, set(),
                 id="can't go to college is work, learning or volunteering"),
    pytest.param("My son has a learning disability and he can't cook or wash himself",
                 {"outcomes_unable": ["hygiene", "nutrition"]}, set(),
                 id="can't cook or wash himself is two outcomes, not one"),
    pytest.param("He can't cook for himself or keep his flat clean", {"outcomes_unable": ["habitable_home", "nutrition"]},
                 set(), id="can't cook or keep his flat clean is two outcomes"),
    pytest.param("she can cook and wash herself", {}, {"outcomes_unable"},
                 id="can cook and wash herself is no outcome unmet"),
    pytest.param("he's been saying he wants to go to sleep and not wake up", {"suicidal_thoughts": True}, set(),
                 id="wanting to go to sleep and not wake up is thoughts"),
    # named conditions mapped to the contract's long-term conditions
    pytest.param("he's got Parkinsons disease and chronic obstructive pulmonary disease",
                 {"long_term_conditions": ["parkinsons", "copd"]}, set(), id="parkinsons and copd"),
    pytest.param("she has multiple sclerosis and is insulin dependent",
                 {"long_term_conditions": ["other", "diabetes"]}, set(), id="ms is other and insulin is diabetes"),
    pytest.param("his brother had Parkinson's", {}, {"long_term_conditions"},
                 id="a brothers parkinsons is not the persons"),
]


@pytest.mark.hazard("HAZ-002", "HAZ-018")
@pytest.mark.parametrize("text,expected,absent", SAFETY_PHRASINGS)
def test_safety_phrasings_set_the_right_facts(extractor, text, expected, absent):
    facts = facts_of(extractor, text)
    assert {fact: facts.get(fact) for fact in expected} == expected
    assert not absent & set(facts)


# --- whose fact: the person the contact is about, not the caller (issue 12, 5a) ---------------
# Boundary pairs: (text, what the conversation already knows, facts expected, facts absent).

WHOSE = [
    pytest.param("I look after my husband, I'm 79 and I hurt my back lifting him", {},
                 {"caller": "unpaid_carer"}, {"serious_injury", "fall_injury", "age"},
                 id="carer who hurt their back lifting him gives him no injury and no age"),
    pytest.param("I'm 79 and I hurt my back when I fell, I can't get up", {},
                 {"caller": "self", "age": 79, "serious_injury": True}, set(),
                 id="resident who hurt their back falling has the injury and the age"),
    pytest.param("I look after my husband. I hurt my back lifting him yesterday and I can't lift him now", {},
                 {"carer_health_deteriorating": True}, {"fallen", "on_floor_cannot_get_up", "serious_injury"},
                 id="carer who can't lift him since hurting their back reports no fall"),
    pytest.param("My husband has fallen in the bathroom and I can't lift him", {},
                 {"fallen": True, "on_floor_cannot_get_up": True}, set(),
                 id="wife who can't lift her husband after his fall reports a long lie"),
    pytest.param("I'm 79", {"caller": "family_friend"}, {}, {"age"},
                 id="caller known as a relative keeps their own age out"),
    pytest.param("I'm 79", {"caller": "self"}, {"age": 79}, set(),
                 id="caller known as the person gives their age"),
    pytest.param("I'm calling about my mum, dad's her carer and he is 79", {}, {}, {"age"},
                 id="carers age said about the carer is not the persons"),
    pytest.param("He's 72 and he's her main carer", {}, {}, {"age"},
                 id="age of the man who is her carer is not hers"),
    pytest.param("I'm calling about my dad, he is 79", {}, {"age": 79}, set(),
                 id="persons age said about the person is theirs"),
    pytest.param("I'm 45 and I look after my mum who is 88", {}, {"age": 88}, set(),
                 id="carer names their own age and the persons: the persons counts"),
    pytest.param("I had a fall myself this week but it's my wife I'm ringing about", {}, {}, {"fallen"},
                 id="relatives own fall is not the persons fall"),
    pytest.param("My mum has fallen and I can't stop the bleeding", {}, {"severe_bleeding": True}, set(),
                 id="bleeding the caller cannot stop is the persons red flag"),
    pytest.param("My mum cares for my dad but she's broken her wrist", {}, {}, {"serious_injury"},
                 id="carer breaking her wrist is not an injury of the man she cares for"),
    pytest.param("My mum has fallen and she's broken her wrist", {}, {"serious_injury": True}, set(),
                 id="person breaking her wrist is her injury"),
    pytest.param("The step-son is 9 and he's left on his own all day", {}, {}, {"age"},
                 id="a step-childs age is not the persons"),
    pytest.param("My 12 year old niece lives with them", {}, {}, {"age"},
                 id="a nieces age in the household is not the persons"),
    pytest.param("my son is 50 and has a learning disability", {}, {"age": 50}, set(),
                 id="an adult sons age is his when the contact is about him"),
    pytest.param("I'm 82 and I look after my wife, I pulled my back helping her up", {},
                 {"carer_health_deteriorating": True}, {"age", "serious_injury"},
                 id="carers back pulled helping her up is the carers health"),
    pytest.param("I care for him and I'm so down myself these days", {},
                 {"carer_wellbeing_impact_significant": True}, {"mental_health_crisis", "suicidal_thoughts"},
                 id="carer feeling down themselves is the carers wellbeing"),
    pytest.param("I feel so depressed, I can't cope", {}, {"caller": "self", "mental_health_crisis": True}, set(),
                 id="resident feeling depressed and not coping is their crisis"),
    pytest.param("I care for my mum. I've had to give up work and I never see my friends any more", {},
                 {"carer_outcomes_unable": ["work_learning_volunteering", "relationships"]}, {"outcomes_unable"},
                 id="carer who gave up work and never sees friends has carer outcomes, not mums"),
    pytest.param("Mum has had to give up work and never sees her friends any more", {},
                 {"outcomes_unable": ["work_learning_volunteering", "relationships"]}, {"carer_outcomes_unable"},
                 id="mum who gave up work and never sees friends has those outcomes"),
    pytest.param("My partner hits me and the kids see it, I have COPD", {},
                 {"caller": "self", "abuse_types": ["physical", "domestic"], "child_at_risk": True,
                  "long_term_conditions": ["copd"]}, set(),
                 id="woman hit by her partner is the person, with her children at risk and her copd"),
    pytest.param("My daughter's partner hits her and the kids see it", {},
                 {"caller": "family_friend", "child_at_risk": True}, set(),
                 id="mother reporting her daughter hit by her partner is a relative"),
    # call notes, written by the handler
    pytest.param("Daughter calling, she is 55. Mum is 83 and fell this morning", {}, {"age": 83, "fallen": True},
                 set(), id="notes: the daughter calling is 55 and mum is 83"),
    pytest.param("Caller (daughter) aged 60 has hurt her back lifting mum", {"caller": "family_friend"}, {},
                 {"age", "serious_injury"}, id="notes: the callers back hurt lifting mum is not mums injury"),
    pytest.param("Mum aged 83 has hurt her back", {"caller": "family_friend"},
                 {"age": 83, "serious_injury": True}, set(), id="notes: mums hurt back is her injury"),
    pytest.param("Wife is 80 and his carer, she has hurt her back", {}, {}, {"age", "serious_injury"},
                 id="notes: his wife and carers age and back are hers, not his"),
]


@pytest.mark.hazard("HAZ-002")
@pytest.mark.parametrize("text,known,expected,absent", WHOSE)
def test_facts_are_about_the_person_not_the_caller(extractor, text, known, expected, absent):
    facts = facts_of(extractor, text, **known)
    assert {fact: facts.get(fact) for fact in expected} == expected
    assert not absent & set(facts)


@pytest.mark.hazard("HAZ-002")
def test_caller_set_aside_facts_say_why(extractor):
    result = extractor.extract("I look after my husband, I'm 79 and I hurt my back lifting him")
    assert any("about_caller" in item["reasons"] for item in result["ignored"])


# --- list facts heard in passing are partial (PROTOCOL 1.1 §2) -----------------------------------

@pytest.mark.hazard("HAZ-003")
def test_condition_heard_in_a_story_is_named_partial(extractor):
    result = extractor.extract("She's got Parkinson's and she can't wash herself anymore")
    assert result["partial"] == ["long_term_conditions", "outcomes_unable"]


def test_story_without_list_facts_has_no_partial_lists(extractor):
    assert extractor.extract("She fell in the kitchen")["partial"] == []


@pytest.mark.parametrize("text, locality", [("my dad fell at home in Wittersham", "ashford"),
                                            ("she lives in Hawkhurst and can't manage", "west_kent"),
                                            ("he's in Herne Bay", "canterbury_coastal")])
def test_a_kent_village_not_in_config_is_found_through_the_gazetteer(extractor, text, locality):
    assert facts_of(extractor, text)["locality"] == locality


@pytest.mark.parametrize("text", ["she lives in Minster", "he used to live in Chatham", "my mum went to the river"])
def test_an_ambiguous_or_outside_place_heard_in_passing_sets_no_locality(extractor, text):
    assert "locality" not in facts_of(extractor, text)
