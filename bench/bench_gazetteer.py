"""Benchmark of the place resolver (spoa/gazetteer.py, issue 8): what people answer to "What
town or village is the person in now?", resolved one at a time.

    .venv/bin/python bench/bench_gazetteer.py              # 20,000 answers, seed 2026
    .venv/bin/python bench/bench_gazetteer.py --json

The answers are built from the gazetteer itself (seeded): exact names, names in a sentence
("my mum lives in X, Kent"), misspellings (a letter dropped or two swapped: the fuzzy path),
full and outward postcodes, and non-places ("at home", "rather not say"). Each kind is timed
apart, wall clock and the thread's CPU time. The target is p99 well under 1 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spoa.config import load_config  # noqa: E402

NON_PLACES = ["at home", "in the kitchen", "rather not say", "I don't know", "in hospital", "a care home",
              "upstairs in bed", "with her daughter", "not sure where exactly", "by the river"]
SENTENCES = ["my mum lives in {}", "{}, Kent", "near {}", "just outside {}", "she's in {} at the moment"]


def misspell(name: str, rng: random.Random) -> str:
    letters = list(name)
    i = rng.randrange(1, max(2, len(letters) - 1))
    if rng.random() < 0.5 and len(letters) > 4:
        del letters[i]
    elif i + 1 < len(letters):
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    return "".join(letters)


def answers(gazetteer, count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    names = gazetteer.spoken_names()
    codes = sorted(gazetteer.postcodes)
    kinds = {
        "exact name": lambda: rng.choice(names),
        "name in a sentence": lambda: rng.choice(SENTENCES).format(rng.choice(names)),
        "misspelt name": lambda: misspell(rng.choice([n for n in names if len(n) >= 6]), rng),
        "postcode": lambda: (lambda c: c if rng.random() < 0.4 else f"{c.split(' ')[0]} {rng.randint(0, 9)}"
                             f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}")(rng.choice(codes)),
        "not a place": lambda: rng.choice(NON_PLACES),
    }
    return [(kind, make()) for _ in range(count // len(kinds)) for kind, make in kinds.items()]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    config = load_config(ROOT / "config.yml")
    load_seconds = time.perf_counter() - started
    gazetteer = config.gazetteer
    batch = answers(gazetteer, args.n, args.seed)
    for _, text in batch[:500]:          # warm up
        gazetteer.resolve(text)
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    statuses: dict[str, dict[str, int]] = {}
    for kind, text in batch:
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        result = gazetteer.resolve(text)
        c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
        wall.setdefault(kind, []).append((w1 - w0) / 1e6)
        cpu.setdefault(kind, []).append((c1 - c0) / 1e6)
        statuses.setdefault(kind, {}).setdefault(result.status, 0)
        statuses[kind][result.status] += 1
    everything_wall = [v for values in wall.values() for v in values]
    everything_cpu = [v for values in cpu.values() for v in values]
    rows = []
    for kind in [*wall, "all"]:
        w = everything_wall if kind == "all" else wall[kind]
        c = everything_cpu if kind == "all" else cpu[kind]
        rows.append({"kind": kind, "answers": len(w), "p50_ms": statistics.median(w), "p95_ms": percentile(w, 95),
                     "p99_ms": percentile(w, 99), "cpu_p99_ms": percentile(c, 99),
                     "statuses": statuses.get(kind) if kind != "all" else None})
    report = {"places": gazetteer.place_count, "names": len(gazetteer.names),
              "postcode_districts": len(gazetteer.postcodes), "load_seconds": round(load_seconds, 3),
              "load_average": os.getloadavg()[0], "rows": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"gazetteer: {report['places']} places ({report['names']} names), {report['postcode_districts']} "
          f"postcode districts and sectors; config and gazetteer loaded in {load_seconds * 1000:.0f} ms; "
          f"load average {report['load_average']:.1f}")
    print(f"{'answers':<20}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'CPU p99':>9}  resolved as")
    for row in rows:
        print(f"{row['kind']:<20}{row['answers']:>7}{row['p50_ms']:>9.3f}{row['p95_ms']:>9.3f}{row['p99_ms']:>9.3f}"
              f"{row['cpu_p99_ms']:>9.3f}  {row['statuses'] or ''}")


if __name__ == "__main__":
    main()
