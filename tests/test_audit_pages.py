"""The supervisor's audit pages (/audit) and the duty worker's worklist page (/worklist).

Real app, real engine, real SQLite store (fixtures in conftest.py); staff log in through the
login form and every POST carries the CSRF token read from the page, as a browser would.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from conftest import T0
from engine_helpers import EXAMPLES_DIR, RULES_DIR
from spoa.vocabulary import SAFEGUARDING_LEVELS, pathways, routes
from web.labels import PATHWAY_LABELS, ROUTE_LABELS, SAFEGUARDING_LABELS
from web.store import contacts
from web.store.contacts import ROUTES
from web.store.models import AuditEntry, Decision, Review

AUDIT_PAGES = ["/audit/", "/audit/contacts", "/audit/contacts.csv", "/audit/charts",
               "/audit/charts.json", "/audit/log", "/audit/replay"]


def example(name: str, **changes) -> dict:
    """A contact from the shared protocol examples, with its channel or facts changed."""
    data = json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))["contact"]
    data = {**data, "facts": {**data["facts"], **changes.pop("facts", {})}, **changes}
    return data


def add_contact(app, data: dict, now=T0) -> str:
    """Store and decide a contact through the store's service function; returns its reference."""
    spoa = app.extensions["spoa"]
    return spoa.store.run(lambda db: contacts.create_contact(db, spoa.triage, data, now=now)).contact.id


