"""The reference model of `SchedulerMachine`: plain dicts of what the scheduler acknowledged.

It is deliberately naive and independent of the code under test: working days come from
the weekmask and a set of holidays, windows are walked day by day, counts are recounted
from the acknowledged bookings every time. No `WorkingCalendar`, policy or storage code is
used to compute an expectation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta

import attrs

__all__ = ["Acked", "Model"]

BOOKED = "booked"
CHECKED_IN = "checked_in"
CANCELLED = "cancelled"
NO_SHOW = "no_show"
ACTIVE = frozenset({BOOKED, CHECKED_IN})
ONE_DAY = timedelta(days=1)


@attrs.define
class Acked:
    """One booking the scheduler acknowledged, as the model remembers it."""

    id: str
    channel: str
    day: date
    number: int
    status: str
    ticket: str
    citizen: str | None
    key: str | None
    preferred: date | None = None  # the preferred date the key's request asked for


@attrs.define
class Model:
    """What the scheduler has acknowledged, and what it should answer next.

    Attributes:
        weekmask: Seven ``0``/``1`` characters, Monday first.
        holidays: Closed dates of the office's calendar.
        capacity: ``capacity[channel](day)``: places of the channel on a day.
        channels: The channels in service order.
        lead_days: Working days between today and the first online day.
        horizon_days: Calendar days from today to the last online day.
        per_citizen: Active online bookings a citizen may hold.
        bookings: Acknowledged bookings by id (in the order acknowledged).
        keys: Idempotency key -> booking id.
        closures: Days closed at run time -> the first reason.
        issued: ``(channel, day)`` -> every number ever given on that day.
    """

    weekmask: str
    holidays: frozenset[date]
    capacity: Mapping[str, Callable[[date], int]]
    channels: tuple[str, ...]
    lead_days: int
    horizon_days: int
    per_citizen: int
    bookings: dict[str, Acked] = attrs.field(factory=dict)
    keys: dict[str, str] = attrs.field(factory=dict)
    closures: dict[date, str] = attrs.field(factory=dict)
    issued: dict[tuple[str, date], set[int]] = attrs.field(factory=dict)

    # -- days ------------------------------------------------------------------------------

    def working(self, d: date) -> bool:
        """Open by the office's own calendar (weekmask and holidays)."""
        return self.weekmask[d.weekday()] == "1" and d not in self.holidays

    def open(self, d: date) -> bool:
        """Open by the calendar and not closed at run time."""
        return self.working(d) and d not in self.closures

    def next_open_after(self, d: date) -> date:
        """The first open day after ``d``."""
        d += ONE_DAY
        while not self.open(d):
            d += ONE_DAY
        return d

    def online_window(self, today: date) -> tuple[date, date]:
        """First and last online day: the ``lead_days``-th working day after today (today
        not counted; 0: today if it is a working day), walked day by day."""
        d = today
        if self.lead_days == 0:
            while not self.working(d):
                d += ONE_DAY
        seen = 0
        while seen < self.lead_days:
            d += ONE_DAY
            if self.working(d):
                seen += 1
        return d, today + timedelta(days=self.horizon_days)

    def candidates(self, channel: str, today: date) -> list[date]:
        """The open days a request on ``channel`` made ``today`` may take, in order."""
        if channel == "online":
            first, last = self.online_window(today)
            days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        else:
            days = [today]
        return [d for d in days if self.open(d) and self.capacity[channel](d) > 0]

    # -- counts ----------------------------------------------------------------------------

    def on_day(self, d: date, channel: str | None = None) -> list[Acked]:
        """The acknowledged bookings on ``d`` (any status), in service order."""
        found = [b for b in self.bookings.values() if b.day == d and channel in (None, b.channel)]
        return sorted(found, key=lambda b: (self.channels.index(b.channel), b.number))

    def active(self, channel: str, d: date) -> int:
        """Places taken on ``d`` (booked or checked in)."""
        return sum(1 for b in self.on_day(d, channel) if b.status in ACTIVE)

    def has_room(self, channel: str, d: date) -> bool:
        """Whether ``d`` is open and has a free place on ``channel``."""
        return self.open(d) and self.active(channel, d) < self.capacity[channel](d)

    def first_room(self, channel: str, days: Iterable[date]) -> date | None:
        """The first of ``days`` with room on ``channel``."""
        return next((d for d in days if self.has_room(channel, d)), None)

    def held(self, citizen: str, channel: str, today: date) -> int:
        """Active bookings of ``citizen`` on ``channel`` from ``today`` on."""
        return sum(
            1
            for b in self.bookings.values()
            if b.citizen == citizen and b.channel == channel
            and b.status in ACTIVE and b.day >= today
        )  # fmt: skip

    def next_number(self, channel: str, d: date) -> int:
        """The number the next booking on (channel, d) must get: never one given before."""
        return max(self.issued.get((channel, d), ()), default=0) + 1

    # -- changes ---------------------------------------------------------------------------

    def copy(self) -> Model:
        """An independent copy (to try a change before knowing whether it happened)."""
        return attrs.evolve(
            self,
            bookings={k: attrs.evolve(v) for k, v in self.bookings.items()},
            keys=dict(self.keys),
            closures=dict(self.closures),
            issued={k: set(v) for k, v in self.issued.items()},
        )

    def add(self, booking: Acked) -> None:
        """Record a new acknowledged booking."""
        self.bookings[booking.id] = booking
        self.issued.setdefault((booking.channel, booking.day), set()).add(booking.number)
        if booking.key is not None:
            self.keys[booking.key] = booking.id

    def move(self, booking: Acked, d: date, number: int) -> None:
        """Record that ``booking`` now sits on ``d`` with ``number``."""
        booking.day, booking.number = d, number
        self.issued.setdefault((booking.channel, d), set()).add(number)

    def close(self, d: date, reason: str, horizon: int = 366) -> list[tuple[str, date, int]]:
        """Close ``d`` and move its booked bookings; returns (id, day, number) per move.

        Channel by channel in service order, each in number order, to the first open day
        after ``d`` (up to ``horizon`` days) with room.

        Raises:
            LookupError: A booking finds no room (the model is then unusable).
        """
        if d in self.closures:
            return []
        self.closures[d] = reason
        moved: list[tuple[str, date, int]] = []
        for channel in self.channels:
            for b in [b for b in self.on_day(d, channel) if b.status == BOOKED]:
                target = self.first_room(
                    channel, (d + timedelta(days=i + 1) for i in range(horizon))
                )
                if target is None:
                    raise LookupError(f"no room for {b.id} within {horizon} days of {d}")
                number = self.next_number(channel, target)
                self.move(b, target, number)
                moved.append((b.id, target, number))
        return moved
