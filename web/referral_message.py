"""The duty worker's accept sends the referral: the FHIR message goes into the outbox in the
same transaction (web.store.outbox), for `spoa outbox run` to deliver.

This is the adapter between the store (the contact, its facts and decision, the worklist
item, the person's details) and the pure builder (spoa.fhir): it gathers a `Referral`, picks
the receiving team (spoa.fhir.teams) and enqueues the Bundle, or the email summary for a team
with no endpoint.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoa.delivery import DeliveryPolicy
from spoa.fhir import Person, Referral, email_summary, referral_bundle
from spoa.fhir.teams import NoTeam, Team, load_teams
from web.labels import PATHWAY_LABELS, ROUTE_LABELS
from web.store import contacts, outbox, worklist
from web.store.models import Decision, OutboxMessage, PersonDetails, WorklistItem


def person_details(session: Session, contact_id: str) -> Person | None:
    """The person's name, address and how to reach them (web.store.people; None if none are
    kept or they were erased)."""
    row = session.get(PersonDetails, contact_id)
    if row is None or row.erased_at is not None:
        return None
    details = row.details
    return Person(name=details.get("name"), birth_date=details.get("date_of_birth"), address=details.get("address"),
                  postcode=details.get("postcode"),
                  phones=tuple(details[key] for key in ("phone", "phone_other") if details.get(key)),
                  nhs_number=details.get("nhs_number"), gp_practice=details.get("gp_practice"),
                  caller_name=details.get("caller_name"), caller_phone=details.get("caller_phone"),
                  caller_relationship=details.get("caller_relationship"))


def _questions(triage: Any) -> dict[str, str]:
    """Fact id -> the question as the call handler asks it; a checklist's fact adds its own
    item ("Any of these now? Pain in the chest")."""
    flows = getattr(triage, "flows", None)
    if flows is None:
        return {}
    questions = {}
    for fact, spec in flows.by_fact.items():
        item = next((option.label for option in spec.options if option.value == fact), None)
        questions[fact] = " ".join(f"{spec.call_handler} {item or ''}".split())
    return questions


def build_referral(session: Session, spoa: Any, item: WorklistItem, *, actor: str, now: datetime,
                   message_id: str | None = None) -> tuple[Referral, Team]:
    """The referral message's content for an accepted worklist item, and its receiving team."""
    contact = contacts.get_contact(session, item.contact_id)
    decision_row = session.get(Decision, item.decision_id) if item.decision_id else None
    decision_row = decision_row or contacts.latest_decision(session, contact.id)
    decision = decision_row.decision if decision_row is not None else {}
    facts = contacts.current_facts(session, contact.id)
    config = spoa.config
    teams = load_teams(config.data)
    team = teams.for_referral(item.route, item.pathway, contact.locality, decision.get("services") or [],
                              getattr(spoa.triage, "directory", None))
    # An update is a later message to the same team about the same contact; another team gets a new referral.
    earlier = session.scalar(select(OutboxMessage.id).where(OutboxMessage.contact_id == contact.id,
                                                            OutboxMessage.team_id == team.organisation.id).limit(1))
    referral = Referral(
        reference=contact.id, message_id=message_id or str(uuid.uuid4()), reason="update" if earlier else "new",
        received_at=contact.received_at, accepted_at=now, accepted_by=actor, route=item.route,
        pathway=item.pathway, decision=decision, facts=facts, sender=teams.sender, team=team.organisation,
        due_at=item.due_at, channel=contact.channel, locality_name=config.locality_name(contact.locality),
        person=person_details(session, contact.id), questions=_questions(spoa.triage),
        labels={**ROUTE_LABELS, **PATHWAY_LABELS}, system_base=teams.system_base)
    return referral, team


def send_referral(session: Session, spoa: Any, item: WorklistItem, *, actor: str, now: datetime) -> OutboxMessage | None:
    """Put the referral message for an accepted item in the outbox (call-backs send nothing)."""
    if item.kind != "referral":
        return None
    referral, team = build_referral(session, spoa, item, actor=actor, now=now)
    organisation = team.organisation
    return outbox.enqueue(
        session, contact_id=item.contact_id, worklist_item_id=item.id, message_id=referral.message_id,
        reason=referral.reason, team_id=organisation.id, team_name=organisation.name,
        endpoint=organisation.endpoint, auth_env=team.auth_env, bundle=referral_bundle(referral),
        summary=email_summary(referral), policy=DeliveryPolicy.from_config(spoa.config.data), now=now)


def accept_and_send(session: Session, spoa: Any, item_id: int, *, actor: str, actor_role: str | None, now: datetime,
                    note: str | None = None) -> WorklistItem:
    """The duty worker accepts the item and its referral message is stored, in one transaction."""
    item = worklist.accept(session, item_id, actor=actor, actor_role=actor_role, now=now, note=note)
    try:
        send_referral(session, spoa, item, actor=actor, now=now)
    except NoTeam as error:  # the whole accept rolls back: an accepted referral always has its message
        raise worklist.WorklistError(f"{error}: the referral was not accepted. Ask the system administrator to "
                                     "add a receiving team to config.yml (referrals.teams).", status=409) from None
    return item
