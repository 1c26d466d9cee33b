"""The spaCy pipeline components of fact extraction, registered as factories.

`spoa_fact_matcher` finds the phrases of `patterns/*.yml` (and the configured place names) and
puts them in `doc.spans["spoa_facts"]`, labelled with the pattern id. negspacy's `negex` then
marks negated ones (`span._.spoa_negated`), and `spoa_context` marks, ConText-style, the ones
that are hypothetical, historical, uncertain, about someone else, or about a person who has
died (`span._.spoa_hypothetical` etc.). The extractor turns the spans into facts.
"""
# no `from __future__ import annotations` here: spaCy reads the factories' type hints at run time

import itertools
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.schemas import validate_token_pattern
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from spoa.gazetteer import EVERYDAY_WORDS
from spoa.extraction.patterns_file import (CONTEXTS, PATTERNS_DIR, Pattern, PatternError, expand, load_context,
                                          load_patterns, template_parts)

FACT_SPANS = "spoa_facts"
NEGATED = "spoa_negated"
SUBJECT = "spoa_subject"  # doc.user_data key: who the contact is about (a relation word), if named
# Place names that are also everyday words match only when written with a capital.
PLACES_NEEDING_CAPITALS = {"deal", "sandwich", "wye", "herne", "minster", "charing", "lydd"} | EVERYDAY_WORDS

for _context in CONTEXTS:
    if not Span.has_extension(f"spoa_{_context}"):
        Span.set_extension(f"spoa_{_context}", default=False)


# Contractions written apart in templates ("i 'm", "has n't") are read as spaCy reads them in
# running text, where "'m" is a token with the norm "am" (alone, spaCy splits "'m" in two).
CLITIC_NORMS = {"'s": "'s", "'m": "am", "'ve": "have", "'re": "are", "'ll": "will", "'d": "'d", "n't": "not"}


def norms_of(nlp: Language, text: str, cache: dict[str, list[str]] | None = None) -> list[str]:
    """The NORMs of a phrase's tokens, as they are in running text."""
    cache = {} if cache is None else cache
    norms = []
    for word in text.split():
        if word not in cache:
            lowered = word.lower()
            cache[word] = ([CLITIC_NORMS[lowered]] if lowered in CLITIC_NORMS
                           else [token.norm_ for token in nlp.make_doc(word)])
        norms.extend(cache[word])
    return norms


def phrase_doc(nlp: Language, text: str, cache: dict[str, list[str]] | None = None) -> Doc:
    """A Doc for PhraseMatcher(attr="NORM") whose norms are those of running text."""
    norms = norms_of(nlp, text, cache)
    doc = Doc(nlp.vocab, words=norms)
    for token, norm in zip(doc, norms):
        token.norm_ = norm
    return doc


def token_patterns(nlp: Language, template: str, cache: dict | None = None) -> list[list[dict]] | None:
    """spaCy Matcher patterns matching exactly the phrases a template stands for: a choice of
    single words is one token (NORM IN [...], optional if a choice is empty); only choices
    with longer options multiply the patterns. None for a template with a choice glued to a
    word ("stop{ping|}"), which is matched as whole phrases."""
    parts = template_parts(template)
    if parts is None:
        return None
    slots: list[list[list[dict]]] = []
    for part in parts:
        if isinstance(part, str):
            slots.extend([[{"NORM": norm}]] for norm in norms_of(nlp, part, cache))
            continue
        options = [norms_of(nlp, option, cache) for option in part]
        words = sorted({option[0] for option in options if len(option) == 1})
        longer = list(dict.fromkeys(tuple(option) for option in options if len(option) > 1))
        optional = any(not option for option in options)
        one = {"NORM": {"IN": words}} if len(words) > 1 else {"NORM": words[0]} if words else None
        if one is not None and optional and not longer:
            slots.append([[{**one, "OP": "?"}]])
            continue
        alternatives = ([[one]] if one else []) + [[{"NORM": norm} for norm in option] for option in longer]
        slots.append(alternatives + ([[]] if optional else []))
    patterns = []
    for combination in itertools.product(*slots):
        pattern = [token for tokens in combination for token in tokens]
        if any("OP" not in token for token in pattern):
            patterns.append(pattern)
    return patterns


def place_pattern(place: str) -> Pattern:
    return Pattern(id=f"locality.{place.lower().replace(' ', '_')}", sets={"locality": "place"},
                   phrases=(place,), value_from="place")


def _norms(nlp: Language, phrases) -> list[tuple[str, ...]]:
    return [tuple(norms_of(nlp, phrase)) for phrase in phrases]


