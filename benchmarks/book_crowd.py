"""The crowd-day rows (issue 11): one hot day booked by many threads and processes at once.

* ``book.sqlite.full.8threads``: SQLite ``FULL``, 8 threads of this process on one hot day,
  ``SQLiteStorage(group_commit=True)`` against 8 threads each running the minimal raw
  transaction (`benchmarks._baselines.MinimalSQLite`'s, one connection per thread) on one
  shared counter row; ``group_commit=False`` measured beside them.
* ``book.postgres.2x16``: PostgreSQL, 2 processes x 16 threads, ``group_commit=True`` against
  the raw same-schema transaction of the 8-process hot-day row (`RawBooker`, one connection
  per thread); plain beside them.
* ``book.postgres.8proc.early``: the 8-process hot-day row with ``early_release=True``;
  plain beside it.

The three sides of a row run in the same process run, interleaved
(`_harness.interleave_many`); each row then fills a capacity-limited day with the storage
measured as "ours" and counts it straight from SQL (0 overbooked, no duplicate numbers,
exactly the capacity accepted).
"""

from __future__ import annotations

import itertools
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import queue_quota as qq
from benchmarks._baselines import MinimalSQLite, minimal_sqlite_book
from benchmarks._harness import (
    NOW,
    SECRET,
    UNLIMITED,
    Bench,
    Comparison,
    Context,
    ProcessGroup,
    Result,
    RowSpec,
    Runner,
    Target,
    citizen_ids,
    first_day,
    fmt_rate,
    fmt_time,
    interleave_many,
    make_office,
)
from benchmarks.book_postgres import (
    _BASELINE,
    RawBooker,
    _count_hot_day,
    _emulated_network,
    _rtt_spec,
    prepare_raw_schema,
)
from queue_quota.storage import SQLiteStorage

SQLITE_THREADS = 8
PG_PROCESSES_THREADS = (2, 16)
PG_EARLY_PROCESSES = 8

#: A timed loop, made by a job before the threads are lined up; its result is kept.
Loop = Callable[[], Any]
#: What every thread of a `Crew` runs: ``job(thread_index)`` -> its timed loop.
Job = Callable[[int], Loop]
Window = tuple[float, float, Any]


class Crew:
    """``size`` long-lived threads of this process, lined up by a barrier for each job.

    Long-lived, because `SQLiteStorage` keeps a connection per thread: new threads per
    batch would time the opening of connections.
    """

    def __init__(self, size: int) -> None:
        self._jobs: list[queue.Queue[Job | None]] = [queue.Queue() for _ in range(size)]
        self._done: queue.Queue[tuple[int, Window | None, BaseException | None]] = queue.Queue()
        self._barrier = threading.Barrier(size)
        self._threads = [
            threading.Thread(target=self._serve, args=(i,), daemon=True, name=f"qq-crew-{i}")
            for i in range(size)
        ]
        for t in self._threads:
            t.start()

    def _serve(self, index: int) -> None:
        while (job := self._jobs[index].get()) is not None:
            try:
                loop = job(index)
                self._barrier.wait(timeout=120)
                t0 = time.perf_counter()
                value = loop()
                self._done.put((index, (t0, time.perf_counter(), value), None))
            except BaseException as exc:
                self._barrier.abort()
                self._done.put((index, None, exc))

    def run(self, job: Job) -> list[Window]:
        """Run ``job`` on every thread at once; (start, end, result) of each, in order."""
        for q in self._jobs:
            q.put(job)
        out: list[Window | None] = [None] * len(self._jobs)
        errors: list[BaseException] = []
        for _ in self._jobs:
            index, window, error = self._done.get(timeout=300)
            if error is not None:
                errors.append(error)
            out[index] = window
        if errors:
            raise errors[0]
        return [w for w in out if w is not None]

    def close(self) -> None:
        """Stop the threads."""
        for q in self._jobs:
            q.put(None)
        for t in self._threads:
            t.join(timeout=20)


def _wall(windows: list[tuple[float, float]]) -> float:
    """First start to last finish."""
    return max(t1 for _, t1 in windows) - min(t0 for t0, _ in windows)


def _booking_job(
    sched: qq.Scheduler, ids: list[itertools.count[int]], prefix: str, each: int
) -> Job:
    """Each thread books ``each`` distinct citizens on the scheduler (ids made untimed)."""

    def job(i: int) -> Loop:
        batch = [f"{prefix}{i:02d}{next(ids[i]):010d}" for _ in range(each)]
        book = sched.book

        def loop() -> None:
            for citizen in batch:
                book("online", citizen, now=NOW)

        return loop

    return job


