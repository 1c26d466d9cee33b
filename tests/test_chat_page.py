"""The resident chat page (/chat) with Flask's test client: the page, CSRF on its JSON calls,
the relay to Rasa, and the guided-form fallback that carries a triage to its decision.

Rasa itself is not started here (tests/test_browser_chat.py and tests/test_chat_rasa.py drive
the trained model): "Rasa unreachable" is RASA_URL pointing at a closed loopback port, and
Rasa's error and hand-off cases are a small HTTP server on loopback answering as Rasa's REST
channel does. The decisions come from the real engine, flows and store (SQLite).
"""
from __future__ import annotations

import json
import re
import socket
import threading
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import make_app
from spoa.bootstrap import build_triage
from spoa.vocabulary import EMERGENCY_SCREEN
from web.store import contacts

ROOT = Path(__file__).resolve().parent.parent
JSON = {"Accept": "application/json"}

# What the resident knows, as contract facts (the protocol's fall-with-a-long-lie example).
FALL_WITH_LONG_LIE = {"age": 90, "locality": "Sittingbourne", "caller": "family_friend", "fallen": True,
                      "on_floor_cannot_get_up": True, "fall_injury": "none", "head_injury": False,
                      "lost_consciousness": False}
FALL_WITH_HURT_HIP = {**FALL_WITH_LONG_LIE, "serious_injury": True, "fall_injury": "serious"}


@lru_cache(maxsize=1)
def chat_triage():
    """The decision service with the questions (flows/), built once per process."""
    return build_triage(flows_dir=ROOT / "flows")


@lru_cache(maxsize=1)
def chat_extractor():
    """The rule-based fact extractor, built once per process (building it takes seconds)."""
    from spoa.extraction import build_extractor

    return build_extractor(chat_triage().config)


def chat_settings(**settings) -> dict:
    return {"SPOA_EXTRACTOR": chat_extractor(), **settings}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}"


def csrf_headers(client) -> dict:
    html = client.get("/chat").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return {**JSON, "X-CSRFToken": token}


def answer_for(question: dict, knows: dict) -> Any:
    """A form answer from what the resident knows: ticked boxes, an option's value, a number or
    words. Like a real caller, a yes/no or checklist item they don't mention isn't happening."""
    kind, ask = question["kind"], question["ask"]
    values = [option["value"] for option in question["options"]]
    if kind == "checklist":
        return [fact for fact in ask if knows.get(fact) is True] or ["none"]
    value = knows.get(ask[0])
    if kind == "boolean":
        return "yes" if value else "no"
    if kind == "multi":
        return list(value) if value else ["none"]
    if value is None:
        return "I don't know" if kind in ("number", "text") else "unknown"
    if kind == "choice":
        return value if value in values else "unknown"
    return value


def run_form(client, headers: dict, opening: str, knows: dict, max_questions: int = 30) -> tuple[dict, list[dict]]:
    """Say `opening` with Rasa down, then answer the guided form to the outcome."""
    reply = client.post("/chat/api/message", json={"text": opening}, headers=headers)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    data, asked = reply.get_json(), []
    assert data["fallback"] is True
    for _ in range(max_questions):
        if data["outcome"] is not None:
            return data, asked
        question = data["question"]
        assert question is not None, data
        asked.append(question)
        reply = client.post("/chat/api/form", headers=headers, json={
            "contact_id": data["contact_id"],
            "answer": {"question_id": question["id"], "value": answer_for(question, knows)}})
        assert reply.status_code == 200, (question, reply.get_data(as_text=True))
        data = reply.get_json()
    raise AssertionError(f"no outcome after {max_questions} questions: {[q['id'] for q in asked]}")


@pytest.fixture
def chat_app(tmp_path, clock):
    """The app with Rasa unreachable."""
    app = make_app(chat_settings(SPOA_CLOCK=clock, RASA_URL=closed_port_url()), chat_triage(), tmp_path)
    yield app
    app.extensions["spoa"].store.dispose()


@pytest.fixture
def chat(chat_app):
    client = chat_app.test_client()
    return client, csrf_headers(client)


