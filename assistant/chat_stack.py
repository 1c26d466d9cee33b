"""Start the whole chat stack on free loopback ports, for the tests and `make evaluate`.

Runs in the app's Python 3.11 environment and starts the processes of the Procfile: the web
app (`spoa serve` with its own SQLite database, or the database `env` names), the dialogue
API for the actions (the same app, a process of its own, as in production), the action
server and one or more Rasa servers (from .venv-rasa, with the trained model; `endpoints`
adds e.g. a SQL tracker store and a Redis lock store). The fault tests kill and restart them. Each is waited for with a timeout and stopped at the
end; their output goes to log files in the stack's folder, so a failure can be read there.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ASSISTANT = Path(__file__).resolve().parent
ROOT = ASSISTANT.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ASSISTANT / "models" / "spoa.tar.gz"

# Start-up limits, generous for two shared cores: loading the model takes about 60 s.
WEB_START_TIMEOUT = 60
ACTIONS_START_TIMEOUT = 60
RASA_START_TIMEOUT = 240

class StackError(RuntimeError):
    """A server did not start; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prerequisites() -> list[str]:
    """What is missing for the stack to run (empty when it can run)."""
    missing = []
    if not RASA_BIN.exists():
        missing.append("the Rasa environment (.venv-rasa: make rasa-setup)")
    if not MODEL.exists():
        missing.append("the trained model (assistant/models/spoa.tar.gz: make rasa-train)")
    try:
        import web  # noqa: F401

        if not hasattr(web, "create_app"):
            missing.append("web.create_app")
    except ImportError:
        missing.append("the web app (web.create_app)")
    return missing


