"""The questions: which question to ask next, and how to read the answer.

`flows/*.yml` holds, for every fact in the contract, the question in resident wording (web
chat) and call-handler wording (console), its answer kind and options, and why it is asked.
The engine's `missing` list decides the order; this module only turns the first missing fact
into a `Question`, and an answer back into facts.

Everything here is pure except `load_flows`, which reads the files once at start-up and
refuses any fact id that is not in the contract (a typo fails at start-up, not in a call).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from rapidfuzz import fuzz, process, utils

from spoa.vocabulary import FactSpec
from spoa.vocabulary import facts as vocabulary_facts

KINDS = ("boolean", "number", "choice", "multi", "text", "checklist")
AUDIENCES = ("resident", "call_handler")
NONE = "none"          # option value: none of these (checklist, multi)
UNKNOWN = "unknown"    # option value: don't know (every kind with options)
MAX_ANSWER_CHARS = 1000  # an answer is a few words; a pasted essay is read only this far

_QUESTION_KEYS = {"id", "kind", "facts", "resident", "resident_self", "call_handler", "why",
                  "options", "none_label", "none_label_self", "unit", "place"}
_OPTION_KEYS = {"value", "label", "label_self", "call_handler", "synonyms"}
_REQUIRED_KEYS = ("id", "kind", "facts", "resident", "call_handler", "why")


class FlowError(ValueError):
    """A flow file is invalid; the message names the file and the question."""

    def __init__(self, message: str, file: str | None = None, question: str | None = None):
        where = ": ".join(part for part in (file, f"question {question!r}" if question else None) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.question = question


class AnswerError(ValueError):
    """An answer that can't be right (age 200, an option that doesn't exist)."""

    def __init__(self, message: str, question: str | None = None, given: Any = None):
        super().__init__(message)
        self.question = question
        self.given = given


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

    def to_dict(self) -> dict:
        """The JSON the chat channel and the console send: {"ask": [...], "kind", "options"...}."""
        data = {"id": self.id, "ask": list(self.facts), "kind": self.kind, "text": self.text,
                "options": [dict(option) for option in self.options], "why": self.why}
        if self.kind == "number":
            data.update(unit=self.unit, minimum=self.minimum, maximum=self.maximum)
        if self.place:
            data["place"] = True
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
    if raw.get("place") and kind != "text":
        raise fail("'place' is only for text questions")

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
        maximum=first.maximum if kind == "number" else None, file=file)


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

def next_question(flows: Flows, missing: list[str], facts: Mapping[str, Any] | None,
                  audience: str, skip: Iterable[str] = ()) -> Question | None:
    """The question for the first fact in `missing` that is not in `skip`, or None.

    `skip` holds facts already asked and answered "don't know". A checklist asks only its
    facts that are still in `missing` and not skipped.
    """
    skip = set(skip)
    for fact in missing:
        if fact in skip:
            continue
        spec = flows.by_fact.get(fact)
        if spec is None:
            raise KeyError(f"no question asks fact {fact!r}")
        wanted = [f for f in spec.facts if f in missing and f not in skip] if spec.kind == "checklist" else list(spec.facts)
        return build_question(spec, audience, facts, wanted)
    return None


def question_by_id(flows: Flows, question_id: str, audience: str,
                   facts: Mapping[str, Any] | None = None) -> Question:
    """A whole question by its id (e.g. to print the flow in order)."""
    return build_question(flows.by_id[question_id], audience, facts)


def all_questions(flows: Flows, audience: str) -> list[Question]:
    """Every question in flow-file order, for listing (`spoa questions`)."""
    return [build_question(spec, audience) for spec in flows.questions]


def build_question(spec: QuestionSpec, audience: str, facts: Mapping[str, Any] | None = None,
                   only: list[str] | None = None) -> Question:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    about_self = audience == "resident" and bool(facts) and facts.get("caller") == "self"
    asked = list(only) if only else list(spec.facts)
    if audience == "call_handler":
        text = spec.call_handler
    else:
        text = (spec.resident_self if about_self and spec.resident_self else spec.resident)
    return Question(id=spec.id, facts=asked, kind=spec.kind, text=text,
                    options=_options(spec, audience, about_self, asked), why=spec.why,
                    audience=audience, unit=spec.unit, minimum=spec.minimum, maximum=spec.maximum,
                    place=spec.place, spec=spec)


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


# ---------------------------------------------------------------------------------------
# Structured answers (buttons, console keys)

def answer_to_facts(question: Question, answer: Any, config=None) -> dict[str, Any]:
    """Facts from a structured answer (a button's value, or a list of ticked values).

    An option's console key ("Y", "3", "N", "U") stands for its value.
    boolean: "yes" / "no" / "unknown"; checklist: the ticked fact ids (the rest become false)
    or "none"; multi: the ticked values or "none" (an empty list); choice: the value; number;
    text (a place answer is resolved through the gazetteer, `config.resolve_place`). "unknown" (or
    None) gives None for every fact asked: not known, so the caller skips it.
    """
    facts = question.facts
    answer = _keys_to_values(question, answer)
    if answer is None or (isinstance(answer, str) and answer.strip().lower() == UNKNOWN) \
            or (isinstance(answer, list) and answer == [UNKNOWN]):
        return {fact: None for fact in facts}
    kind = question.kind
    if kind == "boolean":
        if isinstance(answer, bool):
            return {facts[0]: answer}
        word = str(answer).strip().lower()
        if word in ("yes", "y", "true"):
            return {facts[0]: True}
        if word in ("no", "n", "false"):
            return {facts[0]: False}
        raise AnswerError(f"{question.id}: answer yes, no or unknown (got {answer!r})", question.id, answer)
    if kind == "checklist":
        ticked = [answer] if isinstance(answer, str) else answer
        if not isinstance(ticked, list):
            raise AnswerError(f"{question.id}: answer a list of ticked items or 'none' (got {answer!r})",
                              question.id, answer)
        if NONE in ticked:
            if len(ticked) > 1:
                raise AnswerError(f"{question.id}: 'none' can't be ticked with other items", question.id, answer)
            return {fact: False for fact in facts}
        allowed = question.spec.facts if question.spec else facts
        bad = [t for t in ticked if t not in allowed]
        if bad:
            raise AnswerError(f"{question.id}: not an item of this question: {', '.join(map(str, bad))}; "
                              f"allowed: {', '.join(allowed)}, none, unknown", question.id, answer)
        result = {fact: False for fact in facts}
        result.update({t: True for t in ticked})
        return result
    if kind == "multi":
        if answer == NONE or answer == [NONE]:
            return {facts[0]: []}
        ticked = [answer] if isinstance(answer, str) else answer
        allowed = [o["value"] for o in question.options if o["value"] not in (NONE, UNKNOWN)]
        if not isinstance(ticked, list) or NONE in ticked:
            raise AnswerError(f"{question.id}: answer a list of values or 'none' (got {answer!r})", question.id, answer)
        bad = [t for t in ticked if t not in allowed]
        if bad:
            raise AnswerError(f"{question.id}: not an option: {', '.join(map(str, bad))}; allowed: "
                              f"{', '.join(allowed)}, none, unknown", question.id, answer)
        return {facts[0]: [v for v in allowed if v in ticked]}   # option order, no duplicates
    if kind == "choice":
        allowed = [o["value"] for o in question.options if o["value"] != UNKNOWN]
        value = answer
        if isinstance(answer, str) and all(isinstance(v, int) for v in allowed) and answer.strip().isdigit():
            value = int(answer)
        if value not in allowed or isinstance(value, bool):
            raise AnswerError(f"{question.id}: {answer!r} is not an option; allowed: "
                              f"{', '.join(map(str, allowed))}, unknown", question.id, answer)
        return {facts[0]: value}
    if kind == "number":
        if isinstance(answer, bool):
            raise AnswerError(f"{question.id}: expected a whole number (got {answer!r})", question.id, answer)
        if isinstance(answer, str) and re.fullmatch(r"\s*-?\d+\s*", answer):
            answer = int(answer)
        if isinstance(answer, float) and answer.is_integer():
            answer = int(answer)
        if not isinstance(answer, int):
            raise AnswerError(f"{question.id}: expected a whole number (got {answer!r})", question.id, answer)
        return {facts[0]: _in_range(question, answer)}
    if kind == "text":
        if not isinstance(answer, str) or not answer.strip():
            raise AnswerError(f"{question.id}: expected some text (got {answer!r})", question.id, answer)
        return {facts[0]: _place(answer, config) if question.place else answer.strip()}
    raise AnswerError(f"{question.id}: unknown kind {kind!r}", question.id, answer)


def _keys_to_values(question: Question, answer: Any) -> Any:
    """The console's keys ("Y", "3", "N", "U") as the option values they stand for."""
    values = {repr(o["value"]) for o in question.options}
    keys = {o["key"].lower(): o["value"] for o in question.options}

    def one(item: Any) -> Any:
        if isinstance(item, str) and repr(item) not in values and item.strip().lower() in keys:
            return keys[item.strip().lower()]
        return item
    return [one(item) for item in answer] if isinstance(answer, list) else one(answer)


def _in_range(question: Question, number: int) -> int:
    low, high = question.minimum, question.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"{low} to {high}" if high is not None else f"{low} or more"
        raise AnswerError(f"{question.id}: {number} can't be right; expected {bounds}"
                          + (f" {question.unit}" if question.unit else ""), question.id, number)
    return number




def _place(text: str, config) -> str | None:
    """The locality fact from a place answer, through the gazetteer (SCOPE-2, 1.1): a
    configured locality id, the place's name when it was recognised as outside the area, or
    None (asked, not known) when it could not be resolved: never the raw words."""
    if config is None:
        raise ValueError("a place answer needs the service's config (config.resolve_place)")
    return config.resolve_place(" ".join(text.split())).fact_value


# ---------------------------------------------------------------------------------------
# Plain-words answers (chat messages, what the caller said)

_UNKNOWN_RE = re.compile(
    r"^(?:(?:um+|erm|er|well|sorry|honestly|to be honest)[ ,]+)*(?:i'?m |i am |i )?(?:really |just |honestly )?"
    r"(?:not sure|unsure|no idea|don'?t know|do not know|dunno|idk|can'?t say|cannot say|not known|unknown|"
    r"no clue|not a clue|haven'?t a clue|couldn'?t say|can'?t tell|cannot tell|not certain|can'?t remember|"
    r"don'?t remember|no idea at all)\b")
_HEDGED_NO_RE = re.compile(r"^(?:not really|i don'?t think so|don'?t think so|probably not|maybe not|"
                           r"i doubt it|not that i know|not as far as i know)\b")
_YES = {"yes", "yeah", "yea", "yep", "yup", "y", "aye", "ya", "yes please", "correct", "right", "true",
        "definitely", "certainly", "absolutely", "sure", "of course", "i think so", "think so",
        "probably", "maybe", "i believe so", "that's right", "thats right", "please"}
_NO = {"no", "nope", "nah", "n", "no thanks", "no thank you", "never", "false", "not at all",
       "definitely not", "certainly not", "absolutely not", "no way", "none", "not"}
_TAG_YES = re.compile(r"^(?:she|he|they|i|we|it)(?:'s| is| are| am| does| do| did| has| have| was| were|'ve)$")
_TAG_NO = re.compile(r"^(?:she|he|they|i|we|it)(?:'s not| is not| isn't| are not| aren't|'m not| am not|"
                     r" does not| doesn't| do not| don't| did not| didn't| has not| hasn't| have not|"
                     r" haven't| was not| wasn't| were not| weren't|'ve not)$")
_NONE_RE = re.compile(
    r"^(?:(?:no|nope|nah)[ ,]+)?(?:none|nothing|neither|no|nope|nah|not any)"
    r"(?: (?:of|like) (?:these|those|them|that|this|the above|it))?"
    r"(?:[ ,]+(?:at all|thanks|thank you|is happening|are happening|happening))?$")
_ALL_RE = re.compile(r"^(?:all|all of (?:these|those|them|it|the above)|everything)$")
_NEGATIONS = {"no", "not", "never", "without", "isn't", "doesn't", "hasn't", "hadn't", "wasn't",
              "didn't", "don't", "aren't", "haven't", "nothing", "neither", "nor", "isnt", "doesnt",
              "hasnt", "wasnt", "didnt", "dont", "arent", "havent"}
_UNSURE_CUES = ("not sure", "unsure", "don't know", "dont know", "no idea", "maybe not", "dunno")
_NUMBER_WORDS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
_TIMES = {"once": 1, "twice": 2, "never": 0, "none": 0, "no": 0, "thrice": 3}


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    text = re.sub(r"[^\w'\s,-]", " ", text)
    return " ".join(text.replace("-", " ").split()).strip(" ,'")


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text)


