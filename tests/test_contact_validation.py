"""Bad input gets a clear error and loses nothing (issue 2, item 4): a contact is validated
before it reaches the engine, and the message says which field, what was given and what is
allowed."""
from __future__ import annotations

import copy
import json

import pytest

from engine_helpers import (NOW, SCREEN_NO,
                            assert_valid, get_triage)
from spoa.contact import ContactError, parse_contact, parse_facts


def refused(data) -> ContactError:
    with pytest.raises(ContactError) as caught:
        parse_contact(data)
    return caught.value


def test_malformed_json_says_where():
    error = refused('{"facts": {"fallen": true,}}')
    assert str(error).startswith("malformed JSON") and "line 1 column" in str(error)


def test_bytes_that_are_not_utf8_are_refused():
    assert "UTF-8" in str(refused(b'{"facts": {"information_topic": "\xff"}}'))


def test_a_list_is_not_a_contact():
    assert "must be a JSON object; got list" in str(refused("[]"))


def test_a_contact_without_facts_says_facts_are_needed():
    error = refused({"channel": "phone"})
    assert error.field == "facts" and "needs 'facts'" in str(error)


def test_facts_that_are_not_an_object_are_refused():
    assert "facts must be an object" in str(refused({"facts": ["fallen"]}))


def test_unknown_fact_is_named_with_the_nearest_valid_name():
    error = refused({"facts": {"fallen_over": True}})
    assert error.field == "facts.fallen_over"
    assert "unknown fact 'fallen_over'" in str(error) and "did you mean 'fallen'" in str(error)
    assert error.errors[0]["allowed"] == "fallen"


def test_unknown_fact_with_no_near_name_is_still_named():
    error = refused({"facts": {"favourite_colour": "blue"}})
    assert "unknown fact 'favourite_colour'" in str(error) and "did you mean" not in str(error)


def test_text_where_a_number_is_expected_says_field_given_and_allowed():
    error = refused({"facts": {"age": "seventy"}})
    assert error.field == "facts.age"
    assert '"seventy"' in str(error) and "a whole number from 0 to 130" in str(error)
    assert error.errors[0]["given"] == "seventy"


def test_true_where_a_number_is_expected_is_refused():
    error = refused({"facts": {"admissions_12m": True}})
    assert error.field == "facts.admissions_12m" and "got true" in str(error)


@pytest.mark.parametrize("value", [0, 10])
def test_frailty_score_outside_1_to_9_is_refused(value):
    error = refused({"facts": {"frailty_score": value}})
    assert "from 1 to 9" in str(error)


def test_text_where_yes_no_is_expected_is_refused():
    error = refused({"facts": {"fallen": "yes"}})
    assert error.field == "facts.fallen" and "true, false or null" in str(error)


def test_bad_choice_lists_the_allowed_values():
    error = refused({"facts": {"fall_injury": "catastrophic"}})
    assert error.field == "facts.fall_injury"
    assert "one of none, minor, serious" in str(error) and '"catastrophic"' in str(error)
    assert error.errors[0]["allowed"] == ["none", "minor", "serious"]


def test_bad_item_in_a_list_fact_is_refused():
    error = refused({"facts": {"abuse_types": ["financial", "gossip"]}})
    assert error.field == "facts.abuse_types" and "gossip" in str(error) and "financial" in str(error)


def test_repeated_item_in_a_list_fact_is_refused():
    assert refused({"facts": {"practical_help": ["meals", "meals"]}}).field == "facts.practical_help"


def test_bad_channel_lists_the_channels():
    error = refused({"channel": "fax", "facts": {}})
    assert error.field == "channel" and "web_chat, phone, professional_referral" in str(error) and '"fax"' in str(error)


