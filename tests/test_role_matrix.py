"""Every JSON API endpoint for every role and for the service token: the API keeps the pages'
rules (web/access.py, web/security.py).

One table: for each endpoint, who may use it. Everyone else gets 401 (no login, no token) or
403 (logged in, or the token, but not theirs). "May" means the request gets past the door:
the answer is whatever the endpoint says (200, 201, 404 for a missing outbox row, 409 for an
item already accepted, 503 with no extractor), never 401 or 403.

The contact the table uses is a chat contact with a referral on the worklist (so a duty
worker works on it) and the console call belongs to another call handler (so the call
handler in the table doesn't). A new /api endpoint must get a row here (the last test says so).
"""
from __future__ import annotations

import json

import pytest

from conftest import SERVICE_TOKEN, T0, create_user, csrf_token, login, screen_clear
from web.store import contacts, people
from web.store.models import ConsoleCall

WHO = ("anonymous", "service", "call_handler", "duty_worker", "supervisor", "admin")
STAFF = {"call_handler", "duty_worker", "supervisor", "admin"}
FALL = screen_clear(age=84, locality="swale", fallen=True, on_floor_cannot_get_up=True, fall_injury="none")

# (method, path, body, who may) -- {contact}, {item}, {call} are filled in from the setup.
MATRIX = [
    ("GET", "/api/health", None, set(WHO)),
    ("GET", "/api/openapi.json", None, set(WHO)),
    ("POST", "/api/extract", {"text": "she fell"}, {"service"} | STAFF),
    ("POST", "/api/triage", {"facts": {"chest_pain": True}}, {"service"} | STAFF),
    ("POST", "/api/dialogue/turn", {"text": "hello", "contact_id": None}, {"service"} | STAFF),
    ("POST", "/api/contacts", {"facts": {"age": 70}}, {"service", "call_handler", "supervisor"}),
    ("GET", "/api/contacts", None, {"supervisor", "admin"}),
    ("GET", "/api/contacts/{contact}", None, {"duty_worker", "supervisor", "admin"}),
    ("GET", "/api/contacts/{contact}/person", None, {"duty_worker", "supervisor"}),
    ("POST", "/api/contacts/{contact}/person", {"phone": "07700 900123"}, {"service", "duty_worker", "supervisor"}),
    ("GET", "/api/contacts/{contact}/referral", None, {"duty_worker", "supervisor"}),
    ("POST", "/api/contacts/{contact}/facts", {"facts": {"lives_alone": True}},
     {"service", "duty_worker", "supervisor"}),
    ("POST", "/api/contacts/{contact}/callback", {"note": "mornings"}, {"service", "duty_worker", "supervisor"}),
    ("POST", "/api/contacts/{contact}/reviews", {"action": "confirm"}, {"supervisor"}),
    ("POST", "/api/contacts/{contact}/redecide", None, {"supervisor"}),
    ("GET", "/api/worklist", None, {"duty_worker", "supervisor", "admin"}),
    ("GET", "/api/worklist/{item}", None, {"duty_worker", "supervisor", "admin"}),
    ("POST", "/api/worklist/{item}/accept", None, {"duty_worker", "supervisor"}),
    ("POST", "/api/worklist/{item}/complete", {"outcome": "Visited"}, {"duty_worker", "supervisor"}),
    ("POST", "/api/worklist/{item}/return", {"reason": "Not ours"}, {"duty_worker", "supervisor"}),
    ("GET", "/api/supervisor/queue", None, {"supervisor"}),
    ("POST", "/api/calls/{call}/take-over", None, {"supervisor"}),
    # A call handler may close their own call as dropped, not another handler's (the call is handler-1's).
    ("POST", "/api/calls/{call}/dropped", None, {"supervisor"}),
    ("GET", "/api/outbox", None, {"supervisor", "admin"}),
    ("POST", "/api/outbox/999/retry", None, {"supervisor", "admin"}),
    ("GET", "/api/audit/verify", None, {"supervisor", "admin"}),
]


def _setup(app) -> dict:
    spoa = app.extensions["spoa"]

    def work(db):
        chat = contacts.create_contact(db, spoa.triage, {"channel": "web_chat", "facts": FALL}, now=T0,
                                       source="chat")
        people.save_details(db, chat.contact.id, {"name": "Ivy Marsh"}, actor="service", actor_role=None, now=T0,
                            today=T0.date())
        call = contacts.create_contact(db, spoa.triage, {"channel": "phone", "facts": FALL}, now=T0,
                                       source="console", refer=False)
        db.add(ConsoleCall(contact_id=call.contact.id, handler="handler-1", started_at=T0, updated_at=T0))
        return {"contact": chat.contact.id, "item": chat.worklist_item.id, "call": call.contact.id}

    return spoa.store.run(work)


