"""The questions: loading `flows/*.yml` and building a question for one audience.

`flows/*.yml` holds, for every fact in the contract, the question in resident wording (web
chat) and call-handler wording (console), its answer kind and options, and why it is asked.
Which question comes next is the dialogue's (spoa.dialogue.core); reading the answer is
spoa.dialogue.answers.

Everything here is pure except `load_flows`, which reads the files once at start-up and
refuses any fact id that is not in the contract (a typo fails at start-up, not in a call).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from rapidfuzz import fuzz, process

from spoa.vocabulary import FactSpec
from spoa.vocabulary import facts as vocabulary_facts

KINDS = ("boolean", "number", "choice", "multi", "text", "checklist")
AUDIENCES = ("resident", "call_handler")
ABOUT = ("person", "carer")
# The caller who is the one a question is about, by the question's `about`.
_ANSWERING_FOR_SELF = {"person": "self", "carer": "unpaid_carer"}
NONE = "none"          # option value: none of these (checklist, multi)
UNKNOWN = "unknown"    # option value: don't know (every kind with options)

_QUESTION_KEYS = {"id", "kind", "facts", "resident", "resident_self", "call_handler", "why",
                  "options", "none_label", "none_label_self", "unit", "place", "presumes", "about"}
_OPTION_KEYS = {"value", "label", "label_self", "call_handler", "synonyms"}
_REQUIRED_KEYS = ("id", "kind", "facts", "resident", "call_handler", "why")


class FlowError(ValueError):
    """A flow file is invalid; the message names the file and the question."""

    def __init__(self, message: str, file: str | None = None, question: str | None = None):
        where = ": ".join(part for part in (file, f"question {question!r}" if question else None) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.question = question


# ---------------------------------------------------------------------------------------
# The contract's facts, and the loaded flows

def contract_facts() -> dict[str, FactSpec]:
    """The facts of the contract, in asking order: the closed vocabulary (spoa.vocabulary)."""
    return vocabulary_facts()


@dataclass(frozen=True)
class OptionSpec:
    value: Any
    label: str
    label_self: str | None = None
    call_handler: str | None = None
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionSpec:
    """A question as written in a flow file (both wordings)."""
    id: str
    kind: str
    facts: tuple[str, ...]
    resident: str
    call_handler: str
    why: str
    resident_self: str | None = None
    options: tuple[OptionSpec, ...] = ()
    none_label: str | None = None
    none_label_self: str | None = None
    unit: str | None = None
    place: bool = False
    minimum: int | None = None
    maximum: int | None = None
    file: str = ""
    # A follow-up presumes another fact ("did she get hurt when she fell?" presumes a fall):
    # a denial of it ("she hasn't fallen") answers that fact instead (spoa.dialogue.answers).
    presumes: str | None = None
    presumes_words: tuple[str, ...] = ()
    # Whose situation the question asks about: "person" (the person the contact is about) or
    # "carer" (an unpaid carer's own needs). The "_self" wordings ("you") are used when the
    # one asked about is the one answering: the caller "self", or for "carer", an unpaid carer.
    about: str = "person"


@dataclass(frozen=True)
class Flows:
    """Every question, in the order of the flow files; each fact is asked by exactly one."""
    questions: tuple[QuestionSpec, ...]
    by_fact: Mapping[str, QuestionSpec]
    by_id: Mapping[str, QuestionSpec]
    facts: Mapping[str, FactSpec]


# ---------------------------------------------------------------------------------------
# The question as asked

@dataclass(frozen=True)
class Question:
    """One question for one audience, asking `facts` (a checklist asks only its unknown ones).

    `options` are {value, label, key}; `key` is the call handler's keyboard key (Y/N/U for
    boolean, digits for options, N for none of these, U for don't know).
    """
    id: str
    facts: list[str]
    kind: str
    text: str
    options: list[dict]
    why: str
    audience: str = "resident"
    unit: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    place: bool = False
    spec: QuestionSpec | None = field(default=None, repr=False, compare=False)
    # What is already known of these facts, shown pre-ticked for the person to confirm or
    # add to (a list heard in passing, protocol 1.1 partial lists; the answer being changed).
    heard: dict | None = None

    def to_dict(self) -> dict:
        """The JSON the chat channel and the console send: {"ask": [...], "kind", "options"...}."""
        data = {"id": self.id, "ask": list(self.facts), "kind": self.kind, "text": self.text,
                "options": [dict(option) for option in self.options], "why": self.why}
        if self.kind == "number":
            data.update(unit=self.unit, minimum=self.minimum, maximum=self.maximum)
        if self.place:
            data["place"] = True
        if self.heard:
            data["heard"] = dict(self.heard)
        return data


# ---------------------------------------------------------------------------------------
# Loading

def load_flows(flows_dir: str | Path = "flows", facts: Mapping[str, FactSpec] | None = None) -> Flows:
    """Read and check every `*.yml` in `flows_dir` (in file-name order) against the contract.

    `facts` defaults to the contract's facts (`contract_facts()`).
    """
    flows_dir = Path(flows_dir)
    files = sorted(flows_dir.glob("*.yml"))
    if not files:
        raise FlowError(f"no flow files (*.yml) in {flows_dir}")
    facts = dict(facts) if facts is not None else contract_facts()
    questions: list[QuestionSpec] = []
    by_id: dict[str, QuestionSpec] = {}
    by_fact: dict[str, QuestionSpec] = {}
    for path in files:
        name = str(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise FlowError(f"not valid YAML: {error}", name) from None
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            raise FlowError("expected a mapping with a 'questions' list", name)
        extra = set(data) - {"questions"}
        if extra:
            raise FlowError(f"unknown top-level key(s): {', '.join(sorted(extra))}", name)
        for index, raw in enumerate(data["questions"]):
            spec = _read_question(raw, index, name, facts)
            if spec.id in by_id:
                raise FlowError(f"duplicate question id (also in {by_id[spec.id].file})", name, spec.id)
            for fact in spec.facts:
                if fact in by_fact:
                    raise FlowError(f"fact {fact!r} is already asked by question "
                                    f"{by_fact[fact].id!r} ({by_fact[fact].file})", name, spec.id)
                by_fact[fact] = spec
            by_id[spec.id] = spec
            questions.append(spec)
    unasked = [fact for fact in facts if fact not in by_fact]
    if unasked:
        raise FlowError(f"no question asks these facts of the contract: {', '.join(unasked)}", str(flows_dir))
    return Flows(tuple(questions), by_fact, by_id, facts)


def _nearest(word: str, choices: Iterable[str]) -> str:
    match = process.extractOne(word, list(choices), scorer=fuzz.ratio)
    return f" (did you mean {match[0]!r}?)" if match and match[1] >= 60 else ""


def _read_question(raw: Any, index: int, file: str, facts: Mapping[str, FactSpec]) -> QuestionSpec:
    if not isinstance(raw, dict):
        raise FlowError(f"question #{index + 1} is not a mapping", file)
    qid = raw.get("id")
    if not isinstance(qid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", qid):
        raise FlowError(f"question #{index + 1} needs a snake_case 'id' (got {qid!r})", file)

    def fail(message: str) -> FlowError:
        return FlowError(message, file, qid)

    unknown_keys = set(raw) - _QUESTION_KEYS
    if unknown_keys:
        key = sorted(unknown_keys)[0]
        raise fail(f"unknown key {key!r}{_nearest(key, _QUESTION_KEYS)}")
    for key in _REQUIRED_KEYS:
        if raw.get(key) in (None, "", []):
            raise fail(f"missing {key!r}")
    for key in ("resident", "resident_self", "call_handler", "why", "none_label", "none_label_self", "unit"):
        if key in raw and not isinstance(raw[key], str):
            raise fail(f"{key!r} must be text")
    kind = raw["kind"]
    if kind not in KINDS:
        raise fail(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
    fact_ids = raw["facts"]
    if not isinstance(fact_ids, list) or not all(isinstance(f, str) for f in fact_ids):
        raise fail("'facts' must be a list of fact ids")
    for fact in fact_ids:
        if fact not in facts:
            raise fail(f"unknown fact {fact!r}{_nearest(fact, facts)}")
    if len(set(fact_ids)) != len(fact_ids):
        raise fail("a fact is listed twice")
    if kind == "checklist":
        if len(fact_ids) < 2:
            raise fail("a checklist asks two or more facts")
    elif len(fact_ids) != 1:
        raise fail(f"a {kind} question asks exactly one fact")

    types = {fact: facts[fact].kind for fact in fact_ids}
    first = facts[fact_ids[0]]
    allowed_types = {"boolean": {"boolean"}, "checklist": {"boolean"}, "number": {"integer"},
                     "choice": {"choice", "integer"}, "multi": {"multi"}, "text": {"string"}}[kind]
    for fact, fact_type in types.items():
        if fact_type not in allowed_types:
            raise fail(f"fact {fact!r} is {fact_type} in the contract; a {kind} question can't ask it")
    if raw.get("about", "person") not in ABOUT:
        raise fail(f"'about' must be one of {', '.join(ABOUT)}")
    if raw.get("place") and kind != "text":
        raise fail("'place' is only for text questions")

    presumes, presumes_words = _read_presumes(raw.get("presumes"), facts, fail)
    options = tuple(_read_option(o, fail) for o in raw.get("options") or ())
    if kind in ("boolean", "number", "text") and options:
        raise fail(f"a {kind} question has no options")
    if kind in ("choice", "multi", "checklist"):
        values = [option.value for option in options]
        if len(set(map(repr, values))) != len(values):
            raise fail("an option value is listed twice")
        if kind == "checklist":
            expected = list(fact_ids)
        elif first.kind == "integer":
            if first.minimum is None or first.maximum is None:
                raise fail(f"fact {first.id!r} has no range in the contract, so it can't be a choice")
            expected = list(range(first.minimum, first.maximum + 1))
        else:
            expected = list(first.options)
        missing = [v for v in expected if v not in values]
        extra = [v for v in values if v not in expected]
        if missing:
            raise fail(f"no option for {', '.join(map(str, missing))} (every allowed value needs a label)")
        if extra:
            raise fail(f"option(s) not allowed by the contract: {', '.join(map(str, extra))}")
    return QuestionSpec(
        id=qid, kind=kind, facts=tuple(fact_ids), resident=raw["resident"].strip(),
        call_handler=raw["call_handler"].strip(), why=raw["why"].strip(),
        resident_self=raw.get("resident_self"), options=options,
        none_label=raw.get("none_label"), none_label_self=raw.get("none_label_self"),
        unit=raw.get("unit"), place=bool(raw.get("place")),
        minimum=first.minimum if kind == "number" else None,
        maximum=first.maximum if kind == "number" else None, file=file,
        presumes=presumes, presumes_words=presumes_words, about=raw.get("about", "person"))


def _read_presumes(raw: Any, facts: Mapping[str, FactSpec], fail) -> tuple[str | None, tuple[str, ...]]:
    """`presumes: {fact: fallen, words: [fall, fallen, fell]}`: the yes/no fact a follow-up
    takes for granted, and the words that name it in a denial ("she hasn't fallen")."""
    if raw is None:
        return None, ()
    if not isinstance(raw, dict) or set(raw) != {"fact", "words"}:
        raise fail("'presumes' must be {fact: <boolean fact>, words: [words that name it]}")
    fact, words = raw["fact"], raw["words"]
    if fact not in facts or facts[fact].kind != "boolean":
        raise fail(f"'presumes' names {fact!r}, which is not a yes/no fact of the contract")
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise fail("'presumes' needs a list of words")
    return fact, tuple(w.strip().lower() for w in words)


def _read_option(raw: Any, fail) -> OptionSpec:
    if not isinstance(raw, dict) or "value" not in raw:
        raise fail(f"an option must be a mapping with a 'value' (got {raw!r})")
    unknown_keys = set(raw) - _OPTION_KEYS
    if unknown_keys:
        raise fail(f"option {raw['value']!r}: unknown key(s) {', '.join(sorted(unknown_keys))}")
    if not isinstance(raw.get("label"), str) or not raw["label"].strip():
        raise fail(f"option {raw['value']!r} needs a 'label'")
    synonyms = raw.get("synonyms") or []
    if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
        raise fail(f"option {raw['value']!r}: 'synonyms' must be a list of text")
    return OptionSpec(value=raw["value"], label=raw["label"], label_self=raw.get("label_self"),
                      call_handler=raw.get("call_handler"), synonyms=tuple(synonyms))


# ---------------------------------------------------------------------------------------
# Asking

def question_by_id(flows: Flows, question_id: str, audience: str,
                   facts: Mapping[str, Any] | None = None) -> Question:
    """A whole question by its id (e.g. to print the flow in order)."""
    return build_question(flows.by_id[question_id], audience, facts)


def all_questions(flows: Flows, audience: str) -> list[Question]:
    """Every question in flow-file order, for listing (`spoa questions`)."""
    return [build_question(spec, audience) for spec in flows.questions]


def build_question(spec: QuestionSpec, audience: str, facts: Mapping[str, Any] | None = None,
                   only: list[str] | None = None, heard: dict | None = None) -> Question:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    about_self = audience == "resident" and bool(facts) and facts.get("caller") == _ANSWERING_FOR_SELF[spec.about]
    asked = list(only) if only else list(spec.facts)
    if audience == "call_handler":
        text = spec.call_handler
    else:
        text = (spec.resident_self if about_self and spec.resident_self else spec.resident)
    return Question(id=spec.id, facts=asked, kind=spec.kind, text=text,
                    options=_options(spec, audience, about_self, asked), why=spec.why,
                    audience=audience, unit=spec.unit, minimum=spec.minimum, maximum=spec.maximum,
                    place=spec.place, spec=spec, heard=heard or None)


def _label(option: OptionSpec, audience: str, about_self: bool) -> str:
    if audience == "call_handler":
        return option.call_handler or option.label
    return option.label_self if about_self and option.label_self else option.label


_LETTER_KEYS = [c for c in "ABCDEFGHIJKLMOPQRSTVWXZ"]   # no N, U, Y: those mean none/unknown/yes


def _options(spec: QuestionSpec, audience: str, about_self: bool, asked: list[str]) -> list[dict]:
    resident = audience == "resident"
    unknown = {"value": UNKNOWN, "label": "I don't know" if resident else "Unknown", "key": "U"}
    if spec.kind == "boolean":
        return [{"value": "yes", "label": "Yes", "key": "Y"},
                {"value": "no", "label": "No", "key": "N"}, unknown]
    if spec.kind in ("number", "text"):
        return []
    shown = [o for o in spec.options if spec.kind != "checklist" or o.value in asked]
    keys = [str(n) for n in range(1, 10)] + ["0"] + _LETTER_KEYS
    options = [{"value": o.value, "label": _label(o, audience, about_self), "key": keys[i]}
               for i, o in enumerate(shown)]
    if spec.kind in ("multi", "checklist"):
        none_label = (spec.none_label_self if about_self and spec.none_label_self else spec.none_label) or "None of these"
        options.append({"value": NONE, "label": none_label, "key": "N"})
    options.append(unknown)
    return options