@pytest.mark.parametrize("received_at, words", [
    ("yesterday", "not an ISO 8601 date-time"),
    ("2026-11-26T21:00:00", "needs a time zone"),
    (1764190800, "must be an ISO 8601 date-time string"),
])
def test_bad_received_at_is_refused(received_at, words):
    error = refused({"received_at": received_at, "facts": {}})
    assert error.field == "received_at" and words in str(error)


def test_every_problem_is_reported_at_once():
    error = refused({"channel": "fax", "facts": {"fallen_over": True, "age": "old", "chest_pain": "no"}})
    assert {e["field"] for e in error.errors} == {"channel", "facts.fallen_over", "facts.age", "facts.chest_pain"}


def test_contact_id_must_be_text():
    assert refused({"contact_id": 7, "facts": {}}).field == "contact_id"


def test_valid_contact_passes_unchanged():
    data = {"contact_id": "c-1", "channel": "phone", "received_at": "2026-11-26T21:00:00Z", "note": "kept",
            "facts": {**SCREEN_NO, "age": 82, "locality": "thanet", "abuse_types": ["physical", "financial"],
                      "fall_injury": "minor", "information_topic": "pendant alarm"}}
    original = copy.deepcopy(data)
    assert parse_contact(data) == data
    assert parse_contact(json.dumps(data)) == data
    assert parse_contact(json.dumps(data).encode()) == data
    assert data == original, "the caller's contact is not changed"


def test_facts_answered_dont_know_are_kept_as_null_and_times_normalised_to_utc():
    # Protocol 1.1: null is "asked, not known" (not asked again); absent is "not asked yet".
    contact = parse_contact({"received_at": "2026-07-01T21:00:00+01:00", "facts": {"fallen": None, "age": 80}})
    assert contact == {"received_at": "2026-07-01T20:00:00Z", "facts": {"fallen": None, "age": 80}}


def test_a_list_heard_in_passing_is_kept_partial_in_asking_order():
    contact = parse_contact({"partial": ["practical_help", "long_term_conditions"],
                             "facts": {"long_term_conditions": ["other"], "practical_help": ["shopping"]}})
    assert contact["partial"] == ["long_term_conditions", "practical_help"]


@pytest.mark.parametrize("partial", [["age"], "long_term_conditions", ["abuse_types", "abuse_types"]])
def test_partial_naming_anything_but_distinct_list_facts_is_refused_clearly(partial):
    with pytest.raises(ContactError) as error:
        parse_contact({"partial": partial, "facts": {}})
    assert error.value.field == "partial" and "list facts" in str(error.value)


def test_parse_facts_checks_a_partial_answer_the_same_way():
    assert parse_facts({"fallen": True, "chest_pain": None}) == {"fallen": True, "chest_pain": None}
    with pytest.raises(ContactError, match="did you mean 'chest_pain'"):
        parse_facts({"chest_pains": True})


def test_a_place_name_becomes_its_locality():
    assert get_triage().parse_contact({"facts": {"locality": "Herne Bay"}})["facts"]["locality"] == "canterbury_coastal"


@pytest.mark.parametrize("fact, value", [("age", 70.0), ("frailty_score", 6.0), ("admissions_12m", 2.0)])
def test_a_whole_number_written_as_a_float_is_read_as_the_number_never_a_crash(fact, value):
    service = get_triage()
    contact = service.parse_contact({"facts": {fact: value}})
    assert contact["facts"][fact] == int(value) and type(contact["facts"][fact]) is int
    assert_valid(service.decide(contact, NOW))


def test_a_fractional_number_is_still_refused():
    assert refused({"facts": {"frailty_score": 5.5}}).field == "facts.frailty_score"


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_locality_is_unknown_not_out_of_area(blank):
    service = get_triage()
    contact = service.parse_contact({"facts": {**SCREEN_NO, "fallen": True, "locality": blank}})
    assert contact["facts"]["locality"] is None, "blank is asked and not known, never a place"
    decision = service.decide(contact, NOW)
    assert decision["route"] == "rapid_response" and "locality" in decision["missing"]
