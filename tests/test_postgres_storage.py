"""`PostgresStorage` against a real PostgreSQL server (a throwaway cluster by default)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import queue_quota as qq
from _postgres_server import drop_schema, pg_storage, postgres_conninfo, unique_schema
from conftest import SECRET
from queue_quota.errors import (
    AlreadyBooked,
    BookingNotFound,
    ConfigurationError,
    InvalidTransition,
    QuotaExhausted,
    StorageError,
)
from queue_quota.models import Booking, BookingStatus, Reservation, Slot
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage.base import ChannelMove, Storage

psycopg = pytest.importorskip("psycopg")
psycopg_pool = pytest.importorskip("psycopg_pool")
from psycopg import sql  # noqa: E402
from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: E402

from queue_quota.storage.postgres import PostgresStorage  # noqa: E402

__all__ = ["pg_storage", "postgres_conninfo"]  # fixtures, re-exported for pytest

pytestmark = pytest.mark.postgres

WIB = ZoneInfo("Asia/Jakarta")
THU = datetime(2020, 6, 4, 9, 0, tzinfo=WIB)  # Thursday 4 June 2020
FRI, MON, TUE, WED = date(2020, 6, 5), date(2020, 6, 8), date(2020, 6, 9), date(2020, 6, 10)
TODAY = date(2020, 6, 4)
OFFICE = "tegal-disdukcapil"
SRC = str(Path(qq.__file__).resolve().parent.parent)


def reservation(
    slots: list[Slot],
    *,
    citizen: str | None = None,
    key: str | None = None,
    per_citizen: int | None = 1,
    channel: str = "online",
    booking_id: str | None = None,
) -> Reservation:
    """A reservation as the Scheduler would build it."""
    bid = booking_id or uuid.uuid4().hex[:16].upper()
    return Reservation(
        office_id=OFFICE,
        channel=channel,
        slots=slots,
        booking_id=bid,
        ticket=f"ticket-{bid}",
        prefix="A" if channel == "online" else "B",
        citizen_ref=citizen,
        per_citizen=per_citizen,
        today=TODAY,
        created_at=datetime(2020, 6, 4, 2, 0, tzinfo=UTC),
        idempotency_key=key,
    )


def storage_on(conninfo: str, schema: str, **kwargs: Any) -> PostgresStorage:
    """A second storage on the same schema (another 'process')."""
    return PostgresStorage(conninfo, schema=schema, **kwargs)


@pytest.fixture
def schema(postgres_conninfo: str) -> Iterator[str]:
    """A fresh schema name, dropped after the test."""
    name = unique_schema()
    yield name
    drop_schema(postgres_conninfo, name)


def fetch(conninfo: str, query: sql.Composable | str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one query on a fresh autocommit connection."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.execute(query, params or None)
        return cur.fetchall() if cur.description else []


def in_threads(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run ``fn(i)`` in ``n`` threads released together; results (or exceptions) in order."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fn(i)
        except Exception as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


# -- configuration and the driver ------------------------------------------------------------


def test_importing_queue_quota_does_not_import_psycopg() -> None:
    """psycopg is loaded only when PostgresStorage is used."""
    code = (
        "import sys, queue_quota, queue_quota.storage as s; "
        "assert 'psycopg' not in sys.modules and 'psycopg_pool' not in sys.modules; "
        "s.PostgresStorage; assert 'psycopg' in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_missing_driver_is_a_configuration_error() -> None:
    """Without psycopg, constructing the storage says which extra to install."""
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from queue_quota.storage import PostgresStorage\n"
        "from queue_quota.errors import ConfigurationError\n"
        "try:\n    PostgresStorage('dbname=x')\n"
        "except ConfigurationError as e:\n    print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "pip install 'queue-quota[postgres]'" in res.stdout


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "Public",
        "1abc",
        "a-b",
        "a b",
        'x"; DROP SCHEMA public CASCADE; --',
        "qq'); DROP TABLE x; --",
        "a" * 64,
        "caf\u00e9",
        None,
    ],
)
def test_schema_name_injection_refused(bad: Any, postgres_conninfo: str) -> None:
    """A schema name outside ^[a-z_][a-z0-9_]{0,62}$ is refused before any connection."""
    before = fetch(postgres_conninfo, "SELECT count(*) FROM pg_namespace")
    with pytest.raises(ConfigurationError, match="schema"):
        PostgresStorage(postgres_conninfo, schema=bad)
    assert fetch(postgres_conninfo, "SELECT count(*) FROM pg_namespace") == before


def test_reserved_word_schema_is_quoted(postgres_conninfo: str) -> None:
    """A valid name that is an SQL keyword works because it is quoted as an identifier."""
    storage = PostgresStorage(postgres_conninfo, schema="select")
    try:
        b = storage.reserve(reservation([Slot(FRI, 2)], citizen="c1"))
        assert (b.day, b.number) == (FRI, 1)
        assert fetch(postgres_conninfo, 'SELECT count(*) FROM "select".qq_booking') == [(1,)]
    finally:
        storage.close()
        drop_schema(postgres_conninfo, "select")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_size": -1}, "min_size"),
        ({"max_size": 0}, "max_size"),
        ({"min_size": 5, "max_size": 2}, "exceeds"),
        ({"timeout": 0}, "timeout"),
        ({"max_attempts": 0}, "max_attempts"),
    ],
)
def test_bad_arguments_refused(kwargs: dict[str, Any], match: str) -> None:
    """Bad pool arguments are a ConfigurationError at construction."""
    with pytest.raises(ConfigurationError, match=match):
        PostgresStorage("dbname=x", **kwargs)


def test_bad_conninfo_syntax_and_type_refused() -> None:
    """Malformed conninfo and objects that are neither string nor pool are refused."""
    with pytest.raises(ConfigurationError, match="conninfo"):
        PostgresStorage("this is not a conninfo")
    with pytest.raises(ConfigurationError, match="ConnectionPool"):
        PostgresStorage(42)  # type: ignore[arg-type]


def test_unreachable_server_is_a_storage_error() -> None:
    """Nothing listening: StorageError chaining the driver's OperationalError."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connection refused
        storage = PostgresStorage(f"host=127.0.0.1 port={port} user=x connect_timeout=2")
        with pytest.raises(StorageError, match="cannot use PostgreSQL") as err:
            storage.migrate()
    assert isinstance(err.value.__cause__, psycopg.OperationalError)


