"""The call-handler console in a real browser: headless Chromium (Debian's /usr/bin/chromium)
driven by Playwright, against the real app served on a free 127.0.0.1 port (SQLite in a
temporary folder, the real engine and flows; the fixtures live_app, live_server, browser and
new_page in conftest.py).

The fall call is done with the keyboard only; the other tests use whatever a handler would.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser_helpers import ROUTE_IS, page_errors, press, serious_accessibility_problems
from conftest import PASSWORD, create_user

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/console-screenshot.png")


@pytest.fixture
def console(live_app, new_page):
    """A page logged in as a new call handler, on /console."""
    username = create_user(live_app, "call_handler")
    page = new_page(width=1400, height=1000)
    page.set_default_timeout(10000)
    page.goto("/auth/login")
    page.focus("input[name=username]")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console/?$"))
    page.wait_for_selector("#start-form")
    page.errors.clear()                               # only the console's own errors count
    return page


def type_answer(page, text: str) -> None:
    page.wait_for_selector("#question-input:focus")
    page.keyboard.type(text)
    press(page, "Enter")


def asked(page) -> str:
    return page.inner_text("#question-text")


def start_call_by_keyboard(page, about: str = "Mum") -> None:
    page.wait_for_selector("#channel:focus")          # the start form has the focus
    page.keyboard.press("Tab")                        # caller
    page.keyboard.type("F")                           # "Family member, friend or neighbour"
    page.keyboard.press("Tab")
    page.keyboard.type("Jane")
    page.keyboard.press("Tab")
    page.keyboard.type(about)
    press(page, "Enter")


def test_fall_with_long_lie_by_keyboard_only_ends_in_rapid_response(console):
    page = console
    start_call_by_keyboard(page)
    assert asked(page) == "Any of these now?"
    press(page, "N")                                  # none of the red flags
    assert "ending their life" in asked(page) and "crisis" in asked(page)   # one checklist, whose: the person's
    press(page, "N")
    assert asked(page) == "Person's age?"
    type_answer(page, "90")
    assert "Where is the person" in asked(page)
    type_answer(page, "Sittingbourne")
    assert "Fallen" in asked(page)
    press(page, "Y")
    assert page.get_attribute("#decision-panel", "data-route") == "rapid_response"
    assert "Injury from the fall" in asked(page)
    press(page, "1")                                  # no injury
    press(page, "N")                                  # didn't hit their head
    # The caller adds that she has been on the floor since 5am: ask that question out of turn.
    page.keyboard.press("#")
    page.keyboard.type("floor")
    page.keyboard.press("Enter")
    assert "On the floor" in asked(page)
    press(page, "Y")                                  # a long lie
    assert "On the floor and can't get up? Yes" in page.inner_text("#answers-list")
    assert page.inner_text("#decision-review") == ""  # nothing contradictory
    assert page.inner_text("#decision-route") == "Rapid response"
    assert "Within 2 hours" in page.inner_text("#decision-target")
    assert "UCR-1" in page.inner_text("#decision-why")
    page.keyboard.press(".")                          # to the closing panel
    assert page.evaluate("() => document.activeElement.id") == "confirm-button"
    page.keyboard.press("Enter")
    page.wait_for_selector("#readback:not([hidden])")
    reference = page.inner_text("#reference")
    assert re.fullmatch(r"SPA-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    readback = page.inner_text("#readback")
    assert "urgent community response" in readback.lower()
    assert "111" in readback
    assert "Referral passed to the duty team: Rapid response (Urgent community response)." in readback
    assert "ucr" not in readback and "item" not in readback.lower()   # plain words: no codes or item numbers
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert page.is_hidden("#emergency-panel")         # the call is over
    assert page_errors(page) == []


def test_red_flag_tick_at_any_point_shows_the_999_panel(console):
    page = console
    start_call_by_keyboard(page, about="Dad")
    press(page, "N")
    assert page.is_hidden("#call-999")                # no red flag, no 999 panel
    press(page, "N")
    page.check("#flag-chest_pain")                    # later in the call, the caller mentions chest pain
    page.wait_for_selector("#call-999:not([hidden])", timeout=2000)
    assert "999" in page.inner_text("#call-999")
    page.wait_for_function(ROUTE_IS, arg="emergency")
    assert "stay on the line" in page.inner_text("#call-999").lower()
    page.reload()                                     # it was recorded, not only shown
    page.wait_for_selector("#call-999:not([hidden])")
    assert page.is_checked("#flag-chest_pain")


def test_a_red_flag_key_in_the_guided_screen_shows_the_999_panel_at_once(console):
    page = console
    start_call_by_keyboard(page)
    assert page.is_hidden("#call-999")
    page.keyboard.press("3")                          # chest pain
    page.wait_for_selector("#call-999:not([hidden])", timeout=2000)
    assert page.is_checked("#flag-chest_pain")
    page.wait_for_function(ROUTE_IS, arg="emergency")


def test_a_ticked_item_is_not_lost_to_a_none_key_slip(console):
    page = console
    start_call_by_keyboard(page)
    press(page, "N")
    page.keyboard.press("#")
    page.keyboard.type("abuse")
    page.keyboard.press("Enter")
    assert "Abuse or neglect" in asked(page)
    page.keyboard.press("5")                          # financial
    page.keyboard.press("N")                          # a slip: "none of these"
    assert "press Enter to save them" in page.inner_text("#question-error")
    press(page, "Enter")
    assert "Financial" in page.inner_text("#answers-list")


def test_override_is_refused_without_a_reason(console):
    page = console
    start_call_by_keyboard(page)
    press(page, "N")
    page.click("#override-details summary")
    page.select_option("#override-route", "mdt")
    page.click("#override-button")
    page.wait_for_selector("#close-error:not(:empty)")
    assert "reason" in page.inner_text("#close-error").lower()
    assert page.is_hidden("#readback")                # still open
    page.fill("#override-reason", "Known to the district nurses, who asked for a team review")
    page.click("#override-button")
    page.wait_for_selector("#readback:not([hidden])")
    assert "Multi-disciplinary team" in page.inner_text("#decision-route") or \
        "mdt" in page.inner_text("#decision-route")


def test_reload_mid_call_resumes_the_same_call(console):
    page = console
    start_call_by_keyboard(page, about="Mr B")
    while asked(page) != "Person's age?":             # the screen, then the mental health questions
        press(page, "N")
    type_answer(page, "77")
    reference = page.inner_text("#call-reference")
    page.reload()
    page.wait_for_selector("#call-panel:not([hidden])")
    assert page.inner_text("#call-reference") == reference
    assert "Where is the person" in asked(page)
    assert "77 years" in page.inner_text("#answers-list")
    second = page.context.new_page()                  # a second tab opens the same call
    second.goto("/console/")
    second.wait_for_selector("#call-panel:not([hidden])")
    assert second.inner_text("#call-reference") == reference
    assert reference in second.inner_text("#calls-list")


def test_two_open_calls_switch_with_the_keyboard_and_keep_their_place(console):
    page = console
    start_call_by_keyboard(page, about="first caller")
    press(page, "N")
    first = page.inner_text("#call-reference")
    page.click("#new-call-top")
    start_call_by_keyboard(page, about="second caller")
    second = page.inner_text("#call-reference")
    assert second != first and asked(page) == "Any of these now?"
    # The open-calls list refreshes after the decision panel: wait until it holds both calls.
    page.wait_for_selector(f".console-calls__button[data-contact='{second}'][aria-current='true']")
    assert page.locator(".console-calls__button").count() == 2
    page.keyboard.press(">")
    page.wait_for_function("(ref) => document.getElementById('call-reference').textContent === ref", arg=first)
    assert "ending their life" in asked(page)         # the first call, where it was left
    page.keyboard.press("<")
    page.wait_for_function("(ref) => document.getElementById('call-reference').textContent === ref", arg=second)
    assert asked(page) == "Any of these now?"


def test_typed_notes_are_kept_through_a_reload(console):
    page = console
    start_call_by_keyboard(page)
    page.keyboard.press("/")
    page.keyboard.type("Neighbour calling; daughter lives abroad")
    page.wait_for_selector("#notes-status:has-text('Notes saved')")
    page.reload()
    page.wait_for_selector("#call-panel:not([hidden])")
    assert page.input_value("#notes") == "Neighbour calling; daughter lives abroad"


def test_notes_propose_a_long_lie_that_one_key_confirms(console):
    page = console
    start_call_by_keyboard(page)
    press(page, "N")
    page.keyboard.press("/")
    page.keyboard.type("Mum fell at 5am and has been on the floor since, she can't get up.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".console-proposals__item", timeout=30000)   # the extractor loads once
    assert "On the floor and can't get up? Yes" in page.inner_text("#proposals")
    assert page.get_attribute("#decision-panel", "data-route") != "rapid_response"   # nothing set yet
    page.keyboard.press("Escape")
    while "On the floor" not in page.inner_text(".console-proposals__item"):
        page.keyboard.press("-")                      # dismiss other findings
    press(page, "+")
    assert "On the floor and can't get up? Yes" in page.inner_text("#answers-list")
    assert page.get_attribute("#decision-panel", "data-route") == "rapid_response"


def test_console_has_no_serious_or_critical_accessibility_issues(console):
    page = console
    problems = serious_accessibility_problems(page)   # the start form
    start_call_by_keyboard(page)
    press(page, "N")
    page.check("#flag-stroke_signs")
    page.wait_for_selector("#call-999:not([hidden])")
    page.wait_for_function(ROUTE_IS, arg="emergency")
    problems += serious_accessibility_problems(page)  # a call under way, with the 999 panel
    page.keyboard.press("Escape")
    page.keyboard.press(".")
    page.keyboard.press("Enter")
    page.wait_for_selector("#readback:not([hidden])")
    problems += serious_accessibility_problems(page)  # the read-back
    assert problems == []
    assert page_errors(page) == []


