"""``book`` on `PostgresStorage` against the same booking done with raw psycopg.

Rows: one connection in this process, and 8 processes booking one hot day (with a count of
overbooked places afterwards), first on the local server as it is (unix socket: a round trip
costs some tens of microseconds), then the same two over an emulated network: every
connection of both sides goes through `benchmarks._latency_proxy`, which adds a fixed
round-trip time (``--rtt-ms``, 1 ms by default), as between an application server and a
database on different hosts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import statistics
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import queue_quota as qq
from benchmarks._baselines import MinimalPostgres
from benchmarks._harness import (
    NOW,
    SECRET,
    UNLIMITED,
    Bench,
    Context,
    ProcessGroup,
    Result,
    RowSpec,
    Runner,
    Skip,
    Target,
    citizen_ids,
    first_day,
    fmt_time,
    interleave,
    interleave_many,
    make_office,
    random_keys,
)

PROCESSES = 8

_BASELINE = (
    "Baseline: raw psycopg 3 on one autocommit connection to a schema with the same tables "
    "and indexes (made by PostgresStorage.migrate): BEGIN; the conditional UPDATE of the "
    "day's counter (qq_day, or qq_counter once PostgresStorage is on the engine) RETURNING "
    "the last number; INSERT INTO qq_booking; COMMIT (four round trips), with random "
    "booking ids and citizen refs like ours (made before the timer)."
)
_MINIMAL = (
    "Baseline (benchmarks/_baselines.py MinimalPostgres): raw psycopg 3 on one autocommit "
    "connection: BEGIN; UPDATE counter SET used = used + 1 WHERE id = 1 AND used < capacity "
    "RETURNING used; INSERT INTO booking (id, day, number), a three-column table without "
    "index, random 80-bit ids; COMMIT: four round trips."
)
_OURS_ONE = (
    'Scheduler.book("online", citizen_id, now=NOW) on PostgresStorage(conninfo, '
    "min_size=1, max_size=1) over the unix socket, a distinct citizen per call, capacity "
    "large enough that the first day never fills (server: synchronous_commit=on, "
    "fsync=on). "
)

ONE_MIN = RowSpec(
    name="book.postgres.1conn",
    operation="book on PostgresStorage, one connection vs minimal",
    target=Target("min", 1.0),
    how=_OURS_ONE + _MINIMAL,
)

ONE = RowSpec(
    name="book.postgres.1conn.schema",
    operation="book on PostgresStorage, one connection vs raw, same schema",
    target=Target("report"),
    how=_OURS_ONE + _BASELINE + " Information (measured in the same interleaved run).",
)

ONE_NOSYNC = RowSpec(
    name="book.postgres.1conn.nosync",
    operation="book on PostgresStorage, one connection, synchronous_commit=off vs minimal",
    target=Target("report"),
    how=(
        "As the minimal row, both sides with synchronous_commit=off for their sessions (a "
        "commit does not wait for the WAL flush): what is left is client and server CPU and "
        "round trips, the part the library controls. Diagnostic, no target."
    ),
)

HOT = RowSpec(
    name="book.postgres.8proc",
    operation=f"book on PostgresStorage, {PROCESSES} processes, one hot day",
    target=Target("min", 1.5),
    how=(
        f"{PROCESSES} worker processes (fork server), each with its own PostgresStorage (one "
        "connection) and Scheduler, all booking the same day (capacity never reached), "
        "started together by a barrier; time per op = wall time (first start to last "
        f"finish) / all bookings. Baseline: the same from {PROCESSES} processes, each "
        "running the raw transaction on one shared counter row. "
        + _BASELINE
        + " Met needs the ratio, 0 overbooked, 0 duplicate numbers and the capacity filled."
    ),
)


_PROXY = (
    "Network emulated by benchmarks/_latency_proxy.py: a TCP proxy in a separate process on "
    "127.0.0.1, in front of the server's TCP port, that holds every chunk of bytes for half "
    "the RTT in each direction (each chunk released at its arrival + RTT/2, in order; one "
    "thread serves every connection with select(); TCP_NODELAY). Every "
    "connection of both sides goes through the same proxy, in the same run, interleaved; "
    "the proxy's CPU is its own process's, outside the timed process."
)

ONE_RTT = RowSpec(
    name="book.postgres.rtt.1conn",
    operation="book on PostgresStorage, one connection, 1 ms RTT",
    target=Target("min", 1.5),
    how=(
        "As the one-connection row (same code, same server, synchronous_commit=on), with "
        "both sides connected over an emulated network: what one round trip per booking "
        "instead of four buys when the database is on another host. " + _PROXY
    ),
)

HOT_RTT = RowSpec(
    name="book.postgres.rtt.8proc",
    operation=f"book on PostgresStorage, {PROCESSES} processes, one hot day, 1 ms RTT",
    target=Target("min", 1.5),
    how=(
        f"As the {PROCESSES}-process row (same workers, same overbooking check), with every "
        "connection of both sides over an emulated network. The raw transaction holds the "
        "hot row's lock from its UPDATE to its COMMIT, across two round trips; the library's "
        "one statement holds it only inside the server. " + _PROXY
    ),
)


def counter_table(conn: Any, schema: str) -> str:
    """The schema's day counters: ``qq_day`` (schema 2) or ``qq_counter`` (the engine's)."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.qq_counter",)).fetchone()
    return "qq_counter" if row is not None and row[0] else "qq_day"