def token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def audit_actions(app) -> list[tuple[str, str | None]]:
    with app.extensions["spoa"].store.session() as db:
        return [(row.action, row.target) for row in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def references(html: str) -> set[str]:
    return set(re.findall(r"SPA-[0-9A-Z]{4}-[0-9A-Z]{4}", html))


@pytest.fixture
def seeded(app):
    """A long lie after a fall, a lonely man in Dartford, chest pain (999), and financial abuse
    of a person with dementia (safeguarding referral, review required), on two days."""
    return {
        "fall": add_contact(app, example("fall-long-lie", channel="phone", received_at="2026-11-25T09:00:00Z")),
        "lonely": add_contact(app, example("lonely", received_at="2026-11-25T11:00:00Z")),
        "chest": add_contact(app, example("chest-pain", received_at="2026-11-26T08:30:00Z")),
        "abuse": add_contact(app, example("financial-abuse-dementia", channel="professional_referral",
                                          received_at="2026-11-26T09:15:00Z")),
    }


@pytest.fixture
def supervisor(client_as):
    return client_as("supervisor")


# -- words for the vocabulary -----------------------------------------------------------------

def test_every_route_pathway_and_safeguarding_level_has_words_for_staff():
    assert list(ROUTE_LABELS) == list(ROUTES) and set(ROUTE_LABELS) == set(routes())
    assert set(PATHWAY_LABELS) == set(pathways())
    assert list(SAFEGUARDING_LABELS) == list(SAFEGUARDING_LEVELS)


# -- who may open what -----------------------------------------------------------------------

# One login per role and every page in one test: each app and login costs about a second.

def test_a_call_handler_cannot_open_the_audit_pages(client_as):
    handler = client_as("call_handler")
    assert {path: handler.get(path).status_code for path in AUDIT_PAGES} == {path: 403 for path in AUDIT_PAGES}


def test_a_duty_worker_cannot_open_the_audit_pages(client_as):
    worker = client_as("duty_worker")
    assert {path: worker.get(path).status_code for path in AUDIT_PAGES} == {path: 403 for path in AUDIT_PAGES}


def test_a_supervisor_can_open_the_audit_pages(supervisor):
    assert {path: supervisor.get(path).status_code for path in AUDIT_PAGES} == {path: 200 for path in AUDIT_PAGES}


def test_an_admin_can_open_a_contact_trace(client_as, app, seeded):
    assert client_as("admin").get(f"/audit/contacts/{seeded['fall']}").status_code == 200


def test_someone_not_logged_in_is_sent_to_the_login_page(client):
    response = client.get("/audit/contacts")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_call_handler_cannot_open_the_worklist(client_as):
    assert client_as("call_handler").get("/worklist/").status_code == 403


def test_duty_workers_supervisors_and_admins_can_open_the_worklist(client_as):
    assert [client_as(role).get("/worklist/").status_code for role in ("duty_worker", "supervisor", "admin")] == [
        200, 200, 200]


def test_a_call_handler_cannot_override_a_decision(client_as, app, seeded):
    handler = client_as("call_handler")
    token = token_from(handler.get("/auth/login").get_data(as_text=True))
    response = handler.post(f"/audit/contacts/{seeded['fall']}/override",
                            data={"csrf_token": token, "route": "mdt", "reason": "I think so"})
    assert response.status_code == 403
    with app.extensions["spoa"].store.session() as db:
        assert db.scalar(select(func.count()).select_from(Review)) == 0


# -- the list, its filters and paging --------------------------------------------------------

def test_the_list_shows_every_contact_unfiltered(supervisor, seeded):
    html = supervisor.get("/audit/contacts").get_data(as_text=True)
    assert references(html) == set(seeded.values())
    assert "<strong>4</strong> contacts" in html


def test_filtering_by_rapid_response_shows_only_the_fall(supervisor, seeded):
    html = supervisor.get("/audit/contacts?route=rapid_response").get_data(as_text=True)
    assert references(html) == {seeded["fall"]}


def test_filtering_by_a_safeguarding_referral_shows_only_the_abuse_contact(supervisor, seeded):
    html = supervisor.get("/audit/contacts?safeguarding_level=referral").get_data(as_text=True)
    assert references(html) == {seeded["abuse"]}


def test_filtering_review_required_yes_and_no_split_the_list(supervisor, seeded):
    needing = references(supervisor.get("/audit/contacts?review_required=yes").get_data(as_text=True))
    not_needing = references(supervisor.get("/audit/contacts?review_required=no").get_data(as_text=True))
    assert needing == {seeded["abuse"]}
    assert not_needing == {seeded["fall"], seeded["lonely"], seeded["chest"]}


def test_filtering_by_locality_pathway_and_channel(supervisor, seeded):
    assert references(supervisor.get("/audit/contacts?locality=swale").get_data(as_text=True)) == {
        seeded["fall"]}
    assert references(supervisor.get("/audit/contacts?pathway=ambulance").get_data(as_text=True)) == {
        seeded["chest"]}
    assert references(supervisor.get("/audit/contacts?channel=professional_referral")
                      .get_data(as_text=True)) == {seeded["abuse"]}


def test_filtering_by_dates_takes_whole_days(supervisor, seeded):
    first_day = references(supervisor.get("/audit/contacts?from=2026-11-25&to=2026-11-25")
                           .get_data(as_text=True))
    second_day = references(supervisor.get("/audit/contacts?from=2026-11-26").get_data(as_text=True))
    assert first_day == {seeded["fall"], seeded["lonely"]}
    assert second_day == {seeded["chest"], seeded["abuse"]}


def test_a_date_that_is_not_a_date_is_named_in_an_error_summary_not_a_crash(supervisor, seeded):
    response = supervisor.get("/audit/contacts?from=31/02/2026&route=emergency")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nhsuk-error-summary" in html and "Date from must be a real date" in html
    assert references(html) == {seeded["chest"]}  # the good filter still applies


def test_a_route_that_is_not_in_the_protocol_is_refused(supervisor, seeded):
    response = supervisor.get("/audit/contacts?route=teleport")
    assert response.status_code == 400
    assert "Route must be one of the listed options" in response.get_data(as_text=True)


def test_dates_in_the_wrong_order_are_refused(supervisor, seeded):
    response = supervisor.get("/audit/contacts?from=2026-11-26&to=2026-11-25")
    assert response.status_code == 400
    assert "Date to must be the same as or after date from" in response.get_data(as_text=True)


def test_the_list_pages_25_at_a_time_newest_first(supervisor, app):
    made = [add_contact(app, example("lonely", received_at=(T0 - timedelta(hours=n)).isoformat()))
            for n in range(27)]
    first = supervisor.get("/audit/contacts").get_data(as_text=True)
    second = supervisor.get("/audit/contacts?page=2").get_data(as_text=True)
    assert references(first) == set(made[:25])
    assert references(second) == set(made[25:])
    assert 'aria-label="Page 2"' in first and 'rel="next"' in first
    assert 'rel="next"' not in second and 'rel="prev"' in second


def test_a_page_past_the_end_shows_the_last_page(supervisor, seeded):
    html = supervisor.get("/audit/contacts?page=99").get_data(as_text=True)
    assert references(html) == set(seeded.values())
    assert supervisor.get("/audit/contacts?page=abc").status_code == 200


def test_paging_keeps_the_filters(supervisor, app):
    for n in range(26):
        add_contact(app, example("lonely", received_at=(T0 - timedelta(hours=n)).isoformat()))
    html = supervisor.get("/audit/contacts?route=voluntary_sector").get_data(as_text=True)
    assert "page=2" in html and "route=voluntary_sector" in re.search(r'href="([^"]*page=2[^"]*)"', html).group(1)


# -- CSV export ------------------------------------------------------------------------------

def test_the_csv_export_holds_the_filtered_list_and_is_audit_logged(supervisor, app, seeded):
    response = supervisor.get("/audit/contacts.csv?route=voluntary_sector")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["reference"] for row in rows] == [seeded["lonely"]]
    assert rows[0]["route"] == "voluntary_sector" and rows[0]["locality"] == "dartford_gravesham_swanley"
    with app.extensions["spoa"].store.session() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "contacts.export")).one()
    assert entry.actor == supervisor.username
    assert entry.details["rows"] == 1 and entry.details["filters"] == {"route": "voluntary_sector"}


