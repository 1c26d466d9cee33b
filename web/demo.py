"""The demo a newcomer can open: demo staff logins and a few dozen fictional contacts.

Every contact is made up (no names, no real places below locality level) and decided by the
real engine; some are then confirmed, overridden, accepted or returned, so the audit pages and
the worklist show something real on first run. The logins' passwords are random and printed
once (they are stored only as Argon2 hashes).
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from web.referral_message import accept_and_send
from web.store import audit, contacts, people, users, worklist
from web.store.models import WorklistItem

DEMO_USERS = (("demo.supervisor", "supervisor"), ("demo.duty", "duty_worker"), ("demo.handler", "call_handler"),
              ("demo.admin", "admin"))

SCREEN_CLEAR = {fact: False for fact in (
    "unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs", "severe_bleeding",
    "seizure_ongoing", "severe_allergic_reaction", "serious_injury", "overdose_or_self_harm", "immediate_danger")}

# (what happened, in a few words; the facts). Localities are filled in at random.
SCENARIOS: list[tuple[str, dict]] = [
    ("fall, long lie, no injury", {**SCREEN_CLEAR, "age": 88, "caller": "family_friend", "fallen": True,
                                   "on_floor_cannot_get_up": True, "fall_injury": "none", "head_injury": False}),
    ("chest pain", {"age": 71, "caller": "self", "chest_pain": True}),
    ("lonely, would like company", {**SCREEN_CLEAR, "age": 83, "caller": "self", "lonely_or_isolated": True,
                                    "suicidal_thoughts": False, "mental_health_crisis": False}),
    ("carer can't keep up work or friends", {**SCREEN_CLEAR, "age": 58, "caller": "unpaid_carer",
                                             "is_unpaid_carer": True, "carer_wellbeing_impact_significant": True,
                                             "carer_outcomes_unable": ["work_learning_volunteering", "relationships"]}),
    ("money taken from someone with dementia", {**SCREEN_CLEAR, "age": 86, "caller": "family_friend",
                                                "dementia": True, "abuse_types": ["financial"],
                                                "lacks_capacity": True}),
    ("suicidal with a plan", {**SCREEN_CLEAR, "age": 31, "caller": "self", "suicidal_thoughts": True,
                              "suicide_plan_or_intent": True}),
    ("asks about a pendant alarm", {**SCREEN_CLEAR, "age": 66, "caller": "self", "information_topic": "pendant alarm",
                                    "suicidal_thoughts": False, "mental_health_crisis": False}),
    ("several conditions, repeat admissions", {**SCREEN_CLEAR, "age": 77, "caller": "professional",
                                               "long_term_conditions": ["diabetes", "copd", "chronic_kidney_disease"],
                                               "admissions_12m": 3}),
    ("asks about a child", {**SCREEN_CLEAR, "age": 10, "caller": "family_friend"}),
    ("new confusion since yesterday", {**SCREEN_CLEAR, "age": 84, "caller": "family_friend", "new_confusion": True}),
    ("help with shopping and transport", {**SCREEN_CLEAR, "age": 79, "caller": "self",
                                          "practical_help": ["shopping", "transport"]}),
    ("first message only, screen not yet answered", {"lonely_or_isolated": True}),
]
LOCALITIES = ("ashford", "canterbury_coastal", "thanet", "south_kent_coast", "swale", "dartford_gravesham_swanley",
              "west_kent")
CHANNELS = ("web_chat", "phone", "professional_referral")


@dataclass
class DemoResult:
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, password)
    contacts: int = 0
    skipped_users: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"Demo: {self.contacts} fictional contacts created."]
        if self.logins:
            lines.append("Demo staff logins (shown once; passwords are stored only as hashes):")
            lines += [f"  {username:<16} {role:<13} {password}" for username, role, password in self.logins]
        if self.skipped_users:
            lines.append(f"Existing users kept: {', '.join(self.skipped_users)}")
        return "\n".join(lines)


def seed_demo(spoa, *, count: int = 36, seed: int = 2026) -> DemoResult:  # noqa: ANN001
    """Create the demo users (those not there yet) and `count` contacts, in one transaction."""
    rng = random.Random(seed)
    result = DemoResult()
    now = spoa.now()

    def work(db):  # noqa: ANN001, ANN202
        for username, role in DEMO_USERS:
            try:
                password = secrets.token_urlsafe(12)
                users.add_user(db, username, password, role)
                result.logins.append((username, role, password))
            except users.UserError:
                result.skipped_users.append(username)
        audit.append(db, actor="demo", action="demo.seed", details={"contacts": count}, at=now)
        created = []
        for index in range(count):
            story, facts = SCENARIOS[index % len(SCENARIOS)]
            facts = dict(facts)
            if "age" in facts:
                facts["locality"] = rng.choice(LOCALITIES)
            received = now - timedelta(days=rng.uniform(0, 13), minutes=rng.randint(5, 600))
            channel = "web_chat" if story.startswith("first message") else rng.choice(CHANNELS)
            source = {"web_chat": "chat", "phone": "console", "professional_referral": "api"}[channel]
            actor = "demo.handler" if source == "console" else "service"
            outcome = contacts.create_contact(
                db, spoa.triage, {"channel": channel, "received_at": received.isoformat(), "facts": facts},
                now=received + timedelta(minutes=4), source=source, actor=actor)
            created.append(outcome)
        _act_on(db, spoa, created, rng)
        result.contacts = len(created)

    spoa.store.run(work)
    return result


DEMO_NAMES = (("Ada", "Demo"), ("Bert", "Example"), ("Cora", "Sample"), ("Dev", "Fictional"), ("Elsie", "Madeup"))


def _act_on(db, spoa, created: list, rng: random.Random) -> None:  # noqa: ANN001
    """People act on some decisions: confirm, follow-up facts, override, accept, return, call back."""
    for number, outcome in enumerate(o for o in created if o.worklist_item is not None):
        # Fictional people on drama-range numbers (Ofcom 07700 900xxx), so a referral page shows one.
        first, last = DEMO_NAMES[number % len(DEMO_NAMES)]
        people.save_details(db, outcome.contact.id, {
            "name": f"{first} {last}", "date_of_birth": f"{1 + number % 27:02d}/0{1 + number % 9}/19{38 + number % 20}",
            "phone": f"07700 900{100 + number:03d}", "address": f"{number + 1} Demo Road", "postcode": "CT1 1AA"},
            actor="demo.handler", actor_role="call_handler", now=outcome.contact.received_at,
            today=outcome.contact.received_at.date())
    for outcome in created:
        contact = outcome.contact
        later = contact.received_at + timedelta(minutes=rng.randint(10, 90))
        if contact.channel == "phone" and contact.route != "emergency":
            contacts.review(db, contact.id, action="confirm", actor="demo.handler", actor_role="call_handler",
                            now=later)
    lonely = [o for o in created if o.contact.route == "voluntary_sector"]
    if lonely:
        target = lonely[0].contact
        contacts.add_facts(db, spoa.triage, target.id, {"lives_alone": True},
                           now=target.received_at + timedelta(minutes=20), source="console", actor="demo.handler")
    overridable = [o for o in created if o.contact.route == "self_care"]
    if overridable:
        target = overridable[0].contact
        contacts.review(db, target.id, action="override", actor="demo.supervisor", actor_role="supervisor",
                        now=target.received_at + timedelta(hours=3), route="voluntary_sector",
                        reason="Lives alone with no family nearby: a befriending referral is wanted (demo).")
    items = [o.worklist_item for o in created if o.worklist_item is not None and o.worklist_item.status == "open"]
    for item in items[:5]:
        # Accepted as a duty worker would: the referral message goes into the outbox, and the
        # dispatcher `make run` starts delivers it to the demo receiver.
        accept_and_send(db, spoa, item.id, actor="demo.duty", actor_role="duty_worker",
                        now=item.created_at + timedelta(minutes=35))
    if len(items) > 5:
        item: WorklistItem = items[5]
        worklist.return_item(db, item.id, actor="demo.duty", actor_role="duty_worker",
                             now=item.created_at + timedelta(minutes=50),
                             reason="Already known to the locality team; passed to the allocated worker (demo).")
    if created:
        target = created[-1].contact
        worklist.request_callback(db, target, now=target.received_at + timedelta(minutes=12),
                                  note="Would like to talk to someone (demo).")


def seed_demo_if_empty(spoa) -> DemoResult | None:  # noqa: ANN001
    """Seed the demo when the database has no contacts and no users (a fresh install)."""
    with spoa.store.session() as db:
        if contacts.count_contacts(db) or users.count_users(db):
            return None
    return seed_demo(spoa)
