"""The JSON API (/api), described by the OpenAPI 3.1 document at /api/openapi.json.

Callers: the dialogue's action server (service token) and staff pages (session + CSRF
header). Each view parses the request, calls a store function in one transaction, and
returns JSON. Errors are JSON too (see web/errors.py). Logs name contact ids and routes only.
"""
from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for

from web.bootstrap import services
from web.errors import ApiError
from web.idempotency import Created, run_create
from web.openapi import openapi_document
from web import access
from web.referral_message import accept_and_send
from web.security import (AUDIT_ROLES, CREATE_ROLES, OVERRIDE_ROLES, STAFF_ROLES, WORKLIST_ACT_ROLES,
                          WORKLIST_ROLES, api_auth, csrf, current_actor)
from web.store import StoreUnavailable, audit, contacts, outbox, worklist

bp = Blueprint("api", __name__, url_prefix="/api")
# Calls with the service token carry no cookie, so no CSRF risk; staff calls are checked in api_auth.
csrf.exempt(bp)
log = logging.getLogger(__name__)

JSON_TYPES = ("application/json",)


def json_body(*, optional: bool = False) -> Any:
    """The request's JSON body: 415 if it isn't JSON, 400 if it doesn't parse, 413 if too big."""
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if optional and not raw.strip():
        return {}
    mimetype = request.mimetype or ""
    if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
        raise ApiError(415, "unsupported_media_type",
                       f"Send JSON with 'Content-Type: application/json' (got {mimetype or 'no content type'}).")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ApiError(400, "malformed_json",
                       f"The body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).") from None
    except ValueError:
        raise ApiError(400, "malformed_json", "The body is not valid JSON (it is not UTF-8 text).") from None


def _object(body: Any, what: str) -> dict:
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_contact", f"{what} must be a JSON object.", field=None)
    return body


def _source(body: dict) -> tuple[str, str]:
    """(source, actor) of facts: staff type into the console; the service says which of its
    parts (chat, extraction or api) gave them."""
    actor = current_actor()
    if actor.kind == "staff":
        return body.pop("source", None) or "console", actor.name
    return body.pop("source", None) or "api", "service"


def require(db, may, contact_id: str) -> str:  # noqa: ANN001
    """The contact's reference if the caller may do this to it (`may`: a web.access check);
    404 for an unknown contact, 403 for one outside the caller's work."""
    contact = contacts.get_contact(db, contact_id)
    if not may(db, current_actor(), contact.id):
        raise ApiError(403, "forbidden", "This contact is outside your work: your role can't see or change it.")
    return contact.id


def _outcome(outcome: contacts.Outcome, now) -> dict:  # noqa: ANN001
    item = outcome.worklist_item
    return {"id": outcome.contact.id, "contact": contacts.contact_summary(outcome.contact),
            "decision": outcome.decision, "decision_id": outcome.decision_id,
            "worklist_item": worklist.item_dict(item, now) if item is not None and item.status == "open" else None}


@bp.post("/extract")
@api_auth()
def extract():
    """Facts, in the contract's ids, found in free text by the rule-based extractor:
    {"text": ...} -> {"facts": {...}, "evidence": [...], "partial": [...]} (`partial`: the list
    facts heard in passing, at least these items). Stores nothing: callers propose the
    facts to a person (console) or add them to a contact themselves (dialogue)."""
    body = _object(json_body(), "The request")
    text = body.get("text")
    if not isinstance(text, str):
        raise ApiError(422, "invalid_text", "text must be a string.", field="text")
    extractor = services().fact_extractor()
    if extractor is None:
        raise ApiError(503, "extraction_unavailable", "Fact extraction is not available just now; ask the questions instead.")
    from spoa.extraction import ExtractionError

    try:
        result = extractor.extract(text)
    except ExtractionError as error:
        raise ApiError(422, "invalid_text", str(error), field="text") from None
    return jsonify({"facts": result["facts"], "evidence": result["evidence"], "partial": result["partial"]})


