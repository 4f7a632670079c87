"""PostgreSQL's held-back writes merged into one statement (`_pg_writes.WriteMerger`) leave
exactly what the same writes leave sent one statement each, in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_quota.events import Event
from queue_quota.models import Booking, BookingStatus
from queue_quota.storage.primitives import CounterRow

pytestmark = pytest.mark.postgres

OFFICE = "merge"
DAY = date(2030, 1, 8)
AT = datetime(2030, 1, 6, 23, 30, tzinfo=UTC)

_names = st.sampled_from(["~seq", "~hint:online", "~epoch", "x"])
_writes = st.lists(
    st.one_of(
        st.tuples(
            st.just("counters"),
            st.dictionaries(
                st.tuples(st.sampled_from(["c:online", "p:loket"]), st.integers(0, 2)),
                st.tuples(st.integers(0, 9), st.integers(0, 9)),
                min_size=1,
                max_size=3,
            ),
        ),
        st.tuples(st.just("meta"), st.dictionaries(_names, st.text("ab", max_size=3), max_size=2)),
        st.tuples(st.just("state"), st.dictionaries(_names, st.text("ab", max_size=3), max_size=2)),
        st.tuples(st.just("event"), st.integers(1, 3)),
        st.tuples(st.just("booking"), st.integers(0, 3)),
        st.tuples(st.just("replace"), st.integers(0, 3)),
    ),
    max_size=8,
)


@pytest.fixture
def two(postgres_conninfo: str) -> Iterator[tuple[Any, Any]]:
    """Two storages on their own schemas: the first merges, the second never does."""
    from _postgres_server import drop_schema, unique_schema
    from queue_quota.storage import PostgresStorage
    from queue_quota.storage._pg_writes import WriteMerger

    schemas = [unique_schema(), unique_schema()]
    made = [PostgresStorage(postgres_conninfo, schema=s) for s in schemas]
    made[1].primitives.merger = WriteMerger(made[1].primitives.queries, {})
    yield made[0], made[1]
    for storage, schema in zip(made, schemas, strict=True):
        storage.close()
        drop_schema(postgres_conninfo, schema)


def _booking(n: int, status: BookingStatus = BookingStatus.BOOKED) -> Booking:
    return Booking(
        id=f"ID{n:014d}",
        office_id=OFFICE,
        channel="online",
        day=DAY,
        number=n + 1,
        label=f"A-{n + 1:03d}",
        status=status,
        citizen_ref=f"ref-{n}",
        created_at=AT,
        ticket=f"ticket-{n}",
    )


def _apply(storage: Any, writes: list[tuple[str, Any]], run: int) -> str | None:
    """The writes in one transaction (with what an engine reads ahead); the error, if any."""
    seq = 0
    try:
        with storage.primitives.transaction(OFFICE, write=True) as tx:
            tx.expect(booking_ids=[f"ID{0:014d}"])
            for kind, value in writes:
                if kind == "counters":
                    tx.put_counters(
                        {(s, DAY + timedelta(d)): CounterRow(*v) for (s, d), v in value.items()}
                    )
                elif kind == "meta":
                    tx.put_meta(value)
                elif kind == "state":
                    tx.put_state(value)
                elif kind == "event":
                    events = []
                    for _ in range(value):
                        seq += 1
                        events.append(Event(seq + 100 * run, "booked", None, DAY, AT, {"n": seq}))
                    tx.put_events(events)
                elif kind == "booking":
                    tx.expect(booking_ids=[f"ID{value:014d}"])
                    tx.put_booking(_booking(value), new=True)
                else:
                    tx.put_booking(_booking(value, BookingStatus.CANCELLED), new=False)
    except Exception as exc:  # both sides must fail alike
        return type(exc).__name__
    return None


def _contents(storage: Any) -> tuple[Any, ...]:
    with storage.primitives.transaction(OFFICE, write=False) as tx:
        counters = tx.counters(["c:online", "p:loket"], DAY, DAY + timedelta(3))
        meta = tx.meta("")
        state = tx.state("")
        events = [(e.seq, e.data) for e in tx.events(0, 1000)]
        bookings = sorted((b.id, b.status.value) for d in (DAY,) for b in tx.bookings(day=d))
    return counters, meta, state, events, bookings


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(_writes, min_size=1, max_size=3))
def test_merged_writes_leave_what_writes_in_order_leave(
    two: tuple[Any, Any], batches: list[list[tuple[str, Any]]]
) -> None:
    merging, plain = two
    for storage in two:  # a clean office for each example
        with storage.primitives.transaction(OFFICE, write=True) as tx:
            tx.expect()
        conn_clear(storage)
    for run, writes in enumerate(batches):
        assert _apply(merging, writes, run) == _apply(plain, writes, run)
    assert _contents(merging) == _contents(plain)


def conn_clear(storage: Any) -> None:
    """Delete the office's rows (each example starts from nothing)."""
    import psycopg

    tables = ("qq_counter", "qq_booking", "qq_event", "qq_office_meta", "qq_state")
    with psycopg.connect(storage.primitives.conninfo, autocommit=True) as conn:
        for table in tables:
            conn.execute(f'DELETE FROM "{storage.schema}".{table}')


def test_a_booking_batch_is_one_statement(two: tuple[Any, Any]) -> None:
    """Counters, a new booking, its event and the log's seq: one merged INSERT."""
    merging, _ = two
    merger = merging.primitives.merger
    pending = [
        ("PUT_COUNTERS", (OFFICE, ["c:online"], [DAY], [1], [1])),
        ("INSERT_NEW", (f"ID{1:014d}", OFFICE)),
        ("PUT_EVENTS", (OFFICE, [1], ["booked"], [None], [DAY], [AT], ["{}"])),
        ("PUT_META", (OFFICE, "~seq", "1")),
        ("PUT_META", (OFFICE, "~seq", "2")),
    ]
    statements = merger.statements(pending)
    assert len(statements) == 1
    sql, params = statements[0]
    assert sql.startswith(b"WITH w0 AS (INSERT INTO")
    assert params[-3:] == [OFFICE, "~seq", "2"]  # the last value of a row written twice
    held_back = [*pending, ("REPLACE", ())]
    assert len(merger.statements(held_back)) == len(held_back)  # an UPDATE: sent as it was
