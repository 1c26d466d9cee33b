"""`decide(contact, ruleset, now)`: the one pure decision function.

It reads no clock, no database and no web or dialogue object: time is an input, and the same
facts with the same ruleset version always give the same decision, so a supervisor can replay
it. The engine (durable-rules, behind spoa/durable_adapter.py) matches the rules and chains
the derived facts; this module applies the protocol's explicit conflict policy to what fired:

- the most urgent route wins (PROTOCOL.md §1); within a route the shortest response target,
  ties to the rule listed first; lower referral routes go into `also`;
- safeguarding: the highest level wins, every subject is listed; the consent basis is the
  first that applies in SAFE-5's order;
- `missing` lists only unknown facts that could still change the decision, in the asking order
  (the emergency screen first), found by evaluating the rules in three-valued logic;
- `settled` (protocol 1.1) comes from the same three-valued evaluation, with only the facts a
  dialogue may still ask left open: no combination of answers to them could make the route
  more urgent, change scope or raise the safeguarding level.

Protocol 1.1 reads a contact's facts three ways: a value; `null`, asked and not known (read
as unknown by the rules, listed in `missing` for the professional, never holding a decision
open); and absent, not asked yet. A list fact named in the contact's `partial` holds "at least
these items": the rules decide on the items held, and a test that more items could still
pass keeps the fact open.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from spoa.durations import parse_duration
from spoa.rulebook import AnyOf, Derived, Leaf, Rule
from spoa.ruleset import Ruleset
from spoa.vocabulary import (
    ALSO_ROUTES, EMERGENCY_SCREEN, PATHWAY_ORDER, ROUTE_PRECEDENCE, SAFEGUARDING_LEVELS, facts,
    load_follow_ups, ruled_out,
)

CONSENT_ORDER = ("lacks_capacity", "others_at_risk", "immediate_danger", "organisational", "consent", "refused")

PATHWAY_WORDS = {
    "ambulance": "an ambulance (999)", "police": "the police (999)",
    "ucr": "the urgent community response team", "mental_health_crisis": "the mental health crisis team",
    "complex_care": "the locality team for complex care", "care_act_assessment": "a Care Act assessment",
    "carer_assessment": "a carer's assessment", "end_of_life": "end of life care coordination",
    "post_discharge": "support after hospital discharge", "safeguarding": "a safeguarding enquiry",
    "community_support": "voluntary and community support", "information": "information and advice",
    "children_services": "children's services", "other_area": "the person's own local service",
}


def decide(contact: dict, ruleset: Ruleset, now: datetime) -> dict:
    """The decision for a validated contact (see spoa.contact.parse_contact)."""
    given = contact.get("facts", {})
    known = {k: v for k, v in given.items() if v is not None}
    not_known = frozenset(k for k, v in given.items() if v is None)  # asked, the person could not say
    partial = frozenset(f for f in contact.get("partial", ()) if isinstance(known.get(f), list))
    result = ruleset.engine.run(known)
    rulebook, config = ruleset.rulebook, ruleset.config
    fired = sorted((rulebook.by_id(rule_id) for rule_id in result.fired), key=lambda r: r.order)

    route, pathway, target_key, leader = _primary(fired, config)
    also = _also(fired, route)
    safeguarding = _safeguarding(fired, known)
    emergency_fired = any(r.group == "EMERG" for r in fired)
    # "Don't know" (null) answers the screen question (1.1: it is not asked again); a person
    # reviews the decision instead, so an unknown red flag is never passed over silently.
    screen_answered = all(f in given for f in EMERGENCY_SCREEN)
    status = "complete" if emergency_fired or screen_answered else "incomplete"
    reasons = _review_reasons(fired, safeguarding)
    unknown_screen = [f for f in EMERGENCY_SCREEN if f in not_known]
    if unknown_screen and not emergency_fired:
        reasons.append("Emergency screen answered 'don't know' (" + ", ".join(unknown_screen) + "): "
                       "a person should check for these red flags.")
    decision = {
        "route": route,
        "pathway": pathway,
        "response_target": config.response_target(target_key) if target_key else None,
        "safeguarding": safeguarding,
        "also": also,
        "services": _services(fired, known, route, also, ruleset),
        "advice": _advice(fired, known, route, pathway, contact, now, config),
        "status": status,
        "missing": [],
        "settled": True,  # an emergency is settled at once
        "fired": [_trace(rule, known, rule is leader, route, also) for rule in fired],
        "review_required": bool(reasons),
        "review_reasons": reasons,
        "ruleset_version": ruleset.version,
    }
    if route != "emergency":
        world = _open_world(rulebook, known, partial)  # every unknown fact open
        decision["missing"] = _missing(rulebook, world, known, partial, fired, route, pathway, target_key, also, safeguarding, config)
        decision["settled"] = _settled(rulebook, world, given, known, not_known, partial, status, route, safeguarding)
    return decision


# --- route, pathway, also -------------------------------------------------------------------

def duration(text: str | None) -> timedelta:
    """A response target as a sortable duration; no target sorts last."""
    parsed = parse_duration(text)
    return timedelta.max if parsed is None else parsed


def _primary(fired: list[Rule], config) -> tuple[str, str, str | None, Rule | None]:
    routed = [r for r in fired if r.then.route]
    if not routed:  # SELF-1 always fires; this is only reachable with a broken rulebook
        return "self_care", "information", "information", None
    best_route = min((r.then.route for r in routed), key=ROUTE_PRECEDENCE.index)
    candidates = [r for r in routed if r.then.route == best_route]
    leader = min(candidates, key=lambda r: (duration(config.response_target(r.then.target)),
                                            PATHWAY_ORDER.index(r.then.pathway), r.order))
    return best_route, leader.then.pathway, leader.then.target, leader


def _also(fired: list[Rule], route: str) -> list[str]:
    if route == "out_of_scope":  # the person goes to another front door
        return []
    found = {r.then.route for r in fired if r.then.route in ALSO_ROUTES and r.then.route != route}
    return [r for r in ROUTE_PRECEDENCE if r in found]


# --- safeguarding --------------------------------------------------------------------------

def _safeguarding(fired: list[Rule], known: dict) -> dict:
    levelled = [r for r in fired if r.then.safeguarding_level]
    if not levelled:
        return {"level": "none", "about": [], "categories": [], "consent_basis": None}
    level = max((r.then.safeguarding_level for r in levelled), key=SAFEGUARDING_LEVELS.index)
    about = {subject for r in levelled for subject in r.then.safeguarding_about}
    categories = list(known.get("abuse_types", [])) if any(r.then.categories_from_abuse for r in levelled) else []
    bases = [r.then.consent_basis for r in fired if r.then.consent_basis]
    basis = min(bases, key=CONSENT_ORDER.index) if bases else None
    if basis is None and "adult" in about and level in ("referral", "urgent"):
        basis = "unknown"
    return {"level": level, "about": [s for s in ("adult", "child") if s in about],
            "categories": categories, "consent_basis": basis}


def _review_reasons(fired: list[Rule], safeguarding: dict) -> list[str]:
    reasons = [r.then.review for r in fired if r.then.review]
    if safeguarding["level"] in ("referral", "urgent"):
        reasons.append(f"Safeguarding level '{safeguarding['level']}' ({', '.join(safeguarding['about'])}): "
                       "a person must review and make the referral.")
    return reasons


# --- services and advice --------------------------------------------------------------------

def _services(fired: list[Rule], known: dict, route: str, also: list[str], ruleset: Ruleset) -> list[dict]:
    if ruleset.directory is None or "voluntary_sector" not in (route, *also):
        return []
    needs: list[str] = []
    for rule in fired:
        needs += rule.then.needs
        if rule.then.needs_from:
            needs += known.get(rule.then.needs_from, [])
    locality = known.get("locality")
    if not needs or locality not in ruleset.config.localities:
        return []
    return ruleset.directory.match(locality, list(dict.fromkeys(needs)))


def _ucr_open(moment: datetime, config) -> bool:
    hours = config.data["ucr_hours"]
    local = moment.astimezone(ZoneInfo(config.timezone))
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
    return day in hours["days"] and hours["start"] <= local.strftime("%H:%M") < hours["end"]


def _advice(fired, known, route, pathway, contact, now, config) -> list[str]:
    keys: list[str] = []
    for rule in fired:
        keys += [key for key in rule.then.advice if key not in keys]
    received = contact.get("received_at")
    moment = datetime.fromisoformat(received.replace("Z", "+00:00")) if received else now
    if route == "rapid_response" and pathway == "ucr" and not _ucr_open(moment, config):
        keys.append("out_of_hours")
    if route != "self_care" and "information" in keys:
        keys.remove("information")  # SELF-1 always fires; its text is for self-care decisions
    urgent = [k for k in keys if k in ("call_999", "police_999", "other_area_urgent")]
    advice = [config.advice(k) for k in urgent + [k for k in keys if k not in urgent]]
    if route == "self_care" and known.get("information_topic"):
        advice.insert(0, f"You asked about: {known['information_topic']}. " + config.advice("information"))
        advice.remove(config.advice("information"))
    others = [r.then.pathway for r in fired if r.then.route == route and r.then.pathway != pathway]
    if others:
        names = ", ".join(PATHWAY_WORDS[p] for p in dict.fromkeys(others))
        advice.append(f"The same response also covers: {names}.")
    advice.append(config.advice("safety_netting"))
    return advice


# --- the trace ------------------------------------------------------------------------------

def _trace(rule: Rule, known: dict, leads: bool, route: str, also: list[str]) -> dict:
    effect = rule.then
    if leads:
        role = "decided the route"
    elif effect.route and effect.route == route:
        role = "same route, another pathway"
    elif effect.route in also:
        role = "also referred"
    elif effect.route:
        role = "outranked"
    elif effect.asserts:
        role = f"derived {effect.asserts}"
    elif effect.safeguarding_level or effect.consent_basis:
        role = "safeguarding"
    elif effect.advice:
        role = "advice"
    else:
        role = "review"
    return {
        "rule": rule.id, "version": rule.version, "source": rule.source, "title": rule.title,
        "role": role, "matched": {f: known[f] for f in rule.facts_used if f in known},
        "unknown": [f for f in rule.facts_used if f not in known],
        "derived_used": list(rule.derived_used), "not_derived_used": list(rule.negated_derived),
    }


# --- what could still change the decision ---------------------------------------------------

_TESTS = {
    "is": lambda value, want: value == want,
    "is_not": lambda value, want: value != want,
    "in": lambda value, want: value in want,
    "not_in": lambda value, want: value not in want,
    "gte": lambda value, want: value >= want,
    "gt": lambda value, want: value > want,
    "lte": lambda value, want: value <= want,
    "lt": lambda value, want: value < want,
    "known": lambda value, want: True,
    "unknown": lambda value, want: False,
    "not_empty": lambda value, want: len(value) > 0,
    "count_gte": lambda value, want: len(value) >= want,
    "contains": lambda value, want: want in value,
}
_NOTHING: frozenset = frozenset()


_MONOTONE = frozenset(("not_empty", "count_gte", "contains"))  # more list items can only make these true
_ABSENT_READING = frozenset(("is_not", "unknown"))  # what the engine reads for a fact it does not see


class _World:
    """What is known, for the three-valued evaluation: the facts with a value, the partial
    lists among them, the unknown facts held at the engine's (FAILSAFE) reading instead of
    left open, and the derived-fact lookup."""

    __slots__ = ("known", "partial", "closed", "derived")

    def __init__(self, known: dict, partial: frozenset, closed: frozenset):
        self.known, self.partial, self.closed = known, partial, closed
        self.derived = None


def _compile(condition):
    """A condition as a function of a _World -> (value, open facts).

    Kleene three-valued logic over what is known so far: value is True, False, or None when
    the open facts could still make it either; `open facts` are those facts (the ones worth
    asking), empty unless the value is None. A test of whether a fact is known is a failsafe,
    not a question worth asking, so it opens nothing. A partial list that fails a test more
    items could pass stays open; a closed fact reads as the engine reads an unknown one.
    """
    if isinstance(condition, Leaf):
        fact, want, test = condition.fact, condition.value, _TESTS[condition.op]
        opens = _NOTHING if condition.op in ("known", "unknown") else frozenset((fact,))
        monotone, absent_reading = condition.op in _MONOTONE, condition.op in _ABSENT_READING

        def leaf(world):
            if fact in world.known:
                value = test(world.known[fact], want)
                if not value and monotone and fact in world.partial:
                    return None, opens
                return value, _NOTHING
            if fact in world.closed:
                return absent_reading, _NOTHING
            return None, opens
        return leaf
    if isinstance(condition, Derived):
        name, negated = condition.name, condition.negated

        def derived_fact(world):
            held, opens = world.derived(name)
            return (None, opens) if held is None else (held != negated, _NOTHING)
        return derived_fact
    parts = tuple(_compile(item) for item in condition.items)
    decisive = isinstance(condition, AnyOf)  # the value that settles the group at once

    def group(world):
        settled, opens = True, _NOTHING
        for part in parts:
            value, part_opens = part(world)
            if value is decisive:
                return decisive, _NOTHING
            if value is None:
                settled, opens = None, opens | part_opens
        return (not decisive if settled else None), opens
    return group


_COMPILED: dict[str, tuple] = {}


def _compiled(rulebook) -> tuple:
    """(rules, their compiled conditions, producers of each derived fact), once per version."""
    if rulebook.version not in _COMPILED:
        conditions = {rule.id: _compile(rule.when) for rule in rulebook.rules}
        producers = {name: tuple(conditions[rule.id] for rule in rules) for name, rules in rulebook.producers.items()}
        _COMPILED[rulebook.version] = (rulebook.rules, conditions, producers)
    return _COMPILED[rulebook.version]


def _open_world(rulebook, known: dict, partial: frozenset = _NOTHING, closed: frozenset = _NOTHING):
    """Evaluate every rule over what is known: {rule id: (value, open facts)}."""
    rules, conditions, producers = _compiled(rulebook)
    world = _World(known, partial, closed)
    memo: dict[str, tuple] = {}

    def derived(name: str) -> tuple:
        if name not in memo:
            held, opens = False, _NOTHING
            for producer in producers[name]:
                value, part_opens = producer(world)
                if value is True:
                    held, opens = True, _NOTHING
                    break
                if value is None:
                    held, opens = None, opens | part_opens
            memo[name] = (held, opens)
        return memo[name]

    world.derived = derived
    return {rule.id: conditions[rule.id](world) for rule in rules}


def _pathway_rank(target_key: str | None, pathway: str, config) -> tuple:
    """Within a route: the shortest target leads, ties to the pathway listed first."""
    return duration(config.response_target(target_key) if target_key else None), PATHWAY_ORDER.index(pathway)


def _would_change(rule: Rule, route, pathway, target_key, also, safeguarding, fired_pairs, config) -> bool:
    effect = rule.then
    if effect.route and effect.route != "self_care" and (effect.route, effect.pathway) not in fired_pairs:
        if effect.route in ("emergency", "out_of_scope"):
            return ROUTE_PRECEDENCE.index(effect.route) < ROUTE_PRECEDENCE.index(route)
        if route == "out_of_scope":
            return False
        if effect.route != route and effect.route not in also:
            return True
        if effect.route == route and _pathway_rank(effect.target, effect.pathway, config) < _pathway_rank(target_key, pathway, config):
            return True
    if effect.safeguarding_level:
        if SAFEGUARDING_LEVELS.index(effect.safeguarding_level) > SAFEGUARDING_LEVELS.index(safeguarding["level"]):
            return True
        if not set(effect.safeguarding_about) <= set(safeguarding["about"]):
            return True
    if effect.consent_basis and safeguarding["consent_basis"] == "unknown":
        return True
    return False


def _shapes_decision(rule: Rule, route: str, also: list[str]) -> bool:
    """A fired rule whose effect shows in the decision (not outranked, not the catch-all)."""
    effect = rule.then
    if effect.route and effect.route != "self_care" and effect.route in (route, *also):
        return True
    return bool(effect.safeguarding_level or effect.consent_basis)


def _missing(rulebook, world, known, partial, fired, route, pathway, target_key, also, safeguarding, config) -> list[str]:
    fired_ids = {r.id for r in fired}
    fired_pairs = {(r.then.route, r.then.pathway) for r in fired if r.then.route}
    wanted: set[str] = set()
    for rule in rulebook.rules:
        if rule.then.asserts and not (rule.then.route or rule.then.safeguarding_level):
            continue  # derived facts matter through the rules that use them
        if rule.then.review:
            continue  # no question is asked to discover a contradiction (FAILSAFE-4)
        value, opens = world[rule.id]
        if value is not None:
            continue
        if rule.id in fired_ids:
            # Fired on an unknown read the urgent way (FAILSAFE-1): the answer may change it.
            if _shapes_decision(rule, route, also):
                wanted |= opens
        elif _would_change(rule, route, pathway, target_key, also, safeguarding, fired_pairs, config):
            wanted |= opens
    specs = facts()
    return sorted((f for f in wanted if (f not in known or f in partial) and not ruled_out(f, known, partial)),
                  key=lambda f: specs[f].rank)


def _settled(rulebook, world, given, known, not_known, partial, status, route, safeguarding) -> bool:
    """PROTOCOL.md 1.1 §4: may a dialogue stop asking? (An emergency is settled at once.)

    Open are only the facts a dialogue may still ask: absent ones not skipped by a follow-up
    gate (FAILSAFE-6 allows a gate only where no answer could escalate), and partial lists.
    Facts answered "don't know" (null) are held at the engine's reading, so they never hold a
    decision open. Each rule still undecided under that reading could fire once the open facts
    are answered (in any combination, Kleene logic over-approximates): if one would give a more
    urgent route (out_of_scope ranks above every route but emergency, so a scope change counts)
    or a higher safeguarding level, the decision is not settled.

    `world` is the evaluation with every unknown fact open (the one `missing` comes from).
    Closing facts only turns undecided rules into decided ones (Kleene logic is monotone), so
    when nothing could escalate there, nothing can with fewer facts open: the second,
    narrower evaluation is needed only when something could.
    """
    if status != "complete" or "age" not in given or "locality" not in given:
        return False
    rank, level = ROUTE_PRECEDENCE.index(route), SAFEGUARDING_LEVELS.index(safeguarding["level"])
    escalating = [rule.id for rule in rulebook.rules if world[rule.id][0] is None and (
        (rule.then.route and ROUTE_PRECEDENCE.index(rule.then.route) < rank)
        or (rule.then.safeguarding_level and SAFEGUARDING_LEVELS.index(rule.then.safeguarding_level) > level))]
    if not escalating:
        return True
    gated = frozenset(f for f in load_follow_ups() if f not in given and ruled_out(f, known, partial))
    askable = _open_world(rulebook, known, partial, not_known | gated)
    return all(askable[rule_id][0] is False for rule_id in escalating)
