"""The resident chat page (/chat): public, no login. The page talks only to this app.

    GET  /chat                  the page: a new conversation each time it is opened (the last
                                contact stays stored; "Start a new conversation" links here)
    POST /chat/api/message      {"text": str} or {"payload": str}   (CSRF header X-CSRFToken)
      -> {"fallback": false, "messages": [{"text", "buttons": [{"title", "payload"}]}],
          "question": {...}|null, "outcome": {...}|null, "contact_id": str|null}
      relayed to Rasa's REST channel with the conversation id kept in the Flask session. If
      Rasa is down, loading its model, slow or failing, the same message goes straight to the
      dialogue turn instead (nothing said is lost) and the answer is
      -> {"fallback": true, "question": {...}|null, "outcome": {...}|null, "contact_id": ...}
      and the page carries on with the guided form.
    POST /chat/api/form         {"contact_id": str, "answer": {"question_id": str, "value": any}}
      -> {"fallback": true, "question", "outcome", "contact_id"}; 422 if the answer can't be read.

The session holds only references, never what was said: the conversation id, the contact's
reference, the question on screen and the fact ids already asked. The contact reference is
learnt from the messages (questions and outcomes carry `custom.contact_id`), and a form
answer is accepted only for the contact of this browser session.
"""
from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from spoa.dialogue.core import detail_field
from web.blueprints.api import json_body
from web.bootstrap import services
from web.chat_outcome import outcome_view
from web.dialogue_client import DialogueUnavailable
from web.dialogue_service import take_turn
from web.errors import ApiError, error_response

bp = Blueprint("chat", __name__, url_prefix="/chat")
log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
MAX_LIST_ITEMS = 20
KEYS = ("chat_id", "chat_contact", "chat_question", "chat_pending", "chat_asked", "chat_mode")


# -- the conversation's state in the session (references only) ---------------------------

def _new_conversation() -> None:
    for key in KEYS:
        session.pop(key, None)
    session["chat_id"] = "web-" + secrets.token_urlsafe(16)
    session["chat_mode"] = "rasa"


def _conversation_id() -> str:
    if not session.get("chat_id"):
        _new_conversation()
    return session["chat_id"]


def _asking(question: dict | None) -> None:
    """Remember the question now on screen; the last one's facts count as asked."""
    asked = list(session.get("chat_asked") or [])
    asked += [fact for fact in session.get("chat_pending") or [] if fact not in asked]
    session["chat_asked"] = asked
    session["chat_question"] = question.get("id") or question.get("question_id") if question else None
    session["chat_pending"] = [f for f in question.get("ask") or [] if isinstance(f, str)] if question else []


# -- reading the request --------------------------------------------------------------------

def _body() -> dict:
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_message", "The body must be a JSON object.")
    return body


def _message(body: dict) -> tuple[str | None, str | None]:
    """(text, payload): exactly one, a non-empty string of at most MAX_MESSAGE_CHARS."""
    text, payload = body.get("text"), body.get("payload")
    if (text is None) == (payload is None):
        raise ApiError(422, "invalid_message", "Send either the text you typed or the answer you chose.",
                       field="text")
    value, field = (text, "text") if text is not None else (payload, "payload")
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, "invalid_message", "Type a message first.", field=field)
    if len(value) > MAX_MESSAGE_CHARS:
        raise ApiError(422, "invalid_message", f"Keep each message under {MAX_MESSAGE_CHARS} characters.",
                       field=field)
    return (value.strip(), None) if text is not None else (None, value.strip())


def _answer_value(value: Any) -> Any:
    """A form answer: an option's value, a number, some text, or a list of ticked values."""
    if isinstance(value, bool) or value is None:
        raise ApiError(422, "invalid_answer", "Choose or type an answer.", field="value")
    if isinstance(value, str):
        if not value.strip():
            raise ApiError(422, "invalid_answer", "Choose or type an answer.", field="value")
        if len(value) > MAX_MESSAGE_CHARS:
            raise ApiError(422, "invalid_answer", f"Keep your answer under {MAX_MESSAGE_CHARS} characters.",
                           field="value")
        return value.strip()
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        if not value:
            raise ApiError(422, "invalid_answer", "Tick at least one box.", field="value")
        if len(value) > MAX_LIST_ITEMS or not all(isinstance(item, str) and 0 < len(item) <= 100 for item in value):
            raise ApiError(422, "invalid_answer", "Tick the boxes that apply.", field="value")
        return value
    raise ApiError(422, "invalid_answer", "Choose or type an answer.", field="value")


