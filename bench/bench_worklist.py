"""Benchmark the worklist with many items waiting: the JSON list (one page, the true total and
every view's count) and the page a duty worker's browser refreshes (?fragment=1).

Builds the app on a fresh SQLite database (or PostgreSQL with --backend postgresql), stores N
contacts through the real engine (a mix of urgent response, MDT and voluntary-sector
referrals, a quarter of them overdue), then times R requests of each through the app's test
client (no network) and prints p50/p95 in milliseconds.

    .venv/bin/python bench/bench_worklist.py [--items 2000] [--requests 50] [--backend sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import PG_URL, PgSchema, create_user, login, make_app, screen_clear  # noqa: E402
from engine_helpers import get_triage  # noqa: E402
from web.store import contacts  # noqa: E402

KINDS = [dict(fallen=True, fall_injury="none"), dict(lonely_or_isolated=True),
         dict(long_term_conditions=["copd", "diabetes"], admissions_12m=3)]
LOCALITIES = ["swale", "thanet", "ashford", "west_kent"]


def seed(app, items: int) -> float:
    spoa = app.extensions["spoa"]
    now = datetime.now(timezone.utc)
    started = time.perf_counter()

    def work(db):
        for n in range(items):
            facts = screen_clear(age=70 + n % 25, locality=LOCALITIES[n % 4], **KINDS[n % 3])
            at = now - timedelta(days=3) if n % 4 == 0 else now - timedelta(minutes=n % 90)
            contacts.create_contact(db, spoa.triage, {"channel": "web_chat", "received_at": at.isoformat(),
                                                      "facts": facts}, now=at, source="chat")

    spoa.store.run(work)
    return time.perf_counter() - started


def timed(client, url: str, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-worklist-"))
    settings, schema = {}, None
    if args.backend == "postgresql":
        schema = PgSchema()
        settings = {"DATABASE_URL": PG_URL, "DATABASE_SCHEMA": schema.name}
    app = make_app(settings, get_triage(), folder)
    try:
        seconds = seed(app, args.items)
        client = app.test_client()
        assert login(client, create_user(app, "duty_worker")).status_code == 302
        print(f"worklist, {args.items} items on {args.backend} (stored in {seconds:.1f} s), {args.requests} requests each:")
        for label, url in (("GET /api/worklist (page 1, total, counts)", "/api/worklist"),
                           ("GET /api/worklist?overdue=true&locality=thanet", "/api/worklist?overdue=true&locality=thanet"),
                           ("GET /worklist/?fragment=1 (the refresh)", "/worklist/?fragment=1"),
                           ("GET /worklist/?page=40", "/worklist/?page=40")):
            p50, p95 = timed(client, url, args.requests)
            print(f"  {label:<52} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    finally:
        app.extensions["spoa"].store.dispose()
        if schema is not None:
            schema.close()


if __name__ == "__main__":
    main()