def _fill_job(sched: qq.Scheduler, prefix: str) -> Job:
    """Each thread books the capacity-limited hot day until refused; its numbers."""
    day = first_day()

    def job(i: int) -> Loop:
        ids = citizen_ids(f"{prefix}{i:02d}")

        def loop() -> list[int]:
            numbers: list[int] = []
            while True:
                try:
                    b = sched.book("online", next(ids), now=NOW, preferred_date=day)
                except qq.QuotaExhausted:
                    return numbers
                numbers.append(b.number)

        return loop

    return job


def _check(
    workers: str, capacity: int, accepted: int, rows: int, distinct: int, counter: int | None
) -> tuple[str, dict[str, Any], bool]:
    """The overbooking check's note, numbers and verdict."""
    overbooked = max(0, rows - capacity)
    duplicates = rows - distinct
    note = (
        f"Overbooking check: {workers} booked a {capacity}-place day until refused (the "
        f"storage measured as ours): {accepted} accepted, {rows} active rows, counter "
        f"{counter}, {overbooked} overbooked, {duplicates} duplicate numbers."
    )
    data = {
        "capacity": capacity,
        "accepted": accepted,
        "active_rows": rows,
        "counter": counter,
        "overbooked": overbooked,
        "duplicate_numbers": duplicates,
    }
    return note, data, overbooked == 0 and duplicates == 0 and accepted == capacity == counter


def _rate(seconds_per_op: float) -> str:
    return fmt_rate(1.0 / seconds_per_op) if seconds_per_op > 0 else "—"


def _row(
    spec: RowSpec,
    cmps: dict[str, Comparison],
    *,
    ours_label: str,
    plain_label: str,
    check: tuple[str, dict[str, Any], bool],
    note: str = "",
) -> Result:
    """The row: ours vs raw judged, plain vs raw and ours vs plain beside them."""
    raw, plain = cmps["raw"], cmps["plain"]
    note_check, data_check, ok = check
    overbooked = data_check["overbooked"]
    beside = (
        f"Measured: {ours_label} {fmt_time(raw.ours_median)} per booking "
        f"({_rate(raw.ours_median)}); plain ({plain_label}) "
        f"{fmt_time(plain.baseline_median)} ({_rate(plain.baseline_median)}), "
        f"{raw.baseline_median / plain.baseline_median:.2f}× the raw transaction; raw "
        f"transaction {fmt_time(raw.baseline_median)} ({_rate(raw.baseline_median)}); "
        f"{ours_label} / plain: {plain.ratio:.2f}×."
    )
    return spec.result(
        ours=f"{fmt_time(raw.ours_median)}, {overbooked} overbooked",
        baseline=fmt_time(raw.baseline_median),
        ratio=raw.ratio,
        how=f"{beside} Raw: {raw.describe()} Plain: {plain.describe()} {note_check} {note}",
        data=raw.data()
        | {
            "plain": plain.data(),
            "plain_vs_raw": raw.baseline_median / plain.baseline_median,
            "ours_vs_plain": plain.ratio,
        }
        | data_check,
        also_ok=ok,
    )


# -- SQLite, 8 threads -------------------------------------------------------------------------

SQLITE = RowSpec(
    name="book.sqlite.full.8threads",
    operation=f"book on SQLiteStorage(group_commit=True) (FULL), {SQLITE_THREADS} threads, "
    "one hot day",
    target=Target("min", 3.0),
    how=(
        f'{SQLITE_THREADS} long-lived threads of one process, all calling Scheduler.book("online", '
        "citizen_id, now=NOW) on one SQLiteStorage(file, group_commit=True) (WAL, "
        "synchronous=FULL) and one Scheduler, a distinct citizen per call, all on the same day "
        "(capacity never reached), started together by a barrier; time per op = wall time "
        "(first start to last finish) / all bookings. Baseline: the same "
        f"{SQLITE_THREADS} threads, each on its own stdlib sqlite3 connection (busy_timeout "
        "30 s) to another file in the same directory, WAL, synchronous=FULL, running the "
        "minimal raw transaction (benchmarks/_baselines.py MinimalSQLite) on one shared "
        "counter row: BEGIN IMMEDIATE; UPDATE counter SET used = used + 1 WHERE id = 1 AND "
        "used < capacity RETURNING used; INSERT INTO booking (id, day, number); COMMIT. "
        "Beside them, in the same interleaved run: the same threads on a plain "
        "SQLiteStorage(file) (group_commit=False). Met needs the ratio, 0 overbooked, 0 "
        "duplicate numbers and the capacity filled."
    ),
)


