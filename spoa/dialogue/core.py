"""The dialogue's rules, for the chat and the console alike: what to ask next, what an answer
may change, how facts heard in free text enter, and when to stop. Pure functions.

The facts a dialogue holds follow protocol 1.1: a fact that is absent has not been asked;
`None` means asked and not known ("don't know"), and is never asked again; a list fact
named in `partial` was heard in passing ("at least these items"), and its own question is
asked with those items ticked for the person to confirm or add to.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from spoa import consent
from spoa.dialogue.questions import Flows, Question, build_question
from spoa.vocabulary import facts as vocabulary_facts
from spoa.vocabulary import load_follow_ups

REFERRING_ROUTES = ("rapid_response", "mdt", "voluntary_sector")
CONSENT_FACT = "consent_to_share"


def list_facts() -> set[str]:
    """The contract's list facts (protocol 1.1 partial lists are among these)."""
    return {fact for fact, spec in vocabulary_facts().items() if spec.kind == "multi"}


# ---------------------------------------------------------------------------------------
# What the contact knows, from its fact events

def fold_events(events: Iterable[tuple[str, Any, str]]) -> tuple[dict, list[str]]:
    """(facts, partial) from a contact's fact events (fact, value, source), oldest first.

    The latest value of each fact wins; `None` is kept (asked, not known). A list fact whose
    latest value was read from free text (source "extraction") is partial until answered.
    """
    facts: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for fact, value, source in events:
        facts[fact] = value
        sources[fact] = source
    lists = list_facts()
    partial = [fact for fact in facts if fact in lists and sources[fact] == "extraction"
               and isinstance(facts[fact], list) and facts[fact]]
    return facts, partial


def known_facts(facts: Mapping[str, Any]) -> dict:
    """The facts with a value (what the engine matches)."""
    return {fact: value for fact, value in facts.items() if value is not None}


# ---------------------------------------------------------------------------------------
# Merging a turn: what an answer and the words heard may change

def heard_to_store(known: Mapping[str, Any], heard: Mapping[str, Any]) -> tuple[dict, dict]:
    """(facts to store, facts to confirm) from what was heard in free text.

    Heard values fill facts not yet answered, and may only escalate a known one (a red flag
    said now turns a "no" into a "yes"; more items join a list). A heard list is partial: at
    least these items. A value that would close a question the lower-urgency way is not
    stored: it is returned to be shown with the question, which the person then answers.
    """
    lists = list_facts()
    store: dict = {}
    confirm: dict = {}
    for fact, value in heard.items():
        if value is None:
            continue
        current = known.get(fact)
        if fact in lists:
            if not isinstance(value, list) or not value:
                if fact not in known:
                    confirm[fact] = value
                continue
            base = current if isinstance(current, list) else []
            union = base + [item for item in value if item not in base]
            if union != current:
                store[fact] = union
            continue
        if value is False or value == "none":
            if fact not in known or current is None:
                confirm[fact] = value
            continue
        if fact not in known or current is None or (value is True and current is False):
            store[fact] = value
    return store, confirm


def answer_to_store(known: Mapping[str, Any], answered: Mapping[str, Any], partial: Iterable[str],
                    *, change: bool = False) -> dict:
    """The facts an answer to the question asked may set.

    An answer sets a fact not yet answered, one answered "don't know", or a list heard in
    passing (its own question answers it). It overwrites another known value only when the
    person is changing an answer (`change`), or to escalate (a yes to a red flag after a no):
    a second tab still showing an old question, or "none of these" after a red flag was
    ticked, never undoes what is known. "Don't know" never clears a known value, unless changing.
    """
    partial = set(partial)
    store: dict = {}
    for fact, value in answered.items():
        current = known.get(fact, _ABSENT)
        if change or current is _ABSENT or current is None or fact in partial:
            if value != current or fact in partial:
                store[fact] = value
        elif value is True and current is False:
            store[fact] = value
    return store


_ABSENT = object()


def merge_turn(known: Mapping[str, Any], heard: Mapping[str, Any], answered: Mapping[str, Any],
               partial: Iterable[str], *, change: bool = False) -> tuple[dict, dict, dict]:
    """(facts to store as answered, facts to store as heard, heard facts to confirm) for one turn.

    Between the answer and the words, a heard red flag wins over an answered "no"."""
    partial = list(partial)
    answer = answer_to_store(known, answered, partial, change=change)
    lists = list_facts()
    heard_store, confirm = heard_to_store({**known, **answer}, heard)
    for fact, value in list(answer.items()):
        if heard_store.get(fact) is True and value is False:
            del answer[fact]
    # The answer to a fact's own question settles it; what was heard of it adds to it only
    # when it escalates (handled above), never stores it as partial again.
    for fact in answer:
        if fact in heard_store and fact in lists:
            answer[fact] = heard_store.pop(fact)
        confirm.pop(fact, None)
    return answer, heard_store, confirm


