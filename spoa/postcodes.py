"""UK postcodes: the one parser and validator the service uses (owned by the gazetteer lane).

Minimal first version (written by H6 REFERRAL for the person's address; H4 GAZETTEER builds on
it): the shape check of the Royal Mail / ONS postcode formats, normalised to upper case with one
space before the inward code ("ct1 2ab" -> "CT1 2AB"). It says whether text *can* be a postcode,
not that the postcode exists (that needs the ONS postcode directory).
"""
from __future__ import annotations

import re

# Outward code: A9, A99, AA9, AA99, A9A, AA9A; inward code: 9AA (the inward letters never use
# C, I, K, M, O or V). GIR 0AA is the one historic exception still in use.
_POSTCODE = re.compile(
    r"(?P<outward>[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRVWXY]?))"
    r"(?P<inward>[0-9][ABD-HJLNP-UW-Z]{2})")


class PostcodeError(ValueError):
    """Text that cannot be a UK postcode."""


def parse_postcode(text: str | None) -> str:
    """The postcode in its standard form, or PostcodeError with a message a person can act on."""
    cleaned = re.sub(r"\s+", "", (text or "")).upper()
    if not cleaned:
        raise PostcodeError("Enter a postcode, like CT1 2AB.")
    if cleaned == "GIR0AA":
        return "GIR 0AA"
    match = _POSTCODE.fullmatch(cleaned)
    if not match:
        raise PostcodeError(f"{text.strip()!r} is not a UK postcode: enter one like CT1 2AB.")
    return f"{match['outward']} {match['inward']}"


def is_postcode(text: str | None) -> bool:
    try:
        parse_postcode(text)
    except PostcodeError:
        return False
    return True
