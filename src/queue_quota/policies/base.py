"""The `QuotaPolicy` protocol: how a channel decides where a request may go.

A policy never counts bookings and never writes: it says which days a request may take,
in order of preference, with each day's capacity, and refuses requests its rules exclude
(closed day, outside opening hours, outside the booking window). The storage then takes the
first of those days that still has room, atomically.

Custom policies implement this protocol; nothing needs subclassing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from ..calendar import WorkingCalendar

__all__ = ["BookingRequest", "QuotaPolicy"]


@attrs.frozen(kw_only=True)
class BookingRequest:
    """One request as a policy sees it.

    Attributes:
        channel: The channel asked for.
        now: The moment of the request, in the office's time zone.
        today: The office's local date at ``now``.
        citizen_ref: Keyed hash of the citizen's ID, or ``None`` (anonymous).
        preferred_date: A specific day asked for, or ``None`` for the earliest.
        preferred_time: The start of the session asked for, or ``None`` for the earliest.
        places: Places asked for under one number (a household).
        claims: Facts the application has verified (``{"group": "lansia"}``); never stored.
        moving: The request moves an existing booking (`Scheduler.reschedule`): the
            citizen was admitted with their claims when it was made, so the built-in
            policies do not ask for them again.
    """

    channel: str
    now: datetime
    today: date
    citizen_ref: str | None = None
    preferred_date: date | None = None
    preferred_time: time | None = None
    places: int = 1
    claims: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    moving: bool = False


@runtime_checkable
class QuotaPolicy(Protocol):
    """A channel's quota rules.

    Attributes:
        channel: The channel's name (``"online"``, ``"walk_in"``, ...), unique in an office.
        prefix: Ticket label prefix: ``"A"`` gives labels ``"A-001"``, ``"A-002"``, ...
        per_citizen: How many active bookings (booked or checked in, today or later) one
            citizen may hold on the channel; ``None`` for no limit.
        requires_citizen: Whether a request must name the citizen.
    """

    @property
    def channel(self) -> str: ...

    @property
    def prefix(self) -> str: ...

    @property
    def per_citizen(self) -> int | None: ...

    @property
    def requires_citizen(self) -> bool: ...

    def capacity_on(self, day: date) -> int:
        """How many places the channel offers on ``day`` (the calendar decides if it is open)."""
        ...

    def booking_window(self, today: date, calendar: WorkingCalendar) -> tuple[date, date]:
        """The first and last day (inclusive) a request made on ``today`` may take."""
        ...

    def admit(self, request: BookingRequest, calendar: WorkingCalendar) -> None:
        """Raise a `RefusalError` if the rules exclude the request; return otherwise.

        Called before anything is read or written. ``calendar`` is the office's calendar;
        days closed at run time (`Scheduler.close_day`) are skipped by the storage, and
        when a request is refused the scheduler calls ``admit`` again with a calendar that
        includes them, so that a closed day is reported as `DayClosed`.
        """
        ...

    def candidate_days(self, request: BookingRequest, calendar: WorkingCalendar) -> Iterable[date]:
        """The days the request may take, in order of preference (working days only).

        When no ``preferred_date`` is given, the scheduler caches the result per
        (channel, ``request.today``): it must depend only on those (not on the hour or
        the citizen). Put per-hour or per-citizen rules in `admit`.
        """
        ...