_FILLERS = {"a", "an", "the", "her", "his", "their", "my", "your", "its", "our"}


def _clause_tokens(text: str) -> list[str]:
    """Words without fillers ("broken her hip" is "broken hip"), and "|" where a clause ends,
    so "no, just a bruise" keeps "no" to itself."""
    words = re.findall(r"[a-z0-9']+|\|", re.sub(r"[,.;:!?]|\bbut\b", " | ", text))
    return [word for word in words if word not in _FILLERS]


def parse_answer(question: Question, text: str, config=None) -> dict[str, Any] | None:
    """Facts from what someone said or typed, or None when it can't be told (ask again).

    A fact given as None means "don't know" (so the dialogue skips it). Raises AnswerError
    for an answer that can't be right, such as an age of 200.
    """
    if not isinstance(text, str):
        return None
    said = _normalise(text[:MAX_ANSWER_CHARS])
    if not said:
        return None
    facts = question.facts
    kind = question.kind
    unknown = {fact: None for fact in facts}

    if kind == "boolean":
        if _UNKNOWN_RE.match(said) or _HEDGED_NO_RE.match(said):
            return unknown if _UNKNOWN_RE.match(said) else None
        value = _yes_no(said)
        return None if value is None else {facts[0]: value}

    if kind == "number":
        number = _number_in(said, times=question.unit == "times", raw=text)
        if number is not None:
            return {facts[0]: _in_range(question, number)}
        return unknown if _UNKNOWN_RE.match(said) else None

    if kind == "text":
        if _UNKNOWN_RE.match(said):
            return unknown
        return {facts[0]: _place(text, config) if question.place else " ".join(text.split())}

    choices = [o for o in question.spec.options if kind != "checklist" or o.value in facts]

    if kind == "choice":
        if all(isinstance(o.value, int) for o in choices):
            number = _number_in(said, raw=text)
            if number is not None:
                if number not in [o.value for o in choices]:
                    raise AnswerError(f"{question.id}: {number} is not an option; allowed: "
                                      f"{', '.join(str(o.value) for o in choices)}", question.id, text)
                return {facts[0]: number}
        exact = [o.value for o in choices if said in _candidates(o)]
        if len(exact) == 1:
            return {facts[0]: exact[0]}
        if _UNKNOWN_RE.match(said):
            return unknown
        found = [m for m in _mentions(said, choices) if m[2] == "yes"]
        if not found:
            return _whole_label(said, choices, facts[0])
        found.sort(key=lambda m: (m[1], m[3]), reverse=True)
        best = found[0]
        if any(m[0] != best[0] and (m[1], m[3]) == (best[1], best[3]) for m in found[1:]):
            return None      # two options fit equally well: ask again
        return {facts[0]: best[0]}

    if kind == "multi":
        if _NONE_RE.match(said):
            return {facts[0]: []}
        if _ALL_RE.match(said):
            return {facts[0]: [o.value for o in choices]}
        found = {m[0] for m in _mentions(said, choices) if m[2] == "yes"}
        if found:
            return {facts[0]: [o.value for o in choices if o.value in found]}
        return unknown if _UNKNOWN_RE.match(said) else None

    if kind == "checklist":
        if _NONE_RE.match(said):
            return {fact: False for fact in facts}
        if _ALL_RE.match(said):
            return {fact: True for fact in facts}
        result: dict[str, Any] = {}
        for value, _score, polarity, _length in _mentions(said, choices):
            if polarity == "yes":
                result[value] = True           # a mention anywhere wins over a negated one
            elif polarity == "no":
                result.setdefault(value, False)
        if result:
            return result
        # Only what was named is known: a bare "yes" doesn't say which item (ask again).
        return unknown if _UNKNOWN_RE.match(said) else None
    return None


