"""The resident chat page in a real browser: headless Chromium (Debian's /usr/bin/chromium)
driven by Playwright.

Without Rasa (RASA_URL at a closed loopback port) the app (`live_app`, overridden here) is
served by the shared `live_server` fixture with the real engine, flows, extractor and a SQLite
store, in the shared headless `browser` (tests/conftest.py), and the page must
carry a whole triage through its guided form, show the 999 panel at once, and pass axe-core.
With Rasa (marked `rasa`), the whole stack that `make run` starts (assistant/chat_stack.py:
the app, the action server and Rasa with the trained model) and a chat from the first
message to the outcome through the trained model.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from browser_helpers import CHROMIUM, page_errors, record_errors, serious_accessibility_problems
from conftest import make_app
from test_chat_page import chat_settings, chat_triage, closed_port_url

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("SPOA_SCREENSHOTS", "/tmp/chat-screenshots"))

# A fall with a long lie, as the relative would answer (the protocol's example, in Swale).
FALL_WITH_LONG_LIE = {"age": "90", "locality": "Sittingbourne", "caller": "family_friend", "fallen": "yes",
                      "on_floor_cannot_get_up": "yes", "fall_injury": "none", "head_injury": "no",
                      "lost_consciousness": "no"}

# Functions, not expression strings: the page's CSP forbids eval.
SEQ_AFTER = "(before) => Number(document.getElementById('chat').dataset.seq || 0) > before"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The app with Rasa unreachable (so the page falls back to the guided form), served by the
    shared `live_server` fixture for this module's tests."""
    app = make_app(chat_settings(RASA_URL=closed_port_url(), TESTING=False), chat_triage(),
                   tmp_path_factory.mktemp("chat-browser"))
    yield app
    app.extensions["spoa"].store.dispose()


def open_chat(page):
    """Open /chat on `page` and wait for the message box."""
    page.set_default_timeout(20000)
    page.goto("/chat")
    page.wait_for_selector("#chat-input")
    return page


@pytest.fixture
def chat(new_page):
    return open_chat(new_page(1100, 900))


def seq(page) -> int:
    return int(page.get_attribute("#chat", "data-seq") or 0)


def say(page, text: str) -> None:
    """Type a message with the keyboard and wait for the answer to be shown."""
    before = seq(page)
    page.focus("#chat-input")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_function(SEQ_AFTER, arg=before)


def answer_form(page, knows: dict) -> str:
    """Answer the guided form's question on screen the way the resident would (a yes/no or
    checklist item they don't mention isn't happening; a number or place they don't mention,
    they don't know); returns the question's id."""
    group = page.locator("#guided-group")
    question_id, kind = group.get_attribute("data-question-id"), group.get_attribute("data-kind")
    fact = (group.get_attribute("data-ask") or "").split()[0]
    before = seq(page)
    if kind in ("number", "text"):
        if knows.get(fact) is None:
            page.click("#guided-unknown")
        else:
            page.fill("#answer-text", knows[fact])
            page.keyboard.press("Enter")
        page.wait_for_function(SEQ_AFTER, arg=before)
        return question_id
    values = [box.get_attribute("data-value") for box in group.locator("input").all()]
    if kind == "checklist":
        ticked = [value for value in values if knows.get(value) == "yes"] or ["none"]
    elif kind == "boolean":
        ticked = [knows.get(fact, "no")]
    else:
        wanted = knows.get(fact)
        ticked = [wanted] if wanted in values else (["none"] if "none" in values else ["unknown"])
    for value in ticked:
        # Click the label, as a person would (nhsuk draws its own box over the input).
        box_id = group.locator(f'input[data-value="{value}"]').get_attribute("id")
        page.click(f'label[for="{box_id}"]')
    page.click("#guided-submit")
    page.wait_for_function(SEQ_AFTER, arg=before)
    return question_id