def test_unknown_database_is_a_storage_error(postgres_conninfo: str) -> None:
    """A server that refuses the login (unknown database) is a StorageError, not a crash."""
    bad = make_conninfo(postgres_conninfo, dbname="no_such_database_qq")
    storage = PostgresStorage(bad, schema=unique_schema())
    with pytest.raises(StorageError, match="no_such_database_qq"):
        storage.get(OFFICE, "X")


def test_driver_errors_are_wrapped(postgres_conninfo: str, schema: str) -> None:
    """A schema dropped under the storage's feet: StorageError with the driver error as cause."""
    storage = storage_on(postgres_conninfo, schema)
    try:
        storage.migrate()
        drop_schema(postgres_conninfo, schema)
        with pytest.raises(StorageError) as err:
            storage.get(OFFICE, "ABC")
        assert isinstance(err.value.__cause__, psycopg.Error)
    finally:
        storage.close()


def test_closed_storage_refuses(postgres_conninfo: str, schema: str) -> None:
    """After close() every call is a StorageError and the owned pool is closed."""
    storage = storage_on(postgres_conninfo, schema)
    storage.migrate()
    pool = storage._pool
    assert pool is not None
    assert not pool.closed
    storage.close()
    assert pool.closed
    with pytest.raises(StorageError, match="closed"):
        storage.reserve(reservation([Slot(FRI, 1)]))


def test_shared_pool_with_transactions_works(postgres_conninfo: str, schema: str) -> None:
    """A pool passed in, with non-autocommit connections, gets the same semantics."""
    with psycopg_pool.ConnectionPool(postgres_conninfo, min_size=1, max_size=2) as pool:
        storage = PostgresStorage(pool, schema=schema)
        assert isinstance(storage, Storage)
        b = storage.reserve(reservation([Slot(FRI, 1)], citizen="c1", key="k"))
        assert storage.reserve(reservation([Slot(FRI, 1)], citizen="c1", key="k")) == b
        with pytest.raises(AlreadyBooked):
            storage.reserve(reservation([Slot(MON, 1)], citizen="c1"))
        with pytest.raises(QuotaExhausted):
            storage.reserve(reservation([Slot(FRI, 1)], citizen="c2"))
        assert storage.cancel(OFFICE, b.id, not_before=TODAY).status is BookingStatus.CANCELLED
        assert storage.reserve(reservation([Slot(FRI, 1)], citizen="c2")).number == 2
        with pool.connection() as conn:
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_shared_pool_not_closed(postgres_conninfo: str, schema: str) -> None:
    """close() leaves a caller's pool open and usable."""
    with psycopg_pool.ConnectionPool(postgres_conninfo, min_size=1, max_size=2) as pool:
        storage = PostgresStorage(pool, schema=schema)
        b = storage.reserve(reservation([Slot(FRI, 3)], citizen="c1"))
        storage.close()
        assert not pool.closed
        with pool.connection() as conn:
            q = sql.SQL("SELECT number FROM {}.qq_booking WHERE id = %s").format(
                sql.Identifier(schema)
            )
            assert conn.execute(q, (b.id,)).fetchone() == (1,)


def test_migrate_is_idempotent_and_versioned(postgres_conninfo: str, schema: str) -> None:
    """migrate() twice is harmless; one version row; a newer schema is refused."""
    s1 = storage_on(postgres_conninfo, schema)
    s1.migrate()
    s1.migrate()
    s1.close()
    meta = sql.SQL("SELECT key, value FROM {}.qq_meta ORDER BY key").format(sql.Identifier(schema))
    rows = dict(fetch(postgres_conninfo, meta))
    assert rows["schema_version"] == "4"
    bump = sql.SQL("UPDATE {}.qq_meta SET value = '99' WHERE key = 'schema_version'").format(
        sql.Identifier(schema)
    )
    fetch(postgres_conninfo, bump)
    s2 = storage_on(postgres_conninfo, schema)
    with pytest.raises(StorageError, match="upgrade queue_quota"):
        s2.migrate()


_MIGRATE_SCRIPT = """
import sys
from queue_quota.storage.postgres import PostgresStorage
s = PostgresStorage(sys.argv[1], schema=sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
s.migrate()
print("done", flush=True)
s.close()
"""


