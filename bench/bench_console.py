"""Benchmark the call-handler console.

1. Time from an answer (the key press) to the updated decision on screen, p50/p95, measured
   in headless Chromium (Playwright, /usr/bin/chromium) against the real app served on a
   free 127.0.0.1 port with a fresh SQLite database: calls are taken with the keyboard only.
2. For each shared protocol example (tests/protocol_examples/*.json), the number of questions
   the console asks when they are answered from the example's facts ("unknown" where the
   example doesn't say) until it has no more, and whether the decision then matches.

    .venv/bin/python bench/bench_console.py [--calls 6] [--answers 20] [--screenshot /tmp/console.png]
                                            [--out bench/results/bench_console.json]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser_helpers import ROUTE_IS, launch_chromium, press, serve  # noqa: E402
from web import create_app  # noqa: E402
from web.store import users  # noqa: E402
from web.store.db import sqlite_url  # noqa: E402

EXAMPLES = ROOT / "tests" / "protocol_examples"
PASSWORD = "bench password 12345"

# Installed in the page through the DevTools protocol (not subject to the page's CSP): the
# time from a key going down to the frame after the decision panel's data-seq changes.
LATENCY_PROBE = """() => {
  window.__latency = [];
  let pressed = null;
  document.addEventListener('keydown', () => { pressed = performance.now(); }, true);
  const panel = document.getElementById('decision-panel');
  new MutationObserver(() => {
    if (pressed === null) { return; }
    const at = pressed; pressed = null;
    requestAnimationFrame(() => window.__latency.push(performance.now() - at));
  }).observe(panel, {attributes: true, attributeFilter: ['data-seq']});
}"""


def build_app(folder: Path):
    app = create_app({"SECRET_KEY": "bench-secret", "INSTANCE_PATH": str(folder / "instance"),
                      "DATABASE_URL": sqlite_url(folder / "bench.db"),
                      "SPOA_LOGIN_RATE_LIMIT": "1000 per minute"})
    app.extensions["spoa"].store.upgrade()
    app.extensions["spoa"].store.run(lambda db: users.add_user(db, "bench-handler", PASSWORD, "call_handler"))
    return app


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


# -- 1. answer to decision on screen ------------------------------------------------------------

def answer_by_keyboard(page) -> bool:
    """Answer the question on screen with a key a handler might press; False when done."""
    if page.is_visible("#question-done") or not page.is_visible("#question-text"):
        return False
    if page.is_visible("#question-form"):
        page.wait_for_selector("#question-input:focus")
        label = page.inner_text("#question-text")
        page.keyboard.type("Ashford" if "Where" in label else "80")
        press(page, "Enter")
        return True
    keys = page.eval_on_selector_all("#question-options [data-key]", "nodes => nodes.map(n => n.dataset.key)")
    press(page, "N" if "N" in keys else ("1" if "1" in keys else "U"))
    return True


def measure_latency(base: str, calls: int, answers: int, screenshot: str | None) -> list[float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_context(base_url=base, viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(15000)
        page.goto("/auth/login")
        page.fill("input[name=username]", "bench-handler")
        page.fill("input[name=password]", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/console/?$"))
        page.wait_for_selector("#channel:focus")
        page.evaluate(LATENCY_PROBE)
        for call in range(calls):
            page.wait_for_selector("#channel:focus")
            page.keyboard.press("Tab")
            page.keyboard.type("F")
            page.keyboard.press("Tab")                      # to a text field: Enter submits the form
            press(page, "Enter")
            for _ in range(answers):
                if not answer_by_keyboard(page):
                    break
            if call == 0 and screenshot:
                page.check("#flag-chest_pain")
                page.wait_for_selector("#call-999:not([hidden])")
                page.wait_for_function(ROUTE_IS, arg="emergency")
                page.evaluate("() => window.scrollTo(0, 0)")
                page.screenshot(path=screenshot)
            page.keyboard.press(".")
            page.keyboard.press("Enter")
            page.wait_for_selector("#readback:not([hidden])")
            page.wait_for_selector("#readback:focus")
            page.keyboard.press("Enter")                     # start another call
        samples = page.evaluate("() => window.__latency")
        browser.close()
    return samples


# -- 2. questions asked for the protocol examples -----------------------------------------------

def example_answer(question: dict, facts: dict, config, denies_unmentioned: bool = False) -> object:
    """The answer the example's facts give to a console question: "unknown" where they don't
    say, or, for a caller who `denies_unmentioned`, "no"/"none of these" to a yes/no, checklist
    or list question about something the story doesn't mention (as most callers would)."""
    asked = question["ask"]
    kind = question["kind"]
    if kind == "checklist":
        known = [fact for fact in asked if fact in facts]
        if not known and not denies_unmentioned:
            return "unknown"
        ticked = [fact for fact in asked if facts.get(fact) is True]
        return ticked or "none"
    fact = asked[0]
    if fact not in facts or facts[fact] is None:
        if denies_unmentioned and kind in ("boolean", "multi"):
            return "no" if kind == "boolean" else "none"
        return "unknown"
    value = facts[fact]
    if kind == "boolean":
        return "yes" if value else "no"
    if kind == "multi":
        return value or "none"
    if kind == "text" and fact == "locality" and value in config.localities:
        return config.localities[value]["name"]
    return value


