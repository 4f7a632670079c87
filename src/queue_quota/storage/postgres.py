"""`PostgresStorage`: many app servers sharing one PostgreSQL database.

Every write is one call of a server-side function (created by `PostgresStorage.migrate`),
so a booking is **one statement, one round trip, one transaction**: check the idempotency
key, check the citizen's limit under advisory locks (one per ref of the citizen, in sorted
order), then take a place with a conditional
``INSERT ... ON CONFLICT DO UPDATE SET booked = booked + 1 WHERE booked < capacity`` and
insert the booking. The day's counter row lock serializes a hot day; the schema repeats the
rules as constraints (``CHECK (booked >= 0 AND booked <= capacity)``, a unique number per
day, a unique idempotency key per office). See ``_pg_sql`` and ``_pg_funcs`` for the SQL,
``_pg_base`` for connections and retries.

Failures: serialization failures and deadlocks are retried (bounded, with jittered
backoff). A connection lost while a write may have committed is retried only when the
retry cannot duplicate anything: a reservation is found again by its booking id (and key),
a cancellation or check-in already done is accepted; a move or a day closure whose commit
is in doubt raises `StorageError`. Every driver error surfaces as `StorageError`. Refusals
come back from the server as SQLSTATEs of our own, one per reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ..errors import BookingNotFound, ConfigurationError, InvalidTransition, StorageError
from ..models import Booking, Candidate, Reservation, Slot
from ._pg_base import PgBase, Row
from ._pg_support import Refused, to_booking
from .base import ChannelMove

__all__ = ["PostgresStorage"]

_CHUNK = 16  # candidate days sent per reservation statement


class PostgresStorage(PgBase):
    """Bookings in a PostgreSQL schema, shared by any number of processes and threads.

    Args:
        conninfo_or_pool: A libpq connection string or URL (the storage then owns a
            ``psycopg_pool.ConnectionPool``, opened on first use and closed by `close`), or
            an existing ``ConnectionPool`` (used as is, never closed by the storage).
        schema: Schema holding the tables (``^[a-z_][a-z0-9_]{0,62}$``); created on first use.
        min_size: Connections an owned pool keeps open.
        max_size: Most connections an owned pool opens.
        timeout: Seconds to wait for a connection (and for the first connection).
        max_attempts: Attempts of one operation on serialization failures, deadlocks and
            lost connections before `StorageError`.
        prepare: Use server-side prepared statements. ``False`` prepares nothing, ever
            (for a transaction-mode pgbouncer older than 1.21); with a pool of your own,
            also create its connections with ``prepare_threshold=None`` if other code
            shares them.

    Raises:
        ConfigurationError: psycopg is not installed, or a bad argument.
    """

    persistent = True

    # -- reads -----------------------------------------------------------------------------

    def find_by_key(self, office_id: str, idempotency_key: str) -> Booking | None:
        """The booking made with that idempotency key in the office, if any."""
        rows = self._query("FIND_BY_KEY", (office_id, idempotency_key), "find a booking")
        return to_booking(rows[0]) if rows else None

    def get(self, office_id: str, booking_id: str) -> Booking:
        """The booking with that id; `BookingNotFound` if there is none."""
        rows = self._query("GET", (office_id, booking_id), "read a booking")
        if not rows:
            raise BookingNotFound(f"no booking {booking_id!r} in office {office_id!r}")
        return to_booking(rows[0])

    def closures(self, office_id: str) -> dict[date, str]:
        """Days closed at run time with `close_day`, with their reasons."""
        return dict(self._query("CLOSURES", (office_id,), "read closures"))

    def booked_counts(
        self, office_id: str, channel: str, start: date, end: date
    ) -> dict[date, int]:
        """Active bookings per day in ``[start, end)``; days with none are omitted."""
        rows = self._query("BOOKED_COUNTS", (office_id, channel, start, end), "count bookings")
        return dict(rows)

    def bookings_on(
        self,
        office_id: str,
        day: date,
        channel: str | None = None,
        *,
        include_cancelled: bool = False,
    ) -> list[Booking]:
        """The bookings of a day, by channel then number."""
        params = (office_id, day, channel, channel, include_cancelled)
        return [to_booking(r) for r in self._query("BOOKINGS_ON", params, "list bookings")]

    def bookings_of(
        self, office_id: str, citizen_refs: Sequence[str], *, since: date | None = None
    ) -> list[Booking]:
        """Every booking of the office with one of ``citizen_refs`` (any status), with
        ``day >= since`` if given, by day, channel and number (index ``qq_booking_refs``)."""
        if not citizen_refs:
            return []
        params = (office_id, list(citizen_refs), since, since)
        return [to_booking(r) for r in self._query("BOOKINGS_OF", params, "list bookings")]

    # -- writes ----------------------------------------------------------------------------

    def claim_secret(self, office_id: str, fingerprint: str, accepted: Sequence[str]) -> str | None:
        """Check and record the fingerprint of the office's secret, atomically (one
        statement; processes starting at once wait for each other on the row)."""
        # Run again after a lost reply, it answers the fingerprint it stored, which the
        # scheduler accepts (``accepted`` holds the scheduler's own fingerprint).
        rows = self._call(
            "CLAIM_SECRET", lambda _retry: (office_id, fingerprint, list(accepted)), True,
            "check the secret's fingerprint",
        )  # fmt: skip
        stored: str | None = rows[0][0]
        return stored

    def reserve(self, reservation: Reservation) -> Booking:
        """Atomically book the first slot with room, in one statement.

        Candidate days are sent in chunks of 16, starting after the days this process
        found full earlier (the skip pointer, valid while the channel's release epoch is
        unchanged; the server checks it and says when it is stale). So one round trip
        books, however many full days lie ahead. After a stale pointer (a place was freed
        since), every candidate goes in one last statement that checks no pointer: at most
        ``len(slots) / 16 + 2`` statements, however many cancellations race it.

        Raises:
            QuotaExhausted: No slot has room (nothing written).
            AlreadyBooked: The citizen holds ``per_citizen`` active bookings already.
            InvalidTransition: ``booking_id`` exists already (``reason="duplicate_id"``).
            StorageError: The database failed.
        """
        r = reservation
        slots = self._slots_of(r)
        hint_key = (r.office_id, r.channel)
        hint = self._hints.get(hint_key)
        start, epoch, whole = 0, None, False
        if hint is not None and hint[0] is slots:
            epoch, start = hint[1], hint[2]
        while True:
            chunk = slots if whole else slots[start : start + _CHUNK]
            try:
                row = self._reserve_once(r, chunk, epoch if start > 0 else None)
            except Refused as refused:
                if refused.state == "QQ005" and not whole:
                    # Released since: look at every candidate again, in one statement that
                    # checks no skip pointer (so it cannot be stale in turn).
                    start, epoch, whole = 0, None, True
                    continue
                if refused.state == "QQ001":
                    seen = refused.cause.diag.message_hint
                    epoch = int(seen) if seen else None
                    if not whole and start + _CHUNK < len(slots) and epoch is not None:
                        start += _CHUNK
                        continue
                    if epoch is not None:
                        self._hints[hint_key] = (slots, epoch, len(slots))
                raise refused.domain(channel=r.channel, limit=r.per_citizen) from None
            if row[12] is not None and chunk:
                days = [s.day for s in chunk]
                at = start + days.index(row[3]) if row[3] in days else 0
                self._hints[hint_key] = (slots, int(row[12]), at)
            return to_booking(row)

    def _reserve_once(self, r: Reservation, chunk: Sequence[Slot], epoch: int | None) -> Row:
        """One ``qq_reserve`` statement over ``chunk``; a committed booking is never an error.

        If the connection was lost while an attempt may have committed and the retries run
        out, the booking is looked for once more by its id before anything is reported.
        """
        days = [s.day for s in chunk]
        caps = [s.capacity for s in chunk]
        others = list(r.citizen_refs[1:])

        def params(retry: bool) -> Sequence[Any]:
            return (r.office_id, r.channel, days, caps, r.booking_id, r.ticket, r.prefix,
                    r.citizen_ref, others, r.per_citizen, r.today, r.created_at,
                    r.idempotency_key, r.fingerprint, retry, epoch)  # fmt: skip

        in_doubt = [False]
        try:
            return self._call("RESERVE", params, True, "reserve a place", flag=in_doubt)[0]
        except StorageError as exc:
            cause = exc.__cause__
            if _is_duplicate_id(cause):  # the same id inserted concurrently
                raise _duplicate(r.booking_id) from None
            if in_doubt[0]:
                try:
                    found = self._query("GET", (r.office_id, r.booking_id), "read a booking")
                except StorageError:
                    raise exc from cause
                if found:
                    return (*found[0], None)
            raise

    def cancel(self, office_id: str, booking_id: str, *, not_before: date) -> Booking:
        """Cancel a ``BOOKED`` booking whose day is not before ``not_before``, freeing its place.

        Raises:
            BookingNotFound: Unknown id.
            InvalidTransition: Another status, or a past day.
        """
        return self._write_one(
            "CANCEL", lambda retry: (office_id, booking_id, not_before, retry), True,
            "cancel a booking", office_id, booking_id
        )  # fmt: skip

    def check_in(self, office_id: str, booking_id: str, *, today: date) -> Booking:
        """Mark a ``BOOKED`` booking for ``today`` as ``CHECKED_IN``.

        Raises:
            BookingNotFound: Unknown id.
            InvalidTransition: Another day or status.
        """
        return self._write_one(
            "CHECK_IN", lambda retry: (office_id, booking_id, today, retry), True,
            "check in", office_id, booking_id
        )  # fmt: skip

    def _slots_of(self, r: Reservation) -> Sequence[Slot]:
        """The reservation's slots: one counter per candidate is all this adapter takes
        (the scheduler refuses offices with sessions or pools on it). Converted candidate
        lists are kept by digest, so the skip pointer (by identity) still applies."""
        if r.slots or not r.candidates:
            return r.slots
        key = r.candidates_key
        cached = self._converted.get(key) if key is not None else None
        if cached is None:
            cached = _single_counter(r.channel, r.candidates)
            if r.places != 1:
                raise ConfigurationError("PostgresStorage books one place per booking (for now)")
            if key is not None:
                if len(self._converted) > 256:
                    self._converted.clear()
                self._converted[key] = cached
        elif r.places != 1:
            raise ConfigurationError("PostgresStorage books one place per booking (for now)")
        return cached

    def move(
        self, office_id: str, booking_id: str, slots: Sequence[Slot | Candidate], *, prefix: str
    ) -> Booking:
        """Atomically move a ``BOOKED`` booking to the first slot with room.

        Raises:
            QuotaExhausted: No slot has room (nothing changed).
            BookingNotFound: Unknown id.
            InvalidTransition: Not ``BOOKED``.
        """
        plain = _single_counter(None, slots)
        days = [s.day for s in plain]
        caps = [s.capacity for s in plain]
        return self._write_one(
            "MOVE", lambda _retry: (office_id, booking_id, days, caps, prefix), False,
            "move a booking", office_id, booking_id
        )  # fmt: skip

    def close_day(
        self,
        office_id: str,
        day: date,
        reason: str,
        moves: Mapping[str, ChannelMove],
        *,
        now: datetime,
    ) -> list[Booking]:
        """Record a closure and move the day's ``BOOKED`` bookings, in one transaction.

        Returns:
            The moved bookings, channel by channel in the order of ``moves``, each channel in
            number order; ``[]`` if the day was already closed.

        Raises:
            QuotaExhausted: A booking cannot be placed (nothing written).
        """
        channels, prefixes, starts = list(moves), [], [1]
        days: list[date] = []
        caps: list[int] = []
        for how in moves.values():
            prefixes.append(how.prefix)
            plain = _single_counter(None, how.slots)
            days.extend(s.day for s in plain)
            caps.extend(s.capacity for s in plain)
            starts.append(len(days) + 1)
        args = (office_id, day, reason, now, channels, prefixes, starts, days, caps)
        try:
            rows = self._call("CLOSE_DAY", lambda _retry: args, False, "close a day")
        except Refused as refused:
            raise refused.domain() from None
        return [to_booking(row) for row in rows]

    def mark_no_shows(self, office_id: str, day: date) -> list[Booking]:
        """Mark the day's ``BOOKED`` bookings ``NO_SHOW`` and free their places, in one call.

        Returns:
            The bookings as updated, by channel then number; ``[]`` if none was ``BOOKED``.

        Raises:
            StorageError: The database failed, or the connection was lost while committing
                (the outcome is then unknown: read the day with `bookings_on`).
        """
        try:
            rows = self._call(
                "MARK_NO_SHOWS", lambda _retry: (office_id, day), False, "mark no-shows"
            )
        except Refused as refused:
            raise refused.domain() from None
        return [to_booking(row) for row in rows]

    def _write_one(
        self,
        name: str,
        params: Callable[[bool], Sequence[Any]],
        idempotent: bool,
        what: str,
        office_id: str,
        booking_id: str,
    ) -> Booking:
        try:
            rows = self._call(name, params, idempotent, what)
        except Refused as refused:
            raise refused.domain(office_id=office_id, booking_id=booking_id) from None
        return to_booking(rows[0])


def _is_duplicate_id(error: BaseException | None) -> bool:
    """Whether a driver error is the primary key of bookings refusing an id (a race that
    the function's own check cannot see: the other insert had not committed yet)."""
    diag = getattr(error, "diag", None)
    state = getattr(error, "sqlstate", None)
    return state == "23505" and getattr(diag, "constraint_name", None) == "qq_booking_pkey"


def _duplicate(booking_id: str) -> InvalidTransition:
    return InvalidTransition(f"booking id {booking_id} already exists", reason="duplicate_id")


def _single_counter(channel: str | None, items: Sequence[Slot | Candidate]) -> tuple[Slot, ...]:
    """Candidates of the channel's own counter only, as 0.1 slots."""
    out = []
    for c in items:
        if isinstance(c, Slot):
            out.append(c)
        elif len(c.charges) == 1 and c.charges[0].scope.startswith("c:") and c.window is None:
            out.append(Slot(c.day, c.charges[0].capacity))
        else:
            raise ConfigurationError(
                "PostgresStorage takes one counter per booking (no sessions or pools yet)"
            )
    return tuple(out)
