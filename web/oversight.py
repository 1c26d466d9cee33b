"""What the clinical and safeguarding lead watches: the supervisor's dashboard (/audit/dashboard)
and the extra columns of the CSV export.

`override_rates` and `share` are pure (no I/O): a person's reviews of decisions in, agreement
per rule out. `contact_extras` and `dashboard` read the store; the page in
web/blueprints/audit.py is a thin adapter. Nothing here decides or changes anything.

Override rate by rule: each review a person recorded ("confirm" = reviewed, agree; "override")
counts once for every rule that decided the route of the decision reviewed. A rule with many
overrides, and where they went, is a rule people disagree with.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.labels import ROUTE_LABELS, SAFEGUARDING_LABELS
from web.store import contacts, worklist
from web.store.models import Contact, Decision, PersonDetails, Review, WorklistItem

# Below this many, a percentage says more than the numbers can: show the count alone.
MIN_FOR_PERCENT = 5
PERSON_REVIEWS = ("confirm", "override")
DECIDED = "decided the route"


DEFAULT_PERIOD_DAYS = 30


def period(date_from: date | None, date_to: date | None, *, today: date) -> tuple[date, date]:
    """The days the dashboard covers: as chosen, else the last DEFAULT_PERIOD_DAYS to today."""
    end = date_to or today
    return (date_from or min(end, today) - timedelta(days=DEFAULT_PERIOD_DAYS - 1), end)


def share(part: int, whole: int, minimum: int = MIN_FOR_PERCENT) -> str:
    """"3 of 12 (25%)"; with fewer than `minimum` in all, "2 of 3" (a percentage of 3 misleads)."""
    if whole < minimum:
        return f"{part} of {whole}"
    return f"{part} of {whole} ({round(100 * part / whole)}%)"


def deciding_rules(decision: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(rule id, title) of the rules that decided the route, from a stored decision's trace."""
    return [(str(item.get("rule")), str(item.get("title") or "")) for item in (decision or {}).get("fired") or []
            if item.get("role") == DECIDED]


@dataclass
class RuleAgreement:
    rule: str
    title: str
    reviewed: int = 0
    overridden: int = 0
    to: Counter = field(default_factory=Counter)   # override route -> count

    @property
    def rate(self) -> str:
        return share(self.overridden, self.reviewed)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "title": self.title, "reviewed": self.reviewed, "overridden": self.overridden,
                "agreed": self.reviewed - self.overridden, "rate": self.rate, "to": dict(self.to)}


def override_rates(reviews: Iterable[tuple[Mapping[str, Any] | None, str, str | None]]) -> list[RuleAgreement]:
    """Per rule that decided a reviewed decision: how many reviews, how many overrides, to where.
    `reviews` holds (the decision reviewed, the action, the route chosen). Most overridden first."""
    rules: dict[str, RuleAgreement] = {}
    for decision, action, route in reviews:
        if action not in PERSON_REVIEWS:
            continue
        for rule, title in deciding_rules(decision):
            row = rules.setdefault(rule, RuleAgreement(rule, title))
            row.reviewed += 1
            if action == "override":
                row.overridden += 1
                row.to[route or "none"] += 1
    return sorted(rules.values(), key=lambda r: (-r.overridden, -r.reviewed, r.rule))


# -- reading the store ---------------------------------------------------------------------------

def _latest(rows: Iterable[Any]) -> dict[str, Any]:
    """The last row per contact (rows come oldest first)."""
    latest: dict[str, Any] = {}
    for row in rows:
        latest[row.contact_id] = row
    return latest


def contact_extras(session: Session, ids: list[str], *, now: datetime) -> dict[str, dict[str, Any]]:
    """Per contact: the rules' route (the latest decision), the rules fired and those that decided,
    the latest override and its reason, the latest review, and the referral's worklist status and
    times. Three queries for the lot, not three per contact."""
    if not ids:
        return {}
    decisions = _latest(session.scalars(select(Decision).where(Decision.contact_id.in_(ids)).order_by(Decision.id)))
    reviews = list(session.scalars(select(Review).where(Review.contact_id.in_(ids),
                                                        Review.action.in_(PERSON_REVIEWS)).order_by(Review.id)))
    overrides = _latest(r for r in reviews if r.action == "override")
    last_review = _latest(reviews)
    items = _latest(session.scalars(select(WorklistItem).where(WorklistItem.contact_id.in_(ids),
                                                               WorklistItem.kind == "referral")
                                    .order_by(WorklistItem.id)))
    extras = {}
    for contact_id in ids:
        decision, override, review, item = (decisions.get(contact_id), overrides.get(contact_id),
                                            last_review.get(contact_id), items.get(contact_id))
        body = decision.decision if decision is not None else {}
        extra = {
            "rules_route": decision.route if decision is not None else None,
            "rules_fired": ";".join(str(f.get("rule")) for f in body.get("fired") or []),
            "deciding_rules": ";".join(rule for rule, _ in deciding_rules(body)),
            "override_route": override.route if override else None,
            "override_reason": override.reason if override else None,
            "override_by": override.actor if override else None,
            "override_at": contacts.iso(override.at) if override else None,
            "last_review": review.action if review else None,
            "last_review_by": review.actor if review else None,
            "last_review_at": contacts.iso(review.at) if review else None,
            "worklist_status": None, "worklist_created_at": None, "worklist_due_at": None,
            "worklist_resolved_at": None, "worklist_overdue": None,
        }
        if item is not None:
            view = worklist.item_dict(item, now)
            extra.update(worklist_status=item.status, worklist_created_at=view["created_at"],
                         worklist_due_at=view["due_at"], worklist_resolved_at=view["resolved_at"],
                         worklist_overdue=bool(item.status == "open" and view["overdue"]))
        extras[contact_id] = extra
    return extras