@bp.get("/health")
def health():
    """Database and ruleset status (200 when both are fine, 503 otherwise)."""
    spoa = services()
    body: dict[str, Any] = {"status": "ok",
                            "ruleset": {"version": spoa.triage.ruleset.version,
                                        "rules": len(getattr(getattr(spoa.triage.ruleset, "rulebook", None), "rules", ()))},
                            "database": {"backend": spoa.store.backend, "ok": True}}
    try:
        spoa.store.ping()
        body["database"]["revision"] = spoa.store.current_revision()
    except StoreUnavailable as error:
        body["status"] = "unavailable"
        body["database"].update(ok=False, message=str(error))
    return jsonify(body), 200 if body["status"] == "ok" else 503


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI 3.1 document."""
    return jsonify(openapi_document(current_app))


@bp.post("/triage")
@api_auth()
def triage():
    """Decide a contact without storing it."""
    spoa = services()
    body = _object(json_body(), "The contact")
    body.pop("source", None)
    contact = spoa.triage.parse_contact(body)
    return jsonify(spoa.triage.decide(contact, spoa.now()))


@bp.post("/contacts")
@api_auth(*CREATE_ROLES)
def create_contact():
    """Store a new contact with its first decision (one transaction). A retry with the same
    Idempotency-Key answers with the first contact (see web/idempotency.py)."""
    spoa = services()
    body = _object(json_body(), "The contact")
    source, actor = _source(body)
    now = spoa.now()

    def create(db):  # noqa: ANN001, ANN202
        outcome = contacts.create_contact(db, spoa.triage, body, now=now, source=source, actor=actor)
        log.info("contact %s stored: route=%s status=%s", outcome.contact.id, outcome.decision["route"],
                 outcome.decision.get("status"))
        return Created(outcome.contact.id, 201, _outcome(outcome, now))

    created = run_create(spoa.store, create)
    response = jsonify(created.body)
    response.status_code = created.status_code
    response.headers["Location"] = url_for("api.get_contact", contact_id=created.contact_id)
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/contacts/<contact_id>/facts")
@api_auth()
def add_facts(contact_id: str):
    """Add or correct facts (null = unknown again) and decide again."""
    spoa = services()
    body = _object(json_body(), "The body")
    source, actor = _source(body)
    if not isinstance(body.get("facts"), dict):
        raise ApiError(422, "invalid_contact", "Send the facts as {\"facts\": {\"fact_name\": value, ...}}.",
                       field="facts")
    now = spoa.now()
    outcome = spoa.store.run(lambda db: contacts.add_facts(
        db, spoa.triage, require(db, access.may_write_contact, contact_id), body["facts"], now=now, source=source,
        actor=actor))
    log.info("contact %s facts added: route=%s status=%s", outcome.contact.id, outcome.decision["route"],
             outcome.decision.get("status"))
    return jsonify({**_outcome(outcome, now), "facts": outcome.facts})


@bp.get("/contacts/<contact_id>")
@api_auth()
def get_contact(contact_id: str):
    """A contact's facts (current and every answer), decisions, reviews and worklist items."""
    spoa = services()
    actor, now = current_actor(), spoa.now()

    def read(db):  # noqa: ANN001, ANN202
        record = contacts.contact_record(db, require(db, access.may_read_contact, contact_id), now=now)
        audit.append(db, actor=actor.name, actor_role=actor.role, action="contact.view", target=record["id"],
                     details={"via": "api"}, at=now)
        return record

    return jsonify(spoa.store.run(read))


@bp.get("/contacts/<contact_id>/referral")
@api_auth(*STAFF_ROLES, service=False)  # the message holds the person's details: their readers only
def get_referral(contact_id: str):
    """The referral message sent for this contact (the newest): a FHIR R4 BaRS Bundle. It names
    the person, so it follows the person's details' rule (web.access.may_read_person): staff
    whose work includes the contact; not an admin, not the service token."""
    spoa = services()
    actor, now = current_actor(), spoa.now()

    def read(db):  # noqa: ANN001, ANN202
        contact = contacts.get_contact(db, require(db, access.may_read_person, contact_id))
        messages = outbox.for_contact(db, contact.id)
        if not messages:
            raise ApiError(404, "no_referral", f"No referral has been accepted and sent for {contact.id}.")
        audit.append(db, actor=actor.name, actor_role=actor.role, action="referral.view", target=contact.id,
                     details={"via": "api", "message": messages[0].message_id}, at=now)
        return messages[0].bundle

    response = current_app.response_class(json.dumps(spoa.store.run(read)), mimetype="application/fhir+json")
    return response


