"""Real servers for the serving tests: `spoa serve` (gunicorn) as a subprocess, and a stand-in
for Rasa plus its action server that calls the app's dialogue API as the real actions do.

The stand-in is used where the test is about threads and processes, not about the model
(tests/test_chat_rasa.py and the fault tests drive the trained model itself).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SPOA = str(Path(sys.executable).parent / "spoa")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SpoaServer:
    """`spoa serve` on a free loopback port, in its own process group; output in a log file."""

    env: dict
    args: list = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> "SpoaServer":
        self.log_path = Path(tempfile.mkstemp(prefix="spoa-serve-", suffix=".log")[1])
        env = {**os.environ, "PYTHONPATH": str(ROOT), **{k: str(v) for k, v in self.env.items()}}
        self.process = subprocess.Popen([SPOA, "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args],
                                        cwd=ROOT, env=env, stdout=open(self.log_path, "wb"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"spoa serve exited {self.process.returncode}: {self.log()}")
            try:
                if requests.get(self.url + "/api/health", timeout=2).status_code < 500:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"spoa serve not ready in {timeout} s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path else ""

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master)."""
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def __enter__(self) -> "SpoaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ActionsLikeRasa:
    """Answers Rasa's REST channel the way Rasa with the SPoA actions does, minus the model:
    each message becomes one POST /api/dialogue/turn to `dialogue_url` (conversation id =
    the sender), and the reply is the question (or outcome) with its custom payload."""

    def __init__(self, dialogue_url: str, token: str):
        owner = self
        self.dialogue_url, self.token = dialogue_url, token

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                raw = json.dumps(owner.reply(body["sender"], body["message"])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):  # quiet
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def reply(self, sender: str, message: str) -> list[dict]:
        try:
            turn = requests.post(self.dialogue_url + "/api/dialogue/turn", timeout=30,
                                 headers={"Authorization": f"Bearer {self.token}"},
                                 json={"conversation_id": sender, "text": message, "start": True}).json()
        except requests.RequestException:
            return [{"recipient_id": sender, "text": "Sorry, something went wrong."},
                    {"recipient_id": sender, "custom": {"error": "service_unavailable"}}]
        question = turn.get("question")
        if question is None:
            return [{"recipient_id": sender, "custom": {"decision": turn["decision"], "contact_id": turn["contact_id"],
                                                        "summary": turn.get("summary")}}]
        return [{"recipient_id": sender, "text": question["text"]},
                {"recipient_id": sender, "custom": {"question_id": question["id"], "ask": question["ask"],
                                                    "kind": question["kind"], "options": question["options"],
                                                    "text": question["text"], "contact_id": turn["contact_id"]}}]

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def open_chat(base_url: str, forwarded_for: str | None = None) -> tuple[requests.Session, dict]:
    """A resident's browser session on /chat: (session, headers for its JSON calls)."""
    session = requests.Session()
    extra = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    html = session.get(base_url + "/chat", headers=extra, timeout=30).text
    return session, {"Accept": "application/json", "X-CSRFToken": _CSRF.search(html).group(1), **extra}
