"""How a refusal is explained to the citizen: the first true reason, and when to come back.

The storage says only "no room" (a bare `QuotaExhausted`); this turns it into the refusal
the contract promises (a run-time closure first, ``next_available``, ``alternatives``).
"""

from __future__ import annotations

from datetime import date, timedelta

from ._availability import Room
from .calendar import WorkingCalendar
from .errors import DayClosed, OutsideBookingWindow, QuotaExhausted, RefusalError
from .office import Office
from .policies.base import BookingRequest, QuotaPolicy

__all__ = ["WALK_IN_LOOKAHEAD_DAYS", "explain"]

#: How far ahead a full walk-in day looks for the next day with room.
WALK_IN_LOOKAHEAD_DAYS = 60


def explain(
    office: Office,
    room: Room,
    calendar: WorkingCalendar,
    policy: QuotaPolicy,
    request: BookingRequest,
    exc: RefusalError,
    base: WorkingCalendar | None = None,
) -> RefusalError:
    """Turn a refusal into the one the citizen should see, with when to come back.

    ``calendar`` is the office calendar with the run-time closures of the storage;
    booking windows are always taken from ``base`` (the office calendar with the days
    opened at run time; default ``office.calendar``), as `Scheduler.book` does.
    """
    if base is None:
        base = office.calendar

    def _room(p: QuotaPolicy, cal: WorkingCalendar, start: date, last: date) -> date | None:
        return room.first_with_room(p, cal, start, last)

    if calendar is not base:
        # A closure made at run time comes first in the order of refusals.
        try:
            policy.admit(request, calendar)
        except OutsideBookingWindow:
            pass  # the window was checked on the office calendar, as `book` does
        except RefusalError as earlier:
            return earlier
    if not isinstance(exc, QuotaExhausted):
        return exc
    today = request.today
    start, last = policy.booking_window(today, base)
    closed_today = calendar.closure_reason(today)
    if request.preferred_date is None and last <= today and closed_today is not None:
        # A same-day channel on a closed day: closed, not full.
        return DayClosed(
            f"the office is closed today ({today}): {closed_today}",
            day=today,
            reason=closed_today,
            next_available=calendar.next_working_day(today, inclusive=False),
        )
    anchor = request.preferred_date
    if anchor is None:
        if last <= today:  # a same-day channel: when to come back
            nxt = _room(
                policy,
                calendar,
                today + timedelta(days=1),
                today + timedelta(days=WALK_IN_LOOKAHEAD_DAYS),
            )
        else:
            nxt = _room(policy, calendar, start, last)
    else:
        nxt = _room(policy, calendar, anchor + timedelta(days=1), last) or _room(
            policy, calendar, start, anchor - timedelta(days=1)
        )
    alternatives: dict[str, date] = {}
    for other in office.policies:
        if other.channel == policy.channel:
            continue
        probe = BookingRequest(channel=other.channel, now=request.now, today=today)
        try:
            other.admit(probe, calendar)
        except RefusalError:
            continue
        o_start, o_last = other.booking_window(today, base)
        day = _room(other, calendar, o_start, o_last)
        if day is not None:
            alternatives[other.channel] = day
    where = request.preferred_date or (today if last <= today else None)
    message = (
        f"no {policy.channel} place left on {where}"
        if where
        else f"no {policy.channel} place left in the booking window {start} .. {last}"
    )
    return QuotaExhausted(
        message,
        channel=policy.channel,
        day=where,
        next_available=nxt,
        alternatives=alternatives,
    )
