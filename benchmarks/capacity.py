"""What the capacity model costs: a booking with a session and two pools against a plain one.

Two offices on one storage, the same channel ``online`` and the same capacities; in one the
channel has one arrival window (`qq.Session`) and belongs to two pools (`qq.Pool`), so a
booking takes three counters (the day, the session, two pools: four) instead of one. Memory
and SQLite rows; PostgreSQL is left out while `PostgresStorage` refuses sessions and pools.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import time as clock

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
    fmt_time,
    interleave,
    make_office,
    tegal_calendar,
)
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage

_HOW = (
    'Per-booking time of Scheduler.book("online", citizen_id, now=NOW) on {where}: an office '
    "whose online channel has one Session(08:00, 12:00, capacity) and belongs to two pools "
    '(Pool("loket", capacity, ["online", "walk_in"]), Pool("gedung", capacity, ["online"])), '
    "so every booking takes four counters, against an office with the plain online channel "
    "(one counter), both on the same storage, capacities that never fill. Ratio = "
    "cost(pools and session) / cost(plain), the two timed in interleaved batches."
)

ROWS = {
    "memory": RowSpec(
        name="capacity.memory",
        operation="book with 2 pools and a session vs plain (memory)",
        target=Target("max", 1.3),
        how=_HOW.format(where="MemoryStorage"),
    ),
    "sqlite": RowSpec(
        name="capacity.sqlite",
        operation="book with 2 pools and a session vs plain (SQLite)",
        target=Target("max", 1.3),
        how=_HOW.format(where='SQLiteStorage(synchronous="NORMAL")'),
    ),
}


def pooled_office(office_id: str) -> qq.Office:
    """The office whose online bookings take the day, a session and two pools."""
    return qq.Office(
        id=office_id,
        calendar=tegal_calendar(),
        policies=[
            OnlineQuota(
                capacity=UNLIMITED,
                horizon_days=60,
                sessions=[qq.Session(clock(8), clock(12), UNLIMITED)],
            ),
            WalkInQuota(capacity=UNLIMITED),
        ],
        pools=[
            qq.Pool("loket", UNLIMITED, ["online", "walk_in"]),
            qq.Pool("gedung", UNLIMITED, ["online"]),
        ],
    )


def _runner(sched: qq.Scheduler, prefix: str) -> Callable[[int], float]:
    ids = citizen_ids(prefix)
    book = sched.book

    def run(n: int) -> float:
        batch = list(itertools.islice(ids, n))
        t0 = time.perf_counter()
        for citizen in batch:
            book("online", citizen, now=NOW)
        return time.perf_counter() - t0

    return run


def _measure(ctx: Context, kind: str, storage: Storage) -> Result:
    try:
        pooled = qq.Scheduler(pooled_office("pooled"), storage, secret=SECRET)
        plain = qq.Scheduler(make_office("plain", UNLIMITED), storage, secret=SECRET)
        check = pooled.book("online", "check-000000000001", now=NOW)
        if check.window is None or len(check.charges) != 4:
            raise AssertionError(f"a pooled booking took {check.charges}, window {check.window}")
        cmp = interleave(
            _runner(pooled, "p"), _runner(plain, "q"), reps=ctx.reps, seconds=ctx.seconds
        )
    finally:
        storage.close()
    cost = 1 / cmp.ratio
    pairs = [1 / r for r in cmp.pair_ratios]
    return ROWS[kind].result(
        ours=f"{fmt_time(cmp.ours_median)} pooled",
        baseline=f"{fmt_time(cmp.baseline_median)} plain",
        ratio=cost,
        how=(
            f"R={ctx.reps} interleaved pairs, {cmp.n_ours:,} / {cmp.n_baseline:,} ops per "
            f"batch; per-pair cost ratio {min(pairs):.2f}-{max(pairs):.2f}."
        ),
        data=cmp.data() | {"cost_ratio": cost},
    )


def run_memory(ctx: Context) -> list[Result]:
    """Memory row."""
    return [_measure(ctx, "memory", MemoryStorage())]


def run_sqlite(ctx: Context) -> list[Result]:
    """SQLite row."""
    storage = SQLiteStorage(ctx.path("capacity.sqlite3"), synchronous="NORMAL")
    return [_measure(ctx, "sqlite", storage)]


BENCHES = [
    Bench("capacity.memory", (ROWS["memory"],), run_memory, frozenset({"capacity", "memory"})),
    Bench("capacity.sqlite", (ROWS["sqlite"],), run_sqlite, frozenset({"capacity", "sqlite"})),
]
