"""Value types: bookings, their status, availability of a day, and storage requests.

All are frozen `attrs` classes: safe to share between threads and to cache.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from datetime import date, datetime, time

import attrs

__all__ = [
    "ACTIVE_STATUSES",
    "Booking",
    "BookingStatus",
    "Candidate",
    "Charge",
    "DayAvailability",
    "Reservation",
    "SessionAvailability",
    "Slot",
    "channel_scope",
]


class BookingStatus(enum.StrEnum):
    """Where a booking is in its life.

    ``BOOKED`` and ``CHECKED_IN`` hold a place on their day; ``CANCELLED`` and ``NO_SHOW``
    do not count towards a citizen's limit. A cancelled booking's place is freed; its queue
    number is never given to anyone else.
    """

    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    def __str__(self) -> str:
        return self.value


#: The statuses that hold a place on the booking's day.
ACTIVE_STATUSES: frozenset[BookingStatus] = frozenset(
    {BookingStatus.BOOKED, BookingStatus.CHECKED_IN}
)


@attrs.frozen(kw_only=True)
class Booking:
    """A place in the queue of one channel on one day.

    Attributes:
        id: Opaque, unguessable booking id (16 characters of Crockford base32).
        office_id: The office that issued it.
        channel: The policy's channel (``"online"``, ``"walk_in"``, ...).
        day: The local day the citizen is served.
        number: Queue number, from 1 per (office, channel, day), never reused that day.
        label: What is printed and called out: ``f"{prefix}-{number:03d}"``, e.g. ``"A-007"``.
        status: A `BookingStatus`.
        citizen_ref: Keyed hash of the citizen's ID (never the ID itself), or ``None``
            for an anonymous walk-in.
        created_at: When it was first booked (aware, UTC).
        ticket: Signed code for the citizen (QR code or typed); carries no personal data.
        idempotency_key: The key the booking was made with, if any.
        previous_day: On a booking just returned by a move (`Scheduler.reschedule`,
            `Scheduler.close_day`): the day it was on before; otherwise ``None``.
        previous_number: Likewise, its number on that day.
        request_fingerprint: A keyed hash of the request the idempotency key was first
            used for (set by the storage; the scheduler compares it on a retry).
        places: How many places the booking holds (a household: one number, ``places``
            units of every counter it took).
        window: The arrival window ``(start, end)``, local times, or ``None`` when the
            channel has no sessions.
        charges: The counters the booking took (``"c:online"``, ``"s:online@08:00"``,
            ``"p:loket"``), given back on a cancel, move or no-show; ``()`` stands for
            the channel's own counter alone (a storage may store it so).
    """

    id: str
    office_id: str
    channel: str
    day: date
    number: int
    label: str
    status: BookingStatus
    citizen_ref: str | None
    created_at: datetime
    ticket: str
    idempotency_key: str | None = None
    previous_day: date | None = attrs.field(default=None, eq=False)
    previous_number: int | None = attrs.field(default=None, eq=False)
    request_fingerprint: str | None = attrs.field(default=None, eq=False, repr=False)
    places: int = 1
    window: tuple[time, time] | None = None
    charges: tuple[str, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def previous_label(self) -> str | None:
        """The label the booking had before its move (``"A-007"``), or ``None``."""
        if self.previous_number is None:
            return None
        return make_label(self.label.rpartition("-")[0], self.previous_number)

    @property
    def is_active(self) -> bool:
        """Whether the booking holds a place on its day."""
        return self.status in ACTIVE_STATUSES


@attrs.frozen
class DayAvailability:
    """Capacity and use of one channel on one day.

    A closed day has ``capacity == remaining == 0`` and says why in ``closed_reason``.
    ``bookable`` says whether a request on the channel at the time asked (``now``) could
    take that day: open, with room, in the channel's booking window, and admitted by its
    rules (e.g. a walk-in day only within opening hours). ``remaining`` accounts for the
    pools the channel shares; ``sessions`` has one entry per arrival window.
    """

    day: date
    capacity: int
    booked: int
    remaining: int
    closed_reason: str | None = None
    bookable: bool = False
    sessions: tuple[SessionAvailability, ...] = ()

    @property
    def is_open(self) -> bool:
        """Whether the office serves this channel on that day at all."""
        return self.closed_reason is None


@attrs.frozen
class SessionAvailability:
    """Capacity and use of one session (arrival window) on one day; ``remaining``
    accounts for the channel's day and its pools."""

    start: time
    end: time
    capacity: int
    booked: int
    remaining: int


@attrs.frozen
class Slot:
    """A candidate day for a reservation and its capacity on the channel."""

    day: date
    capacity: int