def test_the_csv_export_of_everything_has_a_row_per_contact(supervisor, seeded):
    rows = list(csv.DictReader(io.StringIO(supervisor.get("/audit/contacts.csv").get_data(as_text=True))))
    assert {row["reference"] for row in rows} == set(seeded.values())
    assert {row["review_required"] for row in rows} == {"yes", "no"}


def test_a_place_name_that_looks_like_a_formula_is_defused_in_the_csv(supervisor, app):
    reference = add_contact(app, example("lonely", facts={"locality": "=HYPERLINK(\"http://x\")"}))
    rows = list(csv.DictReader(io.StringIO(supervisor.get("/audit/contacts.csv").get_data(as_text=True))))
    row = next(row for row in rows if row["reference"] == reference)
    # the gazetteer can't resolve it, so it is stored as unknown (null), never as the text
    assert row["locality"] == ""


def test_an_override_reason_that_looks_like_a_formula_is_defused_in_the_csv(supervisor, app):
    reference = add_contact(app, example("lonely"))
    _override(supervisor, reference, route="mdt", reason="=HYPERLINK(\"http://x\")")
    rows = list(csv.DictReader(io.StringIO(supervisor.get("/audit/contacts.csv").get_data(as_text=True))))
    row = next(row for row in rows if row["reference"] == reference)
    assert row["override_reason"].startswith("'=")


# -- one contact: facts, decisions, trace ----------------------------------------------------

def test_the_trace_of_a_long_lie_names_the_rule_its_title_version_and_source(supervisor, seeded):
    html = supervisor.get(f"/audit/contacts/{seeded['fall']}").get_data(as_text=True)
    assert "UCR-1" in html
    assert "A fall without serious injury (including a long lie on the floor)" in html
    assert "version 2" in html  # UCR-1 v2 (protocol 1.1)
    assert "PROTOCOL.md §3 UCR-1" in html
    assert "This rule decided the route because fall injury is none" in html


