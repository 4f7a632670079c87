"""The `Scheduler`'s previews: what closing a day, or a new office file, would do, with
nothing written (a mixin, so that ``scheduler.py`` keeps to booking).

`preview_close_day` runs `close_day`'s own code: the same checks and candidates
(``Scheduler._closing``) and the same storage transaction, rolled back at its end
(``TransactionalStorage.close_day(..., dry_run=True)``). `preview_office` builds the new
office's capacities with the candidate code bookings use (`queue_quota._candidates.build`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ._candidates import build, session_scope, sessions_of
from .errors import ConfigurationError
from .models import Booking, BookingStatus, channel_scope
from .office import Office
from .preview import OfficePreview, OverCapacity
from .storage._engine import TransactionalStorage

if TYPE_CHECKING:
    from .calendar import WorkingCalendar
    from .storage.base import ChannelMove, Storage

__all__ = ["SchedulerPreviews"]

#: How far from today `preview_office` looks for bookings (moved bookings may lie beyond
#: the booking horizon: up to a year after a closed day, and again after another).
PREVIEW_SPAN_DAYS = 3700

_ACTIVE = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)
_NARROWEST_FIRST = {"s:": 0, "c:": 1, "p:": 2}


class SchedulerPreviews:
    """Mixed into `Scheduler`."""

    _office: Office
    _storage: Storage
    _calendar: WorkingCalendar
    _now: Callable[[datetime | None], datetime]
    _order: dict[str, int]

    if TYPE_CHECKING:

        def _closing(
            self, day: date, reason: str, now: datetime | None
        ) -> tuple[str, dict[str, ChannelMove], dict[str, Any]]: ...

    def preview_close_day(
        self, day: date, reason: str, *, now: datetime | None = None
    ) -> list[Booking]:
        """What `close_day` would return now, with nothing written.

        The same checks, candidates and storage transaction as `close_day`, rolled back at
        its end: the same bookings, days, numbers and windows (in the same order), and no
        closure, counter, event or ``seq`` left behind. A day already closed gives ``[]``.
        What it says holds until another change is made (a booking, a cancel, ...).

        Raises:
            ConfigurationError: A past day, an empty reason, or a storage not built on
                `TransactionalStorage` (it cannot roll a close back).
            QuotaExhausted: `close_day` could not place every booking within a year.
        """
        storage = self._storage
        if not isinstance(storage, TransactionalStorage):
            raise ConfigurationError(
                f"{type(storage).__name__} cannot preview a closure; use a storage built on "
                "TransactionalStorage (memory, SQLite, PostgreSQL, or your own primitives)"
            )
        reason, moves, when = self._closing(day, reason, now)
        return storage.close_day(self._office.id, day, reason, moves, dry_run=True, **when)

    def preview_office(self, office: Office, *, now: datetime | None = None) -> OfficePreview:
        """Which bookings from today on a new office file (another capacity, sessions,
        pools, calendar) would leave over capacity, and which would have to move.

        For every day from today that holds bookings, each counter (``c:<channel>``,
        ``s:<channel>@HH:MM``, ``p:<pool>``) whose booked places exceed what ``office``
        gives that day, built by the code bookings use. A day ``office``'s calendar closes
        (with the days opened at run time still open) gives 0; so does a channel it no
        longer has; a session or pool it no longer has limits nothing (the bookings still
        count in their channel's day). Days closed at run time (`close_day`) are compared
        like any other. Then, per counter, the
        last-numbered ``BOOKED`` bookings, just enough to get within capacity (a booking
        on two such counters counted once). Reads only.

        Raises:
            ConfigurationError: ``office`` is not an `Office`, or is another office (its
                ``id`` differs), or ``now`` is naive.
        """
        if not isinstance(office, Office):
            raise ConfigurationError(f"office must be an Office, got {type(office).__name__}")
        if office.id != self._office.id:
            raise ConfigurationError(
                f"the office file is of office {office.id!r}, not {self._office.id!r}"
            )
        today = self._calendar.local_date(self._now(now))
        calendar = office.calendar
        openings = getattr(self._storage, "openings", None)
        if openings is not None:
            opened, _ = openings(self._office.id)
            if opened:
                calendar = calendar.with_openings(opened)
        channels = list(dict.fromkeys([*self._office.channels, *office.channels]))
        order = {c: i for i, c in enumerate(channels)}
        over: list[OverCapacity] = []
        to_move: list[Booking] = []
        for day in self._booked_days(channels, today, today + timedelta(PREVIEW_SPAN_DAYS)):
            found, moving = _day_over(office, calendar, day, self._bookings(day), order)
            over += found
            to_move += moving
        to_move.sort(key=lambda b: (b.day, order.get(b.channel, len(order)), b.number))
        return OfficePreview(self._office.id, today, tuple(over), tuple(to_move))

    def _booked_days(self, channels: Iterable[str], start: date, end: date) -> list[date]:
        """The days in ``[start, end)`` on which some channel's counter has places used
        (every booking charges a channel's counter: its own, or the one whose unused
        places it took)."""
        days: set[date] = set()
        for channel in channels:
            days.update(self._storage.booked_counts(self._office.id, channel, start, end))
        return sorted(days)

    def _bookings(self, day: date) -> list[Booking]:
        found = self._storage.bookings_on(self._office.id, day)
        return [b for b in found if b.status in _ACTIVE]


def _scopes(booking: Booking) -> tuple[str, ...]:
    """The counters a booking holds places on (its channel's, for a storage that keeps
    no charges)."""
    return booking.charges or (channel_scope(booking.channel),)


def _capacities(office: Office, calendar: WorkingCalendar, day: date) -> dict[str, int]:
    """What ``office`` gives each counter on ``day``: the charges of its candidates."""
    if not calendar.is_working_day(day):
        return {}
    caps: dict[str, int] = {}
    for policy in office.policies:
        for candidate in build(office, policy, (day,)):
            for charge in candidate.charges:
                caps[charge.scope] = charge.capacity
    return caps


def _counters(office: Office, order: dict[str, int], used: Iterable[str]) -> list[str]:
    """The counters of a day with places used, in report order: channels (the office's
    order), sessions (by channel, then start), pools. A session or pool the new office
    does not have is left out: it limits nothing any more (its bookings still count in
    their channel's day)."""
    pools = [p.scope for p in office.pools]
    sessions = {session_scope(p.channel, s) for p in office.policies for s in sessions_of(p)}

    def rank(scope: str) -> tuple[int, int, str]:
        kind, name = scope[:2], scope[2:]
        if kind == "c:":
            return 0, order.get(name, len(order)), ""
        if kind == "s:":
            channel, _, start = name.partition("@")
            return 1, order.get(channel, len(order)), start
        return 2, pools.index(scope) if scope in pools else len(pools), scope

    return sorted((s for s in used if s[:2] == "c:" or s in pools or s in sessions), key=rank)


def _day_over(
    office: Office,
    calendar: WorkingCalendar,
    day: date,
    bookings: Sequence[Booking],
    order: dict[str, int],
) -> tuple[list[OverCapacity], list[Booking]]:
    """The counters of ``day`` over what ``office`` gives, and the bookings to move."""
    used: dict[str, int] = {}
    for b in bookings:
        for scope in _scopes(b):
            used[scope] = used.get(scope, 0) + b.places
    caps = _capacities(office, calendar, day)
    over: list[OverCapacity] = []
    chosen: dict[str, Booking] = {}
    # The last-numbered first (for a pool of several channels, the later channel first).
    movable = sorted(
        (b for b in bookings if b.status is BookingStatus.BOOKED),
        key=lambda b: (b.number, order.get(b.channel, len(order))),
        reverse=True,
    )
    for scope in _counters(office, order, used):
        booked, capacity = used[scope], caps.get(scope, 0)
        if booked > capacity:
            over.append(OverCapacity(day, scope, booked, capacity))
    # The narrowest counters first (a session lies within its channel's day, a channel's
    # day within its pools): what a session gives up counts for its day and pools too.
    for o in sorted(over, key=lambda o: _NARROWEST_FIRST.get(o.counter[:2], 3)):
        excess = o.over - sum(b.places for b in chosen.values() if o.counter in _scopes(b))
        for b in movable:
            if excess <= 0:
                break
            if b.id not in chosen and o.counter in _scopes(b):
                chosen[b.id] = b
                excess -= b.places
    return over, list(chosen.values())
