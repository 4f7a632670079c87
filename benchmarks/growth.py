"""How the cost of a booking grows with the number of full days ahead of the first free one.

Two offices with a 5,000-day booking window, one whose first 3,000 working days are full and
one whose first 10 are; the timed bookings all land on the first day that is not full.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import queue_quota as qq
from benchmarks._harness import (
    NOW,
    SECRET,
    UNLIMITED,
    Bench,
    Context,
    Result,
    RowSpec,
    Target,
    citizen_ids,
    first_day,
    fmt_time,
    interleave,
    make_office,
    tegal_calendar,
)
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage

HORIZON_DAYS = 5000
MANY, FEW = 3000, 10

_HOW = (
    'Per-booking time of Scheduler.book("online", citizen_id, now=NOW) on {where}, office '
    f"with horizon_days={HORIZON_DAYS}: {MANY:,} (resp. {FEW}) full working days ahead of "
    "the first free day. Prefill through the scheduler (preferred_date, capacity 1 on the "
    "full days{threads}); the free day has unlimited capacity, so every timed booking "
    f"scans past the full days and lands on it. Ratio = cost({MANY}) / cost({FEW}), the two "
    "offices timed in interleaved batches."
)

ROWS = {
    "memory": RowSpec(
        name="growth.memory",
        operation=f"book growth, {MANY:,} vs {FEW} full days ahead (memory)",
        target=Target("max", 1.5),
        how=_HOW.format(where="MemoryStorage", threads=""),
    ),
    "sqlite": RowSpec(
        name="growth.sqlite",
        operation=f"book growth, {MANY:,} vs {FEW} full days ahead (SQLite)",
        target=Target("max", 1.5),
        how=_HOW.format(where='SQLiteStorage(synchronous="NORMAL")', threads=""),
    ),
    "postgres": RowSpec(
        name="growth.postgres",
        operation=f"book growth, {MANY:,} vs {FEW} full days ahead (PostgreSQL)",
        target=Target("max", 1.5),
        how=_HOW.format(
            where="PostgresStorage (a pool of 8 for the prefill; timed bookings one at a time)",
            threads=", 8 threads",
        ),
    ),
}


def _office(full: int) -> tuple[qq.Office, list[date], date]:
    """An office whose first ``full`` working days have capacity 1; the next is unlimited."""
    days = list(
        itertools.islice(
            tegal_calendar().working_days(
                first_day(), NOW.date() + timedelta(days=HORIZON_DAYS + 1)
            ),
            full + 1,
        )
    )
    if len(days) <= full:
        raise AssertionError(f"the window holds only {len(days)} working days")
    free = days[full]
    capacity = qq.CapacityCalendar(1, dates={free: UNLIMITED})
    office = make_office(f"growth-{full}", capacity, horizon_days=HORIZON_DAYS)
    return office, days[:full], free


def _prefilled(storage: Storage, full: int, threads: int) -> tuple[qq.Scheduler, date]:
    office, days, free = _office(full)
    sched = qq.Scheduler(office, storage, secret=SECRET)
    ids = [f"pre{full}-{i:010d}" for i in range(len(days))]

    def fill(i: int) -> None:
        sched.book("online", ids[i], now=NOW, preferred_date=days[i])

    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(fill, range(len(days))))
    else:
        for i in range(len(days)):
            fill(i)
    return sched, free


def _runner(sched: qq.Scheduler, free: date, prefix: str) -> Callable[[int], float]:
    ids = citizen_ids(prefix)
    book = sched.book
    check = book("online", next(ids), now=NOW)
    if check.day != free:
        raise AssertionError(f"booked {check.day}, expected the first free day {free}")

    def run(n: int) -> float:
        batch = list(itertools.islice(ids, n))
        t0 = time.perf_counter()
        for citizen in batch:
            book("online", citizen, now=NOW)
        return time.perf_counter() - t0

    return run


def _measure(ctx: Context, kind: str, make: Callable[[int], Storage], threads: int = 1) -> Result:
    row = ROWS[kind]
    many_storage, few_storage = make(MANY), make(FEW)
    try:
        ctx.log(f"growth ({kind}): prefilling {MANY:,} + {FEW} days")
        t0 = time.perf_counter()
        many, many_free = _prefilled(many_storage, MANY, threads)
        few, few_free = _prefilled(few_storage, FEW, threads)
        prefill_s = time.perf_counter() - t0
        cmp = interleave(
            _runner(many, many_free, "m"),
            _runner(few, few_free, "f"),
            reps=ctx.reps,
            seconds=ctx.seconds,
        )
    finally:
        many_storage.close()
        few_storage.close()
    growth = 1 / cmp.ratio
    pairs = [1 / r for r in cmp.pair_ratios]
    return row.result(
        ours=f"{fmt_time(cmp.ours_median)} @{MANY:,}",
        baseline=f"{fmt_time(cmp.baseline_median)} @{FEW}",
        ratio=growth,
        how=(
            f"R={ctx.reps} interleaved pairs, {cmp.n_ours:,} / {cmp.n_baseline:,} ops per "
            f"batch; per-pair growth {min(pairs):.2f}-{max(pairs):.2f}; prefill took "
            f"{prefill_s:.1f} s."
        ),
        data=cmp.data() | {"growth": growth, "prefill_s": prefill_s},
    )


def run_memory(ctx: Context) -> list[Result]:
    """Memory row."""
    return [_measure(ctx, "memory", lambda _full: MemoryStorage())]


def run_sqlite(ctx: Context) -> list[Result]:
    """SQLite row."""
    return [
        _measure(
            ctx,
            "sqlite",
            lambda full: SQLiteStorage(ctx.path(f"growth{full}.sqlite3"), synchronous="NORMAL"),
        )
    ]


def run_postgres(ctx: Context) -> list[Result]:
    """PostgreSQL row."""
    from queue_quota.storage import PostgresStorage

    conninfo = ctx.postgres()
    schemas: list[str] = []

    def make(_full: int) -> Storage:
        schemas.append(ctx.new_schema())
        return PostgresStorage(conninfo, schema=schemas[-1], min_size=1, max_size=8)

    try:
        return [_measure(ctx, "postgres", make, threads=8)]
    finally:
        for schema in schemas:
            ctx.drop_schema(schema)


BENCHES = [
    Bench("growth.memory", (ROWS["memory"],), run_memory, frozenset({"growth", "memory"})),
    Bench("growth.sqlite", (ROWS["sqlite"],), run_sqlite, frozenset({"growth", "sqlite"})),
    Bench(
        "growth.postgres",
        (ROWS["postgres"],),
        run_postgres,
        frozenset({"growth", "postgres"}),
        postgres=True,
    ),
]