def stored_facts(app, contact_id: str) -> dict:
    return app.extensions["spoa"].store.run(lambda db: contacts.current_facts(db, contact_id))


# -- the page -------------------------------------------------------------------------------

def test_chat_page_is_public_with_a_live_log_a_labelled_box_and_no_inline_script(client):
    response = client.get("/chat")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'role="log"' in html and 'aria-live="polite"' in html
    assert '<label class="nhsuk-label" for="chat-input">' in html and 'id="chat-input"' in html
    assert "nhsuk-frontend.min.css" in html and "js/chat.js" in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html)), "inline script breaks the CSP"
    assert "style=" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_front_page_opens_the_chat(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/chat")


def test_chat_message_without_the_csrf_token_is_refused_as_json(chat):
    client, headers = chat
    response = client.post("/chat/api/message", json={"text": "my dad has fallen"}, headers=JSON)
    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf"
    response = client.post("/chat/api/message", json={"text": "my dad has fallen"}, headers={})
    assert response.status_code == 400 and response.is_json


# -- Rasa unreachable: the guided form --------------------------------------------------------

@pytest.mark.hazard("HAZ-007")
def test_rasa_unreachable_answers_fallback_with_the_facts_of_the_first_message_kept(chat, chat_app):
    client, headers = chat
    reply = client.post("/chat/api/message", headers=headers,
                        json={"text": "Mum's fallen, she's on the floor and can't get up but she isn't hurt"})
    assert reply.status_code == 200
    data = reply.get_json()
    assert data["fallback"] is True and data["outcome"] is None
    assert data["question"]["id"] == "emergency_screen"   # the emergency screen is asked first
    facts = stored_facts(chat_app, data["contact_id"])
    assert facts["fallen"] is True and facts["on_floor_cannot_get_up"] is True


def test_fall_with_long_lie_goes_to_rapid_response_through_the_fallback_form(chat, chat_app):
    client, headers = chat
    data, asked = run_form(client, headers, "My mum has fallen and she's still on the floor", FALL_WITH_LONG_LIE)
    outcome = data["outcome"]
    assert outcome["route"] == "rapid_response" and outcome["pathway"] == "ucr"
    assert outcome["by_when"] == "within 2 hours" and "urgent community response" in outcome["next_steps"]
    assert outcome["reference"] == data["contact_id"] and re.fullmatch(r"SPA-\w{4}-\w{4}", outcome["reference"])
    assert not outcome["emergency"]
    ids = [question["id"] for question in asked]
    assert ids[0] == "emergency_screen" and len(ids) == len(set(ids)), ids   # nothing asked twice
    facts = stored_facts(chat_app, data["contact_id"])
    assert facts["age"] == 90 and facts["locality"] == "swale"


def test_fall_with_a_hurt_hip_goes_to_999_not_rapid_response(chat):
    client, headers = chat
    data, asked = run_form(client, headers, "My mum has fallen and she's still on the floor", FALL_WITH_HURT_HIP)
    assert data["outcome"]["emergency"] is True and data["outcome"]["route"] == "emergency"
    assert [question["id"] for question in asked] == ["emergency_screen"]   # 999 at once, nothing more asked
    assert data["outcome"]["reference"] == data["contact_id"]


def test_chest_pain_ticked_in_the_fallback_form_gives_999_at_once(chat):
    client, headers = chat
    first = client.post("/chat/api/message", json={"text": "my husband isn't well"}, headers=headers).get_json()
    assert first["question"]["id"] == "emergency_screen"
    reply = client.post("/chat/api/form", headers=headers, json={
        "contact_id": first["contact_id"], "answer": {"question_id": "emergency_screen", "value": ["chest_pain"]}})
    data = reply.get_json()
    assert data["question"] is None
    assert data["outcome"]["emergency"] is True and data["outcome"]["headline"].startswith("Call 999 now")
    assert data["outcome"]["reference"] == first["contact_id"]


@pytest.mark.hazard("HAZ-001")
def test_red_flag_in_the_first_words_gives_999_without_questions(chat):
    client, headers = chat
    data = client.post("/chat/api/message", headers=headers,
                       json={"text": "my dad has collapsed and he's not breathing"}).get_json()
    assert data["fallback"] is True and data["question"] is None
    assert data["outcome"]["emergency"] is True


def test_no_chest_pain_in_the_first_words_is_not_an_emergency(chat):
    client, headers = chat
    data = client.post("/chat/api/message", headers=headers,
                       json={"text": "no chest pain but my legs are swollen"}).get_json()
    assert data["outcome"] is None and data["question"]["id"] == "emergency_screen"


# -- a relay that does reach Rasa (a loopback server answering as Rasa's REST channel) -------

HOLD = "hold"


class FakeRasa:
    """Answers POST /webhooks/rest/webhook with the next canned reply (a status and a body)."""

    def __init__(self):
        self.replies: list[tuple[int, Any]] = []
        self.received: list[dict] = []
        self.release = threading.Event()   # a HOLD reply waits for this (Rasa too slow to answer)
        self.on_message = None             # called with each message before replying (the actions' work)
        self.respond = None                # or: answers each message itself (message -> body)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                owner.received.append(json.loads(self.rfile.read(length)))
                if owner.on_message is not None:
                    owner.on_message(owner.received[-1])
                status, body = (200, owner.respond(owner.received[-1])) if owner.respond else owner.replies.pop(0)
                if body == HOLD:
                    owner.release.wait(30)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):  # quiet
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def rasa():
    server = FakeRasa()
    yield server
    server.close()


