"""Rule-based fact extraction: free text in, contract facts and their evidence out.

Built once (`build_extractor(config)`), then `Extractor.extract(text)` is pure. Red flags and
safeguarding facts come from these rules, never from a trained model. Where a phrase and its
context disagree, the reading that escalates wins: a red flag said positively anywhere is
true even if it is denied elsewhere; the most serious fall injury wins.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import spacy
from spacy.tokens import Doc, Span

import negspacy.negation  # noqa: F401  registers the "negex" factory
import spoa.extraction.components  # noqa: F401  registers our spaCy factories
from spoa.extraction.components import FACT_SPANS, NEGATED, SUBJECT
from spoa.extraction.patterns_file import CONTEXTS, PATTERNS_DIR, Pattern, fact_schemas, load_context
from spoa.vocabulary import EMERGENCY_SCREEN

MAX_TEXT_CHARS = 20000  # call notes can run long
# negspacy's scope search grows with the square of a text's length, so long text is read in
# pieces of about this size, cut at sentence ends (context never crosses a sentence anyway).
CHUNK_CHARS = 1000
CALLER_PRIORITY = ["professional", "unpaid_carer", "family_friend", "self"]
# Booleans where `true` is the safer reading win when a message says both; for these few,
# `false` is (being able to protect oneself lowers safeguarding, and information is shared
# only with a clear yes).
FALSE_IS_SAFER = {"able_to_protect_self", "consent_to_share"}
INJURY_SEVERITY = ["none", "minor", "serious"]
TOPIC_STOP = {"for", "fitted", "installed", "put", "please", "from", "to", "in", "at", "on", "so",
              "and", "?", ".", ",", "!", "if", "because", "as", "then", "thanks", "thank", "near",
              "round", "around", "delivered", "sorted", "set", "with"}
TOPIC_QUESTION_WORDS = {"what", "how", "whether", "if", "who", "where", "which", "why", "when", "to", "me",
                        "her", "him", "them", "it", "that", "this", "you", "i", "we", "she", "he", "they"}
TOPIC_SKIP = {"a", "an", "the", "some", "any", "getting", "get", "having", "my", "her", "his", "their"}
NUMBER_WORDS = {
    "once": 1, "twice": 2, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100,
}


class ExtractionError(ValueError):
    """The text can't be read (not a string, or too long)."""


def places_from_config(config) -> list[str]:
    """The place names to look for in free text: the gazetteer's (spoa/gazetteer.py), which
    resolves them; without one, config.yml's own."""
    if getattr(config, "gazetteer", None) is not None:
        return config.gazetteer.spoken_names()
    places = []
    for entry in config.localities.values():
        places.extend([entry["name"], *entry.get("places", [])])
    return sorted(set(places))


def build_nlp(config, patterns_dir: Path = PATTERNS_DIR) -> spacy.Language:
    """A blank English pipeline (no downloaded weights) with the fact and context components."""
    context = load_context(patterns_dir)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("spoa_norms")
    nlp.add_pipe("spoa_fact_matcher", config={"patterns_dir": str(patterns_dir),
                                              "places": places_from_config(config)})
    termset = {key: context["negation"][key] for key in
               ("pseudo_negations", "preceding_negations", "following_negations", "termination")}
    nlp.add_pipe("negex", config={"neg_termset": termset, "extension_name": NEGATED,
                                  "span_keys": [FACT_SPANS]})
    nlp.add_pipe("spoa_context", config={"patterns_dir": str(patterns_dir)})
    return nlp


def build_extractor(config, patterns_dir: Path = PATTERNS_DIR) -> "Extractor":
    """The extractor for a deployment: its patterns, and its localities from `config`."""
    return Extractor(build_nlp(config, patterns_dir), config)


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """(offset, piece) pieces of `text` of at most about `size` characters, cut after a
    sentence end where there is one, else at a space."""
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind(mark, start, end) for mark in (". ", "! ", "? ", "\n"))
            if cut <= start:
                cut = text.rfind(" ", start, end)
            if cut > start:
                end = cut + 1
        pieces.append((start, text[start:end]))
        start = end
    return pieces


