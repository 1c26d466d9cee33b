"""The JSON API: every endpoint, each kind of bad input, and never a 500."""
from __future__ import annotations

import pytest

import json
import logging

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from conftest import make_app, screen_clear
from web.store.models import AuditEntry, Contact

FALL = {"channel": "web_chat", "received_at": "2026-11-26T10:00:00Z",
        "facts": screen_clear(age=90, locality="swale", fallen=True, on_floor_cannot_get_up=True,
                              fall_injury="none", head_injury=False)}


def _contacts(app) -> int:
    with app.extensions["spoa"].store.session() as db:
        return db.scalar(select(func.count()).select_from(Contact))


def _post(client, path, body, headers, **kwargs):
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers, **kwargs)


# -- POST /api/contacts ------------------------------------------------------------------------

def test_fall_with_long_lie_is_stored_and_goes_to_rapid_response(any_app, service_headers, client_as):
    client = any_app.test_client()
    response = _post(client, "/api/contacts", FALL, service_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["decision"]["route"] == "rapid_response" and body["decision"]["pathway"] == "ucr"
    assert response.headers["Location"] == f"/api/contacts/{body['id']}"
    assert body["worklist_item"]["response_target"] == "PT2H"
    # The service token writes for the chat but reads nothing back; a supervisor reads it.
    assert client.get(f"/api/contacts/{body['id']}", headers=service_headers).status_code == 403
    stored = client_as("supervisor", any_app).get(f"/api/contacts/{body['id']}").get_json()
    assert stored["route"] == "rapid_response" and stored["facts"]["on_floor_cannot_get_up"] is True
    assert stored["fact_events"][0]["source"] == "api"


def test_place_name_is_stored_as_its_locality(client, service_headers):
    body = _post(client, "/api/contacts", {"facts": screen_clear(age=70, locality="Ramsgate", lonely_or_isolated=True)},
                 service_headers).get_json()
    assert body["contact"]["locality"] == "thanet"


def test_malformed_json_is_a_400_and_stores_nothing(app, client, service_headers):
    response = client.post("/api/contacts", data='{"facts": {', content_type="application/json",
                           headers=service_headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json" and "line 1" in response.get_json()["message"]
    assert _contacts(app) == 0


def test_a_form_post_instead_of_json_is_a_415(client, service_headers):
    response = client.post("/api/contacts", data={"facts": "x"}, headers=service_headers)
    assert response.status_code == 415 and response.get_json()["error"] == "unsupported_media_type"


def test_a_body_over_64_kib_is_a_413(client, service_headers):
    huge = {"facts": {"information_topic": "x" * 70_000}}
    response = _post(client, "/api/contacts", huge, service_headers)
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"


def test_a_body_under_64_kib_is_accepted(client, service_headers):
    response = _post(client, "/api/contacts", {"facts": screen_clear(information_topic="x" * 60_000)},
                     service_headers)
    assert response.status_code == 201


def test_misspelt_fact_is_a_422_naming_the_nearest_fact(app, client, service_headers):
    response = _post(client, "/api/contacts", {"facts": {"chestpain": True}}, service_headers)
    body = response.get_json()
    assert response.status_code == 422 and body["error"] == "invalid_contact"
    assert body["field"] == "facts.chestpain" and "chest_pain" in body["message"]
    assert _contacts(app) == 0


def test_wrong_value_for_a_fact_is_a_422_listing_what_is_allowed(client, service_headers):
    response = _post(client, "/api/contacts", {"facts": {"fall_injury": "bad"}}, service_headers)
    body = response.get_json()
    assert response.status_code == 422 and body["field"] == "facts.fall_injury"
    assert "serious" in json.dumps(body["allowed"])


def test_a_json_list_instead_of_a_contact_is_a_422(client, service_headers):
    response = _post(client, "/api/contacts", [1, 2], service_headers)
    assert response.status_code == 422


def test_no_credentials_is_a_401(client):
    response = _post(client, "/api/contacts", FALL, {})
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_a_wrong_service_token_is_a_401(client):
    response = _post(client, "/api/contacts", FALL, {"Authorization": "Bearer guessed"})
    assert response.status_code == 401


def test_staff_json_post_needs_the_csrf_header(client_as, staff_json):
    handler = client_as("supervisor")
    assert _post(handler, "/api/contacts", FALL, {}).status_code == 400
    response = _post(handler, "/api/contacts", FALL, staff_json(handler))
    assert response.status_code == 201
    record = handler.get(f"/api/contacts/{response.get_json()['id']}").get_json()
    assert record["fact_events"][0]["source"] == "console" and record["fact_events"][0]["actor"] == handler.username


@pytest.mark.hazard("HAZ-019")
def test_database_down_is_a_503_saying_nothing_was_saved(triage, tmp_path, service_headers):
    app = make_app({}, triage, tmp_path)
    app.config["DATABASE_URL"] = "unused"
    from web.store import Store

    app.extensions["spoa"].store = Store("postgresql+psycopg://postgres@127.0.0.1:1/test", pool_size=1)
    client = app.test_client()
    response = _post(client, "/api/contacts", FALL, service_headers)
    assert response.status_code == 503
    assert "nothing was saved" in response.get_json()["message"]
    health = client.get("/api/health")
    assert health.status_code == 503 and health.get_json()["database"]["ok"] is False


# -- facts, reading back, triage, health --------------------------------------------------------

def test_correcting_the_injury_to_serious_makes_it_an_emergency(client, service_headers, client_as):
    contact_id = _post(client, "/api/contacts", FALL, service_headers).get_json()["id"]
    response = _post(client, f"/api/contacts/{contact_id}/facts", {"facts": {"fall_injury": "serious"},
                                                                   "source": "chat"}, service_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["decision"]["route"] == "emergency" and body["facts"]["fall_injury"] == "serious"
    events = client_as("supervisor").get(f"/api/contacts/{contact_id}").get_json()["fact_events"]
    assert events[-1] == {**events[-1], "fact": "fall_injury", "value": "serious", "source": "chat"}


def test_facts_for_an_unknown_contact_is_a_404(client, service_headers):
    response = _post(client, "/api/contacts/SPA-0000-0000/facts", {"facts": {"fallen": True}}, service_headers)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_facts_not_wrapped_in_an_object_is_a_422(client, service_headers):
    contact_id = _post(client, "/api/contacts", FALL, service_headers).get_json()["id"]
    response = _post(client, f"/api/contacts/{contact_id}/facts", {"fallen": True}, service_headers)
    assert response.status_code == 422 and response.get_json()["field"] == "facts"


def test_unknown_source_is_a_422_listing_the_sources(client, service_headers):
    contact_id = _post(client, "/api/contacts", FALL, service_headers).get_json()["id"]
    response = _post(client, f"/api/contacts/{contact_id}/facts", {"facts": {"fallen": True}, "source": "fax"},
                     service_headers)
    assert response.status_code == 422 and "chat" in response.get_json()["allowed"]


def test_unknown_contact_is_a_404(client, service_headers):
    assert client.get("/api/contacts/SPA-0000-0000", headers=service_headers).status_code == 404


def test_reading_a_contact_is_audit_logged(app, client_as, service_headers):
    client = app.test_client()
    contact_id = _post(client, "/api/contacts", FALL, service_headers).get_json()["id"]
    supervisor = client_as("supervisor")
    assert supervisor.get(f"/api/contacts/{contact_id.lower()}").status_code == 200
    with app.extensions["spoa"].store.session() as db:
        views = db.scalars(select(AuditEntry).where(AuditEntry.action == "contact.view")).all()
    assert [(v.actor, v.target) for v in views] == [(supervisor.username, contact_id)]


def test_triage_decides_without_storing(app, client, service_headers):
    response = _post(client, "/api/triage", {"facts": {"chest_pain": True}}, service_headers)
    assert response.status_code == 200 and response.get_json()["route"] == "emergency"
    assert _contacts(app) == 0


def test_triage_of_an_invalid_contact_is_a_422(client, service_headers):
    assert _post(client, "/api/triage", {"facts": {"age": -3}}, service_headers).status_code == 422


def test_health_names_the_database_and_ruleset(app, client, triage):
    from alembic.script import ScriptDirectory

    # The newest migration's id, whichever area added it last.
    head = ScriptDirectory.from_config(app.extensions["spoa"].store.alembic_config()).get_current_head()
    body = client.get("/api/health").get_json()
    assert body["status"] == "ok" and body["database"] == {"backend": "sqlite", "ok": True, "revision": head}
    assert body["ruleset"]["version"] == triage.ruleset.version and body["ruleset"]["rules"] > 20


def test_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {path for path in document["paths"]}
    routes = {rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert routes <= documented, routes - documented
    assert "chest_pain" in document["components"]["schemas"]["Facts"]["properties"]


def test_openapi_document_is_valid_openapi_3_1(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/openapi.json").get_json())


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_wrong_method_is_a_json_405(client):
    response = client.delete("/api/contacts")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


# -- call-backs, reviews, worklist ---------------------------------------------------------------

def test_resident_asking_for_a_person_puts_a_call_back_on_the_worklist(app, client, service_headers, client_as):
    info = {"facts": screen_clear(age=66, locality="thanet", information_topic="pendant alarm")}
    contact_id = _post(client, "/api/contacts", info, service_headers).get_json()["id"]
    response = _post(client, f"/api/contacts/{contact_id}/callback", {"note": "Prefers mornings"}, service_headers)
    assert response.status_code == 201 and response.get_json()["kind"] == "callback"
    duty = client_as("duty_worker")
    items = duty.get("/api/worklist?kind=callback").get_json()["items"]
    assert [(i["contact_id"], i["note"]) for i in items] == [(contact_id, "Prefers mornings")]


def test_call_back_with_no_body_is_accepted(client, service_headers):
    contact_id = _post(client, "/api/contacts", FALL, service_headers).get_json()["id"]
    response = client.post(f"/api/contacts/{contact_id}/callback", headers=service_headers)
    assert response.status_code == 201


def test_call_back_for_an_unknown_contact_is_a_404(client, service_headers):
    assert _post(client, "/api/contacts/SPA-0000-0000/callback", {}, service_headers).status_code == 404


@pytest.mark.hazard("HAZ-012")
def test_supervisor_confirms_and_overrides_with_a_reason_but_a_call_handler_cannot(app, client, service_headers,
                                                                                   client_as, staff_json):
    contact_id = _post(client, "/api/contacts", FALL, service_headers).get_json()["id"]
    handler = client_as("call_handler")
    refused = _post(handler, f"/api/contacts/{contact_id}/reviews", {"action": "override", "route": "self_care",
                                                                    "reason": "x"}, staff_json(handler))
    assert refused.status_code == 403
    supervisor = client_as("supervisor")
    confirm = _post(supervisor, f"/api/contacts/{contact_id}/reviews", {"action": "confirm"}, staff_json(supervisor))
    assert confirm.status_code == 201 and confirm.get_json()["route"] == "rapid_response"
    no_reason = _post(supervisor, f"/api/contacts/{contact_id}/reviews", {"action": "override", "route": "mdt"},
                      staff_json(supervisor))
    assert no_reason.status_code == 422 and no_reason.get_json()["field"] == "reason"
    override = _post(supervisor, f"/api/contacts/{contact_id}/reviews",
                     {"action": "override", "route": "mdt", "pathway": "complex_care",
                      "reason": "Known to the team"}, staff_json(supervisor))
    assert override.status_code == 201
    record = supervisor.get(f"/api/contacts/{contact_id}").get_json()
    assert record["route"] == "mdt" and record["overridden"] is True
    assert [r["action"] for r in record["reviews"]] == ["confirm", "override"]


def test_the_service_token_cannot_review_a_decision(client, service_headers):
    contact_id = _post(client, "/api/contacts", FALL, service_headers).get_json()["id"]
    response = _post(client, f"/api/contacts/{contact_id}/reviews", {"action": "confirm"}, service_headers)
    assert response.status_code == 403


def test_duty_worker_accepts_once_and_returns_only_with_a_reason(client, service_headers, client_as, staff_json):
    _post(client, "/api/contacts", FALL, service_headers)
    lonely = {"facts": screen_clear(age=80, locality="swale", lonely_or_isolated=True)}
    _post(client, "/api/contacts", lonely, service_headers)
    duty = client_as("duty_worker")
    items = duty.get("/api/worklist").get_json()["items"]
    assert [i["route"] for i in items] == ["rapid_response", "voluntary_sector"]
    fall_item, lonely_item = items[0]["id"], items[1]["id"]
    assert _post(duty, f"/api/worklist/{fall_item}/accept", {}, staff_json(duty)).status_code == 200
    assert _post(duty, f"/api/worklist/{fall_item}/accept", {}, staff_json(duty)).status_code == 409
    assert _post(duty, f"/api/worklist/{lonely_item}/return", {"reason": ""}, staff_json(duty)).status_code == 422
    returned = _post(duty, f"/api/worklist/{lonely_item}/return", {"reason": "Has a befriender"}, staff_json(duty))
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"
    assert duty.get("/api/worklist?view=open").get_json()["items"] == []
    (mine,) = duty.get("/api/worklist?view=mine").get_json()["items"]
    assert mine["id"] == fall_item and mine["assigned_to"] == duty.username
    assert _post(duty, "/api/worklist/999/accept", {}, staff_json(duty)).status_code == 404


@pytest.mark.hazard("HAZ-013")
def test_call_handler_cannot_read_the_worklist(client_as):
    assert client_as("call_handler").get("/api/worklist").status_code == 403


def test_supervisor_lists_contacts_filtered_by_route(client, service_headers, client_as):
    _post(client, "/api/contacts", FALL, service_headers)
    _post(client, "/api/contacts", {"facts": {"chest_pain": True}}, service_headers)
    supervisor = client_as("supervisor")
    body = supervisor.get("/api/contacts?route=emergency").get_json()
    assert body["total"] == 1 and body["contacts"][0]["route"] == "emergency"
    assert supervisor.get("/api/contacts?review_required=maybe").status_code == 400
    assert supervisor.get("/api/contacts?from=26/11/2026").status_code == 400


def test_supervisor_verifies_the_audit_log_over_the_api(client_as):
    supervisor = client_as("supervisor")
    body = supervisor.get("/api/audit/verify").get_json()
    assert body["ok"] is True and body["rows_checked"] >= 1


# -- no personal data in logs; never a 500 --------------------------------------------------------

@pytest.mark.hazard("HAZ-013")
def test_logs_name_the_contact_and_route_but_no_facts(client, service_headers, caplog):
    secret = "my neighbour Mrs Example at 1 Fictional Road"
    caplog.set_level(logging.DEBUG)
    body = _post(client, "/api/contacts", {"facts": screen_clear(information_topic=secret)}, service_headers).get_json()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert body["id"] in text and "self_care" in text
    assert secret not in text and "Fictional" not in text


json_values = st.recursive(st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=8),
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=12), children, max_size=3), max_leaves=8)
fact_names = st.sampled_from(["age", "fallen", "fall_injury", "abuse_types", "locality", "frailty_score",
                              "chest_pain", "practical_help", "not_a_fact"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=st.dictionaries(fact_names, json_values, max_size=4), extra=json_values)
def test_any_json_gets_a_decision_or_a_clear_error_never_a_500(client, service_headers, facts, extra):
    for body in ({"facts": facts}, extra, {"facts": facts, "received_at": extra}, {"facts": facts, "channel": extra}):
        response = _post(client, "/api/contacts", body, service_headers)
        assert response.status_code in (201, 422), (body, response.get_json())
        assert response.is_json and "error" in response.get_json() or response.status_code == 201
