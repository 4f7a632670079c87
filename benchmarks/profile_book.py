"""Profile ``Scheduler.book`` on each storage: where does a booking's time go?

Usage (from the repository root)::

    python benchmarks/profile_book.py                      # memory and SQLite, top 25
    python -m benchmarks.profile_book --storage memory --n 20000 --top 40
    python -m benchmarks.profile_book --storage sqlite --sort cumulative
    python -m benchmarks.profile_book --postgres "host=/tmp/... port=5432 user=postgres"

For each storage: one office on the Indonesian calendar, capacity that never fills, a
warm-up, then ``--n`` bookings of distinct citizens under cProfile; prints the top entries
by ``--sort`` (``tottime`` by default) and the top by cumulative time. With pyinstrument
installed (``pip install pyinstrument``) it also prints pyinstrument's call tree.
``--full-days K`` first fills K working days (capacity 1 each, like the growth rows), so
the profile shows the cost of scanning past full days.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a script: python benchmarks/profile_book.py
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path[:0] = [str(_here.parent), str(_here.parent / "src")]

import argparse
import cProfile
import io
import itertools
import pstats
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

import queue_quota as qq
from benchmarks._harness import (
    NOW,
    SECRET,
    UNLIMITED,
    citizen_ids,
    first_day,
    make_office,
    tegal_calendar,
)
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage


def _office(full_days: int) -> qq.Office:
    if not full_days:
        return make_office("tegal", UNLIMITED)
    horizon = max(60, full_days * 2 + 30)
    days = list(
        itertools.islice(
            tegal_calendar().working_days(first_day(), NOW.date() + timedelta(days=horizon)),
            full_days + 1,
        )
    )
    capacity = qq.CapacityCalendar(1, dates={days[full_days]: UNLIMITED})
    return make_office("tegal", capacity, horizon_days=horizon)


def _scheduler(storage: Storage, full_days: int) -> qq.Scheduler:
    office = _office(full_days)
    sched = qq.Scheduler(office, storage, secret=SECRET)
    if full_days:
        days = itertools.islice(
            tegal_calendar().working_days(first_day(), NOW.date() + timedelta(days=10_000)),
            full_days,
        )
        for i, d in enumerate(days):
            sched.book("online", f"prefill{i:010d}", now=NOW, preferred_date=d)
    return sched


def profile(
    name: str, storage: Storage, *, n: int, top: int, sort: str, full_days: int, pyinstrument: bool
) -> None:
    """Profile ``n`` bookings on ``storage`` and print the top entries."""
    sched = _scheduler(storage, full_days)
    ids = citizen_ids("3328")
    for citizen in itertools.islice(ids, 200):  # warm-up: connections, caches, prepared SQL
        sched.book("online", citizen, now=NOW)
    batch = list(itertools.islice(ids, n))
    book = sched.book

    t0 = time.perf_counter()
    for citizen in batch[: n // 2]:
        book("online", citizen, now=NOW)
    plain = (time.perf_counter() - t0) / max(1, n // 2)

    profiler = cProfile.Profile()
    profiler.enable()
    for citizen in batch[n // 2 :]:
        book("online", citizen, now=NOW)
    profiler.disable()

    title = f"book() on {name}: {n - n // 2:,} bookings profiled"
    print("=" * len(title))
    print(title)
    print(f"(unprofiled: {plain * 1e6:.1f} µs per booking; {full_days} full days ahead)")
    print("=" * len(title))
    for key in dict.fromkeys([sort, "cumulative"]):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        print(f"--- top {top} by {key} ---")
        print(out.getvalue().split("\n", 3)[-1].strip("\n"))
        print()

    if pyinstrument:
        try:
            from pyinstrument import Profiler  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            print("(pyinstrument not installed: pip install pyinstrument for a call tree)\n")
            return
        more = list(itertools.islice(ids, n))
        p = Profiler(interval=0.0002)
        p.start()
        for citizen in more:
            book("online", citizen, now=NOW)
        p.stop()
        print(f"--- pyinstrument, {n:,} bookings ---")
        print(p.output_text(unicode=True, color=False, show_all=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Profile the chosen storages."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_book")
    parser.add_argument(
        "--storage",
        nargs="+",
        choices=("memory", "sqlite", "sqlite-normal", "postgres"),
        default=["memory", "sqlite"],
        help="which storages (default: memory sqlite; postgres needs --postgres)",
    )
    parser.add_argument("--n", type=int, default=None, help="bookings (default 20000 / 2000)")
    parser.add_argument("--top", type=int, default=25, help="entries to print (default 25)")
    parser.add_argument(
        "--sort", default="tottime", help="pstats sort key (default tottime; e.g. cumulative)"
    )
    parser.add_argument(
        "--full-days", type=int, default=0, help="working days filled before profiling"
    )
    parser.add_argument("--postgres", metavar="CONNINFO", help="a server for --storage postgres")
    parser.add_argument("--no-pyinstrument", action="store_true", help="cProfile only")
    args = parser.parse_args(argv)
    if "postgres" in args.storage and not args.postgres:
        parser.error("--storage postgres needs --postgres CONNINFO")

    with tempfile.TemporaryDirectory(prefix="qq-profile-") as tmp:
        for kind in args.storage:
            storage: Storage
            if kind == "memory":
                storage, n = MemoryStorage(), args.n or 20_000
            elif kind == "sqlite":
                storage, n = SQLiteStorage(Path(tmp) / "full.sqlite3"), args.n or 2_000
            elif kind == "sqlite-normal":
                storage = SQLiteStorage(Path(tmp) / "normal.sqlite3", synchronous="NORMAL")
                n = args.n or 2_000
            else:
                from queue_quota.storage import PostgresStorage

                schema = f"qq_profile_{uuid.uuid4().hex[:10]}"
                storage = PostgresStorage(args.postgres, schema=schema, max_size=1)
                n = args.n or 2_000
            try:
                profile(
                    kind,
                    storage,
                    n=n,
                    top=args.top,
                    sort=args.sort,
                    full_days=args.full_days,
                    pyinstrument=not args.no_pyinstrument,
                )
            finally:
                storage.close()
                if kind == "postgres":
                    _drop(args.postgres, schema)
    return 0


def _drop(conninfo: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    raise SystemExit(main())