class RawBooker:
    """The same-schema baseline: one raw psycopg transaction per booking, four round trips.

    It writes the library's own tables: ``qq_day`` while `PostgresStorage` has schema 2,
    ``qq_counter`` (scope ``c:<channel>``, ``used``, ``last``) once it is on the engine.
    """

    def __init__(self, conninfo: str, schema: str, office_id: str = "tegal") -> None:
        import psycopg
        from psycopg import sql

        self._conn = psycopg.connect(conninfo, autocommit=True)
        ident = sql.Identifier(schema)
        counter = counter_table(self._conn, schema)
        self._update = (
            sql.SQL(
                "UPDATE {}.qq_day SET booked = booked + 1, last_number = last_number + 1 "
                "WHERE office_id = %s AND channel = %s AND day = %s AND booked < capacity "
                "RETURNING last_number"
                if counter == "qq_day"
                else "UPDATE {}.qq_counter SET used = used + 1, last = last + 1 "
                "WHERE office_id = %s AND scope = 'c:' || %s AND day = %s "
                f"AND used < {UNLIMITED} RETURNING last"
            )
            .format(ident)
            .as_string(self._conn)
        )
        self._insert = (
            sql.SQL(
                "INSERT INTO {}.qq_booking (id, office_id, channel, day, number, label, status, "
                "citizen_ref, created_at, ticket, idempotency_key) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            )
            .format(ident)
            .as_string(self._conn)
        )
        self._office = office_id
        self._day = first_day()

    def window(self, n: int) -> tuple[float, float]:
        """Book ``n`` times; the (start, end) ``perf_counter`` of the timed loop."""
        execute = self._conn.execute
        update, insert, office, day = self._update, self._insert, self._office, self._day
        batch = random_keys(n)
        t0 = time.perf_counter()
        for booking_id, ref in batch:
            execute("BEGIN")
            row = execute(update, (office, "online", day)).fetchone()
            if row is None:
                execute("ROLLBACK")
                raise AssertionError("the raw baseline's day is full")
            number = row[0]
            execute(
                insert,
                (booking_id, office, "online", day, number, f"A-{number:03d}", "booked", ref,
                 NOW, "0000-0000-0000-0000.0000-0000-0000-0000", None),
            )  # fmt: skip
            execute("COMMIT")
        return t0, time.perf_counter()

    def timed(self, n: int) -> list[float]:
        """Book ``n`` times; the latency of each transaction (``perf_counter``), in seconds."""
        clock = time.perf_counter
        out: list[float] = []
        for _ in range(n):
            t0 = clock()
            self.window(1)
            out.append(clock() - t0)
        return out

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def prepare_raw_schema(conninfo: str, schema: str, office_id: str = "tegal") -> None:
    """The library's tables in ``schema``, and an unlimited day counter for the baseline."""
    import psycopg
    from psycopg import sql

    from queue_quota.storage import PostgresStorage

    storage = PostgresStorage(conninfo, schema=schema, min_size=0, max_size=1)
    storage.migrate()
    storage.close()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if counter_table(conn, schema) == "qq_day":
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.qq_day (office_id, channel, day, capacity, booked, "
                    "last_number) VALUES (%s, 'online', %s, %s, 0, 0)"
                ).format(sql.Identifier(schema)),
                (office_id, first_day(), UNLIMITED),
            )
        else:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.qq_counter (office_id, scope, day, used, last) "
                    "VALUES (%s, 'c:online', %s, 0, 0)"
                ).format(sql.Identifier(schema)),
                (office_id, first_day()),
            )


