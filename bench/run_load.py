"""`make load`: how many residents can chat at once with turn p95 under 1 s (issue 9, item 4).

For each profile it starts the whole stack on loopback (assistant/chat_stack.py: gunicorn web
app, its dialogue process for the actions, the action server and Rasa with the trained
model), makes the staff logins, then runs Locust headless (bench/locustfile.py) in steps of
more and more residents, each step bounded in time, alongside call handlers in the console
and duty workers polling the worklist:

- sqlite: the one-machine default (`make run`): SQLite, Rasa's in-memory tracker store.
- postgresql: SPOA_ENV=production: PostgreSQL (a schema of its own), Redis rate limits
  (residents each with their own X-Forwarded-For, one trusted proxy hop), Rasa's SQL tracker
  store in its own schema and Redis lock store, two Rasa processes the relay shares out.

A step passes when chat turn p95 < 1 s with no errors, no fallbacks and no duplicate
contacts; steps stop at the first with errors, fallbacks or duplicates (or p95 over 5 s). For each step it also reports the CPU seconds
each server used (web, dialogue, rasa, actions, PostgreSQL, Locust itself): where the time
went. The capacity table is printed and written as JSON (--out).

    .venv/bin/python bench/run_load.py [--profile sqlite|postgresql|both] [--steps 10,25,50,100]
        [--handlers 20] [--duration 60] [--out bench/results/load.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "assistant"))
sys.path.insert(0, str(ROOT))

import chat_stack  # noqa: E402

PG_URL = os.environ.get("SPOA_LOAD_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SPOA_LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
PASSWORD = "load test password 1"
DUTY_WORKERS = 3
TURN_P95_LIMIT_MS = 1000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes in one process group."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:     # pgrp (fields after the command: state, ppid, pgrp, ...)
            total += int(fields[11]) + int(fields[12])   # utime, stime
    return total / CLOCK_TICKS


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process (the server is shared: other users count too)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def make_staff(url: str, schema: str | None, handlers: int) -> None:
    from web.store import Store, users

    store = Store(url, schema=schema, pool_size=1)
    try:
        for role, count in (("call_handler", handlers), ("duty_worker", DUTY_WORKERS)):
            for index in range(count):
                store.run(lambda db, role=role, index=index: users.add_user(
                    db, f"load-{role.replace('_', '-')}-{index}", PASSWORD, role))
    finally:
        store.dispose()


def unbound_chat_contacts(url: str, schema: str | None) -> int:
    """Web chat contacts not bound to a conversation (each conversation has at most one by the
    unique index, so a resident's second contact could only hide here)."""
    from sqlalchemy import text

    from web.store import Store

    store = Store(url, schema=schema, pool_size=1)
    try:
        with store.session() as db:
            return db.execute(text("SELECT count(*) FROM contacts WHERE channel = 'web_chat' "
                                   "AND conversation_id IS NULL")).scalar_one()
    finally:
        store.dispose()


def new_stack(profile: str) -> tuple[chat_stack.ChatStack, str, str | None, list]:
    """The stack for `profile`, its database (url, schema) and what to clean up afterwards."""
    stack, cleanup = chat_stack.new_stack(), []
    if profile == "sqlite":
        url, schema = f"sqlite:///{stack.folder / 'spoa.db'}", None
        # Every simulated resident comes from 127.0.0.1: one address, so no per-address limit.
        stack.env = {"DATABASE_URL": url, "SPOA_CHAT_RATE_LIMIT": "100000 per minute",
                     "SPOA_LOGIN_RATE_LIMIT": "1000 per minute"}
        stack.web_args = ["--workers", "2", "--threads", "16"]
        return stack, url, schema, cleanup
    import psycopg

    app_schema, tracker_schema = f"spoa_load_{uuid.uuid4().hex[:8]}", f"rasa_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as connection:
        for name in (app_schema, tracker_schema):
            connection.execute(f'CREATE SCHEMA "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as connection:
            for name in (app_schema, tracker_schema):
                connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    cleanup.append(drop)
    stack.env = {"SPOA_ENV": "production", "DATABASE_URL": PG_URL, "DATABASE_SCHEMA": app_schema,
                 "SPOA_AUDIT_KEY": secrets.token_hex(32),
                 "RATELIMIT_STORAGE_URI": REDIS_URL, "SPOA_PROXY_HOPS": "1",
                 "SESSION_COOKIE_SECURE": "0",   # plain HTTP on loopback stands in for the TLS proxy
                 "SPOA_LOGIN_RATE_LIMIT": "1000 per minute", "DATABASE_POOL_SIZE": "10"}
    stack.rasa_count = 2
    stack.endpoints = chat_stack.production_endpoints()
    stack.rasa_env = {"RASA_DB_HOST": "127.0.0.1", "RASA_DB_PORT": "5432", "RASA_DB_NAME": "test",
                      "RASA_DB_USER": "postgres", "RASA_DB_PASSWORD": "", "POSTGRESQL_SCHEMA": tracker_schema,
                      "SQL_POOL_SIZE": "5", "SQL_MAX_OVERFLOW": "5", "RASA_REDIS_HOST": "127.0.0.1",
                      "RASA_REDIS_PORT": "6379", "RASA_REDIS_DB": "13"}
    stack.web_args = ["--workers", "2", "--threads", "16"]
    return stack, PG_URL, app_schema, cleanup


def read_stats(prefix: str) -> dict:
    rows = {row["Name"]: row for row in csv.DictReader(open(f"{prefix}_stats.csv"))}
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv"))) if Path(f"{prefix}_failures.csv").exists() else []
    turn = rows.get("chat turn", {})
    total = rows.get("Aggregated", {})
    by_error: dict[str, int] = {}
    for row in failures:
        by_error[row["Error"]] = by_error.get(row["Error"], 0) + int(row["Occurrences"])
    fallbacks = sum(n for error, n in by_error.items() if "fallback" in error)
    duplicates = sum(n for error, n in by_error.items() if "duplicate contact" in error)
    return {"turns": int(turn.get("Request Count") or 0),
            "turn_p50_ms": float(turn.get("50%") or 0), "turn_p95_ms": float(turn.get("95%") or 0),
            "turn_max_ms": float(turn.get("Max Response Time") or 0),
            "requests": int(total.get("Request Count") or 0),
            "errors": int(total.get("Failure Count") or 0) - fallbacks - duplicates,
            "fallbacks": fallbacks, "duplicates": duplicates, "failures": by_error,
            "console_p95_ms": max((float(row.get("95%") or 0) for name, row in rows.items()
                                   if name.startswith("console")), default=0.0),
            "worklist_p95_ms": float(rows.get("worklist poll", {}).get("95%") or 0)}


def run_step(stack: chat_stack.ChatStack, residents: int, handlers: int, duration: int, forwarded: bool) -> dict:
    users = residents + handlers + DUTY_WORKERS
    prefix = str(stack.folder / f"step_{residents}")
    env = {**os.environ, "SPOA_LOAD_PASSWORD": PASSWORD, "SPOA_LOAD_HANDLERS": str(handlers),
           "SPOA_LOAD_DUTY_WORKERS": str(DUTY_WORKERS), "SPOA_LOAD_FORWARDED": "1" if forwarded else "0"}
    groups = {name: process.pid for name, process in stack.processes.items()}
    before = {name: process_group_cpu(pgid) for name, pgid in groups.items()}
    before["postgresql"], before["locust"] = postgres_cpu(), children_cpu()
    started = time.monotonic()
    locust = subprocess.run([str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"),
                             "--headless", "--users", str(users), "--spawn-rate", str(max(2, users // 20)),
                             "--run-time", f"{duration}s", "--host", stack.web_url, "--csv", prefix,
                             "--only-summary", "--stop-timeout", "20", "--loglevel", "WARNING"],
                            env=env, capture_output=True, text=True, timeout=duration + 120)
    wall = time.monotonic() - started
    after = {name: process_group_cpu(pgid) for name, pgid in groups.items()}
    after["postgresql"], after["locust"] = postgres_cpu(), children_cpu()
    # A process that ended during the step takes its CPU with it (PostgreSQL backends come
    # and go): such a figure is a lower bound, never below zero.
    cpu = {name: max(0.0, round(after[name] - before[name], 1)) for name in before}
    stats = read_stats(prefix)
    stats.update(residents=residents, handlers=handlers, duty_workers=DUTY_WORKERS, seconds=round(wall),
                 cpu_seconds=cpu, load_average=os.getloadavg()[0])
    # The CPU one chat turn costs in the processes only chat turns use, whatever else the
    # (shared) machine was doing: the figure to size from (docs/DEPLOY.md).
    turns = max(1, stats["turns"])
    stats["cpu_ms_per_turn"] = {"rasa": round(1000 * sum(v for k, v in cpu.items() if k.startswith("rasa")) / turns),
                                "actions": round(1000 * cpu.get("actions", 0) / turns),
                                "dialogue": round(1000 * cpu.get("dialogue", 0) / turns)}
    stats["passed"] = (stats["turns"] > 0 and stats["turn_p95_ms"] < TURN_P95_LIMIT_MS and stats["errors"] == 0
                       and stats["fallbacks"] == 0 and stats["duplicates"] == 0)
    if locust.returncode not in (0, 1):
        stats["locust_error"] = locust.stderr[-500:]
    return stats


def children_cpu() -> float:
    """CPU seconds of this process's children that have ended (Locust, once it has exited)."""
    times = os.times()
    return times.children_user + times.children_system


def run_profile(profile: str, steps: list[int], handlers: int, duration: int) -> dict:
    stack, url, schema, cleanup = new_stack(profile)
    result = {"profile": profile, "steps": [], "folder": str(stack.folder)}
    try:
        print(f"[{profile}] starting the stack (Rasa loads its model: a minute or two) ...", flush=True)
        stack.start()
        make_staff(url, schema, handlers)
        for residents in steps:
            print(f"[{profile}] {residents} residents + {handlers} call handlers + {DUTY_WORKERS} duty workers, "
                  f"{duration} s ...", flush=True)
            step = run_step(stack, residents, handlers, duration, forwarded=profile == "postgresql")
            result["steps"].append(step)
            print(f"[{profile}]   turns {step['turns']}, p50 {step['turn_p50_ms']:.0f} ms, "
                  f"p95 {step['turn_p95_ms']:.0f} ms, errors {step['errors']}, fallbacks {step['fallbacks']}, "
                  f"duplicates {step['duplicates']}, cpu {step['cpu_seconds']}", flush=True)
            if step["errors"] or step["fallbacks"] or step["duplicates"] or step["turn_p95_ms"] > 5 * TURN_P95_LIMIT_MS:
                break   # more residents would only fail harder (a slow step still shows the trend)
        result["unbound_chat_contacts"] = unbound_chat_contacts(url, schema)
    finally:
        stack.stop()
        for step in cleanup:
            step()
    passed = [step["residents"] for step in result["steps"] if step["passed"]]
    result["capacity_residents"] = max(passed) if passed else 0
    return result


def table(results: list[dict]) -> str:
    lines = ["| profile | residents | call handlers | chat turns | turn p50 | turn p95 | console p95 | errors | "
             "fallbacks | duplicates | CPU s: web / dialogue / rasa / actions / postgres / locust | "
             "CPU ms per turn: rasa / actions / dialogue | load avg | pass |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        for step in result["steps"]:
            cpu = step["cpu_seconds"]
            rasa = sum(v for k, v in cpu.items() if k.startswith("rasa"))
            lines.append(
                f"| {result['profile']} | {step['residents']} | {step['handlers']} | {step['turns']} | "
                f"{step['turn_p50_ms']:.0f} ms | {step['turn_p95_ms']:.0f} ms | {step['console_p95_ms']:.0f} ms | "
                f"{step['errors']} | {step['fallbacks']} | {step['duplicates']} | "
                f"{cpu.get('web', 0)} / {cpu.get('dialogue', 0)} / {rasa:.1f} / {cpu.get('actions', 0)} / "
                f"{cpu.get('postgresql', 0)} / {cpu.get('locust', 0)} | "
                f"{step['cpu_ms_per_turn']['rasa']} / {step['cpu_ms_per_turn']['actions']} / "
                f"{step['cpu_ms_per_turn']['dialogue']} | {step['load_average']:.1f} | {'yes' if step['passed'] else 'no'} |")
    lines.append("")
    for result in results:
        lines.append(f"{result['profile']}: capacity {result['capacity_residents']} residents with turn p95 < 1 s, "
                     f"no errors, no fallbacks, no duplicate contacts "
                     f"(web chat contacts without a conversation: {result.get('unbound_chat_contacts')})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--steps", default="10,25,50,75,100")
    parser.add_argument("--handlers", type=int, default=20)
    parser.add_argument("--duration", type=int, default=60, help="Seconds per step.")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    args = parser.parse_args(argv)
    missing = chat_stack.prerequisites()
    if missing:
        print("can't run: missing " + "; ".join(missing), file=sys.stderr)
        return 2
    steps = [int(step) for step in args.steps.split(",")]
    profiles = ["sqlite", "postgresql"] if args.profile == "both" else [args.profile]
    results = [run_profile(profile, steps, args.handlers, args.duration) for profile in profiles]
    print()
    print(table(results))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "cpus": os.cpu_count(), "results": results}, indent=2))
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
