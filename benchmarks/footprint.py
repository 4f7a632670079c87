"""Memory held by 100,000 active bookings in `MemoryStorage`, measured in a fresh process."""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys
import tracemalloc
from typing import Any

import queue_quota as qq
from benchmarks import ROOT
from benchmarks._harness import (
    NOW,
    Bench,
    Context,
    Result,
    RowSpec,
    Target,
    child_env,
    make_office,
)
from queue_quota.storage import MemoryStorage

BOOKINGS = 100_000
#: With --quick, tracemalloc (3-4 times slower) runs over this many, scaled up linearly.
QUICK_BOOKINGS = 20_000
OFFICES = 500
LIMIT_MB = 64.0

ROW = RowSpec(
    name="footprint.memory",
    operation=f"memory: {BOOKINGS:,} active bookings in MemoryStorage",
    target=Target("max", LIMIT_MB, " MB"),
    how=(
        f"A fresh `python` process: {OFFICES} offices (20 a day, horizon 60) on one "
        "MemoryStorage, one booking each to warm up, gc.collect(); then tracemalloc "
        f"started and {BOOKINGS:,} more bookings (distinct citizens, random offices). Ours = "
        "tracemalloc peak minus the traced memory at its start (what the target judges). "
        "A second fresh process does the same without tracemalloc and reports the growth of "
        "its resident set (RSS; full mode only), which adds the allocator's overhead. "
        f"With --quick only {QUICK_BOOKINGS:,} bookings are traced and the figure is scaled "
        f"linearly to {BOOKINGS:,}."
    ),
)


def _rss() -> int:
    """Resident set size of this process, in bytes."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def child(n: int, mode: str) -> dict[str, Any]:
    """Run in the fresh process: book ``n`` times; the memory growth (printed as JSON)."""
    storage = MemoryStorage()
    scheds = [qq.Scheduler(make_office(f"office-{i:03d}", 20), storage) for i in range(OFFICES)]
    for i, sched in enumerate(scheds):
        sched.book("online", f"warm-up-{i:06d}", now=NOW)
    rng = random.Random(2020)
    gc.collect()
    if mode == "tracemalloc":
        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
    else:
        start = _rss()
    for i in range(n):
        scheds[rng.randrange(OFFICES)].book("online", f"3328{i:012d}", now=NOW)
    gc.collect()
    if mode == "tracemalloc":
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out = {"peak_growth": peak - start, "current_growth": current - start}
    else:
        out = {"rss_growth": _rss() - start}
    print(json.dumps(out), flush=True)
    return out


def _in_child(n: int, mode: str) -> dict[str, Any]:
    code = f"from benchmarks.footprint import child; child({n}, {mode!r})"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run(ctx: Context) -> list[Result]:
    """Measure the row."""
    mb = 1024 * 1024
    n = QUICK_BOOKINGS if ctx.quick else BOOKINGS
    scale = BOOKINGS / n
    ctx.log(f"footprint: {n:,} bookings in a fresh process (tracemalloc)")
    traced = _in_child(n, "tracemalloc")
    peak = traced["peak_growth"] * scale / mb
    how = (
        f"This run: {n:,} bookings traced, peak growth {traced['peak_growth'] / mb:.1f} MB, "
        f"still held after gc {traced['current_growth'] / mb:.1f} MB, "
        f"{traced['peak_growth'] / n:.0f} bytes per booking."
    )
    data: dict[str, Any] = {"tracemalloc": traced, "traced_bookings": n, "scale": scale}
    ours = f"{peak:.1f} MB" if scale == 1 else f"≈ {peak:.1f} MB (×{scale:g})"
    if not ctx.quick:
        ctx.log("footprint: again without tracemalloc (RSS)")
        rss = _in_child(BOOKINGS, "rss")
        data["rss"] = rss
        ours += f" (RSS +{rss['rss_growth'] / mb:.0f} MB)"
        how += f" RSS growth {rss['rss_growth'] / mb:.1f} MB."
    return [ROW.result(ours=ours, value=peak, how=how, data=data)]


BENCHES = [Bench("footprint", (ROW,), run, frozenset({"footprint", "memory"}))]
