"""A small HTTP client for Rasa's REST channel, used by the chat page's relay.

    POST {RASA_URL}/webhooks/rest/webhook  {"sender": conversation id, "message": text}
    -> [{"recipient_id", "text"?, "buttons"?: [{"title", "payload"}], "custom"?: {...}}, ...]

Timeouts are short: a resident waiting on a page is better served by the guided form than
by a spinner. Anything other than a list of messages in time (Rasa down, still loading its
model, an error, a timeout, or the actions reporting that the app's API was unreachable)
raises `DialogueUnavailable`, and the page carries on with the form.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
CONNECT_TIMEOUT = 2.0
# A reply takes about 55 ms, but a turn can wait on the actions and the app's first use of
# its extractor; past this the form is the better answer.
READ_TIMEOUT = 10.0


class DialogueUnavailable(RuntimeError):
    """Rasa could not give a reply; the message says why in a few words (no personal data)."""


@dataclass
class RasaClient:
    base_url: str = DEFAULT_RASA_URL
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT

    @classmethod
    def from_settings(cls, settings: Any) -> "RasaClient":
        return cls(base_url=str(settings.get("RASA_URL") or DEFAULT_RASA_URL).rstrip("/"),
                   connect_timeout=float(settings.get("RASA_CONNECT_TIMEOUT") or CONNECT_TIMEOUT),
                   read_timeout=float(settings.get("RASA_READ_TIMEOUT") or READ_TIMEOUT))

    def send(self, sender: str, message: str) -> list[dict]:
        """The bot's messages in reply to one message from `sender`."""
        try:
            response = requests.post(f"{self.base_url}/webhooks/rest/webhook",
                                      json={"sender": sender, "message": message},
                                      timeout=(self.connect_timeout, self.read_timeout))
        except requests.RequestException as error:
            raise DialogueUnavailable(type(error).__name__) from error
        if response.status_code != 200:
            raise DialogueUnavailable(f"HTTP {response.status_code}")
        try:
            messages = response.json()
        except ValueError as error:
            raise DialogueUnavailable("reply is not JSON") from error
        if not isinstance(messages, list) or not all(isinstance(message, dict) for message in messages):
            raise DialogueUnavailable("reply is not a list of messages")
        if not messages:
            raise DialogueUnavailable("empty reply")  # e.g. the action server is down
        if any(isinstance(m.get("custom"), dict) and m["custom"].get("error") == "service_unavailable"
               for m in messages):
            # The actions couldn't reach the app's dialogue API: the form reaches it directly.
            raise DialogueUnavailable("the actions could not reach the app")
        return messages
