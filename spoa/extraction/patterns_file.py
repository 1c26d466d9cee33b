"""Fact patterns as data: loading and checking `spoa/extraction/patterns/*.yml`.

A pattern file holds a list under `patterns:`. Each pattern names the facts it sets and how it
matches, and is checked against the contact schema at load, so a typo in a fact id or value
fails at start-up, not during a call (as medspaCy checks its rule files):

    - id: chest_pain.pain_in_chest        # unique; reported as evidence "rule"
      set: {chest_pain: true}             # fact -> value; an array fact takes one item
      phrases: ["{pain|pains} in {his|her|my|the} chest"]   # {a|b|} expands; matched on NORM
      tokens: [[{NORM: aged}, {LIKE_NUM: true}]]           # spaCy Matcher patterns, optional
      negation: flip                      # flip (default) | ignore | drop
      when_negated: {fall_injury: none}   # explicit values when negated (instead of flip)
      keep_in: [historical]               # contexts that do NOT set the match aside (by default
                                          # hypothetical, asking, historical, uncertain, other_person do)
      drop_in: [deceased]                 # extra contexts that DO set it aside
      person_scoped: true                 # may be about someone else (default true)
      not_followed_by: [stairs, "the stairs"]
      not_preceded_by: [blood]
      value_from: number                  # number | topic: the value comes from the text
      requires: [fallen]                  # kept only if these facts end up true
      only_in: [about_carer]              # counts only in one of these contexts

Phrases are matched on spaCy's NORM attribute, which folds contractions: "can't", "cant",
"cannot" and "can not" all read "can not"; "isn't" reads "is not".
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PATTERNS_DIR = Path(__file__).parent / "patterns"
SCHEMA_PATH = Path(__file__).parents[1] / "schemas" / "contact.schema.json"
# caller_own: the phrase names the caller ("I'm 79", "hurt my back"); caller_near: the nearest
# person before it is the caller. The extractor sets these aside when the caller is not the person.
# about_carer: the phrase is about the person's named carer ("dad looks after mum but he's in
# hospital"); it also marks other_person.
CONTEXTS = ("hypothetical", "asking", "historical", "uncertain", "other_person", "deceased",
            "caller_own", "caller_near", "about_carer")
DEFAULT_DROP = frozenset({"hypothetical", "asking", "historical", "uncertain", "other_person"})
PATTERN_KEYS = {
    "id", "set", "phrases", "tokens", "negation", "when_negated", "keep_in", "drop_in",
    "person_scoped", "not_followed_by", "not_preceded_by", "value_from", "requires", "note", "only_in",
}


class PatternError(ValueError):
    """A pattern file breaks the pattern format or names a fact or value the contract lacks."""


@dataclass(frozen=True)
class Pattern:
    id: str
    sets: dict[str, Any]
    phrases: tuple[str, ...] = ()  # templates, as written ("{pain|pains} in {his|her} chest")
    tokens: tuple[tuple[dict, ...], ...] = ()
    negation: str = "flip"
    when_negated: dict[str, Any] = field(default_factory=dict)
    drop_in: frozenset[str] = DEFAULT_DROP
    person_scoped: bool = True
    not_followed_by: tuple[str, ...] = ()
    not_preceded_by: tuple[str, ...] = ()
    value_from: str | None = None
    requires: tuple[str, ...] = ()
    only_in: frozenset[str] = frozenset()


def fact_schemas(path: Path = SCHEMA_PATH) -> dict[str, dict]:
    """The contract's fact ids and their JSON schemas."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)["properties"]["facts"]["properties"]


def expand(phrase: str) -> list[str]:
    """All the phrases a `{a|b|}` template stands for. Choices nest; an empty option makes a
    word optional: "{lives|living} {alone|on {her|his} own}" is six phrases."""
    options, end = _sequence(phrase, 0)
    if end != len(phrase):
        raise PatternError(f"unmatched '{phrase[end]}' in {phrase!r}")
    expanded = dict.fromkeys(" ".join(option.split()) for option in options)
    return [text for text in expanded if text]


def template_parts(template: str) -> list[str | list[str]] | None:
    """The template as literal text and choices (each choice's options expanded), or None
    where a choice is glued to a word ("stop{ping|}"): only whole expansion reads that."""
    parts: list[str | list[str]] = []
    i = 0
    while i < len(template):
        if template[i] == "{":
            options, end = _choice(template, i + 1)
            before = template[i - 1] if i else " "
            after = template[end] if end < len(template) else " "
            if not (before.isspace() and after.isspace()):
                return None
            parts.append([" ".join(option.split()) for option in options])
            i = end
        else:
            end = i
            while end < len(template) and template[end] not in "{|}":
                end += 1
            if end < len(template) and template[end] != "{":
                raise PatternError(f"unmatched '{template[end]}' in {template!r}")
            parts.append(template[i:end])
            i = end
    return parts


def _sequence(text: str, i: int) -> tuple[list[str], int]:
    out = [""]
    while i < len(text) and text[i] not in "|}":
        if text[i] == "{":
            options, i = _choice(text, i + 1)
            out = [left + right for left in out for right in options]
        else:
            j = i
            while j < len(text) and text[j] not in "{|}":
                j += 1
            out = [left + text[i:j] for left in out]
            i = j
    return out, i


