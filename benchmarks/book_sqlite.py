"""``book`` on `SQLiteStorage` against the same booking done with raw stdlib ``sqlite3``."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

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
    random_keys,
)
from queue_quota.storage import SQLiteStorage

_HOW = (
    'Scheduler.book("online", citizen_id, now=NOW) on SQLiteStorage(file, synchronous={mode}) '
    "(WAL), a distinct citizen per call, capacity large enough that the first day never "
    "fills. Baseline: raw stdlib sqlite3 on another file in the same directory with the "
    "same tables and indexes (made by SQLiteStorage.migrate) and the same pragmas (WAL, "
    "synchronous={mode}): BEGIN IMMEDIATE; UPDATE qq_day SET booked = booked + 1, "
    "last_number = last_number + 1 WHERE <day> AND booked < capacity RETURNING last_number; "
    "INSERT INTO qq_booking; COMMIT, with random booking ids and citizen refs like ours "
    "(made before the timer)."
)

ROWS = {
    "NORMAL": RowSpec(
        name="book.sqlite.normal",
        operation='book on SQLiteStorage(synchronous="NORMAL")',
        target=Target("min", 0.66),
        how=_HOW.format(mode="NORMAL"),
    ),
    "FULL": RowSpec(
        name="book.sqlite.full",
        operation="book on SQLiteStorage() (FULL)",
        target=Target("min", 0.8),
        how=_HOW.format(mode="FULL"),
    ),
}

_RAW_UPDATE = (
    "UPDATE qq_day SET booked = booked + 1, last_number = last_number + 1 "
    "WHERE office_id = ? AND channel = ? AND day = ? AND booked < capacity "
    "RETURNING last_number"
)
_RAW_INSERT = (
    "INSERT INTO qq_booking (id, office_id, channel, day, number, label, status, citizen_ref, "
    "created_at, ticket, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_TICKET = "0000-0000-0000-0000.0000-0000-0000-0000"


def raw_connection(path: Path, synchronous: str) -> sqlite3.Connection:
    """A stdlib connection to a fresh database with the library's schema and pragmas."""
    SQLiteStorage(path, synchronous=synchronous).migrate()  # the same tables and indexes
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute(
        "INSERT INTO qq_day (office_id, channel, day, capacity, booked, last_number) "
        "VALUES (?, 'online', ?, ?, 0, 0)",
        ("tegal", first_day().isoformat(), UNLIMITED),
    )
    return conn


def raw_booker(conn: sqlite3.Connection, office_id: str) -> Callable[[int], float]:
    """The baseline runner: one raw transaction per booking."""
    day = first_day().isoformat()
    created = NOW.astimezone(UTC).isoformat()
    execute = conn.execute

    def run(n: int) -> float:
        batch = random_keys(n)
        t0 = time.perf_counter()
        for booking_id, ref in batch:
            execute("BEGIN IMMEDIATE")
            row = execute(_RAW_UPDATE, (office_id, "online", day)).fetchone()
            if row is None:
                execute("ROLLBACK")
                raise AssertionError("the raw baseline's day is full")
            number = row[0]
            execute(
                _RAW_INSERT,
                (booking_id, office_id, "online", day, number, f"A-{number:03d}", "booked",
                 ref, created, _TICKET, None),
            )  # fmt: skip
            execute("COMMIT")
        return time.perf_counter() - t0

    return run


def _measure(ctx: Context, synchronous: str) -> Result:
    row = ROWS[synchronous]
    storage = SQLiteStorage(ctx.path("ours.sqlite3"), synchronous=synchronous)
    sched = qq.Scheduler(make_office("tegal", UNLIMITED), storage, secret=SECRET)
    ids = citizen_ids("3328")
    book = sched.book

    def ours(n: int) -> float:
        batch = list(itertools.islice(ids, n))
        t0 = time.perf_counter()
        for citizen in batch:
            book("online", citizen, now=NOW)
        return time.perf_counter() - t0

    conn = raw_connection(ctx.path("raw.sqlite3"), synchronous)
    try:
        cmp = interleave(ours, raw_booker(conn, "tegal"), reps=ctx.reps, seconds=ctx.seconds)
    finally:
        conn.close()
        storage.close()
    return row.result(
        ours=fmt_time(cmp.ours_median),
        baseline=fmt_time(cmp.baseline_median),
        ratio=cmp.ratio,
        how=cmp.describe(),
        data=cmp.data(),
    )


def run(ctx: Context) -> list[Result]:
    """Measure both rows."""
    return [_measure(ctx, "NORMAL"), _measure(ctx, "FULL")]


BENCHES = [Bench("book.sqlite", tuple(ROWS.values()), run, frozenset({"book", "sqlite"}))]
