"""The supervisor's oversight: "reviewed, agree" beside override (both clear "review required"),
the banner that says what changed, the dashboard (override rate by rule and the lead's lists),
the CSV's rules and overrides, the audit log paged and filtered, and no percentage on tiny numbers.

Real app, real engine, real SQLite store; staff log in through the form and POST with the CSRF
token read from the page (fixtures in conftest.py; contacts from the shared protocol examples).
"""
from __future__ import annotations

import pytest

import csv
import io
import re

from sqlalchemy import select

from conftest import T0
from test_audit_pages import add_contact, example, seeded, supervisor, token_from  # noqa: F401 (fixtures)
from web.oversight import override_rates, share
from web.store import contacts
from web.store.models import Review

FALL_DECISION = {"fired": [{"rule": "UCR-1", "title": "A fall", "role": "decided the route"},
                           {"rule": "SAFE-9", "title": "Other", "role": "safeguarding"}]}


# -- pure: shares and rates ------------------------------------------------------------------------

def test_four_contacts_show_counts_only_and_five_show_a_percentage():
    assert share(1, 4) == "1 of 4"
    assert share(1, 5) == "1 of 5 (20%)"
    assert share(0, 0) == "0 of 0"


def test_a_rule_overridden_once_in_five_reviews_reads_one_in_five_and_where_it_went():
    reviews = [(FALL_DECISION, "confirm", "rapid_response")] * 4 + [(FALL_DECISION, "override", "mdt")]
    [ucr] = override_rates(reviews)
    assert (ucr.rule, ucr.reviewed, ucr.overridden, dict(ucr.to)) == ("UCR-1", 5, 1, {"mdt": 1})
    assert ucr.rate == "1 of 5 (20%)"


def test_only_the_rules_that_decided_the_route_and_only_peoples_reviews_count():
    reviews = [(FALL_DECISION, "override", "mdt"), (FALL_DECISION, "accept", None), (None, "confirm", None)]
    rates = override_rates(reviews)
    assert [r.rule for r in rates] == ["UCR-1"] and rates[0].reviewed == 1   # SAFE-9 only set the level


# -- reviewed, agree / override on the contact page --------------------------------------------------

def _post(client, reference: str, action: str, **fields):
    token = token_from(client.get(f"/audit/contacts/{reference}").get_data(as_text=True))
    return client.post(f"/audit/contacts/{reference}/{action}", data={"csrf_token": token, **fields})


def _contact(app, reference: str):
    with app.extensions["spoa"].store.session() as db:
        return contacts.get_contact(db, reference)


def test_reviewed_agree_clears_review_required_and_keeps_the_route(supervisor, app, seeded):  # noqa: F811
    abuse = seeded["abuse"]
    assert _contact(app, abuse).review_required is True
    response = _post(supervisor, abuse, "agree", reason="Safeguarding lead agrees")
    assert response.status_code == 303
    page = supervisor.get(response.headers["Location"]).get_data(as_text=True)
    assert "you reviewed this decision and agree with Multi-disciplinary team" in page
    assert "The decision is unchanged" not in page
    contact = _contact(app, abuse)
    assert contact.review_required is False and contact.overridden is False and contact.route == "mdt"
    with app.extensions["spoa"].store.session() as db:
        review = db.scalars(select(Review).where(Review.contact_id == abuse)).one()
    assert (review.action, review.reason) == ("confirm", "Safeguarding lead agrees")


def test_an_override_clears_review_required_and_the_banner_names_the_new_route(supervisor, app, seeded):  # noqa: F811
    abuse = seeded["abuse"]
    response = _post(supervisor, abuse, "override", route="rapid_response", reason="Visit today")
    page = supervisor.get(response.headers["Location"]).get_data(as_text=True)
    banner = re.search(r'id="banner-text">([^<]+)<', page).group(1)
    assert "the route is now Rapid response (the rules said Multi-disciplinary team)" in banner
    assert "unchanged" not in banner
    assert _contact(app, abuse).review_required is False


def test_the_contact_page_puts_the_review_before_the_decisions_and_folds_earlier_ones(supervisor, app, seeded):  # noqa: F811
    spoa = app.extensions["spoa"]
    spoa.store.run(lambda db: contacts.add_facts(db, spoa.triage, seeded["fall"], {"on_anticoagulants": True},
                                                 now=T0, source="console", actor="handler-ann"))
    html = supervisor.get(f"/audit/contacts/{seeded['fall']}").get_data(as_text=True)
    assert html.index('id="review"') < html.index('id="decisions"') < html.index('id="earlier-decisions"')
    assert html.count("Reviewed, agree</button>") == 1 and html.count("Record override</button>") == 1
    assert html.count('class="nhsuk-details app-decision--earlier"') == 1


# -- the CSV ------------------------------------------------------------------------------------------

