"""`WorkingCalendar.add_working_days` against ``numpy.busday_offset``."""

from __future__ import annotations

import itertools
import time
from datetime import date, timedelta

from benchmarks._harness import (
    Bench,
    Context,
    Result,
    RowSpec,
    Skip,
    Target,
    fmt_time,
    interleave,
    tegal_calendar,
)

STEP = 250
FIRST, LAST = date(2019, 1, 1), date(2033, 12, 31)

ROW = RowSpec(
    name="calendar.add_working_days",
    operation=f"WorkingCalendar.add_working_days(d, {STEP})",
    target=Target("min", 1.0),
    how=(
        f"WorkingCalendar.indonesia().add_working_days(d, {STEP}) over 1,000 start days "
        "spread over 2020-2029 (weekends and holidays included), warm caches. Baseline: "
        f"numpy.busday_offset(d, {STEP}, roll='forward', busdaycal=cal) with cal a prebuilt "
        "numpy.busdaycalendar (weekmask 1111100, holidays = every closed weekday of the "
        "Indonesian calendar 2019-2033) and d a prebuilt numpy.datetime64 (numpy's native "
        "input; a datetime.date costs numpy about the same). Both answers are checked equal "
        "first."
    ),
)


def run(ctx: Context) -> list[Result]:
    """Measure the row."""
    try:
        import numpy as np
    except ImportError as exc:
        raise Skip("numpy is not installed (pip install -e '.[bench]')") from exc

    cal = tegal_calendar()
    closed_weekdays = [
        d
        for d in (FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1))
        if d.weekday() < 5 and not cal.is_working_day(d)
    ]
    busdaycal = np.busdaycalendar(
        weekmask="1111100", holidays=np.array(closed_weekdays, dtype="datetime64[D]")
    )
    starts = [date(2020, 1, 1) + timedelta(days=(i * 3653) // 1000) for i in range(1000)]
    starts64 = [np.datetime64(d, "D") for d in starts]
    offset = np.busday_offset
    add = cal.add_working_days
    for d, d64 in zip(starts, starts64, strict=True):
        ours_day = add(d, STEP)
        theirs = offset(d64, STEP, roll="forward", busdaycal=busdaycal).astype(date)
        if ours_day != theirs:
            raise AssertionError(f"add_working_days({d}, {STEP}) = {ours_day}, numpy {theirs}")

    def ours(n: int) -> float:
        batch = list(itertools.islice(itertools.cycle(starts), n))
        t0 = time.perf_counter()
        for d in batch:
            add(d, STEP)
        return time.perf_counter() - t0

    def baseline(n: int) -> float:
        batch = list(itertools.islice(itertools.cycle(starts64), n))
        t0 = time.perf_counter()
        for d in batch:
            offset(d, STEP, roll="forward", busdaycal=busdaycal)
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


BENCHES = [Bench("calendar", (ROW,), run, frozenset({"calendar", "workdays"}))]
