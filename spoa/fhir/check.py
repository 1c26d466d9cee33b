"""Is this a referral request message we (or a receiver) can accept? (pure)

Two layers:
1. The FHIR R4 structure, with fhir.resources' R4B models (R4B keeps R4's ServiceRequest,
   MessageHeader and Consent fields): element names, types, required elements, date formats.
2. Our own check of the BaRS referral request: the MessageDefinition's focus cardinalities
   (profiles.REFERRAL_REQUEST_FOCUS), the MessageHeader first with the BaRS event and reason,
   focus on the ServiceRequest, intent `plan` and category `referral`, a response deadline,
   unique fullUrls, and every `urn:uuid:` reference resolving inside the Bundle.

Not checked (no terminology or profile validation offline): UK Core / BaRS profile
constraints beyond these, value-set bindings, FHIRPath invariants.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterator

from pydantic import ValidationError

from . import profiles as p


class MessageInvalid(ValueError):
    """The message is not a valid referral request; `problems` says each thing wrong."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _structure_problems(bundle: dict) -> list[str]:
    from fhir.resources.R4B.bundle import Bundle

    try:
        Bundle.model_validate(bundle)
    except ValidationError as error:
        return [f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()[:20]]
    except (KeyError, TypeError, ValueError) as error:  # an unknown resourceType, or not an object
        return [f"not a FHIR R4 Bundle: {error}"]
    return []


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _codes(concept: Any) -> set[tuple[str | None, str | None]]:
    codings = (concept or {}).get("coding") or [] if isinstance(concept, dict) else []
    return {(c.get("system"), c.get("code")) for c in codings if isinstance(c, dict)}


def _message_problems(bundle: dict) -> list[str]:
    problems: list[str] = []
    if bundle.get("type") != "message":
        problems.append(f"Bundle.type must be 'message' (got {bundle.get('type')!r})")
    if not bundle.get("timestamp"):
        problems.append("Bundle.timestamp is required (BARSBundleMessage)")
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    resources = [e.get("resource") or {} for e in entries]
    full_urls = [e.get("fullUrl") for e in entries]
    if any(url is None for url in full_urls):
        problems.append("every entry needs a fullUrl")
    duplicates = sorted(url for url, n in Counter(u for u in full_urls if u).items() if n > 1)
    if duplicates:
        problems.append(f"duplicate fullUrl: {', '.join(duplicates)}")
    by_url = {url: resource for url, resource in zip(full_urls, resources) if url}

    counts = Counter(resource.get("resourceType") for resource in resources)
    counts["Bundle"] = 1
    allowed = {focus.resource for focus in p.REFERRAL_REQUEST_FOCUS}
    for kind in sorted(set(counts) - allowed, key=str):
        problems.append(f"{kind} is not in the referral request MessageDefinition")
    for focus in p.REFERRAL_REQUEST_FOCUS:
        n = counts.get(focus.resource, 0)
        if n < focus.min or (focus.max is not None and n > focus.max):
            problems.append(f"{focus.resource}: {n} in the Bundle, the MessageDefinition allows "
                            f"{focus.min}..{'*' if focus.max is None else focus.max}")

    header = resources[0] if resources else {}
    if header.get("resourceType") != "MessageHeader":
        problems.append("the first entry must be the MessageHeader")
    else:
        event = header.get("eventCoding") or {}
        if (event.get("system"), event.get("code")) != (p.EVENT_SYSTEM, p.EVENT_CODE):
            problems.append(f"MessageHeader.eventCoding must be {p.EVENT_SYSTEM}|{p.EVENT_CODE}")
        if not any(system == p.REASON_SYSTEM and code in p.REASONS for system, code in _codes(header.get("reason"))):
            problems.append(f"MessageHeader.reason must be {p.REASON_SYSTEM} 'new' or 'update'")
        if not header.get("sender"):
            problems.append("MessageHeader.sender is required")
        focus = [by_url.get(ref.get("reference")) for ref in header.get("focus") or [] if isinstance(ref, dict)]
        if len(focus) != 1 or (focus[0] or {}).get("resourceType") != "ServiceRequest":
            problems.append("MessageHeader.focus must reference the ServiceRequest in this Bundle")
    for request in (r for r in resources if r.get("resourceType") == "ServiceRequest"):
        if request.get("intent") != "plan":
            problems.append("ServiceRequest.intent must be 'plan'")
        if not any((s, c) == (p.CATEGORY_SYSTEM, p.CATEGORY_CODE) for cat in request.get("category") or []
                   for s, c in _codes(cat)):
            problems.append("ServiceRequest.category must be the BaRS 'referral' category")
        if not (request.get("occurrencePeriod") or {}).get("end"):
            problems.append("ServiceRequest.occurrencePeriod.end (the response deadline) is required")
        if not request.get("authoredOn"):
            problems.append("ServiceRequest.authoredOn is required")
    dangling = sorted({ref for ref in _references(resources) if ref.startswith("urn:uuid:") and ref not in by_url})
    if dangling:
        problems.append(f"references to nothing in the Bundle: {', '.join(dangling[:5])}")
    return problems


def message_problems(bundle: Any) -> list[str]:
    """Everything wrong with `bundle` as a referral request message ([] when it is valid)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return ["not a FHIR Bundle (resourceType must be 'Bundle')"]
    return _structure_problems(bundle) + _message_problems(bundle)


def check_message(bundle: Any) -> dict:
    """`bundle` if it is a valid referral request message, else MessageInvalid."""
    problems = message_problems(bundle)
    if problems:
        raise MessageInvalid(problems)
    return bundle


def message_id(bundle: Any) -> str | None:
    """The MessageHeader id (the idempotency key), if the first entry is a MessageHeader."""
    try:
        header = bundle["entry"][0]["resource"]
    except (KeyError, IndexError, TypeError):
        return None
    return header.get("id") if isinstance(header, dict) and header.get("resourceType") == "MessageHeader" else None
