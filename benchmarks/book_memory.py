"""``book`` on `MemoryStorage` against a hand-written equivalent, and against ``limits``."""

from __future__ import annotations

import itertools
import time

import queue_quota as qq
from benchmarks._baselines import HandWritten
from benchmarks._harness import (
    NOW,
    SECRET,
    UNLIMITED,
    Bench,
    Context,
    Result,
    RowSpec,
    Runner,
    Target,
    citizen_ids,
    first_day,
    fmt_time,
    interleave_many,
    make_office,
)
from queue_quota.storage import MemoryStorage

_OURS = (
    'Scheduler.book("online", citizen_id, now=NOW) on a MemoryStorage, one office on the '
    "Indonesian calendar, a distinct citizen per call (IDs made before the timer starts), "
    "capacity large enough that the first day never fills."
)

MINIMAL = RowSpec(
    name="book.memory",
    operation='book("online") on MemoryStorage vs hand-written',
    target=Target("min", 0.8),
    how=(
        _OURS + " Baseline (benchmarks/_baselines.py HandWritten): the promised work written "
        "plainly: HMAC-SHA256 of the citizen ID, a random 80-bit id (os.urandom(10)), "
        "HMAC-SHA256 of the ticket, then under a threading.Lock a dict counter checked "
        "against the capacity and an attrs record stored in a dict by id."
    ),
)

LIMITS = RowSpec(
    name="book.memory.limits",
    operation='book("online") on MemoryStorage vs limits (information)',
    target=Target("report"),
    how=(
        _OURS + " Baseline: limits FixedWindowRateLimiter(MemoryStorage()).hit("
        "RateLimitItemPerDay(capacity), office, channel), one shared counter as a day's "
        "quota: no hashing, no id, no record. Information, no target."
    ),
)


def run(ctx: Context) -> list[Result]:
    """Measure both rows in one interleaved run (the limits row skipped without limits)."""
    sched = qq.Scheduler(make_office("tegal", UNLIMITED), MemoryStorage(), secret=SECRET)
    book = sched.book
    ids = citizen_ids("3328")

    def ours(n: int) -> float:
        batch = list(itertools.islice(ids, n))
        t0 = time.perf_counter()
        for citizen in batch:
            book("online", citizen, now=NOW)
        return time.perf_counter() - t0

    hand = HandWritten(SECRET, UNLIMITED, first_day())
    hand_book = hand.book

    def hand_written(n: int) -> float:
        batch = list(itertools.islice(ids, n))
        t0 = time.perf_counter()
        for citizen in batch:
            hand_book("tegal", "online", citizen, NOW)
        return time.perf_counter() - t0

    baselines: dict[str, Runner] = {"hand": hand_written}
    try:
        from limits import RateLimitItemPerDay, storage, strategies
    except ImportError:
        pass  # the limits row says "skipped"
    else:
        limiter = strategies.FixedWindowRateLimiter(storage.MemoryStorage())
        item = RateLimitItemPerDay(UNLIMITED)
        hit = limiter.hit

        def with_limits(n: int) -> float:
            batch = list(itertools.islice(ids, n))
            t0 = time.perf_counter()
            for _citizen in batch:
                if not hit(item, "tegal", "online"):
                    raise AssertionError("the limiter refused")
            return time.perf_counter() - t0

        baselines["limits"] = with_limits

    cmps = interleave_many(ours, baselines, reps=ctx.reps, seconds=ctx.seconds)
    out = []
    for spec, key in ((MINIMAL, "hand"), (LIMITS, "limits")):
        if key not in cmps:
            out.append(spec.skipped("limits is not installed (pip install -e '.[bench]')"))
            continue
        cmp = cmps[key]
        out.append(
            spec.result(
                ours=fmt_time(cmp.ours_median),
                baseline=fmt_time(cmp.baseline_median),
                ratio=cmp.ratio,
                how=cmp.describe(),
                data=cmp.data(),
            )
        )
    return out


BENCHES = [Bench("book.memory", (MINIMAL, LIMITS), run, frozenset({"book", "memory"}))]