@pytest.mark.hazard("HAZ-007")
def test_fall_with_long_lie_goes_to_rapid_response_in_the_fallback_form_with_rasa_stopped(chat):
    page = chat
    SHOTS.mkdir(parents=True, exist_ok=True)
    say(page, "My mum has fallen and she's on the floor, she can't get up")
    assert page.is_visible("#guided") and not page.is_visible("#chat-form")
    assert page.evaluate("document.activeElement.id") == "guided-heading"   # focus moves to the form
    assert page.get_attribute("#guided-group", "data-question-id") == "emergency_screen"
    page.screenshot(path=str(SHOTS / "chat-fallback-form.png"), full_page=True)
    asked = []
    for _ in range(20):
        if page.is_visible("#outcome"):
            break
        asked.append(answer_form(page, FALL_WITH_LONG_LIE))
    assert page.is_visible("#outcome"), asked
    assert page.get_attribute("#chat", "data-outcome") == "rapid_response"
    assert page.evaluate("document.activeElement.id") == "outcome-heading"
    text = page.inner_text("#outcome")
    assert "urgent community response" in text and "within 2 hours" in text
    reference = page.inner_text(".chat-reference__number")
    assert re.fullmatch(r"SPA-\w{4}-\w{4}", reference)
    assert not page.is_visible("#emergency-panel")
    assert len(asked) == len(set(asked)) and "fallen" not in asked   # what was said isn't asked again
    log = page.inner_text("#chat-messages")
    assert "My mum has fallen" in log and "None of these" in log
    page.screenshot(path=str(SHOTS / "chat-fallback-outcome.png"), full_page=True)
    assert serious_accessibility_problems(page) == []  # the outcome panel
    # The CSP's refusal of the NHS.UK web font (the page falls back to Arial) is expected; any
    # other script or console error is a fault of the page.
    assert page_errors(page) == []


def test_a_relative_whose_mum_is_on_the_floor_is_told_not_to_lift_her_while_the_team_comes(chat):
    # The console's read-back says it; the resident's outcome panel must say it too (one wording).
    say(chat, "My mum has fallen and she's on the floor, she can't get up")
    for _ in range(20):
        if chat.is_visible("#outcome"):
            break
        answer_form(chat, FALL_WITH_LONG_LIE)
    assert chat.get_attribute("#chat", "data-outcome") == "rapid_response"
    wait = chat.inner_text("#outcome-wait")
    assert "While you wait" in wait and "don't try to lift them yourself" in wait and "call 999" in wait


def focused(page) -> str:
    return page.evaluate("document.activeElement.id")


def tab_to(page, element_id: str, limit: int = 20) -> None:
    for _ in range(limit):
        if focused(page) == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} can't be reached with the Tab key (focus is on #{focused(page)})")


@pytest.mark.hazard("HAZ-017")
def test_chest_pain_ticked_shows_the_999_panel_at_once_with_the_keyboard_only(chat):
    page = chat
    say(page, "My husband isn't well")
    chest_pain = page.locator('#guided-group input[data-value="chest_pain"]').get_attribute("id")
    tab_to(page, chest_pain)
    page.keyboard.press("Space")
    assert page.is_checked(f"#{chest_pain}")
    tab_to(page, "guided-submit")
    before = seq(page)
    page.keyboard.press("Enter")
    page.wait_for_function(SEQ_AFTER, arg=before)
    assert page.is_visible("#emergency-panel")
    assert focused(page) == "emergency-heading"
    assert "Call 999 now" in page.inner_text("#emergency-heading")
    assert re.search(r"SPA-\w{4}-\w{4}", page.inner_text("#emergency-reference"))
    assert not page.is_visible("#guided") and not page.is_visible("#outcome")
    page.screenshot(path=str(SHOTS / "chat-999.png"), full_page=True)
    assert serious_accessibility_problems(page) == []  # the 999 panel


def test_typing_indicator_shows_and_is_announced_while_the_answer_is_on_its_way(chat):
    page = chat
    held = []
    page.route("**/chat/api/message", lambda route: held.append(route))
    page.focus("#chat-input")
    page.keyboard.type("my neighbour is lonely")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-typing-dots:not([hidden])")
    assert page.inner_text("#chat-typing-text") == "The assistant is replying"
    assert page.get_attribute("#chat-typing-text", "role") == "status"
    page.screenshot(path=str(SHOTS / "chat-typing.png"))
    before = seq(page)
    held[0].continue_()
    page.wait_for_function(SEQ_AFTER, arg=before)
    assert not page.is_visible("#chat-typing-dots") and page.inner_text("#chat-typing-text") == ""


def test_collapse_in_the_first_words_shows_the_999_panel_without_a_question(chat):
    page = chat
    say(page, "my dad has collapsed and he's not breathing")
    assert page.is_visible("#emergency-panel") and not page.is_visible("#guided-group input")
    assert page.get_attribute("#chat", "data-outcome") == "emergency"


