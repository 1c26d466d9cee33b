"""What the supervisor's audit pages read and show (the worklist's rows: web/referral_view.py).

The pages in web/blueprints/audit.py and worklist.py are thin: they parse the
request, call one function here, and render. Functions here read the store (through the
store's own repository functions where they exist) and turn stored decisions into plain words:
a decision's `fired` items become sentences a supervisor can check against the protocol.

Nothing here decides: routes come from the engine, and overrides and worklist actions go
through web.store.contacts.review and web.store.worklist.
"""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoa import working_days
from web.labels import PATHWAY_LABELS, ROUTE_LABELS, SAFEGUARDING_LABELS
from web.oversight import MIN_FOR_PERCENT, contact_extras, share
from web.store import audit, contacts, replay
from web.store.models import AuditEntry, Contact

# nhsuk-tag colour modifiers: the more urgent, the warmer.
ROUTE_TAGS = {"emergency": "red", "rapid_response": "orange", "mdt": "yellow", "voluntary_sector": "green",
              "self_care": "blue", "out_of_scope": "grey"}
SAFEGUARDING_TAGS = {"none": "white", "concern": "yellow", "referral": "orange", "urgent": "red"}
SOURCE_LABELS = {"chat": "web chat", "console": "call handler console", "extraction": "text extraction",
                 "api": "API"}
ACTION_LABELS = {
    "auth.login": "Logged in", "auth.login_failed": "Failed to log in", "auth.logout": "Logged out",
    "contact.view": "Viewed a contact", "contact.confirm": "Confirmed a decision",
    "contact.override": "Overrode a route", "contacts.export": "Exported contacts (CSV)",
    "worklist.accept": "Accepted a referral", "worklist.return": "Returned a referral",
    "worklist.complete": "Completed a referral", "referral.withheld": "No referral: no consent to share",
    "person.view": "Viewed a person's details", "person.update": "Changed a person's details",
    "person.erase": "Erased a person's details", "contact.redecide": "Decided a contact again",
    "console.take_over": "Took over a call", "console.dropped": "Closed a call that ended early",
    "audit.verify": "Verified the audit log", "replay.run": "Replayed contacts",
}
CHANNEL_CHOICES = {"phone": "Phone", "web_chat": "Web chat", "professional_referral": "Professional referral"}
FLAG_CHOICES = (("", "Any"), ("yes", "Yes"), ("no", "No"))

PER_PAGE = 25
# `route` is the current route (after any override); `rules_route` the rules' own. With the rules
# that decided and the overrides, the override rate by rule can be worked out offline too.
CSV_COLUMNS = ("reference", "received_at", "channel", "locality", "locality_words", "rules_route", "route", "pathway",
               "safeguarding_level", "decision_status", "review_required", "overridden", "rules_fired",
               "deciding_rules", "override_route", "override_reason", "override_by", "override_at", "last_review",
               "last_review_by", "last_review_at", "worklist_status", "worklist_created_at", "worklist_due_at",
               "worklist_resolved_at", "worklist_overdue", "status", "ruleset_version")
CSV_BATCH = 200


# -- words -----------------------------------------------------------------------------------

def words(name: str | None) -> str:
    """A snake_case id in plain words ("on_floor_cannot_get_up" -> "on floor cannot get up")."""
    return (name or "").replace("_", " ")


def route_label(route: str | None) -> str:
    return ROUTE_LABELS.get(route or "", words(route) or "none")


def pathway_label(pathway: str | None) -> str:
    return PATHWAY_LABELS.get(pathway or "", words(pathway) or "none")


def value_words(value: Any) -> str:
    """A fact's value as a person would say it."""
    if value is None:
        return "unknown"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(value_words(item) for item in value) if value else "none"
    if isinstance(value, str):
        return words(value)
    return str(value)


def matched_words(matched: Mapping[str, Any]) -> list[str]:
    """["fall injury is none", "age is 90"] for a rule's matched facts."""
    return [f"{words(fact)} is {value_words(value)}" for fact, value in matched.items()]


