"""The outcome in words, in one place: the chat's outcome panel and lines, and the console's
read-back to the caller. Pure functions.

`outcome_view(decision, contact_id)` gives what the chat page shows: the route in plain words,
what happens next and by when, what happens about safeguarding, what to do while waiting,
the advice, and the reference number. The same view is built whether the decision came
through Rasa (its outcome message's custom payload) or the guided form.
`outcome_lines(view)` gives the same words as chat lines (the dialogue turn's `summary`,
which the Rasa actions say). `readback(...)` is what the call handler reads back.
Presentation only: the route is the engine's decision, and a person confirms it. No
internal code (route, pathway or rule id) appears in these words.
"""
from __future__ import annotations

from typing import Any

from spoa import working_days

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
    ("out_of_scope", "children_services"): "This service is for adults: here is who can help",
    ("out_of_scope", "other_area"): "The person is outside the area this service covers: here is who can help",
}
ROUTE_HEADLINES = {
    "emergency": "Call 999 now",
    "rapid_response": "An urgent response",
    "mdt": "A referral to the local care team",
    "voluntary_sector": "Support from local community services",
    "out_of_scope": "This service can't take this referral: here is who can help",
}
# Self-care: "no referral" only when no referral of any kind, safeguarding included, is made.
SELF_CARE_HEADLINE = "No referral is needed: information and advice"
SELF_CARE_WITH_SAFEGUARDING = "Information and advice, and a safeguarding referral"
WHO = {
    "ucr": "The urgent community response team",
    "mental_health_crisis": "The mental health crisis team",
    "community_support": "A local community service",
}
REVIEWED = "A member of the team checks this before anything is arranged."
WITHHELD_HEADLINE = "Information about services that can help"
WITHHELD_STEPS = ("You told us you would rather we did not share these details, so we have not made a referral. "
                  "The services and advice below can help, and you can contact them yourself at any time.")
ADULT_SAFEGUARDING = ("We will also make a safeguarding referral to the council's safeguarding team, who will "
                      "look into your concern and work out how to keep the person safe.")
CHILD_SAFEGUARDING = ("Because a child may be at risk, we are passing this on today to Kent County Council's "
                      "Front Door for children's social care (03000 41 11 11), who decide how to keep the child "
                      "safe. If a child is in danger now, call 999.")
CONCERN = "Your concern about the person's safety has been recorded."
INCOMPLETE = ("We could not finish all the safety questions. If anything changes, or anyone is in danger, "
              "call 999.")
# "While you wait": what to do until the team arrives, by pathway (the decision's advice
# covers the rest; these are the first-aid and safety words for each route's wait).
WHILE_YOU_WAIT: dict[str, list[str]] = {
    "ucr": [
        "If they have fallen, don't try to lift them yourself: you could hurt them or yourself.",
        "Keep them warm and comfortable where they are, with a blanket or a coat, and a pillow under their head.",
        "Give them small sips of water if they are awake and can swallow, but nothing to eat.",
        "If they get worse (they become drowsy or confused, have chest pain or trouble breathing, or are in a "
        "lot of pain), call 999.",
    ],
    "mental_health_crisis": [
        "If you can, stay with them or make sure someone else is with them.",
        "Move anything they could use to harm themselves out of reach, such as medicines or sharp things, if "
        "it is safe to do so.",
        "If they harm themselves or you think their life is at risk, call 999.",
    ],
    "safeguarding": [
        "If the person is in danger at any time, call 999.",
        "Don't confront the person you think may be causing harm.",
    ],
    "end_of_life": [
        "If their symptoms suddenly get worse, call their GP or community nursing team, or NHS 111 out of hours.",
    ],
    "post_discharge": [
        "If they become unwell or can't manage their medicines, call their GP, or NHS 111 out of hours.",
    ],
}


def when_in_words(duration: str | None) -> str | None:
    """'PT2H' -> 'within 2 hours', 'P2D' -> 'within 2 working days' (the protocol's day targets
    are working days; spoa.working_days counts them), 'PT0M' -> 'now'; None if no target."""
    try:
        return working_days.target_words(duration)
    except ValueError:
        return None


def target_words(duration: str | None) -> str:
    """The response target as a label ("Within 2 working days", "Now", "No response target"):
    the same words as the chat's, for the console and the worklist."""
    when = when_in_words(duration)
    if when is None:
        return "No response target"
    return when[0].upper() + when[1:]


def _safeguarding(decision: dict[str, Any]) -> dict[str, Any]:
    return decision.get("safeguarding") or {}


def refers_adult_safeguarding(decision: dict[str, Any]) -> bool:
    safeguarding = _safeguarding(decision)
    about = safeguarding.get("about") or ["adult"]
    return safeguarding.get("level") in ("referral", "urgent") and "adult" in about


def refers_child_safeguarding(decision: dict[str, Any]) -> bool:
    safeguarding = _safeguarding(decision)
    return safeguarding.get("level") in ("referral", "urgent") and "child" in (safeguarding.get("about") or [])


def headline(decision: dict[str, Any]) -> str:
    route, pathway = decision.get("route"), decision.get("pathway")
    if route == "self_care":
        referred = refers_adult_safeguarding(decision) or refers_child_safeguarding(decision)
        return SELF_CARE_WITH_SAFEGUARDING if referred else SELF_CARE_HEADLINE
    return HEADLINES.get((route, pathway)) or ROUTE_HEADLINES.get(route or "", "What happens next")