def test_the_csv_has_the_rules_route_the_current_route_the_override_and_the_worklist(supervisor, app, seeded):  # noqa: F811
    _post(supervisor, seeded["lonely"], "override", route="mdt", reason="Known to the MDT")
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(
        supervisor.get("/audit/contacts.csv").get_data(as_text=True)))}
    lonely, fall = rows[seeded["lonely"]], rows[seeded["fall"]]
    assert (lonely["rules_route"], lonely["route"], lonely["overridden"]) == ("voluntary_sector", "mdt", "yes")
    assert lonely["override_route"] == "mdt" and lonely["override_reason"] == "Known to the MDT"
    assert lonely["last_review"] == "override" and lonely["override_by"] == supervisor.username
    assert "VCS-1" in lonely["deciding_rules"].split(";") and "VCS-1" in lonely["rules_fired"].split(";")
    assert fall["override_route"] == "" and fall["rules_route"] == fall["route"] == "rapid_response"
    assert fall["worklist_status"] == "open" and fall["worklist_due_at"] and fall["worklist_created_at"]


# -- the dashboard ------------------------------------------------------------------------------------

def test_the_dashboard_counts_overrides_per_rule_from_the_stored_reviews(supervisor, app, seeded):  # noqa: F811
    _post(supervisor, seeded["lonely"], "override", route="mdt", reason="Known to the MDT")
    _post(supervisor, seeded["abuse"], "agree")
    html = supervisor.get("/audit/dashboard?from=2026-11-25&to=2026-11-26").get_data(as_text=True)
    rows = {rule: (int(n), int(o)) for rule, n, o in
            re.findall(r'data-rule="([^"]+)" data-reviewed="(\d+)" data-overridden="(\d+)"', html)}
    assert rows["VCS-1"] == (1, 1)
    assert all(overridden == 0 for rule, (_, overridden) in rows.items() if rule != "VCS-1")
    assert sum(n for n, _ in rows.values()) >= 2
    assert "4</strong> contacts received from 25 November 2026 to 26 November 2026" in html
    assert seeded["abuse"] in html[html.index('id="safeguarding"'):]   # the safeguarding referral


def test_the_dashboard_without_dates_covers_the_last_thirty_days_and_a_bad_date_is_named(supervisor):  # noqa: F811
    html = supervisor.get("/audit/dashboard").get_data(as_text=True)
    assert re.search(r"received from \d+ \w+ \d{4} to \d+ \w+ \d{4}", html)
    response = supervisor.get("/audit/dashboard?from=yesterday")
    assert response.status_code == 400 and "Date from must be a real date" in response.get_data(as_text=True)


@pytest.mark.hazard("HAZ-004")
def test_an_out_of_scope_contact_is_on_the_dashboard_for_a_person_to_check(supervisor, app):  # noqa: F811
    reference = add_contact(app, example("lonely", received_at="2026-11-26T10:00:00Z",
                                         facts={"age": 15}))
    with app.extensions["spoa"].store.session() as db:
        route = contacts.get_contact(db, reference).route
    html = supervisor.get("/audit/dashboard?from=2026-11-26&to=2026-11-26").get_data(as_text=True)
    signposted = html[html.index('id="signposted"'):html.index('id="returned"')]
    assert route == "out_of_scope" and reference in signposted


def test_a_call_handler_cannot_open_the_dashboard(client_as):
    assert client_as("call_handler").get("/audit/dashboard").status_code == 403


# -- the audit log ------------------------------------------------------------------------------------

def test_the_audit_log_filters_by_actor_and_action_and_pages(supervisor, app, seeded):  # noqa: F811
    for _ in range(3):
        supervisor.get(f"/audit/contacts/{seeded['fall']}")
    html = supervisor.get(f"/audit/log?actor={supervisor.username}&action=contact.view").get_data(as_text=True)
    table = html[html.index('id="audit-entries"'):]
    assert table.count("Viewed a contact") == 3 and "Logged in" not in table
    assert "<strong>3</strong> entries match the filters" in html
    nobody = supervisor.get("/audit/log?actor=nobody").get_data(as_text=True)
    assert "No entries match these filters." in nobody
    assert supervisor.get("/audit/log?from=2026-13-01").status_code == 400


def test_the_audit_log_pages_fifty_at_a_time(supervisor, app, seeded):  # noqa: F811
    for _ in range(55):
        supervisor.get(f"/audit/contacts/{seeded['lonely']}")
    first = supervisor.get("/audit/log?action=contact.view").get_data(as_text=True)
    second = supervisor.get("/audit/log?action=contact.view&page=2").get_data(as_text=True)
    assert "page 1 of 2" in first and 'rel="next"' in first
    assert second[second.index('id="audit-entries"'):].count("Viewed a contact") == 5


def test_a_child_signposted_from_a_locality_chosen_by_id_shows_the_locality_by_name(supervisor, app):  # noqa: F811
    # A contact whose place came as a locality id (the console's choice, the API, the demo) has no
    # words of its own: the signposted list names the locality, never its internal id.
    reference = add_contact(app, example("lonely", received_at="2026-11-26T10:00:00Z", facts={"age": 15}))
    html = supervisor.get("/audit/signposted").get_data(as_text=True)
    row = html[html.index(reference):].split("</tr>")[0]
    assert "Dartford, Gravesham and Swanley" in row and "dartford_gravesham_swanley" not in row
