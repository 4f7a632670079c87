"""What a new office file would do to the bookings already made: `OfficePreview`.

`Scheduler.preview_office(office)` compares, for every day from today on that holds
bookings, the places booked on each counter with what the new office gives that day, and
says which bookings would have to move. It writes nothing. (A preview of closing one day is
`Scheduler.preview_close_day`, which returns what `close_day` would return.)
"""

from __future__ import annotations

from datetime import date

import attrs

from .models import Booking

__all__ = ["OfficePreview", "OverCapacity"]


@attrs.frozen
class OverCapacity:
    """One counter on one day with more places booked than the new office gives.

    Attributes:
        day: The day.
        counter: The counter: ``"c:<channel>"`` (the channel's day), ``"s:<channel>@HH:MM"``
            (a session) or ``"p:<pool>"`` (a pool).
        booked: Places booked there (booked and checked in), as the storage counts them.
        capacity: Places the new office gives that counter that day (0 on a day its
            calendar closes, or for a channel it no longer has).
    """

    day: date
    counter: str
    booked: int
    capacity: int

    @property
    def over(self) -> int:
        """How many places too many: ``booked - capacity``."""
        return self.booked - self.capacity


@attrs.frozen
class OfficePreview:
    """What the new office file would leave over capacity, from ``since`` on.

    Attributes:
        office_id: The office.
        since: The first day looked at (today at the office).
        over: Every counter and day over capacity, by day, then counter (channels in the
            office's order, then sessions, then pools).
        to_move: The bookings that would have to move to bring each counter back within
            capacity: on each counter, the last-numbered first, just enough; a booking on
            two counters over capacity is counted once. By day, channel order, number.
            Checked-in bookings never move (their places stay counted in ``over``).
    """

    office_id: str
    since: date
    over: tuple[OverCapacity, ...] = ()
    to_move: tuple[Booking, ...] = ()

    @property
    def fits(self) -> bool:
        """Whether every booking already made fits the new office."""
        return not self.over

    @property
    def days(self) -> tuple[date, ...]:
        """The days with a counter over capacity, in order."""
        return tuple(sorted({o.day for o in self.over}))