# ---------------------------------------------------------------------------------------
# What to ask next, and when to stop

def is_settled(decision: Mapping[str, Any] | None) -> bool:
    """The dialogue may stop asking (FAILSAFE-6): a 999 decision at once; otherwise the
    engine's `settled`. A decision without `settled` (before protocol 1.1) stops only when
    nothing is missing."""
    if not decision:
        return False
    if decision.get("route") == "emergency":
        return True
    if "settled" in decision:
        return bool(decision["settled"])
    return not decision.get("missing")


def next_fact_question(flows: Flows, decision: Mapping[str, Any], facts: Mapping[str, Any], audience: str,
                       *, partial: Iterable[str] = (), skip: Iterable[str] = (),
                       heard: Mapping[str, Any] | None = None) -> Question | None:
    """The question for the first fact in `missing` still to ask, or None when settled.

    Never a fact answered "don't know" (None) or in `skip`; a known fact only when it is a
    partial list (asked with its heard items ticked). A checklist asks only its facts still
    to ask. `heard` holds values heard in passing and not yet confirmed: shown with the
    question, for the person to confirm.
    """
    if is_settled(decision):
        return None
    skip = set(skip) | {fact for fact, value in facts.items() if value is None}
    partial = set(partial)
    heard = dict(heard or {})
    missing = list(decision.get("missing") or [])
    for fact in missing:
        if fact in skip or (fact in facts and fact not in partial):
            continue
        # A follow-up not yet opened by what is known asks its gate first: "has she fallen?"
        # before "did she get hurt when she fell?", and after "she hasn't fallen", "is she on
        # the floor?" (rules/facts.yml follow_ups; asking more, never less: FAILSAFE-6).
        fact = _gate_first(fact, facts, skip, flows) or fact
        spec = flows.by_fact.get(fact)
        if spec is None:
            raise KeyError(f"no question asks fact {fact!r}")
        if spec.kind == "checklist":
            wanted = [f for f in spec.facts if (f in missing or f == fact) and f not in skip and f not in facts]
        else:
            wanted = list(spec.facts)
        shown = {f: facts[f] for f in wanted if f in partial}
        shown.update({f: heard[f] for f in wanted if f in heard and f not in shown})
        return build_question(spec, audience, known_facts(facts), wanted, heard=shown)
    return None


def _opened(wanted: Any, value: Any) -> bool:
    """Does a parent's known value make its follow-up worth asking (rules/facts.yml)?"""
    if wanted is True:
        return value is True
    if wanted == "any":
        return value is not None
    if wanted == "not_empty":
        return bool(value)
    if isinstance(wanted, dict) and "count_gte" in wanted:
        return isinstance(value, list) and len(value) >= wanted["count_gte"]
    return value == wanted


def _gate_first(fact: str, facts: Mapping[str, Any], skip: set, flows: Flows) -> str | None:
    """The gating fact to ask before `fact`, or None when `fact` is open already (a parent's
    answer opens it) or no gate is left to ask."""
    alternatives = load_follow_ups().get(fact) or ()
    if not alternatives or any(parent in facts and _opened(wanted, facts[parent]) for parent, wanted in alternatives):
        return None
    for parent, _wanted in alternatives:
        if parent not in facts and parent not in skip and parent in flows.by_fact:
            return _gate_first(parent, facts, skip, flows) or parent
    return None


def needs_consent(decision: Mapping[str, Any] | None, facts: Mapping[str, Any]) -> bool:
    """Ask consent_to_share at the end, once settled, when the referral needs it (the rule is
    spoa.consent's, shared with the worklist) and it isn't answered. Never before 999 advice."""
    if not decision or decision.get("route") == "emergency" or CONSENT_FACT in facts:
        return False
    return consent.needs_consent(decision.get("route"), decision, facts)


def next_question(flows: Flows, decision: Mapping[str, Any] | None, facts: Mapping[str, Any], audience: str,
                  *, partial: Iterable[str] = (), skip: Iterable[str] = (),
                  heard: Mapping[str, Any] | None = None) -> Question | None:
    """The next question of the dialogue: a fact the decision still needs, then, once it is
    settled, the end-of-dialogue consent question when a referral follows; None when done."""
    if not decision or decision.get("route") == "emergency":
        return None
    question = next_fact_question(flows, decision, facts, audience, partial=partial, skip=skip, heard=heard)
    if question is not None:
        return question
    if needs_consent(decision, facts) and CONSENT_FACT not in set(skip):
        return build_question(flows.by_fact[CONSENT_FACT], audience, known_facts(facts))
    return None