def _yes_no(said: str) -> bool | None:
    cleaned = said.strip(" ,")
    if cleaned in _YES or _TAG_YES.match(cleaned):
        return True
    if cleaned in _NO or _TAG_NO.match(cleaned):
        return False
    # "yes she has", "no, he isn't": the first word decides, unless the rest disagrees.
    words = [w for w in re.split(r"[ ,]+", cleaned) if w]
    head = words[0] if words else ""
    rest = " ".join(words[1:])
    if head in {"yes", "yeah", "yea", "yep", "yup", "aye", "ya", "definitely", "absolutely", "correct"}:
        return None if set(words[1:]) & {"no", "nope", "nah"} or _TAG_NO.match(rest) else True
    if head in {"no", "nope", "nah", "never"}:
        return None if set(words[1:]) & {"yes", "yeah", "yep", "yup"} or _TAG_YES.match(rest) else False
    return None


def _number_in(said: str, times: bool = False, raw: str = "") -> int | None:
    """The one number in the text, as digits or words ("eighty-four"); None if none or several."""
    negative = re.search(r"(?<![\w])-\s*(\d+)", raw)
    if negative:
        return -int(negative.group(1))
    said = re.sub(r"\ba hundred\b", "one hundred", said)
    numbers = [int(n) for n in re.findall(r"\d+", said)]
    run: list[str] = []
    for token in _tokens(said) + [""]:
        if token in _NUMBER_WORDS or token in _TENS or token == "hundred" or (run and token == "and"):
            run.append(token)
            continue
        if run:
            value = _words_to_int(run)
            if value is not None:
                numbers.append(value)
            run = []
    if times and not numbers:
        # "once", "twice", "never", "none", "not once"
        numbers = [_TIMES[token] for token in _tokens(said) if token in _TIMES]
    distinct = set(numbers)
    return distinct.pop() if len(distinct) == 1 else None