def count_questions(app, denies_unmentioned: bool = False) -> list[dict]:
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"username": "bench-handler", "password": PASSWORD, "csrf_token": token})
    page = client.get("/console/").get_data(as_text=True)
    headers = {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}
    config = app.extensions["spoa"].config
    rows = []
    for path in sorted(EXAMPLES.glob("*.json")):
        example = json.loads(path.read_text(encoding="utf-8"))
        facts = example["contact"]["facts"]
        state = client.post("/console/api/contacts", json={"channel": "phone"}, headers=headers).get_json()
        asked, reached = 0, None
        while state["question"] is not None and asked < 100:
            question = state["question"]
            response = client.post(f"/console/api/contacts/{state['contact']['id']}/answer", headers=headers,
                                   json={"question": question["id"], "ask": question["ask"],
                                         "answer": example_answer(question, facts, config, denies_unmentioned)})
            assert response.status_code == 200, response.get_json()
            state = response.get_json()
            asked += 1
            if state["decision"]["route"] != example["expected"]["route"]:
                reached = None
            elif reached is None:
                reached = asked
        expected = example["expected"]
        decision = state["decision"]
        matches = all(decision.get(key) == value for key, value in expected.items()
                      if key in ("route", "pathway", "response_target", "also", "status", "review_required")) and \
            decision["safeguarding"]["level"] == expected.get("safeguarding", {}).get("level",
                                                                                     decision["safeguarding"]["level"])
        rows.append({"example": path.stem, "questions": asked, "reached": reached, "route": decision["route"],
                     "expected": expected["route"], "matches": matches})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--answers", type=int, default=20, help="answers per call before closing")
    parser.add_argument("--screenshot", default=None, help="save a mid-call screenshot (999 panel) here")
    parser.add_argument("--out", default=None, help="also write the figures as JSON to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        with serve(app) as base:
            started = time.perf_counter()
            samples = measure_latency(base, args.calls, args.answers, args.screenshot)
            took = time.perf_counter() - started
        callers = {"unknown": count_questions(app), "denies": count_questions(app, denies_unmentioned=True)}
        app.extensions["spoa"].store.dispose()

    print(f"Answer to decision on screen (headless Chromium, SQLite, {args.calls} keyboard calls, "
          f"{len(samples)} answers, {took:.1f} s):")
    print(f"  p50 {statistics.median(samples):.0f} ms   p95 {percentile(samples, 0.95):.0f} ms   "
          f"max {max(samples):.0f} ms")
    for caller, heading in (("unknown", "'I don't know' to what the story doesn't say"),
                            ("denies", "'no' or 'none of these' to what the story doesn't mention")):
        rows = callers[caller]
        print(f"Questions asked per protocol example, until none left (answers from its facts; {heading}):")
        for row in rows:
            print(f"  {row['example']:<28} {row['questions']:>3} questions (route settled after {row['reached']}); "
                  f"route {row['route']:<16} expected {row['expected']:<16} {'OK' if row['matches'] else 'DIFFERENT'}")
        print(f"  median {statistics.median(r['questions'] for r in rows):.0f} questions, route settled after a median "
              f"{statistics.median(r['reached'] or 0 for r in rows):.0f}; "
              f"{sum(r['matches'] for r in rows)}/{len(rows)} reach the expected decision")
    if args.out:
        figures = {"answer_to_screen_ms": {"p50": round(statistics.median(samples)),
                                           "p95": round(percentile(samples, 0.95)), "max": round(max(samples)),
                                           "answers": len(samples), "calls": args.calls, "database": "sqlite"},
                   "examples": callers}
        Path(args.out).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
