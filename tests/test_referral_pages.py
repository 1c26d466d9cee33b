"""The duty worker's referral page, the worklist's pages and refresh, and the supervisors'
queue: real app, real engine, SQLite, staff logged in through the form."""
from __future__ import annotations

import pytest

import re
from datetime import timedelta

from conftest import T0, screen_clear
from web.store import contacts, people
from web.store.models import ConsoleCall

KENT = {"age": 84, "locality": "swale"}
FALL = screen_clear(**KENT, fallen=True, on_floor_cannot_get_up=True, fall_injury="none")
LONELY = screen_clear(**KENT, lonely_or_isolated=True)


def _contact(app, facts, *, at=T0, words=None, person=None, channel="web_chat"):
    spoa = app.extensions["spoa"]

    def work(db):
        outcome = contacts.create_contact(db, spoa.triage, {"channel": channel, "received_at": at.isoformat(),
                                                            "facts": facts}, now=at, source="chat")
        if words:
            people.record_words(db, outcome.contact.id, words, source="chat", now=at)
        if person:
            people.save_details(db, outcome.contact.id, person, actor="service", actor_role=None, now=at,
                                today=at.date())
        return outcome.contact.id, outcome.worklist_item.id if outcome.worklist_item else None

    return spoa.store.run(work)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.hazard("HAZ-012")
def test_duty_worker_sees_the_person_their_words_the_facts_and_why_then_accepts_and_completes(app, client_as):
    contact_id, item_id = _contact(app, FALL, words="Mum has fallen and can't get up off the kitchen floor",
                                   person={"name": "Edith Clarke", "phone": "07700 900321",
                                           "nhs_number": "9434765919", "date_of_birth": "1940-05-01"})
    duty = client_as("duty_worker")
    page = duty.get(f"/worklist/{item_id}").get_data(as_text=True)
    for seen in ("Edith Clarke", "07700 900321", "943 476 5919", "01/05/1940",
                 "Mum has fallen and can&#39;t get up off the kitchen floor", "the person, in the web chat",
                 "UCR-", "Source:", "Consent to share: <strong>not needed for this referral"):
        assert seen in page, seen
    accepted = duty.post(f"/worklist/{item_id}/accept", data={"csrf_token": _token(page), "next": "referral"})
    assert accepted.status_code == 303
    page = duty.get(accepted.headers["Location"]).get_data(as_text=True)
    assert f"Accepted by {duty.username}" in page and 'id="complete"' in page
    empty = duty.post(f"/worklist/{item_id}/complete", data={"csrf_token": _token(page), "next": "referral",
                                                             "outcome": ""})
    assert empty.status_code == 400 and "Say what the outcome was" in empty.get_data(as_text=True)
    done = duty.post(f"/worklist/{item_id}/complete", data={"csrf_token": _token(page), "next": "referral",
                                                            "outcome": "Visited within the hour; no injury"})
    assert done.status_code == 303
    assert "Visited within the hour" in duty.get(f"/worklist/{item_id}").get_data(as_text=True)


@pytest.mark.hazard("HAZ-013")
def test_an_admin_sees_the_referral_but_not_the_persons_details(app, client_as):
    _, item_id = _contact(app, FALL, person={"name": "Edith Clarke", "phone": "07700 900321"})
    page = client_as("admin").get(f"/worklist/{item_id}").get_data(as_text=True)
    assert "Edith Clarke" not in page and "Your role can't see the person's details" in page
    assert 'id="accept"' not in page


def test_a_second_duty_worker_sees_the_item_is_taken_and_cannot_complete_it(app, client_as):
    _, item_id = _contact(app, FALL)
    first, second = client_as("duty_worker"), client_as("duty_worker")
    page = first.get(f"/worklist/{item_id}").get_data(as_text=True)
    first.post(f"/worklist/{item_id}/accept", data={"csrf_token": _token(page)})
    theirs = second.get(f"/worklist/{item_id}").get_data(as_text=True)
    assert f"Accepted by {first.username}" in theirs and 'id="complete"' not in theirs
    refused = second.post(f"/worklist/{item_id}/complete", data={"csrf_token": _token(theirs), "outcome": "x",
                                                                 "next": "referral"})
    assert refused.status_code == 403


def test_worklist_shows_the_true_count_pages_and_filters_overdue(app, client_as):
    for n in range(27):
        _contact(app, LONELY, at=T0 - timedelta(minutes=n))
    _contact(app, FALL, at=T0 - timedelta(hours=3))
    duty = client_as("duty_worker")
    first = duty.get("/worklist/").get_data(as_text=True)
    assert "<strong>28</strong> items, showing 1 to 25" in first and "1 overdue" in first
    assert "Page 2 of 2" in first
    second = duty.get("/worklist/?page=2").get_data(as_text=True)
    assert "showing 26 to 28" in second
    overdue = duty.get("/worklist/?overdue=true").get_data(as_text=True)
    assert "<strong>1</strong> item" in overdue and "Overdue</strong>" in overdue


