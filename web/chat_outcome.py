"""A decision in the resident's words, for the chat page's outcome panel. Pure functions.

`outcome_view(decision, contact_id)` gives what the page shows: the route in plain words,
what happens next and by when, the advice, and the reference number. The same view is
built whether the decision came through Rasa (its outcome message's custom payload) or the
guided form, so both paths end on the same panel. Presentation only: the route is the
engine's decision, and a person confirms it.

`outcome_lines(view)` gives the same words as chat lines, for a channel that shows text
only: the dialogue turn (/api/dialogue/turn) returns them as `summary`, and the Rasa
actions (their own Python, which can't import this package) say them. This module is the
one place the outcome wording lives.
"""
from __future__ import annotations

from typing import Any

from spoa.working_days import target_words

HEADLINES: dict[tuple[str, str | None], str] = {
    ("emergency", "ambulance"): "Call 999 now and ask for an ambulance",
    ("emergency", "police"): "Call 999 now and ask for the police",
    ("rapid_response", "ucr"): "An urgent visit at home from the urgent community response team",
    ("rapid_response", "mental_health_crisis"): "Urgent help from the mental health crisis team",
    ("mdt", "complex_care"): "A referral to the local care team for a joined-up review of health and care needs",
    ("mdt", "care_act_assessment"): "A referral to the local care team for an assessment of care and support needs",
    ("mdt", "carer_assessment"): "A referral to the local care team for a carer's assessment",
    ("mdt", "end_of_life"): "A referral to the local care team, who support people at the end of life",
    ("mdt", "post_discharge"): "A referral to the local care team, who help people settle back at home after hospital",
    ("mdt", "safeguarding"): "A referral to the local care team's safeguarding staff, who will look into your concern",
    ("voluntary_sector", "community_support"): "Support from local community and voluntary services",
    ("self_care", "information"): "No referral is needed: information and advice",
    ("out_of_scope", "children_services"): "This service is for adults: here is who can help",
    ("out_of_scope", "other_area"): "The person is outside the area this service covers: here is who can help",
}
ROUTE_HEADLINES = {
    "emergency": "Call 999 now",
    "rapid_response": "An urgent response",
    "mdt": "A referral to the local care team",
    "voluntary_sector": "Support from local community services",
    "self_care": "No referral is needed: information and advice",
    "out_of_scope": "This service can't take this referral: here is who can help",
}
WHO = {
    "ucr": "The urgent community response team",
    "mental_health_crisis": "The mental health crisis team",
    "community_support": "A local community service",
}
REVIEWED = "A member of the team checks this before anything is arranged."

def when_in_words(duration: str | None) -> str | None:
    """'PT2H' -> 'within 2 hours', 'P2D' -> 'within 2 working days' (the protocol's day targets
    are working days), 'PT0M' -> 'now'; None if no target."""
    try:
        return target_words(duration)  # the one wording the worklist and the console use too
    except ValueError:
        return None


def next_steps(route: str | None, pathway: str | None, when: str | None) -> str:
    """What happens next, and by when."""
    by = f" {when}" if when and when != "now" else ""
    if route == "emergency":
        return "Call 999 now. Stay with the person if it is safe, and do what the call handler tells you."
    if route == "rapid_response":
        who = WHO.get(pathway or "", "The urgent response team")
        return f"{who} will contact you{by} and come to see the person."
    if route == "mdt":
        return f"The local care team will contact you{by} to talk about what is needed."
    if route == "voluntary_sector":
        return f"{WHO['community_support']} will contact you{by}."
    if route == "self_care":
        return "You don't need a referral. The advice below may help."
    if route == "out_of_scope":
        return "This service can't take this referral. The advice below says who can help."
    return "A member of the team will look at what you have told us and contact you."


def outcome_view(decision: dict[str, Any], contact_id: str | None) -> dict[str, Any]:
    """The outcome panel's content, from a decision (decision.schema.json)."""
    route, pathway = decision.get("route"), decision.get("pathway")
    when = when_in_words(decision.get("response_target"))
    level = (decision.get("safeguarding") or {}).get("level", "none")
    notes = []
    if level in ("referral", "urgent"):
        notes.append("We will also make a safeguarding referral, so that the person is kept safe.")
    elif level == "concern":
        notes.append("Your concern about the person's safety has been recorded.")
    if decision.get("status") == "incomplete" and route != "emergency":
        notes.append("We could not finish all the safety questions. If anything changes, or anyone is in "
                     "danger, call 999.")
    services = [{"name": str(service["name"]), "organization": service.get("organization")}
                for service in decision.get("services") or [] if isinstance(service, dict) and service.get("name")]
    return {
        "emergency": route == "emergency",
        "route": route,
        "pathway": pathway,
        "headline": HEADLINES.get((route, pathway)) or ROUTE_HEADLINES.get(route or "", "What happens next"),
        "next_steps": next_steps(route, pathway, when),
        "by_when": when,
        "notes": notes,
        "services": services,
        "advice": [str(advice) for advice in decision.get("advice") or []],
        "reviewed": None if route == "emergency" else REVIEWED,
        "reference": contact_id,
    }


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def outcome_lines(view: dict[str, Any]) -> list[str]:
    """The outcome panel's content (`outcome_view`) as chat lines, in the panel's order: the
    headline, what happens next, the notes, the services, the advice, the check by a person
    and the reference."""
    lines = [_sentence(view["headline"]), view["next_steps"], *view["notes"]]
    for service in view["services"]:
        organisation = service.get("organization")
        lines.append(f"Service that may help: {service['name']}" + (f" ({organisation})." if organisation else "."))
    lines.extend(view["advice"])
    if view["reviewed"]:
        lines.append(view["reviewed"])
    if view["reference"]:
        lines.append(f"Your reference number is {view['reference']}.")
    return lines