def _number(tokens) -> int | None:
    """The whole number a run of tokens spells ("84", "seventy-nine", "ninety nine")."""
    total, seen = 0, False
    for token in tokens:
        word = token.lower_
        if word.isdigit():
            return int(word) if not seen else total
        if word in NUMBER_WORDS:
            total += NUMBER_WORDS[word]
            seen = True
        elif seen and word != "-":
            break
    return total if seen else None


def _topic(doc: Doc, span: Span) -> str | None:
    """The few words after "how do I get a ..." that name what is asked about."""
    words = []
    for token in doc[span.end:span.end + 8]:
        if token.lower_ in TOPIC_STOP or token.is_punct and token.text != "-" or token.is_sent_start:
            break
        if not words and token.lower_ in TOPIC_SKIP:
            continue
        if not words and token.lower_ in TOPIC_QUESTION_WORDS:
            return None  # "advice about what benefits I can claim" names no topic
        words.append(token.text)
        if len(words) == 4:
            break
    text = " ".join(words).replace(" - ", "-").strip()
    return text.lower() if text else None


class Extractor:
    """Reads facts from one message. Safe to share between threads: reading a piece of text
    runs under a lock, because a spaCy Language adds new words to its shared vocabulary (the
    StringStore) as it reads, and looking words up while another thread adds them is not
    safe. A message takes a few milliseconds, so the lock costs little; resolving the facts
    afterwards works on the message's own data, outside it."""

    def __init__(self, nlp: spacy.Language, config):
        self.nlp = nlp
        self.config = config
        self.patterns: dict[str, Pattern] = nlp.get_pipe("spoa_fact_matcher").patterns
        self.schemas = fact_schemas()
        self._lock = threading.Lock()

    def extract(self, text: str, known: dict[str, Any] | None = None) -> dict[str, Any]:
        """{"facts": {fact: value}, "evidence": [...], "ignored": [...], "partial": [...]} for one
        message. `partial` names the list facts in `facts` (heard in passing: at least these items).

        `evidence` lists each phrase that set a fact (fact, value, text, start, end, rule,
        negated); `ignored` lists phrases set aside, with the reason (hypothetical,
        historical, uncertain, other_person, deceased, negated, about_caller, or an unmet
        requirement). Facts are about the person the contact is about: where the caller is
        someone else, the caller's own age, injury or feelings are set aside (about_caller).
        `known` is what the conversation already holds: some phrases only count in context
        ("just a bruise" is a fall injury where a fall is known), and it is never changed.
        """
        known = dict(known or {})
        if not isinstance(text, str):
            raise ExtractionError("text must be a string")
        if len(text) > MAX_TEXT_CHARS:
            raise ExtractionError(f"text is longer than {MAX_TEXT_CHARS} characters")
        found: list[dict] = []
        ignored: list[dict] = []
        subject = None  # who the contact is about, carried from piece to piece
        for offset, piece in chunks(text):
            with self._lock:  # see the class docstring
                doc = self._read(piece, subject)
                subject = doc.user_data.get(SUBJECT)
                self._collect(doc, offset, found, ignored)
        return self._finish(self._drop_contained(found), ignored, known)

    def _read(self, piece: str, subject: str | None) -> Doc:
        """Run the pipeline on one piece of text."""
        doc = self.nlp.make_doc(piece)
        doc.user_data[SUBJECT] = subject
        for _name, component in self.nlp.pipeline:
            doc = component(doc)
        return doc

    def _collect(self, doc: Doc, offset: int, found: list[dict], ignored: list[dict]) -> None:
        """The facts each matched phrase sets, or why it was set aside."""
        for span in doc.spans[FACT_SPANS]:
            pattern = self.patterns[span.label_]
            contexts = [c for c in CONTEXTS if span._.get(f"spoa_{c}")]
            if not pattern.person_scoped and "other_person" in contexts:
                contexts.remove("other_person")
            negated = bool(span._.get(NEGATED)) and pattern.negation != "ignore"
            reasons = [c for c in contexts if c in pattern.drop_in]
            if negated and pattern.negation == "drop":
                reasons.append("negated")
            if pattern.only_in and not pattern.only_in & set(contexts):
                reasons.append("not " + " or ".join(sorted(pattern.only_in)))
            base = {"text": span.text, "start": offset + span.start_char, "end": offset + span.end_char,
                    "rule": pattern.id}
            if reasons:
                ignored.append({**base, "facts": sorted(pattern.sets), "reasons": reasons})
                continue
            whose = next((c for c in ("caller_own", "caller_near") if c in contexts), None)
            for fact, value in self._values(doc, span, pattern, negated).items():
                found.append({"fact": fact, **base, "value": value, "negated": negated, "whose": whose})

    def _finish(self, found: list[dict], ignored: list[dict], known: dict[str, Any]) -> dict[str, Any]:
        facts, _ = self._resolve([dict(item) for item in found])
        # who is calling, as the conversation knows it or this text says ("my mum" outranks
        # "I'm 79", as in _resolve)
        callers = [c for c in (facts.get("caller"), known.get("caller")) if c]
        caller = min(callers, key=CALLER_PRIORITY.index) if callers else None
        found = self._drop_callers_own(found, ignored, caller)
        # "she isn't hurt" is a fall injury only where there was a fall, and so on; the fall
        # must come from a phrase that stands on its own ("I can't lift him" implies no fall)
        facts, _ = self._resolve([dict(item) for item in found if not self.patterns[item["rule"]].requires])
        kept = []
        for item in found:
            requires = self.patterns[item["rule"]].requires
            if all(facts.get(fact) or known.get(fact) for fact in requires):
                kept.append(item)
            else:
                ignored.append({key: item[key] for key in ("text", "start", "end", "rule")}
                               | {"facts": [item["fact"]], "reasons": ["requires " + ", ".join(requires)]})
        facts, evidence = self._resolve(kept)
        # every fact here was heard in free text; a list heard in passing holds at least these
        # items (PROTOCOL 1.1 §2): the dialogue core marks it partial unless the text answered
        # that list's own question
        partial = sorted(fact for fact in facts if self._is_array(fact))
        return {"facts": facts, "evidence": evidence, "ignored": ignored, "partial": partial}

    def _drop_callers_own(self, found: list[dict], ignored: list[dict], caller: str | None) -> list[dict]:
        """Where the caller is not the person, the caller's own age, injury or feelings ("I'm 79
        and I hurt my back lifting him") are not the person's facts. A red flag goes only when
        its own phrase names the caller: "I can't stop the bleeding" is about the person.
        (A carer ringing about their own needs has their carer_* facts, which stay.) An
        unpaid carer's own everyday outcome ("I never see my friends any more") is the carer's
        outcome (carer_outcomes_unable) where the carer regulations list it."""
        if caller in (None, "self"):
            return found
        carer_items = self.schemas["carer_outcomes_unable"]["items"]["enum"]
        kept = []
        for item in found:
            pattern = self.patterns[item["rule"]]
            whose = item["whose"]
            red_flag = any(fact in EMERGENCY_SCREEN for fact in pattern.sets)
            # where the person is (the place answer) is left to the gazetteer's resolver
            attributed = pattern.person_scoped and pattern.value_from != "place"
            # a professional's "I" is about their work ("I'm the manager of a care home"), so
            # only phrases naming them ("I'm 45") are theirs
            near = whose == "caller_near" and not red_flag and caller != "professional"
            if (caller == "unpaid_carer" and item["fact"] == "outcomes_unable" and whose in ("caller_own", "caller_near")
                    and item["value"] in carer_items):
                kept.append({**item, "fact": "carer_outcomes_unable"})
            elif attributed and (whose == "caller_own" or near):
                ignored.append({key: item[key] for key in ("text", "start", "end", "rule")}
                               | {"facts": [item["fact"]], "reasons": ["about_caller"]})
            else:
                kept.append(item)
        return kept

    def _values(self, doc: Doc, span: Span, pattern: Pattern, negated: bool) -> dict[str, Any]:
        if negated:
            if pattern.when_negated:
                return dict(pattern.when_negated)
            return {fact: not value for fact, value in pattern.sets.items() if isinstance(value, bool)}
        values = {}
        for fact, value in pattern.sets.items():
            if pattern.value_from and value == pattern.value_from:
                value = self._value_from_text(doc, span, pattern.value_from, fact)
                if value is None:
                    continue
            values[fact] = value
        return values

    def _value_from_text(self, doc: Doc, span: Span, kind: str, fact: str) -> Any:
        if kind == "place":
            # A place heard in passing gives its locality only when the gazetteer places it
            # inside one; a place outside ("she used to live in Brighton") is left for the
            # place question, so free text never takes a contact out of area.
            return self.config.resolve_place(span.text).locality
        if kind == "topic":
            return _topic(doc, span)
        number = _number(token for token in span if token.like_num or token.lower_ in NUMBER_WORDS or token.text == "-")
        schema = self.schemas[fact]
        if number is None or number < schema.get("minimum", 0) or number > schema.get("maximum", 10**6):
            return None
        return number

    def _drop_contained(self, found: list[dict]) -> list[dict]:
        """A phrase inside a longer phrase for the same fact gives way ("hurt" in "isn't hurt");
        for array facts only to the same item ("hitting my mum" is physical inside a longer
        domestic phrase, and both stand)."""
        by_fact: dict[str, list[dict]] = {}
        for item in found:
            by_fact.setdefault(item["fact"], []).append(item)
        dropped = set()
        for fact, items in by_fact.items():
            array = self._is_array(fact)
            for item in items:
                if any(other is not item and (other["value"] == item["value"] or not array)
                       and other["start"] <= item["start"] and item["end"] <= other["end"]
                       and other["end"] - other["start"] > item["end"] - item["start"]
                       for other in items):
                    dropped.add(id(item))
        return [item for item in found if id(item) not in dropped]

    def _resolve(self, found: list[dict]) -> tuple[dict[str, Any], list[dict]]:
        facts: dict[str, Any] = {}
        for item in found:
            fact, value = item["fact"], item["value"]
            if fact not in facts:
                facts[fact] = [value] if self._is_array(fact) else value
            elif self._is_array(fact):
                if value not in facts[fact]:
                    facts[fact].append(value)
            elif isinstance(value, bool):
                # a red flag said anywhere stands, whatever else is said
                facts[fact] = (facts[fact] and value) if fact in FALSE_IS_SAFER else (facts[fact] or value)
            elif fact == "fall_injury":
                facts[fact] = max(facts[fact], value, key=INJURY_SEVERITY.index)
            elif fact == "caller":
                facts[fact] = min(facts[fact], value, key=CALLER_PRIORITY.index)
            # other single values: the first one said stands
        self._derive(facts, found)
        evidence = [{key: item[key] for key in ("fact", "value", "text", "start", "end", "rule", "negated")}
                    for item in found if self._agrees(facts.get(item["fact"]), item["value"], item["fact"])]
        return facts, evidence

    def _derive(self, facts: dict[str, Any], found: list[dict]) -> None:
        """Facts the contract defines in terms of others (a long lie is a fall)."""
        if facts.get("on_floor_cannot_get_up") is True and "fallen" not in facts:
            source = next(i for i in found if i["fact"] == "on_floor_cannot_get_up" and i["value"] is True)
            facts["fallen"] = True
            found.append({**source, "fact": "fallen", "value": True, "rule": source["rule"] + "+implies_fall"})
        if "dementia" in (facts.get("long_term_conditions") or []) and "dementia" not in facts:
            facts["dementia"] = True
        if facts.get("severe_bleeding") is True and facts.get("fallen") is True and facts.get("fall_injury") != "serious":
            # the contract counts heavy bleeding from a fall as a serious fall injury
            source = next(i for i in found if i["fact"] == "severe_bleeding" and i["value"] is True)
            facts["fall_injury"] = "serious"
            found[:] = [i for i in found if i["fact"] != "fall_injury"]
            found.append({**source, "fact": "fall_injury", "value": "serious", "rule": source["rule"] + "+fall"})

    def _agrees(self, chosen: Any, value: Any, fact: str) -> bool:
        return value in chosen if self._is_array(fact) else chosen == value

    def _is_array(self, fact: str) -> bool:
        types = self.schemas[fact].get("type", [])
        return "array" in (types if isinstance(types, list) else [types])