# -- the answers ----------------------------------------------------------------------------

def _buttons(raw: Any) -> list[dict]:
    buttons = []
    for button in raw if isinstance(raw, list) else []:
        if isinstance(button, dict) and isinstance(button.get("payload"), str):
            buttons.append({"title": str(button.get("title") or button["payload"]), "payload": button["payload"]})
    return buttons


def _from_rasa(replies: list[dict]) -> dict:
    """The bot's messages for the page; the question and outcome taken from the custom payloads."""
    messages, question, outcome, summary = [], None, None, set()
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict):
            if isinstance(custom.get("contact_id"), str) and custom["contact_id"]:
                session["chat_contact"] = custom["contact_id"]
            if isinstance(custom.get("decision"), dict):
                # The dialogue turn's own view when the actions pass it on (it knows the council
                # and a withheld referral); built here only for an older action server.
                outcome = custom["outcome"] if isinstance(custom.get("outcome"), dict) else \
                    outcome_view(custom["decision"], custom.get("contact_id") or session.get("chat_contact"))
                summary |= {line for line in custom.get("summary") or [] if isinstance(line, str)}
            elif isinstance(custom.get("ask"), list):
                question = {key: custom.get(key) for key in ("question_id", "ask", "kind", "options", "text", "heard")}
            continue
        text = reply.get("text") if isinstance(reply.get("text"), str) else None
        buttons = _buttons(reply.get("buttons"))
        if text or buttons:
            messages.append({"text": text, "buttons": buttons})
    if outcome is not None:
        # The outcome panel says it all; the same lines as chat bubbles would say it twice.
        messages = [message for message in messages if message["text"] not in summary]
        _asking(None)
    elif question is not None:
        _asking({"id": question["question_id"], "ask": question["ask"]})
    return {"fallback": False, "messages": messages, "question": question, "outcome": outcome,
            "contact_id": session.get("chat_contact")}


def _from_turn(result: dict) -> dict:
    """A dialogue turn's result for the page's guided form."""
    session["chat_contact"] = result.get("contact_id") or session.get("chat_contact")
    decision, question = result.get("decision"), result.get("question")
    outcome = None
    if decision is not None and question is None:
        outcome = result.get("outcome") or outcome_view(decision, result.get("contact_id"))
    _asking(question)
    return {"fallback": True, "question": question, "outcome": outcome, "contact_id": session.get("chat_contact"),
            "understood": result.get("understood")}


def _turn(text: str | None, answer: dict | None) -> dict:
    """One turn in-process (the same function the Rasa actions reach over HTTP). The question
    being answered isn't skipped: an answer that can't be read leaves it to be asked again."""
    pending = set(session.get("chat_pending") or [])
    asked = [fact for fact in session.get("chat_asked") or [] if fact not in pending]
    # The conversation id finds the contact Rasa's actions stored for this conversation even
    # when their reply never reached us (a timeout): the form continues it, never a second one.
    return take_turn(services(), {"contact_id": session.get("chat_contact"), "conversation_id": _conversation_id(),
                                  "text": text, "answer": answer, "asked": asked, "start": True})


def _is_question(question_id: Any) -> bool:
    """A question of the flows, or one of the contact details asked at the end."""
    return isinstance(question_id, str) and (question_id in services().triage.flows.by_id
                                             or detail_field(question_id) is not None)


# -- views ------------------------------------------------------------------------------------

@bp.get("")
def index():
    # ?c= names this browser session's conversation: a reload (or the logo) carries it on;
    # any other visit starts a new one.
    if not request.args.get("c") or request.args.get("c") != session.get("chat_id"):
        _new_conversation()
    return render_template("chat/index.html", conversation=session["chat_id"])


@bp.post("/api/message")
def message():
    text, payload = _message(_body())
    sender = _conversation_id()
    if session.get("chat_mode") == "rasa":
        try:
            return jsonify(_from_rasa(services().dialogue.send(sender, text if text is not None else payload)))
        except DialogueUnavailable as error:
            log.warning("chat falls back to the guided form: Rasa unavailable (%s)", error)
            session["chat_mode"] = "form"
    # The same message goes straight to the dialogue turn: as the answer to the question on
    # screen (if any), and as words to read facts from.
    question_id = session.get("chat_question")
    answer = {"question_id": question_id, "value": text if text is not None else payload} \
        if _is_question(question_id) else None
    return jsonify(_from_turn(_turn(text, answer)))