@pytest.mark.hazard("HAZ-017")
def test_chat_page_has_no_serious_accessibility_violations(chat):
    page = chat
    assert serious_accessibility_problems(page) == []  # the empty chat
    say(page, "my neighbour is lonely")
    assert serious_accessibility_problems(page) == []  # the guided form (checkboxes)
    page.click('label[for="' + page.locator('#guided-group input[data-value="none"]').get_attribute("id") + '"]')
    before = seq(page)
    page.click("#guided-submit")
    page.wait_for_function(SEQ_AFTER, arg=before)
    assert serious_accessibility_problems(page) == []  # the next question (radios or a box)
    say_error = page.locator("#guided-submit")
    before = seq(page)
    say_error.click()                                              # nothing chosen: an error message
    assert page.is_visible("#guided-error") or seq(page) > before
    assert serious_accessibility_problems(page) == []


def test_empty_message_shows_an_error_linked_to_the_box(chat):
    page = chat
    page.focus("#chat-input")
    page.keyboard.press("Enter")
    assert page.is_visible("#chat-error")
    assert "chat-error" in page.get_attribute("#chat-input", "aria-describedby")
    assert page.evaluate("document.activeElement.id") == "chat-input"


# -- with Rasa: the trained model, the action server and the app, as `make run` starts them ---

@pytest.fixture(scope="module")
def rasa_stack():
    """The stack from assistant/chat_stack.py, with the app told where Rasa listens."""
    sys.path.insert(0, str(ROOT / "assistant"))
    import chat_stack

    missing = chat_stack.prerequisites()
    if missing:
        pytest.skip("the chat stack can't run yet: missing " + "; ".join(missing))
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make system-deps)")
    stack = chat_stack.new_stack()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASA_URL", stack.rasa_url)   # the app's relay (web/settings.py reads RASA_URL)
        with stack:
            yield stack