@pytest.fixture
def relayed(rasa, tmp_path, clock):
    app = make_app(chat_settings(SPOA_CLOCK=clock, RASA_URL=rasa.url), chat_triage(), tmp_path)
    client = app.test_client()
    yield app, client, csrf_headers(client)
    app.extensions["spoa"].store.dispose()


def screen_question(contact_id: str) -> list[dict]:
    """Rasa's reply asking the emergency screen: text with buttons, then the custom payload."""
    text = "Is any of this happening now?"
    options = [{"value": "chest_pain", "label": "Pain in the chest"}, {"value": "none", "label": "None of these"}]
    return [{"recipient_id": "x", "text": text,
             "buttons": [{"title": o["label"], "payload": o["value"]} for o in options]},
            {"recipient_id": "x", "custom": {"question_id": "emergency_screen", "ask": list(EMERGENCY_SCREEN),
                                             "kind": "checklist", "options": options, "text": text,
                                             "contact_id": contact_id}}]


def new_contact(app, clock) -> str:
    def work(db):
        made = contacts.create_contact(db, app.extensions["spoa"].triage, {"channel": "web_chat", "facts": {}},
                                       now=clock(), source="chat", actor="service")
        return made.contact.id
    return app.extensions["spoa"].store.run(work)


def test_rasa_question_is_relayed_and_a_form_answer_after_rasa_fails_goes_to_the_same_contact(relayed, rasa, clock):
    app, client, headers = relayed
    contact_id = new_contact(app, clock)
    rasa.replies.append((200, screen_question(contact_id)))
    data = client.post("/chat/api/message", json={"text": "my mum has fallen"}, headers=headers).get_json()
    assert data["fallback"] is False and data["contact_id"] == contact_id
    assert data["messages"] == [{"text": "Is any of this happening now?",
                                 "buttons": [{"title": "Pain in the chest", "payload": "chest_pain"},
                                             {"title": "None of these", "payload": "none"}]}]
    assert data["question"]["question_id"] == "emergency_screen"
    assert rasa.received[0]["message"] == "my mum has fallen" and rasa.received[0]["sender"].startswith("web-")

    rasa.replies.append((500, {"error": "model not ready"}))
    data = client.post("/chat/api/message", json={"payload": "none"}, headers=headers).get_json()
    assert rasa.received[1]["sender"] == rasa.received[0]["sender"]   # one conversation per session
    assert data["fallback"] is True and data["contact_id"] == contact_id
    assert data["question"]["id"] != "emergency_screen"
    facts = stored_facts(app, contact_id)
    assert all(facts[fact] is False for fact in EMERGENCY_SCREEN)   # the button pressed was not lost

    # Once on the form, the page stays on it: Rasa is not asked again.
    data = client.post("/chat/api/message", json={"text": "she is 90"}, headers=headers).get_json()
    assert data["fallback"] is True and len(rasa.received) == 2


