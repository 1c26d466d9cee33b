"""JSON API for referrals a team can act on (/api): the person's details, one referral in full,
the supervisors' queue, deciding again, and calls that must not be lost.

Same rules as the pages (web/access.py): the person's details are read by supervisors, the
duty workers whose worklist holds the contact and the call handler on their own call, never
by the service token, which may only write them for a chat contact. Reads and writes of the
details are audit-logged by field name; the application log names contact ids only.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify

from spoa.person import FIELDS
from web import access, referral_view
from web.blueprints.api import _object, json_body, require
from web.bootstrap import services
from web.errors import ApiError
from web.openapi import CONTACT_ID, ERRORS_READ, ERRORS_WRITE, ITEM_ID, _error_response, _ok
from web.security import OVERRIDE_ROLES, STAFF_ROLES, WORKLIST_ROLES, api_auth, csrf, current_actor
from web.store import calls, contacts, people, worklist

bp = Blueprint("referrals_api", __name__, url_prefix="/api")
csrf.exempt(bp)  # service-token callers; staff calls are CSRF-checked by api_auth
log = logging.getLogger(__name__)


def alert_after() -> timedelta:
    """How long a call decided to a referral may sit open before supervisors are told."""
    settings = services().config.data.get("referrals") or {}
    return timedelta(minutes=int(settings.get("open_call_alert_minutes", calls.DEFAULT_ALERT_MINUTES)))


def supervisor_queue(db, now):  # noqa: ANN001, ANN201
    """Returned items and every open call (those needing someone first)."""
    returned, total = worklist.find_items(db, worklist.WorklistFilter(view="returned"), now=now, per_page=200)
    return {"returned": [referral_view.row(db, item, now) for item in returned], "returned_total": total,
            "open_calls": calls.open_calls(db, now=now, alert_after=alert_after())}


# -- the person's details ------------------------------------------------------------------

@bp.get("/contacts/<contact_id>/person")
@api_auth(*STAFF_ROLES, service=False)
def read_person(contact_id: str):
    """The person's details and what a referral still needs to reach them (audit-logged)."""
    spoa, actor = services(), current_actor()
    now = spoa.now()
    return jsonify(spoa.store.run(lambda db: people.read_details(
        db, require(db, access.may_read_person, contact_id), actor=actor.name, actor_role=actor.role, now=now)))


@bp.post("/contacts/<contact_id>/person")
@api_auth(*STAFF_ROLES)
def save_person(contact_id: str):
    """Add or correct the person's details (a blank or null field clears it); every bad field
    is a 422 at once. Answers the fields kept and what is still missing, never the values."""
    spoa, actor = services(), current_actor()
    body = _object(json_body(), "The person's details")
    now = spoa.now()
    today = now.astimezone(ZoneInfo(spoa.config.timezone)).date()  # "born today" is the service's today
    kept = spoa.store.run(lambda db: people.save_details(
        db, require(db, access.may_write_contact, contact_id), body, actor=actor.name, actor_role=actor.role,
        now=now, today=today))
    log.info("contact %s person details saved (%d fields)", contacts.normalise_reference(contact_id),
             len(kept["details"]))
    return jsonify({"contact_id": contacts.normalise_reference(contact_id), "fields": sorted(kept["details"]),
                    "missing_for_referral": kept["missing_for_referral"]})


# -- one referral --------------------------------------------------------------------------

@bp.get("/worklist/<int:item_id>")
@api_auth(*WORKLIST_ROLES, service=False)
def get_referral(item_id: int):
    """One item in full: the person (for roles that may see them), their words, facts with
    who gave them, the decision with reasons and sources, missing, safeguarding, services."""
    spoa, actor = services(), current_actor()
    now = spoa.now()

    return jsonify(_jsonable(spoa.store.run(lambda db: referral_view.read_referral(db, item_id, actor=actor,
                                                                                    now=now))))


def _jsonable(view: dict) -> dict:
    item = view["item"]
    if item.get("why") is not None:
        why = item["why"]
        item["why"] = {"rule": why.rule, "title": why.title, "source": why.source, "explanation": why.explanation}
    return view


# -- supervisors ---------------------------------------------------------------------------

@bp.get("/supervisor/queue")
@api_auth(*OVERRIDE_ROLES, service=False)
def queue():
    """Returned referrals and every open call, those needing a supervisor first."""
    spoa = services()
    now = spoa.now()
    with spoa.store.session() as db:
        data = supervisor_queue(db, now)
    for row in data["returned"]:
        _jsonable({"item": row})
    return jsonify(data)