@bp.post("/api/form")
def form():
    body = _body()
    contact_id, answer = body.get("contact_id"), body.get("answer")
    if contact_id is not None and contact_id != session.get("chat_contact"):
        raise ApiError(403, "not_this_conversation",
                       "This answer is for a conversation this browser isn't having; start again.",
                       field="contact_id")
    if not session.get("chat_contact"):
        raise ApiError(409, "no_conversation", "Start by telling us what is happening.")
    if not isinstance(answer, dict) or not isinstance(answer.get("question_id"), str):
        raise ApiError(422, "invalid_answer", "Send the answer as {\"question_id\": ..., \"value\": ...}.",
                       field="answer")
    if not _is_question(answer["question_id"]):
        raise ApiError(422, "invalid_answer", "That question doesn't exist.", field="answer")
    value = _answer_value(answer.get("value"))
    session["chat_mode"] = "form"
    result = _turn(None, {"question_id": answer["question_id"], "value": value})
    if result.get("understood") is False:
        raise ApiError(422, "invalid_answer", "We couldn't read that answer. Choose one of the options, or for a "
                                              "number type digits, for example 84.", field="value")
    return jsonify(_from_turn(result))


# -- the chat without JavaScript: the same turns as a plain form, one step a page ------------

STEPS_UNKNOWN = "I don't know"


def _steps_answer(form) -> tuple[dict | None, str | None]:  # noqa: ANN001
    """The posted answer to the question on screen, or an error to show beside it."""
    question_id = form.get("question_id") or ""
    if not _is_question(question_id) or question_id != session.get("chat_question"):
        return None, "That question has moved on: answer the one below."
    spec = services().triage.flows.by_id.get(question_id)      # None for a contact detail (text)
    many = spec is not None and spec.kind in ("checklist", "multi")
    if form.get("unknown"):
        return {"question_id": question_id, "value": STEPS_UNKNOWN}, None
    values = [value for value in form.getlist("answer") if value.strip()]
    if not values:
        return None, "Tick the boxes that apply, or None of these." if many \
            else "Choose or type an answer, or choose I don't know."
    value = values if many else values[0]
    try:
        return {"question_id": question_id, "value": _answer_value(value)}, None
    except ApiError as error:
        return None, error.message


@bp.route("/steps", methods=["GET", "POST"])
def steps():
    """The chat as a plain guided form for a browser without JavaScript (the page's <noscript>
    links here): the same dialogue turn, the same session and contact, one question a page.
    A POST answers and redirects (a reload never answers twice)."""
    error = None
    if request.method == "POST":
        if "text" in request.form:
            text = request.form.get("text", "").strip()
            if not text:
                error = "Tell us what is happening, for example: my mum has fallen and can't get up."
            elif len(text) > MAX_MESSAGE_CHARS:
                error = f"Keep it under {MAX_MESSAGE_CHARS} characters."
            else:
                session["chat_mode"] = "form"
                _from_turn(_turn(text, None))
        else:
            answer, error = _steps_answer(request.form)
            if answer is not None:
                result = _turn(None, answer)
                if result.get("understood") is False:
                    error = "We couldn't read that answer. Choose one of the options, or for a number type digits."
                else:
                    _from_turn(result)
        if error is None:
            return redirect(url_for("chat.steps"), 303)
    state = _from_turn(_turn(None, None)) if session.get("chat_contact") else None
    return render_template("chat/steps.html", state=state, error=error), 400 if error else 200


# -- errors: JSON for the page's calls, whatever the Accept header --------------------------

def _json_error(status: int, error: str, message: str, field: str | None = None):  # noqa: ANN202
    body = {"error": error, "message": message}
    if field is not None:
        body["field"] = field
    return jsonify(body), status


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):  # noqa: ANN202
    if request.path.startswith("/chat/api/"):
        return _json_error(error.status, error.error, error.message, error.field)
    return error_response(error.status, error.error, error.message, field=error.field)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):  # noqa: ANN202
    status = error.code or 500
    if not request.path.startswith("/chat/api/"):
        return error_response(status, error.name.lower().replace(" ", "_"), error.description or error.name)
    if status == 400 and "CSRF" in (error.description or ""):
        return _json_error(400, "csrf", "The page expired or its security token is missing; reload the page.")
    if status == 413:
        return _json_error(413, "too_large", "That message is too long.")
    return _json_error(status, error.name.lower().replace(" ", "_"), error.description or error.name)