def role_words(role: str | None) -> str:
    """What the rule did, from the trace's `role`."""
    role = role or ""
    if role.startswith("derived "):
        return f"established that “{words(role[len('derived '):])}” holds"
    return {
        "decided the route": "decided the route",
        "same route, another pathway": "pointed to the same route by another pathway",
        "also referred": "added a referral alongside the main route",
        "outranked": "also matched, but a more urgent route took precedence",
        "safeguarding": "set the safeguarding level or the basis for a referral",
        "review": "asked for a person to review the decision",
        "advice": "added advice for the person",
    }.get(role, words(role) or "fired")


@dataclass
class TraceLine:
    """One fired rule, in plain words."""

    rule: str
    title: str
    version: str
    source: str
    role: str
    does: str
    leads: bool
    matched: list[str]
    derived: list[str]
    not_derived: list[str]
    unknown: list[str]

    @property
    def reasons(self) -> str:
        """"decided the route because fall injury is none and “adult” was established"."""
        parts = [self.does]
        if self.matched:
            parts.append(f" because {_join(self.matched)}")
        if self.derived:
            parts.append(f"{' and' if self.matched else ' because'} {_join(self.derived)} "
                         f"{'was' if len(self.derived) == 1 else 'were'} established")
        if self.not_derived:
            parts.append(f", while {_join(self.not_derived)} "
                         f"{'was' if len(self.not_derived) == 1 else 'were'} not")
        if not (self.matched or self.derived or self.not_derived):
            parts.append("; it needs no facts (the catch-all)")
        return "".join(parts)

    @property
    def explanation(self) -> str:
        return f"This rule {self.reasons}."

    @property
    def sentence(self) -> str:
        return f"Rule {self.rule} (version {self.version}), “{self.title}”, {self.reasons}."


