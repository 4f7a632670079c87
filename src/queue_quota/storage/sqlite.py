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
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from itertools import islice
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
from .base import ChannelMove

__all__ = ["SQLiteStorage"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS qq_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS qq_day (
    office_id   TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    capacity    INTEGER NOT NULL CHECK (capacity >= 0),
    booked      INTEGER NOT NULL DEFAULT 0,
    last_number INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (office_id, channel, day),
    CHECK (booked >= 0 AND booked <= capacity),
    CHECK (last_number >= booked)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qq_booking (
    id              TEXT    NOT NULL,
    office_id       TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    day             TEXT    NOT NULL,
    number          INTEGER NOT NULL CHECK (number >= 1),
    label           TEXT    NOT NULL,
    status          TEXT    NOT NULL
        CHECK (status IN ('booked', 'checked_in', 'cancelled', 'no_show')),
    citizen_ref     TEXT,
    created_at      TEXT    NOT NULL,
    ticket          TEXT    NOT NULL,
    idempotency_key TEXT,
    PRIMARY KEY (office_id, id),
    UNIQUE (office_id, day, channel, number),
    UNIQUE (office_id, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS qq_booking_citizen
    ON qq_booking (office_id, channel, citizen_ref, day)
    WHERE citizen_ref IS NOT NULL AND status IN ('booked', 'checked_in');
CREATE TABLE IF NOT EXISTS qq_epoch (
    office_id TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    epoch     INTEGER NOT NULL,
    PRIMARY KEY (office_id, channel)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qq_closure (
    office_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (office_id, day)
) WITHOUT ROWID;
"""

_COLUMNS = (
    "id, office_id, channel, day, number, label, status, citizen_ref, created_at, ticket, "
    "idempotency_key"
)

_UPSERT_DAY = """
INSERT INTO qq_day (office_id, channel, day, capacity, booked, last_number)
VALUES (?, ?, ?, ?, 1, 1)
ON CONFLICT (office_id, channel, day) DO UPDATE
    SET booked = booked + 1, last_number = last_number + 1, capacity = excluded.capacity
    WHERE booked < excluded.capacity
RETURNING last_number
"""

# The common case in one statement: take a place on the day the skip pointer points at,
# if it is not closed, no place of the channel was released since the pointer was set
# (the epoch), and (second variant) the citizen is under the limit. No row back means
# "not that simply": the caller falls back to the full search, which says why.
_FAST_TAKE = """
INSERT INTO qq_day (office_id, channel, day, capacity, booked, last_number)
SELECT ?1, ?2, ?3, ?4, 1, 1
WHERE NOT EXISTS (SELECT 1 FROM qq_closure WHERE office_id = ?1 AND day = ?3)
  AND coalesce((SELECT epoch FROM qq_epoch WHERE office_id = ?1 AND channel = ?2), 0) = ?5
  {citizen}
ON CONFLICT (office_id, channel, day) DO UPDATE
    SET booked = booked + 1, last_number = last_number + 1, capacity = excluded.capacity
    WHERE booked < excluded.capacity
RETURNING last_number
"""
_FAST_TAKE_ANY = _FAST_TAKE.format(citizen="")
_FAST_TAKE_CITIZEN = _FAST_TAKE.format(
    citizen="AND (SELECT count(*) FROM qq_booking WHERE office_id = ?1 AND channel = ?2 "
    "AND citizen_ref = ?6 AND status IN ('booked', 'checked_in') AND day >= ?7) < ?8"
)

_SYNC_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def _row_to_booking(row: Sequence[Any]) -> Booking:
    return Booking(
        id=row[0],
        office_id=row[1],
        channel=row[2],
        day=date.fromisoformat(row[3]),
        number=row[4],
        label=row[5],
        status=BookingStatus(row[6]),
        citizen_ref=row[7],
        created_at=datetime.fromisoformat(row[8]),
        ticket=row[9],
        idempotency_key=row[10],
    )


class SQLiteStorage:
    """Bookings in one SQLite file, shared by any number of threads and processes.

    Args:
        path: The database file (created if missing).
        synchronous: ``"FULL"`` (default: a commit survives power loss) or ``"NORMAL"``
            (faster; the last commits may be lost on power loss, never on a process crash).
        timeout: Seconds a writer waits for the file's write lock before `StorageError`.

    Each thread (and each process after a fork) gets its own connection. The schema is
    created on first use.
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
        # Skip pointer over full days, per (office, channel): see `_take`.
        self._hints: dict[tuple[str, str], tuple[Sequence[Slot], int, int]] = {}

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
        conn = self._open()
        self._local.conn = conn
        self._local.pid = os.getpid()
        if not self._migrated:
            self._migrate(conn)
        return conn

    def _open(self) -> sqlite3.Connection:
        """A new connection in WAL mode with this storage's pragmas.

        Opening can meet ``SQLITE_BUSY`` without the busy handler being called (while
        another connection switches the file to WAL or recovers its index), so it is
        retried for up to ``timeout`` seconds.
        """
        deadline = time.monotonic() + self._timeout
        delay = 0.001
        while True:
            conn = None
            try:
                conn = sqlite3.connect(
                    self._path, timeout=self._timeout, isolation_level=None, check_same_thread=True
                )
                conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
                mode = conn.execute("PRAGMA journal_mode").fetchone()
                if mode is None or str(mode[0]).lower() != "wal":
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
                if mode is None or str(mode[0]).lower() != "wal":
                    raise StorageError(f"could not switch {self._path} to WAL mode (got {mode})")
                conn.execute(f"PRAGMA synchronous = {self._synchronous}")
                return conn
            except sqlite3.OperationalError as exc:
                if conn is not None:
                    conn.close()
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() + delay > deadline:
                    raise StorageError(f"cannot open {self._path}: {exc}") from exc
                time.sleep(delay)  # back off before retrying the open (not a test sleep)
                delay = min(delay * 2, 0.05)
            except sqlite3.Error as exc:
                if conn is not None:
                    conn.close()
                raise StorageError(f"cannot open {self._path}: {exc}") from exc

    def _migrate(self, conn: sqlite3.Connection) -> None:
        with self._migrate_lock:
            if self._migrated:
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT INTO qq_meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    (str(SCHEMA_VERSION),),
                )
                row = conn.execute(
                    "SELECT value FROM qq_meta WHERE key = 'schema_version'"
                ).fetchone()
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StorageError(f"cannot create the schema in {self._path}: {exc}") from exc
            if int(row[0]) > SCHEMA_VERSION:
                raise StorageError(
                    f"{self._path} has schema version {row[0]}, newer than this library's "
                    f"{SCHEMA_VERSION}: upgrade queue_quota"
                )
            self._migrated = True

    def migrate(self) -> None:
        """Create the schema now (it is otherwise created on first use)."""
        self._connect()

    def close(self) -> None:
        """Close this thread's connection; further use raises `StorageError`."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local = threading.local()
        self._closed = True

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot start a write transaction: {exc}") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"SQLite error: {exc}") from exc
            raise

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        conn = self._connect()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite error: {exc}") from exc

    # -- reads -----------------------------------------------------------------------------

    def find_by_key(self, office_id: str, idempotency_key: str) -> Booking | None:
        rows = self._read(
            f"SELECT {_COLUMNS} FROM qq_booking WHERE office_id = ? AND idempotency_key = ?",
            (office_id, idempotency_key),
        )
        return _row_to_booking(rows[0]) if rows else None

    def get(self, office_id: str, booking_id: str) -> Booking:
        rows = self._read(
            f"SELECT {_COLUMNS} FROM qq_booking WHERE office_id = ? AND id = ?",
            (office_id, booking_id),
        )
        if not rows:
            raise BookingNotFound(f"no booking {booking_id!r} in office {office_id!r}")
        return _row_to_booking(rows[0])

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
        sql = f"SELECT {_COLUMNS} FROM qq_booking WHERE office_id = ? AND day = ?"
        params: list[Any] = [office_id, day.isoformat()]
        if channel is not None:
            sql += " AND channel = ?"
            params.append(channel)
        if not include_cancelled:
            sql += " AND status != 'cancelled'"
        sql += " ORDER BY channel, number"
        return [_row_to_booking(r) for r in self._read(sql, params)]

    # -- writes ----------------------------------------------------------------------------

    def reserve(self, reservation: Reservation) -> Booking:
        r = reservation
        with self._write() as conn:
            if r.idempotency_key is not None:
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM qq_booking "
                    "WHERE office_id = ? AND idempotency_key = ?",
                    (r.office_id, r.idempotency_key),
                ).fetchone()
                if row is not None:
                    return _row_to_booking(row)
            taken = self._fast_take(conn, r)
            if taken is None:
                if r.citizen_ref is not None and r.per_citizen is not None:
                    (held,) = conn.execute(
                        "SELECT count(*) FROM qq_booking WHERE office_id = ? AND channel = ? "
                        "AND citizen_ref = ? AND status IN ('booked', 'checked_in') AND day >= ?",
                        (r.office_id, r.channel, r.citizen_ref, r.today.isoformat()),
                    ).fetchone()
                    if held >= r.per_citizen:
                        raise AlreadyBooked(channel=r.channel, limit=r.per_citizen)
                taken = self._take(conn, r.office_id, r.channel, r.slots, exclude=None)
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
            )
            conn.execute(
                f"INSERT INTO qq_booking ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                ),
            )
            return booking

    def cancel(self, office_id: str, booking_id: str, *, not_before: date) -> Booking:
        with self._write() as conn:
            b = self._get_in(conn, office_id, booking_id)
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
            self._release(conn, office_id, b.channel, b.day)
            return attrs.evolve(b, status=BookingStatus.CANCELLED)

    def check_in(self, office_id: str, booking_id: str, *, today: date) -> Booking:
        with self._write() as conn:
            b = self._get_in(conn, office_id, booking_id)
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
            b = self._get_in(conn, office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise InvalidTransition(
                    f"cannot move a booking that is {b.status.value}",
                    reason="not_booked",
                    status=b.status.value,
                    day=b.day,
                )
            return self._move(conn, b, slots, prefix)

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
                    f"SELECT {_COLUMNS} FROM qq_booking WHERE office_id = ? AND day = ? "
                    "AND channel = ? AND status = 'booked' ORDER BY number",
                    (office_id, day.isoformat(), channel),
                ).fetchall()
                for row in rows:
                    moved.append(self._move(conn, _row_to_booking(row), how.slots, how.prefix))
            return moved

    def mark_no_shows(self, office_id: str, day: date) -> list[Booking]:
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM qq_booking WHERE office_id = ? AND day = ? "
                "AND status = 'booked' ORDER BY channel, number",
                (office_id, day.isoformat()),
            ).fetchall()
            marked: list[Booking] = []
            for row in rows:
                b = _row_to_booking(row)
                conn.execute(
                    "UPDATE qq_booking SET status = 'no_show' WHERE office_id = ? AND id = ?",
                    (office_id, b.id),
                )
                self._release(conn, office_id, b.channel, b.day)
                marked.append(attrs.evolve(b, status=BookingStatus.NO_SHOW))
            return marked

    # -- helpers (inside a write transaction) ----------------------------------------------

    @staticmethod
    def _get_in(conn: sqlite3.Connection, office_id: str, booking_id: str) -> Booking:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM qq_booking WHERE office_id = ? AND id = ?",
            (office_id, booking_id),
        ).fetchone()
        if row is None:
            raise BookingNotFound(f"no booking {booking_id!r} in office {office_id!r}")
        return _row_to_booking(row)

    @staticmethod
    def _release(conn: sqlite3.Connection, office_id: str, channel: str, day: date) -> None:
        cur = conn.execute(
            "UPDATE qq_day SET booked = booked - 1 "
            "WHERE office_id = ? AND channel = ? AND day = ? AND booked > 0",
            (office_id, channel, day.isoformat()),
        )
        if cur.rowcount != 1:
            raise StorageError(f"day counter of {channel} {day} is inconsistent")
        conn.execute(
            "INSERT INTO qq_epoch (office_id, channel, epoch) VALUES (?, ?, 1) "
            "ON CONFLICT (office_id, channel) DO UPDATE SET epoch = epoch + 1",
            (office_id, channel),
        )

    def _fast_take(self, conn: sqlite3.Connection, r: Reservation) -> tuple[date, int] | None:
        """One statement for the common case (see `_FAST_TAKE`), or ``None``."""
        hint = self._hints.get((r.office_id, r.channel))
        if hint is None or hint[0] is not r.slots or hint[2] >= len(r.slots):
            return None
        slot = r.slots[hint[2]]
        if slot.capacity <= 0:
            return None
        head = (r.office_id, r.channel, slot.day.isoformat(), slot.capacity, hint[1])
        if r.citizen_ref is not None and r.per_citizen is not None:
            row = conn.execute(
                _FAST_TAKE_CITIZEN,
                (*head, r.citizen_ref, r.today.isoformat(), r.per_citizen),
            ).fetchone()
        else:
            row = conn.execute(_FAST_TAKE_ANY, head).fetchone()
        return None if row is None else (slot.day, int(row[0]))

    def _take(
        self,
        conn: sqlite3.Connection,
        office_id: str,
        channel: str,
        slots: Sequence[Slot],
        exclude: date | None,
    ) -> tuple[date, int]:
        """Take a place on the first slot with room: returns (day, number).

        Skips the prefix of ``slots`` that an earlier search in this process found
        unavailable, if no place of the channel was released since (the ``qq_epoch``
        counter, bumped in the same transaction as every release, says so): days only
        fill up until a release, and closures are never lifted. So the cost of a booking
        does not grow with the number of full days ahead.
        """
        if not slots:
            raise QuotaExhausted(channel=channel)
        key = (office_id, channel)
        row = conn.execute(
            "SELECT epoch FROM qq_epoch WHERE office_id = ? AND channel = ?", key
        ).fetchone()
        epoch = 0 if row is None else int(row[0])
        start = 0
        hint = self._hints.get(key)
        if hint is not None and hint[0] is slots and hint[1] == epoch:
            start = hint[2]
        if start >= len(slots):
            raise QuotaExhausted(channel=channel)
        # Candidates come in order of preference, not necessarily of date: read the
        # counters and closures of the whole span they cover.
        days = [s.day for s in islice(slots, start, None)]
        lo, hi = min(days).isoformat(), max(days).isoformat()
        booked = dict(
            conn.execute(
                "SELECT day, booked FROM qq_day WHERE office_id = ? AND channel = ? "
                "AND day >= ? AND day <= ? AND booked > 0",
                (office_id, channel, lo, hi),
            ).fetchall()
        )
        closed_days = {
            d
            for (d,) in conn.execute(
                "SELECT day FROM qq_closure WHERE office_id = ? AND day >= ? AND day <= ?",
                (office_id, lo, hi),
            ).fetchall()
        }
        for i in range(start, len(slots)):
            slot = slots[i]
            iso = slot.day.isoformat()
            if (
                slot.day == exclude
                or slot.capacity <= 0
                or iso in closed_days
                or booked.get(iso, 0) >= slot.capacity
            ):
                continue
            taken = conn.execute(_UPSERT_DAY, (office_id, channel, iso, slot.capacity)).fetchone()
            if taken is not None:
                if exclude is None:
                    self._hints[key] = (slots, epoch, i)
                return slot.day, int(taken[0])
        if exclude is None:
            self._hints[key] = (slots, epoch, len(slots))
        raise QuotaExhausted(channel=channel)

    def _move(
        self, conn: sqlite3.Connection, b: Booking, slots: Sequence[Slot], prefix: str
    ) -> Booking:
        day, number = self._take(conn, b.office_id, b.channel, slots, exclude=b.day)
        label = make_label(prefix, number)
        conn.execute(
            "UPDATE qq_booking SET day = ?, number = ?, label = ? WHERE office_id = ? AND id = ?",
            (day.isoformat(), number, label, b.office_id, b.id),
        )
        self._release(conn, b.office_id, b.channel, b.day)
        return attrs.evolve(b, day=day, number=number, label=label)