def test_the_trace_says_which_rules_were_outranked(supervisor, seeded):
    html = supervisor.get(f"/audit/contacts/{seeded['fall']}").get_data(as_text=True)
    assert "SELF-1" in html and "No other route - information, advice and safety-netting" in html


def test_the_facts_timeline_shows_each_answer_its_source_and_who_gave_it(supervisor, app, seeded):
    spoa = app.extensions["spoa"]
    spoa.store.run(lambda db: contacts.add_facts(db, spoa.triage, seeded["fall"], {"on_anticoagulants": True},
                                                 now=T0 + timedelta(minutes=5), source="console",
                                                 actor="handler-ann"))
    html = supervisor.get(f"/audit/contacts/{seeded['fall']}").get_data(as_text=True)
    timeline = html[html.index('id="facts-timeline"'):html.index('id="reviews"')]
    assert "on floor cannot get up" in timeline and "call handler console" in timeline and "handler-ann" in timeline
    assert "26 Nov 2026, 10:05" in timeline  # London time (GMT in November)
    # The current decision first and in full; the earlier one folded beneath it.
    assert html.index("Current decision (2 of 2)") < html.index("Earlier decisions (1)")
    earlier = html[html.index("Earlier decisions (1)"):html.index('id="facts"')]
    assert "<details" in earlier and "Decision 1," in earlier


def test_a_safeguarding_referral_shows_why_a_person_must_review_it(supervisor, seeded):
    html = supervisor.get(f"/audit/contacts/{seeded['abuse']}").get_data(as_text=True)
    assert "Why a person must review this" in html
    assert "a person must review and make the referral" in html


def test_an_incomplete_contact_lists_what_was_still_missing(supervisor, app):
    reference = add_contact(app, {"channel": "web_chat", "facts": {"lonely_or_isolated": True}})
    html = supervisor.get(f"/audit/contacts/{reference}").get_data(as_text=True)
    assert "Still missing when decided" in html and "unresponsive" in html


def test_viewing_a_contact_is_written_to_the_audit_log(supervisor, app, seeded):
    supervisor.get(f"/audit/contacts/{seeded['lonely']}")
    assert ("contact.view", seeded["lonely"]) in audit_actions(app)


def test_an_unknown_reference_is_a_404_not_a_crash(supervisor):
    assert supervisor.get("/audit/contacts/SPA-0000-0000").status_code == 404


# -- overrides -------------------------------------------------------------------------------

def _override(client, reference: str, **fields):
    token = token_from(client.get(f"/audit/contacts/{reference}").get_data(as_text=True))
    return client.post(f"/audit/contacts/{reference}/override", data={"csrf_token": token, **fields})


def test_an_override_without_a_reason_is_refused_and_nothing_is_recorded(supervisor, app, seeded):
    response = _override(supervisor, seeded["lonely"], route="mdt", reason="   ")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nhsuk-error-summary" in html and "Give a reason for the override." in html
    assert 'href="#override-reason"' in html
    with app.extensions["spoa"].store.session() as db:
        assert db.scalar(select(func.count()).select_from(Review)) == 0
        assert contacts.get_contact(db, seeded["lonely"]).route == "voluntary_sector"


def test_an_override_without_a_route_is_refused(supervisor, app, seeded):
    response = _override(supervisor, seeded["lonely"], route="", reason="Known to the MDT already")
    assert response.status_code == 400 and "Choose the new route." in response.get_data(as_text=True)


def test_an_override_to_a_route_outside_the_protocol_is_refused(supervisor, app, seeded):
    response = _override(supervisor, seeded["lonely"], route="teleport", reason="Because")
    assert response.status_code == 400
    with app.extensions["spoa"].store.session() as db:
        assert db.scalar(select(func.count()).select_from(Review)) == 0


def test_an_override_without_the_csrf_token_is_refused(supervisor, app, seeded):
    response = supervisor.post(f"/audit/contacts/{seeded['lonely']}/override",
                               data={"route": "mdt", "reason": "Known to the MDT"})
    assert response.status_code == 400
    with app.extensions["spoa"].store.session() as db:
        assert db.scalar(select(func.count()).select_from(Review)) == 0