def next_steps(route: str | None, pathway: str | None, when: str | None, referral: bool = False) -> str:
    """What happens next, and by when. `referral`: a safeguarding referral is made (so a
    self-care outcome doesn't say no referral is needed)."""
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
        if referral:
            return "The advice below may help. The safeguarding referral is the only referral we are making."
        return "You don't need a referral. The advice below may help."
    if route == "out_of_scope":
        return "This service can't take this referral. The advice below says who can help."
    return "A member of the team will look at what you have told us and contact you."


def safeguarding_notes(decision: dict[str, Any]) -> list[str]:
    """What happens about safeguarding, for the adult and for a child, in plain words."""
    notes = []
    if refers_adult_safeguarding(decision):
        notes.append(ADULT_SAFEGUARDING)
    if refers_child_safeguarding(decision):
        notes.append(CHILD_SAFEGUARDING)
    if not notes and _safeguarding(decision).get("level") == "concern":
        notes.append(CONCERN)
    return notes


def while_you_wait(decision: dict[str, Any]) -> list[str]:
    """What to do until help comes, for the pathway (none for 999: the 999 call handler says)."""
    route, pathway = decision.get("route"), decision.get("pathway")
    if route == "emergency":
        return []
    lines = list(WHILE_YOU_WAIT.get(pathway or "", []))
    if route != "mdt" or pathway != "safeguarding":
        if refers_adult_safeguarding(decision) or refers_child_safeguarding(decision):
            lines += [line for line in WHILE_YOU_WAIT["safeguarding"] if line not in lines]
    return lines


def outcome_view(decision: dict[str, Any], contact_id: str | None, council: str | None = None,
                 withheld: bool = False) -> dict[str, Any]:
    """The outcome panel's content, from a decision (decision.schema.json). `council`: the
    person's own council when they are in another area and the gazetteer knows it.
    `withheld`: the person said no to sharing, so the referral is not made (spoa.consent): the
    words say so, and point to the services they can contact themselves."""
    route, pathway = decision.get("route"), decision.get("pathway")
    when = when_in_words(decision.get("response_target"))
    referral = refers_adult_safeguarding(decision) or refers_child_safeguarding(decision)
    notes = safeguarding_notes(decision)
    if council and route == "out_of_scope" and pathway == "other_area":
        notes.insert(0, f"The council for the area the person is in now is {council}: contact its adult "
                        f"social care team.")
    if decision.get("status") == "incomplete" and route != "emergency":
        notes.append(INCOMPLETE)
    services = [{"name": str(service["name"]), "organization": service.get("organization")}
                for service in decision.get("services") or [] if isinstance(service, dict) and service.get("name")]
    return {
        "emergency": route == "emergency",
        "route": route,
        "pathway": pathway,
        "headline": WITHHELD_HEADLINE if withheld else headline(decision),
        "next_steps": WITHHELD_STEPS if withheld else next_steps(route, pathway, when, referral),
        "by_when": None if withheld else when,
        "notes": notes,
        "while_you_wait": while_you_wait(decision),
        "services": services,
        "advice": [str(advice) for advice in decision.get("advice") or []],
        "reviewed": None if route == "emergency" else REVIEWED,
        "reference": contact_id,
    }


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def outcome_lines(view: dict[str, Any]) -> list[str]:
    """The outcome panel's content (`outcome_view`) as chat lines, in the panel's order: the
    headline, what happens next, the notes, while you wait, the services, the advice, the
    check by a person and the reference."""
    lines = [_sentence(view["headline"]), view["next_steps"], *view["notes"]]
    if view.get("while_you_wait"):
        lines.append("While you wait:")
        lines.extend(view["while_you_wait"])
    for service in view["services"]:
        organisation = service.get("organization")
        lines.append(f"Service that may help: {service['name']}" + (f" ({organisation})." if organisation else "."))
    lines.extend(view["advice"])
    if view["reviewed"]:
        lines.append(view["reviewed"])
    if view["reference"]:
        lines.append(f"Your reference number is {view['reference']}.")
    return lines


def readback_no_target(decision: dict[str, Any]) -> str:
    """The read-back's "by when" for a route with no response target: never "no referral"
    beside a safeguarding referral."""
    if refers_adult_safeguarding(decision) or refers_child_safeguarding(decision):
        return "The safeguarding referral goes to the team today; there is no other referral."
    return "No referral: there is no response time."


def readback_lines(decision: dict[str, Any], reference: str, route: str | None, by_when: str,
                   withheld: bool = False) -> dict[str, Any]:
    """What the call handler reads back: the reference, what happens next and by when, what
    happens about safeguarding, and what to do while waiting. `route` is the route the call
    closes with (the handler may have overridden the decision's); `withheld`: the caller said
    no to sharing, so no referral is made."""
    same = route == decision.get("route")
    shown = decision if same else {**decision, "route": route, "pathway": None, "response_target": None}
    referral = refers_adult_safeguarding(decision) or refers_child_safeguarding(decision)
    steps = WITHHELD_STEPS if withheld else next_steps(route, shown.get("pathway"), None, referral)
    if withheld:
        by_when = "No referral is made."
    wait = while_you_wait(shown)
    lines = [f"Your reference number is {reference}.", steps, by_when, *safeguarding_notes(decision)]
    if wait:
        lines += ["While you wait: " + " ".join(wait)]
    return {"lines": [line for line in lines if line], "next": steps, "while_you_wait": wait}
