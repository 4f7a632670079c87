"""The `Storage` protocol: what an adapter must do, atomically.

Policies decide *where* a request may go (the candidate `Slot`s, in order of preference).
The storage decides *whether it still fits*: every method that changes a count does the
check and the write in **one atomic operation** (one transaction, or under one lock), so no
interleaving of threads or processes can overbook a day.

Rules every adapter keeps (the contract suite in `queue_quota.testing` checks them):

* ``reserve`` books the first slot that has room (``booked < capacity``) and is not closed
  in the storage's closures; it checks the idempotency key first (returning that booking,
  with the ``fingerprint`` stored with the key as its ``request_fingerprint``: the
  scheduler, not the storage, decides whether the retry is the same request) and then the
  citizen's limit (`AlreadyBooked`), counting the active bookings of every ref in
  ``reservation.citizen_refs``; it stores ``reservation.fingerprint`` with the key; if no
  slot fits it raises a bare `QuotaExhausted` (the scheduler fills in ``next_available``).
  A ``booking_id`` that exists already is `InvalidTransition` with
  ``reason="duplicate_id"``.
* ``move`` and ``close_day`` return the moved bookings with ``previous_day`` and
  ``previous_number`` set to where each one was before.
* Queue numbers count from 1 per (office, channel, day) and are never reused on that day,
  even after a cancellation or a move.
* ``booked`` counts the active bookings (booked or checked in) of the day.
* ``mark_no_shows`` turns a day's ``BOOKED`` bookings into ``NO_SHOW``, freeing their
  places in the day's counter, in one atomic operation; a second call returns ``[]``.
* A failed operation leaves nothing written. Driver errors surface as `StorageError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import attrs

from ..models import Booking, Candidate, Reservation, Slot

__all__ = ["ChannelMove", "Storage"]


@attrs.frozen
class ChannelMove:
    """How to move one channel's bookings off a closed day: label prefix and candidate slots."""

    prefix: str
    slots: Sequence[Slot | Candidate]


@runtime_checkable
class Storage(Protocol):
    """Where bookings, day counters and run-time closures live.

    Implement every method; see the module documentation for the atomicity rules.
    """

    @property
    def persistent(self) -> bool:
        """Whether data outlives the process (a persistent storage requires a secret)."""
        ...

    def migrate(self) -> None:
        """Create or upgrade the schema (idempotent; safe from several processes)."""
        ...

    def reserve(self, reservation: Reservation) -> Booking:
        """Atomically book the first slot with room; see the module docstring."""
        ...

    def find_by_key(self, office_id: str, idempotency_key: str) -> Booking | None:
        """The booking made with that idempotency key in the office, if any."""
        ...

    def get(self, office_id: str, booking_id: str) -> Booking:
        """The booking with that id; `BookingNotFound` if there is none."""
        ...

    def cancel(self, office_id: str, booking_id: str, *, not_before: date) -> Booking:
        """Cancel a ``BOOKED`` booking whose day is not before ``not_before``, freeing its place.

        `InvalidTransition` for any other status or a past day; `BookingNotFound` if unknown.
        """
        ...

    def check_in(self, office_id: str, booking_id: str, *, today: date) -> Booking:
        """Mark a ``BOOKED`` booking for ``today`` as ``CHECKED_IN``.

        `InvalidTransition` on another day or status; `BookingNotFound` if unknown.
        """
        ...

    def move(
        self, office_id: str, booking_id: str, slots: Sequence[Slot | Candidate], *, prefix: str
    ) -> Booking:
        """Atomically move a ``BOOKED`` booking to the first slot with room.

        The booking keeps its id and gets a new number on its new day; the old place is
        freed in the same transaction. Its current day is never a candidate. `QuotaExhausted`
        (and nothing changed) if no slot has room.
        """
        ...

    def close_day(
        self,
        office_id: str,
        day: date,
        reason: str,
        moves: Mapping[str, ChannelMove],
        *,
        now: datetime,
    ) -> list[Booking]:
        """Record a closure and move the day's ``BOOKED`` bookings, all in one transaction.

        Bookings are moved channel by channel in the order of ``moves``, each channel in
        number order, to the first slot with room. Returns the moved bookings in that order.
        If the day is already closed nothing changes and ``[]`` is returned. If a booking
        cannot be placed, `QuotaExhausted` is raised and nothing is written.
        """
        ...

    def mark_no_shows(self, office_id: str, day: date) -> list[Booking]:
        """Mark every ``BOOKED`` booking of the office on ``day`` as ``NO_SHOW``, atomically.

        The rule: only bookings still ``BOOKED`` change (checked-in, cancelled and no-show
        ones stay as they are, as do other days and other offices); each one marked gives
        its places back to every counter it charged (which keep counting the booked and
        checked-in bookings), and the office's release epoch is bumped as a cancellation
        bumps it. Numbers are not given back: the channel's last number is unchanged. All in
        one transaction (or under one lock).

        Returns:
            The bookings as updated, by channel then number; ``[]`` if none was ``BOOKED``
            (so a second call returns ``[]``).
        """
        ...

    def bookings_of(
        self, office_id: str, citizen_refs: Sequence[str], *, since: date | None = None
    ) -> list[Booking]:
        """Every booking of the office whose ``citizen_ref`` is one of ``citizen_refs``
        (any status), with ``day >= since`` if given, by day, then channel, then number.

        Indexed: a lookup costs the same whatever the number of other citizens' bookings.
        """
        ...

    def claim_secret(self, office_id: str, fingerprint: str, accepted: Sequence[str]) -> str | None:
        """Atomically check and record the fingerprint of the office's secret.

        * No fingerprint stored for the office: store ``fingerprint``, return ``None``.
        * The stored one is in ``accepted``: store ``fingerprint`` in its place (the
          scheduler's first secret, after a rotation), return the one that was stored.
        * Otherwise write nothing and return the stored one (the scheduler raises
          `SecretMismatch`).

        A fingerprint is an opaque string (a keyed hash); never the secret.
        """
        ...

    def closures(self, office_id: str) -> dict[date, str]:
        """Days closed at run time with `close_day`, with their reasons."""
        ...

    def booked_counts(
        self, office_id: str, channel: str, start: date, end: date
    ) -> dict[date, int]:
        """Active bookings per day in ``[start, end)``; days with none may be omitted."""
        ...

    def bookings_on(
        self,
        office_id: str,
        day: date,
        channel: str | None = None,
        *,
        include_cancelled: bool = False,
    ) -> list[Booking]:
        """The bookings of a day, by channel then number."""
        ...

    def close(self) -> None:
        """Release connections and files. The storage is unusable afterwards."""
        ...