@dataclass
class ChatStack:
    """The three servers; `say()` talks to Rasa through its REST channel."""

    folder: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    web_port: int = field(default_factory=free_port)
    dialogue_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)        # for web and dialogue (DATABASE_URL, SPOA_ENV...)
    rasa_env: dict[str, str] = field(default_factory=dict)   # for Rasa (tracker store settings)
    endpoints: str = ""                                       # more of Rasa's endpoints.yml
    rasa_count: int = 1
    web_args: list[str] = field(default_factory=lambda: ["--workers", "1", "--threads", "4"])
    extra_rasa_ports: list[int] = field(default_factory=list)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def dialogue_url(self) -> str:
        return f"http://127.0.0.1:{self.dialogue_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rasa_urls(self) -> list[str]:
        return [self.rasa_url] + [f"http://127.0.0.1:{port}" for port in self.extra_rasa_ports]

    def _spawn(self, name: str, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        log = open(self.folder / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            args, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() ends its children too
        )

    def _wait(self, name: str, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}; see {self.folder / (name + '.log')}")
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise StackError(f"{name} was not ready within {timeout} s; see {self.folder / (name + '.log')}")

    def _warm_up_web(self) -> None:
        """One turn with nothing in it (stores nothing), so the dialogue process builds its
        extractor now."""
        response = requests.post(f"{self.dialogue_url}/api/dialogue/turn", json={"text": "hello"},
                                 headers={"Authorization": f"Bearer {self.token}"}, timeout=WEB_START_TIMEOUT)
        if response.status_code != 200:
            raise StackError(f"dialogue: POST /api/dialogue/turn answered {response.status_code}: {response.text[:200]}")

    def _app_env(self) -> dict[str, str]:
        env = {"SPOA_SERVICE_TOKEN": self.token, "SECRET_KEY": secrets.token_hex(32),
               "DATABASE_URL": f"sqlite:///{self.folder / 'spoa.db'}", "RASA_URL": ",".join(self.rasa_urls)}
        return {**env, **self.env}

    def _spawn_web(self) -> None:
        spoa = str(Path(sys.executable).parent / "spoa")
        self._spawn("web", [spoa, "serve", "--host", "127.0.0.1", "--port", str(self.web_port), *self.web_args],
                    ROOT, self._app_env())

    def start_web(self) -> None:
        self._spawn_web()
        self._wait("web", f"{self.web_url}/api/health", WEB_START_TIMEOUT)

    def start_dialogue(self) -> None:
        spoa = str(Path(sys.executable).parent / "spoa")
        self._spawn("dialogue", [spoa, "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(self.dialogue_port),
                                 "--workers", "1", "--threads", "8"], ROOT, self._app_env())
        self._wait("dialogue", f"{self.dialogue_url}/api/health", WEB_START_TIMEOUT)
        self._warm_up_web()

    def _rasa_env(self) -> dict[str, str]:
        return {"RASA_TELEMETRY_ENABLED": "false", "SANIC_HOST": "127.0.0.1", **self.rasa_env}

    def _rasa(self, index: int) -> tuple[str, int]:
        return ("rasa", self.rasa_port) if index == 0 else (f"rasa{index}", self.extra_rasa_ports[index - 1])

    def _spawn_rasa(self, index: int) -> None:
        name, port = self._rasa(index)
        endpoints = self.folder / "endpoints.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n{self.endpoints}')
        self._spawn(name, [str(RASA_BIN), "run", "--interface", "127.0.0.1", "--port", str(port),
                           "--model", str(MODEL), "--credentials", "credentials.yml",
                           "--endpoints", str(endpoints)], ASSISTANT, self._rasa_env())

    def _wait_rasa(self, index: int) -> None:
        name, port = self._rasa(index)
        self._wait(name, f"http://127.0.0.1:{port}/webhooks/rest/", RASA_START_TIMEOUT)

    def start_rasa(self, index: int = 0) -> None:
        """(Re)start Rasa number `index` (0 is rasa_port) and wait until it answers."""
        self._spawn_rasa(index)
        self._wait_rasa(index)

    def start(self) -> "ChatStack":
        self.extra_rasa_ports = [free_port() for _ in range(self.rasa_count - 1)]
        try:
            # Rasa takes longest to load its model: started first, waited for last. The
            # dialogue process starts once web has migrated the database.
            self._spawn_web()
            self._spawn("actions", [str(RASA_BIN), "run", "actions", "--actions", "actions", "--port",
                                    str(self.actions_port)], ASSISTANT,
                        {**self._rasa_env(), "SPOA_API_URL": self.dialogue_url, "SPOA_SERVICE_TOKEN": self.token})
            for index in range(self.rasa_count):
                self._spawn_rasa(index)
            self._wait("web", f"{self.web_url}/api/health", WEB_START_TIMEOUT)
            self.start_dialogue()
            self._wait("actions", f"http://127.0.0.1:{self.actions_port}/health", ACTIONS_START_TIMEOUT)
            for index in range(self.rasa_count):
                self._wait_rasa(index)
        except Exception:
            self.stop()
            raise
        return self

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to one server's process group and wait for it to end."""
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self.processes.clear()

    def __enter__(self) -> "ChatStack":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def say(self, sender: str, text: str, timeout: float = 30) -> list[dict[str, Any]]:
        """Send one message through the REST channel; the bot's messages in reply."""
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": text}, timeout=timeout)
        response.raise_for_status()
        return response.json()


def production_endpoints() -> str:
    """assistant/endpoints.production.yml without its action endpoint (the stack adds its own):
    the SQL tracker store and the Redis lock store, settings from the Rasa environment."""
    text = (ASSISTANT / "endpoints.production.yml").read_text(encoding="utf-8")
    return text[text.index("tracker_store:"):]


def new_stack() -> ChatStack:
    return ChatStack(folder=Path(tempfile.mkdtemp(prefix="spoa-chat-")))


def new_sender() -> str:
    return "test-" + uuid.uuid4().hex[:12]


# ---------------------------------------------------------------------------------------
# A simulated resident, who answers each question from what they know

DONT_KNOW = "I don't know"


def question_in(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The question's custom payload ({"ask", "kind", "options", ...}) in a reply, if any."""
    found = [m["custom"] for m in messages if isinstance(m.get("custom"), dict) and "ask" in m["custom"]]
    return found[-1] if found else None


def outcome_in(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The outcome's custom payload ({"decision", "contact_id"}) in a reply, if any."""
    found = [m["custom"] for m in messages if isinstance(m.get("custom"), dict) and "decision" in m["custom"]]
    return found[-1] if found else None


def _label(question: dict[str, Any], value: Any) -> str:
    for option in question.get("options") or []:
        if isinstance(option, dict) and option.get("value") == value:
            return str(option.get("label") or value)
    return str(value)


@dataclass
class Resident:
    """Answers questions from `knows` (contract facts; `locality` as a place name) the way a
    person would: in plain words ("yes", "84", "none of those") or, when `buttons` is set,
    with a button's payload. Like a real caller they know their own situation: a yes/no or
    checklist item they don't mention isn't happening ("no"); a number, a choice or a place
    they don't mention, they don't know."""

    knows: dict[str, Any]
    buttons: bool = False

    def _none(self) -> str:
        return "none" if self.buttons else "none of those"

    def _dont_know(self) -> str:
        return "unknown" if self.buttons else DONT_KNOW

    def answer(self, question: dict[str, Any]) -> str:
        kind, ask = question.get("kind"), list(question.get("ask") or [])
        if kind == "checklist":
            ticked = [fact for fact in ask if self.knows.get(fact) is True]
            if not ticked:
                return self._none()
            return ticked[0] if self.buttons else " and ".join(_label(question, fact).lower() for fact in ticked)
        fact = ask[0] if ask else None
        value = self.knows.get(fact)
        if kind == "boolean":
            return "yes" if value else "no"
        if kind == "multi":
            if not value:
                return self._none()
            return value[0] if self.buttons and len(value) == 1 else ", ".join(_label(question, v) for v in value)
        if value is None:
            return self._dont_know()
        if kind == "choice":
            return str(value) if self.buttons else _label(question, value)
        return str(value)


@dataclass
class Conversation:
    """One resident's chat to its outcome, with each turn's question and timing."""

    stack: ChatStack
    resident: Resident
    sender: str = field(default_factory=new_sender)
    questions: list[dict[str, Any]] = field(default_factory=list)
    transcript: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def send(self, text: str) -> list[dict[str, Any]]:
        started = time.perf_counter()
        replies = self.stack.say(self.sender, text)
        self.latencies.append(time.perf_counter() - started)
        self.transcript.append((text, replies))
        return replies

    def run(self, opening: str, max_turns: int = 30) -> dict[str, Any]:
        """Say `opening`, answer every question, and return the outcome's custom payload."""
        replies = self.send(opening)
        for _ in range(max_turns):
            outcome = outcome_in(replies)
            if outcome is not None:
                return outcome
            question = question_in(replies)
            if question is None:
                raise AssertionError(f"neither a question nor an outcome in the reply: {replies!r}\n{self.describe()}")
            self.questions.append(question)
            replies = self.send(self.resident.answer(question))
        raise AssertionError(f"no outcome after {max_turns} questions\n{self.describe()}")

    def describe(self) -> str:
        lines = []
        for said, replies in self.transcript:
            lines.append(f"> {said}")
            lines.extend(f"< {m.get('text') or m.get('custom')}" for m in replies)
        return "\n".join(lines)
