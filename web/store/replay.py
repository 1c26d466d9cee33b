"""Replay a protocol change before it goes live.

Re-decide the stored contacts received in a date range, each from the facts and at the time of
its latest decision, with a (candidate) ruleset, and report which change route, from what to
what. Nothing is written: the report is for a supervisor to read.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .contacts import ContactFilter, engine_contact
from .models import Contact, Decision

DecideFn = Callable[[dict, datetime], dict]


@dataclass
class RouteChange:
    contact_id: str
    from_route: str
    to_route: str
    from_pathway: str | None
    to_pathway: str | None


@dataclass
class ReplayReport:
    date_from: date | None
    date_to: date | None
    ruleset_version: str | None
    total: int = 0
    changed: list[RouteChange] = field(default_factory=list)
    pathway_changed: list[RouteChange] = field(default_factory=list)
    stored_versions: Counter = field(default_factory=Counter)

    @property
    def transitions(self) -> dict[str, list[str]]:
        """"mdt -> rapid_response": [contact ids], for every route change."""
        groups: dict[str, list[str]] = defaultdict(list)
        for change in self.changed:
            groups[f"{change.from_route} -> {change.to_route}"].append(change.contact_id)
        return dict(sorted(groups.items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "ruleset_version": self.ruleset_version, "total": self.total,
            "route_changed": len(self.changed), "pathway_changed_only": len(self.pathway_changed),
            "transitions": {key: {"count": len(ids), "contact_ids": ids} for key, ids in self.transitions.items()},
            "changes": [vars(change) for change in self.changed + self.pathway_changed],
            "stored_ruleset_versions": dict(self.stored_versions),
        }

    def text(self) -> str:
        lines = [f"Replayed {self.total} contacts received {self.date_from or 'any time'} to {self.date_to or 'now'} "
                 f"with ruleset {self.ruleset_version}.",
                 f"{len(self.changed)} change route; {len(self.pathway_changed)} change pathway only."]
        for key, ids in self.transitions.items():
            lines.append(f"  {key}: {len(ids)}  ({', '.join(ids)})")
        for change in self.pathway_changed:
            lines.append(f"  {change.from_route}: {change.from_pathway} -> {change.to_pathway}  ({change.contact_id})")
        return "\n".join(lines)


def replay(session: Session, decide: DecideFn, *, date_from: date | None = None, date_to: date | None = None,
           ruleset_version: str | None = None) -> ReplayReport:
    """Re-decide every contact received in [date_from, date_to] with `decide(contact, now)`."""
    from .contacts import _filtered

    report = ReplayReport(date_from, date_to, ruleset_version)
    latest = (select(Decision.contact_id, func.max(Decision.id).label("decision_id"))
              .group_by(Decision.contact_id).subquery())
    query = _filtered(select(Contact, Decision).join(latest, latest.c.contact_id == Contact.id)
                      .join(Decision, Decision.id == latest.c.decision_id),
                      ContactFilter(date_from=date_from, date_to=date_to)).order_by(Contact.received_at, Contact.id)
    for contact, stored in session.execute(query.execution_options(yield_per=500)):
        report.total += 1
        report.stored_versions[stored.ruleset_version] += 1
        new = decide(engine_contact(contact, stored.facts), stored.decided_at)
        change = RouteChange(contact.id, stored.route, new["route"], stored.pathway, new.get("pathway"))
        if new["route"] != stored.route:
            report.changed.append(change)
        elif new.get("pathway") != stored.pathway:
            report.pathway_changed.append(change)
        if report.ruleset_version is None:
            report.ruleset_version = new.get("ruleset_version")
    return report


def replay_with(session: Session, triage: Any, *, rules_dir: str | None = None, date_from: date | None = None,
                date_to: date | None = None) -> ReplayReport:
    """Replay with the running ruleset, or with the candidate rules in `rules_dir`."""
    if rules_dir:
        from spoa.decide import decide as decide_with

        candidate = triage.load_candidate(rules_dir)
        return replay(session, lambda contact, now: decide_with(contact, candidate, now), date_from=date_from,
                      date_to=date_to, ruleset_version=candidate.version)
    return replay(session, triage.decide, date_from=date_from, date_to=date_to,
                  ruleset_version=triage.ruleset.version)
