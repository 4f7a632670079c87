"""``availability`` over 60 days against 60 single-day ``availability`` lookups."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import queue_quota as qq
from benchmarks._harness import (
    NOW,
    SECRET,
    Bench,
    Context,
    Result,
    RowSpec,
    Target,
    first_day,
    fmt_time,
    interleave,
    make_office,
)
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage

DAYS = 60
PREFILL = 300

_HOW = (
    f'Scheduler.availability("online", start, start + {DAYS} days) on {{where}}, the Tegal '
    f"office (20 a day, horizon 60) with {PREFILL} bookings made first (so about "
    f'{PREFILL // 20} days are full). Baseline: {DAYS} calls of availability("online", d, '
    "d + 1 day), one per day of the same range. Ratio = the 60 single-day calls / the one "
    "60-day call. No target: reported."
)

ROWS = {
    "memory": RowSpec(
        name="availability.memory",
        operation=f"availability over {DAYS} days (memory)",
        target=Target("report"),
        how=_HOW.format(where="MemoryStorage"),
    ),
    "sqlite": RowSpec(
        name="availability.sqlite",
        operation=f"availability over {DAYS} days (SQLite)",
        target=Target("report"),
        how=_HOW.format(where="SQLiteStorage()"),
    ),
}


def _measure(ctx: Context, kind: str, storage: Storage) -> Result:
    try:
        sched = qq.Scheduler(make_office("tegal", 20), storage, secret=SECRET)
        for i in range(PREFILL):
            sched.book("online", f"avail{i:012d}", now=NOW)
        start = first_day()
        end = start + timedelta(days=DAYS)
        days = [start + timedelta(days=i) for i in range(DAYS)]
        one = timedelta(days=1)
        availability = sched.availability
        whole = availability("online", start, end)
        singles = [a for d in days for a in availability("online", d, d + one)]
        if whole != singles:
            raise AssertionError("the 60-day answer differs from the 60 single-day answers")

        def ours(n: int) -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                availability("online", start, end)
            return time.perf_counter() - t0

        def baseline(n: int) -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                for d in days:
                    availability("online", d, d + one)
            return time.perf_counter() - t0

        cmp = interleave(ours, baseline, reps=ctx.reps, seconds=ctx.seconds)
    finally:
        storage.close()
    return ROWS[kind].result(
        ours=fmt_time(cmp.ours_median),
        baseline=fmt_time(cmp.baseline_median),
        ratio=cmp.ratio,
        how=cmp.describe(),
        data=cmp.data(),
    )


def _run(kind: str, make: Callable[[Context], Storage]) -> Callable[[Context], list[Result]]:
    def run(ctx: Context) -> list[Result]:
        return [_measure(ctx, kind, make(ctx))]

    return run


BENCHES = [
    Bench(
        "availability.memory",
        (ROWS["memory"],),
        _run("memory", lambda _ctx: MemoryStorage()),
        frozenset({"availability", "memory"}),
    ),
    Bench(
        "availability.sqlite",
        (ROWS["sqlite"],),
        _run("sqlite", lambda ctx: SQLiteStorage(ctx.path("availability.sqlite3"))),
        frozenset({"availability", "sqlite"}),
    ),
]
