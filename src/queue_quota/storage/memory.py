"""`MemoryStorage`: in-process, thread-safe, for tests and single-process apps."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import attrs

from ..errors import AlreadyBooked, BookingNotFound, InvalidTransition, QuotaExhausted
from ..models import ACTIVE_STATUSES, Booking, BookingStatus, Reservation, Slot, make_label
from .base import ChannelMove

__all__ = ["MemoryStorage"]


@attrs.define
class _Day:
    booked: int = 0
    last_number: int = 0


class _Office:
    """Everything stored for one office (kept small: ~100,000 bookings fit in 64 MB)."""

    __slots__ = ("bookings", "by_citizen", "by_day", "closures", "days", "epochs", "hints", "keys")

    def __init__(self) -> None:
        self.bookings: dict[str, Booking] = {}
        self.keys: dict[str, str] = {}  # idempotency key -> booking id
        # channel -> citizen_ref -> the id of the citizen's booking, or a list of ids
        self.by_citizen: dict[str, dict[str, str | list[str]]] = {}
        self.by_day: dict[date, list[str]] = {}
        self.days: dict[tuple[str, date], _Day] = {}
        self.closures: dict[date, str] = {}
        # Skip pointer over full days (see `MemoryStorage._first_with_room`): per channel,
        # the slot sequence last searched, the release epoch then, and the first index
        # that may still have room. Any release of a place bumps the channel's epoch.
        self.epochs: dict[str, int] = {}
        self.hints: dict[str, tuple[Sequence[Slot], int, int]] = {}


class MemoryStorage:
    """Bookings kept in dicts, every operation under one lock.

    Nothing survives the process, so a `Scheduler` on it may run without a secret.
    """

    persistent = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offices: dict[str, _Office] = {}
        self._secrets: dict[str, str] = {}  # office id -> fingerprint of its secret

    def __repr__(self) -> str:
        n = sum(len(o.bookings) for o in self._offices.values())
        return f"<MemoryStorage bookings={n}>"

    def migrate(self) -> None:
        """Nothing to create."""

    def close(self) -> None:
        """Nothing to release."""

    def _office(self, office_id: str) -> _Office:
        state = self._offices.get(office_id)
        if state is None:
            state = self._offices[office_id] = _Office()
        return state

    # -- reads ---------------------------------------------------------------------------

    def find_by_key(self, office_id: str, idempotency_key: str) -> Booking | None:
        with self._lock:
            o = self._office(office_id)
            booking_id = o.keys.get(idempotency_key)
            return None if booking_id is None else o.bookings[booking_id]

    def get(self, office_id: str, booking_id: str) -> Booking:
        with self._lock:
            return self._get(self._office(office_id), office_id, booking_id)

    def bookings_of(
        self, office_id: str, citizen_refs: Sequence[str], *, since: date | None = None
    ) -> list[Booking]:
        with self._lock:
            o = self._office(office_id)
            found: list[Booking] = []
            for citizens in o.by_citizen.values():
                for ref in set(citizen_refs):
                    ids = citizens.get(ref)
                    if ids is None:
                        continue
                    for i in (ids,) if isinstance(ids, str) else ids:
                        b = o.bookings[i]
                        if since is None or b.day >= since:
                            found.append(b)
        found.sort(key=lambda b: (b.day, b.channel, b.number))
        return found

    def claim_secret(self, office_id: str, fingerprint: str, accepted: Sequence[str]) -> str | None:
        with self._lock:
            stored = self._secrets.get(office_id)
            if stored is None or stored in accepted:
                self._secrets[office_id] = fingerprint
            return stored

    def closures(self, office_id: str) -> dict[date, str]:
        with self._lock:
            return dict(self._office(office_id).closures)

    def booked_counts(
        self, office_id: str, channel: str, start: date, end: date
    ) -> dict[date, int]:
        with self._lock:
            days = self._office(office_id).days
            if (end - start).days <= len(days):
                out: dict[date, int] = {}
                d = start
                while d < end:
                    row = days.get((channel, d))
                    if row is not None and row.booked:
                        out[d] = row.booked
                    d = date.fromordinal(d.toordinal() + 1)
                return out
            return {
                k[1]: row.booked
                for k, row in days.items()
                if k[0] == channel and start <= k[1] < end and row.booked
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
            o = self._office(office_id)
            found = [o.bookings[i] for i in o.by_day.get(day, ())]
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
            o = self._office(r.office_id)
            if r.idempotency_key is not None:
                existing = o.keys.get(r.idempotency_key)
                if existing is not None:
                    return o.bookings[existing]
            if r.citizen_ref is not None and r.per_citizen is not None:
                held = sum(self._active_count(o, r.channel, ref, r.today) for ref in r.citizen_refs)
                if held >= r.per_citizen:
                    raise AlreadyBooked(channel=r.channel, limit=r.per_citizen)
            if r.booking_id in o.bookings:
                raise InvalidTransition(
                    f"booking id {r.booking_id} already exists", reason="duplicate_id"
                )
            slot, row = self._first_with_room(o, r.channel, r.slots, exclude=None)
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
                request_fingerprint=r.fingerprint,
            )
            o.bookings[booking.id] = booking
            on_day = o.by_day.get(slot.day)
            if on_day is None:
                o.by_day[slot.day] = [booking.id]
            else:
                on_day.append(booking.id)
            if r.idempotency_key is not None:
                o.keys[r.idempotency_key] = booking.id
            if r.citizen_ref is not None:
                citizens = o.by_citizen.get(r.channel)
                if citizens is None:
                    citizens = o.by_citizen[r.channel] = {}
                held_ids = citizens.get(r.citizen_ref)
                if held_ids is None:
                    citizens[r.citizen_ref] = booking.id
                elif isinstance(held_ids, str):
                    citizens[r.citizen_ref] = [held_ids, booking.id]
                else:
                    held_ids.append(booking.id)
            return booking

    def cancel(self, office_id: str, booking_id: str, *, not_before: date) -> Booking:
        with self._lock:
            o = self._office(office_id)
            b = self._get(o, office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise InvalidTransition(
                    f"cannot cancel a booking that is {b.status.value}",
                    reason="not_booked",
                    status=b.status.value,
                    day=b.day,
                )
            if b.day < not_before:
                raise InvalidTransition(
                    f"cannot cancel a booking for a past day ({b.day})",
                    reason="past_day",
                    day=b.day,
                )
            self._release(o, b.channel, b.day)
            new = attrs.evolve(b, status=BookingStatus.CANCELLED)
            o.bookings[booking_id] = new
            return new

    def check_in(self, office_id: str, booking_id: str, *, today: date) -> Booking:
        with self._lock:
            o = self._office(office_id)
            b = self._get(o, office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise InvalidTransition(
                    f"cannot check in a booking that is {b.status.value}",
                    reason="not_booked",
                    status=b.status.value,
                    day=b.day,
                )
            if b.day != today:
                raise InvalidTransition(
                    f"the booking is for {b.day}, not today ({today})",
                    reason="not_today",
                    day=b.day,
                )
            new = attrs.evolve(b, status=BookingStatus.CHECKED_IN)
            o.bookings[booking_id] = new
            return new

    def move(
        self, office_id: str, booking_id: str, slots: Sequence[Slot], *, prefix: str
    ) -> Booking:
        with self._lock:
            o = self._office(office_id)
            b = self._get(o, office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise InvalidTransition(
                    f"cannot move a booking that is {b.status.value}",
                    reason="not_booked",
                    status=b.status.value,
                    day=b.day,
                )
            return self._move(o, b, slots, prefix)

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
            o = self._office(office_id)
            if day in o.closures:
                return []
            on_day = [o.bookings[i] for i in o.by_day.get(day, ())]
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
            # Keep a copy so that a failure leaves nothing written.
            saved = copy.copy(o)
            saved.days = {k: attrs.evolve(v) for k, v in o.days.items()}
            saved.bookings = dict(o.bookings)
            saved.by_day = {k: list(v) for k, v in o.by_day.items()}
            saved.epochs = dict(o.epochs)
            saved.hints = dict(o.hints)
            saved.closures = dict(o.closures)
            o.closures[day] = reason
            moved: list[Booking] = []
            try:
                for b, how in plan:
                    moved.append(self._move(o, b, how.slots, how.prefix))
            except BaseException:
                self._offices[office_id] = saved
                raise
            return moved

    def mark_no_shows(self, office_id: str, day: date) -> list[Booking]:
        with self._lock:
            o = self._office(office_id)
            waiting = sorted(
                (
                    b
                    for b in (o.bookings[i] for i in o.by_day.get(day, ()))
                    if b.status is BookingStatus.BOOKED
                ),
                key=lambda b: (b.channel, b.number),
            )
            marked: list[Booking] = []
            for b in waiting:
                self._release(o, b.channel, b.day)
                new = attrs.evolve(b, status=BookingStatus.NO_SHOW)
                o.bookings[b.id] = new
                marked.append(new)
            return marked

    # -- helpers (called with the lock held) ---------------------------------------------

    @staticmethod
    def _get(o: _Office, office_id: str, booking_id: str) -> Booking:
        try:
            return o.bookings[booking_id]
        except KeyError:
            raise BookingNotFound(f"no booking {booking_id!r} in office {office_id!r}") from None

    @staticmethod
    def _active_count(o: _Office, channel: str, citizen_ref: str, today: date) -> int:
        ids = o.by_citizen.get(channel, {}).get(citizen_ref)
        if ids is None:
            return 0
        n = 0
        for i in (ids,) if isinstance(ids, str) else ids:
            b = o.bookings[i]
            if b.status in ACTIVE_STATUSES and b.day >= today:
                n += 1
        return n

    @staticmethod
    def _release(o: _Office, channel: str, day: date) -> None:
        o.days[(channel, day)].booked -= 1
        o.epochs[channel] = o.epochs.get(channel, 0) + 1

    @staticmethod
    def _first_with_room(
        o: _Office, channel: str, slots: Sequence[Slot], exclude: date | None
    ) -> tuple[Slot, _Day]:
        """The first slot with room, skipping the full prefix found by earlier searches.

        Slots before the remembered index were unavailable (full, closed or without
        capacity) when searched; days only fill up until a place is released (which bumps
        the epoch) and closures are never lifted, so they are still unavailable.
        """
        closed = o.closures
        days = o.days
        epoch = o.epochs.get(channel, 0)
        start = 0
        hint = o.hints.get(channel)
        if hint is not None and hint[0] is slots and hint[1] == epoch:
            start = hint[2]
        for i in range(start, len(slots)):
            slot = slots[i]
            if slot.day == exclude or slot.capacity <= 0 or slot.day in closed:
                continue
            key = (channel, slot.day)
            row = days.get(key)
            if row is None:
                row = days[key] = _Day()
            if row.booked < slot.capacity:
                if exclude is None:
                    o.hints[channel] = (slots, epoch, i)
                return slot, row
        if exclude is None:
            o.hints[channel] = (slots, epoch, len(slots))
        raise QuotaExhausted(channel=channel)

    def _move(self, o: _Office, b: Booking, slots: Sequence[Slot], prefix: str) -> Booking:
        slot, row = self._first_with_room(o, b.channel, slots, exclude=b.day)
        row.booked += 1
        row.last_number += 1
        self._release(o, b.channel, b.day)
        new = attrs.evolve(
            b, day=slot.day, number=row.last_number, label=make_label(prefix, row.last_number)
        )
        o.bookings[b.id] = new
        o.by_day[b.day].remove(b.id)
        o.by_day.setdefault(slot.day, []).append(b.id)
        return attrs.evolve(new, previous_day=b.day, previous_number=b.number)
