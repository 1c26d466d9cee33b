"""Benchmark POST /api/contacts: throughput and latency with concurrent clients.

Starts the real server (`spoa serve` = gunicorn, threaded workers) on a fresh database for each
backend, SQLite (WAL, synchronous=FULL) and PostgreSQL (a schema of its own in the `test`
database), sends contacts from N concurrent clients with the service token, and prints
requests per second and p50/p95/p99 latency. Every request must get 201.

    .venv/bin/python bench/bench_api.py [--backend sqlite|postgresql|both] [--clients 20] [--requests 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("SPOA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCREEN = {fact: False for fact in ("unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs",
                                   "severe_bleeding", "seizure_ongoing", "severe_allergic_reaction", "serious_injury",
                                   "overdose_or_self_harm", "immediate_danger")}
CONTACTS = [
    {"channel": "web_chat", "facts": {**SCREEN, "age": 90, "locality": "swale", "fallen": True,
                                      "on_floor_cannot_get_up": True, "fall_injury": "none"}},
    {"channel": "phone", "facts": {**SCREEN, "age": 82, "locality": "thanet", "lonely_or_isolated": True}},
    {"channel": "phone", "facts": {**SCREEN, "age": 64, "locality": "ashford", "information_topic": "pendant alarm"}},
    {"channel": "web_chat", "facts": {"age": 70, "locality": "west_kent", "chest_pain": True}},
    {"channel": "professional_referral", "facts": {**SCREEN, "age": 85, "locality": "ashford", "dementia": True,
                                                   "abuse_types": ["financial"], "lacks_capacity": True}},
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "web.cli", "serve", "--no-demo", "--port", str(port)]
    # The server's log goes to a file: a pipe nobody reads would fill up and block the server.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"server exited: {log.read().decode()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("server did not become healthy within 60 s")


def run_load(base: str, token: str, clients: int, total: int) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            body = json.dumps(CONTACTS[index % len(CONTACTS)])
            started = time.perf_counter()
            try:
                response = session.post(f"{base}/api/contacts", data=body, headers=headers, timeout=60)
                status = response.status_code
            except requests.RequestException as error:
                status = type(error).__name__
            elapsed = time.perf_counter() - started
            with lock:
                if status == 201:
                    latencies.append(elapsed)
                else:
                    failures.append(str(status))

    # Warm up: connections, caches, the ruleset's first compile.
    warm = requests.Session()
    for contact in CONTACTS * 2:
        warm.post(f"{base}/api/contacts", data=json.dumps(contact), headers=headers, timeout=60)
    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))] * 1000

    return {"requests": total, "ok": len(latencies), "failed": len(failures), "failures": sorted(set(failures)),
            "clients": clients, "seconds": round(wall, 2), "requests_per_second": round(len(latencies) / wall, 1),
            "p50_ms": round(percentile(50), 1), "p95_ms": round(percentile(95), 1), "p99_ms": round(percentile(99), 1),
            "mean_ms": round(statistics.mean(latencies) * 1000, 1) if latencies else None}


def bench(backend: str, clients: int, total: int, threads: int) -> dict:
    token = secrets.token_urlsafe(24)
    env = {**os.environ, "SPOA_SERVICE_TOKEN": token, "SECRET_KEY": secrets.token_hex(16), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_SCHEMA", None)
    cleanup = None
    if backend == "sqlite":
        folder = tempfile.TemporaryDirectory(prefix="spoa-bench-")
        env["DATABASE_URL"] = f"sqlite:///{folder.name}/bench.db"
        cleanup = folder.cleanup
    else:
        import psycopg

        schema = f"spoa_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        env["DATABASE_URL"], env["DATABASE_SCHEMA"] = PG_URL, schema

        def cleanup() -> None:
            with psycopg.connect(PG_URL, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    port = free_port()
    env["SPOA_THREADS"] = str(threads)
    server = start_server(env, port)
    try:
        result = run_load(f"http://127.0.0.1:{port}", token, clients, total)
    finally:
        server.terminate()
        server.wait(timeout=30)
        cleanup()
    return {"backend": backend, "server_threads": threads, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [bench(backend, args.clients, args.requests, args.threads) for backend in backends]
    print(f"POST /api/contacts, {args.clients} concurrent clients, {args.requests} requests, "
          f"waitress {args.threads} threads, {os.cpu_count()} CPUs")
    print(f"{'backend':<11} {'ok':>5} {'failed':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for r in results:
        print(f"{r['backend']:<11} {r['ok']:>5} {r['failed']:>6} {r['requests_per_second']:>7} {r['p50_ms']:>7} "
              f"{r['p95_ms']:>7} {r['p99_ms']:>7}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_api.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if any(r["failed"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
