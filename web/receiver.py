"""A receiving team's endpoint, for tests and demos (`spoa receiver`).

It answers as a BaRS receiver would: POST <anything>/$process-message with a referral
request Bundle (application/fhir+json) gets
- 200 and an OperationOutcome (information) when the message is valid (spoa.fhir.check);
  a message id it has already processed gets the same 200 and is not processed again
  (de-duplication by MessageHeader id, the sender's idempotency key);
- 422 with an OperationOutcome listing the problems when it is invalid (400 if not JSON,
  415 if not JSON at all, 401 if it wants a token and got none);
- on demand, for the next N messages: 500/503 (`fail`), or processed but answered only after
  the sender's timeout (`silent`: the answer is lost, the sender retries). POST /_control {"mode": "fail"|"silent"|"ok", "count": N,
  "status": 503, "delay": seconds}; GET /_received lists what arrived (ids and counts only).
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from flask import Flask, Response, jsonify, request

from spoa.fhir import message_id, message_problems


def operation_outcome(severity: str, code: str, diagnostics: list[str] | str) -> dict:
    texts = [diagnostics] if isinstance(diagnostics, str) else diagnostics
    return {"resourceType": "OperationOutcome",
            "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-OperationOutcome"]},
            "issue": [{"severity": severity, "code": code, "diagnostics": text} for text in texts]}


@dataclass
class ReceiverState:
    """What the receiver has processed, and what it has been told to do next."""
    token: str | None = None
    mode: str = "ok"
    remaining: int = 0
    fail_status: int = 503
    delay: float = 30.0
    latency: float = 0.0              # seconds each valid message takes to process (a busy team)
    processed: dict[str, str] = field(default_factory=dict)       # message id -> team path
    deliveries: Counter = field(default_factory=Counter)          # message id -> POSTs that carried it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_mode(self) -> str:
        with self.lock:
            if self.mode == "ok" or self.remaining <= 0:
                return "ok"
            self.remaining -= 1
            return self.mode


def _fhir(body: dict, status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/fhir+json")


def create_receiver(state: ReceiverState | None = None) -> Flask:
    state = state or ReceiverState()
    app = Flask("spoa_receiver")
    app.extensions["receiver"] = state

    @app.post("/<path:team>/$process-message")
    def process_message(team: str):  # noqa: ANN202
        mode = state.next_mode()
        if mode == "fail":
            unavailable = state.fail_status >= 500
            return _fhir(operation_outcome("error", "transient" if unavailable else "processing",
                                           "The service is unavailable; try again later." if unavailable else
                                           "Refused on demand (demo receiver)."), state.fail_status)
        response = _process(team)
        if mode == "silent":  # processed, but the answer comes too late: the sender must retry
            time.sleep(state.delay)
        return response

    def _process(team: str) -> Response:
        if state.token and request.headers.get("Authorization") != state.token:
            return _fhir(operation_outcome("error", "login", "A valid Authorization header is required."), 401)
        if not (request.mimetype or "").endswith("json"):
            return _fhir(operation_outcome("error", "structure", "Send application/fhir+json."), 415)
        try:
            bundle = json.loads(request.get_data())
        except ValueError:
            return _fhir(operation_outcome("error", "structure", "The body is not JSON."), 400)
        key = message_id(bundle)
        with state.lock:
            if key is not None:
                state.deliveries[key] += 1
            duplicate = key in state.processed
        if duplicate:
            return _fhir(operation_outcome("information", "informational",
                                           f"Message {key} was already processed; not processed again."), 200)
        problems = message_problems(bundle)
        if problems:
            return _fhir(operation_outcome("error", "invalid", problems), 422)
        time.sleep(state.latency)
        with state.lock:
            state.processed.setdefault(key, team)
        return _fhir(operation_outcome("information", "informational", f"Message {key} accepted by {team}."), 200)

    @app.post("/_control")
    def control():  # noqa: ANN202
        body = request.get_json(force=True, silent=True) or {}
        with state.lock:
            state.mode = str(body.get("mode", "ok"))
            state.remaining = int(body.get("count", 1))
            state.fail_status = int(body.get("status", state.fail_status))
            state.delay = float(body.get("delay", state.delay))
        return jsonify({"mode": state.mode, "count": state.remaining})

    @app.get("/_received")
    def received():  # noqa: ANN202
        with state.lock:
            return jsonify({"processed": [{"message_id": key, "team": team, "deliveries": state.deliveries[key]}
                                          for key, team in state.processed.items()],
                            "deliveries": dict(state.deliveries)})

    return app
