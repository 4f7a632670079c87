"""examples/custom_storage.py: a dict-backed adapter under `TransactionalStorage`.

It passes the storage contract and the scheduler state machine like the built-in storages,
and its undo log keeps the one promise the engine relies on: a transaction that fails leaves
nothing it wrote (a booking that raises half-way, a closure that cannot place everyone, any
sequence of writes).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import queue_quota as qq
from queue_quota.events import Event
from queue_quota.models import Booking, BookingStatus, Candidate, Charge, Reservation
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import Storage, TransactionalStorage
from queue_quota.storage.primitives import CounterRow, Primitives, Transaction
from queue_quota.testing import SchedulerMachine, StorageContract, StorageFactory

ROOT = Path(__file__).resolve().parents[1]
WIB = ZoneInfo("Asia/Jakarta")
FRIDAY = datetime(2020, 6, 5, 8, 0, tzinfo=WIB)  # Monday 8 June is the first online day
OFFICE = "tegal-disdukcapil"


def example() -> ModuleType:
    """``examples/custom_storage.py`` as the module ``custom_storage`` (imported once)."""
    if "custom_storage" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "custom_storage", ROOT / "examples" / "custom_storage.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["custom_storage"] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules["custom_storage"]
            raise
    return sys.modules["custom_storage"]


def new_primitives() -> Any:
    return example().DictPrimitives()


def office(online: int = 20, walk_in: int = 2) -> qq.Office:
    return qq.Office(
        id=OFFICE,
        calendar=qq.WorkingCalendar.indonesia(tz="Asia/Jakarta"),
        policies=[
            OnlineQuota(capacity=online, lead_days=1, horizon_days=60),
            WalkInQuota(capacity=walk_in, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


def dump(primitives: Any) -> dict[str, Any]:
    """Everything a `DictPrimitives` stores, every field of every booking, comparable with
    ``==`` (empty index sets and offices left out: creating them is not a write)."""
    out: dict[str, Any] = {}
    for office_id, data in primitives._offices.items():
        tables = {
            "counters": dict(data.counters),
            "bookings": {i: attrs.asdict(b, recurse=False) for i, b in data.bookings.items()},
            "meta": dict(data.meta),
            "by_key": dict(data.by_key),
            "by_ref": {r: set(ids) for r, ids in data.by_ref.items() if ids},
            "by_day": {d: set(ids) for d, ids in data.by_day.items() if ids},
        }
        if any(tables.values()):
            out[office_id] = tables
    return out


# -- the contract suite and the state machine ------------------------------------------


class TestDictStorageContract(StorageContract):
    """`TransactionalStorage(DictPrimitives())` keeps the storage contract."""

    @pytest.fixture
    def storage_factory(self) -> StorageFactory:
        """Two handles (two `TransactionalStorage`) on one `DictPrimitives`."""
        shared = new_primitives()
        return lambda: TransactionalStorage(shared)


class DictMachine(SchedulerMachine):
    """The state machine on the adapter: each reopen is a new handle on the run's store."""

    def __init__(self) -> None:
        self.primitives = new_primitives()
        super().__init__()

    def make_storage(self) -> Storage:
        return TransactionalStorage(self.primitives)


TestDictMachine = DictMachine.TestCase


def test_the_adapter_is_primitives_and_the_storage_a_storage() -> None:
    """What the how-to says: the class is `Primitives`, wrapped it is a `Storage`."""
    primitives = new_primitives()
    assert isinstance(primitives, Primitives)
    assert isinstance(TransactionalStorage(primitives), Storage)
    with primitives.transaction(OFFICE, write=False) as tx:
        assert isinstance(tx, Transaction)
    assert primitives.persistent is False


def test_custom_storage_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """``python examples/custom_storage.py`` books, fills the walk-ins and cancels."""
    example().main()
    assert capsys.readouterr().out.splitlines() == [
        "online: A-001 on 2020-06-08",
        "walk_in: B-001, B-002, then quota_exhausted",
        "after a cancel: B-003 (numbers are never reused)",
    ]


# -- a failed transaction leaves nothing ---------------------------------------------------


class Crash(Exception):
    """Raised by `CrashingPrimitives` in the middle of a transaction."""


