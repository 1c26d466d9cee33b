"""Serving the app with gunicorn: threaded workers (gthread), one app per worker.

`spoa serve` (web/cli.py) migrates the database in the master, then `serve_app` starts
gunicorn: WEB_CONCURRENCY worker processes (default 2), each with SPOA_THREADS threads
(default 8). Each worker builds its own app after the fork (`create_app`, no preload), so no
database connection or lock is shared between processes. The same function serves the
dialogue API for Rasa's action server on its own port (Procfile's `dialogue`), so a chat
relay waiting on Rasa never holds a thread the actions need (issue 9: self-starvation).
"""
from __future__ import annotations

import os
from typing import Any, Callable

from gunicorn.app.base import BaseApplication

DEFAULT_WORKERS = 2
# A worker that takes longer than this on one request is restarted: longer than the chat's
# wait for Rasa (RASA_READ_TIMEOUT, 10 s) plus a turn, so only a stuck worker is killed.
WORKER_TIMEOUT = 60


def gunicorn_options(host: str, port: int, *, workers: int | None = None, threads: int = 8) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers or int(os.environ.get("WEB_CONCURRENCY") or DEFAULT_WORKERS),
        "worker_class": "gthread",
        "threads": threads,
        "timeout": WORKER_TIMEOUT,
        "graceful_timeout": 20,
        "keepalive": 5,
        "preload_app": False,
        "accesslog": None,          # the app logs contact ids and routes itself, never more
        "errorlog": "-",
        "proc_name": "spoa",
        # X-Forwarded-* are handled by the app (SPOA_PROXY_HOPS, werkzeug's ProxyFix).
        "forwarded_allow_ips": "127.0.0.1",
        # One control socket per user by default: two servers on one machine (web and
        # dialogue, tests) would fight over it, and nothing here uses it.
        "control_socket_disable": True,
    }


class _Gunicorn(BaseApplication):
    def __init__(self, factory: Callable[[], Any], options: dict[str, Any]):
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # noqa: ANN201 - called in each worker after the fork
        return self.factory()


def serve_app(factory: Callable[[], Any], options: dict[str, Any]) -> None:
    """Run gunicorn until it is stopped (SIGTERM/SIGINT), building the app in each worker."""
    _Gunicorn(factory, options).run()
