"""The dialogue core through the chat's guided form (the same turn the Rasa actions reach over
HTTP) and the console: changing an answer, a denial of what a question presumed, a list heard
in passing. Real engine, flows, extractor and store (SQLite); Rasa unreachable."""
from __future__ import annotations

import pytest

from test_chat_page import chat, chat_app, stored_facts  # noqa: F401 - fixtures

from web.store import contacts


def say(client, headers, text: str) -> dict:
    reply = client.post("/chat/api/message", json={"text": text}, headers=headers)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def tick(client, headers, contact_id: str, question_id: str, value) -> dict:  # noqa: ANN001
    reply = client.post("/chat/api/form", headers=headers, json={
        "contact_id": contact_id, "answer": {"question_id": question_id, "value": value}})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


@pytest.mark.hazard("HAZ-020")
def test_someone_in_danger_ticked_by_mistake_is_changed_in_the_same_contact_and_decided_again(chat, chat_app):
    client, headers = chat
    first = say(client, headers, "my mum is 80 and lonely since dad died")
    contact_id = first["contact_id"]
    assert first["question"]["id"] == "emergency_screen"
    wrong = tick(client, headers, contact_id, "emergency_screen", ["immediate_danger"])
    assert wrong["outcome"]["route"] == "emergency"
    again = say(client, headers, "sorry, I pressed the wrong button")
    assert again["contact_id"] == contact_id and again["outcome"] is None
    assert again["question"]["id"] == "emergency_screen" and len(again["question"]["ask"]) == 10
    assert again["question"]["heard"]["immediate_danger"] is True        # the answer given, to change
    fixed = tick(client, headers, contact_id, "emergency_screen", ["none"])
    assert fixed["contact_id"] == contact_id
    assert fixed["outcome"] is None or fixed["outcome"]["route"] != "emergency"
    assert stored_facts(chat_app, contact_id)["immediate_danger"] is False


def test_an_ordinary_answer_after_a_999_outcome_does_not_undo_it(chat, chat_app):
    client, headers = chat
    first = say(client, headers, "my mum is 80 and lonely since dad died")
    contact_id = first["contact_id"]
    tick(client, headers, contact_id, "emergency_screen", ["immediate_danger"])
    later = say(client, headers, "thank you")
    assert later["contact_id"] == contact_id
    assert stored_facts(chat_app, contact_id)["immediate_danger"] is True


@pytest.mark.hazard("HAZ-020")
def test_change_my_last_answer_asks_the_last_question_again_and_the_new_answer_replaces_it(chat, chat_app):
    client, headers = chat
    first = say(client, headers, "my dad is lonely, he lives in Dartford")
    contact_id = first["contact_id"]
    data = tick(client, headers, contact_id, "emergency_screen", ["none"])
    asked = data["question"]
    answered = tick(client, headers, contact_id, asked["id"], _first_answer(asked))
    assert answered["contact_id"] == contact_id
    again = say(client, headers, "change my last answer")
    assert again["question"]["id"] == asked["id"] and again["contact_id"] == contact_id
    assert set(again["question"]["heard"]) == set(asked["ask"])


def _first_answer(question: dict):  # noqa: ANN202
    if question["kind"] == "number":
        return 84
    if question["kind"] == "text":
        return "Dartford"
    if question["kind"] in ("checklist", "multi"):
        return ["none"]
    return question["options"][0]["value"]


def test_she_hasnt_fallen_answers_the_fall_question_and_no_falls_referral_follows(chat, chat_app):
    client, headers = chat
    first = say(client, headers, "my mum is 84 and lives in Ramsgate, I'm worried she might have had a fall")
    contact_id = first["contact_id"]
    tick(client, headers, contact_id, "emergency_screen", ["none"])
    spoa = chat_app.extensions["spoa"]
    flows = spoa.triage.flows
    # Put the fall-injury question to her as if a fall were presumed, and answer with a denial.
    data = tick(client, headers, contact_id, "fall_injury", "she hasn't fallen")
    facts = spoa.store.run(lambda db: contacts.fact_state(db, contact_id)[0])
    assert facts["fallen"] is False and facts["fall_injury"] is None
    question = data["question"]
    assert question is None or flows.by_id[question["id"]].presumes != "fallen"
    decision = spoa.store.run(lambda db: contacts.latest_decision(db, contact_id).decision)
    assert not any(str(rule.get("rule", "")).startswith("UCR-1") for rule in decision["fired"])