def test_rasa_outcome_becomes_the_outcome_panel_without_repeating_its_lines(relayed, rasa, clock):
    app, client, headers = relayed
    contact_id = new_contact(app, clock)
    decision = {"route": "rapid_response", "pathway": "ucr", "response_target": "PT2H", "status": "complete",
                "safeguarding": {"level": "none"}, "advice": ["If things get worse, call NHS 111."]}
    lines = ["An urgent visit is needed.", f"Your reference number is {contact_id}."]
    rasa.replies.append((200, [{"recipient_id": "x", "text": line} for line in lines]
                         + [{"recipient_id": "x", "text": "Is there anything else?"},
                            {"recipient_id": "x", "custom": {"decision": decision, "contact_id": contact_id,
                                                             "summary": lines}}]))
    data = client.post("/chat/api/message", json={"text": "no"}, headers=headers).get_json()
    assert data["messages"] == [{"text": "Is there anything else?", "buttons": []}]
    outcome = data["outcome"]
    assert outcome["reference"] == contact_id and outcome["by_when"] == "within 2 hours"
    assert outcome["advice"] == ["If things get worse, call NHS 111."] and outcome["emergency"] is False


@pytest.mark.hazard("HAZ-007")
def test_rasa_too_slow_to_answer_sends_the_page_to_the_form(rasa, tmp_path, clock):
    app = make_app(chat_settings(SPOA_CLOCK=clock, RASA_URL=rasa.url, RASA_READ_TIMEOUT=0.3), chat_triage(), tmp_path)
    client = app.test_client()
    rasa.replies.append((200, HOLD))
    data = client.post("/chat/api/message", json={"text": "my dad has fallen and can't get up"},
                       headers=csrf_headers(client)).get_json()
    rasa.release.set()
    assert data["fallback"] is True and data["question"]["id"] == "emergency_screen"
    assert stored_facts(app, data["contact_id"])["on_floor_cannot_get_up"] is True
    app.extensions["spoa"].store.dispose()


def test_actions_that_cannot_reach_the_app_send_the_page_to_the_form(relayed, rasa):
    app, client, headers = relayed
    rasa.replies.append((200, [{"recipient_id": "x", "text": "Sorry, something went wrong."},
                               {"recipient_id": "x", "custom": {"error": "service_unavailable"}}]))
    data = client.post("/chat/api/message", json={"text": "my neighbour is lonely"}, headers=headers).get_json()
    assert data["fallback"] is True and data["question"]["id"] == "emergency_screen"


