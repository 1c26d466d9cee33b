"""The closed vocabulary: fact ids, their types and options, routes and pathways.

Defined once, from the contract (`spoa/schemas/*.schema.json`) and the asking order in
`rules/facts.yml`. Rule files, flows and the dialogue may use only these names, so a typo
fails at start-up and not in a call.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

SCHEMA_DIR = Path(__file__).parent / "schemas"
DEFAULT_FACTS_FILE = Path(__file__).resolve().parent.parent / "rules" / "facts.yml"

# Most urgent first (PROTOCOL.md §1). out_of_scope replaces every route but emergency.
ROUTE_PRECEDENCE = ("emergency", "out_of_scope", "rapid_response", "mdt", "voluntary_sector", "self_care")
ALSO_ROUTES = ("rapid_response", "mdt", "voluntary_sector")
SAFEGUARDING_LEVELS = ("none", "concern", "referral", "urgent")  # least to most urgent

# Within one route, ties on response target go to the pathway listed first (PROTOCOL.md §1).
PATHWAY_ORDER = (
    "ambulance", "police", "ucr", "mental_health_crisis", "complex_care", "care_act_assessment",
    "carer_assessment", "end_of_life", "post_discharge", "safeguarding", "community_support",
    "information", "children_services", "other_area",
)

EMERGENCY_SCREEN = (
    "unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs", "severe_bleeding",
    "seizure_ongoing", "severe_allergic_reaction", "serious_injury", "overdose_or_self_harm",
    "immediate_danger",
)


@dataclass(frozen=True)
class FactSpec:
    """One fact of the contract: its type, options and place in the asking order."""

    id: str
    kind: str  # boolean | integer | string | choice | multi
    options: tuple = ()
    minimum: int | None = None
    maximum: int | None = None
    description: str = ""
    group: str = ""
    rank: int = 0  # position in the asking order

    @property
    def is_array(self) -> bool:
        return self.kind == "multi"


def _kind_and_options(spec: dict) -> tuple[str, tuple]:
    if "enum" in spec:
        return "choice", tuple(v for v in spec["enum"] if v is not None)
    types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    if "array" in types:
        return "multi", tuple(spec["items"]["enum"])
    for name in ("boolean", "integer", "string"):
        if name in types:
            return name, ()
    raise ValueError(f"unsupported fact type {spec}")


@lru_cache(maxsize=None)
def contact_schema() -> dict:
    return json.loads((SCHEMA_DIR / "contact.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def decision_schema() -> dict:
    return json.loads((SCHEMA_DIR / "decision.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def routes() -> tuple[str, ...]:
    return tuple(decision_schema()["properties"]["route"]["enum"])


@lru_cache(maxsize=None)
def pathways() -> tuple[str, ...]:
    return tuple(decision_schema()["properties"]["pathway"]["enum"])


@lru_cache(maxsize=None)
def abuse_categories() -> tuple[str, ...]:
    return tuple(decision_schema()["properties"]["safeguarding"]["properties"]["categories"]["items"]["enum"])


class VocabularyError(ValueError):
    pass


@lru_cache(maxsize=None)
def load_facts(facts_file: str | Path = DEFAULT_FACTS_FILE) -> dict[str, FactSpec]:
    """Every fact of the contract, in asking order, with its group.

    Refuses a facts file that misses a contract fact, names an unknown one or names one twice.
    """
    properties = contact_schema()["properties"]["facts"]["properties"]
    groups = yaml.safe_load(Path(facts_file).read_text(encoding="utf-8"))["groups"]
    ordered: dict[str, FactSpec] = {}
    for group in groups:
        for fact_id in group["facts"]:
            if fact_id not in properties:
                raise VocabularyError(f"{facts_file}: group {group['id']} names unknown fact {fact_id!r}")
            if fact_id in ordered:
                raise VocabularyError(f"{facts_file}: fact {fact_id!r} is listed twice")
            spec = properties[fact_id]
            kind, options = _kind_and_options(spec)
            ordered[fact_id] = FactSpec(
                id=fact_id, kind=kind, options=options, minimum=spec.get("minimum"),
                maximum=spec.get("maximum"), description=spec.get("description", ""),
                group=group["id"], rank=len(ordered),
            )
    unplaced = sorted(set(properties) - set(ordered))
    if unplaced:
        raise VocabularyError(f"{facts_file}: facts with no place in the asking order: {', '.join(unplaced)}")
    return ordered


@lru_cache(maxsize=None)
def load_follow_ups(facts_file: str | Path = DEFAULT_FACTS_FILE) -> dict[str, tuple]:
    """fact -> the (parent fact, wanted value) alternatives that make it worth asking."""
    document = yaml.safe_load(Path(facts_file).read_text(encoding="utf-8"))
    known = load_facts(facts_file)
    follow_ups = {}
    for fact_id, alternatives in (document.get("follow_ups") or {}).items():
        pairs = tuple(next(iter(alternative.items())) for alternative in alternatives)
        for parent, _ in pairs:
            if fact_id not in known or parent not in known:
                raise VocabularyError(f"{facts_file}: follow_ups names an unknown fact ({fact_id} or {parent})")
        follow_ups[fact_id] = pairs
    return follow_ups


def _worth_asking_after(parent: str, wanted, known: dict, partial: frozenset) -> bool | None:
    """True/False once the parent is known; None while it is unknown and still askable, or a
    partial list (protocol 1.1: at least these items) that more items could still make worth it."""
    if parent not in known:
        return False if ruled_out(parent, known, partial) else None
    value = known[parent]
    if wanted == "not_empty":
        held = bool(value)
    elif isinstance(wanted, dict):
        held = len(value) >= wanted["count_gte"]
    else:
        held = wanted == "any" or value == wanted
    return None if not held and parent in partial else held


def ruled_out(fact_id: str, known: dict, partial: frozenset = frozenset()) -> bool:
    """A follow-up none of whose parent facts can make it worth asking any more (a gate).

    `known` holds only facts with a value: a parent answered "don't know" (null) can't be asked
    again, so its follow-ups stay askable. FAILSAFE-6: a gate may skip a question only when no
    answer to it could make the route more urgent or raise the safeguarding level
    (tests/test_properties.py checks every gate).
    """
    alternatives = load_follow_ups().get(fact_id)
    if not alternatives:
        return False
    return all(_worth_asking_after(parent, wanted, known, partial) is False for parent, wanted in alternatives)


def facts() -> dict[str, FactSpec]:
    """The default vocabulary (rules/facts.yml), loaded on first use."""
    return load_facts()


def need_codes() -> tuple[str, ...]:
    """The service directory's taxonomy codes the VCS rules may ask for: befriending (VCS-1),
    prevention (VCS-3), carer support (VCS-4) and every kind of practical help (VCS-2)."""
    own = ("befriending", "prevention", "carer_support")
    return own + tuple(code for code in facts()["practical_help"].options if code not in own)
