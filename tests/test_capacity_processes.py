"""Several processes × several threads on one SQLite file, one hot day: two channels under a
shared pool, sessions, households of 1-3. Afterwards every counter equals the places of its
bookings, none is over capacity, the pool is filled exactly and priority got its reserved
places.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter
from datetime import date, time
from pathlib import Path

import pytest

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.policies import OnlineQuota
from queue_quota.storage import SQLiteStorage

PROCESSES, THREADS = 4, 4
DAY = date(2020, 6, 5)
NOW = wib(2020, 6, 4)
SESSIONS = (qq.Session(time(8), time(9), 15), qq.Session(time(9), time(10), 15))


def office() -> qq.Office:
    """Online 25 (two sessions of 15) and priority 30 under a pool of 30."""
    return qq.Office(
        "hot",
        qq.WorkingCalendar(tz="Asia/Jakarta"),
        [
            OnlineQuota(25, per_citizen=None, sessions=SESSIONS),
            OnlineQuota(30, per_citizen=None, channel="priority", prefix="P"),
        ],
        pools=[qq.Pool("loket", 30, ["online", "priority"])],
    )


def _worker(args: tuple[str, int]) -> list[tuple[str, str, int]]:
    """Book until every kind of request is refused; the acknowledged (id, channel, places)."""
    path, seed = args
    storage = SQLiteStorage(path)
    sched = qq.Scheduler(office(), storage, secret=SECRET)
    acked: list[tuple[str, str, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def run(t: int) -> None:
        rng = random.Random(seed * 100 + t)
        barrier.wait(timeout=60)
        refused = 0
        while refused < 6:
            channel = rng.choice(["online", "priority"])
            places = rng.choice([1, 1, 2, 3]) if refused < 3 else 1
            try:
                b = sched.book(
                    channel, f"{seed}-{t}-{rng.random()}", now=NOW, preferred_date=DAY,
                    places=places,
                )  # fmt: skip
            except qq.QuotaExhausted:
                refused += 1
                continue
            with lock:
                acked.append((b.id, b.channel, b.places))

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    storage.close()
    return acked


@pytest.mark.slow
def test_processes_and_threads_fill_every_counter_exactly(tmp_path: Path) -> None:
    """4 processes × 4 threads: no counter over, none lost, the pool exactly full."""
    path = str(tmp_path / "hot.sqlite3")
    SQLiteStorage(path).close()
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        results = pool.map(_worker, [(path, seed) for seed in range(PROCESSES)])
    acked = [a for r in results for a in r]
    storage = SQLiteStorage(path)
    try:
        sched = qq.Scheduler(office(), storage, secret=SECRET)
        found = {b.id: b for b in sched.manifest(DAY)}
        assert set(found) == {a[0] for a in acked}  # nothing lost, nothing extra
        places: Counter[str] = Counter()
        for b in found.values():
            places[f"c:{b.channel}"] += b.places
            places["p:loket"] += b.places
            if b.window is not None:
                places[f"s:online@{b.window[0]:%H:%M}"] += b.places
        for scope in places:
            stored = storage.counter_use("hot", scope, DAY, date(2020, 6, 6))
            assert stored == {DAY: places[scope]}, scope
        assert places["p:loket"] == 30  # filled exactly: singles ran until refused
        assert places["c:online"] <= 25
        assert places["c:priority"] >= 5  # the reserved places
        assert all(places[f"s:online@{s.key}"] <= 15 for s in SESSIONS)
        numbers = Counter((b.channel, b.number) for b in found.values())
        assert max(numbers.values()) == 1
    finally:
        storage.close()
