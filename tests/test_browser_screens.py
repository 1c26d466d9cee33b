"""Every role's screens at a phone's size (390 x 844) and a desktop's (1366 x 900), in Debian's
headless Chromium driven by Playwright against the real app (SQLite in a temporary folder, the
real engine, flows and extractor; Rasa unreachable, so the chat carries on as its guided form).

What a person must be able to see: the chat's message box and Send inside the screen, a
checklist sent with two items ticked, a conversation that survives a reload, the console's
question never covered by the emergency screen, a new call "not decided yet", one proposal per
abuse type; axe-core finds no serious or critical problem on any of these pages at either size.
Screenshots go to $SPOA_SCREENSHOTS (a folder) when it is set.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from browser_helpers import log_in, page_errors, press, serious_accessibility_problems
from conftest import PASSWORD, create_user, make_app
from test_chat_page import chat_settings, chat_triage, closed_port_url
from sqlalchemy import select

from web.demo import seed_demo
from web.oversight import deciding_rules
from web.store import contacts
from web.store.models import ConsoleCall, Contact, Decision, Review

pytestmark = pytest.mark.browser

PHONE, DESKTOP = (390, 844), (1366, 900)
SIZES = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
CHAT_SEQ_AFTER = "(before) => Number(document.getElementById('chat').dataset.seq || 0) > before"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The app with Rasa unreachable (the chat is its guided form) and logins not rate-limited."""
    app = make_app(chat_settings(RASA_URL=closed_port_url(), TESTING=False,
                                 SPOA_LOGIN_RATE_LIMIT="1000 per minute"),
                   chat_triage(), tmp_path_factory.mktemp("screens"))
    yield app
    app.extensions["spoa"].store.dispose()


def shoot(page, name: str) -> None:  # noqa: ANN001
    folder = os.environ.get("SPOA_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        page.screenshot(path=str(Path(folder) / f"{name}-{size['width']}.png"), full_page=True)


def inside_viewport(page, selector: str) -> bool:  # noqa: ANN001
    box = page.locator(selector).bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


# -- the resident's chat ------------------------------------------------------------------------

def open_chat(new_page, size):  # noqa: ANN001, ANN201
    page = new_page(*size)
    page.set_default_timeout(20000)
    page.goto("/chat")
    page.wait_for_selector("#chat-input")
    return page


def chat_seq(page) -> int:  # noqa: ANN001
    return int(page.get_attribute("#chat", "data-seq") or 0)


def say(page, text: str) -> None:  # noqa: ANN001
    before = chat_seq(page)
    page.fill("#chat-input", text)
    page.click("#chat-send")
    page.wait_for_function(CHAT_SEQ_AFTER, arg=before)


def tick_and_send(page, values: list[str]) -> None:  # noqa: ANN001
    """Tick the guided form's boxes by their labels, as a person taps them, and continue."""
    before = chat_seq(page)
    for value in values:
        box_id = page.locator(f'#guided-group input[data-value="{value}"]').get_attribute("id")
        page.click(f'label[for="{box_id}"]')
    page.click("#guided-submit")
    page.wait_for_function(CHAT_SEQ_AFTER, arg=before)


def stored_facts(live_app, reference: str) -> dict:  # noqa: ANN001
    with live_app.extensions["spoa"].store.session() as db:
        return contacts.current_facts(db, reference)


def contact_count(live_app) -> int:  # noqa: ANN001
    with live_app.extensions["spoa"].store.session() as db:
        return db.query(Contact).count()


@pytest.mark.hazard("HAZ-017")
@pytest.mark.parametrize("size", [pytest.param((320, 640), id="narrowest"), *SIZES])
def test_the_message_box_and_send_fit_the_screen_from_320_pixels(new_page, size):
    page = open_chat(new_page, size)
    assert inside_viewport(page, "#chat-input") and inside_viewport(page, "#chat-send")
    assert page.locator("#chat-input").bounding_box()["width"] >= 150     # room to type, not 12 px
    input_box, send_box = page.locator("#chat-input").bounding_box(), page.locator("#chat-send").bounding_box()
    assert abs(input_box["y"] - send_box["y"]) < 8                          # side by side
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]   # nothing runs off sideways
    assert serious_accessibility_problems(page) == []
    shoot(page, "chat-empty")
    assert page_errors(page) == []


