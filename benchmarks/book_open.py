"""The "registration opens" rows (issue 11, item 4): many clients, one office, the first free days.

Every client books the office's earliest free day (no preferred date) until the booking
window is full, so the days fill one after another: 20 places a day, the Indonesian calendar.
Each row gives the throughput (accepted bookings / wall time) and the p50 / p99 latency of
each ``book()`` call, for the plain storage, ``group_commit=True`` and the raw transaction
(the existing rows' minimal one, run by the same clients for as many bookings), one side
after the other in one run; then the office's rows are counted straight from SQL (0
overbooked, no duplicate numbers per day, every place taken).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import queue_quota as qq
from benchmarks._baselines import MinimalSQLite, minimal_sqlite_book
from benchmarks._harness import (
    NOW,
    SECRET,
    UNLIMITED,
    Bench,
    Context,
    ProcessGroup,
    Result,
    RowSpec,
    Target,
    first_day,
    fmt_rate,
    fmt_time,
    make_office,
    percentile,
)
from benchmarks.book_crowd import Crew, Job, Loop
from benchmarks.book_postgres import RawBooker, prepare_raw_schema
from queue_quota.storage import SQLiteStorage

OFFICE = "tegal-open"
PER_DAY = 20
PG_PROCESSES, PG_THREADS = 8, 16
SQLITE_THREADS = 32
#: (start, end, latencies) of one client.
Window = tuple[float, float, list[float]]


def _horizon(ctx: Context) -> int:
    return ctx.scale(60, 15)


def _office(ctx: Context) -> qq.Office:
    return make_office(OFFICE, PER_DAY, horizon_days=_horizon(ctx))


def _open_job(sched: qq.Scheduler, prefix: str) -> Job:
    """Each client books the first free day until the window is full; its latencies."""

    def job(i: int) -> Loop:
        ids = (f"{prefix}{i:03d}{k:09d}" for k in range(10**9))

        def loop() -> list[float]:
            lat: list[float] = []
            clock = time.perf_counter
            book = sched.book
            while True:
                t0 = clock()
                try:
                    book("online", next(ids), now=NOW)
                except qq.QuotaExhausted:
                    return lat
                lat.append(clock() - t0)

        return loop

    return job


def _summary(windows: list[Window]) -> dict[str, Any]:
    lat = sorted(x for _, _, w in windows for x in w)
    wall = max(b for _, b, _ in windows) - min(a for a, _, _ in windows)
    n = len(lat)
    return {
        "bookings": n,
        "wall_s": wall,
        "per_second": n / wall if wall > 0 else 0.0,
        "p50_s": percentile(lat, 0.50) if lat else 0.0,
        "p99_s": percentile(lat, 0.99) if lat else 0.0,
        "max_s": lat[-1] if lat else 0.0,
    }


def _text(s: dict[str, Any]) -> str:
    return f"{fmt_rate(s['per_second'])}; p50 {fmt_time(s['p50_s'])}, p99 {fmt_time(s['p99_s'])}"


def _day_check(per_day: list[tuple[Any, int, int]], counter: int | None) -> dict[str, Any]:
    rows = sum(c for _, c, _ in per_day)
    return {
        "days": len(per_day),
        "active_rows": rows,
        "counter_total": counter,
        "overbooked": sum(max(0, c - PER_DAY) for _, c, _ in per_day),
        "duplicate_numbers": sum(c - d for _, c, d in per_day),
    }


def _rows(
    specs: dict[str, RowSpec], sides: dict[str, dict[str, Any]], checks: dict[str, Any], who: str
) -> list[Result]:
    raw = sides["raw"]
    out = []
    for side in ("plain", "group"):
        s, chk = sides[side], checks[side]
        ok = (
            chk["overbooked"] == 0
            and chk["duplicate_numbers"] == 0
            and chk["active_rows"] == s["bookings"] == chk["counter_total"]
        )
        note = (
            f"This run ({who}): plain {_text(sides['plain'])}; group_commit=True "
            f"{_text(sides['group'])}; raw transaction {_text(raw)} ({raw['bookings']:,} "
            f"transactions). This side: {s['bookings']:,} accepted over {chk['days']} days in "
            f"{s['wall_s']:.2f} s, max latency {fmt_time(s['max_s'])}; check from SQL: "
            f"{chk['active_rows']} active rows, counters {chk['counter_total']}, "
            f"{chk['overbooked']} overbooked, {chk['duplicate_numbers']} duplicate numbers."
        )
        res = specs[side].result(
            ours=f"{_text(s)}, {chk['overbooked']} overbooked",
            baseline=_text(raw),
            ratio=s["per_second"] / raw["per_second"] if raw["per_second"] else None,
            how=note,
            data={"ours": s, "raw": raw} | chk,
        )
        if not ok:
            res = specs[side].failed(f"overbooking check failed: {chk}")
        out.append(res)
    return out


_HOW = (
    'Registration opens: {clients} all calling Scheduler.book("online", citizen_id, now=NOW) '
    "with no preferred date on ONE office ({per_day} places a day, horizon {{h}} days "
    "(60; 15 with --quick), the Indonesian calendar), so they all want the earliest free day "
    "and the days fill one after another; each client books until QuotaExhausted. "
    "Throughput = accepted bookings / wall time (first start to last finish); latency of each "
    "accepted book() call (perf_counter around it), p50 and p99. Sides, one after the other "
    "in one run, each on its own {where}: plain {storage}, {storage} with group_commit=True, "
    "and the raw baseline: the same clients running the existing rows' minimal transaction "
    "({raw}) on one shared unlimited counter, as many transactions as the office has places. "
    "Ratio = ours / raw throughput. Report only; the row says error when the SQL check "
    "(0 overbooked on every day, no duplicate numbers, rows = counters = accepted) fails."
)


def _spec(kind: str, side: str, clients: str, where: str, storage: str, raw: str) -> RowSpec:
    label = "group_commit=True" if side == "group" else "plain"
    return RowSpec(
        name=f"open.{kind}.{side}",
        operation=f"registration opens on {storage} ({label}), {clients}, one office",
        target=Target("report"),
        how=_HOW.format(clients=clients, per_day=PER_DAY, where=where, storage=storage, raw=raw),
    )


_PG_CLIENTS = f"{PG_PROCESSES} processes × {PG_THREADS} threads"
_PG_RAW = "RawBooker: BEGIN; UPDATE qq_counter ... RETURNING last; INSERT qq_booking; COMMIT"
PG_SPECS = {
    side: _spec("postgres", side, _PG_CLIENTS, "schema", "PostgresStorage", _PG_RAW)
    for side in ("plain", "group")
}
_SQ_CLIENTS = f"{SQLITE_THREADS} threads of one process"
_SQ_RAW = "MinimalSQLite, FULL, a connection per thread: BEGIN IMMEDIATE; UPDATE; INSERT; COMMIT"
SQ_SPECS = {
    side: _spec("sqlite", side, _SQ_CLIENTS, "file", "SQLiteStorage(FULL)", _SQ_RAW)
    for side in ("plain", "group")
}


def _fix_how(specs: dict[str, RowSpec], ctx: Context) -> dict[str, RowSpec]:
    return {
        k: RowSpec(s.name, s.operation, s.target, s.how.replace("{h}", str(_horizon(ctx))))
        for k, s in specs.items()
    }


# -- SQLite ------------------------------------------------------------------------------------


def _sqlite_raw_job(conns: list[sqlite3.Connection], each: int) -> Job:
    day = first_day().isoformat()

    def job(i: int) -> Loop:
        execute = conns[i].execute
        ids = [os.urandom(10).hex() for _ in range(each)]

        def loop() -> list[float]:
            lat: list[float] = []
            clock = time.perf_counter
            for booking_id in ids:
                t0 = clock()
                minimal_sqlite_book(execute, booking_id, day)
                lat.append(clock() - t0)
            return lat

        return loop

    return job


def _sqlite_check(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path, timeout=30.0)
    try:
        per_day = conn.execute(
            "SELECT day, count(*), count(DISTINCT number) FROM qq_booking WHERE office_id = ? "
            "AND status IN ('booked', 'checked_in') GROUP BY day",
            (OFFICE,),
        ).fetchall()
        (counter,) = conn.execute(
            "SELECT sum(used) FROM qq_counter WHERE office_id = ? AND scope = 'c:online'",
            (OFFICE,),
        ).fetchone()
    finally:
        conn.close()
    return _day_check(per_day, None if counter is None else int(counter))


def run_sqlite(ctx: Context) -> list[Result]:
    """Threads of one process: plain, group_commit, the minimal raw transaction."""
    t = SQLITE_THREADS
    crew = Crew(t)
    sides: dict[str, dict[str, Any]] = {}
    checks: dict[str, Any] = {}
    try:
        for side in ("plain", "group"):
            path = ctx.path(f"open-{side}.sqlite3")
            storage = SQLiteStorage(path, group_commit=side == "group")
            try:
                sched = qq.Scheduler(_office(ctx), storage, secret=SECRET)
                warm = qq.Scheduler(make_office("warm", UNLIMITED), storage, secret=SECRET)
                crew.run(lambda i, w=warm: lambda: w.book("online", f"w{i}", now=NOW))
                ctx.log(f"open.sqlite: {side}, {t} threads")
                sides[side] = _summary(crew.run(_open_job(sched, side[0])))
            finally:
                storage.close()
            checks[side] = _sqlite_check(path)
        base = ctx.path("open-raw.sqlite3")
        MinimalSQLite(base, "FULL", UNLIMITED).close()
        conns = []
        for _ in range(t):
            conn = sqlite3.connect(
                base, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = FULL")
            conns.append(conn)
        try:
            each = max(1, -(-sides["plain"]["bookings"] // t))
            sides["raw"] = _summary(crew.run(_sqlite_raw_job(conns, each)))
        finally:
            for conn in conns:
                conn.close()
    finally:
        crew.close()
    return _rows(_fix_how(SQ_SPECS, ctx), sides, checks, _SQ_CLIENTS)


# -- PostgreSQL --------------------------------------------------------------------------------


class OpenWorker:
    """A process of the PostgreSQL rows: ``threads`` threads; one side's connections at a time.

    Commands: ``open:<side>`` opens that side's connections (a pool of ``threads`` for
    ``plain``/``group``, a `RawBooker` per thread for ``raw``) and warms them; ``run:<side>``
    is the timed fill (``n``: raw transactions per thread); ``close:<side>`` releases them.
    The sides take turns so that the server's 200 connections suffice.
    """

    def __init__(self, index: int, conninfo: str, schemas: dict[str, str], horizon: int) -> None:
        self._index, self._conninfo, self._schemas = index, conninfo, schemas
        self._office = make_office(OFFICE, PER_DAY, horizon_days=horizon)
        self._crew = Crew(PG_THREADS)
        self._storage: Any = None
        self._sched: qq.Scheduler | None = None
        self._raws: list[RawBooker] = []

    def __call__(self, command: str, n: int) -> Any:
        from queue_quota.storage import PostgresStorage

        verb, side = command.split(":")
        if verb == "open" and side == "raw":
            self._raws = [
                RawBooker(self._conninfo, self._schemas["raw"]) for _ in range(PG_THREADS)
            ]
            for raw in self._raws:
                raw.window(1)
        elif verb == "open":
            self._storage = PostgresStorage(
                self._conninfo,
                schema=self._schemas[side],
                min_size=PG_THREADS,
                max_size=PG_THREADS,
                group_commit=side == "group",
            )
            self._sched = qq.Scheduler(self._office, self._storage, secret=SECRET)
            warm = qq.Scheduler(make_office("warm", UNLIMITED), self._storage, secret=SECRET)
            idx = self._index
            self._crew.run(lambda i: lambda: warm.book("online", f"w{idx}-{i}", now=NOW))
        elif verb == "run" and side == "raw":
            raws = self._raws
            return self._crew.run(lambda i: lambda: raws[i].timed(n))
        elif verb == "run":
            assert self._sched is not None
            return self._crew.run(_open_job(self._sched, f"{side[0]}{self._index}"))
        elif verb == "close":
            if self._storage is not None:
                self._storage.close()
            for raw in self._raws:
                raw.close()
            self._storage, self._sched, self._raws = None, None, []
        else:
            raise ValueError(command)
        return None

    def close(self) -> None:
        """Stop the threads, release the connections."""
        self("close:all", 0)
        self._crew.close()


def _pg_check(conninfo: str, schema: str) -> dict[str, Any]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, autocommit=True) as conn:
        per_day = conn.execute(
            sql.SQL(
                "SELECT day, count(*), count(DISTINCT number) FROM {}.qq_booking "
                "WHERE office_id = %s AND status IN ('booked', 'checked_in') GROUP BY day"
            ).format(sql.Identifier(schema)),
            (OFFICE,),
        ).fetchall()
        row = conn.execute(
            sql.SQL(
                "SELECT sum(used) FROM {}.qq_counter WHERE office_id = %s AND scope = 'c:online'"
            ).format(sql.Identifier(schema)),
            (OFFICE,),
        ).fetchone()
    counter = None if row is None or row[0] is None else int(row[0])
    return _day_check([(d, int(c), int(x)) for d, c, x in per_day], counter)


def run_postgres(ctx: Context) -> list[Result]:
    """8 processes x 16 threads: plain, group_commit, the raw transaction."""
    from queue_quota.storage import PostgresStorage

    conninfo = ctx.postgres()
    schemas = {side: ctx.new_schema() for side in ("plain", "group", "raw")}
    group: ProcessGroup | None = None
    sides: dict[str, dict[str, Any]] = {}
    checks: dict[str, Any] = {}
    try:
        for side in ("plain", "group"):
            storage = PostgresStorage(conninfo, schema=schemas[side], min_size=0, max_size=1)
            storage.migrate()
            storage.close()
        prepare_raw_schema(conninfo, schemas["raw"])
        ctx.log(f"open.postgres: starting {PG_PROCESSES} processes x {PG_THREADS} threads")
        group = ProcessGroup(PG_PROCESSES, OpenWorker, (conninfo, schemas, _horizon(ctx)))
        for side in ("plain", "group", "raw"):
            group.run(f"open:{side}", 0)
            each = 0
            if side == "raw":
                each = max(1, -(-sides["plain"]["bookings"] // (PG_PROCESSES * PG_THREADS)))
            ctx.log(f"open.postgres: {side}")
            out = group.run(f"run:{side}", each)
            group.run(f"close:{side}", 0)
            sides[side] = _summary([w for windows in out for w in windows])
            if side != "raw":
                checks[side] = _pg_check(conninfo, schemas[side])
    finally:
        if group is not None:
            group.close()
        for schema in schemas.values():
            ctx.drop_schema(schema)
    return _rows(_fix_how(PG_SPECS, ctx), sides, checks, _PG_CLIENTS)


BENCHES = [
    Bench("open.sqlite", tuple(SQ_SPECS.values()), run_sqlite, frozenset({"open", "sqlite"})),
    Bench(
        "open.postgres",
        tuple(PG_SPECS.values()),
        run_postgres,
        frozenset({"open", "postgres"}),
        True,
    ),
]
