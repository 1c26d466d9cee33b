"""Serving the real app on a free 127.0.0.1 port, launching Debian's headless Chromium, and
driving the call-handler console with keys.

Not a conftest: the browser fixtures in conftest.py (`live_app`, `live_server`, `browser`,
`new_page`) are built on these; tests/test_browser_console.py and bench/bench_console.py use
them directly.
Nothing is downloaded: Playwright drives the system's /usr/bin/chromium.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def serve(app, port: int = 0) -> Iterator[str]:  # noqa: ANN001
    """Serve `app` with werkzeug in a thread on 127.0.0.1 (a free port unless `port` is
    given: a test can start a server where a client already expects it); yields the base URL."""
    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


def launch_chromium(playwright):  # noqa: ANN001, ANN201
    """Headless Chromium from the system package, with nothing fetched in the background."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def record_errors(page) -> None:  # noqa: ANN001
    """Keep the page's uncaught errors and console errors (CSP refusals among them) in page.errors."""
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))


def page_errors(page) -> list[str]:  # noqa: ANN001
    """page.errors less one expected refusal: the NHS.UK stylesheet names the Frutiger web font
    on assets.nhs.uk, which the CSP (font-src 'self') blocks, so pages fall back to Arial."""
    return [e for e in page.errors if not ("assets.nhs.uk/fonts" in e and "font-src" in e)]


def log_in(page, username: str, password: str) -> None:  # noqa: ANN001
    """Log in through the login form, as a person would."""
    page.goto("/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert "/auth/login" not in page.url, page.content()


# -- the call-handler console: a key, then the decision panel's answer --------------------------

# Functions, not expression strings: the page's CSP forbids eval, and Playwright evaluates a
# string predicate with eval on every poll.
SEQ_AFTER = "(before) => Number(document.getElementById('decision-panel').dataset.seq) > before"
ROUTE_IS = "(route) => document.getElementById('decision-panel').dataset.route === route"


def seq(page) -> int:  # noqa: ANN001
    """How many answers from the server the console's decision panel has shown."""
    return int(page.get_attribute("#decision-panel", "data-seq") or 0)


def press(page, key: str) -> None:  # noqa: ANN001
    """Press a key and wait for the decision panel to show the server's answer."""
    before = seq(page)
    page.keyboard.press(key)
    page.wait_for_function(SEQ_AFTER, arg=before)


# -- accessibility: axe-core on the page as it is now -------------------------------------------

# axe is loaded from the app's own /static/vendor as a same-origin file: the Content-Security-
# Policy, rightly, refuses an inline script even from a test.
AXE_RUN = """async () => {
  if (!window.axe) {
    await new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = '/static/vendor/axe.min.js';
      script.onload = resolve; script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  const result = await window.axe.run(document, {resultTypes: ['violations']});
  return result.violations;
}"""


def serious_accessibility_problems(page) -> list[str]:  # noqa: ANN001
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    return [f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
            for v in page.evaluate(AXE_RUN) if v["impact"] in ("serious", "critical")]