def _words_to_int(words: list[str]) -> int | None:
    """ "eighty four" -> 84, "one hundred and two" -> 102."""
    total, current, seen = 0, 0, False
    for word in words:
        if word in _NUMBER_WORDS:
            current += _NUMBER_WORDS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            total += max(current, 1) * 100
            current = 0
        else:
            continue
        seen = True
    return total + current if seen else None


def _whole_label(said: str, choices: list[OptionSpec], fact: str) -> dict | None:
    """A reply that repeats most of one option's label ("needs help with all personal care")."""
    words = _tokens(said)
    scored = []
    for option in choices:
        for phrase in _candidates(option):
            if len(words) >= max(3, len(_tokens(phrase)) // 2):
                scored.append((fuzz.token_set_ratio(said, phrase, processor=utils.default_process), option.value))
    best = [value for score, value in scored if score >= 95]
    return {fact: best[0]} if len(set(map(repr, best))) == 1 else None


def _candidates(option: OptionSpec) -> list[str]:
    texts = [option.label, option.label_self, option.call_handler, str(option.value).replace("_", " "),
             *option.synonyms]
    return [_normalise(t) for t in texts if t]


def _mentions(said: str, options: Iterable[OptionSpec]) -> list[tuple[Any, float, str, int]]:
    """(value, score, polarity, length) for each option named in the text.

    Phrases are matched word-aligned with a fuzzy ratio, so "chets pain" is still chest pain,
    but "fit" is not found in "fitness". Polarity is "no" when a negation comes just before
    ("no chest pain"), "unsure" after "not sure if", else "yes".
    """
    tokens = _clause_tokens(said)
    windows: dict[int, tuple[list[int], list[str]]] = {}     # width -> (starts, texts)

    def windows_of(width: int) -> tuple[list[int], list[str]]:
        if width not in windows:
            spans = [(start, tokens[start:start + width]) for start in range(0, max(0, len(tokens) - width) + 1)]
            spans = [(start, words) for start, words in spans if words and "|" not in words]
            windows[width] = ([start for start, _ in spans], [" ".join(words) for _, words in spans])
        return windows[width]

    found = []
    for option in options:
        best: tuple[float, int, int] | None = None     # score, start, phrase length
        for phrase in _candidates(option):
            words = [word for word in _tokens(phrase) if word not in _FILLERS] or _tokens(phrase)
            if not words:
                continue
            phrase = " ".join(words)
            short = len(phrase) <= 4          # "fit", "uti", "gp": whole words only
            cutoff = 100 if short else (92 if len(phrase) <= 7 else 88)
            for width in {max(1, len(words) - 1), len(words), len(words) + 1}:
                starts, texts = windows_of(width)
                if short:
                    hit = next(((100.0, i) for i, text in enumerate(texts) if text == phrase), None)
                else:
                    match = process.extractOne(phrase, texts, scorer=fuzz.ratio, score_cutoff=cutoff)
                    hit = (match[1], match[2]) if match else None
                if hit and (best is None or (hit[0], len(phrase)) > (best[0], best[2])):
                    best = (hit[0], starts[hit[1]], len(phrase))
        if best is None:
            continue
        score, start, length = best
        before = tokens[max(0, start - 4):start]
        if "|" in before:
            before = before[len(before) - before[::-1].index("|"):]
        before_text = " ".join(before)
        if any(cue in before_text for cue in _UNSURE_CUES):
            polarity = "unsure"
        elif any(word in _NEGATIONS for word in before[-3:]):
            polarity = "no"
        else:
            polarity = "yes"
        found.append((option.value, score, polarity, length))
    return found
