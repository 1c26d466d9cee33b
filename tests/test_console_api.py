"""The call-handler console's JSON endpoints (/console/api), with a logged-in call handler.

Real app, real engine, SQLite in a temporary folder (fixtures in conftest.py). Each test is a
piece of a phone call: start, answer, change an answer, tick a red flag, close.
"""
from __future__ import annotations

import pytest

from web.store import audit, worklist
from web.store.models import AuditEntry, FactEvent, WorklistItem

API = "/console/api/contacts"


@pytest.fixture
def handler(client_as, staff_json):
    client = client_as("call_handler")
    client.csrf = staff_json(client)
    return client


def post(client, path, body):
    return client.post(path, json=body, headers=client.csrf)


def start(client, **body):
    response = post(client, API, {"channel": "phone", "caller": "family_friend", **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def answer(client, state, value, question=None, change=False):
    question = question or state["question"]
    response = post(client, f"{API}/{state['contact']['id']}/answer",
                    {"question": question["id"], "answer": value, "ask": question["ask"], "change": change})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def answer_until(client, state, answers: dict, stop: str):
    """Answer the console's questions from `answers` (else "unknown") until `stop` is asked."""
    for _ in range(40):
        question = state["question"]
        if question is None or question["id"] == stop:
            return state
        state = answer(client, state, answers.get(question["id"], "unknown"))
    raise AssertionError("too many questions")


FALL_CALL = {"emergency_screen": "none", "suicidal_thoughts": "no", "mental_health_crisis": "no", "age": 90,
             "locality": "Sittingbourne", "fallen": "yes", "on_floor_cannot_get_up": "yes", "fall_injury": "none",
             "head_injury": "no"}


# -- a call from start to close ----------------------------------------------------------------

def test_a_new_call_asks_the_emergency_screen_first(handler):
    state = start(handler, about="Mrs A")
    assert state["contact"]["status"] == "open"
    assert state["contact"]["about"] == "Mrs A"
    assert state["question"]["id"] == "emergency_screen"
    assert state["question"]["text"] == "Any of these now?"          # call-handler wording
    assert state["view"]["status"] == "incomplete"
    assert state["facts"] == {"caller": "family_friend"}


def test_fall_with_long_lie_goes_to_rapid_response(handler):
    state = answer_until(handler, start(handler), FALL_CALL, stop="head_injury")
    view = state["view"]
    assert (view["route"], view["pathway"], view["response_target"]) == ("rapid_response", "ucr", "PT2H")
    assert view["time_left_seconds"] == 2 * 3600                    # the test clock stands still
    assert state["facts"]["locality"] == "swale"                    # "Sittingbourne" read as its locality
    assert any(rule["rule"] == "UCR-1" and rule["decided"] and rule["source"] for rule in view["why"])


def test_no_fall_and_nothing_else_stays_self_care(handler):
    calm = {**FALL_CALL, "fallen": "no", "on_floor_cannot_get_up": "no", "fall_injury": "unknown"}
    state = answer_until(handler, start(handler), calm, stop="abuse_types")
    assert state["view"]["route"] == "self_care"


def test_changing_the_fall_answer_updates_the_decision(handler, app):
    state = answer_until(handler, start(handler), FALL_CALL, stop="fall_injury")
    assert state["view"]["route"] == "rapid_response"
    fallen = next(a for a in state["answers"] if a["question"] == "fallen")["ask"]
    changed = answer(handler, state, "no", question=fallen, change=True)
    assert changed["facts"]["fallen"] is False
    assert changed["view"]["route"] == "self_care"
    assert changed["question"]["id"] != "fall_injury"                # no fall: no injury question
    again = answer(handler, changed, "yes", question=fallen, change=True)
    assert again["view"]["route"] == "rapid_response"
    with app.extensions["spoa"].store.session() as db:
        fallen_events = db.query(FactEvent).filter_by(contact_id=state["contact"]["id"], fact="fallen").all()
    assert [(e.value, e.source) for e in fallen_events] == [(True, "console"), (False, "console"), (True, "console")]


def test_an_answer_that_is_not_a_change_never_overwrites_a_known_fact(handler):
    state = answer_until(handler, start(handler), FALL_CALL, stop="fall_injury")
    fallen = next(a for a in state["answers"] if a["question"] == "fallen")["ask"]
    stale = answer(handler, state, "no", question=fallen)         # a second tab still showing "fallen?"
    assert stale["facts"]["fallen"] is True


def test_closing_gives_a_reference_read_back_and_a_worklist_item(handler, app):
    state = answer_until(handler, start(handler), FALL_CALL, stop="head_injury")
    contact_id = state["contact"]["id"]
    response = post(handler, f"{API}/{contact_id}/close", {"action": "confirm"})
    assert response.status_code == 200, response.get_json()
    closed = response.get_json()
    assert closed["contact"]["status"] == "closed"
    assert closed["readback"]["reference"] == contact_id and contact_id.startswith("SPA-")
    assert "urgent community response" in closed["readback"]["next"].lower()
    assert closed["readback"]["by_when"].startswith("By 12:00")     # 10:00 UTC + 2 hours, London in winter
    assert any("111" in line for line in closed["readback"]["safety_netting"])
    assert closed["worklist_item"]["route"] == "rapid_response" and closed["worklist_item"]["status"] == "open"
    assert handler.get(API).get_json()["contacts"] == []
    # Closed means closed: nothing more is added.
    late = post(handler, f"{API}/{contact_id}/facts", {"facts": {"dementia": True}})
    assert late.status_code == 409


@pytest.mark.hazard("HAZ-012")
def test_a_referral_reaches_the_worklist_only_when_the_handler_confirms_it(handler, app):
    """Mid-call the decision still moves with each answer: the duty worker sees the referral
    once the call handler has confirmed it at the end of the call, not before."""
    state = answer_until(handler, start(handler), FALL_CALL, stop="head_injury")
    contact_id = state["contact"]["id"]
    assert state["view"]["route"] == "rapid_response"
    open_items = lambda: app.extensions["spoa"].store.run(  # noqa: E731
        lambda db: [item.contact_id for item in worklist.list_items(db)])
    assert contact_id not in open_items()
    assert post(handler, f"{API}/{contact_id}/close", {"action": "confirm"}).status_code == 200
    assert contact_id in open_items()


# -- the emergency screen -----------------------------------------------------------------------

def test_red_flag_ticked_mid_call_gives_the_999_instruction_and_is_recorded(handler, app):
    state = answer_until(handler, start(handler), FALL_CALL, stop="fall_injury")
    response = post(handler, f"{API}/{state['contact']['id']}/facts", {"facts": {"chest_pain": True}})
    assert response.status_code == 200
    emergency = response.get_json()["view"]["emergency"]
    assert response.get_json()["view"]["route"] == "emergency"
    assert emergency["active"] and emergency["flags"] == ["chest_pain"]
    assert any("999" in line for line in emergency["script"])
    with app.extensions["spoa"].store.session() as db:
        actions = [e.action for e in db.query(AuditEntry).filter_by(target=state["contact"]["id"])
                   if e.action != audit.SEAL_ACTION]
    assert "console.emergency" in actions


def test_no_red_flag_gives_no_999_instruction(handler):
    state = answer(handler, start(handler), "none")
    assert state["view"]["emergency"] == {"active": False, "flags": [], "flag_words": [], "script": [],
                                          "pathway": None}


def test_none_of_these_from_a_stale_screen_does_not_clear_a_red_flag(handler):
    state = start(handler)
    screen = state["question"]
    ticked = post(handler, f"{API}/{state['contact']['id']}/facts", {"facts": {"stroke_signs": True}}).get_json()
    assert ticked["view"]["route"] == "emergency"
    after = answer(handler, ticked, "none", question=screen)      # the whole screen, as first shown
    assert after["facts"]["stroke_signs"] is True
    assert after["facts"]["chest_pain"] is False
    assert after["view"]["route"] == "emergency"


@pytest.mark.hazard("HAZ-001")
def test_self_care_close_is_refused_while_the_emergency_screen_is_unanswered(handler):
    state = start(handler)
    response = post(handler, f"{API}/{state['contact']['id']}/close", {"action": "confirm"})
    assert response.status_code == 422
    assert response.get_json()["field"] == "emergency_screen"


def test_self_care_close_is_allowed_once_the_emergency_screen_is_answered(handler):
    state = answer(handler, start(handler), "none")
    response = post(handler, f"{API}/{state['contact']['id']}/close", {"action": "confirm"})
    assert response.status_code == 200
    assert response.get_json()["worklist_item"] is None             # no referral for self-care


# -- override ------------------------------------------------------------------------------------

def test_override_without_a_reason_is_refused_and_the_call_stays_open(handler):
    state = answer_until(handler, start(handler), FALL_CALL, stop="head_injury")
    response = post(handler, f"{API}/{state['contact']['id']}/close", {"action": "override", "route": "mdt",
                                                                       "reason": "   "})
    assert response.status_code == 422
    assert response.get_json()["field"] == "reason"
    assert handler.get(f"{API}/{state['contact']['id']}").get_json()["contact"]["status"] == "open"


def test_override_with_a_reason_closes_with_the_new_route(handler, app):
    state = answer_until(handler, start(handler), FALL_CALL, stop="head_injury")
    response = post(handler, f"{API}/{state['contact']['id']}/close",
                    {"action": "override", "route": "mdt", "reason": "Already known to the district nurses"})
    assert response.status_code == 200
    closed = response.get_json()
    assert closed["contact"]["route"] == "mdt" and closed["contact"]["overridden"] is True
    assert closed["readback"]["route_label"] == "Multi-disciplinary team"
    with app.extensions["spoa"].store.session() as db:
        item = db.query(WorklistItem).filter_by(contact_id=state["contact"]["id"], status="open").one()
    assert item.route == "mdt"


# -- nothing lost --------------------------------------------------------------------------------

@pytest.mark.hazard("HAZ-005")
def test_every_answer_is_saved_as_given_and_a_reload_resumes(handler, app):
    state = answer_until(handler, start(handler), FALL_CALL, stop="fallen")
    reloaded = handler.get(f"{API}/{state['contact']['id']}").get_json()
    assert reloaded["question"]["id"] == "fallen"
    assert reloaded["facts"] == state["facts"]
    with app.extensions["spoa"].store.session() as db:
        events = db.query(FactEvent).filter_by(contact_id=state["contact"]["id"]).all()
    assert {e.source for e in events} == {"console"}
    assert {e.actor for e in events} == {handler.username}
    assert ("age", 90) in [(e.fact, e.value) for e in events]


def test_a_handler_holds_several_open_calls(handler, clock):
    first = start(handler, about="first")
    clock.advance(minutes=3)
    second = start(handler, about="second", channel="professional_referral")
    listed = handler.get(API).get_json()["contacts"]
    assert [c["id"] for c in listed] == [second["contact"]["id"], first["contact"]["id"]]
    assert handler.get(f"{API}/{first['contact']['id']}").get_json()["contact"]["about"] == "first"


def test_notes_propose_facts_and_set_none_without_confirmation(handler):
    state = start(handler)
    response = post(handler, f"{API}/{state['contact']['id']}/notes",
                    {"notes": "Daughter says mum fell at 5am and is still on the floor, can't get up."})
    assert response.status_code == 200
    body = response.get_json()
    assert body["notes"].startswith("Daughter says")
    assert body["facts"] == {"caller": "family_friend"}              # proposals only
    assert body["extraction"] == "ok"
    proposed = {p["fact"]: p["value"] for p in body["proposals"]}
    assert proposed.get("on_floor_cannot_get_up") is True
    assert "caller" not in proposed                                  # already known, same value
    reloaded = handler.get(f"{API}/{state['contact']['id']}").get_json()
    assert reloaded["notes"] == body["notes"] and reloaded["view"]["route"] == "self_care"


def test_notes_with_the_callers_own_age_propose_the_persons_age_only(handler):
    state = start(handler)
    response = post(handler, f"{API}/{state['contact']['id']}/notes",
                    {"notes": "Caller is 55 and hurt her back lifting mum. Mum is 83."})
    proposed = {p["fact"]: p["value"] for p in response.get_json()["proposals"]}
    assert proposed.get("age") == 83 and "serious_injury" not in proposed


def test_notes_with_only_the_callers_own_age_propose_no_age(handler):
    state = start(handler)
    response = post(handler, f"{API}/{state['contact']['id']}/notes", {"notes": "Daughter calling, she is 55."})
    assert "age" not in {p["fact"] for p in response.get_json()["proposals"]}


def test_notes_that_are_not_text_are_refused(handler):
    state = start(handler)
    response = post(handler, f"{API}/{state['contact']['id']}/notes", {"notes": 42})
    assert response.status_code == 422 and response.get_json()["field"] == "notes"


def test_a_confirmed_proposal_is_recorded_as_extraction(handler, app):
    state = start(handler)
    response = post(handler, f"{API}/{state['contact']['id']}/facts",
                    {"facts": {"on_floor_cannot_get_up": True}, "from_notes": True})
    assert response.status_code == 200
    with app.extensions["spoa"].store.session() as db:
        event = db.query(FactEvent).filter_by(contact_id=state["contact"]["id"], fact="on_floor_cannot_get_up").one()
    assert (event.source, event.actor) == ("extraction", handler.username)


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("facts, field", [
    ({"falln": True}, "falln"),                       # not a fact
    ({"fallen": "maybe"}, "facts.fallen"),            # wrong type
    ({"age": 200}, "facts.age"),                      # out of range
    ({"fall_injury": "bad"}, "facts.fall_injury"),    # not an allowed value
])
def test_bad_facts_get_422_naming_the_field_and_change_nothing(handler, facts, field):
    state = start(handler)
    response = post(handler, f"{API}/{state['contact']['id']}/facts", {"facts": facts})
    assert response.status_code == 422
    assert response.get_json()["field"] == field
    assert handler.get(f"{API}/{state['contact']['id']}").get_json()["facts"] == {"caller": "family_friend"}


@pytest.mark.parametrize("body, field", [
    ({"question": "no_such_question", "answer": "yes"}, "question"),
    ({"question": "fallen", "answer": "perhaps"}, "fallen"),
    ({"question": "age", "answer": "old"}, "age"),
    ({"question": "emergency_screen", "answer": ["chest_pain"], "ask": ["caller"]}, "ask"),
    ({"question": "fallen"}, "answer"),
])
def test_bad_answers_get_422_naming_the_field(handler, body, field):
    state = start(handler)
    response = post(handler, f"{API}/{state['contact']['id']}/answer", body)
    assert response.status_code == 422
    assert response.get_json()["field"] == field


def test_an_age_typed_in_words_is_read(handler):
    state = answer_until(handler, start(handler), FALL_CALL, stop="age")
    state = answer(handler, state, "ninety-one")
    assert state["facts"]["age"] == 91


def test_an_impossible_age_in_words_is_refused(handler):
    state = answer_until(handler, start(handler), FALL_CALL, stop="age")
    response = post(handler, f"{API}/{state['contact']['id']}/answer",
                    {"question": "age", "answer": "two hundred", "ask": ["age"]})
    assert response.status_code == 422 and response.get_json()["field"] == "age"


def test_bad_start_gets_422(handler):
    response = post(handler, API, {"channel": "carrier_pigeon"})
    assert response.status_code == 422 and response.get_json()["field"] == "channel"
    response = post(handler, API, {"caller": "stranger"})
    assert response.status_code == 422 and response.get_json()["field"] == "caller"


def test_unknown_contact_is_404(handler):
    assert handler.get(f"{API}/SPA-0000-0000").status_code == 404
    response = post(handler, f"{API}/SPA-0000-0000/facts", {"facts": {"fallen": True}})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_malformed_json_is_400_not_500(handler):
    state = start(handler)
    response = handler.post(f"{API}/{state['contact']['id']}/facts", data="{not json",
                            headers={**handler.csrf, "Content-Type": "application/json"})
    assert response.status_code == 400 and "message" in response.get_json()


def test_a_post_without_the_csrf_token_is_refused(handler):
    response = handler.post(API, json={"channel": "phone"})
    assert response.status_code == 400 and response.get_json()["error"] == "csrf"


# -- who may ---------------------------------------------------------------------------------------

def test_duty_worker_cannot_open_the_console(client_as, staff_json):
    worker = client_as("duty_worker")
    assert worker.get("/console/").status_code == 403
    assert worker.get(API).status_code == 403


def test_supervisor_may_view_but_not_take_calls(client_as, staff_json, handler, app):
    state = start(handler)
    supervisor = client_as("supervisor")
    assert supervisor.get("/console/").status_code == 200
    assert supervisor.get(f"{API}/{state['contact']['id']}").status_code == 200
    with app.extensions["spoa"].store.session() as db:
        views = db.query(AuditEntry).filter_by(target=state["contact"]["id"], action="contact.view").all()
    assert [(v.actor, v.details) for v in views] == [(supervisor.username, {"via": "console"})]
    assert supervisor.post(API, json={"channel": "phone"}, headers=staff_json(supervisor)).status_code == 403


@pytest.mark.hazard("HAZ-013")
def test_a_handler_cannot_answer_another_handlers_call(client_as, staff_json, handler):
    state = start(handler)
    other = client_as("call_handler")
    response = other.post(f"{API}/{state['contact']['id']}/facts", json={"facts": {"fallen": True}},
                          headers=staff_json(other))
    assert response.status_code == 403
    assert other.get(f"{API}/{state['contact']['id']}").status_code == 403


def test_not_logged_in_gets_the_login_page_or_401(client):
    assert client.get("/console/").status_code == 302
    response = client.get(API, headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_start_and_close_are_in_the_audit_log(handler, app):
    state = answer(handler, start(handler), "none")
    post(handler, f"{API}/{state['contact']['id']}/close", {"action": "confirm"})
    with app.extensions["spoa"].store.session() as db:
        actions = [e.action for e in db.query(AuditEntry).filter_by(target=state["contact"]["id"])
                   if e.action != audit.SEAL_ACTION]
        assert audit.verify(db).ok
    assert actions[0] == "console.start" and "contact.confirm" in actions and actions[-1] == "console.close"


# -- both databases --------------------------------------------------------------------------------

def test_fall_call_closes_on_sqlite_and_postgresql(any_app):
    from conftest import create_user, csrf_token, login

    client = any_app.test_client()
    username = create_user(any_app, "call_handler")
    assert login(client, username).status_code == 302
    client.csrf = {"X-CSRFToken": csrf_token(client, "/console/")}
    client.username = username
    state = answer_until(client, start(client), FALL_CALL, stop="head_injury")
    assert state["view"]["route"] == "rapid_response"
    closed = post(client, f"{API}/{state['contact']['id']}/close", {"action": "confirm"}).get_json()
    assert closed["contact"]["status"] == "closed" and closed["worklist_item"]["route"] == "rapid_response"
    assert client.get(API).get_json()["contacts"] == []


def test_openapi_document_describes_every_console_route(app, client):
    documented = set(client.get("/api/openapi.json").get_json()["paths"])
    routes = {rule.rule.replace("<", "{").replace(">", "}") for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("console.") and "/api/" in rule.rule}
    assert routes and routes <= documented, routes - documented


def test_a_handler_cannot_open_a_web_chat_contact_in_the_console(handler, client, service_headers):
    from conftest import screen_clear

    chat = client.post("/api/contacts", json={"channel": "web_chat", "facts": screen_clear(age=70)},
                       headers=service_headers).get_json()
    assert handler.get(f"{API}/{chat['id']}").status_code == 403


# -- the place question (issue 8) ----------------------------------------------------------------

def test_a_place_the_gazetteer_cant_find_is_asked_once_more_with_the_localities_and_the_caller_is_served(handler, app):
    state = answer_until(handler, start(handler), FALL_CALL, stop="locality")
    state = answer(handler, state, "at her daughter's")
    assert state["facts"].get("locality") is None
    again = state["question"]
    assert again["id"] == "locality" and again["options"][6] == {"value": "west_kent", "label": "West Kent", "key": "7"}
    assert state["view"]["route"] != "out_of_scope"
    state = answer(handler, state, "west_kent", question=again)
    assert state["facts"]["locality"] == "west_kent"
    assert state["question"] is None or state["question"]["id"] != "locality"


def test_a_kent_village_typed_by_the_call_handler_is_its_locality_and_the_words_are_kept(handler, app):
    state = answer_until(handler, start(handler), {**FALL_CALL, "locality": "Wittersham"}, stop="head_injury")
    assert state["facts"]["locality"] == "ashford"
    with app.extensions["spoa"].store.session() as db:
        from web.store.models import Contact
        assert db.get(Contact, state["contact"]["id"]).locality_words == "Wittersham"


def test_i_dont_know_where_is_not_asked_again_in_the_console(handler):
    state = answer_until(handler, start(handler), FALL_CALL, stop="locality")
    state = answer(handler, state, "unknown")
    assert state["question"] is None or state["question"]["id"] != "locality"


# -- the dialogue core through the console ------------------------------------------------------

def test_a_fall_read_back_says_what_to_do_while_waiting_without_codes(handler):
    state = answer_until(handler, start(handler), FALL_CALL, stop="head_injury")
    closed = post(handler, f"{API}/{state['contact']['id']}/close", {"action": "confirm"}).get_json()
    words = " ".join(closed["readback"]["lines"])
    assert "don't try to lift them" in words and "warm" in words
    assert "ucr" not in words and "UCR-" not in words


def test_she_hasnt_fallen_typed_for_the_injury_question_answers_the_fall(handler):
    state = answer_until(handler, start(handler), {**FALL_CALL, "fallen": "unknown", "on_floor_cannot_get_up": "no"},
                         stop="fallen")
    fall_injury = {"id": "fall_injury", "ask": ["fall_injury"]}
    changed = answer(handler, state, "she hasn't fallen", question=fall_injury)
    assert changed["facts"]["fallen"] is False and "fall_injury" not in changed["facts"]
