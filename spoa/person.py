"""The person a contact is about, and how to reach them (pure: no I/O, no clock).

Kept apart from the triage facts on purpose: the engine decides on needs and risks, never on
a name or an address, and these details are shown only to the people who must act on them.
Every field is optional here, so the chat can collect them one answer at a time; what a
referral still needs to reach the person is `missing_for_referral`.

Each parser returns the value in one standard form or raises `PersonError` with a message a
person can act on (the chat reads it out, the console shows it beside the field).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from spoa.postcodes import PostcodeError, parse_postcode

# In the order the chat asks them; the caller's own details only when the caller is not the person.
PERSON_FIELDS = ("name", "date_of_birth", "address", "postcode", "phone", "phone_other", "nhs_number",
                 "gp_practice")
CALLER_FIELDS = ("caller_name", "caller_phone", "caller_relationship")
FIELDS = PERSON_FIELDS + CALLER_FIELDS
# What a team needs to reach the person: who they are, and a phone or an address.
NEEDED_FOR_REFERRAL = ("name", "date_of_birth", "phone", "address", "postcode")
# A person older than this is a typing mistake (the oldest person on record was 122).
OLDEST_AGE_YEARS = 125
MAX_TEXT = {"name": 120, "address": 300, "gp_practice": 120, "caller_name": 120, "caller_relationship": 60}
LABELS = {
    "name": "Name", "date_of_birth": "Date of birth", "address": "Address", "postcode": "Postcode",
    "phone": "Phone", "phone_other": "Other phone", "nhs_number": "NHS number", "gp_practice": "GP practice",
    "caller_name": "Caller's name", "caller_phone": "Caller's phone",
    "caller_relationship": "Caller's relationship to the person",
}


class PersonError(ValueError):
    """Details that can't be right; `errors` maps each bad field to its message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


# -- one field at a time ---------------------------------------------------------------------

def parse_phone(text: str) -> str:
    """A UK phone number as its national digits ("+44 7700 900123" -> "07700900123").

    Accepts spaces, dashes, dots, brackets and a +44/0044 prefix. Refuses what can't reach a
    person on a UK line: too short or long, numbers starting 04/06 (not in use) or 09 (premium).
    """
    raw = (text or "").strip()
    digits = re.sub(r"[\s\-.()]", "", raw)
    if digits.startswith("+44"):
        digits = "0" + digits[3:].removeprefix("0")  # "+44 (0)1227 ..." is common on letterheads
    elif digits.startswith("0044"):
        digits = "0" + digits[4:]
    if not digits.isdigit() or not digits.startswith("0"):
        raise PersonError({"phone": f"{raw!r} is not a UK phone number: enter one like 07700 900123."})
    # 01 area codes have 10- and 11-digit numbers, 0800 has some 10-digit ones; the rest are 11.
    allowed = (10, 11) if digits.startswith(("01", "0800")) else (11,)
    if digits[1] in "469" or len(digits) not in allowed:
        raise PersonError({"phone": f"{raw!r} is not a UK phone number: enter one like 07700 900123 "
                                    "(11 digits, starting with 0)."})
    return digits


def format_phone(digits: str) -> str:
    """For reading out: 020 7946 0018, 0113 496 0000, 07700 900123, 01632 960001."""
    if digits.startswith("02") and len(digits) == 11:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if re.match(r"01[1-9]1|011", digits) and len(digits) == 11:
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return f"{digits[:5]} {digits[5:]}"


