"""The referral message: an accepted referral becomes a FHIR R4 BaRS referral request Bundle
that fhir.resources (R4B) and our MessageDefinition check both accept, on every route."""
from __future__ import annotations

import copy
from datetime import date, datetime, timezone

import pytest

from conftest import csrf_token
from fhir_helpers import accepted_referral, example
from spoa.fhir import MessageInvalid, Organisation, Person, Referral, check_message, email_summary, referral_bundle
from spoa.fhir import profiles
from spoa.fhir.teams import NoTeam, load_teams

T_RECEIVED = datetime(2026, 11, 26, 9, 30, tzinfo=timezone.utc)
T_ACCEPTED = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def one(bundle: dict, kind: str) -> dict:
    found = resources(bundle, kind)
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


# -- each route, through the store: accept -> outbox -> a valid message ------------------------

@pytest.mark.parametrize("name, route, team, priority", [
    ("fall-long-lie", "rapid_response", "West and North Kent urgent community response (example)", "urgent"),
    ("suicidal-with-plan", "rapid_response", "Kent and Medway mental health crisis team (example)", "urgent"),
    ("multimorbid-high-risk", "mdt", None, "routine"),
    ("carer-eligible", "mdt", None, "routine"),
    ("financial-abuse-dementia", "mdt", "Kent adult safeguarding team (example)", "routine"),
    ("lonely", "voluntary_sector", None, "routine"),
])
def test_an_accepted_referral_on_each_route_is_a_valid_bars_message(app, name, route, team, priority):
    contact_id, message = accepted_referral(app, name)
    bundle = message.bundle
    assert check_message(bundle) is bundle
    assert message.last_error is None and message.status in ("pending", "email")
    header, request = bundle["entry"][0]["resource"], one(bundle, "ServiceRequest")
    assert header["resourceType"] == "MessageHeader" and header["id"] == message.message_id
    assert header["eventCoding"] == {"system": profiles.EVENT_SYSTEM, "code": "servicerequest-request"}
    assert header["reason"]["coding"][0]["code"] == "new"
    assert header["focus"] == [{"reference": f"urn:uuid:{request['id']}"}]
    assert request["intent"] == "plan" and request["priority"] == priority
    assert request["category"][0]["coding"][0]["code"] == "referral"
    assert request["reasonCode"][0]["coding"][0]["code"] == example(name)["expected"]["pathway"]
    assert request["identifier"][0]["value"] == contact_id
    assert request["occurrencePeriod"]["end"] > request["occurrencePeriod"]["start"]
    assert request["code"]["text"] and bundle["meta"]["profile"] == [profiles.PROFILES["Bundle"]]
    assert all(e["resource"]["meta"]["profile"] == [profiles.PROFILES[e["resource"]["resourceType"]]]
               for e in bundle["entry"])
    if team:
        assert message.team_name == team
    assert len(resources(bundle, "Organization")) == 2


def test_a_fall_reaches_the_response_team_by_the_deadline_of_two_hours_from_the_call(app):
    _, message = accepted_referral(app, "fall-long-lie")
    request = one(message.bundle, "ServiceRequest")
    assert request["occurrencePeriod"]["end"] == "2026-11-26T11:30:00Z"  # received 09:30 + PT2H
    assert message.endpoint.endswith("/ucr-west/$process-message")


def test_a_safeguarding_referral_carries_a_flag(app):
    _, message = accepted_referral(app, "financial-abuse-dementia")
    flag = one(message.bundle, "Flag")
    assert flag["status"] == "active" and "financial" in flag["code"]["text"]
    assert {"reference": f"urn:uuid:{flag['id']}"} in one(message.bundle, "ServiceRequest")["supportingInfo"]


def test_a_referral_without_a_safeguarding_concern_carries_no_flag(app):
    _, message = accepted_referral(app, "fall-long-lie")
    assert resources(message.bundle, "Flag") == []


