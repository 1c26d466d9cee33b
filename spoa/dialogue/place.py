"""The place question's answer, for the chat and the console alike (PROTOCOL.md SCOPE-2, 1.1).

Typed words are resolved through the gazetteer (spoa/gazetteer.py). An answer that can't be
resolved, or names a place in two localities (or inside and outside), is kept as unknown (null)
and asked once more, offering the candidates, every locality by name, "Somewhere else" and
"I don't know". "I don't know" or a refusal is not asked again: the person is served (FAILSAFE-3).
"""
from __future__ import annotations

from typing import Any

from spoa.dialogue.answers import said_dont_know
from spoa.dialogue.questions import UNKNOWN, Flows, build_question
from spoa.gazetteer import PlaceAnswer, read_place_answer


def place_answer(flows: Flows, config: Any, answer: dict | None) -> PlaceAnswer | None:
    """What an answer to the place question means, when it is typed words (a button's value,
    a configured locality id or "unknown", needs no second look); None for other questions."""
    if not answer or not isinstance(answer.get("value"), str):
        return None
    spec = flows.by_id.get(answer.get("question_id"))
    if spec is None or not spec.place:
        return None
    value = answer["value"].strip()
    if value.lower() == UNKNOWN or value in config.localities:
        return None
    return read_place_answer(config, value, dont_know=said_dont_know(value))


def reask_question(flows: Flows, config: Any, question_id: str, place: PlaceAnswer, known: dict,
                   audience: str = "resident") -> dict:
    """The place question once more, with the choices (as the question's JSON)."""
    question = build_question(flows.by_id[question_id], audience, known).to_dict()
    if config.gazetteer is None:
        return question
    if place.resolution.how == "fuzzy":
        names = " or ".join(dict.fromkeys(candidate.name for candidate in place.resolution.candidates))
        text = f"Did you mean {names}? If not, which of these areas is it in?"
    elif place.resolution.candidates:
        text = f"There is more than one place called {place.words}. Which one do you mean?"
    else:
        text = "I couldn't find that place. Which of these areas is it in?"
    return {**question, "text": text, "options": config.gazetteer.reask_options(place.resolution)}


def reask_after(flows: Flows, config: Any, words: str | None, place_answers: list[Any], known: dict,
                audience: str) -> dict | None:
    """The place question to ask once more, when its one answer so far (`place_answers`, the
    locality values given, oldest first) was typed `words` that could not be resolved; else None.
    For a dialogue that keeps no state between requests (the console): asked again only once."""
    spec = flows.by_fact.get("locality")
    if spec is None or not words or len(place_answers) != 1 or place_answers[0] is not None:
        return None
    place = read_place_answer(config, words, dont_know=said_dont_know(words))
    return reask_question(flows, config, spec.id, place, known, audience) if place.ask_again else None
