"""Locust users for `make load` (bench/run_load.py starts the stack and runs this headless).

- ResidentUser: opens /chat and talks through a triage to its outcome, as a person would
  (the chat_stack Resident's answers), with think time between messages; then starts again.
  Every message is one "chat turn"; a turn the page had to answer with the fallback form is a
  failure ("fallback"), and a conversation that met two contact references is a failure
  ("duplicate contact").
- CallHandlerUser: logs in, starts a call in the console (with an Idempotency-Key), answers
  its questions and closes it (confirm).
- DutyWorkerUser: logs in and polls the worklist.

Settings from the environment (set by run_load.py): SPOA_LOAD_PASSWORD, SPOA_LOAD_FORWARDED
(send X-Forwarded-For per resident, for a profile behind one proxy hop).
"""
from __future__ import annotations

import itertools
import os
import random
import re
import sys
import uuid
from pathlib import Path

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "assistant"))
from chat_stack import Resident  # noqa: E402

PASSWORD = os.environ.get("SPOA_LOAD_PASSWORD", "load test password 1")
FORWARDED = os.environ.get("SPOA_LOAD_FORWARDED") == "1"
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" type="hidden" value="([^"]+)"'
                  r'|name="csrf_token" value="([^"]+)"')
MAX_TURNS = 30

# What residents know (contract facts), a few kinds of contact in turn.
STORIES = [
    ("my mum has fallen and can't get up",
     {"age": 90, "locality": "Sittingbourne", "caller": "family_friend", "fallen": True, "on_floor_cannot_get_up": True,
      "fall_injury": "none", "head_injury": False, "lost_consciousness": False}),
    ("my neighbour is lonely and struggling with shopping",
     {"age": 78, "locality": "Margate", "caller": "neighbour", "lonely": True}),
    ("my dad is confused and not eating",
     {"age": 84, "locality": "Ashford", "caller": "family_friend"}),
]
_numbers = {"call_handler": itertools.count(), "duty_worker": itertools.count()}
HANDLERS = int(os.environ.get("SPOA_LOAD_HANDLERS", "20"))
DUTY_WORKERS = int(os.environ.get("SPOA_LOAD_DUTY_WORKERS", "3"))


def _token(html: str) -> str:
    match = CSRF.search(html)
    return next(group for group in match.groups() if group) if match else ""


def _staff_login(user: HttpUser, role: str) -> dict:
    """Log in as the next pre-made user of `role` (run_load.py makes them); JSON headers."""
    username = f"load-{role.replace('_', '-')}-{next(_numbers[role])}"
    page = user.client.get("/auth/login", name="login page")
    user.client.post("/auth/login", name="login", allow_redirects=False,
                     data={"username": username, "password": PASSWORD, "csrf_token": _token(page.text)})
    # Logging in starts a new session: the page's token is read again after it.
    home = user.client.get("/console/" if role == "call_handler" else "/worklist/", name="staff page")
    return {"Accept": "application/json", "X-CSRFToken": _token(home.text)}


class ResidentUser(HttpUser):
    weight = 1   # every user that isn't a fixed number of staff
    wait_time = between(5, 15)   # reading the question and typing the answer

    def on_start(self) -> None:
        self.headers = {"Accept": "application/json"}
        if FORWARDED:   # one resident, one address, as the TLS proxy would report it
            self.headers["X-Forwarded-For"] = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        self._new_conversation()

    def _new_conversation(self) -> None:
        page = self.client.get("/chat", name="chat page", headers=self.headers)
        self.headers["X-CSRFToken"] = _token(page.text)
        opening, knows = random.choice(STORIES)
        self.resident, self.pending, self.turns, self.contacts = Resident(knows), opening, 0, set()

    @task
    def say(self) -> None:
        with self.client.post("/chat/api/message", json={"text": self.pending}, headers=self.headers,
                              name="chat turn", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return self._new_conversation()
            data = response.json()
            if data.get("contact_id"):
                self.contacts.add(data["contact_id"])
            if data.get("fallback"):
                response.failure("fallback")
            elif len(self.contacts) > 1:
                response.failure("duplicate contact")
        self.turns += 1
        question = data.get("question")
        if data.get("outcome") is not None or question is None or self.turns >= MAX_TURNS:
            return self._new_conversation()
        self.pending = self.resident.answer(question)


CALL_ANSWERS = {"emergency_screen": ["none"], "suicidal_thoughts": "no", "mental_health_crisis": "no", "age": 90,
                "locality": "Sittingbourne", "fallen": "yes", "on_floor_cannot_get_up": "yes", "fall_injury": "none",
                "head_injury": "no"}


class CallHandlerUser(HttpUser):
    fixed_count = HANDLERS
    abstract = HANDLERS == 0     # Locust would spawn a fixed count of 0 by weight
    wait_time = between(2, 6)    # listening to the caller

    def on_start(self) -> None:
        self.headers = _staff_login(self, "call_handler")
        self.call = None

    @task
    def next_step(self) -> None:
        if self.call is None:
            response = self.client.post("/console/api/contacts", name="console start call",
                                        json={"channel": "phone", "caller": "family_friend"},
                                        headers={**self.headers, "Idempotency-Key": str(uuid.uuid4())})
            self.call, self.asked = (response.json(), 0) if response.status_code == 201 else (None, 0)
            return
        question, contact_id = self.call.get("question"), self.call["contact"]["id"]
        if question is None or self.asked >= 20:
            self.client.post(f"/console/api/contacts/{contact_id}/close", json={"action": "confirm"},
                             headers=self.headers, name="console close")
            self.call = None
            return
        response = self.client.post(f"/console/api/contacts/{contact_id}/answer", name="console answer",
                                    headers=self.headers,
                                    json={"question": question["id"], "ask": question["ask"],
                                          "answer": CALL_ANSWERS.get(question["id"], "unknown")})
        self.asked += 1
        if response.status_code == 200:
            self.call = response.json()


class DutyWorkerUser(HttpUser):
    fixed_count = DUTY_WORKERS
    abstract = DUTY_WORKERS == 0
    wait_time = between(10, 20)  # the worklist page refreshes itself

    def on_start(self) -> None:
        self.headers = _staff_login(self, "duty_worker")

    @task
    def poll(self) -> None:
        self.client.get("/api/worklist?status=open&limit=50", headers=self.headers, name="worklist poll")


@events.quitting.add_listener
def _exit_code(environment, **_kwargs) -> None:  # noqa: ANN001
    # run_load.py reads the CSV; a failed request must not stop the next step.
    environment.process_exit_code = 0
