"""Consent to share before a referral (pure): when it is needed, and when its refusal stops one.

A voluntary-sector or MDT referral shares the person's details with another team, so the
person (or someone lawfully acting for them) is asked `consent_to_share` first. It is not
asked, and a "no" doesn't stop the referral, where the protocol says a referral goes ahead
without consent:
- 999 and urgent community response (`emergency`, `rapid_response`): a threat to life or an
  urgent need comes first (and the urgent team asks on arrival);
- an adult safeguarding referral (level `referral` or `urgent`): SAFE-5 decides its consent
  on its own fact, `consent_to_safeguarding_referral`;
- SAFE-5's grounds: the person lacks capacity, others or a child are at risk, immediate
  danger, or organisational abuse (a service implicated).

Without consent the person gets the advice and signposting instead of a referral: nothing
goes on the worklist, and the refusal is recorded. Unknown consent never stops a referral
(an unanswered question must not turn a person away); the duty worker sees it is not known.

The dialogue asks the question when `needs_consent` says so; the worklist reads
`referral_withheld`. One rule, both faces.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CONSENT_ROUTES = ("mdt", "voluntary_sector")
SAFE5_GROUNDS = ("lacks_capacity", "others_at_risk", "child_at_risk", "immediate_danger")


def needs_consent(route: str | None, decision: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Must the person agree before this referral shares their details?"""
    if route not in CONSENT_ROUTES:
        return False
    if (decision.get("safeguarding") or {}).get("level") in ("referral", "urgent"):
        return False
    if any(facts.get(fact) is True for fact in SAFE5_GROUNDS):
        return False
    return "organisational" not in (facts.get("abuse_types") or [])


def referral_withheld(route: str | None, decision: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """The person said no to sharing where their consent is needed: advice, not a referral."""
    return needs_consent(route, decision, facts) and facts.get("consent_to_share") is False