def test_an_override_with_a_reason_is_recorded_as_a_new_review_never_an_edit(supervisor, app, seeded):
    with app.extensions["spoa"].store.session() as db:
        decision_before = db.scalars(select(Decision).where(Decision.contact_id == seeded["lonely"])).one().decision
    response = _override(supervisor, seeded["lonely"], route="mdt", pathway="complex_care",
                         reason="Known to the locality MDT; falls twice this month")
    assert response.status_code == 303
    with app.extensions["spoa"].store.session() as db:
        review = db.scalars(select(Review)).one()
        decision_after = db.scalars(select(Decision).where(Decision.contact_id == seeded["lonely"])).one().decision
        contact = contacts.get_contact(db, seeded["lonely"])
    assert (review.action, review.route, review.pathway, review.actor) == (
        "override", "mdt", "complex_care", supervisor.username)
    assert review.reason == "Known to the locality MDT; falls twice this month"
    assert decision_after == decision_before  # the engine's decision is kept as it was
    assert (contact.route, contact.overridden) == ("mdt", True)
    assert ("contact.override", seeded["lonely"]) in audit_actions(app)
    page = supervisor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Override recorded" in page and "falls twice this month" in page


def test_an_overridden_contact_is_found_by_the_overridden_filter(supervisor, seeded):
    _override(supervisor, seeded["lonely"], route="mdt", reason="Known to the MDT")
    assert references(supervisor.get("/audit/contacts?overridden=yes").get_data(as_text=True)) == {
        seeded["lonely"]}
    assert seeded["lonely"] not in references(supervisor.get("/audit/contacts?overridden=no")
                                              .get_data(as_text=True))


# -- charts ----------------------------------------------------------------------------------

def test_the_chart_data_counts_routes_per_day_levels_and_rates(supervisor, seeded):
    _override(supervisor, seeded["lonely"], route="mdt", reason="Known to the MDT")
    data = supervisor.get("/audit/charts.json").get_json()
    assert data["total"] == 4
    assert data["routes_per_day"]["labels"] == ["2026-11-25", "2026-11-26"]
    per_route = {ds["key"]: ds["data"] for ds in data["routes_per_day"]["datasets"]}
    assert per_route["rapid_response"] == [1, 0] and per_route["emergency"] == [0, 1]
    assert per_route["mdt"] == [1, 1]  # the override moved the lonely man's contact to the MDT
    assert dict(zip(data["safeguarding"]["keys"], data["safeguarding"]["data"])) == {
        "none": 3, "concern": 0, "referral": 1, "urgent": 0}
    # Two contacts a day: counts, and no percentage (1 of 2 is not "50%" to act on).
    assert data["rates"]["review_required_count"] == [0, 1] and data["rates"]["overridden_count"] == [1, 0]
    assert data["rates"]["totals"] == [2, 2]
    assert data["rates"]["review_required"] == [None, None] and data["rates"]["overridden"] == [None, None]
    assert data["rates"]["review_required_overall"] == "1 of 4"


def test_a_day_with_five_contacts_shows_its_percentage_beside_the_count(supervisor, app):
    for hour in range(9, 14):
        add_contact(app, example("lonely", received_at=f"2026-11-27T{hour:02}:00:00Z"))
    reference = add_contact(app, example("financial-abuse-dementia", received_at="2026-11-27T15:00:00Z"))
    data = supervisor.get("/audit/charts.json").get_json()
    assert data["rates"]["totals"] == [6] and data["rates"]["review_required_count"] == [1]
    assert data["rates"]["review_required"] == [16.7]
    assert data["rates"]["review_required_overall"] == "1 of 6 (17%)"
    assert reference in supervisor.get("/audit/contacts?review_required=yes").get_data(as_text=True)


