"""The call-handler console (/console): guided triage on the phone, with the live decision.

The page is one static template; web/static/js/console.js drives it through the JSON
endpoints under /console/api (session login, CSRF token in the X-CSRFToken header). Each view
parses the request, calls a function in web/console_service.py in one transaction, and
returns the call's state. Errors are JSON here, always: 422 names the field, 404 an unknown
contact. Call handlers take calls; supervisors and admins may look.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from spoa.contact import ContactError
from spoa.flows import build_question
from spoa.person import FIELDS, LABELS
from web import console_service as console
from web.bootstrap import services
from web.errors import error_response, json_error
from web.idempotency import Created, run_create
from web.security import api_auth, csrf, current_actor, roles_required
from web.store import StoreUnavailable, audit, contacts
from web.store.contacts import ContactNotFound, ReviewError

bp = Blueprint("console", __name__, url_prefix="/console")
# Every POST here is a JSON call through api_auth, which checks the CSRF token after the login:
# a caller with no session gets 401 (log in), not a CSRF 400 (found by the API fuzz test).
csrf.exempt(bp)
log = logging.getLogger(__name__)

TAKES_CALLS = ("call_handler",)
# A supervisor who takes over an open call (web/store/calls.py) finishes it here.
FINISHES_CALLS = ("call_handler", "supervisor")
MAY_VIEW = ("call_handler", "supervisor", "admin")


def _openapi_paths() -> dict:
    """The console's JSON endpoints for /api/openapi.json (staff session + X-CSRFToken)."""
    from web.openapi import CONTACT_ID, ERRORS_READ, ERRORS_WRITE, IDEMPOTENCY_KEY, _error_response

    state = {"description": "The call's state: contact, facts, answers, decision, view (route, target, time "
                            "left, why, missing, emergency), the next question, read-back, worklist item",
             "content": {"application/json": {"schema": {"type": "object", "required": ["contact", "decision"]}}}}
    staff = [{"staffSession": []}]
    writes = {**ERRORS_WRITE, "404": _error_response("Unknown contact"),
              "409": _error_response("The call is closed")}

    def body(properties: dict, required: list[str]) -> dict:
        return {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": required, "properties": properties}}}}

    def write(summary: str, request: dict) -> dict:
        return {"post": {"summary": summary, "security": staff, "parameters": [CONTACT_ID], "requestBody": request,
                         "responses": {"200": state, **writes}}}

    return {
        "/console/api/contacts": {
            "get": {"summary": "The call handler's open calls", "security": staff,
                    "responses": {"200": {"description": "Open calls"}, **ERRORS_READ}},
            "post": {"summary": "Start a call (call handler)", "security": staff, "parameters": [IDEMPOTENCY_KEY],
                     "requestBody": body({"channel": {"enum": list(console.CHANNELS)},
                                          "caller": {"enum": [*console.CALLERS, None]},
                                          "caller_name": {"type": "string"}, "about": {"type": "string"}}, []),
                     "responses": {"201": state, **ERRORS_WRITE}}},
        "/console/api/questions": {"get": {"summary": "Every question in call-handler wording", "security": staff,
                                           "responses": {"200": {"description": "Questions"}, **ERRORS_READ}}},
        "/console/api/contacts/{contact_id}": {"get": {
            "summary": "One call's state", "security": staff, "parameters": [CONTACT_ID],
            "responses": {"200": state, **ERRORS_READ}}},
        "/console/api/contacts/{contact_id}/answer": write("Answer a question (only unknown facts unless change)", body(
            {"question": {"type": "string"}, "answer": {}, "ask": {"type": "array", "items": {"type": "string"}},
             "change": {"type": "boolean"}}, ["question", "answer"])),
        "/console/api/contacts/{contact_id}/facts": write("Set or change facts (a red flag, a confirmed proposal)", body(
            {"facts": {"$ref": "#/components/schemas/Facts"}, "from_notes": {"type": "boolean"}}, ["facts"])),
        "/console/api/contacts/{contact_id}/notes": write("Save notes; facts found are proposed, not set", body(
            {"notes": {"type": "string"}, "propose": {"type": "boolean", "default": True}}, ["notes"])),
        "/console/api/contacts/{contact_id}/close": write("Confirm or override (reason required) and close", body(
            {"action": {"enum": ["confirm", "override"]}, "route": {"type": "string"}, "pathway": {"type": "string"},
             "reason": {"type": "string"}}, ["action"])),
    }


OPENAPI_PATHS = _openapi_paths()


@bp.record_once
def _setup(state) -> None:  # noqa: ANN001
    """At app creation: the engine with the questions the console asks."""
    spoa = state.app.extensions["spoa"]
    triage = spoa.triage
    if getattr(triage, "flows", None) is None:
        # The console asks questions, so it needs the flows even where the engine was built
        # without them (a copy: the shared engine object is left as it is).
        from spoa.flows import load_flows
        triage = replace(triage, flows=load_flows(state.app.config["SPOA_FLOWS_DIR"]))
    state.app.extensions["spoa_console_triage"] = triage


def _error(status: int, error: str, message: str, field: str | None = None, allowed: list | None = None,
           errors: list | None = None):  # noqa: ANN202
    return json_error(status, error, message, field=field, allowed=allowed, errors=errors)


def _is_api() -> bool:
    return request.path.startswith("/console/api/")


@bp.errorhandler(console.ConsoleError)
def _console_error(error: console.ConsoleError):  # noqa: ANN202
    names = {403: "forbidden", 409: "closed", 422: "invalid_input"}
    return _error(error.status, names.get(error.status, "invalid_input"), str(error), error.field, error.allowed)


@bp.errorhandler(ContactError)
def _contact_error(error: ContactError):  # noqa: ANN202
    first = error.errors[0] if error.errors else {}
    return _error(422, "invalid_fact", str(error), first.get("field"), first.get("allowed"), error.errors)


@bp.errorhandler(ReviewError)
def _review_error(error: ReviewError):  # noqa: ANN202
    return _error(422, "invalid_review", str(error), error.field, error.allowed)


@bp.errorhandler(ContactNotFound)
def _not_found(error: ContactNotFound):  # noqa: ANN202
    return _error(404, "not_found", str(error), "contact")


@bp.errorhandler(StoreUnavailable)
def _store_down(error: StoreUnavailable):  # noqa: ANN202
    return _error(503, "database_unavailable", str(error))


@bp.errorhandler(DBAPIError)
def _database_error(error: DBAPIError):  # noqa: ANN202
    # Only the class is logged: the database's message could quote personal data.
    log.error("database error on %s %s: %s", request.method, request.path, type(error.orig).__name__)
    return _error(503, "database_unavailable", "The database could not save this; nothing was lost that was "
                                               "already shown as saved. Try again shortly.")


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):  # noqa: ANN202
    if not _is_api():
        return error_response(error.code or 500, "error", error.description or error.name)
    if error.code == 400 and "CSRF" in (error.description or ""):
        return _error(400, "csrf", "The page's security token is missing or expired; reload the page.")
    return _error(error.code or 500, (error.name or "error").lower().replace(" ", "_"), error.description or error.name)


