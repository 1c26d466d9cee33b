"""The dialogue API (/api/dialogue): one turn of a resident's chat, for the Rasa action server.

The turn itself is `web.dialogue_service.take_turn`, shared with the chat page's guided form
(used when Rasa is unavailable); this view only reads the body and answers JSON.

The action server runs in its own Python (3.10, for Rasa) and can't import the app, so it
sends each message here. One turn reads the resident's words with the rule-based extractor
(red flags and safeguarding never depend on the Rasa model alone), reads the answer to the
question that was asked, stores the facts, decides again and picks the next question from
flows/:

    POST /api/dialogue/turn   (service token)
      {"contact_id": str|null, "text": str|null,
       "answer": {"question_id": str, "value": any}|null,
       "asked": [fact ids already put to the resident], "start": bool}
    -> {"contact_id": str|null, "decision": {...}|null,
        "question": {"id", "ask", "kind", "text", "options", ...}|null,
        "facts_added": {...}, "understood": bool|null, "extraction": "ok"|"unavailable"}

A first message with nothing in it ("hi") stores nothing and answers contact_id null,
unless `start` is true. `understood` is false when an answer couldn't be read (the
question's facts stay unknown). A 999 decision has no next question: it is given at once.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from web.blueprints.api import _object, json_body
from web.bootstrap import services
from web.dialogue_service import MAX_TEXT_CHARS, read_answer, take_turn  # noqa: F401 - kept importable here
from web.security import api_auth, csrf

bp = Blueprint("dialogue_api", __name__, url_prefix="/api/dialogue")
csrf.exempt(bp)  # service-token callers; staff calls are CSRF-checked by api_auth


@bp.post("/turn")
@api_auth()
def turn():
    """One resident message: extract, read the answer, store, decide, and the next question."""
    return jsonify(take_turn(services(), _object(json_body(), "The body")))
