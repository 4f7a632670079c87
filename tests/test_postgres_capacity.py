"""Several processes × several threads on one PostgreSQL schema, one hot day: two channels
under a shared pool, sessions, households of 1-3 (as `test_capacity_processes` does on
SQLite), plus a second office booking at the same time. Afterwards every counter equals the
places of its bookings, none is over capacity, the pool is filled exactly, priority got its
reserved places, and nothing had to wait for the other office.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, time
from typing import Any

import pytest

import queue_quota as qq
from _postgres_server import drop_schema, unique_schema
from conftest import SECRET, wib
from queue_quota.policies import OnlineQuota

psycopg = pytest.importorskip("psycopg")

from queue_quota.storage.postgres import PostgresStorage  # noqa: E402

pytestmark = pytest.mark.postgres

PROCESSES, THREADS = 4, 4
OFFICES = ("hot", "other")
DAY = date(2020, 6, 5)
NOW = wib(2020, 6, 4)
SESSIONS = (qq.Session(time(8), time(9), 100), qq.Session(time(9), time(10), 100))


def office_named(name: str) -> qq.Office:
    """Online 160 (two sessions of 100) and priority 200 under a pool of 200 (ten times
    the SQLite test's, so that the processes overlap for long)."""
    return qq.Office(
        name,
        qq.WorkingCalendar(tz="Asia/Jakarta"),
        [
            OnlineQuota(160, per_citizen=None, sessions=SESSIONS),
            OnlineQuota(200, per_citizen=None, channel="priority", prefix="P"),
        ],
        pools=[qq.Pool("loket", 200, ["online", "priority"])],
    )


def _worker(args: tuple[str, str, int, Any]) -> list[tuple[str, str, str, int]]:
    """Book in both offices until every kind of request is refused; the acknowledged
    (office, id, channel, places)."""
    conninfo, schema, seed, start = args
    storage = PostgresStorage(conninfo, schema=schema, max_size=THREADS)
    storage.migrate()
    start.wait(timeout=120)  # every process connected: go together
    scheds = {name: qq.Scheduler(office_named(name), storage, secret=SECRET) for name in OFFICES}
    acked: list[tuple[str, str, str, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def run(t: int) -> None:
        rng = random.Random(seed * 100 + t)
        barrier.wait(timeout=60)
        refused = dict.fromkeys(OFFICES, 0)
        while min(refused.values()) < 6:
            name = rng.choice(OFFICES)
            channel = rng.choice(["online", "priority"])
            places = rng.choice([1, 1, 2, 3]) if refused[name] < 3 else 1
            try:
                b = scheds[name].book(
                    channel, f"{seed}-{t}-{rng.random()}", now=NOW, preferred_date=DAY,
                    places=places,
                )  # fmt: skip
            except qq.QuotaExhausted:
                refused[name] += 1
                continue
            with lock:
                acked.append((name, b.id, b.channel, b.places))

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    storage.close()
    return acked


@pytest.fixture
def schema(postgres_conninfo: str) -> Iterator[str]:
    """A fresh schema, created before the workers start, dropped after the test."""
    name = unique_schema()
    PostgresStorage(postgres_conninfo, schema=name).migrate()
    yield name
    drop_schema(postgres_conninfo, name)


@pytest.mark.slow
def test_processes_and_threads_fill_every_counter_exactly(
    postgres_conninfo: str, schema: str
) -> None:
    """4 processes × 4 threads × 2 offices: no counter over, none lost, pools exactly full."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(PROCESSES) as pool:
        start = manager.Barrier(PROCESSES)
        jobs = [(postgres_conninfo, schema, seed, start) for seed in range(PROCESSES)]
        results = pool.map(_worker, jobs)
    acked = [a for r in results for a in r]
    storage = PostgresStorage(postgres_conninfo, schema=schema)
    try:
        for name in OFFICES:
            sched = qq.Scheduler(office_named(name), storage, secret=SECRET)
            found = {b.id: b for b in sched.manifest(DAY)}
            assert set(found) == {a[1] for a in acked if a[0] == name}  # none lost or extra
            places: Counter[str] = Counter()
            for b in found.values():
                places[f"c:{b.channel}"] += b.places
                places["p:loket"] += b.places
                if b.window is not None:
                    places[f"s:online@{b.window[0]:%H:%M}"] += b.places
            for scope in places:
                stored = storage.counter_use(name, scope, DAY, date(2020, 6, 6))
                assert stored == {DAY: places[scope]}, (name, scope)
            assert places["p:loket"] == 200  # filled exactly: singles ran until refused
            assert places["c:online"] <= 160
            assert places["c:priority"] >= 40  # the reserved places
            assert all(places[f"s:online@{s.key}"] <= 100 for s in SESSIONS)
            numbers = Counter((b.channel, b.number) for b in found.values())
            assert max(numbers.values()) == 1
        assert storage.retries == 0
    finally:
        storage.close()
