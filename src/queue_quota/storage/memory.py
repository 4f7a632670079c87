"""`MemoryStorage`: in-process, thread-safe, for tests and single-process apps."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import attrs

from ..errors import AlreadyBooked, BookingNotFound, InvalidTransition, QuotaExhausted
from ..models import ACTIVE_STATUSES, Booking, BookingStatus, Reservation, Slot, make_label
from .base import ChannelMove

__all__ = ["MemoryStorage"]

_DayKey = tuple[str, str, date]


@attrs.define
class _Day:
    booked: int = 0
    last_number: int = 0


class MemoryStorage:
    """Bookings kept in a dict, every operation under one lock.

    Nothing survives the process, so a `Scheduler` on it may run without a secret.
    """

    persistent = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._days: dict[_DayKey, _Day] = {}
        self._bookings: dict[tuple[str, str], Booking] = {}
        self._keys: dict[tuple[str, str], str] = {}
        # (office, channel, citizen_ref) -> ids of that citizen's bookings
        self._by_citizen: dict[tuple[str, str, str], list[str]] = {}
        # (office, day) -> ids of the bookings on that day
        self._by_day: dict[tuple[str, date], list[str]] = {}
        self._closures: dict[str, dict[date, str]] = {}
        # Skip pointer over full days (see `_first_with_room`): per (office, channel), the
        # slot sequence last searched, the release epoch then, and the first index that
        # may still have room. Any release of a place bumps the epoch.
        self._epochs: dict[tuple[str, str], int] = {}
        self._hints: dict[tuple[str, str], tuple[Sequence[Slot], int, int]] = {}

    def __repr__(self) -> str:
        return f"<MemoryStorage bookings={len(self._bookings)}>"

    def migrate(self) -> None:
        """Nothing to create."""

    def close(self) -> None:
        """Nothing to release."""

    # -- reads ---------------------------------------------------------------------------

    def find_by_key(self, office_id: str, idempotency_key: str) -> Booking | None:
        with self._lock:
            booking_id = self._keys.get((office_id, idempotency_key))
            return None if booking_id is None else self._bookings[(office_id, booking_id)]

    def get(self, office_id: str, booking_id: str) -> Booking:
        with self._lock:
            return self._get(office_id, booking_id)

    def closures(self, office_id: str) -> dict[date, str]:
        with self._lock:
            return dict(self._closures.get(office_id, {}))

    def booked_counts(
        self, office_id: str, channel: str, start: date, end: date
    ) -> dict[date, int]:
        with self._lock:
            if (end - start).days <= len(self._days):
                out: dict[date, int] = {}
                d = start
                while d < end:
                    row = self._days.get((office_id, channel, d))
                    if row is not None and row.booked:
                        out[d] = row.booked
                    d = date.fromordinal(d.toordinal() + 1)
                return out
            return {
                k[2]: row.booked
                for k, row in self._days.items()
                if k[0] == office_id and k[1] == channel and start <= k[2] < end and row.booked
            }

    def bookings_on(
        self,
        office_id: str,
        day: date,
        channel: str | None = None,
        *,
        include_cancelled: bool = False,
    ) -> list[Booking]:
        with self._lock:
            found = [self._bookings[(office_id, i)] for i in self._by_day.get((office_id, day), ())]
        found = [
            b
            for b in found
            if (channel is None or b.channel == channel)
            and (include_cancelled or b.status is not BookingStatus.CANCELLED)
        ]
        found.sort(key=lambda b: (b.channel, b.number))
        return found

    # -- writes --------------------------------------------------------------------------

    def reserve(self, reservation: Reservation) -> Booking:
        r = reservation
        with self._lock:
            if r.idempotency_key is not None:
                existing = self._keys.get((r.office_id, r.idempotency_key))
                if existing is not None:
                    return self._bookings[(r.office_id, existing)]
            if r.citizen_ref is not None and r.per_citizen is not None:
                held = self._active_count(r.office_id, r.channel, r.citizen_ref, r.today)
                if held >= r.per_citizen:
                    raise AlreadyBooked(channel=r.channel, limit=r.per_citizen)
            if (r.office_id, r.booking_id) in self._bookings:
                raise InvalidTransition(f"booking id {r.booking_id} already exists")
            slot, row = self._first_with_room(r.office_id, r.channel, r.slots, exclude=None)
            row.booked += 1
            row.last_number += 1
            booking = Booking(
                id=r.booking_id,
                office_id=r.office_id,
                channel=r.channel,
                day=slot.day,
                number=row.last_number,
                label=make_label(r.prefix, row.last_number),
                status=BookingStatus.BOOKED,
                citizen_ref=r.citizen_ref,
                created_at=r.created_at,
                ticket=r.ticket,
                idempotency_key=r.idempotency_key,
            )
            self._bookings[(r.office_id, booking.id)] = booking
            self._by_day.setdefault((r.office_id, slot.day), []).append(booking.id)
            if r.idempotency_key is not None:
                self._keys[(r.office_id, r.idempotency_key)] = booking.id
            if r.citizen_ref is not None:
                self._by_citizen.setdefault((r.office_id, r.channel, r.citizen_ref), []).append(
                    booking.id
                )
            return booking

    def cancel(self, office_id: str, booking_id: str, *, not_before: date) -> Booking:
        with self._lock:
            b = self._get(office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise InvalidTransition(f"cannot cancel a booking that is {b.status.value}")
            if b.day < not_before:
                raise InvalidTransition(f"cannot cancel a booking for a past day ({b.day})")
            self._release(office_id, b.channel, b.day)
            new = attrs.evolve(b, status=BookingStatus.CANCELLED)
            self._bookings[(office_id, booking_id)] = new
            return new

    def check_in(self, office_id: str, booking_id: str, *, today: date) -> Booking:
        with self._lock:
            b = self._get(office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise InvalidTransition(f"cannot check in a booking that is {b.status.value}")
            if b.day != today:
                raise InvalidTransition(f"the booking is for {b.day}, not today ({today})")
            new = attrs.evolve(b, status=BookingStatus.CHECKED_IN)
            self._bookings[(office_id, booking_id)] = new
            return new

    def move(
        self, office_id: str, booking_id: str, slots: Sequence[Slot], *, prefix: str
    ) -> Booking:
        with self._lock:
            b = self._get(office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise InvalidTransition(f"cannot move a booking that is {b.status.value}")
            return self._move(b, slots, prefix)

    def close_day(
        self,
        office_id: str,
        day: date,
        reason: str,
        moves: Mapping[str, ChannelMove],
        *,
        now: datetime,
    ) -> list[Booking]:
        with self._lock:
            closed = self._closures.setdefault(office_id, {})
            if day in closed:
                return []
            on_day = [
                self._bookings[(office_id, i)] for i in self._by_day.get((office_id, day), ())
            ]
            plan: list[tuple[Booking, ChannelMove]] = []
            for channel, how in moves.items():
                these = sorted(
                    (
                        b
                        for b in on_day
                        if b.channel == channel and b.status is BookingStatus.BOOKED
                    ),
                    key=lambda b: b.number,
                )
                plan.extend((b, how) for b in these)
            # Dry run on copies first, so that a failure leaves nothing written.
            snapshot = {k: attrs.evolve(v) for k, v in self._days.items() if k[0] == office_id}
            saved_bookings = dict(self._bookings)
            saved_by_day = {k: list(v) for k, v in self._by_day.items() if k[0] == office_id}
            closed[day] = reason
            moved: list[Booking] = []
            try:
                for b, how in plan:
                    moved.append(self._move(b, how.slots, how.prefix))
            except BaseException:
                del closed[day]
                for k in [k for k in self._days if k[0] == office_id]:
                    del self._days[k]
                self._days.update(snapshot)
                self._bookings = saved_bookings
                for day_key in [k for k in self._by_day if k[0] == office_id]:
                    del self._by_day[day_key]
                self._by_day.update(saved_by_day)
                raise
            return moved

    # -- helpers (called with the lock held) ---------------------------------------------

    def _get(self, office_id: str, booking_id: str) -> Booking:
        try:
            return self._bookings[(office_id, booking_id)]
        except KeyError:
            raise BookingNotFound(f"no booking {booking_id!r} in office {office_id!r}") from None

    def _active_count(self, office_id: str, channel: str, citizen_ref: str, today: date) -> int:
        ids = self._by_citizen.get((office_id, channel, citizen_ref), ())
        n = 0
        for i in ids:
            b = self._bookings[(office_id, i)]
            if b.status in ACTIVE_STATUSES and b.day >= today:
                n += 1
        return n

    def _release(self, office_id: str, channel: str, day: date) -> None:
        self._days[(office_id, channel, day)].booked -= 1
        key = (office_id, channel)
        self._epochs[key] = self._epochs.get(key, 0) + 1

    def _first_with_room(
        self, office_id: str, channel: str, slots: Sequence[Slot], exclude: date | None
    ) -> tuple[Slot, _Day]:
        """The first slot with room, skipping the full prefix found by earlier searches.

        Slots before the remembered index were unavailable (full, closed or without
        capacity) when searched; days only fill up until a place is released (which bumps
        the epoch) and closures are never lifted, so they are still unavailable.
        """
        closed = self._closures.get(office_id, {})
        days = self._days
        channel_key = (office_id, channel)
        epoch = self._epochs.get(channel_key, 0)
        start = 0
        hint = self._hints.get(channel_key)
        if hint is not None and hint[0] is slots and hint[1] == epoch:
            start = hint[2]
        for i in range(start, len(slots)):
            slot = slots[i]
            if slot.day == exclude or slot.capacity <= 0 or slot.day in closed:
                continue
            key = (office_id, channel, slot.day)
            row = days.get(key)
            if row is None:
                row = days[key] = _Day()
            if row.booked < slot.capacity:
                if exclude is None:
                    self._hints[channel_key] = (slots, epoch, i)
                return slot, row
        if exclude is None:
            self._hints[channel_key] = (slots, epoch, len(slots))
        raise QuotaExhausted(channel=channel)

    def _move(self, b: Booking, slots: Sequence[Slot], prefix: str) -> Booking:
        slot, row = self._first_with_room(b.office_id, b.channel, slots, exclude=b.day)
        row.booked += 1
        row.last_number += 1
        self._release(b.office_id, b.channel, b.day)
        new = attrs.evolve(
            b, day=slot.day, number=row.last_number, label=make_label(prefix, row.last_number)
        )
        self._bookings[(b.office_id, b.id)] = new
        self._by_day[(b.office_id, b.day)].remove(b.id)
        self._by_day.setdefault((b.office_id, slot.day), []).append(b.id)
        return new
