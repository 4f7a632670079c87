"""`MemoryStorage`: in-process, thread-safe, for tests and single-process apps.

The booking rules are `TransactionalStorage`'s; this module holds only the primitives:
dicts per office, one lock, and an undo log so that a failed transaction leaves nothing.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import attrs

from ..events import Event, booking_data
from ..models import Booking
from ._engine import TransactionalStorage
from .primitives import CounterRow

__all__ = ["MemoryStorage"]

_ONE = timedelta(days=1)


class _Office:
    """Everything stored for one office."""

    __slots__ = ("bookings", "by_day", "by_ref", "counters", "events", "keys", "meta", "state")

    def __init__(self) -> None:
        self.counters: dict[tuple[str, date], CounterRow] = {}
        self.bookings: dict[str, Booking] = {}
        self.keys: dict[str, str] = {}  # idempotency key -> booking id
        self.by_ref: dict[str, list[str]] = {}  # citizen ref -> booking ids
        self.by_day: dict[date, list[str]] = {}
        self.meta: dict[str, str] = {}
        # By seq (1, 2, 3, ...): an Event, or the Booking a "booked" event says all about.
        self.events: list[Event | Booking] = []
        self.state: dict[str, str] = {}

    def logged(self, start: int, stop: int) -> list[Event]:
        """The events at indexes ``[start, stop)`` of the log, as `Event`s."""
        return [
            item if isinstance(item, Event) else _booked(seq, item)
            for seq, item in enumerate(self.events[start:stop], start=start + 1)
        ]

    def compact(self, event: Event) -> Event | Booking:
        """What the log keeps of ``event``: a ``booked`` event that says exactly what its
        booking (as stored now) says is kept as that booking, already in memory (most of
        the log: a reference instead of about 300 bytes an event)."""
        if event.kind == "booked" and event.booking_id is not None:
            b = self.bookings.get(event.booking_id)
            if (
                b is not None
                and event.at == b.created_at
                and event.day == b.day
                and event.data == booking_data(b)
            ):
                return b
        return event


def _booked(seq: int, b: Booking) -> Event:
    return Event(
        seq=seq, kind="booked", booking_id=b.id, day=b.day, at=b.created_at, data=booking_data(b)
    )


class _Tx:
    """A transaction on one office's dicts; ``undo`` reverses its writes if it fails."""

    __slots__ = ("_o", "undo")

    def __init__(self, office: _Office) -> None:
        self._o = office
        self.undo: list[Callable[[], None]] | None = None

    def counters(
        self, scopes: Sequence[str], start: date, end: date
    ) -> dict[tuple[str, date], CounterRow]:
        rows = self._o.counters
        out: dict[tuple[str, date], CounterRow] = {}
        d = start
        while d < end:
            for scope in scopes:
                row = rows.get((scope, d))
                if row is not None:
                    out[(scope, d)] = row
            d += _ONE
        return out

    def put_counters(self, rows: Mapping[tuple[str, date], CounterRow]) -> None:
        stored = self._o.counters
        for key, row in rows.items():
            if self.undo is not None:
                self.undo.append(_restore(stored, key, stored.get(key)))
            stored[key] = row

    def bookings(
        self,
        *,
        booking_id: str | None = None,
        key: str | None = None,
        refs: Sequence[str] | None = None,
        since: date | None = None,
        day: date | None = None,
    ) -> list[Booking]:
        o = self._o
        if booking_id is not None:
            found = o.bookings.get(booking_id)
            return [] if found is None else [found]
        if key is not None:
            i = o.keys.get(key)
            return [] if i is None else [o.bookings[i]]
        if refs is not None:
            out = [o.bookings[i] for ref in refs for i in o.by_ref.get(ref, ())]
            return out if since is None else [b for b in out if b.day >= since]
        if day is not None:
            return [o.bookings[i] for i in o.by_day.get(day, ())]
        raise ValueError("bookings() needs one criterion")

    def put_booking(self, booking: Booking, *, new: bool) -> None:
        o = self._o
        old = o.bookings.get(booking.id)
        if new and old is not None:
            raise KeyError(booking.id)
        if not new and old is None:
            raise KeyError(booking.id)
        undo = self.undo
        stored = attrs_plain(booking)
        o.bookings[booking.id] = stored
        if undo is not None:
            undo.append(_restore(o.bookings, booking.id, old))
        if old is None:
            _append(o.by_day, booking.day, booking.id, undo)
            if booking.idempotency_key is not None:
                if undo is not None:
                    undo.append(_restore(o.keys, booking.idempotency_key, None))
                o.keys[booking.idempotency_key] = booking.id
            if booking.citizen_ref is not None:
                _append(o.by_ref, booking.citizen_ref, booking.id, undo)
        elif old.day != booking.day:
            o.by_day[old.day].remove(booking.id)
            if undo is not None:
                undo.append(lambda: o.by_day[old.day].append(booking.id))
            _append(o.by_day, booking.day, booking.id, undo)

    def meta(self, prefix: str) -> dict[str, str]:
        return {k: v for k, v in self._o.meta.items() if k.startswith(prefix)}

    def put_meta(self, items: Mapping[str, str | None]) -> None:
        self._put(self._o.meta, items)

    def _put(self, stored: dict[str, str], items: Mapping[str, str | None]) -> None:
        """Set (or with ``None`` delete) names of ``stored``, undoable."""
        for key, value in items.items():
            if self.undo is not None:
                self.undo.append(_restore(stored, key, stored.get(key)))
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value

    def events(self, after: int, limit: int) -> list[Event]:
        # seqs are 1, 2, 3, ...: event ``seq`` is at index ``seq - 1``.
        start = max(after, 0)
        return self._o.logged(start, start + max(limit, 0))

    def put_events(self, events: Sequence[Event]) -> None:
        log = self._o.events
        for event in events:
            if event.seq != len(log) + 1:
                raise ValueError(f"event seq {event.seq} does not follow {len(log)}")
            log.append(self._o.compact(event))
            if self.undo is not None:
                self.undo.append(functools.partial(_drop_last, log))

    def state(self, prefix: str) -> dict[str, str]:
        return {k: v for k, v in self._o.state.items() if k.startswith(prefix)}

    def put_state(self, items: Mapping[str, str | None]) -> None:
        self._put(self._o.state, items)


