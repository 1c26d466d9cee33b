"""Referrals in a real browser (headless Chromium, Playwright; fixtures in conftest.py): a chat
referral with the person's details reaches the duty worker, who sees everything and accepts
it; a returned referral and a call left open reach the supervisors' queue; the console's
details panel names a wrong NHS number and closes a dropped call for a call-back.

The chat side is driven through the dialogue API with the service token, as the Rasa action
server drives it (the chat page itself is tested in test_browser_chat.py).
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from browser_helpers import log_in, page_errors, serious_accessibility_problems
from conftest import PASSWORD, SERVICE_TOKEN, create_user, screen_clear
from web.store import contacts, people
from web.store.models import ConsoleCall

pytestmark = pytest.mark.browser

SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}", "Content-Type": "application/json"}
WORDS = "My dad has fallen in the garden and can't get up, he's been there an hour"


def _chat_referral(live_app) -> str:
    """A resident's chat contact as the service token stores it (their words kept as the chat
    turn keeps them), ending with the person's details; returns the contact's reference."""
    client = live_app.test_client()
    answers = screen_clear(age=81, locality="thanet", fallen=True, on_floor_cannot_get_up=True, fall_injury="none",
                           head_injury=False)
    stored = client.post("/api/contacts", headers=SERVICE, data=json.dumps({"channel": "web_chat", "facts": answers,
                                                                           "source": "chat"}))
    assert stored.status_code == 201 and stored.get_json()["decision"]["route"] == "rapid_response"
    contact_id = stored.get_json()["id"]
    spoa = live_app.extensions["spoa"]
    spoa.store.run(lambda db: people.record_words(db, contact_id, WORDS, source="chat", now=spoa.now()))
    person = client.post(f"/api/contacts/{contact_id}/person", headers=SERVICE, data=json.dumps({
        "name": "Arthur Finch", "date_of_birth": "14/07/1945", "address": "3 Harbour Street, Ramsgate",
        "postcode": "ct11 8ha", "phone": "07700 900777", "nhs_number": "943 476 5919",
        "caller_name": "Jo Finch", "caller_phone": "07700 900778", "caller_relationship": "daughter"}))
    assert person.status_code == 200 and person.get_json()["missing_for_referral"] == []
    return contact_id


def _staff_page(live_app, new_page, role: str):
    page = new_page(width=1366, height=900)
    page.set_default_timeout(10000)
    log_in(page, create_user(live_app, role), PASSWORD)
    return page


def test_chat_referral_with_the_persons_details_reaches_the_duty_worker_who_sees_everything_and_accepts(
        live_app, new_page):
    contact_id = _chat_referral(live_app)
    page = _staff_page(live_app, new_page, "duty_worker")
    page.goto("/worklist/")
    item = page.locator("li.app-worklist__item", has_text=contact_id)
    item.get_by_role("link", name=re.compile("Referral to rapid response")).click()
    page.wait_for_selector("#person-details")
    person = page.inner_text("#person-details")
    for seen in ("Arthur Finch", "14/07/1945", "3 Harbour Street, Ramsgate", "CT11 8HA", "07700 900777",
                 "943 476 5919", "Jo Finch", "daughter"):
        assert seen in person, seen
    assert "can't get up" in page.inner_text("#words")
    assert "the person, in the web chat" in page.inner_text("#facts")
    reasons = page.inner_text("#reasons")
    assert "UCR-" in reasons and "Source:" in reasons
    assert serious_accessibility_problems(page) == []
    page.click("#accept")
    page.wait_for_selector("#complete")
    assert "Accepted by" in page.inner_text("#referral-status")
    page.fill("#outcome", "Team visited at 11:20; no injury; home safety check booked")
    page.click("#complete")
    page.wait_for_selector("#history")
    assert "home safety check booked" in page.inner_text("#history")
    assert page_errors(page) == []


def test_a_returned_referral_and_a_call_left_open_reach_the_supervisors_queue(live_app, new_page):
    spoa = live_app.extensions["spoa"]
    lonely = spoa.store.run(lambda db: contacts.create_contact(
        db, spoa.triage, {"channel": "web_chat", "facts": screen_clear(age=79, locality="swale",
                                                                        lonely_or_isolated=True)},
        now=spoa.now(), source="chat")).contact.id
    left_at = spoa.now() - timedelta(minutes=20)
    call = spoa.store.run(lambda db: contacts.create_contact(
        db, spoa.triage, {"channel": "phone", "received_at": left_at.isoformat(),
                          "facts": screen_clear(age=88, locality="ashford", fallen=True, fall_injury="none")},
        now=left_at, source="console", refer=False)).contact.id
    spoa.store.run(lambda db: db.add(ConsoleCall(contact_id=call, handler="handler-gone-home", started_at=left_at,
                                                 updated_at=left_at)))
    duty = _staff_page(live_app, new_page, "duty_worker")
    duty.goto("/worklist/")
    item = duty.locator("li.app-worklist__item", has_text=lonely)
    item.locator("summary").click()
    item.locator("textarea").fill("Already has a befriender from Age UK")
    item.get_by_role("button", name=re.compile("Return with this reason")).click()
    duty.wait_for_selector(".nhsuk-notification-banner")

    supervisor = _staff_page(live_app, new_page, "supervisor")
    supervisor.goto("/worklist/supervisors")
    returned = supervisor.inner_text("#returned")
    assert lonely in returned and "Already has a befriender from Age UK" in returned
    row = supervisor.inner_text(f"#call-{call}")
    assert "Referral left open" in row and "handler-gone-home" in row
    assert serious_accessibility_problems(supervisor) == []
    supervisor.locator(f"#call-{call}").get_by_role("button", name=re.compile("Call ended")).click()
    supervisor.wait_for_selector("[role=status]")
    assert supervisor.locator(f"#call-{call}").count() == 0
    duty.goto("/worklist/?kind=callback")
    assert call in duty.inner_text("#worklist")
    assert page_errors(duty) == [] and page_errors(supervisor) == []


def test_console_details_panel_names_a_wrong_nhs_number_and_a_dropped_call_goes_for_a_call_back(live_app, new_page):
    page = _staff_page(live_app, new_page, "call_handler")
    page.goto("/console/")
    page.wait_for_selector("#start-form")
    page.click("#start-form button[type=submit]")
    page.wait_for_selector("#decision-panel:not([hidden])")
    page.click("#person-details summary")
    page.fill("#person-name", "Rose Tyler")
    page.fill("#person-nhs_number", "943 476 5918")
    page.fill("#person-caller_phone", "07700 900999")
    page.click("#person-save")
    page.wait_for_selector("#person-nhs_number-error:not([hidden])")
    assert "check digit" in page.inner_text("#person-nhs_number-error")
    page.fill("#person-nhs_number", "943 476 5919")
    page.click("#person-save")
    page.wait_for_function("() => document.getElementById('person-status').textContent.startsWith('Saved')"
                           " || document.getElementById('person-status').textContent.startsWith('Not')")
    assert page.inner_text("#person-status").startswith("Saved"), page.inner_text("#person-status")
    contact_id = page.evaluate("() => localStorage.getItem('spoa.console.current')")
    page.click("#call-ended")
    page.wait_for_url(re.compile(r"ended="))
    spoa = live_app.extensions["spoa"]
    with spoa.store.session() as db:
        assert contacts.get_contact(db, contact_id).status == "closed"
    duty = _staff_page(live_app, new_page, "duty_worker")
    duty.goto("/worklist/?kind=callback")
    callback = duty.inner_text(f"#worklist li:has-text('{contact_id}')")
    assert "Call ended before triage finished" in callback and "call back now" in callback
    # The one refusal expected: the wrong NHS number's 422, which the panel showed.
    assert [e for e in page_errors(page) if "status of 422" not in e] == []


def test_the_worklist_refreshes_itself_but_never_under_a_reason_being_typed(live_app, new_page):
    spoa = live_app.extensions["spoa"]

    def lonely():
        return spoa.store.run(lambda db: contacts.create_contact(
            db, spoa.triage, {"channel": "web_chat", "facts": screen_clear(age=70, locality="west_kent",
                                                                            lonely_or_isolated=True)},
            now=spoa.now(), source="chat")).contact.id

    first = lonely()
    page = _staff_page(live_app, new_page, "duty_worker")
    page.goto("/worklist/?locality=west_kent")
    item = page.locator("li.app-worklist__item", has_text=first)
    item.locator("summary").click()
    item.locator("textarea").fill("Checking with the GP first")
    second = lonely()
    # The page refreshes every 30 s and when it is shown again; the second is what a test can wait for.
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function("() => document.getElementById('worklist-live').hasAttribute('data-waiting')")
    assert second not in page.inner_text("#worklist")             # busy: the reason is kept
    assert item.locator("textarea").input_value() == "Checking with the GP first"
    item.locator("textarea").fill("")
    item.locator("summary").click()
    page.locator("h1").click()
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function("() => document.getElementById('worklist-live').hasAttribute('data-refreshed')")
    assert second in page.inner_text("#worklist") and "locality=west_kent" in page.url
    assert page_errors(page) == []