def _minimal_job(conns: list[sqlite3.Connection], each: int) -> Job:
    """Each thread runs the minimal raw transaction ``each`` times on its connection."""
    import os

    day = first_day().isoformat()

    def job(i: int) -> Loop:
        execute = conns[i].execute
        ids = [os.urandom(10).hex() for _ in range(each)]

        def loop() -> None:
            for booking_id in ids:
                minimal_sqlite_book(execute, booking_id, day)

        return loop

    return job


def _count_sqlite(path: Path, day: str) -> tuple[int, int, int | None]:
    """(active bookings, distinct numbers, counter) of the hot day in ``path``."""
    conn = sqlite3.connect(path, timeout=30.0)
    try:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT number) FROM qq_booking "
            "WHERE office_id = 'tegal-hot' AND day = ? AND status IN ('booked', 'checked_in')",
            (day,),
        ).fetchone()
        counter = conn.execute(
            "SELECT used FROM qq_counter "
            "WHERE office_id = 'tegal-hot' AND scope = 'c:online' AND day = ?",
            (day,),
        ).fetchone()
    finally:
        conn.close()
    return int(rows), int(distinct), None if counter is None else int(counter[0])


def run_sqlite(ctx: Context) -> list[Result]:
    """8 threads, group commit vs plain vs the minimal raw transaction, then the fill."""
    t = SQLITE_THREADS
    ours_path, plain_path = ctx.path("ours-group.sqlite3"), ctx.path("ours-plain.sqlite3")
    base_path = ctx.path("minimal-shared.sqlite3")
    ours_st = SQLiteStorage(ours_path, group_commit=True)
    plain_st = SQLiteStorage(plain_path, group_commit=False)
    MinimalSQLite(base_path, "FULL", UNLIMITED).close()
    conns: list[sqlite3.Connection] = []
    crew = Crew(t)
    try:
        for _ in range(t):
            conn = sqlite3.connect(
                base_path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = FULL")
            conns.append(conn)
        office = make_office("tegal", UNLIMITED)
        scheds = {
            "ours": qq.Scheduler(office, ours_st, secret=SECRET),
            "plain": qq.Scheduler(office, plain_st, secret=SECRET),
        }
        counters = {side: [itertools.count() for _ in range(t)] for side in scheds}

        def booker(side: str) -> Runner:
            def run(n: int) -> float:
                each = max(1, -(-n // t))
                windows = crew.run(_booking_job(scheds[side], counters[side], "33", each))
                return _wall([(a, b) for a, b, _ in windows]) * n / (each * t)

            return run

        def raw(n: int) -> float:
            each = max(1, -(-n // t))
            windows = crew.run(_minimal_job(conns, each))
            return _wall([(a, b) for a, b, _ in windows]) * n / (each * t)

        cmps = interleave_many(
            booker("ours"),
            {"raw": raw, "plain": booker("plain")},
            reps=ctx.reps,
            seconds=max(0.1, ctx.seconds * 1.5),
        )
        capacity = ctx.scale(800, 200)
        hot = qq.Scheduler(make_office("tegal-hot", capacity), ours_st, secret=SECRET)
        fills = crew.run(_fill_job(hot, "f"))
        accepted = sum(len(numbers) for _, _, numbers in fills)
        rows, distinct, counter = _count_sqlite(ours_path, first_day().isoformat())
    finally:
        crew.close()
        for conn in conns:
            conn.close()
        ours_st.close()
        plain_st.close()
    check = _check(f"{t} threads", capacity, accepted, rows, distinct, counter)
    return [
        _row(
            SQLITE,
            cmps,
            ours_label="group_commit=True",
            plain_label="group_commit=False",
            check=check,
        )
    ]


# -- PostgreSQL, several processes with threads ------------------------------------------------


class CrowdWorker:
    """A process of the PostgreSQL crowd rows: ``threads`` threads, three sides.

    Sides ``ours`` and ``plain`` are `PostgresStorage` pools of ``threads`` connections on
    their own schemas (``ours`` with the options measured); ``raw`` is one `RawBooker`
    connection per thread.
    """

    def __init__(
        self,
        index: int,
        conninfo: str,
        threads: int,
        schemas: dict[str, str],
        options: dict[str, bool],
    ) -> None:
        from queue_quota.storage import PostgresStorage

        self._threads = threads
        self._index = index
        self._storages = {
            side: PostgresStorage(
                conninfo,
                schema=schemas[side],
                min_size=threads,
                max_size=threads,
                **(options if side == "ours" else {"group_commit": False}),
            )
            for side in ("ours", "plain")
        }
        office = make_office("tegal", UNLIMITED)
        self._scheds = {
            side: qq.Scheduler(office, storage, secret=SECRET)
            for side, storage in self._storages.items()
        }
        self._counters = {
            side: [itertools.count() for _ in range(threads)] for side in self._scheds
        }
        self._raws = [RawBooker(conninfo, schemas["raw"]) for _ in range(threads)]
        self._crew = Crew(threads)
        for side in self._scheds:  # open the pools' connections, prepare
            self(side, 2)
        self("raw", 1)

    def __call__(self, command: str, n: int) -> Any:
        if command in self._scheds:
            job = _booking_job(self._scheds[command], self._counters[command], f"3{self._index}", n)
        elif command == "raw":
            raws = self._raws

            def raw_job(i: int) -> Loop:
                return lambda: raws[i].window(n)

            job = raw_job
        elif command == "fill":
            hot = qq.Scheduler(make_office("tegal-hot", n), self._storages["ours"], secret=SECRET)
            fills = self._crew.run(_fill_job(hot, f"f{self._index}"))
            return sum(len(numbers) for _, _, numbers in fills)
        else:
            raise ValueError(command)
        windows = self._crew.run(job)
        return min(a for a, _, _ in windows), max(b for _, b, _ in windows)

    def close(self) -> None:
        """Stop the threads, release the connections."""
        self._crew.close()
        for storage in self._storages.values():
            storage.close()
        for raw in self._raws:
            raw.close()


def _pg_crowd(
    ctx: Context,
    spec: RowSpec,
    processes: int,
    threads: int,
    options: dict[str, bool],
    ours_label: str,
    conninfo: str | None = None,
    note: str = "",
) -> Result:
    conninfo = conninfo or ctx.postgres()
    from queue_quota.storage import PostgresStorage

    schemas = {side: ctx.new_schema() for side in ("ours", "plain", "raw")}
    group: ProcessGroup | None = None
    try:
        for side in ("ours", "plain"):
            storage = PostgresStorage(conninfo, schema=schemas[side], min_size=0, max_size=1)
            storage.migrate()
            storage.close()
        prepare_raw_schema(conninfo, schemas["raw"])
        ctx.log(f"starting {processes} worker processes x {threads} threads")
        group = ProcessGroup(processes, CrowdWorker, (conninfo, threads, schemas, options))
        workers = group
        total = processes * threads

        def runner(command: str) -> Runner:
            def run(n: int) -> float:
                each = max(1, -(-n // total))
                windows = workers.run(command, each)
                return float(_wall(windows) * n / (each * total))

            return run

        cmps = interleave_many(
            runner("ours"),
            {"raw": runner("raw"), "plain": runner("plain")},
            reps=ctx.reps,
            seconds=max(0.1, ctx.seconds * 1.5),
        )
        capacity = ctx.scale(800, 200)
        accepted = sum(group.run("fill", capacity))
        rows, distinct, counter = _count_hot_day(conninfo, schemas["ours"], first_day())
    finally:
        if group is not None:
            group.close()
        for schema in schemas.values():
            ctx.drop_schema(schema)
    workers_text = (
        f"{processes} processes" if threads == 1 else f"{processes} processes × {threads} threads"
    )
    check = _check(workers_text, capacity, accepted, rows, distinct, counter)
    return _row(
        spec,
        cmps,
        ours_label=ours_label,
        plain_label="group_commit=False, early_release=False",
        check=check,
        note=note,
    )


_PG_HOW = (
    "{workers} (fork server worker processes, each with {threads_text}), all calling "
    'Scheduler.book("online", citizen_id, now=NOW) on the same day (capacity never reached), '
    "started together by barriers; time per op = wall time (first start to last finish) / "
    "all bookings. Ours: in each process one PostgresStorage({options}, a pool of {pool} "
    "connection{s}) and one Scheduler. Baseline: the same {workers}, each thread on its own "
    "connection running the raw transaction of the 8-process hot-day row on one shared "
    "counter row. " + _BASELINE + " Beside them, in the same interleaved run: the same "
    "{workers} on a plain PostgresStorage (group_commit=False, early_release=False) on "
    "its own schema. Server: the throwaway cluster, synchronous_commit=on, fsync=on. "
)

P2, T16 = PG_PROCESSES_THREADS
PG_2X16 = RowSpec(
    name="book.postgres.2x16",
    operation=f"book on PostgreSQL, group_commit=True, {P2} processes × {T16} threads, one hot day",
    target=Target("min", 5.0),
    how=_PG_HOW.format(
        workers=f"{P2} processes × {T16} threads",
        threads_text=f"{T16} long-lived threads",
        options="group_commit=True",
        pool=T16,
        s="s",
    )
    + "Met needs the ratio, 0 overbooked, 0 duplicate numbers and the capacity filled.",
)

PG_EARLY = RowSpec(
    name="book.postgres.8proc.early",
    operation=f"book on PostgreSQL, early_release=True, {PG_EARLY_PROCESSES} processes, "
    "one hot day",
    target=Target("report"),
    how=_PG_HOW.format(
        workers=f"{PG_EARLY_PROCESSES} processes",
        threads_text="one thread",
        options="early_release=True",
        pool=1,
        s="",
    )
    + "Report only; the overbooking check is still printed.",
)


_RTT_HOW = (
    " Every connection of the three sides goes through benchmarks/_latency_proxy.py (the "
    "1 ms RTT rows of book.postgres.rtt), in the same interleaved run. Report only."
)
PG_2X16_RTT = RowSpec(
    name="book.postgres.rtt.2x16",
    operation=PG_2X16.operation + ", 1 ms RTT",
    target=Target("report"),
    how=PG_2X16.how.replace(
        "Met needs the ratio, 0 overbooked, 0 duplicate numbers and the capacity filled.", ""
    )
    + _RTT_HOW,
)
PG_EARLY_RTT = RowSpec(
    name="book.postgres.rtt.8proc.early",
    operation=PG_EARLY.operation + ", 1 ms RTT",
    target=Target("report"),
    how=PG_EARLY.how.replace("Report only; the overbooking check is still printed.", "") + _RTT_HOW,
)


def _over_rtt(
    ctx: Context,
    spec: RowSpec,
    processes: int,
    threads: int,
    options: dict[str, bool],
    label: str,
) -> list[Result]:
    """A crowd row with every connection of its three sides through the latency proxy."""
    with _emulated_network(ctx) as (via, note, numbers):
        result = _pg_crowd(
            ctx, _rtt_spec(ctx, spec), processes, threads, options, label, conninfo=via, note=note
        )
    result.data |= numbers
    return [result]


def run_pg_2x16_rtt(ctx: Context) -> list[Result]:
    """The 2 x 16 group-commit row over the emulated network."""
    return _over_rtt(ctx, PG_2X16_RTT, P2, T16, {"group_commit": True}, "group_commit=True")


def run_pg_early_rtt(ctx: Context) -> list[Result]:
    """The 8-process early-release row over the emulated network."""
    return _over_rtt(
        ctx, PG_EARLY_RTT, PG_EARLY_PROCESSES, 1, {"early_release": True}, "early_release=True"
    )


def run_pg_2x16(ctx: Context) -> list[Result]:
    """2 processes x 16 threads, group commit vs plain vs the raw transaction."""
    return [_pg_crowd(ctx, PG_2X16, P2, T16, {"group_commit": True}, "group_commit=True")]


def run_pg_early(ctx: Context) -> list[Result]:
    """8 processes, early lock release vs plain vs the raw transaction."""
    return [
        _pg_crowd(
            ctx, PG_EARLY, PG_EARLY_PROCESSES, 1, {"early_release": True}, "early_release=True"
        )
    ]


BENCHES = [
    Bench("book.sqlite.full.8threads", (SQLITE,), run_sqlite, frozenset({"book", "sqlite"})),
    Bench("book.postgres.2x16", (PG_2X16,), run_pg_2x16, frozenset({"book", "postgres"}), True),
    Bench(
        "book.postgres.8proc.early",
        (PG_EARLY,),
        run_pg_early,
        frozenset({"book", "postgres"}),
        True,
    ),
    Bench(
        "book.postgres.rtt.2x16",
        (PG_2X16_RTT,),
        run_pg_2x16_rtt,
        frozenset({"book", "postgres", "rtt"}),
        True,
    ),
    Bench(
        "book.postgres.rtt.8proc.early",
        (PG_EARLY_RTT,),
        run_pg_early_rtt,
        frozenset({"book", "postgres", "rtt"}),
        True,
    ),
]
