"""Replaying stored contacts against the current or a candidate ruleset."""
from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from conftest import T0, screen_clear
from web.store import contacts
from web.store.replay import replay_with

RULES = __import__("pathlib").Path(__file__).resolve().parent.parent / "rules"


def _create(store, triage, facts, at):
    return store.run(lambda db: contacts.create_contact(
        db, triage, {"channel": "phone", "received_at": at.isoformat(), "facts": facts}, now=at)).contact.id


@pytest.fixture
def candidate_without_loneliness_rule(tmp_path):
    """The rules as they are, but VCS-1 (loneliness -> voluntary sector) retired."""
    folder = tmp_path / "candidate_rules"
    shutil.copytree(RULES, folder)
    path = folder / "vcs.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("id: VCS-1")
    status_at = text.index("status: active", start)
    path.write_text(text[:status_at] + "status: retired" + text[status_at + len("status: active"):], encoding="utf-8")
    return folder


@pytest.mark.hazard("HAZ-015")
def test_replay_with_the_current_rules_changes_nothing(store, triage):
    _create(store, triage, screen_clear(age=80, locality="swale", lonely_or_isolated=True), T0)
    _create(store, triage, screen_clear(age=80, locality="swale", fallen=True, fall_injury="none"), T0)
    with store.session() as db:
        report = replay_with(db, triage)
    assert report.total == 2 and report.changed == [] and report.ruleset_version == triage.ruleset.version


@pytest.mark.hazard("HAZ-015")
def test_retiring_the_loneliness_rule_moves_lonely_contacts_to_self_care(store, triage,
                                                                       candidate_without_loneliness_rule):
    lonely = _create(store, triage, screen_clear(age=80, locality="swale", lonely_or_isolated=True), T0)
    fall = _create(store, triage, screen_clear(age=80, locality="swale", fallen=True, fall_injury="none"), T0)
    with store.session() as db:
        report = replay_with(db, triage, rules_dir=str(candidate_without_loneliness_rule))
    assert report.total == 2
    assert report.transitions == {"voluntary_sector -> self_care": [lonely]}
    assert fall not in json.dumps(report.as_dict()["changes"])
    assert report.ruleset_version != triage.ruleset.version


def test_replay_only_takes_contacts_received_in_the_date_range(store, triage, candidate_without_loneliness_rule):
    inside = _create(store, triage, screen_clear(age=80, locality="swale", lonely_or_isolated=True), T0)
    _create(store, triage, screen_clear(age=80, locality="swale", lonely_or_isolated=True), T0 - timedelta(days=3))
    with store.session() as db:
        report = replay_with(db, triage, rules_dir=str(candidate_without_loneliness_rule),
                             date_from=T0.date(), date_to=T0.date())
    assert report.total == 1 and [change.contact_id for change in report.changed] == [inside]


def test_replay_on_a_day_with_no_contacts_reports_none(store, triage):
    with store.session() as db:
        report = replay_with(db, triage, date_from=date(2020, 1, 1), date_to=date(2020, 1, 1))
    assert report.total == 0 and "0 change route" in report.text()


def test_spoa_replay_prints_the_route_changes_with_contact_ids(store, triage, candidate_without_loneliness_rule,
                                                               monkeypatch):
    from web.cli import cli

    lonely = _create(store, triage, screen_clear(age=80, locality="swale", lonely_or_isolated=True), T0)
    monkeypatch.setenv("DATABASE_URL", store.url)
    if store.schema:
        monkeypatch.setenv("DATABASE_SCHEMA", store.schema)
    monkeypatch.setenv("SECRET_KEY", "test")
    day = T0.date().isoformat()
    result = CliRunner().invoke(cli, ["replay", "--from", day, "--to", day,
                                      "--rules", str(candidate_without_loneliness_rule)])
    assert result.exit_code == 0, result.output
    assert "1 change route" in result.output and "voluntary_sector -> self_care: 1" in result.output
    assert lonely in result.output
    as_json = CliRunner().invoke(cli, ["replay", "--json"])
    assert json.loads(as_json.output)["route_changed"] == 0