class _CrashingTransaction:
    """A transaction that raises `Crash` right after the n-th booking it writes."""

    def __init__(self, inner: Transaction, owner: CrashingPrimitives) -> None:
        self._inner = inner
        self._owner = owner

    def counters(
        self, scopes: Sequence[str], start: date, end: date
    ) -> dict[tuple[str, date], CounterRow]:
        return self._inner.counters(scopes, start, end)

    def put_counters(self, rows: Mapping[tuple[str, date], CounterRow]) -> None:
        self._inner.put_counters(rows)

    def bookings(self, **criteria: Any) -> list[Booking]:
        return self._inner.bookings(**criteria)

    def put_booking(self, booking: Booking, *, new: bool) -> None:
        self._inner.put_booking(booking, new=new)  # written: counters, number, booking
        self._owner.written += 1
        if self._owner.crash_at == self._owner.written:
            raise Crash("the process died half-way")

    def meta(self, prefix: str) -> dict[str, str]:
        return self._inner.meta(prefix)

    def put_meta(self, items: Mapping[str, str | None]) -> None:
        self._inner.put_meta(items)

    def events(self, after: int, limit: int) -> list[Event]:
        return self._inner.events(after, limit)

    def put_events(self, events: Sequence[Event]) -> None:
        self._inner.put_events(events)

    def state(self, prefix: str) -> dict[str, str]:
        return self._inner.state(prefix)

    def put_state(self, items: Mapping[str, str | None]) -> None:
        self._inner.put_state(items)


