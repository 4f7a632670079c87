"""``book`` on `MemoryStorage` against ``limits``' fixed-window rate limiter in memory."""

from __future__ import annotations

import itertools
import time

import queue_quota as qq
from benchmarks._harness import (
    NOW,
    SECRET,
    UNLIMITED,
    Bench,
    Context,
    Result,
    RowSpec,
    Skip,
    Target,
    citizen_ids,
    fmt_time,
    interleave,
    make_office,
)
from queue_quota.storage import MemoryStorage

ROW = RowSpec(
    name="book.memory",
    operation='book("online") on MemoryStorage',
    target=Target("min", 1.0),
    how=(
        'Scheduler.book("online", citizen_id, now=NOW) on a MemoryStorage, one office on the '
        "Indonesian calendar, a distinct citizen per call (IDs made before the timer starts), "
        "capacity large enough that the first day never fills. Baseline: limits "
        "FixedWindowRateLimiter(MemoryStorage()).hit(RateLimitItemPerDay(capacity), office, "
        "channel), one shared counter as a day's quota."
    ),
)


def run(ctx: Context) -> list[Result]:
    """Measure the row."""
    try:
        from limits import RateLimitItemPerDay, storage, strategies
    except ImportError as exc:
        raise Skip("limits is not installed (pip install -e '.[bench]')") from exc

    sched = qq.Scheduler(make_office("tegal", UNLIMITED), MemoryStorage(), secret=SECRET)
    book = sched.book
    ids = citizen_ids("3328")

    def ours(n: int) -> float:
        batch = list(itertools.islice(ids, n))
        t0 = time.perf_counter()
        for citizen in batch:
            book("online", citizen, now=NOW)
        return time.perf_counter() - t0

    limiter = strategies.FixedWindowRateLimiter(storage.MemoryStorage())
    item = RateLimitItemPerDay(UNLIMITED)
    hit = limiter.hit

    def baseline(n: int) -> float:
        batch = list(itertools.islice(ids, n))
        t0 = time.perf_counter()
        for _citizen in batch:
            if not hit(item, "tegal", "online"):
                raise AssertionError("the limiter refused")
        return time.perf_counter() - t0

    cmp = interleave(ours, baseline, reps=ctx.reps, seconds=ctx.seconds)
    return [
        ROW.result(
            ours=fmt_time(cmp.ours_median),
            baseline=fmt_time(cmp.baseline_median),
            ratio=cmp.ratio,
            how=cmp.describe(),
            data=cmp.data(),
        )
    ]


BENCHES = [Bench("book.memory", (ROW,), run, frozenset({"book", "memory"}))]
