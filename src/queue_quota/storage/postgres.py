"""`PostgresStorage`: many app servers sharing one PostgreSQL database.

Every write is one call of a server-side function (created by `PostgresStorage.migrate`),
so a booking is **one statement, one round trip, one transaction**: check the idempotency
key, check the citizen's limit under an advisory lock, then take a place with a conditional
``INSERT ... ON CONFLICT DO UPDATE SET booked = booked + 1 WHERE booked < capacity`` and
insert the booking. The day's counter row lock serializes a hot day; the schema repeats the
rules as constraints (``CHECK (booked >= 0 AND booked <= capacity)``, a unique number per
day, a unique idempotency key per office). See ``_pg_sql`` for the SQL.

Failures: serialization failures and deadlocks are retried (bounded, with jittered
backoff). A connection lost while a write may have committed is retried only when the
retry cannot duplicate anything: a reservation is found again by its booking id (and key),
a cancellation or check-in already done is accepted; a move or a day closure whose commit
is in doubt raises `StorageError`. Every driver error surfaces as `StorageError`.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..errors import BookingNotFound, ConfigurationError, InvalidTransition, StorageError
from ..models import Booking, Reservation, Slot
from . import _pg_sql as sqlq
from ._pg_support import Refused, lock_ns, to_booking
from .base import ChannelMove

try:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    _IMPORT_ERROR: ImportError | None = exc
else:
    _IMPORT_ERROR = None

if TYPE_CHECKING:
    from psycopg.rows import TupleRow

    _Conn = psycopg.Connection[TupleRow]
    _Pool = ConnectionPool[_Conn]

__all__ = ["PostgresStorage"]

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RETRY_STATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_Row = tuple[Any, ...]
_CHUNK = 16  # candidate days sent per reservation statement

#: What to do when a connection is lost while a write may have committed (see `_run`).
_RETRY, _FLAG, _RAISE = "retry", "flag", "raise"


class PostgresStorage:
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
        prepare: Use server-side prepared statements (turn off behind a transaction-mode
            pgbouncer older than 1.21).

    Raises:
        ConfigurationError: psycopg is not installed, or a bad argument.
    """

    persistent = True

    def __init__(
        self,
        conninfo_or_pool: str | _Pool,
        *,
        schema: str = "queue_quota",
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
        max_attempts: int = 5,
        prepare: bool = True,
    ) -> None:
        if _IMPORT_ERROR is not None:
            raise ConfigurationError(
                "PostgresStorage needs psycopg 3 and psycopg_pool: "
                "pip install 'queue-quota[postgres]'"
            ) from _IMPORT_ERROR
        if not isinstance(schema, str) or not _SCHEMA_RE.match(schema):
            raise ConfigurationError(
                f"schema must match {_SCHEMA_RE.pattern} (lower-case letters, digits and "
                f"underscores), got {schema!r}"
            )
        for name, value, low in (("min_size", min_size, 0), ("max_size", max_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigurationError(f"{name} must be an integer >= {low}, got {value!r}")
        if min_size > max_size:
            raise ConfigurationError(f"min_size ({min_size}) exceeds max_size ({max_size})")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigurationError(f"timeout must be a positive number, got {timeout!r}")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be >= 1, got {max_attempts!r}")
        self._conninfo: str | None = None
        self._pool: _Pool | None = None
        if isinstance(conninfo_or_pool, ConnectionPool):
            self._pool = conninfo_or_pool
        elif isinstance(conninfo_or_pool, str):
            try:
                conninfo_to_dict(conninfo_or_pool)
            except psycopg.Error as exc:
                raise ConfigurationError(f"bad PostgreSQL conninfo: {exc}") from None
            self._conninfo = conninfo_or_pool
        else:
            raise ConfigurationError(
                "PostgresStorage needs a conninfo string or a psycopg_pool.ConnectionPool, "
                f"got {type(conninfo_or_pool).__name__}"
            )
        self._owns_pool = self._conninfo is not None
        self._schema = schema
        self._min_size, self._max_size = min_size, max_size
        self._timeout = float(timeout)
        self._max_attempts = max_attempts
        self._prepare = prepare
        ident = sql.Identifier(schema)
        key_ns = sql.Literal(lock_ns(schema, "key"))
        citizen_ns = sql.Literal(lock_ns(schema, "citizen"))
        self._ddl = [
            sql.SQL(s).format(s=ident, key_ns=key_ns, citizen_ns=citizen_ns).as_bytes(None)
            for s in sqlq.DDL
        ]
        self._ddl_sha = hashlib.sha256(b"\0".join(self._ddl)).hexdigest()
        self._q = {k: sql.SQL(v).format(s=ident).as_bytes(None) for k, v in sqlq.QUERIES.items()}
        self._meta_table = f"{ident.as_string(None)}.qq_meta"
        self._lock = threading.Lock()
        self._ready_pid: int | None = None
        self._closed = False
        self._retries = 0
        # Skip pointer over full days, per (office, channel): see `reserve`.
        self._hints: dict[tuple[str, str], tuple[Sequence[Slot], int, int]] = {}
        self._stats_lock = threading.Lock()

    def __repr__(self) -> str:
        where = "owned pool" if self._owns_pool else "shared pool"
        return f"<PostgresStorage schema={self._schema!r} ({where})>"

    @property
    def schema(self) -> str:
        """The schema holding the tables."""
        return self._schema

    @property
    def retries(self) -> int:
        """Attempts retried so far (serialization failures, deadlocks, lost connections)."""
        return self._retries

    # -- connections and schema ------------------------------------------------------------

    def _get_pool(self) -> _Pool:
        pool = self._pool
        if self._ready_pid == os.getpid() and pool is not None and not self._closed:
            return pool
        with self._lock:
            if self._closed:
                raise StorageError("the storage is closed")
            pid = os.getpid()
            if self._ready_pid != pid or self._pool is None:
                if self._owns_pool:
                    # A pool inherited through fork() shares its sockets with the parent:
                    # leave it alone and open our own.
                    self._pool = None
                    self._migrate_direct()
                    self._pool = self._open_pool()
                else:
                    assert self._pool is not None
                    self._run(self._pool, self._migrate_on, "create the schema", tx=True)
                self._ready_pid = pid
            assert self._pool is not None
            return self._pool

    def _open_pool(self) -> _Pool:
        assert self._conninfo is not None
        pool: _Pool = ConnectionPool(
            self._conninfo,
            min_size=self._min_size,
            max_size=self._max_size,
            kwargs={"autocommit": True},
            timeout=self._timeout,
            open=False,
            name=f"queue_quota.{self._schema}",
        )
        pool.open(wait=False)
        return pool

    def _migrate_direct(self) -> None:
        """Connect once directly: a bad conninfo fails now, with the server's message."""
        assert self._conninfo is not None
        params = conninfo_to_dict(self._conninfo)
        extra: dict[str, Any] = {}
        if "connect_timeout" not in params:
            extra["connect_timeout"] = max(1, int(self._timeout))
        try:
            with (
                psycopg.connect(self._conninfo, autocommit=True, **extra) as conn,
                conn.transaction(),
            ):
                self._migrate_on(conn)
        except psycopg.Error as exc:
            raise StorageError(f"cannot use PostgreSQL: {exc}") from exc

    def _migrate_on(self, conn: _Conn) -> list[_Row]:
        """Create the schema, inside the caller's transaction."""
        conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        if self._schema_is_current(conn):
            return []
        # Several processes may start at once: one creates, the others wait, then see it.
        conn.execute("SELECT pg_advisory_xact_lock(%s::int4, 0)", (lock_ns(self._schema, "ddl"),))
        if not self._schema_is_current(conn):
            for statement in self._ddl:
                conn.execute(statement)
            conn.execute(self._q["META_WRITE"], (str(sqlq.SCHEMA_VERSION), self._ddl_sha))
        return []

    def _schema_is_current(self, conn: _Conn) -> bool:
        row = conn.execute("SELECT to_regclass(%s::text)", (self._meta_table,)).fetchone()
        if row is None or row[0] is None:
            return False
        meta: dict[str, str] = dict(conn.execute(self._q["META_READ"]).fetchall())
        version = int(meta.get("schema_version", "0"))
        if version > sqlq.SCHEMA_VERSION:
            raise StorageError(
                f"schema {self._schema!r} has version {version}, newer than this library's "
                f"{sqlq.SCHEMA_VERSION}: upgrade queue_quota"
            )
        return version == sqlq.SCHEMA_VERSION and meta.get("ddl_sha256") == self._ddl_sha

    def migrate(self) -> None:
        """Create or upgrade the schema now (it is otherwise created on first use).

        Idempotent, and safe when several processes do it at once (an advisory lock).

        Raises:
            StorageError: The server cannot be reached, or its schema is newer than this
                library's.
        """
        self._get_pool()

    def close(self) -> None:
        """Close the pool if the storage owns it; further use raises `StorageError`."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            mine = self._ready_pid == os.getpid()
        if pool is not None and self._owns_pool and mine:
            pool.close()

    # -- running statements ----------------------------------------------------------------

    def _run(
        self,
        pool: _Pool,
        work: Callable[[_Conn], list[_Row]],
        what: str,
        *,
        tx: bool,
        in_doubt: str = _RETRY,
        retry_flag: list[bool] | None = None,
    ) -> list[_Row]:
        """Run ``work`` on a pooled connection, retrying what is safe to retry.

        ``tx``: wrap in an explicit transaction (otherwise one autocommit statement, which
        is its own transaction). ``in_doubt``: what to do when the connection is lost while
        the work may have committed: ``_RETRY`` (reads, DDL), ``_FLAG`` (set
        ``retry_flag[0]`` and re-run: the function then recognizes its own earlier commit)
        or ``_RAISE``.
        """
        for attempt in range(1, self._max_attempts + 1):
            try:
                conn = pool.getconn()
            except psycopg.Error as exc:
                raise StorageError(f"cannot {what}: no PostgreSQL connection: {exc}") from exc
            stage = "run"
            try:
                if not tx and conn.autocommit:
                    stage = "commit"
                    return work(conn)
                with conn.transaction():
                    rows = work(conn)
                    stage = "commit"
                return rows
            except psycopg.Error as exc:
                failure = exc
                lost = conn.closed or conn.broken
            finally:
                pool.putconn(conn)
            state = failure.sqlstate or ""
            if state.startswith("QQ"):
                raise Refused(state, failure) from None
            if state in _RETRY_STATES or (
                isinstance(failure, psycopg.errors.UniqueViolation)
                and failure.diag.constraint_name == "qq_booking_key"
            ):
                pass  # rolled back by the server: safe to run again
            elif lost or (isinstance(failure, psycopg.OperationalError) and not state):
                if stage == "commit" and in_doubt == _RAISE:
                    raise StorageError(
                        f"the connection was lost while committing ({what}); the outcome is "
                        f"unknown: {failure}"
                    ) from failure
                if stage == "commit" and retry_flag is not None:
                    retry_flag[0] = True
                pool.check()  # drop the other dead connections (e.g. after a server restart)
            else:
                raise StorageError(f"cannot {what}: {failure}") from failure
            if attempt == self._max_attempts:
                raise StorageError(
                    f"cannot {what} after {attempt} attempts: {failure}"
                ) from failure
            with self._stats_lock:
                self._retries += 1
            time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _query(self, name: str, params: Sequence[Any], what: str) -> list[_Row]:
        query = self._q[name]

        def work(conn: _Conn) -> list[_Row]:
            return conn.execute(query, params, prepare=self._prepare or None).fetchall()

        return self._run(self._get_pool(), work, what, tx=False)

    def _call(
        self, name: str, params: Callable[[bool], Sequence[Any]], idempotent: bool, what: str
    ) -> list[_Row]:
        """Call a server function; ``params(retry)`` builds its arguments.

        An idempotent function runs as one autocommit statement and is re-run with its
        retry flag after a lost connection; any other runs in an explicit transaction, so
        that only a connection lost during COMMIT leaves the outcome in doubt.
        """
        query = self._q[name]
        flag = [False]

        def work(conn: _Conn) -> list[_Row]:
            return conn.execute(query, params(flag[0]), prepare=self._prepare or None).fetchall()

        if idempotent:
            return self._run(
                self._get_pool(), work, what, tx=False, in_doubt=_FLAG, retry_flag=flag
            )
        return self._run(self._get_pool(), work, what, tx=True, in_doubt=_RAISE)

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

    # -- writes ----------------------------------------------------------------------------

    def reserve(self, reservation: Reservation) -> Booking:
        """Atomically book the first slot with room, in one statement.

        Candidate days are sent in chunks of 64, starting after the days this process
        found full earlier (the skip pointer, valid while the channel's release epoch is
        unchanged; the server checks it and says when it is stale). So one round trip
        books, however many full days lie ahead.

        Raises:
            QuotaExhausted: No slot has room (nothing written).
            AlreadyBooked: The citizen holds ``per_citizen`` active bookings already.
            StorageError: The database failed.
        """
        r = reservation
        slots = r.slots
        hint_key = (r.office_id, r.channel)
        hint = self._hints.get(hint_key)
        start, epoch = 0, None
        if hint is not None and hint[0] is slots:
            epoch, start = hint[1], hint[2]
        while True:
            chunk = slots[start : start + _CHUNK]
            days = [s.day for s in chunk]
            caps = [s.capacity for s in chunk]
            sent_epoch = epoch if start > 0 else None

            def params(
                retry: bool,
                days: list[date] = days,
                caps: list[int] = caps,
                sent_epoch: int | None = sent_epoch,
            ) -> Sequence[Any]:
                return (r.office_id, r.channel, days, caps, r.booking_id, r.ticket, r.prefix,
                        r.citizen_ref, r.per_citizen, r.today, r.created_at,
                        r.idempotency_key, retry, sent_epoch)  # fmt: skip

            try:
                rows = self._call("RESERVE", params, True, "reserve a place")
            except Refused as refused:
                if refused.state == "QQ005":  # released since: search from the start
                    start, epoch = 0, None
                    continue
                if refused.state == "QQ001":
                    seen = refused.cause.diag.message_hint
                    epoch = int(seen) if seen else None
                    if start + _CHUNK < len(slots) and epoch is not None:
                        start += _CHUNK
                        continue
                    if epoch is not None:
                        self._hints[hint_key] = (slots, epoch, len(slots))
                raise refused.domain(channel=r.channel, limit=r.per_citizen) from None
            except StorageError as exc:
                cause = exc.__cause__
                if isinstance(cause, psycopg.errors.UniqueViolation) and (
                    cause.diag.constraint_name == "qq_booking_pkey"
                ):
                    raise InvalidTransition(
                        f"booking id {r.booking_id} already exists", reason="duplicate_id"
                    ) from None
                raise
            row = rows[0]
            if row[11] is not None and days:
                try:
                    at = start + days.index(row[3])
                except ValueError:  # pragma: no cover - the server chose from `days`
                    at = 0
                self._hints[hint_key] = (slots, int(row[11]), at)
            return to_booking(row)

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

    def move(
        self, office_id: str, booking_id: str, slots: Sequence[Slot], *, prefix: str
    ) -> Booking:
        """Atomically move a ``BOOKED`` booking to the first slot with room.

        Raises:
            QuotaExhausted: No slot has room (nothing changed).
            BookingNotFound: Unknown id.
            InvalidTransition: Not ``BOOKED``.
        """
        days = [s.day for s in slots]
        caps = [s.capacity for s in slots]
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
            days.extend(s.day for s in how.slots)
            caps.extend(s.capacity for s in how.slots)
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
