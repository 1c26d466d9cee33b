"""Turning the app's question and decision into chat messages: pure functions, no I/O.

The REST channel sends a message's text (with its buttons) and its `custom` payload as two
separate messages, one after the other; so each question is its text message followed by
a custom message that repeats the text with the fact ids asked, the kind and the options.

The outcome's wording is the app's (web/chat_outcome.py): each dialogue turn returns it as
`summary`, and the actions say it. This Python (3.10, for Rasa) can't import the app, so
only a minimal text stands in if a turn comes without it.
"""
from __future__ import annotations

import re
from typing import Any

# Only if the app's turn carries no summary: the least that is safe to say.
EMERGENCY_FALLBACK = "Call 999 now."
ROUTE_FALLBACK = "A member of the team will look at what you have told us."


def option_value_and_label(option: Any) -> tuple[str, str]:
    """An option from flows/ may be a plain string or a mapping with a value and a label."""
    if isinstance(option, dict):
        value = option.get("value", option.get("id", option.get("payload")))
        label = option.get("label", option.get("text", option.get("title", value)))
        return str(value), str(label)
    return str(option), str(option)


def question_messages(
    question: dict[str, Any], prefix: str | None = None, contact_id: str | None = None
) -> list[dict[str, Any]]:
    """The messages (dispatcher.utter_message keyword arguments) that ask one question. The
    custom payload carries the contact's reference, so a client (the chat page) that loses
    Rasa mid-conversation can carry on with the same contact."""
    text = str(question.get("text") or question.get("ask_text") or "")
    if prefix:
        text = f"{prefix} {text}"
    options = list(question.get("options") or [])
    buttons = []
    for option in options:
        value, label = option_value_and_label(option)
        buttons.append({"title": label, "payload": value})
    ask = question.get("ask") or []
    custom = {
        "question_id": question.get("id"),
        "ask": list(ask) if isinstance(ask, (list, tuple)) else [ask],
        "kind": question.get("kind"),
        "options": options,
        "text": text,
    }
    if question.get("heard"):
        # Already known of these facts (heard in passing, or the answer being changed): the
        # page shows them ticked for the person to confirm or change.
        custom["heard"] = question["heard"]
    if contact_id:
        custom["contact_id"] = contact_id
    first: dict[str, Any] = {"text": text}
    if buttons:
        first["buttons"] = buttons
    return [first, {"json_message": custom}]


def outcome_lines(decision: dict[str, Any], contact_id: str | None, summary: Any = None) -> list[str]:
    """The outcome in plain words: the app's `summary` lines from the dialogue turn; without
    them, a minimal text (999 for an emergency) and the reference."""
    if isinstance(summary, list) and summary and all(isinstance(line, str) for line in summary):
        return list(summary)
    lines = [EMERGENCY_FALLBACK if decision.get("route") == "emergency" else ROUTE_FALLBACK]
    if contact_id:
        lines.append(f"Your reference number is {contact_id}.")
    return lines


def outcome_messages(decision: dict[str, Any], contact_id: str | None, summary: Any = None,
                     view: Any = None) -> list[dict[str, Any]]:
    """One text message per line, then the custom message carrying the decision and the app's
    outcome `view` (the page's panel: the council, a withheld referral), so nothing words it twice."""
    lines = outcome_lines(decision, contact_id, summary)
    messages: list[dict[str, Any]] = [{"text": line} for line in lines]
    custom: dict[str, Any] = {"decision": decision, "contact_id": contact_id, "summary": lines}
    if isinstance(view, dict):
        custom["outcome"] = view
    messages.append({"json_message": custom})
    return messages


_PHONE_JUNK = re.compile(r"[\s().-]")
_REFUSAL = re.compile(r"\b(no|none|not|don'?t|do not|haven'?t|rather not|prefer not|skip)\b", re.IGNORECASE)


def parse_phone(text: str | None) -> str | None:
    """A UK phone number in its national form (01227123456), or None if it isn't one."""
    if not text:
        return None
    compact = _PHONE_JUNK.sub("", text)
    if compact.startswith("+44"):
        compact = "0" + compact[3:].lstrip("0")
    elif compact.startswith("0044"):
        compact = "0" + compact[4:].lstrip("0")
    return compact if re.fullmatch(r"0\d{9,10}", compact) else None


def is_refusal(text: str | None) -> bool:
    """'no number', "I'd rather not": the resident doesn't want to give a number."""
    return bool(text) and not re.search(r"\d", text) and bool(_REFUSAL.search(text))
