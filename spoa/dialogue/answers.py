"""Reading answers: a button's value, a console key, or what someone said, as facts.

Pure functions. `answer_to_facts` reads a structured answer (a button, ticked items, a console
key); `parse_answer` reads plain words ("yes she has", "eighty-four", "none of those"). Both
give None for a fact answered "don't know" (asked, not known: protocol 1.1 `null`).
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from rapidfuzz import fuzz, process, utils

from spoa.dialogue.questions import NONE, UNKNOWN, OptionSpec, Question

MAX_ANSWER_CHARS = 1000  # an answer is a few words; a pasted essay is read only this far


class AnswerError(ValueError):
    """An answer that can't be right (age 200, an option that doesn't exist)."""

    def __init__(self, message: str, question: str | None = None, given: Any = None):
        super().__init__(message)
        self.question = question
        self.given = given


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


def said_dont_know(text: str) -> bool:
    """ "Not sure", "no idea", "I don't know": the person can't say."""
    return isinstance(text, str) and bool(_UNKNOWN_RE.match(_normalise(text[:MAX_ANSWER_CHARS])))


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


# ---------------------------------------------------------------------------------------
# A denial of what the question took for granted

def denies_presumed(question: Question, text: Any) -> dict[str, Any] | None:
    """The answer when it denies what the question presumed ("she hasn't fallen" to "did she
    get hurt when she fell?"), else None: the presumed fact false, and the question's own
    facts asked and not known (None), so the dialogue doesn't ask about a fall that didn't
    happen and no rule reads an injury from it."""
    spec = question.spec
    if spec is None or spec.presumes is None or not isinstance(text, str):
        return None
    tokens = _clause_tokens(_normalise(text[:MAX_ANSWER_CHARS]))
    for index, token in enumerate(tokens):
        if token not in spec.presumes_words or index == 0:
            continue
        before = tokens[index - 1]
        if before in _NEGATIONS or (before in _DENIAL_BRIDGES and index >= 2 and tokens[index - 2] in _NEGATIONS):
            return {spec.presumes: False, **{fact: None for fact in question.facts}}
    return None


# "hasn't had a fall", "never even fell": words that may stand between a negation and the fact.
_DENIAL_BRIDGES = {"had", "have", "has", "even", "ever", "actually", "really"}


# ---------------------------------------------------------------------------------------
# Changing an answer

_CHANGE_RE = re.compile(
    r"\b(?:(?:change|correct|undo|redo|fix)\s+(?:my|the|that)\s+(?:last\s+|previous\s+|earlier\s+)?"
    r"(?:answer|reply|choice|response)"
    r"|wrong\s+(?:button|answer|option|choice|box)"
    r"|(?:pressed|clicked|tapped|hit|picked|chose|chosen|ticked|selected)\s+(?:the\s+)?wrong"
    r"|(?:that|it)\s+(?:was|is)\s+(?:a\s+)?mistake"
    r"|(?:pressed|clicked|tapped|hit|picked|chose|ticked|selected|said) (?:that|it|this)(?: one)? by (?:mistake|accident)"
    r"|didn'?t mean to (?:press|click|tap|pick|choose|select|tick|say) (?:that|it|this)|^i didn'?t mean that$"
    r"|answered (?:it |that )?wrong|got (?:that|it|my answer)(?: answer)? wrong|mistake with (?:my|that|the) answer"
    r"|^(?:can i |please )?go back(?: a step| one)?$|^undo(?: that)?$)")


def is_change_request(text: Any) -> bool:
    """ "change my last answer", "sorry, I pressed the wrong button", "that was a mistake":
    the person wants to change what they just answered (the chat asks that question again)."""
    return isinstance(text, str) and bool(_CHANGE_RE.search(_normalise(text[:MAX_ANSWER_CHARS])))


_DECLINE_RE = re.compile(r"^(?:skip|pass|none|no|nope|n/?a|not applicable|unknown|u|no thanks|no thank you|"
                         r"(?:i'?d )?rather not(?: say)?|(?:i'?d )?prefer not(?: to)?(?: say)?|not telling)\b")


def declines(text: Any) -> bool:
    """ "I don't know", "skip", "I'd rather not": a detail not given (it is not asked again)."""
    return said_dont_know(text) or (isinstance(text, str) and bool(_DECLINE_RE.match(_normalise(text[:MAX_ANSWER_CHARS]))))


# ---------------------------------------------------------------------------------------
# Asking for a person (FAILSAFE-6: the questions stop, and a call-back is arranged)

_PERSON_RE = re.compile(
    r"\b(?:(?:i|we)(?: would|'d)? (?:want|like|need|prefer|rather)(?: to)?|can i|could i|may i|let me|"
    r"i'd rather|please let me)\s+(?:talk|speak|chat)\s+(?:to|with)\s+(?:a |an |some )?"
    r"(?:someone|somebody|person|human|real person|nurse|social worker|member of staff|people)\b"
    r"|\b(?:call|ring|phone) me(?: back)?\b|\bcall ?back\b|\bput me through\b")


def asks_for_person(text: Any) -> bool:
    """ "I want to talk to someone", "can someone call me back": the person asks for a person.
    ("She needs someone to talk to" is about loneliness, not this.)"""
    return isinstance(text, str) and bool(_PERSON_RE.search(_normalise(text[:MAX_ANSWER_CHARS])))