class FactMatcher:
    """Puts every pattern match in doc.spans["spoa_facts"] (overlaps kept; the extractor resolves)."""

    def __init__(self, nlp: Language, patterns: list[Pattern], places: list[str]):
        self.patterns = {pattern.id: pattern for pattern in patterns}
        self.phrases = PhraseMatcher(nlp.vocab, attr="NORM")
        self.places = PhraseMatcher(nlp.vocab, attr="LOWER")
        cache: dict[str, list[str]] = {}
        # patterns compiled from templates are well formed by construction, and spaCy's
        # per-pattern validation would take most of the start-up; hand-written ones are checked
        self.tokens = Matcher(nlp.vocab, validate=False)
        for pattern in patterns:
            compiled, phrases = [], []
            for template in pattern.phrases:
                # Each way costs start-up time: a token pattern about 30 times a phrase. Both
                # match the same phrases; take the cheaper.
                as_tokens = token_patterns(nlp, template, cache)
                as_phrases = expand(template)
                if as_tokens is not None and 30 * len(as_tokens) < len(as_phrases):
                    compiled.extend(as_tokens)
                else:
                    phrases.extend(phrase_doc(nlp, phrase, cache) for phrase in as_phrases)
            if phrases:
                self.phrases.add(pattern.id, phrases)
            for tokens in pattern.tokens:
                errors = validate_token_pattern(list(tokens))
                if errors:
                    raise PatternError(f"pattern {pattern.id}: bad token pattern: {'; '.join(errors)}")
                compiled.append(list(tokens))
            if compiled:
                self.tokens.add(pattern.id, compiled, greedy="LONGEST")
        for place in places:
            pattern = place_pattern(place)
            self.patterns[pattern.id] = pattern
            self.places.add(pattern.id, [nlp.make_doc(place)])
        self.not_followed = {p.id: _norms(nlp, p.not_followed_by) for p in patterns}
        self.not_preceded = {p.id: _norms(nlp, p.not_preceded_by) for p in patterns}

    def _blocked(self, doc: Doc, pattern_id: str, start: int, end: int) -> bool:
        for words in self.not_followed.get(pattern_id, ()):
            if tuple(token.norm_ for token in doc[end:end + len(words)]) == words:
                return True
        for words in self.not_preceded.get(pattern_id, ()):
            if start >= len(words) and tuple(t.norm_ for t in doc[start - len(words):start]) == words:
                return True
        if pattern_id.startswith("locality.") and doc[start:end].text.lower() in PLACES_NEEDING_CAPITALS:
            return not doc[start].text[:1].isupper()
        return False

    def __call__(self, doc: Doc) -> Doc:
        found: dict[str, list[tuple[int, int]]] = {}
        matches = itertools.chain(self.phrases(doc), self.tokens(doc), self.places(doc))
        for match_id, start, end in matches:
            pattern_id = doc.vocab.strings[match_id]
            if not self._blocked(doc, pattern_id, start, end):
                found.setdefault(pattern_id, []).append((start, end))
        spans = []
        for pattern_id, places in found.items():
            # one pattern matching overlapping stretches counts once, as its longest
            for span in filter_spans([Span(doc, start, end, label=pattern_id) for start, end in set(places)]):
                spans.append(span)
        doc.spans[FACT_SPANS] = sorted(spans, key=lambda span: (span.start, -span.end))
        return doc


@Language.factory("spoa_fact_matcher", default_config={"patterns_dir": str(PATTERNS_DIR), "places": []})
def make_fact_matcher(nlp: Language, name: str, patterns_dir: str, places: list[str]) -> FactMatcher:
    return FactMatcher(nlp, load_patterns(Path(patterns_dir)), places)


@Language.component("spoa_norms")
def fold_missing_apostrophes(doc: Doc) -> Doc:
    """Reads "Im" and "shes" (typed without apostrophes) as "I'm" and "she's". spaCy splits
    them into "I" + "m" and "she" + "s" but leaves the norms "m" and "s"."""
    for token in doc[1:]:
        previous = doc[token.i - 1].lower_
        if token.lower_ == "m" and previous == "i":
            token.norm_ = "am"
        elif token.lower_ == "s" and previous in ("she", "he", "it", "that", "there", "what", "who"):
            token.norm_ = "'s"
    return doc


@dataclass(frozen=True)
class Trigger:
    context: str
    scope: str
    direction: str
    start: int
    end: int
    max_scope: int | None  # at most this many words between the trigger and the fact