@pytest.fixture
def rasa_chat(rasa_stack, browser):
    """rasa_chat(width, height) -> the chat page of the whole stack, in a fresh context."""
    contexts = []

    def make(width: int, height: int):  # noqa: ANN202
        context = browser.new_context(base_url=rasa_stack.web_url, viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        record_errors(page)
        return open_chat(page)

    yield make
    for context in contexts:
        context.close()


@pytest.mark.rasa
def test_fall_with_long_lie_goes_to_rapid_response_in_a_whole_chat_with_rasa(rasa_chat):
    page = rasa_chat(1100, 900)
    SHOTS.mkdir(parents=True, exist_ok=True)
    say(page, "Mum's fallen, she's on the floor and can't get up but she isn't hurt")
    assert not page.is_visible("#guided"), "the page fell back to the form: Rasa didn't answer"
    # The emergency screen: a checklist, so tick boxes and one Send (several can be true).
    assert page.locator("#quick-replies input[type=checkbox]").count() > 2
    assert page.is_visible("#chat-ticks-send")
    page.screenshot(path=str(SHOTS / "chat-rasa-first-question.png"), full_page=True)
    for _ in range(25):
        if page.is_visible("#outcome") or page.is_visible("#emergency-panel"):
            break
        # Answer like the relative: her age and town in words, "None of these" or "No" for
        # anything else (nothing else is happening), with a quick reply where there is one.
        last = page.locator("#chat-messages .chat-message--bot .chat-message__text").last.inner_text()
        boxes = page.locator("#quick-replies .nhsuk-checkboxes__item")
        if boxes.count():
            # A checklist: nothing on it is happening.
            before = seq(page)
            boxes.filter(has_text=re.compile(r"^None of these")).locator("label").click()
            page.click("#chat-ticks-send")
            page.wait_for_function(SEQ_AFTER, arg=before)
            continue
        buttons = page.locator("#quick-replies button")
        titles = [title.strip() for title in buttons.all_inner_texts()]
        if re.search(r"how old", last, re.I):
            reply = "she's 90"
        elif re.search(r"town or village", last, re.I):
            reply = "Sittingbourne"
        elif "None of these" in titles:
            reply = "None of these"
        elif "No" in titles:
            reply = "No"
        else:
            reply = "I don't know"
        before = seq(page)
        if reply in titles:
            buttons.nth(titles.index(reply)).click()   # a quick reply, as most people would
            page.wait_for_function(SEQ_AFTER, arg=before)
        else:
            say(page, reply)
    assert page.is_visible("#outcome"), page.inner_text("#chat-messages")
    assert page.get_attribute("#chat", "data-outcome") == "rapid_response"
    assert "within 2 hours" in page.inner_text("#outcome")
    assert re.fullmatch(r"SPA-\w{4}-\w{4}", page.inner_text(".chat-reference__number"))
    assert serious_accessibility_problems(page) == []
    page.screenshot(path=str(SHOTS / "chat-rasa-outcome.png"), full_page=True)


@pytest.mark.rasa
def test_two_red_flags_ticked_and_sent_together_through_rasa_show_the_999_panel(rasa_chat):
    page = rasa_chat(390, 844)
    say(page, "My husband is 80 and he is not well at all")
    assert not page.is_visible("#guided"), "the page fell back to the form: Rasa didn't answer"
    boxes = page.locator("#quick-replies .nhsuk-checkboxes__item")
    for label in ("Pain in the chest", "struggling to breathe"):
        boxes.filter(has_text=label).locator("label").click()
    before = seq(page)
    page.click("#chat-ticks-send")
    page.wait_for_function(SEQ_AFTER, arg=before)
    said = page.locator("#chat-messages .chat-message--user").last.inner_text()
    assert "Pain in the chest" in said and "struggling to breathe" in said   # one message, both items
    page.wait_for_selector("#emergency-panel:not([hidden])")
    assert page.get_attribute("#chat", "data-outcome") == "emergency"


def tick_and_send(page, label: str) -> None:
    """Tick one box of the chat's checklist and send it, waiting for the answer."""
    before = seq(page)
    page.locator("#quick-replies .nhsuk-checkboxes__item").filter(has_text=label).locator("label").click()
    page.click("#chat-ticks-send")
    page.wait_for_function(SEQ_AFTER, arg=before)


def answer_no_to_everything(page, until, age: str, place: str) -> str:
    """Answer like a person with nothing else going on ("None of these", "No", their age and
    town) until `until(last bot message)` holds; returns that message."""
    for _ in range(15):
        last = page.locator("#chat-messages .chat-message--bot .chat-message__text").last.inner_text()
        if until(last):
            break
        if page.is_visible("#chat-ticks-send"):
            tick_and_send(page, "None of these")
        else:
            say(page, age if re.search(r"how old", last, re.I) else
                place if re.search(r"town or village", last, re.I) else "No")
    return last


@pytest.mark.rasa
def test_a_woman_who_says_her_partner_hits_her_sees_that_harm_already_ticked_when_asked(rasa_chat):
    # Heard in passing is evidence: the checklist shows it ticked to confirm, so a quick
    # "None of these" can't wipe out what she told us (spoa.dialogue's `heard`, as in the form).
    page = rasa_chat(390, 844)
    say(page, "My partner hits me and the children see it happen. I have COPD.")
    last = answer_no_to_everything(page, lambda said: "hurting you" in said, "I'm 38", "Tenterden")
    assert "hurting you" in last, page.inner_text("#chat-messages")
    ticked = page.locator("#quick-replies input:checked + label").all_inner_texts()
    assert any("Hitting" in label for label in ticked) and any("partner" in label for label in ticked), ticked
    assert not any("None of these" in label for label in ticked)


@pytest.mark.rasa
def test_a_wrong_tap_on_someone_in_danger_corrected_no_longer_tells_her_to_call_the_police(rasa_chat):
    page = rasa_chat(390, 844)
    say(page, "My mum is 88 and she's had a fall, she's on the floor")
    tick_and_send(page, "in danger from another person")          # one tab too far
    page.wait_for_selector("#emergency-panel:not([hidden])")
    reference = page.inner_text("#emergency-reference")
    say(page, "sorry I pressed the wrong button")
    assert page.is_visible("#emergency-panel")                    # the decision stands until the answer changes
    tick_and_send(page, "None of these")
    assert not page.is_visible("#emergency-panel"), page.inner_text("#chat-messages")
    assert page.get_attribute("#chat", "data-outcome") in (None, "")
    assert page.locator("#chat-messages").inner_text().count("SPA-") <= 1 and reference.startswith("Your reference")


@pytest.mark.rasa
def test_a_fall_in_crowborough_through_the_chat_names_east_sussex_county_council(rasa_chat):
    # The outcome panel of a Rasa chat is the dialogue turn's own view (council, consent), not a second one.
    page = rasa_chat(390, 844)
    say(page, "My dad is 84, he has fallen and can't get up but he isn't hurt")
    answer_no_to_everything(page, lambda said: page.is_visible("#outcome"), "84", "Crowborough")
    assert page.get_attribute("#chat", "data-outcome") == "out_of_scope"
    assert "East Sussex County Council" in page.inner_text("#outcome")