def test_concurrent_migrate_from_processes(postgres_conninfo: str, schema: str) -> None:
    """Six processes creating the same schema at once all succeed; it is created once."""
    env = {**os.environ, "PYTHONPATH": SRC}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE_SCRIPT, postgres_conninfo, schema],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(6)
    ]
    for p in procs:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
    for p in procs:  # release them together
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [err for _, err in results]
    assert all(out.strip() == "done" for out, _ in results)
    funcs = fetch(
        postgres_conninfo,
        "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = %s",
        schema,
    )
    assert funcs == [(0,)]  # no server functions: the rules are the engine's
    tables = fetch(
        postgres_conninfo,
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1",
        schema,
    )
    assert [t for (t,) in tables] == [
        "qq_booking",
        "qq_closure",
        "qq_counter",
        "qq_event",
        "qq_meta",
        "qq_office_meta",
        "qq_secret",
        "qq_state",
    ]
    meta = sql.SQL("SELECT count(*) FROM {}.qq_meta WHERE key = 'schema_version'")
    assert fetch(postgres_conninfo, meta.format(sql.Identifier(schema))) == [(1,)]


def test_schemas_are_isolated(postgres_conninfo: str, schema: str) -> None:
    """Two schemas in one database hold separate bookings and counters."""
    other = unique_schema()
    a, b = storage_on(postgres_conninfo, schema), storage_on(postgres_conninfo, other)
    try:
        a.reserve(reservation([Slot(FRI, 1)]))
        assert b.reserve(reservation([Slot(FRI, 1)])).number == 1
        assert a.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}
    finally:
        a.close()
        b.close()
        drop_schema(postgres_conninfo, other)


# -- Storage semantics ------------------------------------------------------------------------


def test_reserve_first_slot_with_room(pg_storage: PostgresStorage) -> None:
    """Places go to the first slot with room, numbered from 1 per day, labelled A-00n."""
    slots = [Slot(FRI, 2), Slot(MON, 2)]
    got = [pg_storage.reserve(reservation(slots, citizen=f"c{i}")) for i in range(4)]
    assert [(b.day, b.number, b.label) for b in got] == [
        (FRI, 1, "A-001"),
        (FRI, 2, "A-002"),
        (MON, 1, "A-001"),
        (MON, 2, "A-002"),
    ]
    with pytest.raises(QuotaExhausted) as err:
        pg_storage.reserve(reservation(slots, citizen="c9"))
    assert err.value.channel == "online"
    assert pg_storage.booked_counts(OFFICE, "online", FRI, WED) == {FRI: 2, MON: 2}


def test_booking_round_trips(pg_storage: PostgresStorage) -> None:
    """What reserve returns is what get, find_by_key and bookings_on return (UTC, dates)."""
    b = pg_storage.reserve(reservation([Slot(FRI, 5)], citizen="c1", key="key-1"))
    assert b.created_at == datetime(2020, 6, 4, 2, 0, tzinfo=UTC)
    assert b.created_at.utcoffset() == timedelta(0)
    assert type(b.day) is date
    assert b.status is BookingStatus.BOOKED
    assert pg_storage.get(OFFICE, b.id) == b
    assert pg_storage.find_by_key(OFFICE, "key-1") == b
    assert pg_storage.find_by_key(OFFICE, "other") is None
    assert pg_storage.bookings_on(OFFICE, FRI) == [b]
    with pytest.raises(BookingNotFound):
        pg_storage.get(OFFICE, "NOPE")
    with pytest.raises(BookingNotFound):
        pg_storage.get("another-office", b.id)


def test_numbers_beyond_999_keep_all_digits(pg_storage: PostgresStorage) -> None:
    """Label formatting matches Python's f'{n:03d}' on the server side, also past 999."""
    day_key = sql.SQL("UPDATE {}.qq_counter SET last = 999").format(
        sql.Identifier(pg_storage.schema)
    )
    pg_storage.reserve(reservation([Slot(FRI, 5000)], per_citizen=None))
    with psycopg.connect(pg_storage._conninfo or "", autocommit=True) as conn:
        conn.execute(day_key)
    b = pg_storage.reserve(reservation([Slot(FRI, 5000)], per_citizen=None))
    assert (b.number, b.label) == (1000, "A-1000")


def test_idempotency_key_first_then_limit(pg_storage: PostgresStorage) -> None:
    """A used key returns its booking even when the day is full; a new key hits the limit."""
    b = pg_storage.reserve(reservation([Slot(FRI, 1)], citizen="c1", key="k1"))
    again = pg_storage.reserve(reservation([Slot(FRI, 1)], citizen="c1", key="k1"))
    assert again == b
    with pytest.raises(AlreadyBooked) as err:
        pg_storage.reserve(reservation([Slot(MON, 1)], citizen="c1", key="k2"))
    assert err.value.limit == 1
    assert err.value.channel == "online"
    assert pg_storage.booked_counts(OFFICE, "online", FRI, WED) == {FRI: 1}


def test_per_citizen_limit_counts_active_today_or_later(pg_storage: PostgresStorage) -> None:
    """Limit 2: a third active booking is refused; cancelling one frees the limit."""
    slots = [Slot(FRI, 10)]
    b1 = pg_storage.reserve(reservation(slots, citizen="c1", per_citizen=2))
    pg_storage.reserve(reservation(slots, citizen="c1", per_citizen=2))
    with pytest.raises(AlreadyBooked):
        pg_storage.reserve(reservation(slots, citizen="c1", per_citizen=2))
    pg_storage.cancel(OFFICE, b1.id, not_before=TODAY)
    assert pg_storage.reserve(reservation(slots, citizen="c1", per_citizen=2)).number == 3


def test_anonymous_and_unlimited(pg_storage: PostgresStorage) -> None:
    """No citizen (walk-in) or no limit: only capacity counts."""
    slots = [Slot(TODAY, 3)]
    got = [
        pg_storage.reserve(reservation(slots, citizen=None, channel="walk_in")) for _ in range(3)
    ]
    assert [b.label for b in got] == ["B-001", "B-002", "B-003"]
    assert all(b.citizen_ref is None for b in got)
    with pytest.raises(QuotaExhausted):
        pg_storage.reserve(reservation(slots, channel="walk_in"))


