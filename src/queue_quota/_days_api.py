"""The `Scheduler`'s day-level methods: closing a day (and its preview's shared part),
marking no-shows, availability, manifests, closures and the next day with room (a mixin,
so that ``scheduler.py`` keeps to booking)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ._availability import Room, bookable_days
from ._candidates import CandidateCache
from ._candidates import build as build_candidates
from ._inputs import check_day
from .errors import ConfigurationError
from .models import Booking, DayAvailability
from .policies.base import BookingRequest
from .storage.base import ChannelMove

if TYPE_CHECKING:
    from .calendar import WorkingCalendar
    from .office import Office
    from .storage.base import Storage

__all__ = ["MOVE_HORIZON_DAYS", "SchedulerDays"]

#: How far after a closed day `close_day` looks for room for the moved bookings.
MOVE_HORIZON_DAYS = 366
_MAX_RANGE_DAYS = 3700


class SchedulerDays:
    """Mixed into `Scheduler`."""

    _office: Office
    _storage: Storage
    _calendar: WorkingCalendar
    _candidates: CandidateCache
    _room: Room
    _order: dict[str, int]
    _now: Callable[[datetime | None], datetime]

    if TYPE_CHECKING:

        def _when(self, at: datetime, *, frees: bool = False) -> dict[str, Any]: ...
        def _effective_calendar(self) -> WorkingCalendar: ...
        def today(self, *, now: datetime | None = None) -> date: ...

    def close_day(self, day: date, reason: str, *, now: datetime | None = None) -> list[Booking]:
        """Close ``day`` for every process sharing the storage and move its bookings.

        Bookings still ``BOOKED`` on that day are moved, channel by channel in the office's
        order and each channel in number order, to the next working days with room (up to a
        year ahead, beyond the booking horizon if need be). All in one transaction.

        Returns:
            The moved bookings, in that order (notify these citizens). Closing a day that
            is already closed returns ``[]``.

        Raises:
            ConfigurationError: A past day or an empty reason.
            QuotaExhausted: The bookings cannot all be placed within a year (nothing done).
        """
        reason, moves, when = self._closing(day, reason, now)
        return self._storage.close_day(self._office.id, day, reason, moves, **when)

    def _closing(
        self, day: date, reason: str, now: datetime | None
    ) -> tuple[str, dict[str, ChannelMove], dict[str, Any]]:
        """The checks of closing ``day`` and what the storage is handed: the reason, each
        channel's moves, ``now=`` (and ``promoter=``); shared with `preview_close_day`."""
        check_day("day", day)
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigurationError(
                "a closure needs a reason (non-empty text)",
                message_key="configuration_error.closure_reason",
            )
        at = self._now(now)
        today = self._calendar.local_date(at)
        if day < today:
            raise ConfigurationError(
                f"cannot close a past day ({day}; today is {today})",
                message_key="configuration_error.past_day",
                day=day,
                today=today,
            )
        calendar = self._effective_calendar().with_closures({day: reason})
        days = tuple(
            calendar.working_days(
                day + timedelta(days=1), day + timedelta(days=MOVE_HORIZON_DAYS + 1)
            )
        )
        moves = {
            p.channel: ChannelMove(p.prefix, build_candidates(self._office, p, days))
            for p in self._office.policies
        }
        return reason.strip(), moves, self._when(at, frees=True) or {"now": at.astimezone(UTC)}

    def mark_no_shows(self, day: date, *, now: datetime | None = None) -> list[Booking]:
        """Record who did not come on ``day``: its ``BOOKED`` bookings become ``NO_SHOW``.

        Run it once a day has ended in the office's zone (e.g. from a nightly job): every
        booking of ``day`` still ``BOOKED`` (on any channel) is marked ``NO_SHOW`` and
        leaves the day's count of booked places; checked-in and cancelled bookings are left
        as they are. All in one transaction. A no-show does not count towards the
        per-citizen limit (that limit counts bookings booked or checked in from today on),
        and its queue number is never given to anyone else.

        Args:
            day: A day that has ended (before today at the office).
            now: The current time (default: the scheduler's clock).

        Returns:
            The marked bookings in service order (the office's channel order, then
            number). Marking a day again returns ``[]``.

        Raises:
            ConfigurationError: ``day`` is not a date, or the day has not ended (today or
                later).
        """
        check_day("day", day)
        at = self._now(now)
        today = self._calendar.local_date(at)
        if day >= today:
            raise ConfigurationError(
                f"the day has not ended: cannot mark no-shows of {day} (today is {today})",
                message_key="configuration_error.day_not_ended",
                day=day,
                today=today,
            )
        marked = self._storage.mark_no_shows(self._office.id, day, **self._when(at))
        return sorted(marked, key=lambda b: (self._order.get(b.channel, 1 << 30), b.number))

    def availability(
        self, channel: str, start: date, end: date, *, now: datetime | None = None
    ) -> list[DayAvailability]:
        """One `DayAvailability` per calendar day in ``[start, end)`` for ``channel``.

        A closed day (weekend, holiday, closure) has ``capacity == remaining == 0`` and its
        ``closed_reason``. ``bookable`` is whether a request on ``channel`` at ``now``
        (default: the clock) could take the day: open, with room, one of the channel's
        candidate days at ``now`` and admitted by its rules.
        """
        policy = self._office.policy(channel)
        check_day("start", start)
        check_day("end", end)
        if end < start or (end - start).days > _MAX_RANGE_DAYS:
            raise ConfigurationError(
                f"need start <= end and at most {_MAX_RANGE_DAYS} days, got {start} .. {end}",
                message_key="configuration_error.date_range",
                start=start,
                end=end,
                max_days=_MAX_RANGE_DAYS,
            )
        at = self._now(now)
        calendar = self._effective_calendar()
        local = self._calendar.local_time(at)
        probe = BookingRequest(channel=policy.channel, now=local, today=local.date())
        days = dict.fromkeys(c.day for c in self._candidates.get(policy, probe, self._calendar)[0])
        bookable = bookable_days(policy, calendar, probe, days)
        return self._room.table(policy, calendar, start, end, bookable)

    def manifest(
        self, day: date, channel: str | None = None, *, include_cancelled: bool = False
    ) -> list[Booking]:
        """The bookings of ``day`` in service order: channel order of the office, then
        arrival window, then number."""
        check_day("day", day)
        if channel is not None:
            self._office.policy(channel)
        found = self._storage.bookings_on(
            self._office.id, day, channel, include_cancelled=include_cancelled
        )
        return sorted(
            found,
            key=lambda b: (
                self._order.get(b.channel, 1 << 30),
                b.window[0] if b.window else time.min,
                b.number,
            ),
        )

    def closures(self) -> dict[date, str]:
        """Days closed at run time (by any process sharing the storage), with reasons."""
        return self._storage.closures(self._office.id)

    def next_available(self, channel: str, *, now: datetime | None = None) -> date | None:
        """The earliest day in ``channel``'s booking window that still has room (advisory)."""
        policy = self._office.policy(channel)
        today = self.today(now=now)
        calendar = self._effective_calendar()
        # The window is the office calendar's, as in `book`; run-time closures close days.
        start, last = policy.booking_window(today, self._calendar)
        return self._room.first_with_room(policy, calendar, start, last)