def _reviews_with_decisions(session: Session, ids: list[str]) -> list[tuple[dict | None, str, str | None, Review]]:
    if not ids:
        return []
    rows = session.execute(select(Review, Decision).outerjoin(Decision, Review.decision_id == Decision.id)
                           .where(Review.contact_id.in_(ids), Review.action.in_(PERSON_REVIEWS))
                           .order_by(Review.id)).all()
    return [(decision.decision if decision is not None else None, review.action, review.route, review)
            for review, decision in rows]


def _repeat_people(session: Session, ids: list[str]) -> list[list[str]]:
    """Contacts about the same person (the same NHS number) in the period, two or more each.
    Only references are returned: the page shows no personal details."""
    if not ids:
        return []
    by_number: dict[str, list[str]] = defaultdict(list)
    for row in session.scalars(select(PersonDetails).where(PersonDetails.contact_id.in_(ids),
                                                           PersonDetails.erased_at.is_(None))):
        number = str((row.details or {}).get("nhs_number") or "").replace(" ", "")
        if number:
            by_number[number].append(row.contact_id)
    return sorted((sorted(refs) for refs in by_number.values() if len(refs) > 1), key=lambda refs: (-len(refs), refs))


def dashboard(session: Session, filters: contacts.ContactFilter, *, now: datetime,
              localities: Mapping[str, str]) -> dict[str, Any]:
    """Everything on the lead's dashboard for the contacts received in the period."""
    rows: list[Contact] = list(contacts.iter_contacts(session, filters))
    ids = [row.id for row in rows]
    extras = contact_extras(session, ids, now=now)

    # Contacts and referrals by route and locality.
    by_place: dict[str, Counter] = defaultdict(Counter)
    referred: Counter = Counter()
    for row in rows:
        place = localities.get(row.locality or "", row.locality or "Not known")
        by_place[place][row.route or "none"] += 1
        referred[place] += extras[row.id]["worklist_status"] is not None
    routes = [route for route in ROUTE_LABELS if any(counts[route] for counts in by_place.values())]
    places = sorted(by_place, key=lambda p: (p == "Not known", p))
    by_route_locality = {
        "routes": [{"key": r, "label": ROUTE_LABELS[r]} for r in routes],
        "rows": [{"place": p, "counts": [by_place[p][r] for r in routes], "total": sum(by_place[p].values()),
                  "referrals": referred[p]} for p in places],
        "totals": [sum(by_place[p][r] for p in places) for r in routes],
        "referrals": sum(referred.values()),
    }

    reviewed = _reviews_with_decisions(session, ids)
    rates = override_rates((decision, action, route) for decision, action, route, _ in reviewed)
    overrides = sum(1 for _, action, _, _ in reviewed if action == "override")

    # Overdue referrals by team (now, whatever the period: they are late today).
    overdue_items = [item for item in session.scalars(
        select(WorklistItem).where(WorklistItem.kind == "referral", WorklistItem.status == "open",
                                   WorklistItem.due_at.is_not(None), WorklistItem.due_at < now)
        .order_by(WorklistItem.due_at))]
    overdue: dict[str, list[dict]] = defaultdict(list)
    for item in overdue_items:
        overdue[item.route or "none"].append(worklist.item_dict(item, now))

    safeguarding = [row for row in rows if (row.safeguarding_level or "none") != "none"]
    returned = list(session.scalars(select(WorklistItem).where(WorklistItem.contact_id.in_(ids),
                                                               WorklistItem.status == "returned")
                                    .order_by(WorklistItem.resolved_at.desc()))) if ids else []
    return {
        "total": len(rows),
        "by_route_locality": by_route_locality,
        "reviews": {"total": len(reviewed), "overridden": overrides, "rate": share(overrides, len(reviewed)),
                    "by_rule": [r.as_dict() for r in rates]},
        "overdue": {"total": len(overdue_items),
                    "teams": [{"route": r, "label": ROUTE_LABELS.get(r, r), "items": overdue[r]}
                              for r in [*ROUTE_LABELS, "none"] if overdue.get(r)]},
        "safeguarding": {
            "counts": [{"level": level, "label": SAFEGUARDING_LABELS[level],
                        "count": sum(1 for row in rows if (row.safeguarding_level or "none") == level)}
                       for level in SAFEGUARDING_LABELS if level != "none"],
            "contacts": [{**contacts.contact_summary(row), **extras[row.id]}
                         for row in sorted(safeguarding, key=lambda r: r.received_at, reverse=True)],
        },
        "signposted": [contacts.contact_summary(row) for row in rows if row.route == "out_of_scope"],
        "returned": [worklist.item_dict(item, now) for item in returned],
        "repeat": _repeat_people(session, ids),
    }
