"""The engine's operations on the event log and on days (`TransactionalStorage` has them):
reading events, reopening a closed day, writing reminders, and running a caller's own
transaction (the notifier keeps its cursor so). Rules written once, as in ``_engine``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from ..events import Event
from ..models import BookingStatus
from ._log import about, emit
from ._log import event_time as _at
from ._retry import retrying
from ._search import CLOSURE, bump_epoch
from .primitives import Primitives, Transaction

__all__ = ["MAX_EVENTS", "REMINDED", "Lifecycle"]

T = TypeVar("T")

#: State name prefix of the reminder marks: ``remind:<day>:<booking id>``.
REMINDED = "remind:"
#: At most this many events are read at once.
MAX_EVENTS = 1000


class Lifecycle:
    """The log and day operations of `TransactionalStorage`."""

    _p: Primitives

    #: Writes an `Event` in the transaction of every change; `Scheduler.events` reads them.
    supports_events = True

    @retrying
    def events(self, office_id: str, *, after: int = 0, limit: int = 100) -> list[Event]:
        """The office's events with ``seq > after``, in ``seq`` order, at most ``limit``."""
        with self._p.transaction(office_id, write=False) as tx:
            return tx.events(after, min(limit, MAX_EVENTS))

    @retrying
    def reopen_day(self, office_id: str, day: date, *, now: datetime | None = None) -> bool:
        """Lift the run-time closure of ``day`` (an event ``day_reopened``); ``False`` and
        nothing written if the day was not closed."""
        name = f"{CLOSURE}{day.isoformat()}"
        with self._p.transaction(office_id, write=True) as tx:
            reason = tx.meta(CLOSURE).get(name)
            if reason is None:
                return False
            meta = tx.meta("~")
            tx.put_meta({name: None})
            bump_epoch(tx, meta)  # skip pointers passed the closed day: look again
            emit(tx, meta, [("day_reopened", None, day, {"reason": reason})], _at(now))
            return True

    @retrying
    def remind(self, office_id: str, day: date, *, now: datetime | None = None) -> list[Event]:
        """A ``reminder`` event for each ``BOOKED`` booking of ``day`` that has none yet
        (marked in the same transaction: once per booking and day)."""
        prefix = f"{REMINDED}{day.isoformat()}:"
        with self._p.transaction(office_id, write=True) as tx:
            due = sorted(
                (b for b in tx.bookings(day=day) if b.status is BookingStatus.BOOKED),
                key=lambda b: (b.channel, b.number),
            )
            marks = tx.state(prefix) if due else {}
            fresh = [b for b in due if prefix + b.id not in marks]
            if not fresh:
                return []
            events = emit(tx, tx.meta("~"), [about("reminder", b) for b in fresh], _at(now))
            tx.put_state({prefix + b.id: str(e.seq) for b, e in zip(fresh, events, strict=True)})
            return events

    @retrying
    def run(self, office_id: str, work: Callable[[Transaction], T], *, write: bool) -> T:
        """``work(tx)`` in one transaction of the office, run again (whole) when the adapter
        asks to. ``work`` must do nothing but read and write through ``tx``."""
        with self._p.transaction(office_id, write=write) as tx:
            return work(tx)