def test_the_charts_page_loads_chart_js_from_a_file_and_shows_the_numbers_as_tables(supervisor, seeded):
    response = supervisor.get("/audit/charts?from=2026-11-26")
    html = response.get_data(as_text=True)
    assert "/static/vendor/chart.umd.min.js" in html and "/static/js/charts.js" in html
    assert 'data-source="/audit/charts.json?from=2026-11-26"' in html
    assert "<script>" not in html and "style=" not in html  # the CSP allows neither inline
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# -- the audit log ---------------------------------------------------------------------------

def test_an_untouched_audit_log_verifies_ok(supervisor, seeded):
    html = supervisor.get("/audit/log").get_data(as_text=True)
    assert "The audit log is intact" in html


def test_a_changed_audit_row_is_named_on_the_verification_page(supervisor, app, seeded):
    supervisor.get(f"/audit/contacts/{seeded['fall']}")
    store = app.extensions["spoa"].store
    with store.session() as db:
        view = db.scalars(select(AuditEntry).where(AuditEntry.action == "contact.view")).first()
    with store.engine.begin() as connection:  # someone with database access gets past the trigger
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = :id"), {"id": view.id})
    html = supervisor.get("/audit/log").get_data(as_text=True)
    assert f"The audit log is broken at row {view.id}" in html
    assert "someone-else" in html  # the broken row is shown as stored now


def test_verifying_is_itself_audit_logged(supervisor, app):
    supervisor.get("/audit/log")
    assert "audit.verify" in [action for action, _ in audit_actions(app)]


# -- replay ----------------------------------------------------------------------------------

def test_replaying_with_the_current_rules_changes_nothing(supervisor, seeded):
    html = supervisor.get("/audit/replay?run=1&from=2026-11-25&to=2026-11-26").get_data(as_text=True)
    assert re.search(r"Replayed <strong>4</strong> contacts", html)
    assert "<strong>0</strong> would change route" in html


@pytest.fixture
def candidate_rules(app, tmp_path):
    """A candidate rule set in which a fall without serious injury goes to the MDT."""
    folder = tmp_path / "falls-to-mdt"
    shutil.copytree(RULES_DIR, folder)
    ucr = folder / "ucr.yml"
    source = ucr.read_text(encoding="utf-8")
    old = ("        - {fact: fall_injury, is_not: serious}\n    then:\n      route: rapid_response\n"
           "      pathway: ucr\n      target: ucr\n")
    assert old in source
    ucr.write_text(source.replace(old, "        - {fact: fall_injury, is_not: serious}\n    then:\n"
                                       "      route: mdt\n      pathway: complex_care\n      target: complex_care\n"),
                   encoding="utf-8")
    app.config["SPOA_REPLAY_RULES"] = {"falls-to-mdt": str(folder)}
    return "falls-to-mdt"


def test_replaying_a_candidate_that_sends_falls_to_the_mdt_names_the_fall(supervisor, app, seeded,
                                                                           candidate_rules):
    html = supervisor.get(f"/audit/replay?run=1&rules={candidate_rules}").get_data(as_text=True)
    assert "<strong>1</strong> would change route" in html
    table = html[html.index('id="replay-transitions"'):]
    assert "Rapid response" in table and "Multi-disciplinary team" in table and seeded["fall"] in table
    entry = [a for a in audit_actions(app) if a[0] == "replay.run"]
    assert entry


def test_replaying_a_rule_set_not_on_the_list_is_refused(supervisor, seeded, candidate_rules):
    response = supervisor.get("/audit/replay?run=1&rules=/etc")
    assert response.status_code == 400
    assert "Choose a rule set from the list" in response.get_data(as_text=True)


# -- the worklist ----------------------------------------------------------------------------

@pytest.fixture
def duty_worker(client_as):
    return client_as("duty_worker")


def _queue_order(html: str) -> list[str]:
    return re.findall(r'<span class="app-reference">(SPA-[0-9A-Z-]+)</span>', html)


