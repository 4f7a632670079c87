"""The minimal hand-written baselines of issue 9: what someone would write by hand.

* `MinimalSQLite`: stdlib ``sqlite3``, one ``BEGIN IMMEDIATE`` transaction per booking: a
  conditional counter ``UPDATE ... WHERE used < capacity RETURNING used`` and an ``INSERT``
  into a three-column rowid table with no index; WAL, ``synchronous`` as asked.
* `MinimalPostgres`: psycopg 3, one autocommit connection: ``BEGIN``; the same ``UPDATE``;
  the ``INSERT`` into a three-column heap table with no index; ``COMMIT``: four round trips.
* `HandWritten`: the work a booking in memory promises, written plainly: two HMAC-SHA256
  (the citizen ref and the ticket), a random 80-bit id, a dict under a lock, an attrs record.

Each raises `Full` when its counter is at capacity (the smoke tests check that it does).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs


class Full(Exception):
    """The baseline's counter is at its capacity."""


_SQLITE_SCHEMA = (
    "CREATE TABLE counter (id INTEGER PRIMARY KEY, used INTEGER NOT NULL, "
    "capacity INTEGER NOT NULL)",
    "CREATE TABLE booking (id TEXT NOT NULL, day TEXT NOT NULL, number INTEGER NOT NULL)",
)
_INSERT = "INSERT INTO booking (id, day, number) VALUES (?, ?, ?)"
_UPDATE = "UPDATE counter SET used = used + 1 WHERE id = 1 AND used < capacity RETURNING used"


def minimal_sqlite_book(execute: Any, booking_id: str, day: str) -> int:
    """The minimal raw SQLite booking on a connection's ``execute``: ``BEGIN IMMEDIATE``,
    the conditional counter ``UPDATE``, the ``INSERT``, ``COMMIT``; its number (`Full`
    when the counter is at capacity)."""
    execute("BEGIN IMMEDIATE")
    row = execute(_UPDATE).fetchone()
    if row is None:
        execute("ROLLBACK")
        raise Full
    execute(_INSERT, (booking_id, day, row[0]))
    execute("COMMIT")
    number: int = row[0]
    return number


class MinimalSQLite:
    """The minimal raw SQLite booking (see the module docstring)."""

    def __init__(self, path: Path, synchronous: str, capacity: int) -> None:
        self._conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        execute = self._conn.execute
        execute("PRAGMA journal_mode = WAL")
        execute(f"PRAGMA synchronous = {synchronous}")
        for statement in _SQLITE_SCHEMA:
            execute(statement)
        execute("INSERT INTO counter (id, used, capacity) VALUES (1, 0, ?)", (capacity,))
        self.day = date(2020, 6, 9).isoformat()

    def book(self, booking_id: str) -> int:
        """One booking; its number."""
        return minimal_sqlite_book(self._conn.execute, booking_id, self.day)

    def run(self, n: int) -> float:
        """Book ``n`` times (random ids made before the timer); the seconds it took."""
        ids = [os.urandom(10).hex() for _ in range(n)]
        book = self.book
        t0 = time.perf_counter()
        for booking_id in ids:
            book(booking_id)
        return time.perf_counter() - t0

    def count(self) -> tuple[int, int]:
        """(rows in ``booking``, the counter's ``used``)."""
        rows = self._conn.execute("SELECT count(*) FROM booking").fetchone()[0]
        used = self._conn.execute("SELECT used FROM counter WHERE id = 1").fetchone()[0]
        return int(rows), int(used)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class MinimalPostgres:
    """The minimal raw PostgreSQL booking, four round trips (see the module docstring)."""

    def __init__(self, conninfo: str, schema: str, capacity: int) -> None:
        import psycopg
        from psycopg import sql

        self._conn = psycopg.connect(conninfo, autocommit=True)
        ident = sql.Identifier(schema)

        def q(text: str) -> str:
            return sql.SQL(text).format(ident).as_string(self._conn)

        execute = self._conn.execute
        execute(q("CREATE SCHEMA IF NOT EXISTS {}"))
        execute(
            q(
                "CREATE TABLE {}.counter (id integer PRIMARY KEY, used integer NOT NULL, "
                "capacity integer NOT NULL)"
            )
        )
        execute(
            q(
                "CREATE TABLE {}.booking (id text NOT NULL, day date NOT NULL, "
                "number integer NOT NULL)"
            )
        )
        execute(q("INSERT INTO {}.counter (id, used, capacity) VALUES (1, 0, %s)"), (capacity,))
        self._update = q(
            "UPDATE {}.counter SET used = used + 1 WHERE id = 1 AND used < capacity RETURNING used"
        )
        self._insert = q("INSERT INTO {}.booking (id, day, number) VALUES (%s, %s, %s)")
        self._count = (q("SELECT count(*) FROM {}.booking"), q("SELECT used FROM {}.counter"))
        self.day = date(2020, 6, 9)

    def book(self, booking_id: str) -> int:
        """One booking; its number."""
        execute = self._conn.execute
        execute("BEGIN")
        row = execute(self._update).fetchone()
        if row is None:
            execute("ROLLBACK")
            raise Full
        execute(self._insert, (booking_id, self.day, row[0]))
        execute("COMMIT")
        number: int = row[0]
        return number

    def run(self, n: int) -> float:
        """Book ``n`` times (random ids made before the timer); the seconds it took."""
        ids = [os.urandom(10).hex() for _ in range(n)]
        book = self.book
        t0 = time.perf_counter()
        for booking_id in ids:
            book(booking_id)
        return time.perf_counter() - t0

    def count(self) -> tuple[int, int]:
        """(rows in ``booking``, the counter's ``used``)."""
        rows: Any = self._conn.execute(self._count[0]).fetchone()
        used: Any = self._conn.execute(self._count[1]).fetchone()
        return int(rows[0]), int(used[0])

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


@attrs.frozen(slots=True)
class Record:
    """The hand-written booking record."""

    id: str
    office_id: str
    channel: str
    day: date
    number: int
    citizen_ref: str
    ticket: str
    created_at: datetime


class HandWritten:
    """A booking in memory written by hand (see the module docstring)."""

    def __init__(self, secret: bytes, capacity: int, day: date) -> None:
        self._secret = secret
        self._capacity = capacity
        self._day = day
        self._lock = threading.Lock()
        self._used: dict[tuple[str, str, date], int] = {}
        self.bookings: dict[str, Record] = {}

    def book(self, office_id: str, channel: str, citizen_id: str, now: datetime) -> Record:
        """One booking of ``citizen_id`` on the day."""
        secret = self._secret
        ref = hmac.digest(secret, citizen_id.encode(), hashlib.sha256).hex()
        booking_id = os.urandom(10).hex()
        ticket = hmac.digest(secret, booking_id.encode(), hashlib.sha256).hex()
        key = (office_id, channel, self._day)
        with self._lock:
            used = self._used.get(key, 0)
            if used >= self._capacity:
                raise Full
            self._used[key] = used + 1
            record = Record(booking_id, office_id, channel, self._day, used + 1, ref, ticket, now)
            self.bookings[booking_id] = record
        return record