def nhs_check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit of an NHS number's first nine digits; None when the
    number can't have one (11 - remainder is 10: no valid number starts that way)."""
    total = sum(int(d) * weight for d, weight in zip(first_nine, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def parse_nhs_number(text: str) -> str:
    """Ten digits whose last is the Modulus 11 check digit of the others ("943 476 5919")."""
    raw = (text or "").strip()
    digits = re.sub(r"[\s\-]", "", raw)
    if not (digits.isdigit() and len(digits) == 10):
        raise PersonError({"nhs_number": f"{raw!r} is not an NHS number: it has 10 digits, like 943 476 5919."})
    if nhs_check_digit(digits[:9]) != int(digits[9]):
        raise PersonError({"nhs_number": f"{raw!r} is not a valid NHS number (its check digit is wrong): "
                                         "check each digit, or leave it out."})
    return digits


def format_nhs_number(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %d %Y")


def parse_date_of_birth(text: str | date, *, today: date) -> date:
    """A date of birth in the past, given day first (02/03/1948 is 2 March) or ISO."""
    if isinstance(text, date):
        parsed = text
    else:
        raw = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", (text or "").strip().replace(",", ""))
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(raw, fmt).date()
                break
            except ValueError:
                continue
        else:
            raise PersonError({"date_of_birth": f"{text!r} is not a date: enter it like 02/03/1948."})
    if parsed > today:
        raise PersonError({"date_of_birth": "A date of birth can't be in the future."})
    if today.year - parsed.year > OLDEST_AGE_YEARS:
        raise PersonError({"date_of_birth": f"{parsed:%d/%m/%Y} is more than {OLDEST_AGE_YEARS} years ago: "
                                            "check the year."})
    return parsed


def parse_text(name: str, text: str) -> str:
    """A name, address or relationship: trimmed, with a letter in it, not too long."""
    cleaned = re.sub(r"[ \t]+", " ", (text or "").strip())
    limit = MAX_TEXT.get(name, 120)
    if not re.search(r"[^\W\d_]", cleaned):
        raise PersonError({name: f"Enter the {LABELS[name].lower()} in words."})
    if len(cleaned) > limit:
        raise PersonError({name: f"The {LABELS[name].lower()} is too long (at most {limit} characters)."})
    return cleaned


def parse_field(name: str, value: Any, *, today: date) -> Any:
    """One answer in its standard form; None or blank clears the field."""
    if name not in FIELDS:
        raise PersonError({name: f"Unknown detail {name!r}; known: {', '.join(FIELDS)}."})
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if name in ("phone", "phone_other", "caller_phone"):
            return parse_phone(value)
        if name == "postcode":
            return parse_postcode(value)
        if name == "nhs_number":
            return parse_nhs_number(value)
        if name == "date_of_birth":
            return parse_date_of_birth(value, today=today).isoformat()
        return parse_text(name, value)
    except PostcodeError as exc:
        raise PersonError({name: str(exc)}) from exc
    except PersonError as exc:  # the phone parser names `phone`: say which phone
        raise PersonError({name: next(iter(exc.errors.values()))}) from exc


# -- all of them -----------------------------------------------------------------------------

def parse_person(data: Any, *, today: date) -> dict[str, Any]:
    """The details given, each in its standard form (None for a cleared one); every bad field
    is reported at once, so a form shows all its errors together."""
    if not isinstance(data, Mapping):
        raise PersonError({"details": "The person's details must be a JSON object of named fields."})
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in data.items():
        if value is not None and not isinstance(value, str | date):
            errors[name] = f"{LABELS.get(name, name)} must be text."
            continue
        try:
            parsed[name] = parse_field(name, value, today=today)
        except PersonError as exc:
            errors.update(exc.errors)
    if errors:
        raise PersonError(errors)
    return parsed


def missing_for_referral(details: Mapping[str, Any]) -> list[str]:
    """What a team still lacks to reach the person: name and date of birth, and a phone or a
    full address (address and postcode). Empty when the referral can reach them."""
    missing = [name for name in ("name", "date_of_birth") if not details.get(name)]
    has_phone = bool(details.get("phone") or details.get("phone_other"))
    has_address = bool(details.get("address") and details.get("postcode"))
    if not has_phone and not has_address:
        missing += ["phone"] + [name for name in ("address", "postcode") if not details.get(name)]
    return missing


def display(details: Mapping[str, Any]) -> dict[str, str]:
    """Label -> text for a page (phones and NHS number spaced for reading out)."""
    shown: dict[str, str] = {}
    for name in FIELDS:
        value = details.get(name)
        if not value:
            continue
        if name in ("phone", "phone_other", "caller_phone"):
            value = format_phone(value)
        elif name == "nhs_number":
            value = format_nhs_number(value)
        elif name == "date_of_birth":
            value = date.fromisoformat(value).strftime("%d/%m/%Y")
        shown[LABELS[name]] = value
    return shown
