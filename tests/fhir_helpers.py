"""Helpers for the referral message tests: a stored contact from a protocol example, accepted
by a duty worker (its message goes into the outbox), and the triage pointed at a receiver."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from spoa.config import config_from_mapping
from web.referral_message import accept_and_send
from web.store import contacts, outbox, people

EXAMPLES = Path(__file__).parent / "protocol_examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def accepted_referral(app, name: str, *, received_at: str = "2026-11-26T09:30:00Z", actor: str = "duty.one",
                      person: dict | None = None):
    """Store the example's contact (and the person's details), accept its referral item;
    returns (contact id, outbox row)."""
    spoa = app.extensions["spoa"]
    body = {**example(name)["contact"], "received_at": received_at}
    now = spoa.now()
    stored = spoa.store.run(lambda db: contacts.create_contact(db, spoa.triage, body, now=now))
    assert stored.worklist_item is not None, f"{name}: no referral item ({stored.decision['route']})"
    if person:
        spoa.store.run(lambda db: people.save_details(db, stored.contact.id, person, actor="handler",
                                                      actor_role="call_handler", now=now, today=now.date()))
    spoa.store.run(lambda db: accept_and_send(db, spoa, stored.worklist_item.id, actor=actor,
                                              actor_role="duty_worker", now=now))
    with spoa.store.session() as db:
        return stored.contact.id, outbox.for_contact(db, stored.contact.id)[0]


def triage_sending_to(triage, base_url: str):
    """The same engine with every configured team's endpoint moved to `base_url` (a test receiver)."""
    data = json.loads(json.dumps(dict(triage.config.data)))
    for team in data["referrals"]["teams"]:
        if team.get("endpoint"):
            team["endpoint"] = f"{base_url}/{team['id']}/$process-message"
    return replace(triage, config=config_from_mapping(data, triage.config.path))
