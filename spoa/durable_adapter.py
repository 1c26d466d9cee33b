"""The one module that talks to durable-rules.

The rulebook (spoa/rulebook.py) is compiled into one durable-rules ruleset per stratum.
Evaluating a contact asserts it as a fact into stratum 0; rules that fire record themselves
and assert derived facts, which other rules match (forward chaining in the engine). The
derived facts are carried into the next stratum, whose rules may also test that a derived fact
does *not* hold.

durable-rules 2.0.28 (last released in 2020) has traps, each handled here and tested in
tests/test_durable_adapter.py:
- its default Host starts background dispatch threads that crashed the process when several
  threads evaluated one ruleset: `_QuietHost` starts none, and a lock serialises evaluation;
- a ruleset holds at most 1,024 open sessions (then MemoryError, later a segfault): each
  evaluation has its own session id and its state is deleted afterwards;
- strings compare with numbers without error (`'abc' >= 75` is true): `_engine_fact` refuses
  any value whose type does not match the vocabulary, so only typed facts reach it;
- an exception inside a rule's action is swallowed into the session state: it is checked
  after every stratum and raised as EngineError;
- a ruleset name can't be registered twice: rulesets are named by ruleset version and
  compiled once per process (`compile_rulebook` caches them).
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from durable import engine as _durable

from spoa.rulebook import AllOf, Derived, Leaf, Rule, Rulebook
from spoa.vocabulary import facts as vocabulary


class EngineError(RuntimeError):
    """The rules engine failed to evaluate a contact."""


class EngineInputError(TypeError):
    """A fact of the wrong type reached the adapter (it must be validated first)."""


class _QuietHost(_durable.Host):
    """A durable-rules host without the background dispatch and timer threads.

    Our rulesets use no timers and every action runs synchronously inside assert_facts, so
    the threads only add the crashes described above.
    """

    def _run(self):  # noqa: D401 - overriding the thread start-up
        return None


_HOST: _QuietHost | None = None
_LOCK = threading.Lock()
_COMPILED: dict[str, "EngineRuleset"] = {}
_SESSION_IDS = itertools.count(1)


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


@dataclass(frozen=True)
class EngineResult:
    """What the engine did for one contact: rules fired (in order) and derived facts."""

    fired: tuple
    derived: frozenset


def _count_key(fact_id: str) -> str:
    return f"n__{fact_id}"


def _engine_fact(facts: dict) -> dict:
    """The contact as one durable-rules fact; arrays also carry their length."""
    specs = vocabulary()
    message = {"t": "contact"}
    for fact_id, value in facts.items():
        if value is None:
            continue
        spec = specs.get(fact_id)
        if spec is None:
            raise EngineInputError(f"unknown fact {fact_id!r} reached the engine")
        ok = {
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "string": isinstance(value, str),
            "choice": isinstance(value, str) and value in spec.options,
            "multi": isinstance(value, list) and all(item in spec.options for item in value),
        }[spec.kind]
        if not ok:
            raise EngineInputError(f"fact {fact_id!r} has a value of the wrong type: {value!r}")
        message[fact_id] = value
        if spec.kind == "multi":
            message[_count_key(fact_id)] = len(value)
    return message


# --- compiling conditions to durable-rules JSON ---------------------------------------------

def _leaf(leaf: Leaf) -> dict:
    name, op, value = leaf.fact, leaf.op, leaf.value
    spec = vocabulary()[name]
    if op == "is":
        return {name: value}
    if op == "is_not":
        # Unknown counts as "not": the rules use this where unknown must not lower urgency.
        others = [o for o in ((True, False) if spec.kind == "boolean" else spec.options) if o != value]
        if others:
            return {"$or": [{"$nex": {name: 1}}, *({name: o} for o in others)]}
        return {"$or": [{"$nex": {name: 1}}, {"$neq": {name: value}}]}
    if op == "in":
        return {"$or": [{name: v} for v in value]}
    if op == "not_in":
        return {"$and": [{"$neq": {name: v}} for v in value]}  # absent never matches $neq
    if op in ("gte", "gt", "lte", "lt"):
        return {f"${op}": {name: value}}
    if op == "known":
        return {"$ex": {name: 1}}
    if op == "unknown":
        return {"$nex": {name: 1}}
    if op == "not_empty":
        return {"$gte": {_count_key(name): 1}}
    if op == "count_gte":
        return {"$gte": {_count_key(name): value}}
    if op == "contains":
        return {"$iany": {name: {"$i": value}}}
    raise EngineError(f"operator {op!r} has no durable-rules form")


def _expression(condition) -> dict:
    if isinstance(condition, Leaf):
        return _leaf(condition)
    parts = [_expression(item) for item in condition.items]
    return {"$and" if isinstance(condition, AllOf) else "$or": parts}


def _rule_definition(rule: Rule) -> dict:
    when = rule.when
    joins, leaves = [], []
    for item in (when.items if isinstance(when, AllOf) else (when,)):
        if isinstance(item, Derived):
            joins.append(item)
        else:
            leaves.append(item)
    contact = [{"t": "contact"}, *(_expression(item) for item in leaves)]
    matches = [{"contact": {"$and": contact}}]
    for index, derived in enumerate(joins):
        key = f"d{index}$not" if derived.negated else f"d{index}"
        matches.append({key: {"$and": [{"t": "derived"}, {"name": derived.name}]}})
    return {"all": matches}


class EngineRuleset:
    """A rulebook compiled into durable-rules rulesets, one per stratum."""

    def __init__(self, rulebook: Rulebook):
        self.version = rulebook.version
        self._names = [f"spoa_{rulebook.version}_s{k}" for k in range(rulebook.strata)]
        self._current: list | None = None
        self._asserts = {rule.id: rule.then.asserts for rule in rulebook.rules if rule.then.asserts}
        # Only the derived facts a stratum matches are carried into it: a fact no rule of a
        # ruleset can match is refused by durable-rules, and such refusals preceded crashes.
        self._consumes = [set() for _ in self._names]
        for rule in rulebook.rules:
            self._consumes[rule.stratum].update(rule.derived_used, rule.negated_derived)
        # Every stratum gets a rule that always fires: deleting the state of a session in
        # which no action ran crashed durable-rules 2.0.28 now and then (free(): invalid
        # pointer, about 1 process in 10); with an action run in every session it does not.
        # (A stratum holding a rule with no conditions, like SELF-1, already has one.)
        always = {rule.stratum for rule in rulebook.rules if isinstance(rule.when, AllOf) and not rule.when.items}
        definitions = {name: {} if k in always else {"__stratum_seen": {"all": [{"contact": {"t": "contact"}}], "run": _no_op}}
                       for k, name in enumerate(self._names)}
        for rule in rulebook.rules:
            definition = _rule_definition(rule)
            definition["run"] = self._action(rule)
            definitions[self._names[rule.stratum]][rule.id] = definition
        _host().register_rulesets(definitions)

    def _action(self, rule: Rule):
        rule_id = rule.id
        # Assert in this session only what this stratum matches; later strata get it carried.
        asserts = rule.then.asserts if rule.then.asserts in self._consumes[rule.stratum] else None

        def action(c):
            self._current.append(rule_id)
            if asserts:
                try:
                    c.assert_fact({"t": "derived", "name": asserts, "by": rule_id, "sid": c.s.sid})
                except (_durable.MessageNotHandledException, _durable.MessageObservedException):
                    pass  # no rule in this stratum matches it (later strata get it), or already known

        return action

    def run(self, facts: dict) -> EngineResult:
        """Evaluate validated facts. Thread-safe: evaluations are serialised."""
        contact = _engine_fact(facts)
        host = _host()
        with _LOCK:
            fired: list[str] = []
            derived: dict[str, str] = {}
            self._current = fired
            try:
                for name, consumes in zip(self._names, self._consumes):
                    sid = str(next(_SESSION_IDS))
                    # Derived facts first: a negated match must see them before the contact
                    # arrives, or durable-rules would already have queued the activation.
                    batch = [{"t": "derived", "name": d, "by": by, "sid": sid}
                             for d, by in derived.items() if d in consumes]
                    batch.append(dict(contact, sid=sid))
                    try:
                        start = len(fired)
                        host.assert_facts(name, batch)
                        state = host.get_state(name, sid)
                    except _durable.MessageNotHandledException:
                        state = {}
                    finally:
                        _delete(host, name, sid)
                    if state.get("exception"):
                        raise EngineError(f"a rule's action failed in {name}: {state['exception'][:300]}")
                    for fact in self._derived_since(fired, start):
                        derived.setdefault(fact[0], fact[1])
            finally:
                self._current = None
        return EngineResult(fired=tuple(dict.fromkeys(fired)), derived=frozenset(derived))

    def _derived_since(self, fired: list[str], start: int):
        for rule_id in fired[start:]:
            name = self._asserts.get(rule_id)
            if name:
                yield name, rule_id


def _no_op(c) -> None:
    return None


def _delete(host: _QuietHost, name: str, sid: str) -> None:
    try:
        host.delete_state(name, sid)
    except Exception:  # a session that never opened has nothing to delete
        pass


def compile_rulebook(rulebook: Rulebook) -> EngineRuleset:
    """The compiled rulesets for this rulebook version, compiled once per process."""
    with _LOCK:
        compiled = _COMPILED.get(rulebook.version)
        if compiled is None:
            compiled = EngineRuleset(rulebook)
            _COMPILED[rulebook.version] = compiled
        return compiled
