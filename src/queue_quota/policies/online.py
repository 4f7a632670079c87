"""`OnlineQuota`: registrations ahead of time, on the earliest working day with room."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from ..capacity import CapacityCalendar
from ..counters import Session, check_sessions
from ..errors import DayClosed, OutsideBookingWindow
from . import _shared, _validate
from .base import BookingRequest

if TYPE_CHECKING:
    from ..calendar import WorkingCalendar

__all__ = ["OnlineQuota", "earliest_day"]


def earliest_day(today: date, lead_days: int, calendar: WorkingCalendar) -> date:
    """The ``lead_days``-th working day after ``today``, today not counted.

    ``lead_days=0`` is today when today is a working day, else the next working day.
    Unlike ``calendar.add_working_days(today, n)`` (numpy's ``busday_offset``, which first
    rolls a closed ``today`` forward and then counts), a Saturday with ``lead_days=1``
    gives Monday, not Tuesday.
    """
    if lead_days == 0:
        return calendar.next_working_day(today)
    first = calendar.next_working_day(today, inclusive=False)
    return calendar.add_working_days(first, lead_days - 1) if lead_days > 1 else first


def _capacity(value: int | CapacityCalendar) -> CapacityCalendar:
    return CapacityCalendar.of(value)


def _lead(_: object, a: object, v: Any) -> None:
    _validate.non_negative_int("lead_days", v)


def _horizon(_: object, a: object, v: Any) -> None:
    _validate.non_negative_int("horizon_days", v)


def _per_citizen(_: object, a: object, v: Any) -> None:
    _validate.optional_limit("per_citizen", v)


def _max_places(_: object, a: object, v: Any) -> None:
    _validate.optional_limit("max_places", v)


def _no_show_limit(_: object, a: object, v: Any) -> None:
    _validate.optional_limit("no_show_limit", v)


def _no_show_window(_: object, a: object, v: Any) -> None:
    _validate.positive_int("no_show_window_days", v)


def _suspension(_: object, a: object, v: Any) -> None:
    _validate.positive_int("suspension_days", v)


@attrs.frozen
class OnlineQuota:
    """Online registration: at most ``capacity`` people a day, booked ahead.

    The earliest day is the ``lead_days``-th working day after today, today not counted
    whether or not it is a working day (on a Saturday with ``lead_days=1``: Monday;
    ``lead_days=0``: today if it is a working day, else the next one); the last is
    ``today + horizon_days`` (calendar days, inclusive). A citizen is given the **earliest
    working day with room**, or exactly ``preferred_date`` if asked (when that day is full:
    `QuotaExhausted` with ``next_available``). A citizen holds at most ``per_citizen``
    active bookings on the channel.

    With ``no_show_limit``, a citizen who did not come to that many bookings (status
    ``no_show``, on any channel of the office) whose days are within the last
    ``no_show_window_days`` calendar days before today is refused with `Suspended` until
    ``suspension_days`` after the latest of them (`Scheduler.lift_suspension` is the
    clerk's override). Walk-ins are never refused for it.

    Args:
        capacity: Places per day: a number, or a `CapacityCalendar` for days that differ.
        lead_days: Which working day after today is the first that can be given (1: the
            next working day; 0: today, if it is a working day).
        horizon_days: How far ahead (calendar days) bookings are given.
        per_citizen: Active bookings one citizen may hold on the channel (``None``: no limit).
        channel: The channel's name.
        prefix: The label prefix (``"A"`` gives ``"A-007"``).
        title: The channel's name for readers, in tickets, tables and messages: one
            text, or ``{"id": "Prioritas", "en": "Priority"}`` (default: the built-in
            name of the channel, or its key).
        sessions: Arrival windows (`Session`): a booking takes a place in the earliest
            session with room (or the one asked for), and in the channel's day.
        requires_claim: A claim the request must carry (``book(..., claims=)``), else
            `NotEligible`: e.g. ``"group"`` for a counter reserved for the elderly.
        max_places: The most places one booking may take (a household); ``None``: any.
        no_show_limit: No-shows in the window after which online requests are refused
            (`Suspended`); ``None`` (the default): never.
        no_show_window_days: The calendar days before today whose no-shows count.
        suspension_days: Calendar days from the latest counted no-show to the first day
            the citizen may book again (``Suspended.until``).
    """

    capacity: CapacityCalendar = attrs.field(converter=_capacity)
    lead_days: int = attrs.field(default=1, kw_only=True, validator=_lead)
    horizon_days: int = attrs.field(default=60, kw_only=True, validator=_horizon)
    per_citizen: int | None = attrs.field(default=1, kw_only=True, validator=_per_citizen)
    channel: str = attrs.field(default="online", kw_only=True, validator=_validate.channel_name)
    prefix: str = attrs.field(default="A", kw_only=True, validator=_validate.prefix)
    title: dict[str, str] | None = attrs.field(
        default=None, kw_only=True, converter=_validate.title, eq=False
    )
    sessions: tuple[Session, ...] = attrs.field(default=(), kw_only=True, converter=check_sessions)
    requires_claim: str | None = attrs.field(default=None, kw_only=True)
    max_places: int | None = attrs.field(default=None, kw_only=True, validator=_max_places)
    no_show_limit: int | None = attrs.field(default=None, kw_only=True, validator=_no_show_limit)
    no_show_window_days: int = attrs.field(default=90, kw_only=True, validator=_no_show_window)
    suspension_days: int = attrs.field(default=30, kw_only=True, validator=_suspension)

    @property
    def walk_in(self) -> bool:
        """Whether the channel gives numbers at the door, for today (the CLI's ``walk-in``)."""
        return False

    @property
    def requires_citizen(self) -> bool:
        """Online registrations name the citizen (the per-citizen limit needs it)."""
        return True

    def capacity_on(self, day: date) -> int:
        """Places on ``day``."""
        return self.capacity.capacity_on(day)

    def booking_window(self, today: date, calendar: WorkingCalendar) -> tuple[date, date]:
        """From the ``lead_days``-th working day after ``today`` to ``today + horizon_days``."""
        return earliest_day(today, self.lead_days, calendar), today + timedelta(
            days=self.horizon_days
        )

    def admit(self, request: BookingRequest, calendar: WorkingCalendar) -> None:
        """Refuse a request without the required claim (`NotEligible`), too many places,
        or a preferred date that is closed (`DayClosed`) or outside the window."""
        _shared.check_claim_and_places(self, request)
        day = request.preferred_date
        if day is None:
            return
        earliest, latest = self.booking_window(request.today, calendar)
        reason = calendar.closure_reason(day)
        if reason is not None:  # a closed day is closed, whatever the window
            raise DayClosed(f"the office is closed on {day}: {reason}", day=day, reason=reason)
        if not earliest <= day <= latest:
            raise OutsideBookingWindow(
                f"{day} is outside the booking window {earliest} .. {latest}",
                day=day,
                earliest=earliest,
                latest=latest,
            )

    def candidate_days(self, request: BookingRequest, calendar: WorkingCalendar) -> Iterable[date]:
        """The preferred date alone, or every working day of the window in order."""
        if request.preferred_date is not None:
            return (request.preferred_date,)
        earliest, latest = self.booking_window(request.today, calendar)
        return calendar.working_days(earliest, latest + timedelta(days=1))