def test_the_worklist_puts_the_most_urgent_first_then_the_oldest(duty_worker, app, clock):
    lonely_old = add_contact(app, example("lonely", received_at="2026-11-26T07:00:00Z"))
    lonely_new = add_contact(app, example("lonely", received_at="2026-11-26T09:00:00Z"))
    fall = add_contact(app, example("fall-long-lie", received_at="2026-11-26T09:30:00Z"))
    chest = add_contact(app, example("chest-pain", received_at="2026-11-26T09:40:00Z"))
    html = duty_worker.get("/worklist/").get_data(as_text=True)
    order = _queue_order(html)
    assert order == [fall, lonely_old, lonely_new]  # 999 advice needs no referral: not listed
    assert chest not in order
    # The fall came in at 09:30 with a two-hour target; the clock says 10:00.
    assert "1 hour 30 minutes left" in html and "2 hours" in html


def test_an_overdue_referral_says_by_how_much(duty_worker, app, clock):
    add_contact(app, example("fall-long-lie", received_at="2026-11-26T07:00:00Z"))
    html = duty_worker.get("/worklist/").get_data(as_text=True)
    assert "Overdue by 1 hour" in html


def _worklist_post(client, item_path: str, **fields):
    token = token_from(client.get("/worklist/").get_data(as_text=True))
    return client.post(item_path, data={"csrf_token": token, **fields})


def _open_item_id(app, reference: str) -> int:
    with app.extensions["spoa"].store.session() as db:
        return contacts.contact_record(db, reference, now=T0)["worklist"][0]["id"]


def test_accepting_a_referral_sends_it_and_makes_it_mine(duty_worker, app):
    fall = add_contact(app, example("fall-long-lie"))
    item = _open_item_id(app, fall)
    response = _worklist_post(duty_worker, f"/worklist/{item}/accept")
    assert response.status_code == 303
    html = duty_worker.get(response.headers["Location"]).get_data(as_text=True)
    assert "Accepted: the referral is sent" in html
    assert fall not in _queue_order(duty_worker.get("/worklist/?view=open").get_data(as_text=True))
    assert fall in _queue_order(duty_worker.get("/worklist/?view=mine").get_data(as_text=True))
    with app.extensions["spoa"].store.session() as db:
        review = db.scalars(select(Review)).one()
    assert (review.action, review.actor) == ("accept", duty_worker.username)
    assert ("worklist.accept", fall) in audit_actions(app)


def test_accepting_without_the_csrf_token_is_refused_and_nothing_is_sent(duty_worker, app):
    fall = add_contact(app, example("fall-long-lie"))
    item = _open_item_id(app, fall)
    response = duty_worker.post(f"/worklist/{item}/accept", data={})
    assert response.status_code == 400
    with app.extensions["spoa"].store.session() as db:
        assert db.scalar(select(func.count()).select_from(Review)) == 0
    assert fall in _queue_order(duty_worker.get("/worklist/").get_data(as_text=True))


def test_returning_a_referral_without_a_reason_is_refused(duty_worker, app):
    fall = add_contact(app, example("fall-long-lie"))
    item = _open_item_id(app, fall)
    response = _worklist_post(duty_worker, f"/worklist/{item}/return", reason="")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nhsuk-error-summary" in html and f'href="#reason-{item}"' in html
    assert fall in _queue_order(html)
    with app.extensions["spoa"].store.session() as db:
        assert db.scalar(select(func.count()).select_from(Review)) == 0


def test_returning_a_referral_with_a_reason_records_it(duty_worker, app):
    fall = add_contact(app, example("fall-long-lie"))
    item = _open_item_id(app, fall)
    response = _worklist_post(duty_worker, f"/worklist/{item}/return", reason="Already admitted to hospital")
    assert response.status_code == 303
    with app.extensions["spoa"].store.session() as db:
        review = db.scalars(select(Review)).one()
    assert (review.action, review.reason) == ("return", "Already admitted to hospital")
    assert fall not in _queue_order(duty_worker.get("/worklist/").get_data(as_text=True))