def _client(app, who: str):
    client = app.test_client()
    headers = {}
    if who == "service":
        headers["Authorization"] = f"Bearer {SERVICE_TOKEN}"
    elif who != "anonymous":
        assert login(client, create_user(app, who)).status_code == 302
        headers["X-CSRFToken"] = csrf_token(client)
    return client, headers


@pytest.mark.hazard("HAZ-013")
@pytest.mark.parametrize("who", WHO)
def test_every_api_endpoint_lets_in_exactly_the_roles_that_may_use_it(app, who):
    ids = _setup(app)
    client, headers = _client(app, who)
    wrong = []
    for method, path, body, allowed in MATRIX:
        url = path.format(**ids)
        kwargs = {"headers": headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        status = client.open(url, method=method, **kwargs).status_code
        if who in allowed:
            ok = status not in (401, 403)
        else:
            ok = status == (401 if who == "anonymous" else 403)
        if not ok:
            wrong.append(f"{method} {path}: {status}")
    assert wrong == [], f"{who}: {wrong}"


def test_a_call_handler_reads_and_closes_their_own_call_but_not_anothers(app):
    ids = _setup(app)
    client = app.test_client()
    assert login(client, create_user(app, "call_handler", "handler-1")).status_code == 302
    headers = {"X-CSRFToken": csrf_token(client)}
    assert client.get(f"/api/contacts/{ids['call']}", headers=headers).status_code == 200
    assert client.get(f"/api/contacts/{ids['call']}/person", headers=headers).status_code == 200
    assert client.get(f"/api/contacts/{ids['contact']}/person", headers=headers).status_code == 403
    assert client.post(f"/api/calls/{ids['call']}/dropped", headers=headers).status_code == 201


def test_the_service_token_cannot_change_a_call_someone_is_taking_in_the_console(app, service_headers):
    ids = _setup(app)
    client = app.test_client()
    response = client.post(f"/api/contacts/{ids['call']}/facts", headers=service_headers,
                           data=json.dumps({"facts": {"chest_pain": False}}), content_type="application/json")
    assert response.status_code == 403


def test_facts_on_a_closed_contact_are_refused_and_the_red_flag_kept(app, client_as, staff_json):
    spoa = app.extensions["spoa"]
    ids = _setup(app)
    spoa.store.run(lambda db: contacts.close_contact(db, ids["contact"], now=T0))
    supervisor = client_as("supervisor")
    response = supervisor.post(f"/api/contacts/{ids['contact']}/facts", headers=staff_json(supervisor),
                               data=json.dumps({"facts": {"on_floor_cannot_get_up": False}}),
                               content_type="application/json")
    assert response.status_code == 409 and response.get_json()["error"] == "closed"
    with spoa.store.session() as db:
        assert contacts.current_facts(db, ids["contact"])["on_floor_cannot_get_up"] is True


@pytest.mark.hazard("HAZ-013")
def test_every_api_endpoint_has_a_row_in_the_matrix(app):
    rows = {(method, path.replace("{contact}", "{contact_id}").replace("{item}", "{item_id}")
             .replace("{call}", "{contact_id}").replace("/999/", "/{outbox_id}/")) for method, path, _, _ in MATRIX}
    routes = {(method, rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}"))
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - rows == set(), "add these endpoints to MATRIX in tests/test_role_matrix.py"


def test_saving_and_reading_the_persons_details_logs_no_detail(app, client_as, staff_json, service_headers, caplog):
    import logging

    ids = _setup(app)
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    saved = client.post(f"/api/contacts/{ids['contact']}/person", headers=service_headers, content_type="application/json",
                        data=json.dumps({"name": "Ivy Marsh", "phone": "07700 900555", "nhs_number": "9434765919"}))
    assert saved.status_code == 200 and "Ivy" not in saved.get_data(as_text=True)   # the token reads nothing back
    bad = client.post(f"/api/contacts/{ids['contact']}/person", headers=service_headers, content_type="application/json",
                      data=json.dumps({"phone": "12345"}))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "phone"
    supervisor = client_as("supervisor")
    assert supervisor.get(f"/api/contacts/{ids['contact']}/person").get_json()["details"]["name"] == "Ivy Marsh"
    for secret in ("Ivy", "Marsh", "900555", "9434765919"):
        assert secret not in caplog.text