def run_one(ctx: Context) -> list[Result]:
    """One connection, in this process: durable commits, then without waiting for the flush."""
    conninfo = ctx.postgres()
    nosync = _with_option(conninfo, "synchronous_commit=off")
    return [
        *_one(ctx, {"minimal": ONE_MIN, "same": ONE}, conninfo),
        *_one(ctx, {"minimal": ONE_NOSYNC}, nosync),
    ]


def _with_option(conninfo: str, option: str) -> str:
    """``conninfo`` with one more ``-c name=value`` server option for its sessions."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    options = str(conninfo_to_dict(conninfo).get("options") or "")
    return make_conninfo(conninfo, options=f"{options} -c {option}".strip())


def _server_function_ms(conninfo: str, schema: str) -> dict[str, float]:
    """Mean milliseconds per call of the schema's functions (``pg_stat_user_functions``).

    The statistics of a session are flushed when it ends, so this polls for a moment.
    """
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        for _ in range(30):
            rows = conn.execute(
                "SELECT funcname, calls, total_time FROM pg_stat_user_functions "
                "WHERE schemaname = %s AND calls > 0",
                (schema,),
            ).fetchall()
            if any(name == "qq_reserve" for name, _, _ in rows):
                return {name: total / calls for name, calls, total in rows}
            time.sleep(0.1)
    return {}


def _one(ctx: Context, specs: dict[str, RowSpec], conninfo: str, note: str = "") -> list[Result]:
    """Ours against the baselines named in ``specs`` ("minimal", "same"), interleaved.

    A same-schema baseline that cannot be prepared (the schema changing under it) leaves
    its row "error" and the other rows measured.
    """
    from queue_quota.storage import PostgresStorage

    ours_schema, raw_schema, min_schema = ctx.new_schema(), ctx.new_schema(), ctx.new_schema()
    storage = PostgresStorage(
        _with_option(conninfo, "track_functions=pl"),
        schema=ours_schema,
        min_size=1,
        max_size=1,
    )
    raw: RawBooker | None = None
    minimal: MinimalPostgres | None = None
    server: dict[str, float] = {}
    failed: dict[str, str] = {}
    try:
        sched = qq.Scheduler(make_office("tegal", UNLIMITED), storage, secret=SECRET)
        book = sched.book
        ids = citizen_ids("3328")

        def ours(n: int) -> float:
            batch = list(itertools.islice(ids, n))
            t0 = time.perf_counter()
            for citizen in batch:
                book("online", citizen, now=NOW)
            return time.perf_counter() - t0

        baselines: dict[str, Runner] = {}
        if "minimal" in specs:
            minimal = MinimalPostgres(conninfo, min_schema, UNLIMITED)
            baselines["minimal"] = minimal.run
        if "same" in specs:
            try:
                prepare_raw_schema(conninfo, raw_schema)
                raw = RawBooker(conninfo, raw_schema)
                raw.window(1)
            except Exception as exc:  # the other rows still run
                failed["same"] = f"{type(exc).__name__}: {exc}"
            else:
                booker = raw

                def same(n: int) -> float:
                    t0, t1 = booker.window(n)
                    return t1 - t0

                baselines["same"] = same
        cmps = interleave_many(ours, baselines, reps=ctx.reps, seconds=ctx.seconds)
    finally:
        storage.close()
        for conn in (raw, minimal):
            if conn is not None:
                conn.close()
        try:
            server = _server_function_ms(conninfo, ours_schema)
        finally:
            for schema in (ours_schema, raw_schema, min_schema):
                ctx.drop_schema(schema)
    inside = (
        f" Server time inside qq_reserve: {server['qq_reserve']:.2f} ms per call on average "
        "(pg_stat_user_functions with track_functions=pl, warm-up included; the commit "
        "comes after it)."
        if "qq_reserve" in server
        else ""
    )
    out = []
    for kind, spec in specs.items():
        if kind in failed:
            out.append(spec.failed(failed[kind]))
            continue
        cmp = cmps[kind]
        out.append(
            spec.result(
                ours=fmt_time(cmp.ours_median),
                baseline=fmt_time(cmp.baseline_median),
                ratio=cmp.ratio,
                how=f"{cmp.describe()}{inside} {note}".strip(),
                data=cmp.data() | {"server_function_ms": server},
            )
        )
    return out


class HotDayWorker:
    """One of the processes of the hot-day row (built in the child by `ProcessGroup`)."""

    def __init__(self, index: int, conninfo: str, ours_schema: str, raw_schema: str) -> None:
        from queue_quota.storage import PostgresStorage

        self._storage = PostgresStorage(conninfo, schema=ours_schema, min_size=1, max_size=1)
        self._sched = qq.Scheduler(make_office("tegal", UNLIMITED), self._storage, secret=SECRET)
        self._raw = RawBooker(conninfo, raw_schema)
        self._ids = citizen_ids(f"{index:02d}")
        self._index = index
        self._sched.book("online", next(self._ids), now=NOW)  # connect, prepare
        self._raw.window(1)

    def __call__(self, command: str, n: int) -> Any:
        if command == "base":
            return self._raw.window(n)
        if command == "ours":
            book = self._sched.book
            batch = list(itertools.islice(self._ids, n))
            t0 = time.perf_counter()
            for citizen in batch:
                book("online", citizen, now=NOW)
            return t0, time.perf_counter()
        if command == "fill":
            return self._fill(n)
        raise ValueError(command)

    def _fill(self, capacity: int) -> tuple[int, list[int]]:
        """Book the capacity-limited hot day until refused; (accepted, numbers)."""
        sched = qq.Scheduler(make_office("tegal-hot", capacity), self._storage, secret=SECRET)
        day = first_day()
        numbers: list[int] = []
        ids = citizen_ids(f"f{self._index:02d}")
        while True:
            try:
                b = sched.book("online", next(ids), now=NOW, preferred_date=day)
            except qq.QuotaExhausted:
                return len(numbers), numbers
            numbers.append(b.number)

    def close(self) -> None:
        """Release the connections."""
        self._storage.close()
        self._raw.close()


def _count_hot_day(conninfo: str, schema: str, day: date) -> tuple[int, int, int | None]:
    """(active bookings, distinct numbers, counter) of the hot day, read straight from SQL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT count(*), count(DISTINCT number) FROM {}.qq_booking "
                "WHERE office_id = 'tegal-hot' AND day = %s AND status IN ('booked', 'checked_in')"
            ).format(sql.Identifier(schema)),
            (day,),
        ).fetchone()
        counter = conn.execute(
            sql.SQL(
                "SELECT booked FROM {}.qq_day WHERE office_id = 'tegal-hot' AND day = %s"
                if counter_table(conn, schema) == "qq_day"
                else "SELECT used FROM {}.qq_counter "
                "WHERE office_id = 'tegal-hot' AND scope = 'c:online' AND day = %s"
            ).format(sql.Identifier(schema)),
            (day,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), None if counter is None else int(counter[0])


def run_hot(ctx: Context) -> list[Result]:
    """Eight processes on one hot day, then the overbooking check."""
    return [_hot(ctx, HOT, ctx.postgres())]


def _hot(ctx: Context, spec: RowSpec, conninfo: str, note: str = "") -> Result:
    """``PROCESSES`` processes on one hot day over ``conninfo``, then the overbooking check."""
    ours_schema, raw_schema = ctx.new_schema(), ctx.new_schema()
    group: ProcessGroup | None = None
    try:
        from queue_quota.storage import PostgresStorage

        storage = PostgresStorage(conninfo, schema=ours_schema, min_size=0, max_size=1)
        storage.migrate()
        storage.close()
        prepare_raw_schema(conninfo, raw_schema)
        ctx.log(f"starting {PROCESSES} worker processes")
        group = ProcessGroup(PROCESSES, HotDayWorker, (conninfo, ours_schema, raw_schema))
        workers = group

        def runner(command: str) -> Any:
            def run(n: int) -> float:
                each = max(1, -(-n // PROCESSES))
                windows = workers.run(command, each)
                wall = max(t1 for _, t1 in windows) - min(t0 for t0, _ in windows)
                return float(wall * n / (each * PROCESSES))

            return run

        cmp = interleave(
            runner("ours"), runner("base"), reps=ctx.reps, seconds=max(0.1, ctx.seconds * 1.5)
        )
        capacity = ctx.scale(800, 200)
        fills = group.run("fill", capacity)
        accepted = sum(count for count, _ in fills)
        rows, distinct, counter = _count_hot_day(conninfo, ours_schema, first_day())
    finally:
        if group is not None:
            group.close()
        ctx.drop_schema(ours_schema)
        ctx.drop_schema(raw_schema)
    overbooked = max(0, rows - capacity)
    duplicates = rows - distinct
    check = (
        f"Overbooking check: {PROCESSES} processes booked a {capacity}-place day until "
        f"refused: {accepted} accepted, {rows} active rows, counter {counter}, "
        f"{overbooked} overbooked, {duplicates} duplicate numbers."
    )
    return spec.result(
        ours=f"{fmt_time(cmp.ours_median)}, {overbooked} overbooked",
        baseline=fmt_time(cmp.baseline_median),
        ratio=cmp.ratio,
        how=f"{cmp.describe()} {check} {note}".strip(),
        data=cmp.data()
        | {
            "capacity": capacity,
            "accepted": accepted,
            "active_rows": rows,
            "counter": counter,
            "overbooked": overbooked,
            "duplicate_numbers": duplicates,
        },
        also_ok=overbooked == 0 and duplicates == 0 and accepted == capacity == counter,
    )


# -- over an emulated network ------------------------------------------------------------------


def _upstream(conninfo: str) -> tuple[str, int] | str:
    """Where the proxy forwards to: the server's (host, port), or its unix socket path."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    host = str(params.get("hostaddr") or params.get("host") or os.environ.get("PGHOST") or "")
    host = host.split(",")[0] or "/var/run/postgresql"  # libpq's default socket directory
    port = int(str(params.get("port") or os.environ.get("PGPORT") or 5432).split(",")[0])
    return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)


def _through(conninfo: str, host: str, port: int) -> str:
    """``conninfo`` connecting to ``host:port`` over TCP instead (the rest kept)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(conninfo)
    params.pop("hostaddr", None)
    params.update(host=host, port=str(port))
    return make_conninfo("", **params)


def _round_trip(conninfo: str, n: int = 50) -> float:
    """Median seconds of a ``SELECT 1`` round trip on one connection."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT 1")
        times: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _rtt_spec(ctx: Context, spec: RowSpec) -> RowSpec:
    """``spec`` with the run's RTT in its operation."""
    return dataclasses.replace(
        spec, operation=spec.operation.replace("1 ms RTT", f"{ctx.rtt_ms:g} ms RTT")
    )


@contextlib.contextmanager
def _emulated_network(ctx: Context) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """A latency proxy in front of the server: (conninfo through it, a note, its numbers)."""
    from benchmarks._latency_proxy import spawn

    if ctx.rtt_ms <= 0:
        raise Skip("--rtt-ms 0")
    direct = ctx.postgres_tcp()
    delay = ctx.rtt_ms / 2000
    ctx.log(f"starting a latency proxy ({ctx.rtt_ms:g} ms RTT)")
    with spawn(_upstream(direct), delay) as proxy:
        via = _through(direct, proxy.host, proxy.port)
        proxied, plain = _round_trip(via), _round_trip(direct)
        note = (
            f"Emulated RTT {ctx.rtt_ms:g} ms ({delay * 1e3:g} ms each way); a SELECT 1 round "
            f"trip took {fmt_time(proxied)} through the proxy, {fmt_time(plain)} without it "
            "(medians of 50)."
        )
        yield via, note, {"rtt_ms": ctx.rtt_ms, "select1_proxy_s": proxied, "select1_s": plain}


def run_one_rtt(ctx: Context) -> list[Result]:
    """One connection, every round trip through the latency proxy."""
    with _emulated_network(ctx) as (via, note, numbers):
        (result,) = _one(ctx, {"same": _rtt_spec(ctx, ONE_RTT)}, via, note)
    result.data |= numbers
    return [result]


def run_hot_rtt(ctx: Context) -> list[Result]:
    """Eight processes on one hot day, every connection through the latency proxy."""
    with _emulated_network(ctx) as (via, note, numbers):
        result = _hot(ctx, _rtt_spec(ctx, HOT_RTT), via, note)
    result.data |= numbers
    return [result]


BENCHES = [
    Bench(
        "book.postgres.1conn",
        (ONE_MIN, ONE, ONE_NOSYNC),
        run_one,
        frozenset({"book", "postgres"}),
        postgres=True,
    ),
    Bench("book.postgres.8proc", (HOT,), run_hot, frozenset({"book", "postgres"}), postgres=True),
    Bench(
        "book.postgres.rtt.1conn",
        (ONE_RTT,),
        run_one_rtt,
        frozenset({"book", "postgres", "rtt"}),
        postgres=True,
    ),
    Bench(
        "book.postgres.rtt.8proc",
        (HOT_RTT,),
        run_hot_rtt,
        frozenset({"book", "postgres", "rtt"}),
        postgres=True,
    ),
]