@bp.post("/contacts/<contact_id>/redecide")
@api_auth(*OVERRIDE_ROLES, service=False)
def redecide(contact_id: str):
    """Decide the contact again on its facts: a returned referral comes back if it still refers."""
    spoa, actor = services(), current_actor()
    now = spoa.now()
    outcome = spoa.store.run(lambda db: contacts.redecide(db, spoa.triage, contact_id, actor=actor.name,
                                                          actor_role=actor.role, now=now))
    item = outcome.worklist_item
    return jsonify({"id": outcome.contact.id, "decision_id": outcome.decision_id, "route": outcome.decision["route"],
                    "worklist_item": worklist.item_dict(item, now) if item is not None else None})


@bp.post("/calls/<contact_id>/take-over")
@api_auth(*OVERRIDE_ROLES, service=False)
def take_over(contact_id: str):
    """A supervisor takes over an open console call (it becomes theirs in the console)."""
    spoa, actor = services(), current_actor()
    now = spoa.now()
    call = spoa.store.run(lambda db: calls.take_over(db, contact_id, actor=actor.name, actor_role=actor.role,
                                                     now=now))
    return jsonify({"contact_id": call.contact_id, "handler": call.handler})


@bp.post("/calls/<contact_id>/dropped")
@api_auth("call_handler", *OVERRIDE_ROLES, service=False)
def dropped(contact_id: str):
    """Close a call that ended before triage finished, with what is known: a call-back goes on
    the worklist (first, if the emergency questions were not all answered)."""
    spoa, actor = services(), current_actor()
    body = _object(json_body(optional=True), "The body")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise ApiError(422, "invalid_input", "note must be text.", field="note")
    now = spoa.now()
    item = spoa.store.run(lambda db: calls.close_dropped(db, contact_id, actor=actor.name, actor_role=actor.role,
                                                         now=now, note=note))
    log.info("console call %s closed as dropped: call-back item %s", item.contact_id, item.id)
    return jsonify(worklist.item_dict(item, now)), 201


# -- the OpenAPI paths ---------------------------------------------------------------------

def _paths() -> dict:
    staff, either = [{"staffSession": []}], [{"serviceToken": []}, {"staffSession": []}]
    obj = {"type": "object"}
    person_fields = {name: {"type": ["string", "null"]} for name in FIELDS}

    def post(summary: str, security: list, parameters: list, body: dict | None, ok: str = "200",
             extra: dict | None = None) -> dict:
        operation = {"summary": summary, "security": security, "parameters": parameters,
                     "responses": {ok: _ok(summary, schema=obj), "404": ERRORS_READ["404"], **ERRORS_WRITE,
                                   **(extra or {})}}
        if body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        return {"post": operation}

    conflict = {"409": _error_response("Not possible in the item's or call's state")}
    return {
        "/api/contacts/{contact_id}/person": {
            "get": {"summary": "The person's details (supervisor; duty worker with the referral; the call's handler)",
                    "security": staff, "parameters": [CONTACT_ID],
                    "responses": {"200": _ok("Details", schema=obj), **ERRORS_READ}},
            **post("Add or correct the person's details (service token: chat contacts only)", either, [CONTACT_ID],
                   {"type": "object", "properties": person_fields}, extra={"409": _error_response("Erased")})},
        "/api/worklist/{item_id}": {"get": {
            "summary": "One referral in full (the person's details for roles that may see them)", "security": staff,
            "parameters": [ITEM_ID], "responses": {"200": _ok("The referral", schema=obj), **ERRORS_READ}}},
        "/api/worklist/{item_id}/complete": post(
            "Complete an accepted item with its outcome", staff, [ITEM_ID],
            {"type": "object", "required": ["outcome"], "properties": {"outcome": {"type": "string"}}},
            extra=conflict),
        "/api/supervisor/queue": {"get": {
            "summary": "Returned referrals and every open call (supervisor)", "security": staff,
            "responses": {"200": _ok("The queue", schema=obj), **ERRORS_READ}}},
        "/api/contacts/{contact_id}/redecide": post("Decide a contact again (supervisor)", staff, [CONTACT_ID], None),
        "/api/calls/{contact_id}/take-over": post("Take over an open call (supervisor)", staff, [CONTACT_ID], None,
                                                  extra=conflict),
        "/api/calls/{contact_id}/dropped": post(
            "Close a call that ended before triage finished: a call-back goes on the worklist", staff, [CONTACT_ID],
            {"type": "object", "properties": {"note": {"type": "string"}}}, ok="201", extra=conflict),
    }


OPENAPI_PATHS = _paths()
