"""Small builders of storage requests shared by the contract tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from ..models import Booking, Reservation, Slot
from ..storage.base import ChannelMove, Storage
from ..tickets import new_booking_id

__all__ = [
    "BASE_DAY",
    "CREATED_AT",
    "OFFICE",
    "OTHER_OFFICE",
    "close",
    "day",
    "numbers",
    "reservation",
    "slots",
]

#: The office the contract tests book in, and a second one that must stay separate.
OFFICE = "contract-office"
OTHER_OFFICE = "contract-other-office"
#: Day 0 of the contract tests (a Monday); storages never look at the real date.
BASE_DAY = date(2030, 1, 7)
#: The ``created_at`` stored with every contract booking (microseconds included on purpose).
CREATED_AT = datetime(2030, 1, 6, 23, 30, 15, 123456, tzinfo=UTC)


def day(n: int) -> date:
    """Day ``n`` of the contract tests (``day(0)`` is "today")."""
    return BASE_DAY + timedelta(days=n)


def slots(*days: date, capacity: int = 2) -> tuple[Slot, ...]:
    """One `Slot` per day, all with the same capacity."""
    return tuple(Slot(d, capacity) for d in days)


def reservation(
    where: Sequence[Slot],
    *,
    office: str = OFFICE,
    channel: str = "online",
    prefix: str = "A",
    citizen: str | None = None,
    per_citizen: int | None = None,
    today: date = BASE_DAY,
    key: str | None = None,
    booking_id: str | None = None,
    fingerprint: str | None = None,
    other_refs: Sequence[str] = (),
) -> Reservation:
    """A `Reservation` with sensible defaults and a fresh booking id."""
    booking_id = booking_id or new_booking_id()
    return Reservation(
        office_id=office,
        channel=channel,
        slots=tuple(where),
        booking_id=booking_id,
        ticket=f"ticket-of-{booking_id}",
        prefix=prefix,
        citizen_ref=citizen,
        per_citizen=per_citizen,
        today=today,
        created_at=CREATED_AT,
        idempotency_key=key,
        fingerprint=fingerprint,
        other_refs=tuple(other_refs),
    )


def close(
    storage: Storage,
    closed: date,
    moves: Mapping[str, tuple[str, Iterable[Slot]]],
    *,
    office: str = OFFICE,
    reason: str = "contract closure",
) -> list[Booking]:
    """Call ``storage.close_day`` with ``{channel: (prefix, slots)}`` moves."""
    return storage.close_day(
        office,
        closed,
        reason,
        {channel: ChannelMove(prefix, tuple(s)) for channel, (prefix, s) in moves.items()},
        now=CREATED_AT,
    )


def numbers(bookings: Iterable[Booking]) -> list[int]:
    """The queue numbers of ``bookings``, in order."""
    return [b.number for b in bookings]
