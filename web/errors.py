"""Every error becomes a clear answer, never a bare 500 page.

JSON callers (paths under /api/, or Accept: application/json) get
`{"error": code, "message": plain words, "field"?: ..., "allowed"?: [...]}`; people get a
short HTML page. A database that is down is a 503 saying nothing was saved.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from web.store import StoreUnavailable
from spoa.person import PersonError
from web.store.calls import CallError
from web.store.contacts import ContactClosed, ContactNotFound, ReviewError
from web.store.people import PersonErased
from web.store.users import UserError
from web.store.worklist import ItemNotFound, WorklistError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a view raises to answer with a given status and JSON body."""

    def __init__(self, status: int, error: str, message: str, *, field: str | None = None,
                 allowed: list | None = None, errors: list | None = None):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message
        self.field, self.allowed, self.errors = field, allowed, errors


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def json_error(status: int, error: str, message: str, *, field: str | None = None, allowed: list | None = None,
               errors: list | None = None):  # noqa: ANN201
    """The JSON error body: {"error", "message", "field"?, "allowed"?, "errors"?}."""
    body = {"error": error, "message": message}
    if field is not None:
        body["field"] = field
    if allowed is not None:
        body["allowed"] = allowed
    if errors:
        body["errors"] = errors
    return make_response(jsonify(body), status)


def error_response(status: int, error: str, message: str, *, field: str | None = None, allowed: list | None = None,
                   errors: list | None = None):  # noqa: ANN201
    if _wants_json():
        return json_error(status, error, message, field=field, allowed=allowed, errors=errors)
    return make_response(render_template("error.html", status=status, error=error, message=message), status)


def _contact_error(error):  # noqa: ANN001, ANN202
    first = error.errors[0] if getattr(error, "errors", None) else {}
    return error_response(422, "invalid_contact", str(error), field=first.get("field"),
                          allowed=first.get("allowed"), errors=getattr(error, "errors", None))


HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests"}


def has_nul(query_string: bytes, body: bytes) -> bool:
    """A NUL character in the query or the body (raw, or escaped in JSON as \\u0000)."""
    return b"\x00" in query_string or b"%00" in query_string or b"\x00" in body or b"\\u0000" in body


def init_app(app: Flask) -> None:
    from spoa.contact import ContactError

    @app.before_request
    def _refuse_nul():  # noqa: ANN202
        # PostgreSQL can't store NUL in text: without this it reached the database as an error
        # (a 503 that blames the database; found by the API fuzz test). No person types one.
        if has_nul(request.query_string, request.get_data(cache=True)):
            answer = json_error if request.is_json or "/api/" in request.path else error_response
            return answer(422, "invalid_text", "Text can't contain the NUL character (U+0000).")
        return None

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):  # noqa: ANN202
        return error_response(error.status, error.error, error.message, field=error.field, allowed=error.allowed,
                              errors=error.errors)

    @app.errorhandler(ContactError)
    def _invalid_contact(error):  # noqa: ANN001, ANN202
        return _contact_error(error)

    @app.errorhandler(ReviewError)
    def _invalid_review(error: ReviewError):  # noqa: ANN202
        return error_response(422, "invalid_review", str(error), field=error.field, allowed=error.allowed)

    @app.errorhandler(WorklistError)
    def _worklist_conflict(error: WorklistError):  # noqa: ANN202
        return error_response(error.status or 422, "worklist", str(error))

    @app.errorhandler(PersonError)
    def _invalid_person(error: PersonError):  # noqa: ANN202
        fields = list(error.errors)
        return error_response(422, "invalid_person", str(error), field=fields[0] if len(fields) == 1 else None,
                              errors=[{"field": name, "message": text} for name, text in error.errors.items()])

    @app.errorhandler(ContactClosed)
    @app.errorhandler(PersonErased)
    def _closed(error):  # noqa: ANN001, ANN202
        return error_response(409, "closed", str(error))

    @app.errorhandler(CallError)
    def _call_error(error: CallError):  # noqa: ANN202
        return error_response(error.status, "call", str(error))

    @app.errorhandler(UserError)
    def _user_error(error: UserError):  # noqa: ANN202
        return error_response(422, "invalid_user", str(error))

    @app.errorhandler(ContactNotFound)
    @app.errorhandler(ItemNotFound)
    def _not_found(error):  # noqa: ANN001, ANN202
        return error_response(404, "not_found", str(error))

    @app.errorhandler(StoreUnavailable)
    def _store_unavailable(error: StoreUnavailable):  # noqa: ANN202
        log.error("store unavailable on %s %s", request.method, request.path)
        return error_response(503, "database_unavailable", str(error))

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError):  # noqa: ANN202
        # Only the exception's class is logged: its text could quote personal data.
        log.error("database error on %s %s: %s", request.method, request.path, type(error.orig).__name__)
        return error_response(503, "database_unavailable",
                              "The database could not complete the request; nothing was saved. Try again shortly.")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # noqa: ANN202
        status = error.code or 500
        message = error.description or error.name
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"The request is too large (at most {limit} bytes)."
        if status == 400 and "CSRF" in (error.description or ""):
            return error_response(400, "csrf", "The form expired or its security token is missing; "
                                               "reload the page and try again.")
        response = error_response(status, HTTP_CODES.get(status, error.name.lower().replace(" ", "_")), message)
        if status == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # noqa: ANN202
        # The traceback names code, not data; the request body is never logged.
        log.exception("unexpected error on %s %s (%s)", request.method, request.path, type(error).__name__)
        return error_response(500, "internal", "Something went wrong on our side; nothing was lost that had "
                                               "been confirmed. Please try again.")
