"""``book`` on `SQLiteStorage` against two raw stdlib ``sqlite3`` bookings.

* the **minimal** one of issue 9 (`benchmarks._baselines.MinimalSQLite`): a conditional
  counter ``UPDATE`` and an ``INSERT`` into a three-column rowid table, no index: the
  targets are judged against it;
* the same booking written by hand into **the library's own schema** (its tables, keys and
  indexes, made by ``SQLiteStorage.migrate``): information.

Both run in the same process as ours, interleaved, on files in the same directory with the
same pragmas (WAL, the same ``synchronous``).
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import queue_quota as qq
from benchmarks._baselines import MinimalSQLite
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
    interleave_many,
    make_office,
    random_keys,
)
from queue_quota.storage import SQLiteStorage

_OURS = (
    'Scheduler.book("online", citizen_id, now=NOW) on SQLiteStorage(file, synchronous={mode}) '
    "(WAL), a distinct citizen per call, capacity large enough that the first day never "
    "fills."
)
_MINIMAL = (
    " Baseline (benchmarks/_baselines.py MinimalSQLite): raw stdlib sqlite3 on another file "
    "in the same directory, WAL, synchronous={mode}: BEGIN IMMEDIATE; UPDATE counter SET "
    "used = used + 1 WHERE id = 1 AND used < capacity RETURNING used; INSERT INTO booking "
    "(id, day, number), a three-column rowid table without index, random 80-bit ids; COMMIT."
)
_SAME = (
    " Baseline: raw stdlib sqlite3 on another file with the library's tables and indexes "
    "(made by SQLiteStorage.migrate) and the same pragmas: BEGIN IMMEDIATE; UPDATE "
    "qq_counter SET used = used + 1, last = last + 1 WHERE <office, 'c:online', day> AND "
    "used < capacity RETURNING last; INSERT INTO qq_booking (the library's columns); COMMIT, "
    "random booking ids and citizen refs like ours (made before the timer). Information."
)

ROWS = {
    ("NORMAL", "minimal"): RowSpec(
        name="book.sqlite.normal",
        operation='book on SQLiteStorage(synchronous="NORMAL") vs minimal',
        target=Target("min", 0.5),
        how=(_OURS + _MINIMAL).format(mode="NORMAL"),
    ),
    ("FULL", "minimal"): RowSpec(
        name="book.sqlite.full",
        operation="book on SQLiteStorage() (FULL) vs minimal",
        target=Target("min", 0.8),
        how=(_OURS + _MINIMAL).format(mode="FULL"),
    ),
    ("NORMAL", "same"): RowSpec(
        name="book.sqlite.normal.schema",
        operation='book on SQLiteStorage(synchronous="NORMAL") vs raw, same schema',
        target=Target("report"),
        how=(_OURS + _SAME).format(mode="NORMAL"),
    ),
    ("FULL", "same"): RowSpec(
        name="book.sqlite.full.schema",
        operation="book on SQLiteStorage() (FULL) vs raw, same schema",
        target=Target("report"),
        how=(_OURS + _SAME).format(mode="FULL"),
    ),
}

_RAW_UPDATE = (
    "UPDATE qq_counter SET used = used + 1, last = last + 1 "
    "WHERE office_id = ? AND scope = 'c:online' AND day = ? AND used < ? "
    "RETURNING last"
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
        "INSERT INTO qq_counter (office_id, scope, day, used, last) "
        "VALUES (?, 'c:online', ?, 0, 0)",
        ("tegal", first_day().isoformat()),
    )
    return conn


def raw_booker(conn: sqlite3.Connection, office_id: str) -> Callable[[int], float]:
    """The same-schema runner: one raw transaction per booking."""
    day = first_day().isoformat()
    created = NOW.astimezone(UTC).isoformat()
    execute = conn.execute

    def run(n: int) -> float:
        batch = random_keys(n)
        t0 = time.perf_counter()
        for booking_id, ref in batch:
            execute("BEGIN IMMEDIATE")
            row = execute(_RAW_UPDATE, (office_id, day, UNLIMITED)).fetchone()
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


def _measure(ctx: Context, synchronous: str) -> list[Result]:
    storage = SQLiteStorage(ctx.path(f"ours-{synchronous}.sqlite3"), synchronous=synchronous)
    sched = qq.Scheduler(make_office("tegal", UNLIMITED), storage, secret=SECRET)
    ids = citizen_ids("3328")
    book = sched.book

    def ours(n: int) -> float:
        batch = list(itertools.islice(ids, n))
        t0 = time.perf_counter()
        for citizen in batch:
            book("online", citizen, now=NOW)
        return time.perf_counter() - t0

    minimal = MinimalSQLite(ctx.path(f"minimal-{synchronous}.sqlite3"), synchronous, UNLIMITED)
    conn = raw_connection(ctx.path(f"raw-{synchronous}.sqlite3"), synchronous)
    try:
        cmps = interleave_many(
            ours,
            {"minimal": minimal.run, "same": raw_booker(conn, "tegal")},
            reps=ctx.reps,
            seconds=ctx.seconds,
        )
    finally:
        conn.close()
        minimal.close()
        storage.close()
    return [
        ROWS[synchronous, kind].result(
            ours=fmt_time(cmp.ours_median),
            baseline=fmt_time(cmp.baseline_median),
            ratio=cmp.ratio,
            how=cmp.describe(),
            data=cmp.data(),
        )
        for kind, cmp in cmps.items()
    ]


def run(ctx: Context) -> list[Result]:
    """Measure the four rows: NORMAL (minimal, same schema), then FULL."""
    normal, full = _measure(ctx, "NORMAL"), _measure(ctx, "FULL")
    return [normal[0], full[0], normal[1], full[1]]


BENCHES = [Bench("book.sqlite", tuple(ROWS.values()), run, frozenset({"book", "sqlite"}))]