def test_the_answers_and_the_still_unknown_facts_go_in_the_questionnaire_response(app):
    _, message = accepted_referral(app, "multimorbid-high-risk")
    answers = {item["linkId"]: item["answer"] for item in one(message.bundle, "QuestionnaireResponse")["item"]}
    facts = example("multimorbid-high-risk")["contact"]["facts"]
    assert set(facts) <= set(answers)
    assert answers["chest_pain"] == [{"valueBoolean": False}]
    assert answers["age"] == [{"valueInteger": facts["age"]}]


def test_the_care_plan_says_why_with_the_rules_that_fired(app):
    _, message = accepted_referral(app, "fall-long-lie")
    notes = [note["text"] for note in one(message.bundle, "CarePlan")["note"]]
    assert any(text.startswith("UCR-1") for text in notes)


def test_a_voluntary_sector_organisation_with_no_endpoint_gets_an_email_summary(app):
    contact_id, message = accepted_referral(app, "lonely")
    assert message.status == "email" and message.endpoint is None
    assert message.team_id.startswith("directory:")
    assert f"Referral {contact_id}" in message.summary and "Please quote it" in message.summary
    assert one(message.bundle, "MessageHeader")["destination"][0]["endpoint"].startswith("mailto:")


# -- the builder alone: the person's details ----------------------------------------------------

def referral(**changes) -> Referral:
    base = dict(
        reference="SPA-7K3Q-9F2M", message_id="0b6f5c1e-8d0a-4a57-9d3c-3f4d2f1e6a11", reason="new",
        received_at=T_RECEIVED, accepted_at=T_ACCEPTED, accepted_by="duty.one", route="rapid_response",
        pathway="ucr", decision={"route": "rapid_response", "pathway": "ucr", "response_target": "PT2H",
                                 "safeguarding": {"level": "none"}, "missing": ["on_anticoagulants"],
                                 "fired": [{"rule": "UCR-1", "version": 1, "source": "PROTOCOL.md §3"}]},
        facts={"fallen": True, "age": 90, "head_injury": None},
        sender=Organisation(id="sender", name="Kent SPoA", ods="X26SP", endpoint="https://spoa.example/fhir"),
        team=Organisation(id="ucr", name="UCR", ods="RYY01", endpoint="https://ucr.example/$process-message"),
        due_at=datetime(2026, 11, 26, 11, 30, tzinfo=timezone.utc), questions={"fallen": "Has she fallen?"})
    return Referral(**{**base, **changes})


def test_a_known_nhs_number_is_the_patients_identifier():
    person = Person(name="Edith Cole", birth_date=date(1936, 3, 2), nhs_number="9434765919",
                    address="1 High Street, Sittingbourne", postcode="ME10 4AB",
                    phones=("01795000000",), caller_name="Jo Cole", caller_phone="07700900123",
                    caller_relationship="daughter")
    bundle = check_message(referral_bundle(referral(person=person)))
    patient = one(bundle, "Patient")
    assert patient["identifier"] == [{"system": profiles.NHS_NUMBER_SYSTEM, "value": "9434765919"}]
    assert patient["name"][0]["text"] == "Edith Cole" and patient["birthDate"] == "1936-03-02"
    assert patient["address"][0]["postalCode"] == "ME10 4AB"
    assert patient["address"][0]["line"] == ["1 High Street", "Sittingbourne"]
    assert patient["telecom"][0]["value"] == "01795000000"
    assert patient["contact"][0]["relationship"][0]["text"] == "daughter"
    assert "Edith Cole" in email_summary(referral(person=person))


