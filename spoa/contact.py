"""Validating a contact before it reaches the engine.

Only validated, typed facts may reach durable-rules (it compares strings with numbers without
complaint), so everything from outside comes through `parse_contact` or `parse_facts`. Errors
name the field, what was given and what is allowed, in plain words.
"""
from __future__ import annotations

import difflib
import json
from datetime import datetime, timezone
from typing import Any

from jsonschema import Draft202012Validator

from spoa.vocabulary import FactSpec, contact_schema, facts

CHANNELS = ("web_chat", "phone", "professional_referral")


class ContactError(ValueError):
    """A contact or a set of facts that can't be used, with every problem found."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(e["message"] for e in errors))

    @property
    def field(self) -> str | None:
        return self.errors[0].get("field") if self.errors else None


def _problem(field: str | None, message: str, given: Any = None, allowed: Any = None) -> dict:
    problem = {"field": field, "message": message}
    if given is not None:
        problem["given"] = given
    if allowed is not None:
        problem["allowed"] = allowed
    return problem


def _describe_allowed(spec: FactSpec) -> str:
    if spec.kind == "boolean":
        return "true, false or null (unknown)"
    if spec.kind == "integer":
        bounds = f" from {spec.minimum}" if spec.minimum is not None else ""
        bounds += f" to {spec.maximum}" if spec.maximum is not None else ""
        return f"a whole number{bounds}, or null (unknown)"
    if spec.kind == "string":
        return "text, or null (unknown)"
    if spec.kind == "choice":
        return "one of " + ", ".join(spec.options) + ", or null (unknown)"
    return "a list of distinct values from " + ", ".join(spec.options) + ", or null (unknown)"


def _allowed_values(spec: FactSpec) -> Any:
    return list(spec.options) if spec.options else spec.kind


def nearest_fact(name: str) -> str | None:
    match = difflib.get_close_matches(name, list(facts()), n=1, cutoff=0.6)
    return match[0] if match else None


_FACT_VALIDATORS: dict[str, Draft202012Validator] = {}


def _fact_validator(fact_id: str) -> Draft202012Validator:
    if fact_id not in _FACT_VALIDATORS:
        spec = contact_schema()["properties"]["facts"]["properties"][fact_id]
        _FACT_VALIDATORS[fact_id] = Draft202012Validator(spec)
    return _FACT_VALIDATORS[fact_id]


def _check_fact(fact_id: str, value: Any) -> dict | None:
    spec = facts()[fact_id]
    # bool is an int in Python and JSON Schema would accept 1 for a boolean elsewhere: be strict.
    wrong_bool = spec.kind == "integer" and isinstance(value, bool)
    if wrong_bool or any(True for _ in _fact_validator(fact_id).iter_errors(value)):
        return _problem(
            f"facts.{fact_id}",
            f"facts.{fact_id}: expected {_describe_allowed(spec)}; got {json.dumps(value)}",
            given=value, allowed=_allowed_values(spec),
        )
    return None


def _normalise(fact_id: str, value: Any) -> Any:
    """Forgive what JSON writers do: 70.0 for 70, and blank text for "not known"."""
    spec = facts().get(fact_id)
    if spec is None:
        return value
    if spec.kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if spec.kind in ("string", "choice") and isinstance(value, str):
        return value.strip() or None
    return value


def parse_facts(raw: Any) -> dict:
    """Validated facts. Raises ContactError.

    A null is kept (protocol 1.1): it means *asked, and the person could not say*, which the
    dialogue must not ask again; a fact left out has not been asked yet.
    """
    if not isinstance(raw, dict):
        raise ContactError([_problem("facts", f"facts must be an object of fact ids to values; got {type(raw).__name__}")])
    problems, clean = [], {}
    for fact_id, value in raw.items():
        value = _normalise(fact_id, value)
        if fact_id not in facts():
            hint = nearest_fact(str(fact_id))
            message = f"unknown fact {fact_id!r}" + (f" (did you mean {hint!r}?)" if hint else "")
            problems.append(_problem(f"facts.{fact_id}", message, given=fact_id, allowed=hint))
            continue
        problem = _check_fact(fact_id, value)
        if problem:
            problems.append(problem)
        else:
            clean[fact_id] = sorted(value, key=facts()[fact_id].options.index) if isinstance(value, list) else value
    if problems:
        raise ContactError(problems)
    return clean


def list_facts() -> tuple[str, ...]:
    """The list facts a contact may mark partial (contact.schema.json `partial`)."""
    return tuple(contact_schema()["properties"]["partial"]["items"]["enum"])


def parse_partial(raw: Any) -> list[str]:
    """The contact's `partial` list facts (protocol 1.1: heard in free text, read as "at least
    these items"), in asking order. Raises ContactError."""
    allowed = list_facts()
    if not isinstance(raw, list) or any(item not in allowed for item in raw) or len(set(raw)) != len(raw):
        raise ContactError([_problem("partial", f"partial must be a list of distinct list facts from {', '.join(allowed)}; "
                                                f"got {json.dumps(raw)}", given=raw, allowed=list(allowed))])
    return sorted(raw, key=lambda fact_id: facts()[fact_id].rank)


def _parse_time(value: Any) -> str:
    if not isinstance(value, str):
        raise ContactError([_problem("received_at", f"received_at must be an ISO 8601 date-time string; got {json.dumps(value)}", given=value)])
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ContactError([_problem("received_at", f"received_at is not an ISO 8601 date-time: {value!r}", given=value)]) from None
    if moment.tzinfo is None:
        raise ContactError([_problem("received_at", f"received_at needs a time zone (e.g. 'Z' or '+01:00'): {value!r}", given=value)])
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_contact(data: Any) -> dict:
    """A validated contact: {contact_id?, channel?, received_at?, partial?, facts} with typed facts
    (null kept: asked, not known).

    Accepts a dict, or JSON text/bytes. Extra top-level properties are kept (the contract
    allows them); unknown facts are not.
    """
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ContactError([_problem(None, "the contact is not UTF-8 text")]) from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as error:
            raise ContactError([_problem(None, f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}")]) from None
    if not isinstance(data, dict):
        raise ContactError([_problem(None, f"a contact must be a JSON object; got {type(data).__name__}")])
    if "facts" not in data:
        raise ContactError([_problem("facts", "a contact needs 'facts' (an object; facts not yet known may be left out)")])
    contact = {key: value for key, value in data.items() if key != "facts"}
    problems = []
    if "channel" in data and data["channel"] not in CHANNELS:
        problems.append(_problem("channel", f"channel must be one of {', '.join(CHANNELS)}; got {json.dumps(data['channel'])}",
                                 given=data["channel"], allowed=list(CHANNELS)))
    if "contact_id" in data and not isinstance(data["contact_id"], str):
        problems.append(_problem("contact_id", "contact_id must be a string", given=data["contact_id"]))
    if "received_at" in data and data["received_at"] is not None:
        try:
            contact["received_at"] = _parse_time(data["received_at"])
        except ContactError as error:
            problems.extend(error.errors)
    try:
        contact["facts"] = parse_facts(data["facts"])
    except ContactError as error:
        problems.extend(error.errors)
    if "partial" in data:
        try:
            contact["partial"] = parse_partial(data["partial"])
        except ContactError as error:
            problems.extend(error.errors)
    if problems:
        raise ContactError(problems)
    return contact