def _drop_last(log: list[Event | Booking]) -> None:
    log.pop()


def attrs_plain(booking: Booking) -> Booking:
    """The booking as stored: without the fields that are only returned (where it was)."""
    if booking.previous_day is None and booking.previous_number is None:
        return booking
    return attrs.evolve(booking, previous_day=None, previous_number=None)


def _restore(store: dict[Any, Any], key: Any, value: Any) -> Callable[[], None]:
    def undo() -> None:
        if value is None:
            store.pop(key, None)
        else:
            store[key] = value

    return undo


def _append(
    index: dict[Any, list[str]], key: Any, booking_id: str, undo: list[Callable[[], None]] | None
) -> None:
    ids = index.get(key)
    if ids is None:
        index[key] = [booking_id]
        if undo is not None:
            undo.append(lambda: _pop(index, key))
    else:
        ids.append(booking_id)
        if undo is not None:
            undo.append(lambda: ids.remove(booking_id))


def _pop(index: dict[Any, list[str]], key: Any) -> None:
    index.pop(key, None)


class _MemoryPrimitives:
    """Dicts per office under one lock."""

    persistent = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offices: dict[str, _Office] = {}

    def __repr__(self) -> str:
        n = sum(len(o.bookings) for o in self._offices.values())
        return f"bookings={n}"

    def migrate(self) -> None:
        """Nothing to create."""

    def close(self) -> None:
        """Nothing to release."""

    @contextmanager
    def transaction(self, office_id: str, *, write: bool) -> Iterator[_Tx]:
        with self._lock:
            office = self._offices.get(office_id)
            if office is None:
                office = self._offices[office_id] = _Office()
            tx = _Tx(office)
            if write:
                tx.undo = []
            try:
                yield tx
            except BaseException:
                for undo in reversed(tx.undo or ()):
                    undo()
                raise


class MemoryStorage(TransactionalStorage):
    """Bookings kept in dicts, every transaction under one lock.

    Nothing survives the process, so a `Scheduler` on it may run without a secret.
    """

    def __init__(self) -> None:
        super().__init__(_MemoryPrimitives())

    def __repr__(self) -> str:
        return f"<MemoryStorage {self.primitives!r}>"
