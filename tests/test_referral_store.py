"""Referrals a team can act on, in the store (SQLite and PostgreSQL): the person's details,
consent, the worklist's whole life (accept, complete, return, back again), its pages and
counts, overrides' deadlines, and calls that are never lost."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from conftest import T0, screen_clear
from spoa.person import PersonError
from web.store import audit, calls, contacts, people, worklist
from web.store.models import AuditEntry, ConsoleCall, ContactWords, PersonDetails, WorklistItem

KENT = {"age": 80, "locality": "swale"}
FALL = screen_clear(**KENT, fallen=True, fall_injury="none")
LONELY = screen_clear(**KENT, lonely_or_isolated=True)
MARY = {"name": "Mary Jones", "date_of_birth": "02/03/1944", "phone": "07700 900123",
        "address": "1 High Street, Sittingbourne", "postcode": "me10 4aa", "nhs_number": "943 476 5919"}


def _create(store, triage, facts, *, at=T0, channel="web_chat", refer=True):
    return store.run(lambda db: contacts.create_contact(
        db, triage, {"channel": channel, "received_at": at.isoformat(), "facts": facts}, now=at, source="chat",
        refer=refer))


def _console_call(store, triage, facts, *, handler="handler-1", at=T0):
    outcome = _create(store, triage, facts, at=at, channel="phone", refer=False)
    store.run(lambda db: db.add(ConsoleCall(contact_id=outcome.contact.id, handler=handler, started_at=at,
                                            updated_at=at)))
    return outcome.contact.id


def _save(store, contact_id, data, actor="service"):
    return store.run(lambda db: people.save_details(db, contact_id, data, actor=actor, actor_role=None, now=T0,
                                                    today=T0.date()))


# -- the person's details ----------------------------------------------------------------------

def test_details_given_one_at_a_time_are_merged_and_checked(store, triage):
    contact_id = _create(store, triage, FALL).contact.id
    first = _save(store, contact_id, {"name": "Mary Jones"})
    assert first["missing_for_referral"] == ["date_of_birth", "phone", "address", "postcode"]
    saved = _save(store, contact_id, {"phone": "+44 7700 900123", "date_of_birth": "2 March 1944"})
    assert saved["details"] == {"name": "Mary Jones", "phone": "07700900123", "date_of_birth": "1944-03-02"}
    assert saved["missing_for_referral"] == []


def test_a_wrong_nhs_number_saves_nothing_and_says_why(store, triage):
    contact_id = _create(store, triage, FALL).contact.id
    with pytest.raises(PersonError, match="check digit"):
        _save(store, contact_id, {"name": "Mary Jones", "nhs_number": "943 476 5918"})
    with store.session() as db:
        assert db.get(PersonDetails, contact_id) is None


@pytest.mark.hazard("HAZ-013")
def test_the_audit_log_names_the_fields_changed_but_never_their_values(store, triage):
    contact_id = _create(store, triage, FALL).contact.id
    _save(store, contact_id, MARY)
    with store.session() as db:
        rows = [e for e in audit.recent(db, target=contact_id) if e.action == "person.update"]
    assert rows and "Mary" not in str(rows[0].details) and rows[0].details["fields"] == sorted(MARY)


@pytest.mark.hazard("HAZ-013")
def test_erasing_a_person_keeps_the_triage_and_the_audit_chain_whole(store, triage):
    contact_id = _create(store, triage, FALL).contact.id
    _save(store, contact_id, MARY)
    store.run(lambda db: people.record_words(db, contact_id, "My mum fell and can't get up", source="chat", now=T0))
    pseudonym = store.run(lambda db: people.erase(db, contact_id, actor="cli", actor_role=None, now=T0))
    assert pseudonym.startswith("PERSON-")
    with store.session() as db:
        kept = people.details_dict(db.get(PersonDetails, contact_id))
        assert kept["details"] == {} and kept["erased"] and kept["pseudonym"] == pseudonym
        assert db.scalars(select(ContactWords)).all() == []
        assert contacts.current_facts(db, contact_id)["fallen"] is True
        assert audit.verify(db).ok
        assert "Mary" not in " ".join(str(e.details) for e in db.scalars(select(AuditEntry)))
    with pytest.raises(people.PersonErased):
        _save(store, contact_id, {"name": "Mary Jones"})


def test_retention_erases_closed_contacts_past_the_limit_but_not_the_day_before(store, triage):
    old = _create(store, triage, FALL, at=T0 - timedelta(days=40)).contact.id
    recent = _create(store, triage, FALL, at=T0 - timedelta(days=20)).contact.id
    for contact_id, closed_at in ((old, T0 - timedelta(days=31)), (recent, T0 - timedelta(days=29))):
        _save(store, contact_id, MARY)
        store.run(lambda db, c=contact_id, at=closed_at: contacts.close_contact(db, c, now=at))
    erased = store.run(lambda db: people.erase_expired(db, retention=timedelta(days=30), actor="cli", now=T0))
    assert erased == [old]
    with store.session() as db:
        assert db.get(PersonDetails, recent).details["name"] == "Mary Jones"


# -- consent ---------------------------------------------------------------------------------

@pytest.mark.hazard("HAZ-009")
def test_lonely_person_refusing_consent_gets_signposting_and_no_worklist_item(store, triage):
    outcome = _create(store, triage, {**LONELY, "consent_to_share": False})
    assert outcome.decision["route"] == "voluntary_sector" and outcome.worklist_item is None
    with store.session() as db:
        withheld = [e for e in audit.recent(db, target=outcome.contact.id) if e.action == "referral.withheld"]
    assert withheld and withheld[0].details["reason"] == "no consent to share"


def test_lonely_person_agreeing_to_share_is_referred(store, triage):
    outcome = _create(store, triage, {**LONELY, "consent_to_share": True})
    assert outcome.worklist_item is not None and outcome.worklist_item.route == "voluntary_sector"


@pytest.mark.hazard("HAZ-009")
def test_a_fall_is_referred_for_urgent_response_even_when_sharing_was_refused(store, triage):
    outcome = _create(store, triage, {**FALL, "consent_to_share": False})
    assert outcome.worklist_item is not None and outcome.worklist_item.route == "rapid_response"


# -- the worklist's life -------------------------------------------------------------------------

def test_accepted_referral_becomes_mine_and_only_i_or_a_supervisor_complete_it(store, triage):
    item_id = _create(store, triage, FALL).worklist_item.id
    store.run(lambda db: worklist.accept(db, item_id, actor="duty-a", actor_role="duty_worker", now=T0))
    with store.session() as db:
        mine, total = worklist.find_items(db, worklist.WorklistFilter(view="mine", actor="duty-a"), now=T0)
        assert [i.id for i in mine] == [item_id] and total == 1
        assert worklist.find_items(db, worklist.WorklistFilter(view="mine", actor="duty-b"), now=T0)[1] == 0
    with pytest.raises(worklist.WorklistError, match="duty-a's"):
        store.run(lambda db: worklist.complete(db, item_id, actor="duty-b", actor_role="duty_worker", now=T0,
                                               outcome="Visited"))
    with pytest.raises(worklist.WorklistError, match="outcome"):
        store.run(lambda db: worklist.complete(db, item_id, actor="duty-a", actor_role="duty_worker", now=T0,
                                               outcome=" "))
    store.run(lambda db: worklist.complete(db, item_id, actor="duty-a", actor_role="duty_worker", now=T0,
                                           outcome="Visited; no injury; care package reviewed"))
    with store.session() as db:
        assert worklist.find_items(db, worklist.WorklistFilter(), now=T0)[1] == 0
        assert db.get(WorklistItem, item_id).outcome.startswith("Visited")


def test_returned_referral_waits_for_supervisors_and_comes_back_when_decided_again(store, triage):
    outcome = _create(store, triage, LONELY)
    store.run(lambda db: worklist.return_item(db, outcome.worklist_item.id, actor="duty", actor_role="duty_worker",
                                              now=T0, reason="Locality unclear"))
    with store.session() as db:
        returned, _ = worklist.find_items(db, worklist.WorklistFilter(view="returned"), now=T0)
        assert [i.id for i in returned] == [outcome.worklist_item.id]
    again = store.run(lambda db: contacts.redecide(db, triage, outcome.contact.id, actor="sup",
                                                   actor_role="supervisor", now=T0 + timedelta(hours=1)))
    assert again.worklist_item is not None and again.worklist_item.id != outcome.worklist_item.id
    assert again.worklist_item.status == "open"


def test_returned_referral_stays_returned_until_something_decides_it_again(store, triage):
    outcome = _create(store, triage, LONELY)
    store.run(lambda db: worklist.return_item(db, outcome.worklist_item.id, actor="duty", actor_role="duty_worker",
                                              now=T0, reason="Locality unclear"))
    with store.session() as db:
        contact = contacts.get_contact(db, outcome.contact.id)
        decision = contacts.latest_decision(db, contact.id)
        same = worklist.sync(db, contact, decision.decision, decision_id=decision.id, now=T0)
        assert same.status == "returned"


@pytest.mark.hazard("HAZ-011")
def test_override_to_mdt_gives_the_referral_two_working_days(store, triage):
    # Thursday 24 December 2026: Christmas, the weekend and Boxing Day (observed) don't count.
    christmas_eve = datetime(2026, 12, 24, 10, 0, tzinfo=timezone.utc)
    outcome = _create(store, triage, LONELY, at=christmas_eve)
    store.run(lambda db: contacts.review(db, outcome.contact.id, action="override", actor="sup",
                                         actor_role="supervisor", now=christmas_eve, route="mdt",
                                         reason="Needs a Care Act assessment"))
    with store.session() as db:
        (item,) = worklist.list_items(db)
    assert (item.route, item.response_target) == ("mdt", "P2D")
    assert item.due_at == datetime(2026, 12, 30, 10, 0, tzinfo=timezone.utc)


def test_worklist_pages_report_the_true_count_and_filter_by_route_locality_and_overdue(store, triage):
    for n in range(27):
        _create(store, triage, LONELY, at=T0 - timedelta(minutes=n))
    _create(store, triage, screen_clear(age=80, locality="thanet", fallen=True, fall_injury="none"),
            at=T0 - timedelta(hours=3))
    with store.session() as db:
        page2, total = worklist.find_items(db, worklist.WorklistFilter(), now=T0, page=2, per_page=25)
        assert total == 28 and len(page2) == 3
        first, _ = worklist.find_items(db, worklist.WorklistFilter(), now=T0, per_page=1)
        assert first[0].route == "rapid_response"  # the most urgent, though not the oldest
        assert worklist.find_items(db, worklist.WorklistFilter(route="rapid_response"), now=T0)[1] == 1
        assert worklist.find_items(db, worklist.WorklistFilter(locality="thanet"), now=T0)[1] == 1
        overdue, count = worklist.find_items(db, worklist.WorklistFilter(overdue=True), now=T0)
        assert count == 1 and overdue[0].route == "rapid_response"   # 3 hours against a 2-hour target
        assert worklist.counts(db, now=T0, actor=None) == {"waiting": 28, "open": 28, "mine": 0, "returned": 0,
                                                           "overdue": 1}


# -- no call is lost -------------------------------------------------------------------------

@pytest.mark.hazard("HAZ-005")
def test_a_referral_call_left_open_past_15_minutes_needs_a_supervisor_and_one_at_14_does_not(store, triage):
    contact_id = _console_call(store, triage, FALL)
    with store.session() as db:
        (at_14,) = calls.open_calls(db, now=T0 + timedelta(minutes=14))
        (at_16,) = calls.open_calls(db, now=T0 + timedelta(minutes=16))
    assert at_14["contact_id"] == contact_id and not at_14["needs_attention"]
    assert at_16["needs_attention"] and at_16["route"] == "rapid_response" and at_16["handler"] == "handler-1"


def test_a_self_care_call_left_open_is_listed_but_needs_no_one(store, triage):
    _console_call(store, triage, screen_clear(**KENT, information_topic="pendant alarm"))
    with store.session() as db:
        (call,) = calls.open_calls(db, now=T0 + timedelta(hours=2))
    assert not call["needs_attention"]


@pytest.mark.hazard("HAZ-005")
def test_supervisor_takes_over_an_open_call(store, triage):
    contact_id = _console_call(store, triage, FALL)
    store.run(lambda db: calls.take_over(db, contact_id, actor="sup", actor_role="supervisor", now=T0))
    with store.session() as db:
        assert db.get(ConsoleCall, contact_id).handler == "sup"


@pytest.mark.hazard("HAZ-005")
def test_call_dropped_before_the_emergency_screen_goes_first_in_the_call_back_queue_with_the_number(store, triage):
    contact_id = _console_call(store, triage, {**KENT, "fallen": True})
    _save(store, contact_id, {"caller_phone": "07700 900456"}, actor="handler-1")
    _create(store, triage, screen_clear(**KENT, child_at_risk=True))   # urgent safeguarding: rank 0
    item = store.run(lambda db: calls.close_dropped(db, contact_id, actor="handler-1", actor_role="call_handler",
                                                    now=T0 + timedelta(minutes=3)))
    assert item.kind == "callback" and item.rank == 0 and item.response_target == "PT0M"
    assert "Call ended before triage finished" in item.note and "call back now" in item.note
    with store.session() as db:
        assert contacts.get_contact(db, contact_id).status == "closed"
        assert db.get(ConsoleCall, contact_id).close_reason == "ended_early"
        assert people.caller_phone(db, contact_id) == "07700900456"


def test_call_dropped_after_the_screen_keeps_its_decided_urgency(store, triage):
    contact_id = _console_call(store, triage, LONELY)
    item = store.run(lambda db: calls.close_dropped(db, contact_id, actor="handler-1", actor_role="call_handler",
                                                    now=T0))
    assert item.rank == 3 and item.response_target == "P5D" and "No phone number" in item.note


def test_another_handler_cannot_close_my_call_as_dropped(store, triage):
    contact_id = _console_call(store, triage, FALL)
    with pytest.raises(calls.CallError, match="handler-1's"):
        store.run(lambda db: calls.close_dropped(db, contact_id, actor="handler-2", actor_role="call_handler",
                                                 now=T0))


# -- spoa erase --------------------------------------------------------------------------------

def test_spoa_erase_removes_one_persons_details_and_needs_a_contact_or_expired(store, triage, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from web.cli import cli

    contact_id = _create(store, triage, FALL).contact.id
    _save(store, contact_id, MARY)
    monkeypatch.setenv("DATABASE_URL", store.url)
    if store.schema:
        monkeypatch.setenv("DATABASE_SCHEMA", store.schema)
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("SPOA_AUDIT_HEAD_FILE", str(tmp_path / "audit-head.log"))
    runner = CliRunner()
    assert runner.invoke(cli, ["erase"]).exit_code == 2
    result = runner.invoke(cli, ["erase", contact_id])
    assert result.exit_code == 0 and "PERSON-" in result.output and "Mary" not in result.output
    with store.session() as db:
        assert db.get(PersonDetails, contact_id).details == {}
    assert runner.invoke(cli, ["erase", "SPA-0000-0000"]).exit_code == 1
    expired = runner.invoke(cli, ["erase", "--expired"])
    assert expired.exit_code == 0 and "0 contact(s)" in expired.output
