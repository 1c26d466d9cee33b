"""The answer to "What town or village is the person in now?" in a web chat turn (issue 8).

Real app, real engine, real gazetteer, SQLite and PostgreSQL. A Kent village not named in
config.yml is its locality; an answer the gazetteer can't resolve is kept as unknown (null),
asked once more with the localities as choices, and never makes the contact out of area
(SCOPE-2 1.1, FAILSAFE-3); the person's own words are kept beside the locality for staff.
"""
from __future__ import annotations

import pytest

from conftest import PASSWORD, create_user, login
from test_chat_page import chat_triage
from test_one_contact import any_app  # noqa: F401  (the app with its questions, on each database)
from spoa.gazetteer import SOMEWHERE_ELSE
from web.store import contacts

FALL = "My mum is 90, she fell and has been on the floor since 5am and can't get up. She isn't hurt and didn't hit her head."
SCREEN = ["unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs", "severe_bleeding",
          "seizure_ongoing", "severe_allergic_reaction", "serious_injury", "overdose_or_self_harm", "immediate_danger"]
# A place answer of 300 characters: the words around the village are kept too.
LONG_ANSWER = ("She's at her own bungalow in Wittersham, which is the little village up on the Isle of Oxney past "
               "Tenterden, down the lane opposite the church and the old post office, the one with the green door "
               "and the ramp my brother put in last spring, it's about the fourth house along on the left after "
               "the bus stop, you can't miss it")[:300].strip() + "."


class Chat:
    def __init__(self, app, headers):
        self.client, self.headers, self.contact_id, self.asked = app.test_client(), headers, None, []

    def turn(self, text=None, answer=None, start=False):
        body = {"contact_id": self.contact_id, "text": text, "answer": answer, "asked": self.asked, "start": start}
        response = self.client.post("/api/dialogue/turn", headers=self.headers, json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        reply = response.get_json()
        self.contact_id = reply["contact_id"] or self.contact_id
        return reply

    def answer(self, question, value):
        self.asked += [fact for fact in question["ask"] if fact not in self.asked]
        return self.turn(text=value if isinstance(value, str) else None,
                         answer={"question_id": question["id"], "value": value})

    def until_place_question(self, reply, knows):
        """Answers every question before the place question from `knows`."""
        for _ in range(30):
            question = reply["question"]
            assert question is not None, reply
            if question.get("place"):
                return question
            if question["kind"] == "checklist":
                value = [f for f in question["ask"] if knows.get(f) is True] or "none"
            else:
                fact = question["ask"][0]
                value = knows.get(fact, "unknown")
                if isinstance(value, bool):
                    value = "yes" if value else "no"
            reply = self.answer(question, value)
        raise AssertionError("the place question was never asked")


KNOWS = {**{fact: False for fact in SCREEN}, "age": 90, "fallen": True, "on_floor_cannot_get_up": True,
         "fall_injury": "none", "head_injury": False, "lost_consciousness": False}


def _stored(app, contact_id):
    with app.extensions["spoa"].store.session() as db:
        contact = contacts.get_contact(db, contact_id)
        return contact.locality, contact.locality_words, contacts.current_facts(db, contact.id)


@pytest.mark.hazard("HAZ-004")
@pytest.mark.parametrize("said", ["Wittersham", LONG_ANSWER])
def test_a_fall_with_a_long_lie_in_a_kent_village_not_in_config_goes_to_rapid_response(any_app, service_headers, said):
    chat = Chat(any_app, service_headers)
    place = chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS)
    reply = chat.answer(place, said)
    assert reply["understood"] is True
    assert reply["decision"]["route"] == "rapid_response" and reply["decision"]["pathway"] == "ucr"
    locality, words, facts = _stored(any_app, chat.contact_id)
    assert (locality, facts["locality"]) == ("ashford", "ashford")
    assert words == said and len(LONG_ANSWER) == 300    # all 300 characters, on both databases


@pytest.mark.hazard("HAZ-004")
def test_a_place_that_cant_be_resolved_is_unknown_and_asked_once_more_with_the_localities(any_app, service_headers):
    chat = Chat(any_app, service_headers)
    place = chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS)
    reply = chat.answer(place, "at home with me")
    assert reply["understood"] is False
    assert reply["decision"]["route"] == "rapid_response"           # served, never out of area
    again = reply["question"]
    assert again["id"] == place["id"]
    values = [option["value"] for option in again["options"]]
    assert values[:7] == list(chat_triage().config.localities) and values[-2:] == [SOMEWHERE_ELSE, "unknown"]
    assert "West Kent" in [option["label"] for option in again["options"]]
    locality, words, _ = _stored(any_app, chat.contact_id)
    assert (locality, words) == (None, "at home with me")
    reply = chat.answer(again, "unknown")                              # "I don't know": still served
    assert reply["decision"]["route"] == "rapid_response"
    assert "locality" not in {fact for q in [reply["question"] or {}] for fact in q.get("ask", [])}


@pytest.mark.hazard("HAZ-008")
def test_an_ambiguous_place_is_asked_again_with_its_candidates_first(any_app, service_headers):
    chat = Chat(any_app, service_headers)
    place = chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS)
    reply = chat.answer(place, "Minster")
    assert reply["understood"] is False and reply["decision"]["route"] == "rapid_response"
    options = reply["question"]["options"]
    assert [o["value"] for o in options[:2]] == ["thanet", "swale"]
    assert "more than one place called Minster" in reply["question"]["text"]
    reply = chat.answer(reply["question"], "swale")                   # the button
    assert _stored(any_app, chat.contact_id)[0] == "swale"


