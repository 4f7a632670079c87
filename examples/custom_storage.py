"""A storage adapter written from scratch: an office's data in plain dicts.

`DictPrimitives` implements `queue_quota.storage.primitives.Primitives`: transactions over
five kinds of data (counters, bookings, a little meta, the event log, state values).
`TransactionalStorage` turns it into a whole `Storage`: every booking rule (idempotency,
limits, numbers, the search over days and sessions, transitions, events) is written there,
once, and this file has none of them.

Copy it for Redis, a document store or another SQL database: each dict below is a table (or a
hash), each method a query or two. What your database must give you is what this file does
with a lock and an undo log: **a write transaction excludes every other writer of the office
from its first read to its end, and if it fails, nothing it wrote remains.**

Run it: ``python examples/custom_storage.py``. The walk-through, and the contract suite that
proves an adapter: docs/how-to/custom-storage.md.
"""

# --8<-- [start:imports]
from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import attrs

import queue_quota as qq
from queue_quota.errors import StorageError
from queue_quota.events import Event
from queue_quota.models import Booking
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import TransactionalStorage
from queue_quota.storage.primitives import CounterRow

# --8<-- [end:imports]

__all__ = ["DictPrimitives", "DictTransaction", "OfficeData", "main"]


# --8<-- [start:data]
@attrs.define(eq=False)
class OfficeData:
    """One office's data: five "tables", and the indexes that the engine's lookups need
    (in SQL, the indexes you would declare; in Redis, sets kept beside the hashes)."""

    counters: dict[tuple[str, date], CounterRow] = attrs.Factory(dict)  # (scope, day) -> row
    bookings: dict[str, Booking] = attrs.Factory(dict)  # booking id -> booking
    meta: dict[str, str] = attrs.Factory(dict)  # "closure:2020-06-05", "~epoch", ...
    events: dict[int, Event] = attrs.Factory(dict)  # seq -> event (1, 2, 3, ...)
    state: dict[str, str] = attrs.Factory(dict)  # notifier cursors, reminder marks, ...
    by_key: dict[str, str] = attrs.Factory(dict)  # idempotency key -> booking id
    by_ref: dict[str, set[str]] = attrs.Factory(dict)  # citizen ref -> booking ids
    by_day: dict[date, set[str]] = attrs.Factory(dict)  # day -> booking ids


# --8<-- [end:data]


# --8<-- [start:transaction]
K = TypeVar("K")
V = TypeVar("V")


class DictTransaction:
    """One transaction on one office's data, opened by `DictPrimitives.transaction`.

    Writes change the dicts in place (so later reads in the transaction see them), and each
    first appends to `undo` the step that reverses it. If the transaction fails, the steps
    run backwards and the office is as it was: a failed booking must not leave a counter
    taken, a number used or a day closed. (SQL gives you this with ROLLBACK. Without
    rollback, as in Redis, keep the writes in the transaction object, let the reads see
    them, and send them all at the end in one MULTI/EXEC.)
    """

    def __init__(self, data: OfficeData, *, write: bool) -> None:
        self._data = data
        self._write = write
        self.open = True
        self.undo: list[Callable[[], object]] = []

    # -- reads: return new containers, never the stored ones -----------------------------

    def counters(
        self, scopes: Sequence[str], start: date, end: date
    ) -> dict[tuple[str, date], CounterRow]:
        """The rows of ``scopes`` on the days of ``[start, end)`` (the engine asks for up
        to 16 candidates at once: make it one query, e.g. Redis HMGET)."""
        rows = self._data.counters
        days = [start + timedelta(days=n) for n in range((end - start).days)]
        return {(s, d): rows[s, d] for s in scopes for d in days if (s, d) in rows}

    def bookings(
        self,
        *,
        booking_id: str | None = None,
        key: str | None = None,
        refs: Sequence[str] | None = None,
        since: date | None = None,
        day: date | None = None,
    ) -> list[Booking]:
        """Bookings by one criterion, each through its index."""
        data = self._data
        ids: Iterable[str]
        if booking_id is not None:
            ids = (booking_id,)
        elif key is not None:
            ids = (data.by_key[key],) if key in data.by_key else ()
        elif refs is not None:
            ids = {i for ref in refs for i in data.by_ref.get(ref, ())}
        elif day is not None:
            ids = tuple(data.by_day.get(day, ()))
        else:
            raise TypeError("bookings() needs booking_id, key, refs or day")
        found = [data.bookings[i] for i in ids if i in data.bookings]
        return [b for b in found if since is None or b.day >= since]

    def meta(self, prefix: str) -> dict[str, str]:
        """The meta values whose names start with ``prefix`` (a handful per office)."""
        return {k: v for k, v in self._data.meta.items() if k.startswith(prefix)}

    def events(self, after: int, limit: int) -> list[Event]:
        """The events after ``seq`` ``after``, in order (seqs have no gaps: a range read)."""
        log = self._data.events
        return [log[s] for s in range(after + 1, after + 1 + limit) if s in log]

    def state(self, prefix: str) -> dict[str, str]:
        """The state values whose names start with ``prefix`` (any number: in SQL, a range
        read on the key; in Redis, a sorted set or SCAN on the prefix)."""
        return {k: v for k, v in self._data.state.items() if k.startswith(prefix)}

    # -- writes: each one recorded in the undo log first ---------------------------------

    def put_counters(self, rows: Mapping[tuple[str, date], CounterRow]) -> None:
        """Create or replace counter rows."""
        self._writable()
        for where, row in rows.items():
            self._put(self._data.counters, where, row)

    def put_booking(self, booking: Booking, *, new: bool) -> None:
        """Insert (``new``: a duplicate id raises `KeyError`) or replace a booking."""
        self._writable()
        old = self._data.bookings.get(booking.id)
        if new and old is not None:
            raise KeyError("duplicate booking id")  # never echo the id
        if old is not None:  # a move changes the day: re-index
            self._index(old, add=False)
        # The previous day and number describe a move's answer, not the booking: not stored.
        booking = attrs.evolve(booking, previous_day=None, previous_number=None)
        self._put(self._data.bookings, booking.id, booking)
        self._index(booking, add=True)

    def put_meta(self, items: Mapping[str, str | None]) -> None:
        """Set meta values (``None`` deletes)."""
        self._writable()
        for name, value in items.items():
            self._put(self._data.meta, name, value)

    def put_events(self, events: Sequence[Event]) -> None:
        """Append events; the engine numbers them inside the write transaction."""
        self._writable()
        for event in events:
            if event.seq in self._data.events:
                raise StorageError("an event with that seq exists")
            self._put(self._data.events, event.seq, event)

    def put_state(self, items: Mapping[str, str | None]) -> None:
        """Set state values (``None`` deletes)."""
        self._writable()
        for name, value in items.items():
            self._put(self._data.state, name, value)

    def _writable(self) -> None:
        if not (self._write and self.open):
            raise StorageError("write outside a write transaction")

    def _put(self, table: dict[K, V], key: K, value: V | None) -> None:
        """``table[key] = value`` (``None``: delete), recording how to undo it."""
        if key in table:
            self.undo.append(functools.partial(table.__setitem__, key, table[key]))
        else:
            self.undo.append(functools.partial(table.pop, key, None))
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value

    def _member(self, ids: set[str], booking_id: str, *, add: bool) -> None:
        """Add ``booking_id`` to (or remove it from) an index set, recording the undo."""
        if add and booking_id not in ids:
            ids.add(booking_id)
            self.undo.append(functools.partial(ids.discard, booking_id))
        elif not add and booking_id in ids:
            ids.discard(booking_id)
            self.undo.append(functools.partial(ids.add, booking_id))

    def _index(self, b: Booking, *, add: bool) -> None:
        data = self._data
        if b.idempotency_key is not None:
            self._put(data.by_key, b.idempotency_key, b.id if add else None)
        if b.citizen_ref is not None:
            self._member(data.by_ref.setdefault(b.citizen_ref, set()), b.id, add=add)
        self._member(data.by_day.setdefault(b.day, set()), b.id, add=add)


