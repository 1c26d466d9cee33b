"""A supervisor's audit in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven
by Playwright against the real app served on a free 127.0.0.1 port, SQLite in a temporary folder
(the fixtures live_app, live_server, browser and new_page in conftest.py).

The supervisor logs in, filters the contact list, opens a contact's trace, is refused an
override without a reason, records one with a reason, and looks at the charts, the audit log
and the worklist. axe-core checks every page for serious or critical accessibility problems,
and the browser's console must report no Content-Security-Policy violation.

Screenshots go to $SPOA_SCREENSHOTS (a folder) when it is set, else to the test's tmp folder.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from browser_helpers import log_in as browser_log_in
from browser_helpers import page_errors, serious_accessibility_problems
from conftest import PASSWORD
from engine_helpers import EXAMPLES_DIR
from web.store import contacts, users
from web.store.models import Review

pytestmark = pytest.mark.browser


def _example(name: str, **changes) -> dict:
    data = json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))["contact"]
    return {**data, **changes}


@pytest.fixture(scope="module")
def made(live_app) -> dict:
    """A supervisor, a duty worker and four contacts in the live app: {key: reference}."""
    spoa = live_app.extensions["spoa"]
    spoa.store.run(lambda db: users.add_user(db, "sup.browser", PASSWORD, "supervisor"))
    spoa.store.run(lambda db: users.add_user(db, "duty.browser", PASSWORD, "duty_worker"))
    now = spoa.now()
    references = {}
    for key, name in (("fall", "fall-long-lie"), ("lonely", "lonely"), ("chest", "chest-pain"),
                      ("abuse", "financial-abuse-dementia")):
        references[key] = spoa.store.run(lambda db, name=name: contacts.create_contact(
            db, spoa.triage, _example(name, channel="phone"), now=now)).contact.id
    return references


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SPOA_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(new_page, made):
    return new_page(width=1280, height=900)


def log_in(page, username: str) -> None:
    browser_log_in(page, username, PASSWORD)


def csp_violations(page) -> list[str]:
    """Scripts or styles the Content-Security-Policy blocked (inline ones, say).

    The design system's stylesheet names its Frutiger webfont at assets.nhs.uk; Chromium asks
    for it and the policy (font-src 'self') blocks it, so pages use the design system's own
    fallback, Arial. That one expected refusal is left out; anything else fails the test.
    """
    return [text for text in page_errors(page) if "Content Security Policy" in text]


def test_a_supervisor_filters_opens_a_trace_and_overrides_with_a_reason(page, live_app, made, shots):
    fall = made["fall"]
    log_in(page, "sup.browser")

    # The list, then filtered to rapid response.
    page.goto("/audit/contacts")
    assert page.locator("#contacts-table tbody tr").count() == 4
    assert serious_accessibility_problems(page) == []
    page.get_by_label("Route", exact=True).select_option("rapid_response")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**route=rapid_response**")
    rows = page.locator("#contacts-table tbody tr")
    assert rows.count() == 1 and fall in rows.first.inner_text()
    page.screenshot(path=str(shots / "audit-list-filtered.png"), full_page=True)

    # The contact's trace, in plain words, with its rules' titles and sources.
    page.get_by_role("link", name=fall).click()
    page.wait_for_url(f"**/audit/contacts/{fall}")
    trace = page.locator("#decisions ~ section .app-trace").first
    assert "UCR-1" in trace.inner_text()
    assert "A fall without serious injury (including a long lie on the floor)" in trace.inner_text()
    assert "Source: PROTOCOL.md §3 UCR-1" in trace.inner_text()
    assert serious_accessibility_problems(page) == []
    page.screenshot(path=str(shots / "audit-contact-trace.png"), full_page=True)

    # An override without a reason is refused, with an error summary that links to the field.
    page.get_by_label("New route").select_option("mdt")
    page.get_by_role("button", name="Record override").click()
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "Give a reason for the override." in summary.inner_text()
    assert serious_accessibility_problems(page) == []
    page.screenshot(path=str(shots / "audit-override-refused.png"))
    summary.get_by_role("link", name="Give a reason for the override.").click()
    assert page.evaluate("document.activeElement.id") == "override-reason"

    # With a reason it is recorded, as a new review beside the unchanged decision.
    page.get_by_label("New route").select_option("mdt")
    page.get_by_label("Reason for the override").fill("Known to the locality MDT, who visit tomorrow")
    page.get_by_role("button", name="Record override").click()
    page.locator(".nhsuk-notification-banner--success").wait_for()
    assert "Known to the locality MDT, who visit tomorrow" in page.locator("#reviews-table").inner_text()
    page.screenshot(path=str(shots / "audit-override-recorded.png"), full_page=True)
    with live_app.extensions["spoa"].store.session() as db:
        review = db.scalars(select(Review).where(Review.contact_id == fall, Review.action == "override")).one()
    assert (review.route, review.actor) == ("mdt", "sup.browser")

    assert csp_violations(page) == []


def test_the_charts_draw_under_the_content_security_policy(page, shots):
    log_in(page, "sup.browser")
    page.goto("/audit/charts")
    page.wait_for_selector("#charts[data-drawn='true']")
    assert serious_accessibility_problems(page) == []
    page.screenshot(path=str(shots / "audit-charts.png"), full_page=True)
    assert csp_violations(page) == []


def test_the_audit_log_page_verifies_the_chain(page, shots):
    log_in(page, "sup.browser")
    page.goto("/audit/log")
    assert "The audit log is intact" in page.locator("#verify-result").inner_text()
    assert serious_accessibility_problems(page) == []
    page.screenshot(path=str(shots / "audit-log.png"), full_page=True)


def test_a_duty_worker_sees_the_worklist_and_cannot_open_the_audit_pages(page, shots):
    log_in(page, "duty.browser")
    page.goto("/worklist/")
    items = page.locator("#worklist > li")
    assert items.count() >= 2
    assert serious_accessibility_problems(page) == []
    page.screenshot(path=str(shots / "worklist.png"), full_page=True)

    # Returning needs a reason: refused without one, with the item's form left open.
    first = items.first
    reference = first.locator(".app-reference").inner_text()
    first.locator("summary").click()
    first.get_by_role("button", name=f"Return with this reason ({reference})").click()
    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert "Give a reason" in summary.inner_text()
    assert page.locator(f"#item-{first.get_attribute('id').split('-')[1]} details").get_attribute("open") is not None
    assert serious_accessibility_problems(page) == []

    # Accepting sends the referral and takes it off the list.
    page.locator("#worklist > li").first.get_by_role("button", name=f"Accept and send {reference}").click()
    page.locator(".nhsuk-notification-banner--success").wait_for()
    assert "the referral is sent and it is yours" in page.locator(".nhsuk-notification-banner--success").inner_text()

    response = page.goto("/audit/contacts")
    assert response.status == 403
    assert csp_violations(page) == []