def test_the_persons_details_kept_for_the_contact_go_in_the_patient(app):
    details = {"name": "Edith Cole", "date_of_birth": "1936-03-02", "address": "1 High Street, Sittingbourne",
               "postcode": "me10 4ab", "phone": "01795 000 000", "nhs_number": "943 476 5919",
               "caller_name": "Jo Cole", "caller_relationship": "daughter"}
    _, message = accepted_referral(app, "fall-long-lie", person=details)
    patient = one(check_message(message.bundle), "Patient")
    assert patient["identifier"] == [{"system": profiles.NHS_NUMBER_SYSTEM, "value": "9434765919"}]
    assert patient["name"] == [{"use": "official", "text": "Edith Cole"}]
    assert patient["address"][0]["postalCode"] == "ME10 4AB" and patient["birthDate"] == "1936-03-02"
    assert "Edith Cole" in message.summary


def test_an_unknown_nhs_number_leaves_the_patient_without_an_identifier():
    bundle = check_message(referral_bundle(referral(person=Person(name="Edith Cole"))))
    assert "identifier" not in one(bundle, "Patient")


def test_an_unknown_answer_and_an_unasked_question_both_say_so():
    items = {i["linkId"]: i for i in one(referral_bundle(referral()), "QuestionnaireResponse")["item"]}
    assert items["fallen"]["text"] == "Has she fallen?"
    assert items["head_injury"]["answer"][0]["valueCoding"]["code"] == "asked-unknown"
    assert items["on_anticoagulants"]["answer"][0]["valueCoding"]["code"] == "not-asked"


def test_an_update_keeps_the_referral_ids_and_changes_the_message_id():
    first = referral_bundle(referral())
    update = referral_bundle(referral(reason="update", message_id="5d1c0e0a-1b7e-4c55-8a43-7f0e9d1e2b33"))
    assert one(update, "MessageHeader")["reason"]["coding"][0]["code"] == "update"
    assert one(first, "ServiceRequest")["id"] == one(update, "ServiceRequest")["id"]
    assert one(first, "MessageHeader")["id"] != one(update, "MessageHeader")["id"]


# -- the check: what it refuses -----------------------------------------------------------------

def without(bundle: dict, kind: str) -> dict:
    broken = copy.deepcopy(bundle)
    broken["entry"] = [e for e in broken["entry"] if e["resource"]["resourceType"] != kind]
    return broken


def test_a_message_without_the_patient_breaks_the_message_definition():
    with pytest.raises(MessageInvalid) as error:
        check_message(without(referral_bundle(referral()), "Patient"))
    assert any(problem.startswith("Patient: 0 in the Bundle") for problem in error.value.problems)
    assert any("references to nothing" in problem for problem in error.value.problems)


def test_a_message_without_a_response_deadline_is_refused():
    with pytest.raises(MessageInvalid, match="occurrencePeriod.end"):
        check_message(referral_bundle(referral(due_at=None)))


def test_a_wrongly_typed_element_is_refused_by_the_fhir_models():
    broken = referral_bundle(referral())
    one(broken, "Patient")["birthDate"] = "2 March 1936"
    with pytest.raises(MessageInvalid, match="birthDate"):
        check_message(broken)


def test_a_message_whose_header_is_not_first_is_refused():
    broken = referral_bundle(referral())
    broken["entry"].append(broken["entry"].pop(0))
    with pytest.raises(MessageInvalid, match="first entry must be the MessageHeader"):
        check_message(broken)


def test_a_resource_outside_the_message_definition_is_refused():
    broken = referral_bundle(referral())
    broken["entry"].append({"fullUrl": "urn:uuid:0e0e0e0e-0000-4000-8000-000000000001",
                            "resource": {"resourceType": "Basic", "code": {"text": "x"}}})
    with pytest.raises(MessageInvalid, match="Basic is not in the referral request MessageDefinition"):
        check_message(broken)


# -- receiving teams ----------------------------------------------------------------------------

TEAMS = {"referrals": {"sender": {"name": "SPoA"}, "teams": [
    {"id": "ucr_east", "name": "UCR east", "route": "rapid_response", "localities": ["thanet"], "endpoint": "e"},
    {"id": "ucr_any", "name": "UCR", "route": "rapid_response", "endpoint": "a"},
    {"id": "mh", "name": "Crisis", "pathway": "mental_health_crisis", "endpoint": "m"}]}}