def test_skips_zero_capacity_and_closed_days(pg_storage: PostgresStorage) -> None:
    """A slot of capacity 0 or a day closed at run time is never booked."""
    pg_storage.close_day(OFFICE, MON, "flood", {}, now=datetime.now(UTC))
    b = pg_storage.reserve(reservation([Slot(FRI, 0), Slot(MON, 5), Slot(TUE, 5)]))
    assert b.day == TUE
    with pytest.raises(QuotaExhausted):
        pg_storage.reserve(reservation([]))


def test_duplicate_booking_id_refused(pg_storage: PostgresStorage) -> None:
    """Reusing a booking id is InvalidTransition("duplicate_id"), and nothing is written."""
    pg_storage.reserve(reservation([Slot(FRI, 5)], booking_id="SAMEID"))
    with pytest.raises(InvalidTransition) as err:
        pg_storage.reserve(reservation([Slot(FRI, 5)], booking_id="SAMEID"))
    assert (err.value.reason, err.value.status, err.value.day) == ("duplicate_id", None, None)
    assert pg_storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}


def test_cancel_rules(pg_storage: PostgresStorage) -> None:
    """Cancel frees the place once; past days, second cancels and unknown ids are refused."""
    b = pg_storage.reserve(reservation([Slot(FRI, 1)], citizen="c1"))
    with pytest.raises(InvalidTransition, match="past day"):
        pg_storage.cancel(OFFICE, b.id, not_before=MON)
    c = pg_storage.cancel(OFFICE, b.id, not_before=TODAY)
    assert c.status is BookingStatus.CANCELLED
    assert c.number == b.number
    assert pg_storage.booked_counts(OFFICE, "online", FRI, MON) == {}
    with pytest.raises(InvalidTransition, match="cancelled"):
        pg_storage.cancel(OFFICE, b.id, not_before=TODAY)
    with pytest.raises(BookingNotFound, match="no such booking"):
        pg_storage.cancel(OFFICE, "NOPE", not_before=TODAY)
    assert pg_storage.bookings_on(OFFICE, FRI) == []
    assert pg_storage.bookings_on(OFFICE, FRI, include_cancelled=True) == [c]


def test_numbers_never_reused(pg_storage: PostgresStorage) -> None:
    """After cancelling the last number and moving one away, new bookings get fresh numbers."""
    slots = [Slot(FRI, 3)]
    b1, _b2, b3 = (pg_storage.reserve(reservation(slots)) for _ in range(3))
    pg_storage.cancel(OFFICE, b3.id, not_before=TODAY)
    moved = pg_storage.move(OFFICE, b1.id, [Slot(FRI, 3), Slot(MON, 3)], prefix="A")
    assert (moved.id, moved.day, moved.number) == (b1.id, MON, 1)
    n4 = pg_storage.reserve(reservation(slots))
    n5 = pg_storage.reserve(reservation(slots))
    assert (n4.number, n5.number) == (4, 5)
    assert [b.number for b in pg_storage.bookings_on(OFFICE, FRI, include_cancelled=True)] == [
        2,
        3,
        4,
        5,
    ]
    assert pg_storage.booked_counts(OFFICE, "online", FRI, TUE) == {FRI: 3, MON: 1}


def test_check_in_rules(pg_storage: PostgresStorage) -> None:
    """Check-in only on the booking's day and only once."""
    b = pg_storage.reserve(reservation([Slot(FRI, 1)], citizen="c1"))
    with pytest.raises(InvalidTransition, match="not today"):
        pg_storage.check_in(OFFICE, b.id, today=TODAY)
    c = pg_storage.check_in(OFFICE, b.id, today=FRI)
    assert c.status is BookingStatus.CHECKED_IN
    with pytest.raises(InvalidTransition, match="checked_in"):
        pg_storage.check_in(OFFICE, b.id, today=FRI)
    with pytest.raises(InvalidTransition):
        pg_storage.cancel(OFFICE, b.id, not_before=TODAY)
    with pytest.raises(BookingNotFound):
        pg_storage.check_in(OFFICE, "NOPE", today=FRI)
    assert pg_storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}


def test_move_full_changes_nothing(pg_storage: PostgresStorage) -> None:
    """A move with no room raises QuotaExhausted and leaves booking and counters as they were."""
    b = pg_storage.reserve(reservation([Slot(FRI, 1)]))
    pg_storage.reserve(reservation([Slot(MON, 1)]))
    with pytest.raises(QuotaExhausted):
        pg_storage.move(OFFICE, b.id, [Slot(FRI, 1), Slot(MON, 1)], prefix="A")
    assert pg_storage.get(OFFICE, b.id) == b
    assert pg_storage.booked_counts(OFFICE, "online", FRI, TUE) == {FRI: 1, MON: 1}
    cancelled = pg_storage.cancel(OFFICE, b.id, not_before=TODAY)
    with pytest.raises(InvalidTransition, match="move"):
        pg_storage.move(OFFICE, cancelled.id, [Slot(TUE, 1)], prefix="A")


