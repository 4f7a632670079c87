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
from ._waitlist import Promoter, promote
from .primitives import Primitives, Transaction

__all__ = [
    "MAX_EVENTS",
    "OPENING",
    "OPENINGS",
    "REMINDED",
    "Lifecycle",
    "StaleCalendar",
    "bump_openings",
    "check_openings",
]

T = TypeVar("T")

#: State name prefix of the reminder marks: ``remind:<day>:<booking id>``.
REMINDED = "remind:"
#: At most this many events are read at once.
MAX_EVENTS = 1000
#: Meta names: a day opened at run time (``open:<day>``, the holiday's name), and the
#: version of the openings (in the ``"~"`` meta every write transaction reads).
OPENING = "open:"
OPENINGS = "~openings"


class StaleCalendar(Exception):
    """The reservation was built on openings older than the storage's: nothing was
    written; the scheduler reads the openings again and builds the candidates anew."""


def bump_openings(tx: Transaction, meta: dict[str, str]) -> None:
    """A new version of the office's openings (every scheduler rebuilds its candidates)."""
    meta[OPENINGS] = str(int(meta.get(OPENINGS, "0")) + 1)
    tx.put_meta({OPENINGS: meta[OPENINGS]})


def check_openings(meta: dict[str, str], version: str | None) -> None:
    """`StaleCalendar` when a reservation's openings ``version`` is not the storage's."""
    if version is not None and meta.get(OPENINGS, "0") != version:
        raise StaleCalendar(meta.get(OPENINGS, "0"))


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
    def openings(self, office_id: str) -> tuple[frozenset[date], str]:
        """The days opened at run time despite the office calendar, and their version (it
        changes with every opening and every closing of an opened day)."""
        with self._p.transaction(office_id, write=False) as tx:
            found = tx.meta(OPENING)
            version = tx.meta(OPENINGS).get(OPENINGS, "0")
        return frozenset(date.fromisoformat(k[len(OPENING) :]) for k in found), version

    @retrying
    def reopen_day(
        self,
        office_id: str,
        day: date,
        *,
        now: datetime | None = None,
        promoter: Promoter | None = None,
        holiday: str | None = None,
    ) -> bool:
        """Lift the run-time closure of ``day`` and, given the name of the ``holiday`` that
        closes it in the office calendar, open it (an event ``day_reopened``); then give its
        room to the waitlist. ``False`` and nothing written if the day was open already."""
        iso = day.isoformat()
        name = f"{CLOSURE}{iso}"
        with self._p.transaction(office_id, write=True) as tx:
            reason = tx.meta(CLOSURE).get(name)
            opening = holiday is not None and f"{OPENING}{iso}" not in tx.meta(OPENING)
            if reason is None and not opening:
                return False
            meta = tx.meta("~")
            if reason is not None:
                tx.put_meta({name: None})
            data: dict[str, object] = {"reason": reason or holiday}
            if opening:
                tx.put_meta({f"{OPENING}{iso}": holiday})
                bump_openings(tx, meta)
                data["opened"] = True
            bump_epoch(tx, meta)  # skip pointers passed the closed day: look again
            at = _at(now)
            _, promoted = promote(tx, office_id, meta, None, promoter, at, (day,))
            emit(tx, meta, [("day_reopened", None, day, data), *promoted], at)
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