@bp.post("/contacts/<contact_id>/callback")
@api_auth()
def request_callback(contact_id: str):
    """A resident asked to talk to a person: a call-back request goes on the worklist."""
    spoa = services()
    body = _object(json_body(optional=True), "The body")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise ApiError(422, "invalid_callback", "note must be text.", field="note")
    now = spoa.now()

    def work(db):  # noqa: ANN001, ANN202
        # One open call-back, even if asked twice at once: the contact's row is locked.
        contact = contacts.lock_contact(db, require(db, access.may_write_contact, contact_id))
        decision = contacts.latest_decision(db, contact.id)
        target = decision.decision.get("response_target") if decision is not None else None
        return worklist.request_callback(db, contact, now=now, note=note, response_target=target)

    item = spoa.store.run(work)
    log.info("contact %s call-back requested: item %s", item.contact_id, item.id)
    return jsonify(worklist.item_dict(item, now)), 201


@bp.post("/contacts/<contact_id>/reviews")
@api_auth(*OVERRIDE_ROLES, service=False)
def review_contact(contact_id: str):
    """A supervisor confirms the current decision or overrides its route (reason required);
    an overridden referral gets the new route's deadline."""
    spoa = services()
    body = _object(json_body(), "The review")
    actor, now = current_actor(), spoa.now()
    row = spoa.store.run(lambda db: contacts.review(
        db, contact_id, action=str(body.get("action", "")), actor=actor.name, actor_role=actor.role, now=now,
        route=body.get("route"), pathway=body.get("pathway"), reason=body.get("reason"),
        targets=spoa.config.data.get("response_targets")))
    log.info("contact %s %s by %s", row.contact_id, row.action, actor.role)
    return jsonify({"id": row.id, "contact_id": row.contact_id, "action": row.action, "route": row.route,
                    "pathway": row.pathway, "reason": row.reason, "actor": row.actor,
                    "at": contacts.iso(row.at)}), 201


def _flag(name: str) -> bool | None:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ApiError(400, "bad_request", f"{name} must be true or false.", field=name, allowed=["true", "false"])


