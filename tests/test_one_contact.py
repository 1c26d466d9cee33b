"""One contact per conversation, and creates that a retry can't repeat (issue 9, item 2).

A web chat's conversation id is bound to at most one contact by a unique index, so the Rasa
path, the page's fallback form and two racing turns all continue one contact. A create sent
again with the same Idempotency-Key (a dropped connection, a double click) answers with the
first contact. Real app, real engine, SQLite and PostgreSQL (fixtures in conftest.py).
"""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from conftest import make_app, screen_clear
from test_chat_page import HOLD, FakeRasa, chat_settings, chat_triage, csrf_headers
from web.store import contacts
from web.store.models import ConsoleCall, Contact, WorklistItem

FALL_WITH_LONG_LIE = screen_clear(age=90, fallen=True, on_floor_cannot_get_up=True, fall_injury="none",
                                  head_injury=False, lost_consciousness=False, locality="Sittingbourne")


@pytest.fixture
def any_app(database, tmp_path, clock):
    """The app with its questions (flows/) and extractor, on each backend in turn."""
    url, schema = database
    app = make_app(chat_settings(SPOA_CLOCK=clock, DATABASE_URL=url, DATABASE_SCHEMA=schema), chat_triage(), tmp_path)
    yield app
    app.extensions["spoa"].store.dispose()


def count(app, model) -> int:
    store = app.extensions["spoa"].store
    with store.session() as db:
        return db.scalar(select(func.count()).select_from(model))


def turn(client, headers, conversation_id, text="my mum has fallen and can't get up", contact_id=None):
    response = client.post("/api/dialogue/turn", headers=headers,
                           json={"contact_id": contact_id, "conversation_id": conversation_id, "text": text,
                                 "start": True})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def in_parallel(work, times: int) -> list:
    """Run work() from `times` threads released together; their results (or exceptions)."""
    start, results = threading.Barrier(times), [None] * times

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = work()
        except Exception as error:  # noqa: BLE001 - reported by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


# -- the database refuses a second contact for one conversation --------------------------------

@pytest.mark.hazard("HAZ-006")
def test_a_second_contact_for_the_same_conversation_is_refused_by_the_database(store, triage, clock):
    def create(db):
        return contacts.create_contact(db, triage, {"channel": "web_chat", "facts": {}}, now=clock(),
                                       source="chat", conversation_id="web-same").contact.id

    store.run(create)
    with pytest.raises(IntegrityError):
        store.run(create)


def test_two_conversations_get_a_contact_each(store, triage, clock):
    def create(conversation_id):
        return lambda db: contacts.create_contact(db, triage, {"channel": "web_chat", "facts": {}}, now=clock(),
                                                  source="chat", conversation_id=conversation_id).contact.id

    assert store.run(create("web-one")) != store.run(create("web-two"))
    with store.session() as db:
        assert contacts.contact_for_conversation(db, "web-one") is not None


# -- the dialogue turn continues the conversation's contact -------------------------------------

def test_a_turn_without_a_contact_reference_continues_the_conversations_contact(any_app, service_headers):
    client = any_app.test_client()
    first = turn(client, service_headers, "web-conv-a")
    again = turn(client, service_headers, "web-conv-a", text="she is 90")
    assert again["contact_id"] == first["contact_id"] and count(any_app, Contact) == 1


def test_a_turn_in_another_conversation_starts_another_contact(any_app, service_headers):
    client = any_app.test_client()
    assert turn(client, service_headers, "web-conv-a")["contact_id"] != turn(client, service_headers,
                                                                             "web-conv-b")["contact_id"]
    assert count(any_app, Contact) == 2


@pytest.mark.hazard("HAZ-006")
def test_racing_first_turns_of_one_conversation_make_one_contact(any_app, service_headers):
    results = in_parallel(lambda: turn(any_app.test_client(), service_headers, "web-racing")["contact_id"], 6)
    assert all(isinstance(result, str) for result in results), results
    assert len(set(results)) == 1 and count(any_app, Contact) == 1


def test_conversation_id_longer_than_the_column_is_a_422(app, client, service_headers):
    response = client.post("/api/dialogue/turn", headers=service_headers,
                           json={"conversation_id": "x" * 65, "text": "my mum fell", "start": True})
    assert response.status_code == 422 and response.get_json()["field"] == "conversation_id"
    assert count(app, Contact) == 0


# -- the chat page: the form continues what Rasa's actions stored --------------------------------