@pytest.mark.hazard("HAZ-008")
def test_the_team_for_the_persons_locality_is_chosen_over_the_county_team():
    teams = load_teams(TEAMS)
    assert teams.for_referral("rapid_response", "ucr", "thanet").organisation.id == "ucr_east"
    assert teams.for_referral("rapid_response", "ucr", "swale").organisation.id == "ucr_any"


def test_the_pathway_team_wins_over_the_route_team():
    assert load_teams(TEAMS).for_referral("rapid_response", "mental_health_crisis", "thanet").organisation.id == "mh"


@pytest.mark.hazard("HAZ-008")
def test_a_referral_no_team_takes_is_an_error_not_a_silent_drop():
    with pytest.raises(NoTeam):
        load_teams(TEAMS).for_referral("mdt", "complex_care", "thanet")


# -- GET /api/contacts/<id>/referral, and where the delivery shows ------------------------------

def test_the_referral_sent_is_readable_as_fhir_json_by_staff_who_work_on_it(app, client_as):
    contact_id, message = accepted_referral(app, "fall-long-lie")
    for role in ("duty_worker", "supervisor"):
        response = client_as(role).get(f"/api/contacts/{contact_id}/referral")
        assert response.status_code == 200 and response.mimetype == "application/fhir+json"
        assert response.get_json() == message.bundle


@pytest.mark.hazard("HAZ-013")
@pytest.mark.parametrize("who", ["service", "admin", "call_handler"])
def test_the_referral_sent_is_not_readable_by_those_who_may_not_see_the_person(app, client, client_as,
                                                                              service_headers, who):
    contact_id, _ = accepted_referral(app, "fall-long-lie")
    if who == "service":
        response = client.get(f"/api/contacts/{contact_id}/referral", headers=service_headers)
    else:
        response = client_as(who).get(f"/api/contacts/{contact_id}/referral")
    assert response.status_code == 403


def test_a_contact_with_no_referral_sent_has_no_referral_to_read(app, client, client_as):
    from web.store import contacts

    spoa = app.extensions["spoa"]
    stored = spoa.store.run(lambda db: contacts.create_contact(db, spoa.triage, example("fall-long-lie")["contact"],
                                                               now=spoa.now()))
    response = client_as("supervisor").get(f"/api/contacts/{stored.contact.id}/referral")
    assert response.status_code == 404 and response.get_json()["error"] == "no_referral"
    assert client.get(f"/api/contacts/{stored.contact.id}/referral").status_code == 401


def test_the_worklist_and_the_contact_page_show_where_the_referral_is(app, client_as):
    contact_id, message = accepted_referral(app, "lonely")
    duty = client_as("duty_worker")
    page = duty.get("/worklist/").get_data(as_text=True)
    assert f'id="delivery-{message.id}"' in page and "Send by email" in page and f"Referral {contact_id}" in page
    contact_page = client_as("supervisor").get(f"/audit/contacts/{contact_id}").get_data(as_text=True)
    assert "Referral messages" in contact_page and "Send by email" in contact_page
    referral_page = duty.get(f"/worklist/{message.worklist_item_id}").get_data(as_text=True)
    assert "Sent to the team" in referral_page and f'id="delivery-{message.id}"' in referral_page
    sent = duty.post(f"/worklist/outbox/{message.id}/emailed", data={"csrf_token": csrf_token(duty, "/worklist/")})
    assert sent.status_code == 303
    assert "Delivered" in duty.get("/worklist/").get_data(as_text=True)


def test_an_email_summary_is_marked_sent_only_with_the_form_token(app, client_as):
    _, message = accepted_referral(app, "lonely")
    client_as("duty_worker").post(f"/worklist/outbox/{message.id}/emailed", data={})
    with app.extensions["spoa"].store.session() as db:
        assert db.get(type(message), message.id).status == "email"