def test_close_day_moves_in_channel_then_number_order(pg_storage: PostgresStorage) -> None:
    """Closing a day moves its BOOKED bookings channel by channel, in number order."""
    on = [pg_storage.reserve(reservation([Slot(FRI, 5)])) for _ in range(3)]
    walk = pg_storage.reserve(reservation([Slot(FRI, 5)], channel="walk_in"))
    checked = pg_storage.check_in(OFFICE, on[2].id, today=FRI)
    cancelled = pg_storage.cancel(OFFICE, on[1].id, not_before=TODAY)
    moves = {
        "walk_in": ChannelMove("B", (Slot(MON, 9),)),
        "online": ChannelMove("A", (Slot(MON, 1), Slot(TUE, 9))),
    }
    pg_storage.reserve(reservation([Slot(MON, 1)]))  # Monday's online place is taken
    moved = pg_storage.close_day(OFFICE, FRI, "power cut", moves, now=datetime.now(UTC))
    assert [(b.id, b.channel, b.day, b.number, b.label) for b in moved] == [
        (walk.id, "walk_in", MON, 1, "B-001"),
        (on[0].id, "online", TUE, 1, "A-001"),
    ]
    assert pg_storage.closures(OFFICE) == {FRI: "power cut"}
    assert pg_storage.get(OFFICE, checked.id).day == FRI  # checked in: stays
    assert pg_storage.get(OFFICE, cancelled.id) == cancelled
    assert pg_storage.close_day(OFFICE, FRI, "again", moves, now=datetime.now(UTC)) == []
    assert pg_storage.booked_counts(OFFICE, "online", FRI, WED) == {FRI: 1, MON: 1, TUE: 1}


def test_close_day_rolls_back_when_bookings_do_not_fit(pg_storage: PostgresStorage) -> None:
    """If one booking cannot be placed, nothing is written: no closure, nothing moved."""
    booked = [pg_storage.reserve(reservation([Slot(FRI, 3)])) for _ in range(3)]
    moves = {"online": ChannelMove("A", (Slot(MON, 1), Slot(TUE, 1)))}
    with pytest.raises(QuotaExhausted):
        pg_storage.close_day(OFFICE, FRI, "flood", moves, now=datetime.now(UTC))
    assert pg_storage.closures(OFFICE) == {}
    assert pg_storage.bookings_on(OFFICE, FRI) == booked
    assert pg_storage.booked_counts(OFFICE, "online", FRI, WED) == {FRI: 3}
    assert pg_storage.reserve(reservation([Slot(MON, 1)])).number == 1  # Monday untouched


def test_constraints_are_a_backstop(pg_storage: PostgresStorage) -> None:
    """The database itself refuses a negative counter, a number or key given twice, an
    unknown status and a booking of no places."""
    b = pg_storage.reserve(reservation([Slot(FRI, 1)], key="k1"))
    s = sql.Identifier(pg_storage.schema)
    copy = sql.SQL(
        "INSERT INTO {}.qq_booking (id, office_id, channel, day, number, label, status,"
        " citizen_ref, created_at, ticket, idempotency_key) SELECT 'OTHER', office_id, channel,"
        " day, number + %s, label, status, citizen_ref, created_at, ticket, %s"
        " FROM {}.qq_booking WHERE id = %s"
    ).format(s, s)
    with psycopg.connect(pg_storage._conninfo or "", autocommit=True) as conn:
        for column in ("used", "last"):
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(sql.SQL("UPDATE {}.qq_counter SET " + column + " = -1").format(s))
        with pytest.raises(psycopg.errors.UniqueViolation, match="qq_booking_number"):
            conn.execute(copy, (0, None, b.id))
        with pytest.raises(psycopg.errors.UniqueViolation, match="qq_booking_key"):
            conn.execute(copy, (1, "k1", b.id))
        conn.execute(copy, (1, None, b.id))  # another number, no key: fine
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(sql.SQL("UPDATE {}.qq_booking SET status = 'lost'").format(s))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(sql.SQL("UPDATE {}.qq_booking SET places = 0").format(s))


# -- concurrency ------------------------------------------------------------------------------


def test_hot_day_threads_never_overbook(pg_storage: PostgresStorage) -> None:
    """8 threads x 50 bookings on one day of capacity 100: exactly 100 places, numbers 1..100."""
    hot = [Slot(FRI, 100)]

    def worker(t: int) -> list[Booking | Exception]:
        out: list[Booking | Exception] = []
        for i in range(50):
            try:
                out.append(pg_storage.reserve(reservation(hot, citizen=f"t{t}-{i}")))
            except QuotaExhausted as exc:
                out.append(exc)
        return out

    results = [r for chunk in in_threads(8, worker) for r in chunk]
    booked = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, QuotaExhausted)]
    assert len(booked) == 100, Counter(type(r) for r in results)
    assert len(refused) == 300
    assert sorted(b.number for b in booked) == list(range(1, 101))
    assert len({b.id for b in booked}) == 100
    assert pg_storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 100}
    assert len(pg_storage.bookings_on(OFFICE, FRI)) == 100


def test_same_citizen_racing_gets_one_place(pg_storage: PostgresStorage) -> None:
    """Eight concurrent bookings of one citizen on different days: exactly one succeeds."""
    days = [FRI + timedelta(days=i) for i in range(8)]
    results = in_threads(
        8, lambda i: pg_storage.reserve(reservation([Slot(days[i], 5)], citizen="same"))
    )
    assert sum(isinstance(r, Booking) for r in results) == 1, results
    assert sum(isinstance(r, AlreadyBooked) for r in results) == 7
    assert sum(pg_storage.booked_counts(OFFICE, "online", FRI, FRI + timedelta(9)).values()) == 1