# -- bad input: a clear 4xx in JSON, never a 500 ------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ({}, "text"),
    ({"text": "   "}, "text"),
    ({"text": "x" * 1001}, "text"),
    ({"text": 42}, "text"),
    ({"payload": ["none"]}, "payload"),
    ({"text": "hello", "payload": "none"}, "text"),
])
def test_bad_chat_message_is_a_422_naming_the_field(chat, body, field):
    client, headers = chat
    response = client.post("/chat/api/message", json=body, headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == field


def test_chat_message_that_is_not_json_is_a_4xx_json_answer(chat):
    client, headers = chat
    assert client.post("/chat/api/message", data="text=hello", headers=headers,
                       content_type="application/x-www-form-urlencoded").status_code == 415
    response = client.post("/chat/api/message", data="{not json", headers=headers, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"] == "malformed_json"
    response = client.post("/chat/api/message", json=["a", "list"], headers=headers)
    assert response.status_code == 422 and response.is_json


def test_form_answer_before_any_message_is_a_409(chat):
    client, headers = chat
    response = client.post("/chat/api/form", headers=headers,
                           json={"contact_id": None, "answer": {"question_id": "emergency_screen", "value": ["none"]}})
    assert response.status_code == 409 and response.is_json


def test_form_answer_for_someone_elses_contact_is_refused(chat, chat_app, clock):
    client, headers = chat
    other = new_contact(chat_app, clock)
    client.post("/chat/api/message", json={"text": "my dad has fallen"}, headers=headers)
    response = client.post("/chat/api/form", headers=headers,
                           json={"contact_id": other, "answer": {"question_id": "emergency_screen", "value": ["none"]}})
    assert response.status_code == 403 and response.get_json()["field"] == "contact_id"
    assert "unresponsive" not in stored_facts(chat_app, other)


@pytest.mark.parametrize("answer", [
    None, "none", {"value": "none"}, {"question_id": "no_such_question", "value": "none"},
    {"question_id": "emergency_screen"}, {"question_id": "emergency_screen", "value": True},
    {"question_id": "emergency_screen", "value": []}, {"question_id": "emergency_screen", "value": ["not_a_flag"]},
    {"question_id": "emergency_screen", "value": [{"x": 1}]},
])
def test_bad_form_answer_is_a_422_and_loses_nothing(chat, chat_app, answer):
    client, headers = chat
    first = client.post("/chat/api/message", json={"text": "my dad has fallen"}, headers=headers).get_json()
    before = stored_facts(chat_app, first["contact_id"])
    response = client.post("/chat/api/form", headers=headers, json={"contact_id": first["contact_id"], "answer": answer})
    assert response.status_code == 422 and response.is_json, response.get_data(as_text=True)
    assert stored_facts(chat_app, first["contact_id"]) == before
    # The same question can still be answered.
    retry = client.post("/chat/api/form", headers=headers, json={
        "contact_id": first["contact_id"], "answer": {"question_id": "emergency_screen", "value": ["none"]}})
    assert retry.status_code == 200 and retry.get_json()["question"]["id"] != "emergency_screen"


def test_age_that_cannot_be_right_is_a_422_and_asked_again(chat):
    client, headers = chat
    data = client.post("/chat/api/message", json={"text": "my dad has fallen"}, headers=headers).get_json()
    data = client.post("/chat/api/form", headers=headers, json={
        "contact_id": data["contact_id"], "answer": {"question_id": "emergency_screen", "value": ["none"]}}).get_json()
    while data["question"]["id"] != "age":
        data = client.post("/chat/api/form", headers=headers, json={
            "contact_id": data["contact_id"],
            "answer": {"question_id": data["question"]["id"], "value": answer_for(data["question"], FALL_WITH_LONG_LIE)}}
        ).get_json()
    for bad in (200, "two hundred and fifty"):
        response = client.post("/chat/api/form", headers=headers, json={
            "contact_id": data["contact_id"], "answer": {"question_id": "age", "value": bad}})
        assert response.status_code == 422 and response.get_json()["field"] == "value"
    good = client.post("/chat/api/form", headers=headers, json={
        "contact_id": data["contact_id"], "answer": {"question_id": "age", "value": "84"}})
    assert good.status_code == 200


def test_question_messages_from_the_actions_carry_the_contact_reference():
    """The chat page learns the contact from each question, so it can carry on if Rasa goes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("chat_messages", ROOT / "assistant" / "actions" / "messages.py")
    messages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(messages)
    question = {"id": "age", "ask": ["age"], "kind": "number", "text": "How old is the person?", "options": []}
    assert messages.question_messages(question, None, "SPA-AAAA-BBBB")[1]["json_message"]["contact_id"] == "SPA-AAAA-BBBB"
    assert "contact_id" not in messages.question_messages(question)[1]["json_message"]


def test_one_address_sending_message_after_message_is_slowed_down(tmp_path, clock):
    """The chat is public and a first message creates a contact: past the per-address limit a
    client gets a clear 429 in JSON, not a stored contact."""
    app = make_app(chat_settings(SPOA_CLOCK=clock, RASA_URL=closed_port_url(), SPOA_CHAT_RATE_LIMIT="3 per minute"),
                   chat_triage(), tmp_path)
    client = app.test_client()
    headers = csrf_headers(client)
    replies = [client.post("/chat/api/message", json={"text": "hello"}, headers=headers) for _ in range(4)]
    assert [reply.status_code for reply in replies] == [200, 200, 200, 429]
    assert "wait a minute" in replies[3].get_json()["message"]
    app.extensions["spoa"].store.dispose()
