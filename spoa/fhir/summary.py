"""The email-ready summary of a referral, for a receiving organisation with no endpoint
(most voluntary-sector organisations): a duty worker copies it into an email. Pure."""
from __future__ import annotations

from datetime import timezone

from .referral import Referral, _label


def _answer_text(value) -> str:  # noqa: ANN001
    if value is None:
        return "not known"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v).replace("_", " ") for v in value) or "none"
    return str(value).replace("_", " ")


def email_summary(referral: Referral) -> str:
    """Subject line, then the body: who, how to reach them, what is asked and by when, why."""
    person = referral.person
    name = person.name if person else None
    lines = [f"Subject: Referral {referral.reference} from {referral.sender.name}", "",
             f"To: {referral.team.name}" + (f" <{referral.team.email}>" if referral.team.email else ""),
             f"Referral for: {name or 'name not given'}"]
    if person:
        if person.birth_date:
            lines.append(f"Date of birth: {person.birth_date}")
        address = ", ".join(part for part in (person.address, person.postcode) if part)
        if address:
            lines.append(f"Address: {address}")
        if person.phones:
            lines.append(f"Phone: {', '.join(person.phones)}")
        if person.caller_name:
            lines.append(f"Referred by: {person.caller_name}"
                         + (f" ({person.caller_relationship})" if person.caller_relationship else "")
                         + (f", {person.caller_phone}" if person.caller_phone else ""))
    lines.append(f"Area: {referral.locality_name or 'not known'}")
    lines.append(f"Asked for: {_label(referral, referral.route)}"
                 + (f" ({_label(referral, referral.pathway)})" if referral.pathway else ""))
    if referral.due_at is not None:
        lines.append(f"Please respond by: {referral.due_at.astimezone(timezone.utc):%d %b %Y %H:%M} UTC")
    consent = referral.facts.get("consent_to_share")
    lines.append(f"Consent to share: {_answer_text(consent) if 'consent_to_share' in referral.facts else 'not recorded'}")
    services = referral.decision.get("services") or []
    if services:
        lines.append("Matched services: " + "; ".join(s.get("name", s.get("id", "")) for s in services))
    lines += ["", "What we were told:"]
    lines += [f"- {' '.join((referral.questions.get(fact) or fact).split())} {_answer_text(value)}"
              for fact, value in referral.facts.items()]
    fired = ", ".join(f["rule"] for f in referral.decision.get("fired") or [])
    lines += ["", f"Why (rules): {fired or 'none'}", f"Accepted by {referral.accepted_by} (duty worker).",
              f"Reference: {referral.reference}. Please quote it when you reply."]
    return "\n".join(lines)