def test_same_key_racing_gets_one_booking(pg_storage: PostgresStorage) -> None:
    """Eight concurrent retries with one idempotency key all get the same single booking."""
    results = in_threads(
        8, lambda i: pg_storage.reserve(reservation([Slot(FRI, 50)], key="once", per_citizen=None))
    )
    assert all(isinstance(r, Booking) for r in results), results
    assert len({r.id for r in results}) == 1
    assert pg_storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}


def test_close_day_racing_reservations_strands_nobody(pg_storage: PostgresStorage) -> None:
    """Reservations racing a closure of their day end up moved or elsewhere, never stranded."""
    moves = {"online": ChannelMove("A", (Slot(MON, 100),))}

    def act(i: int) -> Any:
        if i == 0:
            return pg_storage.close_day(OFFICE, FRI, "storm", moves, now=datetime.now(UTC))
        return [
            pg_storage.reserve(reservation([Slot(FRI, 100), Slot(MON, 100)], per_citizen=None))
            for _ in range(10)
        ]

    results = in_threads(8, act)
    assert not any(isinstance(r, Exception) for r in results), results
    assert pg_storage.bookings_on(OFFICE, FRI) == []
    assert pg_storage.booked_counts(OFFICE, "online", FRI, TUE) == {MON: 70}
    assert sorted(b.number for b in pg_storage.bookings_on(OFFICE, MON)) == list(range(1, 71))


@pytest.mark.parametrize("state", ["40001", "40P01"])
def test_serialization_failures_and_deadlocks_are_retried(
    postgres_conninfo: str, schema: str, state: str
) -> None:
    """A transaction failing with 40001 or 40P01 (here raised by a trigger, once) is run
    again: the booking is made once, and counted as a retry."""
    storage = storage_on(postgres_conninfo, schema)
    try:
        storage.migrate()
        s = sql.Identifier(schema)
        with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SEQUENCE {}.fail_once").format(s))
            conn.execute(
                sql.SQL(
                    "CREATE FUNCTION {}.fail_once() RETURNS trigger LANGUAGE plpgsql AS $$"
                    " BEGIN IF nextval('{}.fail_once') = 1 THEN"
                    " RAISE EXCEPTION USING ERRCODE = '" + state + "'; END IF;"
                    " RETURN NEW; END $$"
                ).format(s, sql.SQL(schema))
            )
            conn.execute(
                sql.SQL(
                    "CREATE TRIGGER fail_once BEFORE INSERT ON {}.qq_booking"
                    " FOR EACH ROW EXECUTE FUNCTION {}.fail_once()"
                ).format(s, s)
            )
        b = storage.reserve(reservation([Slot(FRI, 10)], citizen="c1"))
        assert (b.day, b.number) == (FRI, 1)
        assert storage.retries == 1
        assert storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}
        assert [x.id for x in storage.bookings_on(OFFICE, FRI)] == [b.id]
    finally:
        storage.close()


def test_failures_that_persist_are_a_storage_error(postgres_conninfo: str, schema: str) -> None:
    """A transaction that keeps failing with 40001 is given up after max_attempts."""
    storage = storage_on(postgres_conninfo, schema, max_attempts=3)
    try:
        storage.migrate()
        s = sql.Identifier(schema)
        with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL(
                    "CREATE FUNCTION {}.fail() RETURNS trigger LANGUAGE plpgsql AS $$"
                    " BEGIN RAISE EXCEPTION USING ERRCODE = '40001'; END $$"
                ).format(s)
            )
            conn.execute(
                sql.SQL(
                    "CREATE TRIGGER fail BEFORE INSERT ON {}.qq_booking"
                    " FOR EACH ROW EXECUTE FUNCTION {}.fail()"
                ).format(s, s)
            )
        with pytest.raises(StorageError, match="3 attempts") as err:
            storage.reserve(reservation([Slot(FRI, 10)]))
        assert isinstance(err.value.__cause__, psycopg.errors.SerializationFailure)
        assert storage.retries == 3
        assert storage.booked_counts(OFFICE, "online", FRI, MON) == {}
    finally:
        storage.close()


@pytest.mark.parametrize("level", ["read\\ committed", "repeatable\\ read", "serializable"])
def test_any_default_isolation_level(postgres_conninfo: str, schema: str, level: str) -> None:
    """Whatever the server's default isolation, writes run at READ COMMITTED under the
    office's lock: 8 threads x 10 bookings on one day of 30 places give exactly 30, numbered
    1..30, and nothing had to be run again."""
    conninfo = make_conninfo(postgres_conninfo, options=f"-c default_transaction_isolation={level}")
    storage = storage_on(conninfo, schema, max_size=8)
    try:

        def book(t: int) -> list[Booking | Exception]:
            out: list[Booking | Exception] = []
            for i in range(10):
                try:
                    out.append(storage.reserve(reservation([Slot(FRI, 30)], citizen=f"{t}-{i}")))
                except QuotaExhausted as exc:
                    out.append(exc)
            return out

        results = [r for chunk in in_threads(8, book) for r in chunk]
        booked = [r for r in results if isinstance(r, Booking)]
        assert sorted(b.number for b in booked) == list(range(1, 31)), results
        assert storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 30}
        assert storage.retries == 0
    finally:
        storage.close()


# -- lost connections ---------------------------------------------------------------------------