def test_accepting_an_item_twice_is_a_clear_conflict_not_a_crash(duty_worker, app):
    fall = add_contact(app, example("fall-long-lie"))
    item = _open_item_id(app, fall)
    _worklist_post(duty_worker, f"/worklist/{item}/accept")
    response = _worklist_post(duty_worker, f"/worklist/{item}/accept")
    assert response.status_code == 409 and "already accepted" in response.get_data(as_text=True)


def test_a_candidate_rule_set_that_fails_its_checks_is_reported_not_a_crash(supervisor, app, seeded, tmp_path):
    folder = tmp_path / "typo"
    shutil.copytree(RULES_DIR, folder)
    ucr = folder / "ucr.yml"
    ucr.write_text(ucr.read_text(encoding="utf-8").replace("{fact: fall_injury, is_not: serious}",
                                                           "{fact: fall_injurie, is_not: serious}", 1),
                   encoding="utf-8")
    app.config["SPOA_REPLAY_RULES"] = {"typo": str(folder)}
    response = supervisor.get("/audit/replay?run=1&rules=typo")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The rule set “typo” could not be loaded" in html and "fall_injurie" in html


def test_the_worklist_says_which_rule_sent_the_referral(duty_worker, app):
    add_contact(app, example("fall-long-lie"))
    html = duty_worker.get("/worklist/").get_data(as_text=True)
    assert "UCR-1" in html and "A fall without serious injury (including a long lie on the floor)" in html


@pytest.mark.postgres
def test_a_supervisor_filters_exports_and_overrides_on_postgresql(pg_app, client_as):
    fall = add_contact(pg_app, example("fall-long-lie", received_at="2026-11-25T09:00:00Z"))
    lonely = add_contact(pg_app, example("lonely", received_at="2026-11-26T09:00:00Z"))
    supervisor = client_as("supervisor", on_app=pg_app)
    assert references(supervisor.get("/audit/contacts?route=rapid_response&to=2026-11-25")
                      .get_data(as_text=True)) == {fall}
    rows = list(csv.DictReader(io.StringIO(supervisor.get("/audit/contacts.csv?from=2026-11-26")
                                           .get_data(as_text=True))))
    assert [row["reference"] for row in rows] == [lonely]
    assert _override(supervisor, fall, route="mdt", reason="").status_code == 400
    assert _override(supervisor, fall, route="mdt", reason="Known to the MDT").status_code == 303
    assert references(supervisor.get("/audit/contacts?overridden=yes").get_data(as_text=True)) == {fall}
    assert "The audit log is intact" in supervisor.get("/audit/log").get_data(as_text=True)


def test_an_overridden_referral_shows_the_supervisor_s_reason_on_the_worklist(client_as, app):
    lonely = add_contact(app, example("lonely"))
    supervisor = client_as("supervisor")
    _override(supervisor, lonely, route="rapid_response", reason="Fell twice today; needs a visit")
    html = supervisor.get("/worklist/").get_data(as_text=True)
    item = html[html.index(lonely):]
    assert "Fell twice today; needs a visit" in item[:2000] and supervisor.username in item[:2000]


def test_a_second_decision_says_which_facts_it_was_decided_again_after(supervisor, app, seeded):
    spoa = app.extensions["spoa"]
    spoa.store.run(lambda db: contacts.add_facts(db, spoa.triage, seeded["lonely"], {"fallen": True},
                                                 now=T0 + timedelta(minutes=3), source="console", actor="ann"))
    html = supervisor.get(f"/audit/contacts/{seeded['lonely']}").get_data(as_text=True)
    assert "Decided again after: fallen: yes." in html


def test_the_contact_page_shows_the_advice_and_services_given(supervisor, seeded):
    html = supervisor.get(f"/audit/contacts/{seeded['lonely']}").get_data(as_text=True)
    assert "call NHS 111" in html
    assert "Services suggested from the directory" in html
