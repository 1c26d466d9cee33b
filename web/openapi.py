"""The OpenAPI 3.1 document for /api, built from the contract schemas (no copy to drift)."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from flask import Flask


@lru_cache(maxsize=None)
def _schema(name: str) -> dict:
    data = json.loads(resources.files("spoa").joinpath("schemas", name).read_text(encoding="utf-8"))
    data.pop("$schema", None)
    data.pop("$id", None)
    return data


def _error_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json_body(ref: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _ok(description: str, ref: str | None = None, schema: dict | None = None) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": schema or {"$ref": ref}}}}


ERRORS_WRITE = {"400": _error_response("Malformed JSON"), "401": _error_response("Not logged in / no token"),
                "403": _error_response("Role not allowed"), "413": _error_response("Body too large"),
                "415": _error_response("Not JSON"), "422": _error_response("Invalid contact or unknown fact"),
                "503": _error_response("Database unavailable; nothing saved")}
ERRORS_READ = {"401": ERRORS_WRITE["401"], "403": ERRORS_WRITE["403"], "404": _error_response("Unknown id"),
               "503": ERRORS_WRITE["503"]}
CONTACT_ID = {"name": "contact_id", "in": "path", "required": True,
              "schema": {"type": "string", "pattern": "^SPA-[0-9A-Z]{4}-[0-9A-Z]{4}$"},
              "example": "SPA-7K3Q-9F2M"}
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "description": "A retry with the same key (same caller, same body) answers with the first "
                                  "contact instead of storing a second (see web/idempotency.py).",
                   "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[ -~]+$"}}
# The list filters that aren't free text (web/blueprints/api.py reads them; anything else is a 400).
LIST_FILTERS = {"from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                "review_required": {"enum": ["true", "false"]}, "overridden": {"enum": ["true", "false"]},
                "page": {"type": "integer", "minimum": 1, "maximum": 1000000},
                "per_page": {"type": "integer", "minimum": 1, "maximum": 500}}
ITEM_ID = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
SOURCE = {"enum": ["chat", "console", "extraction", "api"],
          "description": "Who or what gave these facts (default: api for the service token, console for staff)."}


def openapi_document(app: Flask | None = None) -> dict[str, Any]:
    contact = _schema("contact.schema.json")
    facts = contact["properties"]["facts"]
    decision = _schema("decision.schema.json")
    schemas = {
        "Contact": {**contact, "properties": {**contact["properties"], "source": SOURCE}},
        "Facts": facts,
        "FactsUpdate": {"type": "object", "required": ["facts"],
                        "properties": {"facts": {"$ref": "#/components/schemas/Facts"}, "source": SOURCE}},
        "Decision": decision,
        "Error": {"type": "object", "required": ["error", "message"], "properties": {
            "error": {"type": "string"}, "message": {"type": "string"}, "field": {"type": ["string", "null"]},
            "allowed": {}, "errors": {"type": "array", "items": {"type": "object"}}}},
        "ContactSummary": {"type": "object", "properties": {
            name: {"type": ["string", "null"]} for name in (
                "id", "channel", "received_at", "status", "locality", "locality_words", "route", "pathway", "safeguarding_level",
                "decision_status", "ruleset_version", "updated_at")} | {
            "review_required": {"type": "boolean"}, "overridden": {"type": "boolean"}}},
        "WorklistItem": {"type": "object", "properties": {
            "id": {"type": "integer"}, "contact_id": {"type": "string"},
            "kind": {"enum": ["referral", "callback"]},
            "status": {"enum": ["open", "accepted", "returned", "superseded"]},
            "assigned_to": {"type": ["string", "null"], "description": "Who accepted it (it is theirs)"},
            "completed_at": {"type": ["string", "null"], "format": "date-time"},
            "outcome": {"type": ["string", "null"]},
            "route": {"type": ["string", "null"]}, "pathway": {"type": ["string", "null"]},
            "safeguarding_level": {"type": ["string", "null"]}, "response_target": {"type": ["string", "null"]},
            "rank": {"type": "integer"}, "due_at": {"type": ["string", "null"], "format": "date-time"},
            "time_left_seconds": {"type": ["integer", "null"]}, "overdue": {"type": "boolean"},
            "note": {"type": ["string", "null"]}}},
        "ContactOutcome": {"type": "object", "required": ["id", "decision"], "properties": {
            "id": {"type": "string"}, "contact": {"$ref": "#/components/schemas/ContactSummary"},
            "decision": {"$ref": "#/components/schemas/Decision"}, "decision_id": {"type": "integer"},
            "worklist_item": {"oneOf": [{"$ref": "#/components/schemas/WorklistItem"}, {"type": "null"}]},
            "facts": {"$ref": "#/components/schemas/Facts"}}},
        "ContactRecord": {"type": "object", "description": "Summary plus facts, fact_events, decisions, reviews, worklist.",
                          "properties": {"facts": {"$ref": "#/components/schemas/Facts"},
                                         "fact_events": {"type": "array"}, "decisions": {"type": "array"},
                                         "reviews": {"type": "array"}, "worklist": {"type": "array"}}},
        "OutboxMessage": {"type": "object", "properties": {
            "id": {"type": "integer"}, "message_id": {"type": "string", "format": "uuid"},
            "contact_id": {"type": "string"}, "worklist_item_id": {"type": ["integer", "null"]},
            "reason": {"enum": ["new", "update"]}, "team": {"type": "string"},
            "status": {"enum": ["pending", "sending", "delivered", "dead", "email"]}, "status_text": {"type": "string"},
            "attempts": {"type": "integer"}, "max_attempts": {"type": "integer"},
            "last_error": {"type": ["string", "null"]}, "last_status_code": {"type": ["integer", "null"]},
            "next_attempt_at": {"type": ["string", "null"]}, "delivered_at": {"type": ["string", "null"]},
            "created_at": {"type": "string"}}},
        "Review": {"type": "object", "required": ["action"], "properties": {
            "action": {"enum": ["confirm", "override"]},
            "route": {"enum": decision["properties"]["route"]["enum"]},
            "pathway": {"type": ["string", "null"]},
            "reason": {"type": "string", "description": "Required for an override."}}},
    }
    security_either = [{"serviceToken": []}, {"staffSession": []}]
    staff_only = [{"staffSession": []}]
    paths = {
        "/api/health": {"get": {"summary": "Database and ruleset status", "security": [], "responses": {
            "200": _ok("Healthy", schema={"type": "object"}), "503": _ok("Database unavailable", schema={"type": "object"})}}},
        "/api/openapi.json": {"get": {"summary": "This document", "security": [],
                                      "responses": {"200": _ok("OpenAPI 3.1", schema={"type": "object"})}}},
        "/api/extract": {"post": {
            "summary": "Facts found in free text (rule-based extraction; stores nothing)", "security": security_either,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["text"], "properties": {"text": {"type": "string", "maxLength": 20000}}}}}},
            "responses": {"200": _ok("Facts and the evidence for each", schema={"type": "object", "properties": {
                "facts": {"$ref": "#/components/schemas/Facts"},
                "evidence": {"type": "array", "items": {"type": "object"}},
                "partial": {"type": "array", "items": {"type": "string"},
                            "description": "List facts heard in passing: at least these items"}}}), **ERRORS_WRITE}}},
        "/api/triage": {"post": {"summary": "Decide a contact without storing it", "security": security_either,
                                 "requestBody": _json_body("#/components/schemas/Contact"),
                                 "responses": {"200": _ok("The decision", "#/components/schemas/Decision"),
                                               **ERRORS_WRITE}}},
        "/api/contacts": {
            "post": {"summary": "Store a contact and its first decision (one transaction)",
                     "security": security_either, "parameters": [IDEMPOTENCY_KEY],
                     "requestBody": _json_body("#/components/schemas/Contact"),
                     "responses": {"201": _ok("Stored", "#/components/schemas/ContactOutcome"), **ERRORS_WRITE}},
            "get": {"summary": "List contacts (supervisor, admin)", "security": staff_only,
                    "parameters": [{"name": name, "in": "query", "schema": LIST_FILTERS.get(name, {"type": "string"})}
                                   for name in ("from", "to", "route", "pathway", "safeguarding_level",
                                                "review_required", "overridden", "locality", "channel", "status",
                                                "page", "per_page")],
                    "responses": {"200": _ok("A page of contacts", schema={"type": "object", "properties": {
                        "total": {"type": "integer"}, "contacts": {"type": "array", "items": {
                            "$ref": "#/components/schemas/ContactSummary"}}}}),
                        "400": _error_response("A filter that can't be read (a date, a flag, a number)"),
                        **ERRORS_READ}}},
        "/api/contacts/{contact_id}": {"get": {
            "summary": "A contact: facts, decisions, reviews, worklist (audit-logged)", "security": security_either,
            "parameters": [CONTACT_ID],
            "responses": {"200": _ok("The contact", "#/components/schemas/ContactRecord"), **ERRORS_READ}}},
        "/api/contacts/{contact_id}/facts": {"post": {
            "summary": "Add or correct facts and decide again", "security": security_either,
            "parameters": [CONTACT_ID], "requestBody": _json_body("#/components/schemas/FactsUpdate"),
            "responses": {"200": _ok("The new decision", "#/components/schemas/ContactOutcome"),
                          "404": ERRORS_READ["404"], **ERRORS_WRITE}}},
        "/api/contacts/{contact_id}/referral": {"get": {
            "summary": "The referral message sent for this contact (FHIR R4 BaRS referral request; audit-logged; "
                       "staff who may see the person's details)",
            "security": staff_only, "parameters": [CONTACT_ID],
            "responses": {"200": {"description": "The newest referral message: a FHIR Bundle of type message",
                                  "content": {"application/fhir+json": {"schema": {
                                      "type": "object", "required": ["resourceType", "type", "entry"],
                                      "properties": {"resourceType": {"const": "Bundle"},
                                                     "type": {"const": "message"},
                                                     "entry": {"type": "array", "items": {"type": "object"}}}}}}},
                          **ERRORS_READ}}},
        "/api/outbox": {"get": {
            "summary": "Referral messages and their delivery, newest first (supervisor, admin)", "security": staff_only,
            "parameters": [{"name": "status", "in": "query",
                            "schema": {"enum": ["pending", "sending", "delivered", "dead", "email"]}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
            "responses": {"200": _ok("Messages (delivery state, not content)", schema={"type": "object", "properties": {
                "messages": {"type": "array", "items": {"$ref": "#/components/schemas/OutboxMessage"}}}}),
                "400": _error_response("An unknown status or a number out of range"), **ERRORS_READ}}},
        "/api/outbox/{outbox_id}/retry": {"post": {
            "summary": "Send a dead-lettered referral message again, same message id (supervisor, admin)",
            "security": staff_only,
            "parameters": [{"name": "outbox_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": _ok("Queued again", "#/components/schemas/OutboxMessage"),
                          "409": _error_response("Not dead-lettered"), **ERRORS_READ}}},
        "/api/contacts/{contact_id}/callback": {"post": {
            "summary": "The resident asked to talk to a person: a call-back goes on the worklist",
            "security": security_either, "parameters": [CONTACT_ID],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"note": {"type": "string"}}}}}},
            "responses": {"201": _ok("The call-back item", "#/components/schemas/WorklistItem"),
                          "404": ERRORS_READ["404"], **ERRORS_WRITE}}},
        "/api/contacts/{contact_id}/reviews": {"post": {
            "summary": "Confirm or override the current decision (staff)", "security": staff_only,
            "parameters": [CONTACT_ID], "requestBody": _json_body("#/components/schemas/Review"),
            "responses": {"201": _ok("The review", schema={"type": "object"}), "404": ERRORS_READ["404"],
                          **ERRORS_WRITE}}},
        "/api/worklist": {"get": {
            "summary": "Worklist items, most urgent then oldest first (duty worker, supervisor, admin)",
            "security": staff_only, "parameters": [
                {"name": "view", "in": "query",
                 "schema": {"enum": ["waiting", "open", "mine", "returned", "completed", "all"]}},
                {"name": "status", "in": "query", "schema": {"enum": ["open", "accepted", "returned", "superseded", "all"]}},
                {"name": "kind", "in": "query", "schema": {"enum": ["referral", "callback"]}},
                {"name": "route", "in": "query", "schema": {"type": "string"}},
                {"name": "locality", "in": "query", "schema": {"type": "string"}},
                {"name": "overdue", "in": "query", "schema": {"enum": ["true", "false"]}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
            "responses": {"200": _ok("A page of items, the true total and each view's count", schema={
                "type": "object", "properties": {
                    "total": {"type": "integer"}, "counts": {"type": "object"},
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/WorklistItem"}}}}),
                "400": _error_response("A filter or number that can't be read"), **ERRORS_READ}}},
        "/api/worklist/{item_id}/accept": {"post": {
            "summary": "Accept: the referral is sent and the item becomes yours", "security": staff_only, "parameters": [ITEM_ID],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"note": {"type": "string"}}}}}},
            "responses": {"200": _ok("The item", "#/components/schemas/WorklistItem"), "404": ERRORS_READ["404"],
                          "409": _error_response("Already resolved, or no receiving team configured for it"), **ERRORS_WRITE}}},
        "/api/worklist/{item_id}/return": {"post": {
            "summary": "Return with a reason", "security": staff_only, "parameters": [ITEM_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}}}},
            "responses": {"200": _ok("The item", "#/components/schemas/WorklistItem"), "404": ERRORS_READ["404"],
                          "409": _error_response("Already resolved"), **ERRORS_WRITE}}},
        "/api/audit/verify": {"get": {
            "summary": "Recompute the audit log's hash chain (supervisor, admin)", "security": staff_only,
            "responses": {"200": _ok("Result", schema={"type": "object", "properties": {
                "ok": {"type": "boolean"}, "rows_checked": {"type": "integer"},
                "first_broken_id": {"type": ["integer", "null"]}, "reason": {"type": ["string", "null"]}}}),
                **ERRORS_READ}}},
    }
    if app is not None:
        paths.update(app.extensions.get("spoa_openapi_paths", {}))
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": "SPoA triage API", "version": "1.0.0",
                 "description": "Contacts, facts and decisions for the single point of access. A decision is "
                                "decision support: a person confirms it; only 999 advice is given at once."},
        "servers": [{"url": "/"}],
        "security": security_either,
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "serviceToken": {"type": "http", "scheme": "bearer",
                             "description": "SPOA_SERVICE_TOKEN, for the dialogue's action server"},
            "staffSession": {"type": "apiKey", "in": "cookie", "name": "spoa_session",
                             "description": "A staff login session; send X-CSRFToken on POST"}}},
    }