class DroppingProxy:
    """A TCP proxy that, once armed, lets one matching request reach the server and then
    drops the connection instead of relaying the server's full answer (a lost reply)."""

    def __init__(self, conninfo: str) -> None:
        params = conninfo_to_dict(conninfo)
        host = str(params.get("host") or "/var/run/postgresql")
        port = int(params.get("port") or 5432)
        self._target: Any = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)
        self._family = socket.AF_UNIX if host.startswith("/") else socket.AF_INET
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._trigger: bytes | None = None
        self._times = 0
        self._lock = threading.Lock()
        self.tripped = threading.Event()
        self.conninfo = make_conninfo(
            conninfo,
            host="127.0.0.1",
            port=str(self._listener.getsockname()[1]),
            sslmode="disable",
            gssencmode="disable",
        )
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, trigger: bytes, times: int = 1) -> None:
        """Drop the replies to the next ``times`` requests containing ``trigger``."""
        with self._lock:
            self._trigger = trigger
            self._times = times

    def close(self) -> None:
        """Stop accepting connections."""
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.socket(self._family, socket.SOCK_STREAM)
            server.connect(self._target)
            drop = threading.Event()
            threading.Thread(target=self._up, args=(client, server, drop), daemon=True).start()
            threading.Thread(target=self._down, args=(client, server, drop), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, drop: threading.Event) -> None:
        try:
            while data := client.recv(65536):
                with self._lock:
                    if self._trigger is not None and self._trigger in data:
                        self._times -= 1
                        if self._times <= 0:
                            self._trigger = None
                        drop.set()
                server.sendall(data)
        except OSError:
            pass
        finally:
            _close(client, server)

    def _down(self, client: socket.socket, server: socket.socket, drop: threading.Event) -> None:
        held = b""
        try:
            while data := server.recv(65536):
                if not drop.is_set():
                    client.sendall(data)
                    continue
                held += data  # the server has answered: wait for ReadyForQuery (committed)
                if len(held) >= 6 and held[-6] == ord("Z") and held[-5:-1] == b"\0\0\0\x05":
                    self.tripped.set()
                    break
        except OSError:
            pass
        finally:
            _close(client, server)


def _close(*socks: socket.socket) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()


@pytest.fixture
def proxy(postgres_conninfo: str) -> Iterator[DroppingProxy]:
    """A proxy in front of the test server that can lose one reply."""
    p = DroppingProxy(postgres_conninfo)
    yield p
    p.close()


def test_lost_reply_to_reserve_does_not_duplicate(proxy: DroppingProxy, schema: str) -> None:
    """The reply to the booking's INSERT was lost (the connection dropped before COMMIT,
    so nothing was written): the operation runs again and books once."""
    storage = storage_on(proxy.conninfo, schema, max_size=2)
    try:
        storage.migrate()
        r = reservation([Slot(FRI, 5)], citizen="c1", booking_id="LOSTREPLY0000001")
        proxy.arm(r.booking_id.encode())  # matches the request's parameters, not its text
        b = storage.reserve(r)  # no idempotency key: the booking id makes it safe
        assert proxy.tripped.is_set()
        assert storage.retries >= 1
        assert b.id == r.booking_id
        assert b.number == 1
        assert storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}
        assert [x.id for x in storage.bookings_on(OFFICE, FRI)] == [b.id]
    finally:
        storage.close()


def test_committed_booking_is_not_an_error_when_retries_run_out(
    proxy: DroppingProxy, schema: str
) -> None:
    """The booking committed but the reply to its COMMIT was lost, and so was the reply to
    the COMMIT of the read that looked for it (max_attempts=2): the booking is returned,
    once, instead of an error."""
    storage = storage_on(proxy.conninfo, schema, max_size=2, max_attempts=2)
    try:
        storage.migrate()
        r = reservation([Slot(FRI, 5)], citizen="c1", booking_id="LOSTTWICE0000001")
        # The booking's COMMIT, then that of the read that looks for it.
        proxy.arm(b"COMMIT\0", times=2)
        b = storage.reserve(r)
        assert proxy.tripped.is_set()
        assert (b.id, b.number, b.day) == (r.booking_id, 1, FRI)
        assert storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}
    finally:
        storage.close()


def test_lost_reply_to_cancel_is_accepted(proxy: DroppingProxy, schema: str) -> None:
    """A cancellation whose reply was lost is not reported as 'already cancelled'."""
    storage = storage_on(proxy.conninfo, schema, max_size=2)
    try:
        b = storage.reserve(reservation([Slot(FRI, 5)]))
        proxy.arm(b.id.encode())
        c = storage.cancel(OFFICE, b.id, not_before=TODAY)
        assert proxy.tripped.is_set()
        assert c.status is BookingStatus.CANCELLED
        assert storage.booked_counts(OFFICE, "online", FRI, MON) == {}
    finally:
        storage.close()


def test_lost_commit_of_close_day_is_reported(proxy: DroppingProxy, schema: str) -> None:
    """A close_day whose COMMIT reply was lost raises StorageError rather than guessing."""
    storage = storage_on(proxy.conninfo, schema, max_size=2)
    try:
        storage.reserve(reservation([Slot(FRI, 5)]))
        proxy.arm(b"COMMIT\0")  # not "READ COMMITTED" in a BEGIN
        moves = {"online": ChannelMove("A", (Slot(MON, 5),))}
        with pytest.raises(StorageError, match="may or may not have been made"):
            storage.close_day(OFFICE, FRI, "flood", moves, now=datetime.now(UTC))
        assert proxy.tripped.is_set()
        assert storage.closures(OFFICE) == {FRI: "flood"}  # it had in fact committed
    finally:
        storage.close()