@dataclass(frozen=True)
class Mention:
    kind: str  # my (my mum), bare (Mum), other (her son), possessive (neighbour's dog), pronoun,
    # person (a patient, the resident), caller ("Daughter calling" in call notes)
    start: int
    end: int
    who: str


@dataclass(frozen=True)
class Holder:
    """Who a fact phrase is about, as far as the words show."""
    kind: str  # caller (I, me, my), pronoun (she, him), relation (my mum, the son), possessive
    # (the partner's daughter: someone else's relation)
    who: str  # the relation word or pronoun ("mum", "she"); "" for the caller
    gender: str | None  # female, male or None (they, partner, friend)
    inside: bool  # named inside the phrase itself ("hurt my back", "he is 79")


@dataclass(frozen=True)
class Care:
    """"my mum looks after my dad", "dad's her carer": who cares and who is cared for."""
    carer: Holder | None
    cared: Holder | None


class ContextMarker:
    """Marks fact spans that are not facts about the person now (ConText: Harkema et al. 2009).

    A trigger applies to facts after it (preceding), before it (following) or both, within its
    scope: the clause (ended by commas, "but", sentence ends...) or the whole sentence.
    Historical scope also ends at present-time words ("now", "this morning"). A trigger inside
    the fact's own span does not count: "not breathing" is its own phrase.
    """

    def __init__(self, nlp: Language, context: dict):
        negation = context["negation"]
        self.negation_window = int(negation.get("window", 5))
        self.negation_norms = {norms_of(nlp, phrase)[0] for phrase in negation["preceding_negations"]
                               + negation["following_negations"] if len(norms_of(nlp, phrase)) == 1}
        self.groups = context["triggers"]
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        for index, group in enumerate(self.groups):
            self.matcher.add(f"T{index}", [phrase_doc(nlp, p) for phrase in group["phrases"] for p in expand(phrase)])
            pseudo = [phrase_doc(nlp, p) for phrase in group.get("pseudo", []) for p in expand(phrase)]
            if pseudo:
                self.matcher.add(f"P{index}", pseudo)
        self.matcher.add("BREAK", [phrase_doc(nlp, p) for p in context["clause_breaks"]])
        self.matcher.add("CURRENT", [phrase_doc(nlp, p) for p in context["current"]])
        people = context["people"]
        relations = people["relations"]
        self.people = PhraseMatcher(nlp.vocab, attr="NORM")
        self.people.add("my", [phrase_doc(nlp, f"{owner} {r}") for owner in ("my", "our") for r in relations])
        self.people.add("other", [phrase_doc(nlp, f"{owner} {r}") for owner in ("her", "his", "their", "your")
                                  for r in relations])
        self.people.add("bare", [phrase_doc(nlp, r) for r in relations])
        self.people.add("possessive", [phrase_doc(nlp, f"{r} 's {thing}") for r in relations
                                       for thing in people["possessed"]])
        self.people.add("pronoun", [phrase_doc(nlp, p) for p in people["pronouns"]])
        self.people.add("person", [phrase_doc(nlp, p) for p in people["persons"]])
        # whose fact: the caller's own, a named carer's, a child's (issue 12, 5a)
        self.first_person = set(people["first_person"])
        self.gender = {word: gender for gender in ("female", "male") for word in people[gender]}
        self.children = set(people["children"])
        self.calling = [tuple(norms_of(nlp, phrase)) for phrase in people["calling"]]
        self.care = PhraseMatcher(nlp.vocab, attr="NORM")
        self.care.add("VERB", [phrase_doc(nlp, p) for p in people["care_verbs"]])
        self.care.add("ROLE", [phrase_doc(nlp, p) for phrase in people["carer_roles"] for p in expand(phrase)])

    def _scopes(self, doc: Doc, matches) -> dict[str, list[int]]:
        """For each token, the id of its sentence, clause and historical clause."""
        sentence_starts = {sent.start for sent in doc.sents}
        breaks = {start for label, start, _ in matches if label == "BREAK"}
        current = {start for label, start, _ in matches if label == "CURRENT"}
        ids = {"sentence": [], "clause": [], "historical": []}
        counters = {"sentence": 0, "clause": 0, "historical": 0}
        for token in doc:
            i = token.i
            if i in sentence_starts and i:
                for key in counters:
                    counters[key] += 1
            elif i in breaks:
                counters["clause"] += 1
                counters["historical"] += 1
            elif i in current:
                counters["historical"] += 1
            for key in counters:
                ids[key].append(counters[key])
        return ids

    def _triggers(self, matches) -> list[Trigger]:
        pseudo = [(label[1:], start, end) for label, start, end in matches if label.startswith("P")]
        triggers = []
        for label, start, end in matches:
            if not label.startswith("T"):
                continue
            index = label[1:]
            if any(p_index == index and p_start <= start < p_end for p_index, p_start, p_end in pseudo):
                continue
            group = self.groups[int(index)]
            triggers.append(Trigger(group["context"], group["scope"], group["direction"], start, end,
                                    group.get("max_scope")))
        return triggers

    def _mentions(self, doc: Doc) -> list[Mention]:
        spans = [Span(doc, start, end, label=match_id) for match_id, start, end in self.people(doc)]
        mentions = []
        for span in sorted(filter_spans(spans), key=lambda span: span.start):
            kind = span.label_
            if kind in ("my", "bare") and (self._followed_by_calling(doc, span.end) or self._after_caller(doc, span.start)):
                kind = "caller"  # "Daughter calling", "Caller (daughter)": not who the contact is about
            mentions.append(Mention(kind, span.start, span.end, span[-1].norm_ if kind != "possessive" else ""))
        return mentions

    @staticmethod
    def _after_caller(doc: Doc, start: int) -> bool:
        words = [t.norm_ for t in doc[max(0, start - 3):start] if not t.is_punct]
        return bool(words) and words[-1] == "caller"

    def _followed_by_calling(self, doc: Doc, end: int) -> bool:
        return any(tuple(t.norm_ for t in doc[end:end + len(words)]) == words for words in self.calling)

    @staticmethod
    def _in_scope(trigger: Trigger, span: Span, ids: dict[str, list[int]]) -> bool:
        if trigger.start < span.end and span.start < trigger.end:
            return False  # the trigger is part of the fact's own phrase
        scope = ids["historical"] if trigger.context == "historical" else ids[trigger.scope]
        distance = span.start - trigger.end if trigger.end <= span.start else trigger.start - span.end
        if trigger.max_scope is not None and distance > trigger.max_scope:
            return False
        if trigger.end <= span.start:
            return trigger.direction in ("preceding", "both") and scope[trigger.start] == scope[span.start]
        return trigger.direction in ("following", "both") and scope[trigger.start] == scope[span.end - 1]

    def __call__(self, doc: Doc) -> Doc:
        matches = [(doc.vocab.strings[m], s, e) for m, s, e in self.matcher(doc)]
        ids = self._scopes(doc, matches)
        triggers = self._triggers(matches)
        mentions = self._mentions(doc)
        cares = self._cares(doc, mentions)
        # "my mum looks after my dad": the contact is about dad, whoever is named first
        cared = next((c.cared.who for c in cares if c.cared and c.cared.kind == "relation"), None)
        subject = (doc.user_data.get(SUBJECT) or cared
                   or next((m.who for m in mentions if m.kind in ("my", "bare")), None))
        doc.user_data[SUBJECT] = subject
        for span in doc.spans.get(FACT_SPANS, []):
            if span._.get(NEGATED) and not self._negation_nearby(doc, span):
                span._.set(NEGATED, False)
            for trigger in triggers:
                if self._in_scope(trigger, span, ids):
                    span._.set(f"spoa_{trigger.context}", True)
            if self._about_someone_else(span, mentions, subject, ids["clause"]):
                span._.set("spoa_other_person", True)
            self._mark_whose(doc, span, mentions, cares, ids["clause"])
        return doc

    # --- whose fact ----------------------------------------------------------------------

    def _as_holder(self, mention: Mention, inside: bool, mentions: list[Mention] = ()) -> Holder:
        if mention.kind == "caller" or mention.kind == "pronoun" and mention.who in self.first_person:
            return Holder("caller", "", None, inside)
        if mention.kind == "pronoun" and mention.who in self.gender:
            # "Daughter calling, she is 55": she is the caller where the last person of her
            # gender named before is the caller
            same = [m for m in mentions if m.end <= mention.start and m.kind not in ("pronoun", "possessive")
                    and self.gender.get(m.who) == self.gender[mention.who]]
            if same and same[-1].kind == "caller":
                return Holder("caller", "", None, inside)
        kind = mention.kind if mention.kind in ("pronoun", "possessive") else "relation"
        return Holder(kind, mention.who, self.gender.get(mention.who), inside)

    def _holder(self, doc: Doc, span: Span, mentions: list[Mention], clauses: list[int]) -> Holder | None:
        """Who the phrase is about: a third person it names ("can't lift her", "mum is 88",
        "12 year old niece"), else the caller if it names them ("hurt my back", "I'm 79"), else
        the nearest person before it in its clause."""
        named = [m for m in mentions if m.start < span.end and span.start < m.end and not
                 (m.kind == "pronoun" and m.who in self.first_person)]
        for token in span:
            if token.norm_ in self.gender and token.norm_ in ("his", "himself", "herself"):
                named.append(Mention("pronoun", token.i, token.i + 1, token.norm_))
        after = [m for m in mentions if m.start == span.end and m.kind != "pronoun"]
        if span.label_.startswith("age.") and after:
            named.extend(after)  # "my 12 year old niece"
        if named:
            return self._as_holder(min(named, key=lambda m: m.start), True, mentions)
        if any(token.norm_ in self.first_person for token in span):
            return Holder("caller", "", None, inside=True)
        before = [m for m in mentions if m.end <= span.start and clauses[m.start] == clauses[span.start]]
        return self._as_holder(before[-1], False, mentions) if before else None

    def _cares(self, doc: Doc, mentions: list[Mention]) -> list[Care]:
        """Who looks after whom, from "X looks after Y" and "X is her carer"."""
        cares = []
        for match_id, start, end in self.care(doc):
            sentence = doc[start].sent
            before = [m for m in mentions if m.end <= start and m.start >= sentence.start]
            carer = self._as_holder(before[-1], inside=False) if before else None
            if doc.vocab.strings[match_id] == "VERB":
                after = [m for m in mentions if end <= m.start <= end + 1]
                cared = self._as_holder(after[0], inside=False) if after else None
            else:  # "'s her carer", "'s my dad 's carer": the possessive names the cared-for
                words = [t.norm_ for t in doc[start:end] if t.norm_ in self.gender]
                cared = Holder("pronoun", words[0], self.gender[words[0]], False) if words else None
            cares.append(Care(carer, cared))
        return cares

    def _mark_whose(self, doc: Doc, span: Span, mentions: list[Mention], cares: list[Care],
                    clauses: list[int]) -> None:
        """Marks a fact that is the caller's own (caller_own, caller_near), a named carer's, or a
        child's age (other_person)."""
        holder = self._holder(doc, span, mentions, clauses)
        if holder is None:
            return
        if holder.kind == "caller":
            # the extractor sets these aside once the caller is known not to be the person
            span._.set("spoa_caller_own" if holder.inside else "spoa_caller_near", True)
            return
        if holder.kind == "possessive" and holder.inside:
            span._.set("spoa_other_person", True)  # "the partner's daughter is 10"
            return
        if span.label_.startswith("age.") and holder.kind == "relation" and holder.who in self.children \
                and any(t.text.isdigit() and int(t.text) < 18 for t in span):
            # "my 12 year old niece", "the step-son is 9": a child of the household, and the
            # contact (adult health and social care) is about an adult
            span._.set("spoa_other_person", True)
            return
        for care in cares:
            carer, cared = care.carer, care.cared
            if carer is None or carer.kind == "caller":
                continue
            if (holder.kind == "relation" and holder.who == carer.who and carer.kind == "relation"  # "dad is 79"
                    or holder.kind == "pronoun" and holder.gender and holder.gender == carer.gender
                    and cared is not None and cared.gender and cared.gender != carer.gender):  # "he is 79"
                span._.set("spoa_other_person", True)
                span._.set("spoa_about_carer", True)

    def _negation_nearby(self, doc: Doc, span: Span) -> bool:
        window = doc[max(0, span.start - self.negation_window):span.start]
        after = doc[span.end:span.end + 2]
        return any(token.norm_ in self.negation_norms for token in [*window, *after])

    @staticmethod
    def _about_someone_else(span: Span, mentions: list[Mention], subject: str | None, clauses: list[int]) -> bool:
        """The nearest person named before the fact, in its clause, is not the contact's subject."""
        if any(m.kind == "pronoun" and span.start <= m.start < span.end for m in mentions):
            return False  # "can't wake her", "found him on the floor": the phrase names its person
        before = [m for m in mentions if m.end <= span.start and clauses[m.start] == clauses[span.start]]
        if not before:
            return False
        nearest = before[-1]
        if nearest.kind in ("possessive", "other"):
            return True
        return nearest.kind in ("my", "bare") and subject is not None and nearest.who != subject


@Language.factory("spoa_context", default_config={"patterns_dir": str(PATTERNS_DIR)})
def make_context_marker(nlp: Language, name: str, patterns_dir: str) -> ContextMarker:
    return ContextMarker(nlp, load_context(Path(patterns_dir)))
