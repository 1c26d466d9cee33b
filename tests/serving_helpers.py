"""Real servers for the serving tests: `spoa serve` (gunicorn) as a subprocess, and a stand-in
for Rasa plus its action server that calls the app's dialogue API as the real actions do.

The stand-in is used where the test is about threads and processes, not about the model
(tests/test_chat_rasa.py and the fault tests drive the trained model itself).
"""
from __future__ import annotations

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
        from test_chat_page import FakeRasa

        self.dialogue_url, self.token = dialogue_url, token
        self.server = FakeRasa()
        self.server.respond = lambda message: self.reply(message["sender"], message["message"])
        self.url = self.server.url

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
        self.server.close()


_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def open_chat(base_url: str, forwarded_for: str | None = None) -> tuple[requests.Session, dict]:
    """A resident's browser session on /chat: (session, headers for its JSON calls)."""
    session = requests.Session()
    extra = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    html = session.get(base_url + "/chat", headers=extra, timeout=30).text
    return session, {"Accept": "application/json", "X-CSRFToken": _CSRF.search(html).group(1), **extra}


class TcpProxy:
    """A TCP proxy on a free loopback port to `target` (the machine's PostgreSQL), which a test
    can cut (every connection dropped, new ones refused) and restore, as a database restart
    looks to the app, without touching the real server other sessions use."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return   # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        self.cut()
