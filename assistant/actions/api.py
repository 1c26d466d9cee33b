"""The app's API, as the actions see it: a small HTTP client.

Settings come from the environment (read when a client is made, never at import):
SPOA_API_URL (default http://127.0.0.1:5000) and SPOA_SERVICE_TOKEN, sent as a bearer token.

The dialogue contract (served by the app, web/blueprints/dialogue_api.py):

    POST /api/dialogue/turn
      {"contact_id": str|null, "conversation_id": str|null, "text": str|null,
       "answer": {"question_id": str, "value": any}|null,
       "asked": [fact ids already put to the resident], "start": bool, "change": bool}
    -> {"contact_id": str|null, "decision": <decision.schema.json>|null,
        "question": {"id", "ask": [fact ids], "kind", "text", "options": [...]}|null,
        "facts_added": {...}, "understood": bool|null,
        "summary": [the decision in the resident's words, one line each]|null,
        "changing": question id|absent (the question asked again to change its answer)}

    A first message with no facts in it stores nothing (contact_id null) unless `start`.
    POST /api/contacts/<id>/callback      {"note": str} -> the worklist item (201)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import requests

DEFAULT_API_URL = "http://127.0.0.1:5000"


class ApiUnavailable(RuntimeError):
    """The app could not be reached, or answered with an error."""


@dataclass(frozen=True)
class SpoaApi:
    base_url: str
    token: str | None
    # Generous: the app builds its fact extractor on the first turn after start-up.
    timeout: float = 30.0
    conversation_id: str | None = None

    @classmethod
    def from_env(cls, conversation_id: str | None = None) -> "SpoaApi":
        return cls(
            base_url=os.environ.get("SPOA_API_URL", DEFAULT_API_URL).rstrip("/"),
            token=os.environ.get("SPOA_SERVICE_TOKEN") or None,
            conversation_id=conversation_id,
        )

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = requests.post(self.base_url + path, json=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise ApiUnavailable(f"{path}: {type(error).__name__}") from error
        if response.status_code >= 400:
            raise ApiUnavailable(f"{path}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as error:
            raise ApiUnavailable(f"{path}: reply is not JSON") from error

    def turn(
        self,
        contact_id: str | None,
        text: str | None,
        answer: dict[str, Any] | None = None,
        asked: list[str] | None = None,
        start: bool = False,
        change: bool = False,
    ) -> dict[str, Any]:
        """Send one resident message (and the answer to the question asked, if any); `change`
        asks for the last answered question again, to change its answer."""
        return self._post(
            "/api/dialogue/turn",
            {"contact_id": contact_id, "conversation_id": self.conversation_id, "text": text, "answer": answer,
             "asked": list(asked or []), "start": start, "change": change},
        )

    def request_callback(self, contact_id: str, phone: str | None) -> dict[str, Any]:
        """Put a call-back request for this contact on the duty worklist."""
        note = "Web chat: the resident asked to talk to a person. " + (
            f"Call back on {phone}." if phone else "No phone number given."
        )
        return self._post(f"/api/contacts/{contact_id}/callback", {"note": note})