def _join(items: list[str]) -> str:
    items = [f"“{item}”" if " is " not in item else item for item in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def trace_lines(fired: Iterable[Mapping[str, Any]]) -> list[TraceLine]:
    """Every fired rule of a decision (its `fired` items) as a plain-words line."""
    lines = []
    for item in fired:
        role = str(item.get("role") or "")
        lines.append(TraceLine(
            rule=str(item.get("rule", "?")), title=str(item.get("title") or "untitled rule"),
            version=str(item.get("version", "?")), source=str(item.get("source") or "no source recorded"),
            role=role, does=role_words(role), leads=role == "decided the route",
            matched=matched_words(item.get("matched") or {}),
            derived=[words(name) for name in item.get("derived_used") or []],
            not_derived=[words(name) for name in item.get("not_derived_used") or []],
            unknown=[words(name) for name in item.get("unknown") or []]))
    return lines


def duration_words(seconds: int | float | None) -> str:
    """"1 hour 20 minutes", "2 days 3 hours", "under a minute"."""
    if seconds is None:
        return "no target"
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    text = " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n)
    return text or "under a minute"


def target_words(target: str | None) -> str:
    """An ISO 8601 response target in words (PT2H -> "2 hours", PT0M -> "immediately")."""
    if not target:
        return "no target"
    words = working_days.target_words(target)  # days are working days, as the chat says
    return "immediately" if words == "now" else words.removeprefix("within ")


def local_day(moment: datetime, timezone: str = "Europe/London") -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def local_time(value: str | datetime | None, timezone: str = "Europe/London") -> str:
    """A stored UTC time in the service's time zone: "26 Nov 2026, 10:00"."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(timezone)).strftime("%-d %b %Y, %H:%M")


# -- the contact list ------------------------------------------------------------------------

@dataclass
class ListQuery:
    """The contact list's filters and page, parsed from the query string, with any errors."""

    filters: contacts.ContactFilter
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # what was typed, to show back


FILTER_KEYS = ("from", "to", "route", "pathway", "safeguarding_level", "review_required", "overridden",
               "locality", "channel")


def parse_list_query(args: Mapping[str, str], *, localities: Iterable[str] = ()) -> ListQuery:
    """The filters from the query string. A bad value is reported and ignored, never a 500."""
    values = {key: (args.get(key) or "").strip() for key in FILTER_KEYS}
    errors: dict[str, str] = {}

    def day(key: str, label: str) -> date | None:
        if not values[key]:
            return None
        try:
            return date.fromisoformat(values[key])
        except ValueError:
            errors[key] = f"{label} must be a real date, like 2026-11-26"
            return None

    def choice(key: str, allowed: Iterable[str], label: str) -> str | None:
        if not values[key]:
            return None
        if values[key] not in allowed:
            errors[key] = f"{label} must be one of the listed options"
            return None
        return values[key]

    def flag(key: str, label: str) -> bool | None:
        if not values[key]:
            return None
        if values[key] in ("yes", "no"):
            return values[key] == "yes"
        errors[key] = f"{label} must be yes, no or any"
        return None

    date_from, date_to = day("from", "Date from"), day("to", "Date to")
    if date_from and date_to and date_from > date_to:
        errors["to"] = "Date to must be the same as or after date from"
        date_to = None
    filters = contacts.ContactFilter(
        date_from=date_from, date_to=date_to,
        route=choice("route", ROUTE_LABELS, "Route"),
        pathway=choice("pathway", PATHWAY_LABELS, "Pathway"),
        safeguarding_level=choice("safeguarding_level", SAFEGUARDING_LABELS, "Safeguarding level"),
        review_required=flag("review_required", "Review required"),
        overridden=flag("overridden", "Overridden"),
        locality=choice("locality", list(localities), "Locality") if localities else values["locality"] or None,
        channel=choice("channel", CHANNEL_CHOICES, "Channel"))
    try:
        page = max(1, int(args.get("page") or 1))
    except ValueError:
        page = 1
    return ListQuery(filters=filters, page=page, errors=errors, values=values)


def active_filters(query: ListQuery) -> dict[str, str]:
    """The filters in force (for links to the next page, the CSV and the charts)."""
    return {key: value for key, value in query.values.items() if value and key not in query.errors}


@dataclass
class ContactPage:
    rows: list[dict]
    total: int
    page: int
    pages: int


def contact_list(session: Session, query: ListQuery, *, per_page: int = PER_PAGE) -> ContactPage:
    """One page of the filtered contact list (newest first)."""
    rows, total = contacts.list_contacts(session, query.filters, page=query.page, per_page=per_page)
    pages = max(1, -(-total // per_page))
    if query.page > pages:  # a page past the end (an old link): show the last one
        rows, total = contacts.list_contacts(session, query.filters, page=pages, per_page=per_page)
    return ContactPage(rows=[contacts.contact_summary(row) for row in rows], total=total,
                       page=min(query.page, pages), pages=pages)


def signposted(session: Session, config: Any, *, page: int = 1, per_page: int = PER_PAGE) -> ContactPage:
    """Contacts the service could not take (out of scope: another area, a child), newest first,
    with the reason, the place as the person gave it and, for another area, that area's
    council when the gazetteer knows it: no out-of-area contact goes unseen (issue 8)."""
    def rows_of(number: int) -> tuple[list[Contact], int]:
        return contacts.list_contacts(session, contacts.ContactFilter(route="out_of_scope"), page=number,
                                      per_page=per_page)
    rows, total = rows_of(page)
    pages = max(1, -(-total // per_page))
    if page > pages:
        rows, total = rows_of(pages)
    items = []
    for row in rows:
        other_area = row.pathway == "other_area" and row.locality
        council = config.resolve_place(row.locality).council if other_area else None
        items.append({**contacts.contact_summary(row), "reason": PATHWAY_LABELS.get(row.pathway or "", row.pathway),
                      "place_given": row.locality_words or _locality_name(config, row.locality), "council": council})
    return ContactPage(rows=items, total=total, page=min(page, pages), pages=pages)


def _locality_name(config: Any, locality: str | None) -> str | None:
    """A locality id (chosen in the console, sent by the API) by its name; anything else as it is."""
    return (config.localities.get(locality) or {}).get("name", locality) if locality else None


def _safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet won't run as a formula (locality can be a free place name)."""
    text = "" if value is None else ("yes" if value is True else "no" if value is False else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(session: Session, query: ListQuery, *, now: datetime) -> tuple[str, int]:
    """The whole filtered list as CSV (oldest first) and its row count. No facts; the only free
    text is an override's reason (staff are asked to leave personal details out of it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    batch: list[Contact] = []

    def flush() -> None:
        extras = contact_extras(session, [row.id for row in batch], now=now)
        for row in batch:
            summary = {**contacts.contact_summary(row), **extras[row.id], "reference": row.id}
            writer.writerow([_safe_cell(summary.get(column)) for column in CSV_COLUMNS])
        batch.clear()

    for row in contacts.iter_contacts(session, query.filters):
        batch.append(row)
        count += 1
        if len(batch) >= CSV_BATCH:
            flush()
    flush()
    return out.getvalue(), count


def record_export(session: Session, *, actor: str, actor_role: str | None, now: datetime, rows: int,
                  filters: Mapping[str, str]) -> None:
    """The audit-log row for a CSV export (the filters used and the row count: no personal data)."""
    audit.append(session, actor=actor, actor_role=actor_role, action="contacts.export", target=None,
                 details={"rows": rows, "filters": dict(filters), "format": "csv"}, at=now)


# -- one contact -----------------------------------------------------------------------------

def view_contact(session: Session, contact_id: str, *, actor: str, actor_role: str | None,
                 now: datetime) -> dict[str, Any]:
    """Everything about one contact, and an audit-log row saying who viewed it (one transaction)."""
    record = contacts.contact_record(session, contact_id, now=now)
    audit.append(session, actor=actor, actor_role=actor_role, action="contact.view", target=record["id"],
                 details={"via": "audit"}, at=now)
    previous: dict[str, Any] | None = None
    for decision in record["decisions"]:
        body = decision["decision"] or {}
        decision["changed_facts"] = facts_changed(previous, decision.get("facts") or {})
        previous = decision.get("facts") or {}
        decision["trace"] = trace_lines(body.get("fired") or [])
        decision["missing_words"] = [words(name) for name in body.get("missing") or []]
        decision["reviews"] = [r for r in record["reviews"] if r["decision_id"] == decision["id"]]
    record["current_decision_id"] = record["decisions"][-1]["id"] if record["decisions"] else None
    return record


def review_banner(record: Mapping[str, Any], review_id: str | None) -> dict[str, str] | None:
    """What the banner says after a review was recorded (?reviewed=<id>): what the person did and
    where the contact now goes, read from the stored review, never assumed."""
    review = next((r for r in record["reviews"] if str(r["id"]) == str(review_id or "")), None)
    if review is None:
        return None
    if review["action"] == "override":
        engine = record["decisions"][-1]["route"] if record["decisions"] else None
        text = f"Override recorded: the route is now {route_label(review['route'])}"
        if engine and engine != review["route"]:
            text += f" (the rules said {route_label(engine)})"
        return {"action": "override", "text": text + ". Your reason is kept beside the decision."}
    return {"action": "confirm", "text": f"Recorded: you reviewed this decision and agree with "
                                         f"{route_label(review['route'])}. It no longer needs review."}


def facts_changed(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """What a decision knew that the one before it didn't ("fallen: yes", "age: unknown")."""
    if before is None:
        return []
    changed = [f"{words(name)}: {value_words(value)}" for name, value in after.items() if before.get(name) != value]
    changed += [f"{words(name)}: unknown" for name in before if name not in after]
    return changed


def contact_exists(session: Session, contact_id: str) -> bool:
    try:
        contacts.get_contact(session, contact_id)
    except contacts.ContactNotFound:
        return False
    return True


# -- charts ----------------------------------------------------------------------------------

def chart_data(rows: Iterable[Contact], *, timezone: str = "Europe/London") -> dict[str, Any]:
    """Routes per day, safeguarding levels, and review and override rates per day, for Chart.js.

    Days are local days in the service's time zone. Rates are per cent of that day's contacts,
    with the counts beside them; none for a day with fewer than MIN_FOR_PERCENT contacts.
    """
    zone = ZoneInfo(timezone)
    per_day: dict[str, Counter] = defaultdict(Counter)
    levels: Counter = Counter()
    reviewed: Counter = Counter()
    overridden: Counter = Counter()
    totals: Counter = Counter()
    for row in rows:
        day = row.received_at.astimezone(zone).date().isoformat()
        totals[day] += 1
        per_day[day][row.route or "none"] += 1
        levels[row.safeguarding_level or "none"] += 1
        reviewed[day] += bool(row.review_required)
        overridden[day] += bool(row.overridden)
    days = _day_range(sorted(totals))
    routes = [route for route in ROUTE_LABELS if any(per_day[day][route] for day in days)]
    total = sum(totals.values())
    return {
        "total": total,
        "routes_per_day": {
            "labels": days,
            "datasets": [{"key": route, "label": route_label(route), "data": [per_day[day][route] for day in days]}
                         for route in routes],
        },
        "safeguarding": {
            "labels": [SAFEGUARDING_LABELS[level] for level in SAFEGUARDING_LABELS],
            "keys": list(SAFEGUARDING_LABELS),
            "data": [levels[level] for level in SAFEGUARDING_LABELS],
        },
        # A day's percentage only from MIN_FOR_PERCENT contacts up (null below: a gap in the line),
        # the counts always beside it: 2 contacts must not read as "100%".
        "rates": {
            "labels": days,
            "totals": [totals[day] for day in days],
            "review_required_count": [reviewed[day] for day in days],
            "overridden_count": [overridden[day] for day in days],
            "review_required": [_percent(reviewed[day], totals[day]) for day in days],
            "overridden": [_percent(overridden[day], totals[day]) for day in days],
            "review_required_total": sum(reviewed.values()),
            "overridden_total": sum(overridden.values()),
            "review_required_overall": share(sum(reviewed.values()), total),
            "overridden_overall": share(sum(overridden.values()), total),
            "min_for_percent": MIN_FOR_PERCENT,
        },
    }


def _day_range(days: list[str]) -> list[str]:
    """Every day from the first to the last, so a day with no contacts shows as a gap."""
    if not days:
        return []
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole >= MIN_FOR_PERCENT else None


def charts(session: Session, query: ListQuery, *, timezone: str) -> dict[str, Any]:
    return chart_data(contacts.iter_contacts(session, query.filters), timezone=timezone)


# -- the audit log ---------------------------------------------------------------------------

def verify_log(session: Session) -> tuple[audit.VerifyResult, dict[str, Any] | None]:
    """The hash chain's check, and the first broken row (if it still exists) to show."""
    result = audit.verify(session)
    broken = None
    if not result.ok and result.first_broken_id is not None:
        entry = session.get(AuditEntry, result.first_broken_id)
        broken = audit.entry_dict(entry) if entry is not None else None
    return result, broken


def record_verify(session: Session, result: audit.VerifyResult, *, actor: str, actor_role: str | None,
                  now: datetime) -> None:
    audit.append(session, actor=actor, actor_role=actor_role, action="audit.verify",
                 details={"ok": result.ok, "rows": result.rows_checked, "via": "audit"}, at=now)


LOG_PER_PAGE = 50


@dataclass
class LogQuery:
    """The audit log's filters (who, what, from and to which day) and page, with any errors."""

    actor: str | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> dict[str, str]:
        return {key: value for key, value in self.values.items() if value and key not in self.errors}


def parse_log_query(args: Mapping[str, str]) -> LogQuery:
    """The audit log's filters from the query string; a bad date is reported and ignored."""
    values = {key: (args.get(key) or "").strip() for key in ("actor", "action", "from", "to")}
    query = LogQuery(actor=values["actor"][:64] or None, action=values["action"][:40] or None, values=values)
    for key, label in (("from", "Date from"), ("to", "Date to")):
        if values[key]:
            try:
                setattr(query, "date_" + key, date.fromisoformat(values[key]))
            except ValueError:
                query.errors[key] = f"{label} must be a real date, like 2026-11-26"
    if query.date_from and query.date_to and query.date_from > query.date_to:
        query.errors["to"] = "Date to must be the same as or after date from"
        query.date_to = None
    try:
        query.page = max(1, int(args.get("page") or 1))
    except ValueError:
        query.page = 1
    return query


def log_page(session: Session, query: LogQuery, *, timezone: str = "Europe/London",
             per_page: int = LOG_PER_PAGE) -> dict[str, Any]:
    """One page of the audit log, newest first, filtered by actor, action and (local) day; the
    records' seals are left out (people read what people did). Also the actors and actions to
    choose from."""
    zone = ZoneInfo(timezone)
    people = select(AuditEntry).where(AuditEntry.action != audit.SEAL_ACTION)
    filtered = people
    if query.actor:
        filtered = filtered.where(AuditEntry.actor == query.actor)
    if query.action:
        filtered = filtered.where(AuditEntry.action == query.action)
    if query.date_from:
        filtered = filtered.where(AuditEntry.at >= datetime.combine(query.date_from, datetime.min.time(), zone))
    if query.date_to:
        filtered = filtered.where(AuditEntry.at < datetime.combine(query.date_to + timedelta(days=1),
                                                                   datetime.min.time(), zone))
    total = session.scalar(select(func.count()).select_from(filtered.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(query.page, pages)
    rows = session.scalars(filtered.order_by(AuditEntry.id.desc()).limit(per_page).offset((page - 1) * per_page))
    actors = sorted(session.scalars(select(AuditEntry.actor).where(AuditEntry.action != audit.SEAL_ACTION)
                                    .distinct()))
    actions = sorted(session.scalars(select(AuditEntry.action).where(AuditEntry.action != audit.SEAL_ACTION)
                                     .distinct()))
    return {"rows": [audit.entry_dict(entry) for entry in rows], "total": total, "page": page, "pages": pages,
            "actor_options": [(name, name) for name in actors],
            "action_options": [(name, ACTION_LABELS.get(name, words(name))) for name in actions]}


# -- replay ----------------------------------------------------------------------------------

def candidate_rule_sets(setting: Any, config: Any = None) -> dict[str, str]:
    """The candidate rule folders a supervisor may replay with, {name: path}: the app setting
    SPOA_REPLAY_RULES, else `replay_rules` in config.yml (paths relative to it). A mapping
    names each folder; a list names each by its folder name. Never a path from the request."""
    if not setting and config is not None:
        setting = (getattr(config, "data", None) or {}).get("replay_rules")
        if setting:
            items = setting.items() if isinstance(setting, Mapping) else ((Path(str(p)).name, p) for p in setting)
            return {str(name): str(config.resolve(path)) for name, path in items}
    if not setting:
        return {}
    if isinstance(setting, Mapping):
        return {str(name): str(path) for name, path in setting.items()}
    return {Path(str(path)).name: str(path) for path in setting}


@dataclass
class ReplayQuery:
    date_from: date | None = None
    date_to: date | None = None
    rules: str = ""            # "" is the current rule set; else a name from the configured list
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    run: bool = False


def parse_replay_query(args: Mapping[str, str], candidates: Mapping[str, str]) -> ReplayQuery:
    values = {key: (args.get(key) or "").strip() for key in ("from", "to", "rules")}
    query = ReplayQuery(values=values, run=bool(args.get("run")))
    for key, label in (("from", "Date from"), ("to", "Date to")):
        if values[key]:
            try:
                setattr(query, "date_from" if key == "from" else "date_to", date.fromisoformat(values[key]))
            except ValueError:
                query.errors[key] = f"{label} must be a real date, like 2026-11-26"
    if query.date_from and query.date_to and query.date_from > query.date_to:
        query.errors["to"] = "Date to must be the same as or after date from"
    if values["rules"] and values["rules"] not in candidates:
        query.errors["rules"] = "Choose a rule set from the list"
    query.rules = values["rules"] if "rules" not in query.errors else ""
    return query


def run_replay(session: Session, triage: Any, query: ReplayQuery, candidates: Mapping[str, str]) -> dict[str, Any]:
    """Re-decide the stored contacts in the range with the current or a candidate rule set
    (web.store.replay.replay); nothing is written. Returns the report as a dict for the page."""
    if query.rules:
        from spoa.decide import decide

        ruleset = triage.load_candidate(candidates[query.rules])  # RulebookError etc. if it is broken

        def decide_with(contact: dict, now: datetime) -> dict:
            return decide(contact, ruleset, now)
        version = ruleset.version
    else:
        decide_with, version = triage.decide, triage.ruleset.version
    report = replay.replay(session, decide_with, date_from=query.date_from, date_to=query.date_to,
                           ruleset_version=version)
    data = report.as_dict()
    data["rules_name"] = query.rules or "current"
    data["transition_rows"] = [
        {"from": key.split(" -> ")[0], "to": key.split(" -> ")[1], "count": value["count"],
         "contact_ids": value["contact_ids"]}
        for key, value in data["transitions"].items()]
    data["pathway_only"] = [vars(change) for change in report.pathway_changed]
    return data


def record_replay(session: Session, report: Mapping[str, Any], *, actor: str, actor_role: str | None,
                  now: datetime) -> None:
    audit.append(session, actor=actor, actor_role=actor_role, action="replay.run",
                 details={"from": report["from"], "to": report["to"], "rules": report["rules_name"],
                          "ruleset_version": report["ruleset_version"], "total": report["total"],
                          "route_changed": report["route_changed"]}, at=now)