def test_connection_killed_before_work_is_retried(postgres_conninfo: str, schema: str) -> None:
    """Pooled connections terminated by the server are replaced and the call succeeds."""
    app = f"qq-kill-{uuid.uuid4().hex[:8]}"
    storage = storage_on(make_conninfo(postgres_conninfo, application_name=app), schema)
    try:
        b = storage.reserve(reservation([Slot(FRI, 5)]))
        killed = fetch(
            postgres_conninfo,
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
            "WHERE application_name = %s",
            app,
        )
        assert killed
        assert all(ok for (ok,) in killed)
        moved = storage.move(OFFICE, b.id, [Slot(MON, 5)], prefix="A")
        assert (moved.day, moved.number) == (MON, 1)
        assert storage.retries >= 1
        assert storage.booked_counts(OFFICE, "online", FRI, TUE) == {MON: 1}
    finally:
        storage.close()


# -- through the Scheduler -----------------------------------------------------------------------


def office(online: int = 20, walk_in: int = 40) -> qq.Office:
    """The Tegal office of the design document."""
    return qq.Office(
        id=OFFICE,
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[
            OnlineQuota(capacity=online, lead_days=1, horizon_days=60),
            WalkInQuota(capacity=walk_in, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


def test_scheduler_end_to_end(pg_storage: PostgresStorage) -> None:
    """Book, retry with a key, check in, reschedule, cancel and close a day via the Scheduler."""
    sched = qq.Scheduler(office(online=2), pg_storage, secret=SECRET)
    a = sched.book("online", "3328010000000001", now=THU, idempotency_key="req-1")
    assert (a.day, a.label) == (FRI, "A-001")
    assert sched.book("online", "3328010000000001", now=THU, idempotency_key="req-1") == a
    with pytest.raises(qq.AlreadyBooked):
        sched.book("online", "3328010000000001", now=THU)
    b = sched.book("online", "3328010000000002", now=THU)
    c = sched.book("online", "3328010000000003", now=THU)
    assert (b.day, c.day) == (FRI, MON)  # weekend skipped
    assert sched.verify_ticket(a.ticket) == a
    moved = sched.reschedule(b.id, now=THU, preferred_date=TUE)
    assert (moved.id, moved.day, moved.number) == (b.id, TUE, 1)
    assert sched.cancel(c.id, now=THU).status is BookingStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        sched.check_in(a.ticket, now=THU)
    walked = sched.book("walk_in", now=datetime(2020, 6, 5, 8, 0, tzinfo=WIB))
    assert walked.label == "B-001"
    assert walked.citizen_ref is None
    assert sched.check_in(a.ticket, now=datetime(2020, 6, 5, 8, 0, tzinfo=WIB)).status is (
        BookingStatus.CHECKED_IN
    )
    out = sched.close_day(TUE, "system maintenance", now=THU)
    assert [(x.id, x.day) for x in out] == [(b.id, WED)]
    assert [x.id for x in sched.manifest(FRI)] == [a.id, walked.id]


def test_two_schedulers_share_one_schema(postgres_conninfo: str, schema: str) -> None:
    """Two schedulers on separate storages see each other's bookings, keys and closures."""
    s1 = qq.Scheduler(office(), storage_on(postgres_conninfo, schema), secret=SECRET)
    s2 = qq.Scheduler(office(), storage_on(postgres_conninfo, schema), secret=SECRET)
    try:
        a = s1.book("online", "c1", now=THU, idempotency_key="k")
        assert s2.book("online", "c1", now=THU, idempotency_key="k") == a
        assert s2.book("online", "c2", now=THU).number == 2
        s1.close_day(FRI, "flood", now=THU)
        assert s2.closures() == {FRI: "flood"}
        assert s2.get(a.id).day == MON
        avail = {d.day: d for d in s2.availability("online", FRI, TUE)}
        assert avail[FRI].closed_reason == "flood"
        assert avail[MON].booked == 2
    finally:
        s1.storage.close()
        s2.storage.close()


def test_scheduler_threads_fill_days_in_order(pg_storage: PostgresStorage) -> None:
    """8 threads x 50 online bookings (100 a day): 4 full days, numbers 1..100 on each."""
    sched = qq.Scheduler(office(online=100), pg_storage, secret=SECRET)
    results = in_threads(
        8, lambda t: [sched.book("online", f"c{t}-{i}", now=THU) for i in range(50)]
    )
    booked = [b for chunk in results for b in chunk]
    per_day = Counter(b.day for b in booked)
    assert per_day == {FRI: 100, MON: 100, TUE: 100, WED: 100}
    for d in per_day:
        assert sorted(b.number for b in booked if b.day == d) == list(range(1, 101))


@pytest.mark.postgres
def test_invalid_transition_reasons_match_other_adapters(pg_storage: Any) -> None:
    """PostgreSQL refusals of a transition carry the same reason, status and day."""
    from conftest import tegal_office

    wib = ZoneInfo("Asia/Jakarta")
    now = datetime(2020, 6, 4, 9, tzinfo=wib)
    sched = qq.Scheduler(tegal_office(), pg_storage, secret=SECRET)
    b = sched.book("online", "c1", now=now)
    with pytest.raises(InvalidTransition) as wrong_day:
        sched.check_in(b.ticket, now=now)
    assert (wrong_day.value.reason, wrong_day.value.day) == ("not_today", b.day)
    sched.cancel(b.id, now=now)
    with pytest.raises(InvalidTransition) as twice:
        sched.cancel(b.id, now=now)
    assert (twice.value.reason, twice.value.status) == ("not_booked", "cancelled")
    c = sched.book("online", "c2", now=now)
    with pytest.raises(InvalidTransition) as late:
        sched.cancel(c.id, now=now + timedelta(days=7))
    assert (late.value.reason, late.value.day) == ("past_day", c.day)