@pytest.mark.hazard("HAZ-006")
def test_form_after_rasa_timed_out_continues_the_contact_the_actions_stored(tmp_path, clock, service_headers):
    """Rasa's actions stored the contact, then Rasa answered too late: the page's fallback
    form must carry on with that contact, not store a second one (what issue 9 saw)."""
    rasa = FakeRasa()
    app = make_app(chat_settings(SPOA_CLOCK=clock, RASA_URL=rasa.url, RASA_READ_TIMEOUT=0.5), chat_triage(), tmp_path)
    try:
        stored = {}

        def actions(message):   # what the action server does with the message: a turn in the app
            stored.update(turn(app.test_client(), service_headers, message["sender"], text=message["message"]))
        rasa.on_message = actions
        rasa.replies.append((200, HOLD))
        client = app.test_client()
        data = client.post("/chat/api/message", json={"text": "my dad has fallen and can't get up"},
                           headers=csrf_headers(client)).get_json()
        rasa.release.set()
        assert data["fallback"] is True and data["contact_id"] == stored["contact_id"]
        assert count(app, Contact) == 1
    finally:
        rasa.close()
        app.extensions["spoa"].store.dispose()


# -- Idempotency-Key on POST /api/contacts -------------------------------------------------------

def post_contact(client, headers, key=None, facts=FALL_WITH_LONG_LIE):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/contacts", json={"channel": "phone", "facts": facts}, headers={**headers, **extra})


@pytest.mark.hazard("HAZ-006")
def test_a_retried_create_with_the_same_key_answers_with_the_first_contact(any_app, service_headers):
    client, key = any_app.test_client(), str(uuid.uuid4())
    first, retry = post_contact(client, service_headers, key), post_contact(client, service_headers, key)
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json() and retry.headers["Idempotent-Replayed"] == "true"
    assert count(any_app, Contact) == 1 and count(any_app, WorklistItem) == 1   # one referral too


def test_two_creates_without_a_key_are_two_contacts(any_app, service_headers):
    client = any_app.test_client()
    assert post_contact(client, service_headers).get_json()["id"] != post_contact(client, service_headers).get_json()["id"]
    assert count(any_app, Contact) == 2


def test_same_key_with_a_different_body_is_a_422_and_stores_nothing_more(any_app, service_headers):
    client, key = any_app.test_client(), str(uuid.uuid4())
    post_contact(client, service_headers, key)
    response = post_contact(client, service_headers, key, facts=screen_clear(age=70))
    assert response.status_code == 422 and response.get_json()["error"] == "idempotency_key_reused"
    assert count(any_app, Contact) == 1


def test_racing_creates_with_one_key_store_one_contact(any_app, service_headers):
    key = str(uuid.uuid4())
    results = in_parallel(lambda: post_contact(any_app.test_client(), service_headers, key), 6)
    assert all(result.status_code == 201 for result in results), results
    assert len({result.get_json()["id"] for result in results}) == 1 and count(any_app, Contact) == 1


def test_the_same_key_from_a_member_of_staff_is_not_the_services(app, client_as, staff_json, service_headers):
    key = str(uuid.uuid4())
    staff = client_as("call_handler")
    service = app.test_client()
    assert post_contact(staff, staff_json(staff), key).get_json()["id"] != \
        post_contact(service, service_headers, key).get_json()["id"]


@pytest.mark.parametrize("key", ["", " ", "k" * 201, "clé"])
def test_unusable_idempotency_key_is_a_422(app, client, service_headers, key):
    response = client.post("/api/contacts", json={"facts": {}},
                           headers={**service_headers, "Idempotency-Key": key.encode("utf-8").decode("latin-1")})
    assert response.status_code == 422 and response.get_json()["field"] == "Idempotency-Key"
    assert count(app, Contact) == 0


# -- Idempotency-Key on the console's "start a call" --------------------------------------------

@pytest.mark.hazard("HAZ-006")
def test_a_double_clicked_start_call_is_one_call(app, client_as, staff_json):
    handler = client_as("call_handler")
    headers = {**staff_json(handler), "Idempotency-Key": str(uuid.uuid4())}
    body = {"channel": "phone", "caller": "family_friend"}
    first = handler.post("/console/api/contacts", json=body, headers=headers)
    again = handler.post("/console/api/contacts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["contact"]["id"] == first.get_json()["contact"]["id"]
    assert count(app, Contact) == 1 and count(app, ConsoleCall) == 1


def test_two_start_calls_with_different_keys_are_two_calls(app, client_as, staff_json):
    handler = client_as("call_handler")
    for _ in range(2):
        response = handler.post("/console/api/contacts", json={"channel": "phone"},
                                headers={**staff_json(handler), "Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code == 201
    assert count(app, ConsoleCall) == 2