def _body() -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype != "application/json":
        raise console.ConsoleError("Send JSON with 'Content-Type: application/json'.", status=415)
    try:
        body = json.loads(raw)
    except ValueError:
        raise console.ConsoleError("The body is not valid JSON.", status=400) from None
    if not isinstance(body, dict):
        raise console.ConsoleError("The body must be a JSON object.")
    return body


def _state(contact_id: str, **extra: Any):  # noqa: ANN202
    spoa = services()
    now = spoa.now()
    with spoa.store.session() as db:
        state = console.call_state(db, _triage(), contact_id, now=now, zone=spoa.config.data.get(
            "timezone", "Europe/London"))
    state.update(extra)
    return state


def _triage():  # noqa: ANN202
    """The engine with its flows (see _setup)."""
    return current_app.extensions["spoa_console_triage"]


def _actor():  # noqa: ANN202
    actor = current_actor()
    return actor.name, actor.role


# -- the page ----------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*MAY_VIEW)
def index():
    """The console page (the script loads the handler's open calls and resumes the last one)."""
    actor = current_actor()
    with services().store.session() as db:
        holds_calls = bool(console.my_open_calls(db, actor.name))
    return render_template("console/index.html", can_start_calls=actor.role in TAKES_CALLS,
                           can_take_calls=actor.role in TAKES_CALLS or (actor.role in FINISHES_CALLS and holds_calls),
                           person_fields=[(name, LABELS[name]) for name in FIELDS],
                           channels=console.CHANNELS, callers=console.CALLERS,
                           routes=list(console.ROUTE_LABELS.items()),
                           red_flags=[(f, console.fact_question(_triage().flows, f))
                                      for f in console.EMERGENCY_SCREEN])


# -- JSON --------------------------------------------------------------------------------------

@bp.get("/api/contacts")
@api_auth(*MAY_VIEW, service=False)
def list_calls():
    """This handler's open calls, newest first."""
    name, _role = _actor()
    with services().store.session() as db:
        return jsonify({"contacts": console.my_open_calls(db, name)})


@bp.get("/api/questions")
@api_auth(*MAY_VIEW, service=False)
def questions():
    """Every question in call-handler wording, in flow order (to ask one out of turn)."""
    flows = _triage().flows
    return jsonify({"questions": [build_question(spec, "call_handler").to_dict() for spec in flows.questions]})


