"""Benchmark of the referral message path (issue 10): building and checking the FHIR Bundle,
the accept that writes it to the outbox, and delivery to a receiver by one or two dispatchers.

    .venv/bin/python bench/bench_outbox.py                        # SQLite, 200 referrals
    .venv/bin/python bench/bench_outbox.py --backend postgresql   # PostgreSQL at 127.0.0.1:5432/test
    .venv/bin/python bench/bench_outbox.py -n 500 --json

The receiver is the demo one (web/receiver.py) in this process, served by werkzeug on a free
127.0.0.1 port, so delivery figures include a real HTTP round trip and the receiver's own check
of each message. Quote them with the load average printed: the machine is shared.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser_helpers import serve  # noqa: E402
from spoa.bootstrap import build_triage  # noqa: E402
from spoa.config import config_from_mapping  # noqa: E402
from spoa.delivery import DeliveryPolicy  # noqa: E402
from spoa.fhir import check_message, referral_bundle  # noqa: E402
from web import create_app  # noqa: E402
from web.outbox_dispatcher import Dispatcher  # noqa: E402
from web.receiver import ReceiverState, create_receiver  # noqa: E402
from web.referral_message import accept_and_send, build_referral  # noqa: E402
from web.store import Store, contacts, outbox  # noqa: E402
from web.store.models import WorklistItem  # noqa: E402

PG_URL = os.environ.get("SPOA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCREEN = ("unresponsive", "breathing_difficulty_severe", "chest_pain", "stroke_signs", "severe_bleeding",
          "seizure_ongoing", "severe_allergic_reaction", "serious_injury", "overdose_or_self_harm", "immediate_danger")
LOCALITIES = ("swale", "thanet", "ashford", "west_kent", "dartford_gravesham_swanley")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(values: list[float]) -> dict:
    return {"p50_ms": round(percentile(values, 50) * 1000, 2), "p95_ms": round(percentile(values, 95) * 1000, 2),
            "mean_ms": round(statistics.mean(values) * 1000, 2)}


def sending_triage(base_url: str):
    triage = build_triage()
    data = json.loads(json.dumps(dict(triage.config.data)))
    for team in data["referrals"]["teams"]:
        if team.get("endpoint"):
            team["endpoint"] = f"{base_url}/{team['id']}/$process-message"
    return replace(triage, config=config_from_mapping(data, triage.config.path))


def database(backend: str, folder: Path) -> tuple[str, str | None, callable]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", None, lambda: None
    import psycopg

    schema = f"bench_outbox_{uuid.uuid4().hex[:8]}"
    plain = PG_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return PG_URL, schema, drop


def accept_referrals(app, count: int) -> list[float]:
    spoa = app.extensions["spoa"]
    timings = []
    for index in range(count):
        facts = {**{fact: False for fact in SCREEN}, "age": 70 + index % 25, "locality": LOCALITIES[index % 5],
                 "fallen": True, "on_floor_cannot_get_up": True, "fall_injury": "none", "head_injury": False}
        now = spoa.now()
        stored = spoa.store.run(lambda db: contacts.create_contact(db, spoa.triage, {"channel": "phone", "facts": facts},
                                                                   now=now))
        started = time.perf_counter()
        spoa.store.run(lambda db: accept_and_send(db, spoa, stored.worklist_item.id, actor="bench.duty",
                                                  actor_role="duty_worker", now=now))
        timings.append(time.perf_counter() - started)
    return timings


def build_and_check(app, repeat: int) -> tuple[list[float], list[float], int]:
    spoa = app.extensions["spoa"]
    with spoa.store.session() as db:
        item = db.query(WorklistItem).filter(WorklistItem.kind == "referral").first()
        referral, _ = build_referral(db, spoa, item, actor="bench.duty", now=spoa.now())
    builds, checks = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        bundle = referral_bundle(replace(referral, message_id=str(uuid.uuid4())))
        middle = time.perf_counter()
        check_message(bundle)
        builds.append(middle - started)
        checks.append(time.perf_counter() - middle)
    return builds, checks, len(json.dumps(bundle))


def deliver(url: str, schema: str | None, workers: int) -> float:
    stores = [Store(url, schema=schema, pool_size=2) for _ in range(workers)]
    senders = [Dispatcher(store, DeliveryPolicy(timeout_seconds=10), batch=10) for store in stores]

    def run(sender: Dispatcher) -> None:
        while sender.run_once():
            pass
    threads = [threading.Thread(target=run, args=(sender,)) for sender in senders]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for store in stores:
        store.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="referrals per delivery run")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per POST otherwise
    results: dict = {"backend": args.backend, "referrals": args.n, "load_average": os.getloadavg()}
    state = ReceiverState()
    with tempfile.TemporaryDirectory() as folder, serve(create_receiver(state)) as base:
        url, schema, drop = database(args.backend, Path(folder))
        try:
            app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SPOA_TRIAGE": sending_triage(base),
                              "DATABASE_URL": url, "DATABASE_SCHEMA": schema, "INSTANCE_PATH": folder,
                              "SPOA_ARGON2_PROFILE": "CHEAPEST"})
            app.extensions["spoa"].store.upgrade()
            results["accept_with_outbox"] = ms(accept_referrals(app, args.n))
            builds, checks, size = build_and_check(app, 200)
            results["bundle_build"], results["bundle_check"], results["bundle_bytes"] = ms(builds), ms(checks), size
            for workers in (1, 2):
                if workers == 2:  # the same messages again, as new ones
                    accept_referrals(app, args.n)
                elapsed = deliver(url, schema, workers)
                results[f"delivery_{workers}_dispatcher{'s' if workers > 1 else ''}_per_second"] = round(
                    args.n / elapsed, 1)
            with app.extensions["spoa"].store.session() as db:
                statuses = [m.status for m in outbox.list_messages(db, limit=10 * args.n)]
            results["all_delivered"] = set(statuses) == {"delivered"} and len(statuses) == 2 * args.n
            results["posts_per_message"] = max(state.deliveries.values())
            app.extensions["spoa"].store.dispose()
        finally:
            drop()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key:40} {value}")


if __name__ == "__main__":
    main()
