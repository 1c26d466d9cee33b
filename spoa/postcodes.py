"""UK postcodes: the one parser and validator (the gazetteer's place answers, the person's address).

A postcode is an outward code (area + district: "ME13", "SW1A", "TN30") and an inward code
(sector digit + unit: "8AB"). The shape follows the Royal Mail / ONS rules: the area letters
are one of the 121 UK postcode areas (so "A1" the road or "M25" alone are not taken for
postcodes unless asked for outward codes), inward letters never use C, I, K, M, O or V, and
the third and fourth positions only use the letters Royal Mail allows there. GIR 0AA (the old
Girobank code) is the one exception the format allows. This checks the shape, not that the
postcode is in use: only the Postcode Address File knows that.

    read_postcode("me13 8ab")   -> Postcode("ME13", "8AB")   str() "ME13 8AB", sector "ME13 8"
    parse_postcode("me13 8ab")  -> "ME13 8AB", or PostcodeError with a message a person can act on
    parse_outward("tn30")       -> "TN30"
    find_postcode("near TN30 6AB, Tenterden") -> Postcode(...);  find_postcode("TN30") -> "TN30"
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Royal Mail's postcode areas (England, Wales, Scotland, Northern Ireland, Crown dependencies).
AREAS = frozenset("""
AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC
EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS
LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP
SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE
""".split())

# Outward code: area, district digit(s), and an optional letter (A9A in London's central
# districts: ABCDEFGHJKPSTUW; AA9A: ABEHMNPRVWXY).
_OUTWARD_RE = re.compile(r"([A-Z]{1,2})([0-9][0-9A-Z]?)")
_INWARD_RE = re.compile(r"[0-9][ABD-HJLNP-UW-Z]{2}")
_A9A = set("ABCDEFGHJKPSTUW")
_AA9A = set("ABEHMNPRVWXY")
# In free text: an outward code, optional spaces (or a hyphen), and an inward code, whole words.
_FULL_IN_TEXT = re.compile(r"(?<![A-Z0-9])([A-Z]{1,2}[0-9][0-9A-Z]?)[\s-]*([0-9][A-Z]{2})(?![A-Z0-9])")
_OUTWARD_IN_TEXT = re.compile(r"(?<![A-Z0-9])([A-Z]{1,2}[0-9][0-9A-Z]?)(?![A-Z0-9])")


@dataclass(frozen=True)
class Postcode:
    outward: str   # "ME13"
    inward: str    # "8AB"

    @property
    def area(self) -> str:
        return re.match(r"[A-Z]+", self.outward).group(0)

    @property
    def sector(self) -> str:
        """The postcode sector, outward code and the inward code's digit: "ME13 8"."""
        return f"{self.outward} {self.inward[0]}"

    def __str__(self) -> str:
        return f"{self.outward} {self.inward}"


def _valid_outward(code: str) -> bool:
    match = _OUTWARD_RE.fullmatch(code)
    if not match:
        return False
    area, district = match.groups()
    if area not in AREAS:
        return False
    if len(district) == 2 and district[1].isalpha():
        # a district letter: A9A in single-letter areas, AA9A in two-letter ones
        return district[1] in (_A9A if len(area) == 1 else _AA9A)
    return True


def parse_outward(text: str | None) -> str | None:
    """The outward code ("TN30") if `text` is one and nothing else, else None."""
    if not isinstance(text, str):
        return None
    code = re.sub(r"\s+", "", text).upper()
    return code if _valid_outward(code) else None


class PostcodeError(ValueError):
    """Text that cannot be a UK postcode."""


def read_postcode(text: str | None) -> Postcode | None:
    """A full postcode, normalised, if `text` is one (any case, with or without the space), else None."""
    if not isinstance(text, str):
        return None
    compact = re.sub(r"\s+", "", text).upper()
    if compact == "GIR0AA":
        return Postcode("GIR", "0AA")
    if len(compact) < 5 or len(compact) > 7:
        return None
    outward, inward = compact[:-3], compact[-3:]
    if not _valid_outward(outward) or not _INWARD_RE.fullmatch(inward):
        return None
    return Postcode(outward, inward)


def parse_postcode(text: str | None) -> str:
    """The postcode in its standard form ("ct12ab" -> "CT1 2AB"), or PostcodeError saying how to write one."""
    if not (text or "").strip():
        raise PostcodeError("Enter a postcode, like CT1 2AB.")
    postcode = read_postcode(text)
    if postcode is None:
        raise PostcodeError(f"{text.strip()!r} is not a UK postcode: enter one like CT1 2AB.")
    return str(postcode)


def is_postcode(text: str | None) -> bool:
    return read_postcode(text) is not None


def find_postcode(text: str | None) -> Postcode | str | None:
    """The first full postcode in free text, else the first outward code standing alone as a
    word ("TN30"), else None. Full postcodes win over outward codes anywhere in the text."""
    if not isinstance(text, str):
        return None
    upper = text.upper()
    for match in _FULL_IN_TEXT.finditer(upper):
        postcode = read_postcode(match.group(1) + match.group(2))
        if postcode is not None:
            return postcode
    for match in _OUTWARD_IN_TEXT.finditer(upper):
        if _valid_outward(match.group(1)):
            return match.group(1)
    return None