class CrashingPrimitives:
    """`DictPrimitives` whose write transactions crash after ``crash_at`` booking writes."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.crash_at: int | None = None
        self.written = 0

    @property
    def persistent(self) -> bool:
        return False

    @contextmanager
    def _tx(self, office_id: str, write: bool) -> Iterator[Transaction]:
        self.written = 0
        with self.inner.transaction(office_id, write=write) as tx:
            yield _CrashingTransaction(tx, self) if write else tx

    def transaction(self, office_id: str, *, write: bool) -> AbstractContextManager[Transaction]:
        return self._tx(office_id, write)

    def migrate(self) -> None:
        self.inner.migrate()

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def crashing() -> CrashingPrimitives:
    return CrashingPrimitives(new_primitives())


def test_a_booking_that_raises_half_way_leaves_nothing(crashing: CrashingPrimitives) -> None:
    """Counters, number, skip pointer and booking are written, then the booking raises:
    afterwards the store is exactly as before, and the next booking takes the same place."""
    sched = qq.Scheduler(office(online=1), TransactionalStorage(crashing))
    first = sched.book("online", "3328011234560001", now=FRIDAY)  # Monday is now full
    before = dump(crashing.inner)
    crashing.crash_at = 1
    with pytest.raises(Crash):
        sched.book("online", "3328011234560002", now=FRIDAY, idempotency_key="k-2")
    assert dump(crashing.inner) == before
    assert not crashing.inner._lock.locked()
    crashing.crash_at = None
    again = sched.book("online", "3328011234560002", now=FRIDAY, idempotency_key="k-2")
    assert (first.day, again.day, again.label) == (date(2020, 6, 8), date(2020, 6, 9), "A-001")
    assert sched.storage.booked_counts(OFFICE, "online", first.day, again.day + timedelta(1)) == {
        first.day: 1,
        again.day: 1,
    }


def test_a_closure_that_fails_on_its_second_move_leaves_nothing(
    crashing: CrashingPrimitives,
) -> None:
    """Closing a day records the closure and moves two bookings (new day, new number); a
    crash on the second move undoes the first move, its re-indexing and the closure."""
    sched = qq.Scheduler(office(), TransactionalStorage(crashing))
    booked = [sched.book("online", f"332801123456000{i}", now=FRIDAY) for i in (1, 2)]
    monday = booked[0].day
    before = dump(crashing.inner)
    crashing.crash_at = 2
    with pytest.raises(Crash):
        sched.close_day(monday, "Banjir", now=FRIDAY)
    assert dump(crashing.inner) == before
    storage = sched.storage
    assert storage.closures(OFFICE) == {}
    assert storage.bookings_on(OFFICE, monday) == booked
    assert storage.bookings_on(OFFICE, monday + timedelta(1)) == []
    crashing.crash_at = None
    moved = sched.close_day(monday, "Banjir", now=FRIDAY)
    assert [(b.day, b.label, b.previous_label) for b in moved] == [
        (date(2020, 6, 9), "A-001", "A-001"),
        (date(2020, 6, 9), "A-002", "A-002"),
    ]


def _pooled(booking_id: str, channel: str, places: int, capacity: int) -> Reservation:
    """A household on Monday: its channel, its 08:00 session and the pool ``loket`` of 3."""
    monday = date(2020, 6, 8)
    charges = (
        Charge(f"c:{channel}", capacity),
        Charge(f"s:{channel}@08:00", capacity),
        Charge("p:loket", 3),
    )
    return Reservation(
        office_id=OFFICE,
        channel=channel,
        candidates=(Candidate(monday, charges, window=(time(8), time(8, 30))),),
        places=places,
        booking_id=booking_id,
        ticket="t",
        prefix="A" if channel == "online" else "P",
        citizen_ref=None,
        per_citizen=None,
        today=date(2020, 6, 5),
        created_at=datetime(2020, 6, 5, 1, 0, tzinfo=ZoneInfo("UTC")),
    )


def test_a_household_in_a_pool_takes_every_counter_or_none(
    crashing: CrashingPrimitives,
) -> None:
    """Two places from a channel, its session and a shared pool in one write of three rows;
    a crash after it undoes all three; a pool left with one place refuses two."""
    storage = TransactionalStorage(crashing)
    first = storage.reserve(_pooled("b1", "online", places=2, capacity=2))
    assert (first.places, first.window, first.label) == (2, (time(8), time(8, 30)), "A-001")
    before = dump(crashing.inner)
    crashing.crash_at = 1
    with pytest.raises(Crash):
        storage.reserve(_pooled("b2", "priority", places=1, capacity=3))
    assert dump(crashing.inner) == before
    crashing.crash_at = None
    with pytest.raises(qq.QuotaExhausted):  # the pool has 1 place left, not 2
        storage.reserve(_pooled("b3", "priority", places=2, capacity=3))
    after = dump(crashing.inner)
    # A refusal commits only the channel's skip pointer (alive: it still points at 0).
    assert after[OFFICE]["meta"].pop("~hint:priority").endswith(":0:0")
    assert after == before
    last = storage.reserve(_pooled("b4", "priority", places=1, capacity=3))
    assert last.label == "P-001"
    monday = date(2020, 6, 8)
    with crashing.inner.transaction(OFFICE, write=False) as tx:
        rows = tx.counters(
            ["c:online", "s:online@08:00", "c:priority", "p:loket"], monday, monday + timedelta(1)
        )
    assert {scope: row.used for (scope, _), row in rows.items()} == {
        "c:online": 2,
        "s:online@08:00": 2,
        "c:priority": 1,
        "p:loket": 3,
    }
    storage.cancel(OFFICE, first.id, not_before=date(2020, 6, 5))
    with crashing.inner.transaction(OFFICE, write=False) as tx:
        assert tx.counters(["p:loket"], monday, monday + timedelta(1))["p:loket", monday].used == 1


def test_writes_outside_a_write_transaction_are_refused() -> None:
    """A read transaction, or one that has ended, cannot write (it holds no lock then)."""
    primitives = new_primitives()
    with primitives.transaction(OFFICE, write=False) as tx, pytest.raises(qq.StorageError):
        tx.put_meta({"closure:2020-06-08": "Banjir"})
    with primitives.transaction(OFFICE, write=True) as tx:
        tx.put_meta({"closure:2020-06-08": "Banjir"})
    with pytest.raises(qq.StorageError):
        tx.put_meta({"closure:2020-06-09": "Banjir"})
    with primitives.transaction(OFFICE, write=False) as tx:
        assert tx.meta("closure:") == {"closure:2020-06-08": "Banjir"}
    with pytest.raises(TypeError):
        tx.bookings()


def test_a_duplicate_id_raises_key_error_and_keeps_the_first() -> None:
    """``put_booking(new=True)`` of an id that exists raises `KeyError` (without the id)."""
    primitives = new_primitives()
    first = _booking("b1", date(2020, 6, 8), key="k1", ref="r1")
    with primitives.transaction(OFFICE, write=True) as tx:
        tx.put_booking(first, new=True)
    with primitives.transaction(OFFICE, write=True) as tx, pytest.raises(KeyError) as dup:
        tx.put_booking(attrs.evolve(first, idempotency_key="k2"), new=True)
    assert "b1" not in str(dup.value)
    with primitives.transaction(OFFICE, write=False) as tx:
        assert tx.bookings(booking_id="b1") == [first]
        assert tx.bookings(key="k1") == [first]
        assert tx.bookings(key="k2") == []


# -- any sequence of writes: undone exactly, indexes always right --------------------------

DAYS = [date(2020, 6, 8) + timedelta(n) for n in range(3)]
IDS = ["b1", "b2", "b3"]


def _booking(
    booking_id: str, day: date, *, key: str | None, ref: str | None, number: int = 1
) -> Booking:
    return Booking(
        id=booking_id,
        office_id=OFFICE,
        channel="online",
        day=day,
        number=number,
        label=f"A-{number:03d}",
        status=BookingStatus.BOOKED,
        citizen_ref=ref,
        created_at=datetime(2020, 6, 5, 1, 0, tzinfo=ZoneInfo("UTC")),
        ticket="t",
        idempotency_key=key,
        previous_day=day - timedelta(1),
        previous_number=number,
        charges=("c:online",),
    )


writes = st.lists(
    st.one_of(
        st.builds(
            lambda scope, day, used: ("counters", {(scope, day): CounterRow(used, used)}),
            st.sampled_from(["c:online", "p:loket"]),
            st.sampled_from(DAYS),
            st.integers(0, 3),
        ),
        st.builds(
            lambda i, day, key, ref, n: ("booking", _booking(i, day, key=key, ref=ref, number=n)),
            st.sampled_from(IDS),
            st.sampled_from(DAYS),
            st.sampled_from([None, "k1", "k2"]),
            st.sampled_from([None, "r1", "r2"]),
            st.integers(1, 3),
        ),
        st.builds(
            lambda name, value: ("meta", {name: value}),
            st.sampled_from(["~epoch", "closure:2020-06-08", "~hint:online"]),
            st.sampled_from([None, "1", "2"]),
        ),
    ),
    max_size=12,
)


def _apply(tx: Any, ops: list[tuple[str, Any]], stored: set[str]) -> None:
    for kind, value in ops:
        if kind == "counters":
            tx.put_counters(value)
        elif kind == "meta":
            tx.put_meta(value)
        else:
            # Ids are unique and a key names one booking: replace under the same key or none.
            old = next(iter(tx.bookings(booking_id=value.id)), None)
            if old is not None:
                value = attrs.evolve(value, idempotency_key=old.idempotency_key)
            elif value.idempotency_key is not None and tx.bookings(key=value.idempotency_key):
                value = attrs.evolve(value, idempotency_key=None)
            tx.put_booking(value, new=old is None)
            stored.add(value.id)


def _check_indexes(primitives: Any) -> None:
    """Each index says exactly what the bookings say (after moves and replacements)."""
    for data in primitives._offices.values():
        bookings = data.bookings.values()
        assert data.by_key == {b.idempotency_key: b.id for b in bookings if b.idempotency_key}
        for ref, ids in data.by_ref.items():
            assert ids == {b.id for b in bookings if b.citizen_ref == ref}
        for day, ids in data.by_day.items():
            assert ids == {b.id for b in bookings if b.day == day}
        assert all(b.previous_day is None and b.previous_number is None for b in bookings)


@given(committed=writes, failed=writes)
def test_a_failed_transaction_undoes_any_writes(
    committed: list[tuple[str, Any]], failed: list[tuple[str, Any]]
) -> None:
    """Whatever a transaction wrote over whatever was there, a failure restores it all."""
    primitives = new_primitives()
    stored: set[str] = set()
    with primitives.transaction(OFFICE, write=True) as tx:
        _apply(tx, committed, stored)
    _check_indexes(primitives)
    before = dump(primitives)

    def fail() -> None:
        with primitives.transaction(OFFICE, write=True) as tx:
            _apply(tx, failed, set())
            raise Crash

    with pytest.raises(Crash):
        fail()
    assert dump(primitives) == before
    _check_indexes(primitives)
    with primitives.transaction(OFFICE, write=False) as tx:
        for booking_id in stored:
            (found,) = tx.bookings(booking_id=booking_id)
            assert tx.bookings(day=found.day).count(found) == 1


def test_a_transaction_holds_the_lock_from_start_to_end() -> None:
    """The lock is taken before the first read and released at the end, also on a failure
    (the races themselves are in the contract suite's threaded tests)."""
    primitives = new_primitives()
    for write in (False, True):
        with primitives.transaction(OFFICE, write=write) as tx:
            assert primitives._lock.locked()
            tx.meta("~")
        assert not primitives._lock.locked()
    with pytest.raises(Crash), primitives.transaction(OFFICE, write=True):
        raise Crash
    assert not primitives._lock.locked()
