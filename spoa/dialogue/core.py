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
        spec = flows.by_fact.get(fact)
        if spec is None:
            raise KeyError(f"no question asks fact {fact!r}")
        if spec.kind == "checklist":
            wanted = [f for f in spec.facts if f in missing and f not in skip and f not in facts]
        else:
            wanted = list(spec.facts)
        shown = {f: facts[f] for f in wanted if f in partial}
        shown.update({f: heard[f] for f in wanted if f in heard and f not in shown})
        return build_question(spec, audience, known_facts(facts), wanted, heard=shown)
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
