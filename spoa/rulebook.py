"""The protocol's rule files (`rules/*.yml`): loaded, checked and parsed into typed rules.

The rule format is ours; the engine sits behind one adapter (spoa/durable_adapter.py). A rule
file is refused, with the file and rule named, when it does not match the schema, uses an
unknown fact, operator value, route, pathway, target, advice key or need, repeats an id, or
matches a derived fact that no rule asserts.

Negation of derived facts is *stratified*: a rule that needs "X does not hold" runs in a later
stratum than every rule asserting X, so the engine has finished deriving X before the rule is
matched (durable-rules does not retract an activation when a negated fact appears later).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml
from jsonschema import Draft202012Validator

from spoa.config import Config
from spoa.vocabulary import SCHEMA_DIR, FactSpec, facts, need_codes, pathways, routes



class RulebookError(ValueError):
    """A rule file that can't be used; the message names the file and rule."""


# --- typed conditions -------------------------------------------------------------------------

@dataclass(frozen=True)
class Leaf:
    """A test on one fact of the contact. `op` is one of the schema's operators."""

    fact: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Derived:
    """A derived fact holds (or, negated, does not hold)."""

    name: str
    negated: bool = False


@dataclass(frozen=True)
class AllOf:
    items: tuple


@dataclass(frozen=True)
class AnyOf:
    items: tuple


Condition = Union[Leaf, Derived, AllOf, AnyOf]


@dataclass(frozen=True)
class Effect:
    """What a rule decides when it fires."""

    asserts: str | None = None
    route: str | None = None
    pathway: str | None = None
    target: str | None = None
    safeguarding_level: str | None = None
    safeguarding_about: tuple = ()
    categories_from_abuse: bool = False
    consent_basis: str | None = None
    advice: tuple = ()
    needs: tuple = ()
    needs_from: str | None = None
    review: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    version: int
    status: str
    source: str
    group: str
    order: int  # position in the rulebook: ties between pathways go to the rule listed first
    when: AllOf | AnyOf
    then: Effect
    file: str
    stratum: int = 0
    facts_used: tuple = ()
    derived_used: tuple = ()
    negated_derived: tuple = ()


