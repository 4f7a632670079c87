"""Group commit (``group_commit=True``): the threads of one process booking one office share
transactions, and nothing changes but the speed: the cap is exact, numbers are 1..N with
no gap or repeat, counters equal the rows, keys and refusals answer as without grouping."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.policies import OnlineQuota
from queue_quota.storage import SQLiteStorage, TransactionalStorage

NOW = wib(2020, 6, 2, 9)  # Tuesday: Wednesday 3 June is the only day of the window
DAY = date(2020, 6, 3)
THREADS = 16


def _office(capacity: int) -> qq.Office:
    return qq.Office(
        id="group",
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[OnlineQuota(capacity=capacity, lead_days=1, horizon_days=1, per_citizen=1)],
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    made: list[Any] = []
    if request.param == "sqlite":

        def factory() -> Any:
            s = SQLiteStorage(tmp_path / "g.sqlite3", group_commit=True)
            made.append(s)
            return s
    else:
        from _postgres_server import drop_schema, unique_schema
        from queue_quota.storage import PostgresStorage

        conninfo: str = request.getfixturevalue("postgres_conninfo")
        schema = unique_schema()

        def factory() -> Any:
            s = PostgresStorage(conninfo, schema=schema, max_size=4, group_commit=True)
            made.append(s)
            return s

    yield factory
    for s in made:
        s.close()
    if request.param == "postgres":
        drop_schema(conninfo, schema)


def _race(work: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """``work(i)`` on ``threads`` threads started together; their results (or errors)."""
    start = threading.Barrier(threads)
    out: list[Any] = [None] * threads

    def run(i: int) -> None:
        start.wait()
        try:
            out[i] = work(i)
        except qq.QueueQuotaError as exc:
            out[i] = exc

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return out


def _combiner(storage: Any) -> Any:
    return storage._combiners.get("group")


def test_a_hot_day_fills_exactly_with_shared_transactions(make: Callable[[], Any]) -> None:
    """16 threads, 4 bookings each, 40 places: 40 booked with numbers 1..40, 24 refused,
    counters equal the rows, and transactions were shared (more than one a batch)."""
    storage = make()
    sched = qq.Scheduler(_office(40), storage, secret=SECRET)

    def work(i: int) -> list[Any]:
        got: list[Any] = []
        for k in range(4):
            try:
                got.append(sched.book("online", f"33{i:02d}{k:012d}", now=NOW))
            except qq.QuotaExhausted as exc:
                got.append(exc)
        return got

    results = [x for per in _race(work) for x in per]
    booked = [b for b in results if isinstance(b, qq.Booking)]
    assert len(booked) == 40
    assert sum(isinstance(x, qq.QuotaExhausted) for x in results) == 24
    assert sorted(b.number for b in booked) == list(range(1, 41))
    stored = sched.manifest(DAY)
    assert sorted(b.id for b in stored) == sorted(b.id for b in booked)
    assert storage.booked_counts("group", "online", DAY, date(2020, 6, 4)) == {DAY: 40}
    comb = _combiner(storage)
    assert comb.combined > comb.batches  # some transactions held several bookings


def test_keys_and_limits_answer_as_without_grouping(make: Callable[[], Any]) -> None:
    """The same key from 16 threads at once: one booking, returned to all; one citizen
    from 16 threads: one booking, 15 `AlreadyBooked`."""
    storage = make()
    sched = qq.Scheduler(_office(100), storage, secret=SECRET)
    same_key = _race(
        lambda i: sched.book("online", "3328011234560001", now=NOW, idempotency_key="k")
    )
    assert len({b.id for b in same_key}) == 1
    one_citizen = _race(lambda i: sched.book("online", "3328011234560002", now=NOW))
    assert sum(isinstance(x, qq.Booking) for x in one_citizen) == 1
    assert sum(isinstance(x, qq.AlreadyBooked) for x in one_citizen) == THREADS - 1
    assert len(sched.manifest(DAY)) == 2
    log = sched.events()
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert sum(e.kind == "booked" for e in log) == 2


def test_a_duplicate_id_in_a_batch_falls_back_to_one_by_one(tmp_path: Path) -> None:
    """A reservation that fails after its take (a duplicate id) aborts its batch, which is
    run again one reservation per transaction: the others book, it alone is refused."""
    storage = SQLiteStorage(tmp_path / "d.sqlite3", group_commit=True)
    sched = qq.Scheduler(_office(100), storage, secret=SECRET)
    first = sched.book("online", "3328011234560001", now=NOW)
    import attrs

    from queue_quota.models import Reservation

    def reservation(i: int) -> Reservation:
        base = Reservation(
            office_id="group",
            channel="online",
            booking_id=first.id if i == 0 else f"ID{i:014d}",
            ticket="t",
            prefix="A",
            citizen_ref=None,
            per_citizen=None,
            today=DAY,
            created_at=NOW,
        )
        return attrs.evolve(base, slots=(qq.models.Slot(DAY, 100),))

    out = _race(lambda i: storage.reserve(reservation(i)), threads=8)
    refused = [x for x in out if isinstance(x, qq.InvalidTransition)]
    assert [x.reason for x in refused] == ["duplicate_id"]
    assert sum(isinstance(x, qq.Booking) for x in out) == 7
    assert len(sched.manifest(DAY)) == 8
    assert storage.booked_counts("group", "online", DAY, date(2020, 6, 4)) == {DAY: 8}
    storage.close()


def test_group_commit_is_on_by_default_and_can_be_turned_off(tmp_path: Path) -> None:
    """SQLite groups by default; ``group_commit=False`` (and a storage over third-party
    primitives, unless asked) runs each reservation in its own transaction (no combiner)."""
    grouped = SQLiteStorage(tmp_path / "g.sqlite3")
    qq.Scheduler(_office(5), grouped, secret=SECRET).book("online", "3328011234560001", now=NOW)
    assert set(grouped._combiners) == {"group"}
    grouped.close()
    storage = SQLiteStorage(tmp_path / "o.sqlite3", group_commit=False)
    qq.Scheduler(_office(5), storage, secret=SECRET).book("online", "3328011234560001", now=NOW)
    assert isinstance(storage, TransactionalStorage)
    assert storage._combiners == {}
    assert TransactionalStorage(storage.primitives)._group is False
    with pytest.raises(qq.ConfigurationError):
        SQLiteStorage(tmp_path / "x.sqlite3", group_commit="yes")  # type: ignore[arg-type]
    storage.close()


def test_a_batch_whose_commit_is_in_doubt_finds_its_bookings(tmp_path: Path) -> None:
    """The batch committed but the answer was lost: each waiter gets its booking, found by
    its id, not a second booking nor a duplicate-id refusal."""
    import contextlib

    from queue_quota.models import Reservation, Slot
    from queue_quota.storage._combine import Waiter
    from queue_quota.storage.primitives import CommitInDoubt

    storage = SQLiteStorage(tmp_path / "doubt.sqlite3", group_commit=True)
    real = storage.primitives.transaction
    lost = [True]

    @contextlib.contextmanager
    def losing(office_id: str, *, write: bool) -> Iterator[Any]:
        with real(office_id, write=write) as tx:
            yield tx
        if write and lost[0]:  # committed; the answer does not arrive
            lost[0] = False
            raise CommitInDoubt("lost")

    storage.primitives.transaction = losing  # type: ignore[method-assign]

    def reservation(i: int) -> Reservation:
        return Reservation(
            office_id="group",
            channel="online",
            slots=(Slot(DAY, 10),),
            booking_id=f"ID{i:014d}",
            ticket="t",
            prefix="A",
            citizen_ref=None,
            per_citizen=None,
            today=DAY,
            created_at=NOW,
        )

    waiters = [Waiter(reservation(i)) for i in range(2)]
    storage._batch(waiters)
    assert [w.answer().id for w in waiters] == ["ID00000000000000", "ID00000000000001"]
    assert [w.answer().number for w in waiters] == [1, 2]
    assert len(storage.bookings_on("group", DAY)) == 2
    storage.close()


def test_the_lead_passes_on_when_its_thread_is_interrupted() -> None:
    """A waiter interrupted in its wait leaves the queue; if the lead had just been handed
    to it, the next waiter gets the lead, and with nobody left the combiner is idle."""
    from queue_quota.storage._combine import Combiner, Waiter

    comb = Combiner()
    a, b, c = (Waiter(None) for _ in range(3))  # type: ignore[arg-type]
    comb._busy = True
    comb._queue = [a, b, c]
    comb._abandon(b)  # still queued, not leading: just leaves
    assert comb._queue == [a, c]
    assert not c.gate.acquire(blocking=False)  # nobody let through
    a.lead = True
    comb._abandon(a)
    assert comb._queue == [c]
    assert c.lead
    assert c.gate.acquire(blocking=False)  # c was let through, to lead
    comb._abandon(c)
    assert comb._queue == []
    assert comb._busy is False


def test_every_waiter_is_let_through_once_with_its_own_answer() -> None:
    """32 threads; the first batch holds on until all the others are queued: each thread
    gets its own answer, the rest run as the second batch, led by one of them, and the
    combiner ends idle with nobody queued."""
    from queue_quota.storage._combine import Combiner, Waiter

    comb = Combiner()
    yielding = threading.Event()  # never set: its wait only yields the CPU
    sizes: list[int] = []

    def run(batch: list[Any]) -> None:
        if not sizes:
            while len(comb._queue) + len(batch) < 32:  # a state, not a time: all queued
                yielding.wait(0.001)
        sizes.append(len(batch))
        for w in batch:
            w.result = w.reservation

    got = _race(lambda i: comb.submit(Waiter(i), run), threads=32)  # type: ignore[arg-type]
    assert got == list(range(32))
    assert len(sizes) == 2
    assert sum(sizes) == 32
    assert (comb.batches, comb.combined) == (2, 32)
    assert comb._queue == []
    assert comb._busy is False