def _day(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be a date like 2026-01-31.", field=name) from None


def contact_filter_from_args() -> contacts.ContactFilter:
    """The list filters from the query string (shared with the audit pages)."""
    return contacts.ContactFilter(
        date_from=_day("from"), date_to=_day("to"), route=request.args.get("route") or None,
        pathway=request.args.get("pathway") or None,
        safeguarding_level=request.args.get("safeguarding_level") or None,
        review_required=_flag("review_required"), overridden=_flag("overridden"),
        locality=request.args.get("locality") or None, channel=request.args.get("channel") or None,
        status=request.args.get("status") or None)


def _int_arg(name: str, default: int, minimum: int = 0, maximum: int = 1_000_000) -> int:
    """A whole number in [minimum, maximum] (400 otherwise: a page past a billion rows or a
    negative offset would reach the database as an error, found by the API fuzz test)."""
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be a whole number.", field=name) from None
    if not minimum <= value <= maximum:
        raise ApiError(400, "bad_request", f"{name} must be between {minimum} and {maximum}.", field=name)
    return value


@bp.get("/contacts")
@api_auth(*AUDIT_ROLES, service=False)
def list_contacts():
    """Contacts, newest first, filtered (from, to, route, pathway, safeguarding_level,
    review_required, overridden, locality, channel, status) and paged (page, per_page)."""
    spoa = services()
    filters, page, per_page = contact_filter_from_args(), _int_arg("page", 1, 1), _int_arg("per_page", 50, 1, 500)
    with spoa.store.session() as db:
        rows, total = contacts.list_contacts(db, filters, page=page, per_page=per_page)
        return jsonify({"total": total, "page": page, "per_page": per_page,
                        "contacts": [contacts.contact_summary(row) for row in rows]})


def worklist_filter_from_args() -> worklist.WorklistFilter:
    """The worklist's view and filters from the query string (shared with the worklist page)."""
    view = request.args.get("view") or "waiting"
    if view not in worklist.VIEWS:
        raise ApiError(400, "bad_request", f"view must be one of {', '.join(worklist.VIEWS)}.", field="view",
                       allowed=list(worklist.VIEWS))
    kind = request.args.get("kind") or None
    if kind not in (None, "referral", "callback"):
        raise ApiError(400, "bad_request", "kind must be referral or callback.", field="kind",
                       allowed=["referral", "callback"])
    status = request.args.get("status") or None
    return worklist.WorklistFilter(view=view, actor=current_actor().name, kind=kind,
                                   route=request.args.get("route") or None,
                                   locality=request.args.get("locality") or None, overdue=_flag("overdue"),
                                   status=None if status == "all" else status)


@bp.get("/worklist")
@api_auth(*WORKLIST_ROLES, service=False)
def list_worklist():
    """Worklist items, most urgent then the earliest deadline then the oldest: a view (waiting,
    open, mine, returned, completed, all; default waiting), filters (kind, route, locality,
    overdue, status) and a page (page, per_page), with the true total and each view's count."""
    spoa = services()
    filters, page, per_page = worklist_filter_from_args(), _int_arg("page", 1, 1), _int_arg("per_page", 25, 1, 200)
    now = spoa.now()
    with spoa.store.session() as db:
        items, total = worklist.find_items(db, filters, now=now, page=page, per_page=per_page)
        return jsonify({"total": total, "page": page, "per_page": per_page,
                        "counts": worklist.counts(db, now=now, actor=filters.actor),
                        "items": [worklist.item_dict(item, now) for item in items]})


def _item_action(action):  # noqa: ANN001, ANN202
    spoa = services()
    actor, now = current_actor(), spoa.now()
    item = spoa.store.run(lambda db: action(db, actor=actor.name, actor_role=actor.role, now=now))
    return jsonify(worklist.item_dict(item, now))


@bp.post("/worklist/<int:item_id>/accept")
@api_auth(*WORKLIST_ACT_ROLES, service=False)
def accept_item(item_id: int):
    """Accept an item: the referral is sent and the item becomes yours (or the call-back)."""
    body = _object(json_body(optional=True), "The body")
    # The referral message goes into the outbox in the same transaction (web/referral_message.py).
    return _item_action(lambda db, **who: accept_and_send(db, services(), item_id, note=body.get("note"), **who))


@bp.post("/worklist/<int:item_id>/return")
@api_auth(*WORKLIST_ACT_ROLES, service=False)
def return_item(item_id: int):
    """Return an item with a reason (required): it goes to the supervisors' queue."""
    body = _object(json_body(), "The body")
    return _item_action(lambda db, **who: worklist.return_item(db, item_id, reason=str(body.get("reason") or ""),
                                                               **who))


@bp.post("/worklist/<int:item_id>/complete")
@api_auth(*WORKLIST_ACT_ROLES, service=False)
def complete_item(item_id: int):
    """Complete an accepted item with its outcome (required): yours, or any as a supervisor."""
    body = _object(json_body(), "The body")
    return _item_action(lambda db, **who: worklist.complete(db, item_id, outcome=str(body.get("outcome") or ""),
                                                            **who))


@bp.get("/outbox")
@api_auth(*AUDIT_ROLES, service=False)
def list_outbox():
    """Referral messages and their delivery (status=pending|sending|delivered|dead|email), newest first."""
    status = request.args.get("status") or None
    if status not in (None, *outbox.STATUS_WORDS):
        raise ApiError(400, "bad_request", "Unknown status.", field="status", allowed=list(outbox.STATUS_WORDS))
    with services().store.session() as db:
        return jsonify({"messages": [outbox.message_dict(m) for m in outbox.list_messages(
            db, status=status, limit=_int_arg("limit", 100, 1, 500))]})


@bp.post("/outbox/<int:outbox_id>/retry")
@api_auth(*AUDIT_ROLES, service=False)
def retry_outbox(outbox_id: int):
    """Send a dead-lettered referral message again (same MessageHeader id: never a second referral)."""
    spoa = services()
    actor, now = current_actor(), spoa.now()
    try:
        message = spoa.store.run(lambda db: outbox.retry(db, outbox_id, actor=actor.name, actor_role=actor.role,
                                                         now=now))
    except outbox.OutboxError as error:
        raise ApiError(409, "conflict", str(error)) from None
    except LookupError as error:
        raise ApiError(404, "not_found", str(error)) from None
    return jsonify(outbox.message_dict(message))


@bp.get("/audit/verify")
@api_auth(*AUDIT_ROLES, service=False)
def verify_audit():
    """Recompute the audit log's hash chain; names the first broken row."""
    spoa = services()
    actor, now = current_actor(), spoa.now()
    with spoa.store.session() as db:
        result = audit.verify(db)
    spoa.store.run(lambda db: audit.append(db, actor=actor.name, actor_role=actor.role, action="audit.verify",
                                           details={"ok": result.ok, "rows": result.rows_checked}, at=now))
    return jsonify(result.as_dict())
