"""`SQLiteStorage`: the embedded default, shared safely by threads and processes.

Every write is one ``BEGIN IMMEDIATE`` transaction: SQLite admits one writer at a time
to the file, so the check (``booked < capacity``) and the write happen with no other
writer in between, whatever the number of processes. The schema repeats the rules as
constraints (``CHECK (booked <= capacity)``, a unique number per day, a unique idempotency
key), so even a bug could not commit an overbooked day.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs

from ..errors import (
    AlreadyBooked,
    BookingNotFound,
    ConfigurationError,
    InvalidTransition,
    QuotaExhausted,
    StorageError,
)
from ..models import Booking, BookingStatus, Reservation, Slot, make_label
from ._sqlite_conn import open_connection, write_transaction
from ._sqlite_days import DayCounters
from ._sqlite_schema import needs_upgrade, upgrade
from ._sqlite_sql import (
    COLUMNS,
    INSERT_BOOKING,
    bookings_of_sql,
    citizen_count_sql,
    find_booking,
    row_to_booking,
)
from .base import ChannelMove

__all__ = ["SQLiteStorage"]


def _duplicate(booking_id: str) -> InvalidTransition:
    return InvalidTransition(f"booking id {booking_id} already exists", reason="duplicate_id")


def _found(booking: Booking | None, office_id: str, booking_id: str) -> Booking:
    if booking is None:
        raise BookingNotFound(f"no booking {booking_id!r} in office {office_id!r}")
    return booking


_SYNC_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


class SQLiteStorage:
    """Bookings in one SQLite file, shared by any number of threads and processes.

    Args:
        path: The database file (created if missing).
        synchronous: ``"FULL"`` (default: a commit survives power loss) or ``"NORMAL"``
            (faster; the last commits may be lost on power loss, never on a process crash).
        timeout: Seconds a writer waits for the file's write lock before `StorageError`.

    Each thread (and each process after a fork) gets its own connection. The schema is
    created on first use, and a file made by an earlier version (0.1) is upgraded in place.
    """

    persistent = True

    def __init__(
        self, path: str | os.PathLike[str], *, synchronous: str = "FULL", timeout: float = 30.0
    ) -> None:
        if str(path) in ("", ":memory:") or str(path).startswith("file::memory:"):
            raise ConfigurationError(
                "SQLiteStorage needs a file shared by all connections; use MemoryStorage "
                "for an in-memory store"
            )
        sync = str(synchronous).upper()
        if sync not in _SYNC_MODES:
            raise ConfigurationError(
                f"synchronous must be one of {_SYNC_MODES}, got {synchronous!r}"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigurationError(f"timeout must be a positive number, got {timeout!r}")
        self._path = Path(path)
        self._synchronous = sync
        self._timeout = float(timeout)
        self._local = threading.local()
        self._migrated = False
        self._migrate_lock = threading.Lock()
        self._closed = False
        # The day counters and the skip pointer over full days: see `_sqlite_days`.
        self._days = DayCounters()

    def __repr__(self) -> str:
        return f"<SQLiteStorage {str(self._path)!r} synchronous={self._synchronous}>"

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    # -- connections -----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError("the storage is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        conn = open_connection(self._path, self._timeout, self._synchronous)
        self._local.conn = conn
        self._local.pid = os.getpid()
        if not self._migrated:
            self._migrate(conn)
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        with self._migrate_lock:
            if self._migrated:
                return
            if needs_upgrade(conn, self._path):  # a read: no write lock once up to date
                upgrade(conn, self._path)
            self._migrated = True

    def migrate(self) -> None:
        """Create the schema, or upgrade a database of an earlier version, now.

        It is otherwise done on first use. Idempotent, and safe when several processes
        open the same file at once (see `queue_quota.storage._sqlite_schema`).
        """
        self._connect()

    def close(self) -> None:
        """Close this thread's connection; further use raises `StorageError`."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local = threading.local()
        self._closed = True

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._connect())

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        conn = self._connect()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite error: {exc}") from exc

    # -- reads -----------------------------------------------------------------------------

    def find_by_key(self, office_id: str, idempotency_key: str) -> Booking | None:
        rows = self._read(
            f"SELECT {COLUMNS} FROM qq_booking WHERE office_id = ? AND idempotency_key = ?",
            (office_id, idempotency_key),
        )
        return row_to_booking(rows[0]) if rows else None

    def get(self, office_id: str, booking_id: str) -> Booking:
        rows = self._read(
            f"SELECT {COLUMNS} FROM qq_booking WHERE office_id = ? AND id = ?",
            (office_id, booking_id),
        )
        if not rows:
            raise BookingNotFound(f"no booking {booking_id!r} in office {office_id!r}")
        return row_to_booking(rows[0])

    def closures(self, office_id: str) -> dict[date, str]:
        rows = self._read("SELECT day, reason FROM qq_closure WHERE office_id = ?", (office_id,))
        return {date.fromisoformat(d): r for d, r in rows}

    def booked_counts(
        self, office_id: str, channel: str, start: date, end: date
    ) -> dict[date, int]:
        rows = self._read(
            "SELECT day, booked FROM qq_day WHERE office_id = ? AND channel = ? "
            "AND day >= ? AND day < ? AND booked > 0",
            (office_id, channel, start.isoformat(), end.isoformat()),
        )
        return {date.fromisoformat(d): n for d, n in rows}

    def bookings_on(
        self,
        office_id: str,
        day: date,
        channel: str | None = None,
        *,
        include_cancelled: bool = False,
    ) -> list[Booking]:
        sql = f"SELECT {COLUMNS} FROM qq_booking WHERE office_id = ? AND day = ?"
        params: list[Any] = [office_id, day.isoformat()]
        if channel is not None:
            sql += " AND channel = ?"
            params.append(channel)
        if not include_cancelled:
            sql += " AND status != 'cancelled'"
        sql += " ORDER BY channel, number"
        return [row_to_booking(r) for r in self._read(sql, params)]

    def bookings_of(
        self, office_id: str, citizen_refs: Sequence[str], *, since: date | None = None
    ) -> list[Booking]:
        refs = list(dict.fromkeys(citizen_refs))
        if not refs:
            return []
        params: list[Any] = [office_id, *refs]
        if since is not None:
            params.append(since.isoformat())
        rows = self._read(bookings_of_sql(len(refs), since is not None), params)
        return [row_to_booking(r) for r in rows]

    def claim_secret(self, office_id: str, fingerprint: str, accepted: Sequence[str]) -> str | None:
        read = "SELECT fingerprint FROM qq_secret WHERE office_id = ?"
        rows = self._read(read, (office_id,))
        if rows and rows[0][0] == fingerprint:
            return str(rows[0][0])  # what the transaction would answer, with nothing to write
        with self._write() as conn:
            row = conn.execute(read, (office_id,)).fetchone()
            stored: str | None = None if row is None else str(row[0])
            if stored is not None and (stored == fingerprint or stored not in accepted):
                return stored
            conn.execute(
                "INSERT INTO qq_secret (office_id, fingerprint, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (office_id) DO UPDATE "
                "SET fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
                (office_id, fingerprint, datetime.now(UTC).isoformat()),
            )
            return stored

    # -- writes ----------------------------------------------------------------------------

    def reserve(self, reservation: Reservation) -> Booking:
        r = reservation
        with self._write() as conn:
            if r.idempotency_key is not None:
                row = conn.execute(
                    f"SELECT {COLUMNS} FROM qq_booking WHERE office_id = ? AND idempotency_key = ?",
                    (r.office_id, r.idempotency_key),
                ).fetchone()
                if row is not None:
                    return row_to_booking(row)
            taken = self._days.fast_take(conn, r)
            if taken is None:
                refs = r.citizen_refs
                if refs and r.per_citizen is not None:
                    (held,) = conn.execute(
                        citizen_count_sql(len(refs)),
                        (r.office_id, r.channel, *refs, r.today.isoformat()),
                    ).fetchone()
                    if held >= r.per_citizen:
                        raise AlreadyBooked(channel=r.channel, limit=r.per_citizen)
                try:
                    taken = self._days.take(conn, r.office_id, r.channel, r.slots, exclude=None)
                except QuotaExhausted:
                    # The refusal path only: a taken id is the caller's mistake, said first.
                    if find_booking(conn, r.office_id, r.booking_id) is not None:
                        raise _duplicate(r.booking_id) from None
                    raise
            day, number = taken
            booking = Booking(
                id=r.booking_id,
                office_id=r.office_id,
                channel=r.channel,
                day=day,
                number=number,
                label=make_label(r.prefix, number),
                status=BookingStatus.BOOKED,
                citizen_ref=r.citizen_ref,
                created_at=r.created_at,
                ticket=r.ticket,
                idempotency_key=r.idempotency_key,
                request_fingerprint=r.fingerprint,
            )
            inserted = conn.execute(
                INSERT_BOOKING,
                (
                    booking.id,
                    booking.office_id,
                    booking.channel,
                    booking.day.isoformat(),
                    booking.number,
                    booking.label,
                    booking.status.value,
                    booking.citizen_ref,
                    booking.created_at.isoformat(),
                    booking.ticket,
                    booking.idempotency_key,
                    r.fingerprint,
                ),
            )
            if inserted.rowcount != 1:  # the id exists: rolled back with the place taken
                raise _duplicate(r.booking_id)
            return booking

    def cancel(self, office_id: str, booking_id: str, *, not_before: date) -> Booking:
        with self._write() as conn:
            b = _found(find_booking(conn, office_id, booking_id), office_id, booking_id)
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
            conn.execute(
                "UPDATE qq_booking SET status = 'cancelled' WHERE office_id = ? AND id = ?",
                (office_id, booking_id),
            )
            self._days.release(conn, office_id, b.channel, b.day)
            return attrs.evolve(b, status=BookingStatus.CANCELLED)

    def check_in(self, office_id: str, booking_id: str, *, today: date) -> Booking:
        with self._write() as conn:
            b = _found(find_booking(conn, office_id, booking_id), office_id, booking_id)
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
            conn.execute(
                "UPDATE qq_booking SET status = 'checked_in' WHERE office_id = ? AND id = ?",
                (office_id, booking_id),
            )
            return attrs.evolve(b, status=BookingStatus.CHECKED_IN)

    def move(
        self, office_id: str, booking_id: str, slots: Sequence[Slot], *, prefix: str
    ) -> Booking:
        with self._write() as conn:
            b = _found(find_booking(conn, office_id, booking_id), office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise InvalidTransition(
                    f"cannot move a booking that is {b.status.value}",
                    reason="not_booked",
                    status=b.status.value,
                    day=b.day,
                )
            return self._days.move(conn, b, slots, prefix)

    def close_day(
        self,
        office_id: str,
        day: date,
        reason: str,
        moves: Mapping[str, ChannelMove],
        *,
        now: datetime,
    ) -> list[Booking]:
        with self._write() as conn:
            inserted = conn.execute(
                "INSERT INTO qq_closure (office_id, day, reason, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (office_id, day) DO NOTHING RETURNING day",
                (office_id, day.isoformat(), reason, now.isoformat()),
            ).fetchone()
            if inserted is None:
                return []
            moved: list[Booking] = []
            for channel, how in moves.items():
                rows = conn.execute(
                    f"SELECT {COLUMNS} FROM qq_booking WHERE office_id = ? AND day = ? "
                    "AND channel = ? AND status = 'booked' ORDER BY number",
                    (office_id, day.isoformat(), channel),
                ).fetchall()
                for row in rows:
                    moved.append(self._days.move(conn, row_to_booking(row), how.slots, how.prefix))
            return moved

    def mark_no_shows(self, office_id: str, day: date) -> list[Booking]:
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM qq_booking WHERE office_id = ? AND day = ? "
                "AND status = 'booked' ORDER BY channel, number",
                (office_id, day.isoformat()),
            ).fetchall()
            marked: list[Booking] = []
            for row in rows:
                b = row_to_booking(row)
                conn.execute(
                    "UPDATE qq_booking SET status = 'no_show' WHERE office_id = ? AND id = ?",
                    (office_id, b.id),
                )
                self._days.release(conn, office_id, b.channel, b.day)
                marked.append(attrs.evolve(b, status=BookingStatus.NO_SHOW))
            return marked

    # -- helpers (inside a write transaction) ----------------------------------------------