def needs_contact_details(decision: Mapping[str, Any] | None, callback: bool = False) -> bool:
    """The person's contact details are asked when a referral or a call-back follows (and the
    999 advice, if any, has been given first)."""
    if callback:
        return True
    if not decision or decision.get("route") == "emergency":
        return False
    level = (decision.get("safeguarding") or {}).get("level")
    return decision.get("route") in REFERRING_ROUTES or level in ("referral", "urgent")


def last_answered_question(flows: Flows, events: Iterable[tuple[str, Any, str]],
                           sources: Iterable[str] = ("chat", "console")) -> str | None:
    """The id of the question answered last (its facts' latest answer, not words heard), for
    "change my last answer"."""
    sources = set(sources)
    last = None
    for fact, _value, source in events:
        if source in sources and fact in flows.by_fact:
            last = flows.by_fact[fact].id
    return last


def change_question(flows: Flows, question_id: str, facts: Mapping[str, Any], audience: str) -> Question:
    """A question asked again to change its answer: every item, with the answer given shown."""
    spec = flows.by_id[question_id]
    given = {fact: facts[fact] for fact in spec.facts if fact in facts}
    return build_question(spec, audience, known_facts(facts), list(spec.facts), heard=given)


# ---------------------------------------------------------------------------------------
# The person's contact details, at the end (spoa/person.py checks each answer)

DETAILS_PREFIX = "details."
_PERSON_DETAILS = ("name", "date_of_birth", "address", "postcode", "phone", "nhs_number")
_CALLER_DETAILS = ("caller_name", "caller_phone", "caller_relationship")
# (about the person, when the caller is the person, for the call handler, why)
_DETAIL_WORDS = {
    "name": ("What is the person's full name?", "What is your full name?", "Person's full name?"),
    "date_of_birth": ("What is their date of birth? (for example 3 March 1941)",
                      "What is your date of birth? (for example 3 March 1941)", "Person's date of birth?"),
    "address": ("What is their address (house number and street, town)?",
                "What is your address (house number and street, town)?", "Person's address?"),
    "postcode": ("What is their postcode?", "What is your postcode?", "Person's postcode?"),
    "phone": ("What phone number can the team call them on?", "What phone number can the team call you on?",
              "Person's phone number?"),
    "nhs_number": ("If you know it, what is their NHS number? (Say \"I don't know\" if not.)",
                   "If you know it, what is your NHS number? (Say \"I don't know\" if not.)",
                   "Person's NHS number (if known)?"),
    "caller_name": ("And your own name?", "And your own name?", "Caller's name?"),
    "caller_phone": ("What number can we call you on?", "What number can we call you on?", "Caller's phone?"),
    "caller_relationship": ("How do you know the person (for example daughter, neighbour, GP)?",
                            "How do you know the person?", "Caller's relationship to the person?"),
}
DETAILS_WHY = "So that the team who picks this up can reach the person, and knows who they are."


def detail_fields(facts: Mapping[str, Any]) -> list[str]:
    """The details asked, in order: the person's, then the caller's own when the caller is
    someone else."""
    caller = facts.get("caller")
    return list(_PERSON_DETAILS) + (list(_CALLER_DETAILS) if caller not in (None, "self") else [])


def next_detail_question(decision: Mapping[str, Any] | None, facts: Mapping[str, Any], details: Mapping[str, Any],
                         audience: str, *, asked: Iterable[str] = (), callback: bool = False) -> Question | None:
    """The next contact detail to ask once the questions are over, or None: asked only when
    a referral or a call-back follows (not when the person declined to share: they get the
    advice instead), never before 999 advice, and never twice (a detail asked and not given
    was declined or not known)."""
    if not needs_contact_details(decision, callback):
        return None
    if not callback and consent.referral_withheld(decision.get("route"), decision, facts):
        return None
    asked = set(asked)
    for field in detail_fields(facts):
        qid = DETAILS_PREFIX + field
        if details.get(field) or qid in asked:
            continue
        resident, resident_self, call_handler = _DETAIL_WORDS[field]
        if audience == "call_handler":
            text = call_handler
        else:
            text = resident_self if facts.get("caller") == "self" else resident
        return Question(id=qid, facts=[qid], kind="text", text=text, options=[], why=DETAILS_WHY, audience=audience)
    return None


def detail_field(question_id: str) -> str | None:
    """The detail a question id asks for ("details.postcode" -> "postcode"), or None."""
    if question_id.startswith(DETAILS_PREFIX) and question_id[len(DETAILS_PREFIX):] in _DETAIL_WORDS:
        return question_id[len(DETAILS_PREFIX):]
    return None