# --8<-- [end:transaction]


# --8<-- [start:primitives]
class DictPrimitives:
    """`Primitives` over plain dicts: one lock per storage, an undo log per transaction.

    Not persistent: the data lives as long as this object (so a `Scheduler` on it needs no
    secret). Two `TransactionalStorage` on one `DictPrimitives` are two handles on one store.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offices: dict[str, OfficeData] = {}

    def __repr__(self) -> str:
        return f"<DictPrimitives offices={len(self._offices)}>"

    @property
    def persistent(self) -> bool:
        """Whether data outlives the process: not in dicts."""
        return False

    @contextmanager
    def transaction(self, office_id: str, *, write: bool) -> Iterator[DictTransaction]:
        """A transaction on one office: it holds the lock from its first read to its end.

        That is what makes a booking atomic: the engine reads the counters, checks that
        every one has room, then writes them and the booking, and no other writer can run
        in between. Reads take the lock too: dicts changing under a reader are not a
        consistent snapshot. (A database would lock only this office's rows, or
        ``BEGIN IMMEDIATE``; a driver's errors would be raised here as `StorageError`.)
        """
        with self._lock:
            tx = DictTransaction(self._offices.setdefault(office_id, OfficeData()), write=write)
            try:
                yield tx
            except BaseException:
                for step in reversed(tx.undo):  # nothing the failed transaction wrote remains
                    step()
                raise
            finally:
                tx.open = False

    def migrate(self) -> None:
        """Nothing to create (a database adapter creates its tables here, idempotently)."""

    def close(self) -> None:
        """Nothing to release (a client closes its connection here; called more than once)."""


# --8<-- [end:primitives]


def main() -> None:
    """Book, fill a day and cancel on a `TransactionalStorage` over `DictPrimitives`."""
    office = qq.Office(
        id="tegal-disdukcapil",
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[
            OnlineQuota(capacity=20),
            WalkInQuota(capacity=2, opens=time(7, 30), closes=time(12)),
        ],
    )
    sched = qq.Scheduler(office, TransactionalStorage(DictPrimitives()))
    friday = datetime(2020, 6, 5, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    online = sched.book("online", "3328011234560001", now=friday)
    print(f"online: {online.label} on {online.day}")
    walk_ins = [sched.book("walk_in", now=friday) for _ in range(2)]
    try:
        sched.book("walk_in", now=friday)
    except qq.QuotaExhausted as full:
        print(f"walk_in: {', '.join(b.label for b in walk_ins)}, then {full.code}")
    sched.cancel(walk_ins[0].id, now=friday)
    again = sched.book("walk_in", now=friday)
    print(f"after a cancel: {again.label} (numbers are never reused)")


if __name__ == "__main__":
    main()
