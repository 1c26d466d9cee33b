"""A small HTTP client for Rasa's REST channel, used by the chat page's relay.

    POST {RASA_URL}/webhooks/rest/webhook  {"sender": conversation id, "message": text}
    -> [{"recipient_id", "text"?, "buttons"?: [{"title", "payload"}], "custom"?: {...}}, ...]

RASA_URL may name several Rasa processes, comma-separated (they share the SQL tracker store
and the Redis lock store, see docs/DEPLOY.md). Each conversation goes to the same one, picked
by a hash of its id, so its turns queue in one place; if that one refuses the connection
(stopped, restarting) the next in line takes the conversation, which it reads from the
shared tracker store. A timeout is not passed on: Rasa may still be working on the message.

Timeouts are short: a resident waiting on a page is better served by the guided form than
by a spinner. Anything other than a list of messages in time (Rasa down, still loading its
model, an error, a timeout, or the actions reporting that the app's API was unreachable)
raises `DialogueUnavailable`, and the page carries on with the form.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
CONNECT_TIMEOUT = 2.0
# A reply takes about 55 ms, but a turn can wait on the actions and the app's first use of
# its extractor; past this the form is the better answer.
READ_TIMEOUT = 10.0


class DialogueUnavailable(RuntimeError):
    """Rasa could not give a reply; the message says why in a few words (no personal data)."""


def rasa_for(sender: str, base_urls: tuple[str, ...]) -> list[str]:
    """The Rasa processes to try for this conversation, in order: its own (a stable hash of
    the conversation id), then the others."""
    first = int.from_bytes(hashlib.sha256(sender.encode("utf-8")).digest()[:8], "big") % len(base_urls)
    return list(base_urls[first:] + base_urls[:first])


def _never_reached(error: requests.ConnectionError) -> bool:
    """True when the connection was refused or never made (not dropped mid-request)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


@dataclass
class RasaClient:
    base_url: str = DEFAULT_RASA_URL
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT

    @classmethod
    def from_settings(cls, settings: Any) -> "RasaClient":
        return cls(base_url=str(settings.get("RASA_URL") or DEFAULT_RASA_URL),
                   connect_timeout=float(settings.get("RASA_CONNECT_TIMEOUT") or CONNECT_TIMEOUT),
                   read_timeout=float(settings.get("RASA_READ_TIMEOUT") or READ_TIMEOUT))

    @property
    def base_urls(self) -> tuple[str, ...]:
        return tuple(url.strip().rstrip("/") for url in self.base_url.split(",") if url.strip())

    def _post(self, sender: str, message: str) -> requests.Response:
        error: requests.RequestException | None = None
        for base_url in rasa_for(sender, self.base_urls):
            try:
                return requests.post(f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                                     timeout=(self.connect_timeout, self.read_timeout))
            except requests.ConnectionError as refused:
                if not _never_reached(refused):
                    raise         # it may have the message: don't give it to a second Rasa
                error = refused   # nothing reached this Rasa: the next one may take it
        raise error or requests.ConnectionError("no Rasa URL configured")

    def send(self, sender: str, message: str) -> list[dict]:
        """The bot's messages in reply to one message from `sender`."""
        try:
            response = self._post(sender, message)
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
