"""PostgreSQL reads ahead (`PgTransaction.expect`): a warm booking is two round trips, and
what was read ahead answers exactly as the server would, after this transaction's writes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.models import Booking, BookingStatus
from queue_quota.policies import OnlineQuota
from queue_quota.storage.primitives import CounterRow

pytestmark = pytest.mark.postgres

OFFICE = "ahead"
TUE, WED = date(2030, 1, 8), date(2030, 1, 9)
ONE = timedelta(days=1)


def _booking(n: int, **kw: Any) -> Booking:
    fields: dict[str, Any] = {
        "id": f"ID{n:014d}",
        "office_id": OFFICE,
        "channel": "online",
        "day": TUE,
        "number": n,
        "label": f"A-{n:03d}",
        "status": BookingStatus.BOOKED,
        "citizen_ref": f"ref-{n}",
        "created_at": datetime(2030, 1, 6, 23, 30, tzinfo=UTC),
        "ticket": f"ticket-{n}",
    }
    return Booking(**{**fields, **kw})


def _trips(storage: Any) -> tuple[list[int], Any]:
    """Round trips of every write transaction of ``storage`` from now on."""
    prims = storage.primitives
    real = prims.transaction
    trips: list[int] = []

    @contextlib.contextmanager
    def counting(office_id: str, *, write: bool) -> Iterator[Any]:
        with real(office_id, write=write) as tx:
            yield tx
        if write:
            trips.append(tx.round_trips)

    prims.transaction = counting
    return trips, real


@pytest.mark.parametrize("early", [False, True], ids=["plain", "early_release"])
def test_a_warm_booking_is_two_round_trips(postgres_conninfo: str, early: bool) -> None:
    """The reads (with BEGIN and the lock) in one, the writes with the COMMIT (and the
    barrier) in the other; a per-citizen limit and an idempotency key add none."""
    from _postgres_server import drop_schema, unique_schema
    from queue_quota.storage import PostgresStorage

    schema = unique_schema()
    storage = PostgresStorage(postgres_conninfo, schema=schema, early_release=early)
    try:
        office = qq.Office(
            id=OFFICE,
            calendar=qq.WorkingCalendar.indonesia(),
            policies=[OnlineQuota(capacity=100, lead_days=1, per_citizen=1)],
        )
        sched = qq.Scheduler(office, storage, secret=SECRET)
        now = wib(2020, 6, 2, 9)
        sched.book("online", "3328010000000001", now=now)  # the office's first use
        trips, _ = _trips(storage)
        sched.book("online", "3328010000000002", now=now)
        sched.book("online", "3328010000000003", now=now, idempotency_key="k-3")
        assert trips == [2, 2]
        with pytest.raises(qq.AlreadyBooked):  # the limit, from the bookings read ahead
            sched.book("online", "3328010000000002", now=now)
        assert [b.number for b in sched.manifest(date(2020, 6, 3))] == [1, 2, 3]
    finally:
        storage.close()
        drop_schema(postgres_conninfo, schema)


def test_counters_read_ahead_follow_the_transactions_writes(pg_storage: Any) -> None:
    """A counter written after the read ahead is read back as written, with no round trip;
    a range outside what was read ahead is asked of the server."""
    prims = pg_storage.primitives
    with prims.transaction(OFFICE, write=True) as tx:
        tx.put_counters({("c:online", WED): CounterRow(3, 3)})
    with prims.transaction(OFFICE, write=True) as tx:
        tx.expect(counters=(["c:online"], TUE, WED))
        before = tx.round_trips
        assert tx.counters(["c:online"], TUE, WED) == {}
        tx.put_counters({("c:online", TUE): CounterRow(1, 1)})
        assert tx.counters(["c:online"], TUE, WED) == {("c:online", TUE): CounterRow(1, 1)}
        assert tx.round_trips == before
        wider = tx.counters(["c:online"], TUE, WED + ONE)
        assert tx.round_trips == before + 1
    assert wider == {("c:online", TUE): CounterRow(1, 1), ("c:online", WED): CounterRow(3, 3)}


def test_bookings_read_ahead_are_forgotten_at_a_booking_write(pg_storage: Any) -> None:
    """After a booking is written, the citizen's bookings are asked of the server again (and
    include it); an id read ahead as taken refuses its insert at once."""
    prims = pg_storage.primitives
    with prims.transaction(OFFICE, write=True) as tx:
        tx.put_booking(_booking(1), new=True)
    with prims.transaction(OFFICE, write=True) as tx:
        tx.expect(refs=[(["ref-2"], TUE)], booking_ids=["ID00000000000002"])
        assert tx.bookings(refs=["ref-2"], since=TUE) == []
        tx.put_booking(_booking(2), new=True)  # absent under the lock: sent with the next
        found = tx.bookings(refs=["ref-2"], since=TUE)
        assert [b.id for b in found] == ["ID00000000000002"]
        with pytest.raises(KeyError):
            tx.put_booking(_booking(2), new=True)
    with prims.transaction(OFFICE, write=True) as tx:
        tx.expect(booking_ids=["ID00000000000001"])
        trips = tx.round_trips
        with pytest.raises(KeyError):
            tx.put_booking(_booking(1), new=True)
        assert tx.round_trips == trips  # answered from the read ahead
    with prims.transaction(OFFICE, write=False) as tx:
        assert sorted(b.id for b in tx.bookings(day=TUE)) == [
            "ID00000000000001",
            "ID00000000000002",
        ]


def test_a_batch_reads_ahead_once_and_answers_each_as_alone(pg_storage: Any) -> None:
    """A group-commit batch of five: every read of every reservation in one round trip,
    every write with the COMMIT in the other; the citizen who comes twice is refused the
    second time and the key given twice gets its first booking back, as without grouping."""
    from queue_quota.models import Slot
    from queue_quota.storage._combine import Waiter
    from test_postgres_hardening import FRI, reservation

    slots = [Slot(FRI, 10)]
    rs = [
        reservation(slots, citizen="ref-a"),
        reservation(slots, citizen="ref-b", key="k-1"),
        reservation(slots, citizen="ref-a"),  # the same citizen again: AlreadyBooked
        reservation(slots, citizen="ref-c", key="k-1"),  # the same key: the first booking
        reservation(slots, citizen="ref-d"),
    ]
    trips, _ = _trips(pg_storage)
    batch = [Waiter(r) for r in rs]
    pg_storage._batch(batch)
    # The reads; the citizen's bookings again (the first wrote one); the key's again; the
    # writes with the COMMIT.
    assert trips == [4]
    answers: list[Any] = []
    for w in batch:
        try:
            answers.append(w.answer())
        except qq.QueueQuotaError as exc:
            answers.append(exc)
    assert isinstance(answers[2], qq.AlreadyBooked)
    assert answers[3].id == answers[1].id
    assert [answers[i].number for i in (0, 1, 4)] == [1, 2, 3]
    clean = [Waiter(reservation(slots, citizen=f"ref-{i}")) for i in "efgh"]
    trips.clear()
    pg_storage._batch(clean)
    assert trips == [2]
    assert sorted(w.answer().number for w in clean) == [4, 5, 6, 7]


def test_an_id_and_a_citizen_read_together_are_split_exactly(pg_storage: Any) -> None:
    """The id and the citizen's bookings since a day are one read: a booking found by its
    id alone (the citizen's, but before that day) answers the id, not the citizen."""
    prims = pg_storage.primitives
    old = _booking(9, citizen_ref="ref-9")  # Tuesday
    with prims.transaction(OFFICE, write=True) as tx:
        tx.put_booking(old, new=True)
        tx.put_booking(_booking(8, citizen_ref="ref-9", day=WED), new=True)
    with prims.transaction(OFFICE, write=True) as tx:
        tx.expect(booking_ids=[old.id], refs=[(["ref-9"], WED)])
        trips = tx.round_trips
        assert [b.id for b in tx.bookings(booking_id=old.id)] == [old.id]
        assert [b.id for b in tx.bookings(refs=["ref-9"], since=WED)] == ["ID00000000000008"]
        assert tx.round_trips == trips == 1
        assert tx.statements == 4  # BEGIN, the lock, the meta, the one read; nothing more