def test_she_fell_but_isnt_hurt_is_an_answer_about_the_injury_not_a_denial(chat, chat_app):
    client, headers = chat
    first = say(client, headers, "my mum is 84 and lives in Ramsgate")
    contact_id = first["contact_id"]
    tick(client, headers, contact_id, "emergency_screen", ["none"])
    tick(client, headers, contact_id, "fall_injury", "she fell but she isn't hurt")
    facts = stored_facts(chat_app, contact_id)
    assert facts["fall_injury"] == "none" and facts.get("fallen") is not False


@pytest.mark.hazard("HAZ-002")
def test_relatives_own_age_said_later_in_the_chat_is_not_the_persons(chat, chat_app):
    client, headers = chat
    first = say(client, headers, "my mum fell this morning")
    contact_id = first["contact_id"]
    say(client, headers, "I'm 79 myself")
    assert "age" not in stored_facts(chat_app, contact_id)


def test_residents_own_age_said_later_in_the_chat_is_theirs(chat, chat_app):
    client, headers = chat
    first = say(client, headers, "I fell this morning")
    contact_id = first["contact_id"]
    say(client, headers, "I'm 79")
    assert stored_facts(chat_app, contact_id)["age"] == 79


def test_after_a_fall_referral_the_persons_details_are_asked_and_a_bad_postcode_is_asked_again(chat, chat_app):
    from test_chat_page import FALL_WITH_LONG_LIE, answer_for

    client, headers = chat
    data = say(client, headers, "My mum is 90 and she fell, she's on the floor and can't get up in Sittingbourne")
    contact_id = data["contact_id"]
    for _ in range(20):
        question = data["question"]
        if question["id"].startswith("details."):
            break
        data = tick(client, headers, contact_id, question["id"], answer_for(question, FALL_WITH_LONG_LIE))
    assert question["id"] == "details.name" and data["outcome"] is None
    data = tick(client, headers, contact_id, "details.name", "Ann Example")
    data = tick(client, headers, contact_id, "details.date_of_birth", "3 March 1936")
    data = tick(client, headers, contact_id, "details.address", "1 High Street, Sittingbourne")
    bad = client.post("/chat/api/form", headers=headers, json={
        "contact_id": contact_id, "answer": {"question_id": "details.postcode", "value": "ZZ99 9ZZZ"}})
    assert bad.status_code == 422
    data = tick(client, headers, contact_id, "details.postcode", "ME10 4AA")
    spoa = chat_app.extensions["spoa"]
    from web.store.models import PersonDetails
    kept = spoa.store.run(lambda db: dict(db.get(PersonDetails, contact_id).details))
    assert kept["name"] == "Ann Example" and kept["postcode"] == "ME10 4AA" and kept["date_of_birth"] == "1936-03-03"
    facts = stored_facts(chat_app, contact_id)
    assert "name" not in facts                                     # details are not triage facts


def test_asking_for_a_person_in_the_guided_form_stops_the_questions_and_puts_a_call_back_on_the_worklist(chat,
                                                                                                         chat_app):
    client, headers = chat
    first = say(client, headers, "my dad is 84 and lonely, he lives in Dartford")
    contact_id = first["contact_id"]
    data = say(client, headers, "I want to talk to someone")
    assert data["contact_id"] == contact_id
    assert data["question"]["id"].startswith("details.")           # how to reach them, then a person calls
    from web.store.models import WorklistItem
    spoa = chat_app.extensions["spoa"]
    kinds = spoa.store.run(lambda db: [i.kind for i in db.query(WorklistItem).filter_by(contact_id=contact_id)])
    assert kinds.count("callback") == 1


def test_she_needs_someone_to_talk_to_is_an_answer_not_a_hand_over(chat, chat_app):
    client, headers = chat
    first = say(client, headers, "my dad is 84 and lives in Dartford")
    data = say(client, headers, "he needs someone to talk to")
    assert not data["question"]["id"].startswith("details.")