@dataclass(frozen=True)
class Rulebook:
    rules: tuple
    version: str
    strata: int
    producers: dict = field(default_factory=dict)  # derived fact -> rules asserting it

    def by_id(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


# --- loading ----------------------------------------------------------------------------------

GROUP_FILES = ("scope", "emerg", "mh", "ucr", "safe", "mdt", "vcs", "self", "failsafe")

_VALIDATOR = Draft202012Validator(json.loads((SCHEMA_DIR / "rule-file.schema.json").read_text(encoding="utf-8")))


def _rule_files(rules_dir: Path) -> list[Path]:
    files = sorted(p for p in rules_dir.glob("*.yml") if p.name != "facts.yml")
    if not files:
        raise RulebookError(f"{rules_dir}: no rule files (*.yml)")
    known = {f"{name}.yml": i for i, name in enumerate(GROUP_FILES)}
    # Protocol order first (it is the tie-break order), any extra groups after, by name.
    return sorted(files, key=lambda p: (known.get(p.name, len(known)), p.name))


def rules_fingerprint(rules_dir: Path, config: Config, extra: bytes = b"") -> str:
    """A hash of the rule files, the asking order and the configuration the rules read."""
    digest = hashlib.sha256()
    for path in [*_rule_files(rules_dir), rules_dir / "facts.yml"]:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    read = {key: config.data.get(key) for key in ("localities", "response_targets", "ucr_hours", "advice", "timezone")}
    digest.update(json.dumps(read, sort_keys=True, default=str).encode())
    digest.update(extra)
    return "rs-" + digest.hexdigest()[:16]


def load_rulebook(rules_dir: str | Path, config: Config, extra_fingerprint: bytes = b"") -> Rulebook:
    rules_dir = Path(rules_dir)
    vocabulary = facts()
    parsed: list[Rule] = []
    seen: dict[str, str] = {}
    for path in _rule_files(rules_dir):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise RulebookError(f"{path.name}: not valid YAML: {error}") from None
        problems = sorted(_VALIDATOR.iter_errors(document), key=lambda e: list(e.absolute_path))
        if problems:
            worst = problems[0]
            where = _rule_where(document, worst.absolute_path)
            raise RulebookError(f"{path.name}{where}: {worst.message} (at {'/'.join(map(str, worst.absolute_path)) or 'top level'})")
        for raw in document["rules"]:
            if raw["id"] in seen:
                raise RulebookError(f"{path.name}: rule {raw['id']}: duplicate id (also in {seen[raw['id']]})")
            seen[raw["id"]] = path.name
            if raw["status"] != "active":
                continue
            where = f"{path.name}: rule {raw['id']}"
            when = _parse_group(raw["when"], where, vocabulary, config)
            then = _parse_effect(raw["then"], where, config)
            used_facts, used_derived, negated = set(), set(), set()
            _collect(when, used_facts, used_derived, negated)
            parsed.append(Rule(
                id=raw["id"], title=raw["title"], version=raw["version"], status=raw["status"],
                source=raw["source"], group=document["group"], order=len(parsed), when=when, then=then,
                file=path.name, facts_used=tuple(sorted(used_facts, key=lambda f: vocabulary[f].rank)),
                derived_used=tuple(sorted(used_derived)), negated_derived=tuple(sorted(negated)),
            ))
    producers: dict[str, list[Rule]] = {}
    for rule in parsed:
        if rule.then.asserts:
            producers.setdefault(rule.then.asserts, []).append(rule)
    for rule in parsed:
        for name in (*rule.derived_used, *rule.negated_derived):
            if name not in producers:
                raise RulebookError(f"{rule.file}: rule {rule.id}: derived fact {name!r} is asserted by no rule")
    strata = _stratify(parsed, producers)
    rules = tuple(_with_stratum(rule, strata[rule.id]) for rule in parsed)
    producers = {name: tuple(r for r in rules if r.then.asserts == name) for name in producers}
    version = rules_fingerprint(rules_dir, config, extra_fingerprint)
    return Rulebook(rules=rules, version=version, strata=max(strata.values()) + 1, producers=producers)


def _rule_where(document: Any, path) -> str:
    path = list(path)
    if len(path) >= 2 and path[0] == "rules" and isinstance(document, dict):
        try:
            return f": rule {document['rules'][path[1]].get('id', '#' + str(path[1]))}"
        except (IndexError, AttributeError, KeyError):
            pass
    return ""


def _with_stratum(rule: Rule, stratum: int) -> Rule:
    return Rule(**{**rule.__dict__, "stratum": stratum})


def _stratify(rules: list[Rule], producers: dict[str, list[Rule]]) -> dict[str, int]:
    """Each rule's stratum: at least that of the producers of what it matches, and one more
    than the producers of what it negates. A cycle through a negation is refused."""
    stratum = {rule.id: 0 for rule in rules}
    for _ in range(len(rules) + 1):
        changed = False
        for rule in rules:
            need = 0
            for name in rule.derived_used:
                need = max(need, *(stratum[p.id] for p in producers[name]))
            for name in rule.negated_derived:
                need = max(need, *(stratum[p.id] + 1 for p in producers[name]))
            if need > stratum[rule.id]:
                stratum[rule.id] = need
                changed = True
        if not changed:
            return stratum
    raise RulebookError(f"{rules[0].file}: the rules negate derived facts in a cycle; they can't be stratified")


def _parse_group(raw: dict, where: str, vocabulary: dict[str, FactSpec], config: Config) -> AllOf | AnyOf:
    (kind, items), = raw.items()
    parsed = tuple(_parse_condition(item, where, vocabulary, config) for item in items)
    if kind == "any":
        for item in parsed:
            if isinstance(item, Derived) or _has_derived(item):
                raise RulebookError(f"{where}: derived facts may only be matched directly under the rule's top-level 'all'")
        return AnyOf(parsed)
    for item in parsed:
        if isinstance(item, (AllOf, AnyOf)) and _has_derived(item):
            raise RulebookError(f"{where}: derived facts may only be matched directly under the rule's top-level 'all'")
    return AllOf(parsed)


def _has_derived(condition: Condition) -> bool:
    if isinstance(condition, Derived):
        return True
    if isinstance(condition, (AllOf, AnyOf)):
        return any(_has_derived(item) for item in condition.items)
    return False


def _parse_condition(raw: dict, where: str, vocabulary: dict[str, FactSpec], config: Config) -> Condition:
    if "all" in raw or "any" in raw:
        return _parse_group(raw, where, vocabulary, config)
    if "derived" in raw:
        return Derived(raw["derived"])
    if "not_derived" in raw:
        return Derived(raw["not_derived"], negated=True)
    name = raw["fact"]
    if name not in vocabulary:
        from spoa.contact import nearest_fact

        hint = nearest_fact(name)
        raise RulebookError(f"{where}: unknown fact {name!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
    spec = vocabulary[name]
    (op, value), = ((k, v) for k, v in raw.items() if k != "fact")
    if op in ("in_config", "not_in_config"):
        if spec.kind != "string":
            raise RulebookError(f"{where}: {op} needs a text fact; {name} is {spec.kind}")
        return Leaf(name, "in" if op == "in_config" else "not_in", tuple(sorted(config.localities)))
    _check_operator(where, spec, op, value)
    return Leaf(name, op, tuple(value) if isinstance(value, list) else value)


_OPS_BY_KIND = {
    "boolean": {"is", "is_not", "known", "unknown"},
    "integer": {"is", "is_not", "gte", "gt", "lte", "lt", "known", "unknown"},
    "string": {"is", "is_not", "in", "not_in", "known", "unknown"},
    "choice": {"is", "is_not", "in", "not_in", "known", "unknown"},
    "multi": {"not_empty", "count_gte", "contains", "known", "unknown"},
}


def _check_operator(where: str, spec: FactSpec, op: str, value: Any) -> None:
    if op not in _OPS_BY_KIND[spec.kind]:
        raise RulebookError(f"{where}: operator {op!r} can't be used on {spec.id} ({spec.kind}); allowed: {', '.join(sorted(_OPS_BY_KIND[spec.kind]))}")
    values = value if isinstance(value, list) else [value]
    for item in values:
        if op in ("known", "unknown", "not_empty", "count_gte", "gte", "gt", "lte", "lt"):
            if op in ("gte", "gt", "lte", "lt") and not isinstance(item, int):
                raise RulebookError(f"{where}: {spec.id} {op} needs a whole number")
            continue
        if spec.kind == "boolean" and not isinstance(item, bool):
            raise RulebookError(f"{where}: {spec.id} is yes/no; got {item!r}")
        if spec.kind == "integer" and (isinstance(item, bool) or not isinstance(item, int)):
            raise RulebookError(f"{where}: {spec.id} is a number; got {item!r}")
        if spec.options and item not in spec.options:
            raise RulebookError(f"{where}: {item!r} is not a value of {spec.id}; allowed: {', '.join(spec.options)}")


def _parse_effect(raw: dict, where: str, config: Config) -> Effect:
    if "route" in raw and raw["route"] not in routes():
        raise RulebookError(f"{where}: unknown route {raw['route']!r}; allowed: {', '.join(routes())}")
    if "pathway" in raw and raw["pathway"] not in pathways():
        raise RulebookError(f"{where}: unknown pathway {raw['pathway']!r}; allowed: {', '.join(pathways())}")
    target = raw.get("target", raw.get("pathway"))
    if "route" in raw and target not in config.data["response_targets"]:
        raise RulebookError(f"{where}: response target {target!r} is not in config.yml response_targets")
    for key in raw.get("advice", ()):
        if key not in config.data["advice"]:
            raise RulebookError(f"{where}: advice {key!r} is not in config.yml advice")
    allowed_needs = set(need_codes())
    for need in raw.get("needs", ()):
        if need not in allowed_needs:
            raise RulebookError(f"{where}: unknown need {need!r}; allowed: {', '.join(sorted(allowed_needs))}")
    safeguarding = raw.get("safeguarding", {})
    return Effect(
        asserts=raw.get("assert"), route=raw.get("route"), pathway=raw.get("pathway"),
        target=target if "route" in raw else None,
        safeguarding_level=safeguarding.get("level"), safeguarding_about=tuple(safeguarding.get("about", ())),
        categories_from_abuse="categories_from" in safeguarding, consent_basis=raw.get("consent_basis"),
        advice=tuple(raw.get("advice", ())), needs=tuple(raw.get("needs", ())),
        needs_from=raw.get("needs_from"), review=raw.get("review"),
    )


def _collect(condition: Condition, used: set, derived: set, negated: set) -> None:
    if isinstance(condition, Leaf):
        used.add(condition.fact)
    elif isinstance(condition, Derived):
        (negated if condition.negated else derived).add(condition.name)
    else:
        for item in condition.items:
            _collect(item, used, derived, negated)