@pytest.mark.hazard("HAZ-004")
def test_i_would_rather_not_say_is_not_asked_again_and_the_person_is_served(any_app, service_headers):
    chat = Chat(any_app, service_headers)
    place = chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS)
    reply = chat.answer(place, "I'd rather not say")
    assert reply["understood"] is True
    assert reply["decision"]["route"] == "rapid_response"
    assert (reply["question"] or {}).get("id") != place["id"]


def test_a_place_recognised_outside_kent_is_out_of_area_with_urgent_advice_left_to_the_rules(any_app, service_headers):
    chat = Chat(any_app, service_headers)
    place = chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS)
    reply = chat.answer(place, "Chatham")
    assert reply["decision"]["route"] == "out_of_scope" and reply["decision"]["pathway"] == "other_area"
    assert _stored(any_app, chat.contact_id)[:2] == ("Chatham", "Chatham")


def test_the_outcome_names_the_councils_of_a_person_in_another_area(any_app, service_headers):
    chat = Chat(any_app, service_headers)
    place = chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS)
    reply = chat.answer(place, "Crowborough")
    assert reply["decision"]["route"] == "out_of_scope"
    assert any("East Sussex County Council" in line for line in reply["summary"]), reply["summary"]


@pytest.mark.hazard("HAZ-004")
def test_signposted_contacts_are_listed_for_supervisors_with_the_reason_and_the_place_as_given(any_app, service_headers):
    chat = Chat(any_app, service_headers)
    place = chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS)
    chat.answer(place, "just outside Chatham, near the docks")
    served = Chat(any_app, service_headers)
    served.answer(served.until_place_question(served.turn(text=FALL, start=True), KNOWS), "at home")
    client = any_app.test_client()
    login(client, create_user(any_app, "supervisor", "sup1", PASSWORD))
    html = client.get("/audit/signposted").get_data(as_text=True)
    assert chat.contact_id in html and served.contact_id not in html
    assert "just outside Chatham, near the docks" in html and "Medway Council" in html and "Another area" in html
    page = client.get(f"/audit/contacts/{served.contact_id}").get_data(as_text=True)
    assert "Place as given" in page and "at home" in page        # the words beside the unknown locality


def test_a_place_that_still_cant_be_found_the_second_time_is_not_asked_a_third_time(any_app, service_headers):
    chat = Chat(any_app, service_headers)
    place = chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS)
    again = chat.answer(place, "at her bungalow")["question"]
    assert again["id"] == place["id"]
    reply = chat.answer(again, "at her bungalow")
    assert (reply["question"] or {}).get("id") != place["id"]
    assert reply["decision"]["route"] == "rapid_response" and _stored(any_app, chat.contact_id)[0] is None


@pytest.mark.parametrize("given, locality, scope", [
    ("Wittersham", "ashford", "rapid_response"), ("just outside Hythe, Kent", "south_kent_coast", "rapid_response"),
    ("TN30 6AB", "ashford", "rapid_response"), ("at home", None, "rapid_response"),
    ("Glasgow", None, "rapid_response"),                 # not recognised: unknown, served (FAILSAFE-3)
    ("Chatham", "Chatham", "out_of_scope"),
])
def test_the_api_resolves_a_contacts_place_through_the_gazetteer(any_app, service_headers, given, locality, scope):
    fall = {**{fact: False for fact in SCREEN}, "age": 90, "fallen": True, "on_floor_cannot_get_up": True,
            "fall_injury": "none", "head_injury": False, "locality": given}
    response = any_app.test_client().post("/api/contacts", json={"channel": "professional_referral", "facts": fall},
                                          headers=service_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["decision"]["route"] == scope
    stored_locality, words, _ = _stored(any_app, body["id"])
    assert (stored_locality, words) == (locality, given)


def test_a_misspelt_place_outside_is_asked_about_and_the_button_confirms_it(any_app, service_headers):
    chat = Chat(any_app, service_headers)
    place = chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS)
    reply = chat.answer(place, "Chatam")
    assert reply["understood"] is False and reply["decision"]["route"] == "rapid_response"
    assert reply["question"]["text"].startswith("Did you mean Chatham?")
    assert reply["question"]["options"][0] == {"value": "Chatham", "label": "Chatham (Medway)", "key": "1"}
    reply = chat.answer(reply["question"], "Chatham")
    assert reply["decision"]["route"] == "out_of_scope"


def test_a_wrong_nhs_number_in_the_chat_is_named_and_a_right_one_is_kept(any_app, service_headers):
    # The Rasa chat says what is wrong with a detail (not just "didn't catch that"), as the form does.
    chat = Chat(any_app, service_headers)
    reply = chat.answer(chat.until_place_question(chat.turn(text=FALL, start=True), KNOWS), "Wittersham")
    for _ in range(30):
        question = reply["question"]
        if question["id"] == "details.nhs_number":
            break
        value = "I don't know" if question["id"].startswith("details.") else \
            ([f for f in question["ask"] if KNOWS.get(f) is True] or "none") if question["kind"] == "checklist" else "no"
        reply = chat.answer(question, value)
    bad = chat.answer(question, "943 476 5918")
    assert bad["understood"] is False and "check digit" in (bad.get("problem") or ""), bad
    good = chat.answer(question, "943 476 5919")
    assert good["understood"] is True and not good.get("problem")
