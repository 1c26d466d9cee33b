"""Turning the app's question and decision into chat messages: pure functions, no I/O.

The REST channel sends a message's text (with its buttons) and its `custom` payload as two
separate messages, one after the other; so each question is its text message followed by
a custom message that repeats the text with the fact ids asked, the kind and the options.
"""
from __future__ import annotations

import re
from typing import Any

# What each route and pathway means for the person, in plain words. Presentation only: the
# route itself is the app's decision.
HEADLINES: dict[tuple[str, str | None], str] = {
    ("emergency", "ambulance"): "Call 999 now and ask for an ambulance.",
    ("emergency", "police"): "Call 999 now and ask for the police.",
    ("rapid_response", "ucr"): "This needs an urgent visit at home from the urgent community response team.",
    ("rapid_response", "mental_health_crisis"): "This needs the mental health crisis team.",
    ("mdt", "complex_care"): "We will refer this to the local care team for a joined-up review of health and care needs.",
    ("mdt", "care_act_assessment"): "We will refer this to the local care team for an assessment of care and support needs.",
    ("mdt", "carer_assessment"): "We will refer this to the local care team for a carer's assessment.",
    ("mdt", "end_of_life"): "We will refer this to the local care team, who support people at the end of life.",
    ("mdt", "post_discharge"): "We will refer this to the local care team, who help people settle back at home after hospital.",
    ("mdt", "safeguarding"): "We will pass this to the local care team's safeguarding staff, who will look into it.",
    ("voluntary_sector", "community_support"): "We will put you in touch with local community and voluntary services that can help.",
    ("self_care", "information"): "You don't need a referral. Here is some information and advice.",
    ("out_of_scope", "children_services"): "This service is for adults, so it can't take this referral. Here is who can help.",
    ("out_of_scope", "other_area"): "The person is outside the area this service covers. Here is who can help.",
}
ROUTE_FALLBACK = "A member of the team will look at what you have told us."

_DURATION = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$")


def when_in_words(duration: str | None) -> str | None:
    """'PT2H' -> 'within 2 hours', 'P2D' -> 'within 2 working days', 'PT0M' -> 'now'."""
    if not duration:
        return None
    match = _DURATION.match(duration)
    if not match:
        return None
    days, hours, minutes = (int(match.group(key) or 0) for key in ("days", "hours", "minutes"))
    if days:
        return f"within {days} working day{'s' if days != 1 else ''}"
    if hours:
        return f"within {hours} hour{'s' if hours != 1 else ''}"
    if minutes:
        return f"within {minutes} minutes"
    return "now"


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
    if contact_id:
        custom["contact_id"] = contact_id
    first: dict[str, Any] = {"text": text}
    if buttons:
        first["buttons"] = buttons
    return [first, {"json_message": custom}]


def outcome_lines(decision: dict[str, Any], contact_id: str | None) -> list[str]:
    """The outcome in plain words: what happens, by when, the advice, and the reference."""
    route, pathway = decision.get("route"), decision.get("pathway")
    lines = [HEADLINES.get((route, pathway), ROUTE_FALLBACK)]
    when = when_in_words(decision.get("response_target"))
    if route not in ("emergency", "self_care", "out_of_scope") and when:
        lines.append(f"Someone from the team will contact you {when}.")
    level = (decision.get("safeguarding") or {}).get("level", "none")
    if level in ("referral", "urgent"):
        lines.append("We will also make a safeguarding referral, so that the person is kept safe.")
    elif level == "concern":
        lines.append("Your concern about the person's safety has been recorded.")
    for service in decision.get("services") or []:
        name = service.get("name")
        if name:
            organisation = service.get("organization")
            lines.append(f"Service that may help: {name}" + (f" ({organisation})." if organisation else "."))
    lines.extend(str(advice) for advice in decision.get("advice") or [])
    if decision.get("status") == "incomplete" and route != "emergency":
        lines.append(
            "We could not finish all the safety questions. If anything changes, or anyone is in danger, call 999."
        )
    if route != "emergency":
        lines.append("A member of the team will check this before anything is arranged.")
    if contact_id:
        lines.append(f"Your reference number is {contact_id}.")
    return lines


def outcome_messages(decision: dict[str, Any], contact_id: str | None) -> list[dict[str, Any]]:
    """One text message per line, then the custom message carrying the decision."""
    lines = outcome_lines(decision, contact_id)
    messages: list[dict[str, Any]] = [{"text": line} for line in lines]
    messages.append({"json_message": {"decision": decision, "contact_id": contact_id, "summary": lines}})
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