@bp.post("/api/contacts")
@api_auth(*TAKES_CALLS, service=False)
def start_call():
    """Start a call: channel (phone or professional_referral), caller, caller_name, about."""
    spoa, body = services(), _body()
    name, role = _actor()
    now = spoa.now()
    # A retried or double-clicked "start call" with the same Idempotency-Key is the same call.
    created = run_create(spoa.store, lambda db: Created(console.start_call(db, _triage(), body, handler=name,
                                                                               role=role, now=now)))
    if not created.replayed:
        log.info("console call %s started", created.contact_id)
    response = jsonify(_state(created.contact_id))
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, created.status_code


@bp.get("/api/contacts/<contact_id>")
@api_auth(*MAY_VIEW, service=False)
def get_call(contact_id: str):
    """One call's state: answers, decision, the next question, the read-back."""
    name, role = _actor()
    if role in TAKES_CALLS:
        with services().store.session() as db:
            contacts.get_contact(db, contact_id)          # 404 for an unknown reference
            owner = console.started_by(db, contact_id)
        if owner != name:
            raise console.ConsoleError("This is not one of your calls.", field="contact", status=403)
        return jsonify(_state(contact_id))
    state = _state(contact_id)
    # A supervisor or admin looking at someone's call is recorded (the handler's own reloads aren't).
    spoa = services()
    spoa.store.run(lambda db: audit.append(db, actor=name, actor_role=role, action="contact.view",
                                           target=state["contact"]["id"], details={"via": "console"}, at=spoa.now()))
    return jsonify(state)


@bp.post("/api/contacts/<contact_id>/answer")
@api_auth(*FINISHES_CALLS, service=False)
def answer(contact_id: str):
    """Answer a question: {"question": id, "answer": value, "ask": [facts shown], "change": bool}."""
    spoa, body = services(), _body()
    name, role = _actor()
    now = spoa.now()
    if "answer" not in body:
        raise console.ConsoleError("Send the answer as {\"question\": id, \"answer\": value}.", field="answer")
    outcome = spoa.store.run(lambda db: console.answer_question(
        db, _triage(), contact_id, body.get("question"), body["answer"], handler=name, role=role, now=now,
        ask=body.get("ask"), change=body.get("change") is True))
    return jsonify(_state(outcome.contact.id))


@bp.post("/api/contacts/<contact_id>/facts")
@api_auth(*FINISHES_CALLS, service=False)
def set_facts(contact_id: str):
    """Set or change facts directly (a red-flag tick, a confirmed proposal): {"facts": {...}}.
    "from_notes": true records them as confirmed extraction proposals."""
    spoa, body = services(), _body()
    name, role = _actor()
    now = spoa.now()
    source = "extraction" if body.get("from_notes") is True else "console"
    outcome = spoa.store.run(lambda db: console.set_facts(db, _triage(), contact_id, body.get("facts"),
                                                          handler=name, role=role, now=now, source=source))
    return jsonify(_state(outcome.contact.id))


@bp.post("/api/contacts/<contact_id>/notes")
@api_auth(*FINISHES_CALLS, service=False)
def notes(contact_id: str):
    """Save the notes ({"notes": text, "propose": true}) and propose the facts found in them
    (nothing is set until confirmed); "propose": false only saves."""
    spoa, body = services(), _body()
    name, _role = _actor()
    now = spoa.now()
    text = body.get("notes")
    spoa.store.run(lambda db: console.save_notes(db, contact_id, text, handler=name, now=now))
    state = _state(contact_id)
    proposals, extraction = [], "unavailable"
    if body.get("propose") is False:          # an autosave while typing: keep, don't read
        state.update(proposals=[], extraction="skipped")
        return jsonify(state)
    extractor = spoa.fact_extractor()
    if extractor is not None:
        try:
            proposals = console.propose_facts(_triage(), extractor, text, state["facts"])
            extraction = "ok"
        except Exception as error:  # noqa: BLE001 - the notes are saved; proposals are a help only
            log.warning("extraction failed on console notes: %s", type(error).__name__)
            extraction = "failed"
    state.update(proposals=proposals, extraction=extraction)
    return jsonify(state)


@bp.post("/api/contacts/<contact_id>/close")
@api_auth(*FINISHES_CALLS, service=False)
def close(contact_id: str):
    """Confirm or override (reason required) and close: {"action", "route"?, "pathway"?, "reason"?}."""
    spoa, body = services(), _body()
    name, role = _actor()
    now = spoa.now()
    spoa.store.run(lambda db: console.close_call(db, contact_id, action=body.get("action"), route=body.get("route"),
                                                 pathway=body.get("pathway"), reason=body.get("reason"),
                                                 handler=name, role=role, now=now))
    log.info("console call %s closed (%s)", contact_id, body.get("action"))
    return jsonify(_state(contact_id))