@pytest.mark.hazard("HAZ-017")
@pytest.mark.parametrize("size", SIZES)
def test_a_checklist_sent_with_two_items_ticked_records_both(new_page, live_app, size):
    page = open_chat(new_page, size)
    say(page, "My husband is 80 and not well at all")
    assert page.get_attribute("#guided-group", "data-kind") == "checklist"
    # The newest message is in view and in the live log that screen readers announce.
    log = page.locator("#chat-log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    assert serious_accessibility_problems(page) == []
    shoot(page, "chat-checklist")
    tick_and_send(page, ["chest_pain", "breathing_difficulty_severe"])
    page.wait_for_selector("#emergency-panel:not([hidden])")
    reference = page.evaluate("JSON.parse(sessionStorage.getItem('spoa.chat')).contactId")
    facts = stored_facts(live_app, reference)
    assert facts["chest_pain"] is True and facts["breathing_difficulty_severe"] is True
    said = page.locator("#chat-messages li").last.inner_text()
    assert "Pain in the chest" in said and "struggling to breathe" in said
    assert serious_accessibility_problems(page) == []
    shoot(page, "chat-999")
    assert page_errors(page) == []


def test_a_checklist_with_nothing_ticked_is_not_sent(new_page):
    page = open_chat(new_page, PHONE)
    say(page, "My mum is 91 and very confused today")
    before = chat_seq(page)
    page.click("#guided-submit")
    assert page.is_visible("#guided-error") and chat_seq(page) == before
    assert page.get_attribute("#guided-group", "data-question-id") == "emergency_screen"


def test_a_reload_or_the_logo_carries_on_the_same_conversation(new_page, live_app):
    page = open_chat(new_page, PHONE)
    say(page, "My dad is 84 and has had a fall at home")
    tick_and_send(page, ["none"])
    question = page.get_attribute("#guided-group", "data-question-id")
    reference = page.evaluate("JSON.parse(sessionStorage.getItem('spoa.chat')).contactId")
    contacts_before = contact_count(live_app)
    assert re.search(r"/chat\?c=", page.url)

    page.reload()
    page.wait_for_selector("#guided:not([hidden])")
    assert "has had a fall at home" in page.inner_text("#chat-messages")
    assert page.get_attribute("#guided-group", "data-question-id") == question
    page.click(".nhsuk-header__service-logo")                    # the logo, too, keeps the conversation
    page.wait_for_selector("#guided:not([hidden])")
    assert "has had a fall at home" in page.inner_text("#chat-messages")

    # Answering after the reload carries on the same contact: nothing new is created.
    group = page.locator("#guided-group")
    before = chat_seq(page)
    if group.get_attribute("data-kind") in ("number", "text"):
        page.click("#guided-unknown")
    else:
        page.locator("#guided-group input").first.check(force=True)
        page.click("#guided-submit")
    page.wait_for_function(CHAT_SEQ_AFTER, arg=before)
    assert contact_count(live_app) == contacts_before
    assert page.evaluate("JSON.parse(sessionStorage.getItem('spoa.chat')).contactId") == reference

    # Starting again mid-conversation asks first; saying no keeps everything.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#chat-restart")
    assert "has had a fall at home" in page.inner_text("#chat-messages")
    assert page_errors(page) == []


@pytest.mark.hazard("HAZ-017")
def test_without_javascript_the_chat_is_a_plain_guided_form_to_the_outcome(browser, live_server, live_app):
    context = browser.new_context(base_url=live_server, java_script_enabled=False,
                                  viewport={"width": PHONE[0], "height": PHONE[1]})
    page = context.new_page()
    try:
        page.goto("/chat")
        page.get_by_role("link", name="answer the same questions one page at a time").click()
        page.get_by_label("What is happening, and who is it about?").fill("My mum is 91, she fell and can't get up")
        page.get_by_role("button", name="Continue").click()
        assert page.get_attribute("#guided-group", "data-kind") == "checklist"
        asked = []
        for _ in range(25):                              # every question answered as "don't know" or the first choice
            if page.locator("#outcome, #emergency-panel").count():
                break
            group = page.locator("#guided-group")
            asked.append((group.get_attribute("data-question-id"), page.locator(".nhsuk-error-summary").count()))
            kind = group.get_attribute("data-kind")
            if kind in ("number", "text"):
                page.get_by_role("button", name="I don't know").click()
            elif kind in ("checklist", "multi"):
                none = page.locator('#guided-group input[value="none"]')
                (none if none.count() else page.locator("#guided-group input").first).check()
                page.get_by_role("button", name="Continue").click()
            else:
                page.locator("#guided-group input").first.check()
                page.get_by_role("button", name="Continue").click()
        assert page.locator("#outcome, #emergency-panel").count() == 1, str(asked)
        reference = re.search(r"SPA-\w{4}-\w{4}", page.inner_text("main")).group(0)
        facts = stored_facts(live_app, reference)
        assert facts.get("chest_pain") is False            # the emergency screen was answered "none"
        shoot(page, "chat-no-javascript-outcome")
    finally:
        context.close()


def test_without_javascript_an_empty_answer_is_named_and_nothing_is_sent(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/chat/steps")
        page.get_by_role("button", name="Continue").click()
        assert "Tell us what is happening" in page.inner_text(".nhsuk-error-summary")
        page.get_by_label("What is happening, and who is it about?").fill("My dad has a bad cough")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Continue").click()     # nothing ticked
        assert "Tick the boxes that apply" in page.inner_text(".nhsuk-error-summary")
        assert page.get_attribute("#guided-group", "data-question-id") == "emergency_screen"
    finally:
        context.close()


@pytest.mark.hazard("HAZ-017")
def test_the_no_javascript_form_passes_axe(new_page):
    page = new_page(*PHONE)
    page.goto("/chat/steps")
    assert serious_accessibility_problems(page) == []


# -- the call handler's console -----------------------------------------------------------------

def open_console(live_app, new_page, size):  # noqa: ANN001, ANN201
    page = new_page(*size)
    page.set_default_timeout(10000)
    log_in(page, create_user(live_app, "call_handler"), PASSWORD)
    page.goto("/console/")
    page.wait_for_selector("#start-form")
    page.errors.clear()
    return page


def start_call(page) -> None:  # noqa: ANN001
    page.select_option("#caller", "family_friend")
    page.click("#start-button")
    page.wait_for_selector("#call-panel:not([hidden])")
    page.wait_for_selector("#decision-panel:not([hidden])")


def overlaps(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


UNCOVERED = """(id) => {
  const rect = document.getElementById(id).getBoundingClientRect();
  const hit = document.elementFromPoint(rect.left + Math.min(rect.width / 2, 40), rect.top + rect.height / 2);
  return !!hit && document.getElementById('question-panel').contains(hit);
}"""


@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize("size", SIZES)
def test_a_new_call_is_not_decided_until_the_emergency_screen_is_answered(live_app, new_page, size):
    page = open_console(live_app, new_page, size)
    start_call(page)
    assert page.inner_text("#decision-route").startswith("Not decided yet")
    assert "Self-care" not in page.inner_text("#decision-panel dl")
    page.wait_for_selector(".console-calls__button[aria-current='true']")
    assert "(not decided yet)" in page.inner_text("#calls-list")     # the open calls say so too
    press(page, "N")                                    # none of the red flags
    assert not page.inner_text("#decision-route").startswith("Not decided yet")
    page.wait_for_function("() => !document.getElementById('calls-list').innerText.includes('not decided')")
    assert page.get_attribute("#decision-panel", "data-decided") == "true"


@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize("size", SIZES)
def test_the_current_question_is_never_covered_by_the_emergency_screen(live_app, new_page, size):
    page = open_console(live_app, new_page, size)
    start_call(page)
    press(page, "N")
    press(page, "N")
    page.fill("#notes", "Lives alone, daughter visits weekly.")
    # Scroll through the whole page: wherever the question is on screen, nothing lies over it.
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height, 150):
        page.evaluate("(y) => window.scrollTo(0, y)", y)
        question, emergency = (page.locator("#question-text").bounding_box(),
                               page.locator("#emergency-panel").bounding_box())
        on_screen = 0 <= question["y"] and question["y"] + question["height"] <= size[1]
        if on_screen:
            assert page.evaluate(UNCOVERED, "question-text"), f"question covered at scroll {y}"
        assert not overlaps(question, emergency), f"emergency screen over the question at scroll {y}"
    # One key away: ! goes to the emergency screen, and the question is still there to read.
    page.evaluate("() => document.getElementById('question-panel').scrollIntoView({block: 'center'})")
    page.keyboard.press("Escape")                      # out of the notes, back to the question
    page.evaluate("() => document.activeElement.blur()")   # (an answer box would take the ! as typing)
    page.keyboard.press("!")
    assert page.evaluate("document.activeElement.name") == "red_flag"
    if size == DESKTOP:   # side by side: both on screen at once
        page.evaluate("() => document.getElementById('question-panel').scrollIntoView({block: 'center'})")
        assert page.evaluate(UNCOVERED, "question-text")
        emergency = page.locator("#emergency-panel").bounding_box()
        assert emergency["y"] < size[1] and emergency["y"] + emergency["height"] > 0
    assert serious_accessibility_problems(page) == []
    shoot(page, "console-call")
    assert page_errors(page) == []


@pytest.mark.hazard("HAZ-006")
def test_start_call_pressed_twice_starts_one_call(live_app, new_page):
    page = open_console(live_app, new_page, DESKTOP)
    handler = page.inner_text(".nhsuk-header__account-item").split(" ")[0]
    page.select_option("#caller", "self")
    page.dblclick("#start-button")                    # both presses carry the same Idempotency-Key
    page.wait_for_selector("#call-panel:not([hidden])")
    page.wait_for_timeout(500)
    with live_app.extensions["spoa"].store.session() as db:
        calls = db.scalars(select(ConsoleCall).where(ConsoleCall.handler == handler)).all()
    assert len(calls) == 1
    assert page_errors(page) == []


def test_notes_naming_two_kinds_of_abuse_give_one_proposal_each(live_app, new_page):
    page = open_console(live_app, new_page, DESKTOP)
    start_call(page)
    press(page, "N")
    page.fill("#notes", "His carer takes his money and leaves him without food: financial abuse and neglect.")
    page.click("#notes-save")
    page.wait_for_selector(".console-proposals__item")
    items = page.locator(".console-proposals__item")
    texts = [items.nth(i).inner_text() for i in range(items.count())]
    # One each, not one proposal for both (labels as flows/ words them).
    assert sum("Financial / material" in text for text in texts) == 1, texts
    assert sum("Neglect by others" in text for text in texts) == 1, texts
    reference = page.inner_text("#call-reference")
    financial = items.filter(has_text="Financial / material")
    financial.get_by_role("button", name=re.compile("Confirm")).click()
    page.wait_for_function("() => !document.getElementById('proposals').innerText.includes('Financial / material')")
    page.wait_for_function("() => document.getElementById('answers-list').innerText.includes('Financial')")
    facts = stored_facts(live_app, reference)
    assert facts["abuse_types"] == ["financial"]       # the neglect proposal waits for its own answer
    assert "Neglect by others" in page.inner_text("#proposals")
    page.locator(".console-proposals__item").filter(has_text="Neglect by others").get_by_role(
        "button", name=re.compile("Dismiss")).click()
    assert "Neglect by others" not in page.inner_text("#proposals")
    assert stored_facts(live_app, reference)["abuse_types"] == ["financial"]
    assert page_errors(page) == []


# -- the supervisor's oversight and the duty worker's worklist ----------------------------------

SUPERVISOR_PAGES = ["/audit/dashboard", "/audit/contacts", "/audit/charts", "/audit/log", "/worklist/outbox/"]


@pytest.fixture(scope="module")
def demo(live_app) -> dict:
    """The demo's 36 fictional contacts (web/demo.py, as `spoa demo` seeds them) and two staff."""
    seed_demo(live_app.extensions["spoa"])
    return {"supervisor": create_user(live_app, "supervisor"), "duty": create_user(live_app, "duty_worker")}


def needing_review(live_app) -> list[str]:  # noqa: ANN001
    with live_app.extensions["spoa"].store.session() as db:
        return [c.id for c in db.scalars(select(Contact).where(Contact.review_required.is_(True))
                                         .order_by(Contact.id))]


@pytest.mark.parametrize("size", SIZES)
def test_the_supervisors_pages_fit_and_pass_axe_at_both_sizes(live_app, new_page, demo, size):
    page = new_page(*size)
    page.set_default_timeout(15000)
    log_in(page, demo["supervisor"], PASSWORD)
    contact = needing_review(live_app)[0]
    for path in [*SUPERVISOR_PAGES, f"/audit/contacts/{contact}"]:
        page.goto(path)
        if path == "/audit/charts":
            page.wait_for_selector("#charts[data-drawn='true']")
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0], path   # wide tables scroll inside
        assert serious_accessibility_problems(page) == [], path
        shoot(page, path.strip("/").replace("/", "-"))
    assert page_errors(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_the_worklist_fits_and_passes_axe_at_both_sizes(new_page, demo, size):
    page = new_page(*size)
    log_in(page, demo["duty"], PASSWORD)
    page.goto("/worklist/")
    assert page.locator("#worklist > li").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    assert serious_accessibility_problems(page) == []
    shoot(page, "worklist")
    assert page_errors(page) == []


def test_the_dashboards_override_rate_by_rule_matches_the_stored_reviews(live_app, new_page, demo):
    page = new_page(*PHONE)
    page.set_default_timeout(15000)
    log_in(page, demo["supervisor"], PASSWORD)
    agree, override = needing_review(live_app)[:2]
    # One "reviewed, agree" and one override, as a supervisor does them on a phone.
    page.goto(f"/audit/contacts/{agree}")
    page.get_by_role("button", name="Reviewed, agree").click()
    page.locator(".nhsuk-notification-banner--success").wait_for()
    assert "agree" in page.inner_text("#banner-text") and page.locator("#review-required").count() == 0
    page.goto(f"/audit/contacts/{override}")
    page.get_by_label("New route").select_option("self_care")
    page.get_by_label("Reason for the override").fill("Already known to the district nurses, who visit today")
    page.get_by_role("button", name="Record override").click()
    page.locator(".nhsuk-notification-banner--success").wait_for()
    assert "the route is now Self-care and information" in page.inner_text("#banner-text")
    assert page.locator("#review-required").count() == 0

    page.goto("/audit/dashboard")
    shown = {row.get_attribute("data-rule"): (int(row.get_attribute("data-reviewed")),
                                               int(row.get_attribute("data-overridden")))
             for row in page.locator("#override-table tbody tr").all()}
    # The same count worked out from the stored reviews and the decisions they reviewed.
    expected: Counter = Counter()
    overridden: Counter = Counter()
    with live_app.extensions["spoa"].store.session() as db:
        for review, decision in db.execute(select(Review, Decision).join(Decision, Review.decision_id == Decision.id)
                                           .where(Review.action.in_(("confirm", "override")))).all():
            for rule, _ in deciding_rules(decision.decision):
                expected[rule] += 1
                overridden[rule] += review.action == "override"
    assert shown == {rule: (expected[rule], overridden[rule]) for rule in expected}
    assert sum(o for _, o in shown.values()) >= 1
    shoot(page, "audit-dashboard-after-review")
    assert serious_accessibility_problems(page) == []
    assert page_errors(page) == []