def test_the_refresh_fragment_is_the_list_alone_with_the_same_filters(app, client_as):
    _contact(app, FALL)
    duty = client_as("duty_worker")
    page = duty.get("/worklist/?route=rapid_response").get_data(as_text=True)
    assert 'data-refresh="/worklist/?route=rapid_response&amp;page=1&amp;fragment=1"' in page
    fragment = duty.get("/worklist/?route=rapid_response&page=1&fragment=1").get_data(as_text=True)
    assert "<html" not in fragment and 'id="worklist"' in fragment


@pytest.mark.hazard("HAZ-012")
def test_nine_nine_nine_and_self_care_are_never_offered_to_send(app, client_as):
    _contact(app, {**KENT, "chest_pain": True})
    _contact(app, screen_clear(**KENT, information_topic="pendant alarm"))
    page = client_as("duty_worker").get("/worklist/").get_data(as_text=True)
    assert "Accept and send" not in page and "Nothing is waiting" in page


def test_someone_in_danger_is_an_urgent_safeguarding_referral_on_the_worklist_not_a_999_one(app, client_as):
    contact_id, item_id = _contact(app, screen_clear(**KENT, immediate_danger=True))
    duty = client_as("duty_worker")
    listed = duty.get("/worklist/").get_data(as_text=True)
    assert "Urgent safeguarding referral (999 was advised)" in listed and "Referral to emergency" not in listed
    page = duty.get(f"/worklist/{item_id}").get_data(as_text=True)
    assert "Urgent safeguarding referral (999 was advised)" in page


def test_a_fall_is_listed_as_a_referral_to_rapid_response(app, client_as):
    _contact(app, FALL)
    assert "Referral to rapid response" in client_as("duty_worker").get("/worklist/").get_data(as_text=True)


def test_returned_referral_waits_in_the_supervisors_queue_and_comes_back_when_decided_again(app, client_as):
    contact_id, item_id = _contact(app, LONELY)
    duty = client_as("duty_worker")
    page = duty.get("/worklist/").get_data(as_text=True)
    duty.post(f"/worklist/{item_id}/return", data={"csrf_token": _token(page), "reason": "Lives in Medway"})
    assert duty.get("/worklist/supervisors").status_code == 403
    supervisor = client_as("supervisor")
    queue = supervisor.get("/worklist/supervisors").get_data(as_text=True)
    assert "Returned referrals (1)" in queue and "Lives in Medway" in queue and contact_id in queue
    again = supervisor.post(f"/worklist/supervisors/{contact_id}/redecide", data={"csrf_token": _token(queue)})
    assert again.status_code == 303
    assert "Returned referrals (0)" in supervisor.get("/worklist/supervisors").get_data(as_text=True)
    assert contact_id in duty.get("/worklist/?view=open").get_data(as_text=True)


@pytest.mark.hazard("HAZ-005")
def test_a_phone_referral_left_open_reaches_the_supervisors_and_can_be_closed_as_ended_early(app, client_as, clock):
    spoa = app.extensions["spoa"]
    contact_id = spoa.store.run(lambda db: contacts.create_contact(
        db, spoa.triage, {"channel": "phone", "facts": FALL}, now=clock.now, source="console", refer=False)).contact.id
    spoa.store.run(lambda db: db.add(ConsoleCall(contact_id=contact_id, handler="handler-7", started_at=clock.now,
                                                 updated_at=clock.now)))
    supervisor = client_as("supervisor")
    clock.advance(minutes=16)
    queue = supervisor.get("/worklist/supervisors").get_data(as_text=True)
    assert contact_id in queue and "Referral left open" in queue and "handler-7" in queue
    closed = supervisor.post(f"/worklist/supervisors/{contact_id}/dropped", data={"csrf_token": _token(queue)})
    assert closed.status_code == 303
    worklist = client_as("duty_worker").get("/worklist/").get_data(as_text=True)
    assert contact_id in worklist and "Call ended before triage finished" in worklist


def test_a_supervisor_takes_over_a_call_left_open_and_closes_it_so_the_referral_reaches_the_worklist(
        app, client_as, staff_json):
    spoa = app.extensions["spoa"]
    contact_id = spoa.store.run(lambda db: contacts.create_contact(
        db, spoa.triage, {"channel": "phone", "facts": FALL}, now=T0, source="console", refer=False)).contact.id
    spoa.store.run(lambda db: db.add(ConsoleCall(contact_id=contact_id, handler="handler-7", started_at=T0,
                                                 updated_at=T0)))
    supervisor = client_as("supervisor")
    close = {"action": "confirm"}
    assert supervisor.post(f"/console/api/contacts/{contact_id}/close", json=close,
                           headers=staff_json(supervisor)).status_code == 403      # not theirs yet
    queue = supervisor.get("/worklist/supervisors").get_data(as_text=True)
    supervisor.post(f"/worklist/supervisors/{contact_id}/take-over", data={"csrf_token": _token(queue)})
    assert contact_id in [c["id"] for c in supervisor.get("/console/api/contacts").get_json()["contacts"]]
    closed = supervisor.post(f"/console/api/contacts/{contact_id}/close", json=close, headers=staff_json(supervisor))
    assert closed.status_code == 200 and closed.get_json()["contact"]["status"] == "closed"
    assert contact_id in client_as("duty_worker").get("/worklist/").get_data(as_text=True)
