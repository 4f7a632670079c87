"""SQLite's primitives, directly: transactions, isolation, each read and write."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import attrs
import pytest

from queue_quota.errors import StorageError
from queue_quota.models import Booking, BookingStatus
from queue_quota.storage import Primitives, Transaction
from queue_quota.storage._sqlite_primitives import SQLitePrimitives
from queue_quota.storage.primitives import CounterRow

OFFICE, OTHER = "tegal", "brebes"
MON, TUE, WED = date(2030, 1, 7), date(2030, 1, 8), date(2030, 1, 9)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "q.sqlite3"


@pytest.fixture
def prims(path: Path) -> Iterator[SQLitePrimitives]:
    p = SQLitePrimitives(path, "NORMAL", 5.0)
    yield p
    p.close()


def _booking(n: int = 1, **kw: Any) -> Booking:
    fields: dict[str, Any] = {
        "id": f"ID{n:014d}",
        "office_id": OFFICE,
        "channel": "online",
        "day": TUE,
        "number": n,
        "label": f"A-{n:03d}",
        "status": BookingStatus.BOOKED,
        "citizen_ref": f"ref-{n}",
        "created_at": datetime(2030, 1, 6, 23, 30, 15, 123456, tzinfo=UTC),
        "ticket": f"ticket-{n}",
    }
    return Booking(**{**fields, **kw})


def _fields(b: Booking) -> dict[str, Any]:
    """Every stored field (``charges`` and ``request_fingerprint`` are not in ``==``)."""
    return {**attrs.asdict(b, recurse=False), "previous_day": None, "previous_number": None}


def _raw(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return [tuple(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_it_is_the_engine_protocol(prims: SQLitePrimitives) -> None:
    assert isinstance(prims, Primitives)
    assert prims.persistent
    with prims.transaction(OFFICE, write=False) as tx:
        assert isinstance(tx, Transaction)


def test_counters_read_a_half_open_range_of_the_scopes_asked(prims: SQLitePrimitives) -> None:
    rows = {
        ("c:online", MON): CounterRow(1, 1),
        ("c:online", TUE): CounterRow(2, 3),
        ("c:online", WED): CounterRow(3, 3),
        ("p:loket", TUE): CounterRow(4, 0),
        ("s:online@08:00", TUE): CounterRow(1, 0),
    }
    with prims.transaction(OFFICE, write=True) as tx:
        tx.put_counters(rows)
    with prims.transaction(OTHER, write=True) as tx:
        tx.put_counters({("c:online", TUE): CounterRow(9, 9)})
    with prims.transaction(OFFICE, write=False) as tx:
        got = tx.counters(["c:online", "p:loket"], TUE, WED)
        assert got == {k: rows[k] for k in [("c:online", TUE), ("p:loket", TUE)]}
        assert tx.counters(["c:online"], MON, date(2030, 1, 10)) == {
            k: v for k, v in rows.items() if k[0] == "c:online"
        }
        assert tx.counters(["p:nothing"], MON, WED) == {}
        assert tx.counters([], MON, WED) == {}
        assert tx.counters(["c:online"], TUE, TUE) == {}
    with prims.transaction(OFFICE, write=True) as tx:  # replaced, not added to
        tx.put_counters({("c:online", TUE): CounterRow(0, 3)})
        assert tx.counters(["c:online"], TUE, WED) == {("c:online", TUE): CounterRow(0, 3)}


def test_counters_never_go_below_zero(prims: SQLitePrimitives) -> None:
    def below_zero() -> None:
        with prims.transaction(OFFICE, write=True) as tx:
            tx.put_counters({("c:online", TUE): CounterRow(1, 1)})
            tx.put_counters({("c:online", WED): CounterRow(-1, 0)})

    with pytest.raises(StorageError, match="CHECK"):
        below_zero()
    with prims.transaction(OFFICE, write=False) as tx:
        assert tx.counters(["c:online"], MON, WED) == {}  # the whole transaction rolled back


def test_bookings_round_trip_every_field(prims: SQLitePrimitives) -> None:
    plain = _booking(1, idempotency_key="k-1", request_fingerprint="fp-1")
    household = _booking(
        2,
        places=3,
        window=(time(8, 0), time(8, 30)),
        charges=("c:online", "s:online@08:00", "p:loket"),
    )
    default = _booking(3, charges=("c:online",), citizen_ref=None)
    with prims.transaction(OFFICE, write=True) as tx:
        for b in (plain, household, default):
            tx.put_booking(b, new=True)
    with prims.transaction(OFFICE, write=False) as tx:
        (got,) = tx.bookings(booking_id=household.id)
        assert _fields(got) == _fields(household)
        (got,) = tx.bookings(key="k-1")
        assert _fields(got) == _fields(plain)
        (got,) = tx.bookings(booking_id=default.id)
        assert got.charges == ()  # the 0.1 default, stored as NULL
        assert tx.bookings(key="k-2") == []
        assert tx.bookings(booking_id="nothing") == []
    assert _raw(prims._path, "SELECT id, charges FROM qq_booking ORDER BY id") == [
        (plain.id, None),
        (household.id, '["c:online", "s:online@08:00", "p:loket"]'),
        (default.id, None),
    ]


def test_bookings_by_refs_since_and_by_day(prims: SQLitePrimitives) -> None:
    mine = [
        _booking(1, citizen_ref="a", day=MON),
        _booking(2, citizen_ref="a", day=WED, status=BookingStatus.CANCELLED),
        _booking(3, citizen_ref="b", day=TUE, channel="walk_in"),
        _booking(4, citizen_ref="c", day=TUE),
    ]
    with prims.transaction(OFFICE, write=True) as tx:
        for b in mine:
            tx.put_booking(b, new=True)
    with prims.transaction(OTHER, write=True) as tx:
        tx.put_booking(_booking(5, office_id=OTHER, citizen_ref="a", day=TUE), new=True)
    with prims.transaction(OFFICE, write=False) as tx:

        def ids(found: list[Booking]) -> list[str]:
            return sorted(b.id for b in found)

        assert ids(tx.bookings(refs=["a", "b", "a"])) == ids(mine[:3])
        assert ids(tx.bookings(refs=["a", "b"], since=TUE)) == ids(mine[1:3])
        assert tx.bookings(refs=[]) == []
        assert ids(tx.bookings(day=TUE)) == ids(mine[2:])
        with pytest.raises(TypeError):
            tx.bookings()


def test_a_duplicate_id_is_a_key_error_and_nothing_else_changes(prims: SQLitePrimitives) -> None:
    first = _booking(1)
    with prims.transaction(OFFICE, write=True) as tx:
        tx.put_booking(first, new=True)
    with prims.transaction(OFFICE, write=True) as tx:
        with pytest.raises(KeyError):
            tx.put_booking(_booking(2, id=first.id), new=True)
        (stored,) = tx.bookings(booking_id=first.id)
        assert _fields(stored) == _fields(first)

    # Another constraint (a number given twice) is not a duplicate id: StorageError.
    def same_number() -> None:
        with prims.transaction(OFFICE, write=True) as tx:
            tx.put_booking(_booking(3, number=first.number), new=True)

    with pytest.raises(StorageError, match="UNIQUE"):
        same_number()
    # The same office in another office's data is no duplicate.
    with prims.transaction(OTHER, write=True) as tx:
        tx.put_booking(attrs.evolve(first, office_id=OTHER), new=True)


def test_replace_updates_the_stored_booking(prims: SQLitePrimitives) -> None:
    b = _booking(1, idempotency_key="k")
    with prims.transaction(OFFICE, write=True) as tx:
        tx.put_booking(b, new=True)
        moved = attrs.evolve(b, day=WED, number=7, label="A-007", status=BookingStatus.NO_SHOW)
        tx.put_booking(moved, new=False)
    with prims.transaction(OFFICE, write=False) as tx:
        assert [_fields(x) for x in tx.bookings(key="k")] == [_fields(moved)]
        assert tx.bookings(day=TUE) == []


def test_meta_by_prefix_keeps_closures_and_the_secret_in_their_tables(
    prims: SQLitePrimitives,
) -> None:
    with prims.transaction(OFFICE, write=True) as tx:
        tx.put_meta(
            {
                "closure:2030-01-08": "banjir",
                "closure:2030-02-01": "cuti bersama",
                "~epoch": "3",
                "~hint:online": "d:3:4",
                "~secret": "fp",
            }
        )
    with prims.transaction(OTHER, write=True) as tx:
        tx.put_meta({"~epoch": "9", "closure:2030-01-08": "lain"})
    with prims.transaction(OFFICE, write=False) as tx:
        assert tx.meta("~") == {"~epoch": "3", "~hint:online": "d:3:4", "~secret": "fp"}
        assert tx.meta("closure:") == {
            "closure:2030-01-08": "banjir",
            "closure:2030-02-01": "cuti bersama",
        }
        assert tx.meta("closure:2030-02") == {"closure:2030-02-01": "cuti bersama"}
        assert tx.meta("~hint:") == {"~hint:online": "d:3:4"}
        assert tx.meta("~secret") == {"~secret": "fp"}
        assert len(tx.meta("")) == 5
        assert tx.meta("x") == {}
    assert _raw(prims._path, "SELECT office_id, day, reason FROM qq_closure ORDER BY 1, 2") == [
        (OTHER, "2030-01-08", "lain"),
        (OFFICE, "2030-01-08", "banjir"),
        (OFFICE, "2030-02-01", "cuti bersama"),
    ]
    assert _raw(prims._path, "SELECT office_id, fingerprint FROM qq_secret") == [(OFFICE, "fp")]
    with prims.transaction(OFFICE, write=True) as tx:
        tx.put_meta({"closure:2030-01-08": None, "~hint:online": None, "~secret": "fp-2"})
        tx.put_meta({"~epoch": "4"})
    with prims.transaction(OFFICE, write=False) as tx:
        assert tx.meta("") == {
            "closure:2030-02-01": "cuti bersama",
            "~epoch": "4",
            "~secret": "fp-2",
        }


def test_an_exception_rolls_back_every_write(prims: SQLitePrimitives) -> None:
    class Boom(Exception):
        pass

    def failing() -> None:
        with prims.transaction(OFFICE, write=True) as tx:
            tx.put_counters({("c:online", TUE): CounterRow(1, 1)})
            tx.put_booking(_booking(1), new=True)
            tx.put_meta({"~epoch": "1", "closure:2030-01-09": "x", "~secret": "fp"})
            raise Boom

    with pytest.raises(Boom):
        failing()
    with prims.transaction(OFFICE, write=False) as tx:
        assert tx.counters(["c:online"], MON, WED) == {}
        assert tx.bookings(day=TUE) == []
        assert tx.meta("") == {}
    assert not prims.connection().in_transaction


def test_write_transactions_exclude_each_other_across_connections(path: Path) -> None:
    """A second connection's write waits for the first's commit (here: gives up after its
    timeout), and a read is never blocked."""
    a = SQLitePrimitives(path, "NORMAL", 5.0)
    b = SQLitePrimitives(path, "NORMAL", 0.05)
    a.migrate()
    b.migrate()
    with a.transaction(OFFICE, write=True) as tx:
        tx.put_counters({("c:online", TUE): CounterRow(1, 1)})
        # BEGIN IMMEDIATE itself is refused, before any read of b's.
        with pytest.raises(StorageError, match="locked"):
            b.transaction(OTHER, write=True).__enter__()
        assert not b.connection().in_transaction
        with b.transaction(OFFICE, write=False) as other:
            assert other.counters(["c:online"], MON, WED) == {}  # not committed yet
    with b.transaction(OFFICE, write=True) as tx:
        assert tx.counters(["c:online"], MON, WED) == {("c:online", TUE): CounterRow(1, 1)}
    a.close()
    b.close()


def test_a_read_transaction_sees_one_snapshot(path: Path) -> None:
    """Several reads of one read transaction agree, whatever commits in between."""
    reader = SQLitePrimitives(path, "NORMAL", 5.0)
    writer = SQLitePrimitives(path, "NORMAL", 5.0)
    with writer.transaction(OFFICE, write=True) as tx:
        tx.put_counters({("c:online", TUE): CounterRow(1, 1)})
    with reader.transaction(OFFICE, write=False) as r:
        before = r.counters(["c:online"], MON, WED)
        with writer.transaction(OFFICE, write=True) as w:
            w.put_counters({("c:online", TUE): CounterRow(2, 2)})
            w.put_booking(_booking(2), new=True)
        assert r.counters(["c:online"], MON, WED) == before
        assert r.bookings(day=TUE) == []
    with reader.transaction(OFFICE, write=False) as r:
        assert r.counters(["c:online"], MON, WED) == {("c:online", TUE): CounterRow(2, 2)}
    reader.close()
    writer.close()


def test_threads_have_their_own_connections(prims: SQLitePrimitives) -> None:
    mine = prims.connection()
    seen: list[sqlite3.Connection] = []
    t = threading.Thread(target=lambda: seen.append(prims.connection()))
    t.start()
    t.join()
    assert len(seen) == 1
    assert seen[0] is not mine
    assert prims.connection() is mine


def test_a_closed_storage_refuses(prims: SQLitePrimitives) -> None:
    prims.migrate()
    prims.close()
    with pytest.raises(StorageError, match="closed"):
        prims.transaction(OFFICE, write=False)


def test_an_unreadable_file_is_a_storage_error(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError):
        SQLitePrimitives(bad, "FULL", 1.0).migrate()


def test_meta_is_read_once_per_transaction_and_kept_current(prims: SQLitePrimitives) -> None:
    """The first meta read loads the office's meta in one statement; later reads in the
    transaction see its own writes."""
    with prims.transaction(OFFICE, write=True) as tx:
        tx.put_meta({"~epoch": "1", "closure:2030-01-08": "banjir"})
    conn = prims.connection()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    with prims.transaction(OFFICE, write=True) as tx:
        assert tx.meta("closure:") == {"closure:2030-01-08": "banjir"}
        assert tx.meta("~") == {"~epoch": "1"}
        tx.put_meta({"~epoch": "2", "closure:2030-01-08": None, "~hint:online": "d:2:0"})
        assert tx.meta("~") == {"~epoch": "2", "~hint:online": "d:2:0"}
        assert tx.meta("closure:") == {}
    conn.set_trace_callback(None)
    assert sum(s.startswith("SELECT") for s in seen) == 1
    with prims.transaction(OFFICE, write=False) as tx:
        assert tx.meta("") == {"~epoch": "2", "~hint:online": "d:2:0"}