def test_erasing_the_persons_details_erases_them_from_the_referral_sent(app):
    from web.store import outbox, people

    details = {"name": "Edith Cole", "date_of_birth": "1936-03-02", "phone": "01795 000 000",
               "nhs_number": "943 476 5919"}
    contact_id, message = accepted_referral(app, "fall-long-lie", person=details)
    spoa = app.extensions["spoa"]
    pseudonym = spoa.store.run(lambda db: people.erase(db, contact_id, actor="admin", actor_role="admin",
                                                       now=spoa.now()))
    with spoa.store.session() as db:
        kept = outbox.for_contact(db, contact_id)[0]
    patient = one(check_message(kept.bundle), "Patient")
    assert patient["name"] == [{"use": "anonymous", "text": pseudonym}] and "identifier" not in patient
    assert "Edith" not in str(kept.bundle) and "9434765919" not in str(kept.bundle) and kept.summary is None


def test_a_referral_for_someone_whose_details_are_kept_names_them(app):
    _, message = accepted_referral(app, "fall-long-lie", person={"name": "Edith Cole"})
    assert one(message.bundle, "Patient")["name"][0]["text"] == "Edith Cole"


def _accept_after_new_facts(app, contact_id: str, facts: dict):
    from web.referral_message import accept_and_send
    from web.store import contacts, outbox

    spoa = app.extensions["spoa"]
    now = spoa.now()
    changed = spoa.store.run(lambda db: contacts.add_facts(db, spoa.triage, contact_id, facts, now=now,
                                                           source="console", actor="handler"))
    assert changed.worklist_item is not None, changed.decision
    spoa.store.run(lambda db: accept_and_send(db, spoa, changed.worklist_item.id, actor="duty.two",
                                              actor_role="duty_worker", now=now))
    with spoa.store.session() as db:
        return outbox.for_contact(db, contact_id)[0]


def test_a_second_referral_to_the_same_team_is_sent_as_an_update_of_the_first(app):
    contact_id, first = accepted_referral(app, "fall-long-lie")
    second = _accept_after_new_facts(app, contact_id, {"abuse_types": ["neglect"]})  # now a safeguarding concern
    assert second.team_id == first.team_id and second.message_id != first.message_id
    assert [one(m.bundle, "MessageHeader")["reason"]["coding"][0]["code"] for m in (first, second)] == ["new", "update"]
    assert one(second.bundle, "ServiceRequest")["id"] == one(first.bundle, "ServiceRequest")["id"]
    assert one(second.bundle, "Flag")["code"]["text"].startswith("Safeguarding concern")


def test_a_second_referral_to_another_team_is_a_new_referral_for_it(app):
    contact_id, first = accepted_referral(app, "lonely")
    second = _accept_after_new_facts(app, contact_id, {"fallen": True, "on_floor_cannot_get_up": True,
                                                       "fall_injury": "none", "head_injury": False,
                                                       "lost_consciousness": False})
    assert second.team_id != first.team_id and second.status == "pending"
    assert one(second.bundle, "MessageHeader")["reason"]["coding"][0]["code"] == "new"
    assert one(second.bundle, "ServiceRequest")["id"] != one(first.bundle, "ServiceRequest")["id"]


def test_every_referral_the_engine_can_make_has_a_receiving_team_in_the_shipped_config(triage):
    from spoa.vocabulary import pathways
    from web.store.worklist import REFERRING_ROUTES

    teams = load_teams(triage.config.data)
    for route in REFERRING_ROUTES:
        for pathway in pathways():
            for locality in triage.config.localities:
                team = teams.for_referral(route, pathway, locality).organisation
                assert team.endpoint or team.email, (route, pathway, locality, team.id)
    assert teams.sender.ods and all(team.organisation.ods for team in teams.teams)