def channel_scope(channel: str) -> str:
    """The counter of a channel's places on a day: ``"c:online"``."""
    return f"c:{channel}"


@attrs.frozen
class Charge:
    """One counter a candidate needs room in: its scope and its capacity on that day."""

    scope: str
    capacity: int


@attrs.frozen
class Candidate:
    """A day (and arrival window) a reservation may take, with every counter it charges.

    A booking of ``places`` takes that many units from every charge, all or nothing, on
    the first candidate where each has room.
    """

    day: date
    charges: tuple[Charge, ...]
    window: tuple[time, time] | None = None

    @classmethod
    def of_slot(cls, channel: str, slot: Slot) -> Candidate:
        """The 0.1 candidate: the channel's own counter only."""
        return cls(slot.day, (Charge(channel_scope(channel), slot.capacity),))


@attrs.frozen(kw_only=True)
class Reservation:
    """Everything a storage needs to reserve one place atomically.

    The storage books the **first** slot in ``slots`` that has room and is not closed in
    the storage's own closures, all in one atomic operation, after checking the
    idempotency key and the citizen's limit.

    Attributes:
        office_id: Office.
        channel: Channel.
        slots: Candidate days in order of preference, each with its capacity.
        booking_id: The id to give the new booking.
        ticket: The signed ticket to store with it.
        prefix: Label prefix (``"A"`` makes ``"A-007"``).
        citizen_ref: Keyed hash of the citizen, or ``None``.
        per_citizen: Maximum active bookings of the citizen on the channel from
            ``today`` on (``None``: no limit).
        today: The office's local date (for the per-citizen limit).
        created_at: Timestamp to store.
        idempotency_key: A key that, if already used in this office, makes the storage
            return that booking instead.
        fingerprint: A keyed hash of the request, stored with the idempotency key (the
            storage returns it as `Booking.request_fingerprint`).
        other_refs: The citizen's refs under the scheduler's older secrets (rotation):
            the per-citizen limit counts the active bookings whose ``citizen_ref`` is
            ``citizen_ref`` or one of these.
        candidates: The candidates with every counter they charge, in order of
            preference; when empty, ``slots`` (each the channel's own counter) is used.
        places: Units to take from every charge (one number).
        candidates_key: A digest of ``candidates`` for the skip pointer (computed from
            them when ``None``).
        office_per_citizen: Maximum active bookings of the citizen over every channel of
            the office from ``today`` on (``None``: no limit).
        no_show_limit: No-shows of the citizen (any channel, days in the window before
            ``today``) after which the request is refused with `Suspended` (``None``: no
            sanction; an `OnlineQuota`'s ``no_show_limit``).
        no_show_window_days: The calendar days before ``today`` whose no-shows count.
        suspension_days: Days from the latest counted no-show to ``Suspended.until``.
        calendar_version: The version of the run-time openings the candidates were built
            on; a storage that keeps openings refuses a stale one (the scheduler rebuilds).
        log_refusal: Write an event ``turned_away`` (the channel, the places, the day
            ``today``; nothing about the citizen) in the transaction that refuses the
            request because no open candidate day has room. The scheduler sets it for
            walk-in channels (`Office.walk_in_channels`), so that `Scheduler.report` counts
            the citizens turned away at the door. A key already used, a limit, a closed
            day or a stale calendar writes none.
    """

    office_id: str
    channel: str
    slots: Sequence[Slot] = ()
    booking_id: str
    ticket: str
    prefix: str
    citizen_ref: str | None
    per_citizen: int | None
    today: date
    created_at: datetime
    idempotency_key: str | None = None
    fingerprint: str | None = None
    other_refs: tuple[str, ...] = ()
    candidates: Sequence[Candidate] = ()
    places: int = 1
    candidates_key: str | None = None
    office_per_citizen: int | None = None
    no_show_limit: int | None = None
    no_show_window_days: int = 90
    suspension_days: int = 30
    calendar_version: str | None = None
    log_refusal: bool = False

    def all_candidates(self) -> Sequence[Candidate]:
        """``candidates``, or the 0.1 candidates made from ``slots``."""
        if self.candidates:
            return self.candidates
        return tuple(Candidate.of_slot(self.channel, s) for s in self.slots)

    @property
    def citizen_refs(self) -> tuple[str, ...]:
        """Every ref the citizen may have been stored under (``()`` when anonymous)."""
        if self.citizen_ref is None:
            return ()
        return (self.citizen_ref, *self.other_refs)


@functools.lru_cache(maxsize=8192)
def make_label(prefix: str, number: int) -> str:
    """Return the printed label of a queue number: ``make_label("A", 7) == "A-007"``.

    Cached, so that the bookings of many days share their label strings.
    """
    return f"{prefix}-{number:03d}"