def _choice(text: str, i: int) -> tuple[list[str], int]:
    options: list[str] = []
    while True:
        sequence, i = _sequence(text, i)
        options.extend(sequence)
        if i >= len(text):
            raise PatternError(f"unclosed '{{' in {text!r}")
        if text[i] == "}":
            return options, i + 1
        i += 1  # past "|"


def check_value(fact: str, value: Any, schemas: dict[str, dict], where: str) -> None:
    """Raise PatternError unless the contract allows `value` for `fact` (one item for arrays)."""
    if fact not in schemas:
        raise PatternError(f"{where}: unknown fact {fact!r}")
    schema = schemas[fact]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "array" in types:
        allowed = schema["items"]["enum"]
        if value not in allowed:
            raise PatternError(f"{where}: {fact} has no item {value!r} (allowed: {allowed})")
    elif "enum" in schema:
        if value not in schema["enum"] or value is None:
            raise PatternError(f"{where}: {fact} has no value {value!r}")
    elif "boolean" in types:
        if not isinstance(value, bool):
            raise PatternError(f"{where}: {fact} takes true or false, not {value!r}")
    else:
        raise PatternError(f"{where}: {fact} takes a value from the text; use value_from")


def _pattern(raw: dict, schemas: dict[str, dict], where: str) -> Pattern:
    unknown = set(raw) - PATTERN_KEYS
    if unknown:
        raise PatternError(f"{where}: unknown keys {sorted(unknown)}")
    if "id" not in raw or "set" not in raw or not isinstance(raw["set"], dict):
        raise PatternError(f"{where}: a pattern needs an id and a `set` mapping")
    where = f"{where} ({raw['id']})"
    value_from = raw.get("value_from")
    if value_from not in (None, "number", "topic"):
        raise PatternError(f"{where}: value_from must be number or topic")
    for fact, value in raw["set"].items():
        if value_from and value == value_from:
            if fact not in schemas:
                raise PatternError(f"{where}: unknown fact {fact!r}")
            continue
        check_value(fact, value, schemas, where)
    for fact, value in (raw.get("when_negated") or {}).items():
        check_value(fact, value, schemas, where)
    for fact in raw.get("requires", []):
        if fact not in schemas:
            raise PatternError(f"{where}: requires unknown fact {fact!r}")
    if not raw.get("phrases") and not raw.get("tokens"):
        raise PatternError(f"{where}: a pattern needs phrases or tokens")
    negation = raw.get("negation", "flip")
    if negation not in ("flip", "ignore", "drop"):
        raise PatternError(f"{where}: negation must be flip, ignore or drop")
    for key in ("keep_in", "drop_in"):
        bad = set(raw.get(key, [])) - set(CONTEXTS)
        if bad:
            raise PatternError(f"{where}: unknown contexts {sorted(bad)} in {key}")
    bad = set(raw.get("only_in", [])) - set(CONTEXTS)
    if bad:
        raise PatternError(f"{where}: unknown contexts {sorted(bad)} in only_in")
    drop = (DEFAULT_DROP - set(raw.get("keep_in", []))) | set(raw.get("drop_in", []))
    if not all(isinstance(phrase, str) for phrase in raw.get("phrases", [])):
        raise PatternError(f"{where}: phrases must be strings (a YAML alias of a list nests it)")
    phrases = tuple(raw.get("phrases", []))
    for phrase in phrases:
        template_parts(phrase)  # a malformed template fails here, at load
    return Pattern(
        id=str(raw["id"]),
        sets=dict(raw["set"]),
        phrases=phrases,
        tokens=tuple(tuple(token_pattern) for token_pattern in raw.get("tokens", [])),
        negation=negation,
        when_negated=dict(raw.get("when_negated") or {}),
        drop_in=frozenset(drop),
        person_scoped=bool(raw.get("person_scoped", True)),
        not_followed_by=tuple(text for phrase in raw.get("not_followed_by", []) for text in expand(phrase)),
        not_preceded_by=tuple(text for phrase in raw.get("not_preceded_by", []) for text in expand(phrase)),
        value_from=value_from,
        requires=tuple(raw.get("requires", [])),
        only_in=frozenset(raw.get("only_in", [])),
    )


def load_patterns(directory: Path = PATTERNS_DIR, schema_path: Path = SCHEMA_PATH) -> list[Pattern]:
    """Every fact pattern in `directory/*.yml` (context.yml holds triggers, not patterns)."""
    schemas = fact_schemas(schema_path)
    patterns: list[Pattern] = []
    seen: set[str] = set()
    for path in sorted(Path(directory).glob("*.yml")):
        if path.name == "context.yml":
            continue
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        for index, raw in enumerate(data.get("patterns", [])):
            pattern = _pattern(raw, schemas, f"{path.name} pattern {index + 1}")
            if pattern.id in seen:
                raise PatternError(f"{path.name}: duplicate pattern id {pattern.id!r}")
            seen.add(pattern.id)
            patterns.append(pattern)
    return patterns


def load_context(directory: Path = PATTERNS_DIR) -> dict[str, Any]:
    """The context triggers (negation termset, hypothetical, historical, ...) from context.yml."""
    with (Path(directory) / "context.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)
