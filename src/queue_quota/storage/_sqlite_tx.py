"""One SQLite transaction as the engine's `Transaction`: each method is one statement.

The statements are built once per shape (number of scopes, refs, rows) and cached, so
that the driver's statement cache finds them prepared.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from ..events import Event, dump_data, load_data
from ..models import Booking, BookingStatus
from ._search import CLOSURE, SECRET
from .primitives import CounterRow

__all__ = ["SQLiteTransaction"]

_COLUMNS = (
    "id, office_id, channel, day, number, label, status, citizen_ref, created_at, ticket, "
    "idempotency_key, key_fingerprint, places, charges, window_start, window_end"
)
_SELECT = f"SELECT {_COLUMNS} FROM qq_booking"
_VALUES = ", ".join("?" * 16)
_INSERT = f"INSERT INTO qq_booking ({_COLUMNS}) VALUES ({_VALUES}) ON CONFLICT (office_id, id)"
# A new booking whose id exists inserts nothing (rowcount 0: `KeyError`); any other broken
# constraint (a number or key given twice) aborts the statement.
_INSERT_NEW = f"{_INSERT} DO NOTHING"
_REPLACE = f"{_INSERT} DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[2:]
)
# Each read names its index: without statistics the planner guesses ten rows per office and
# prefers reading all of the office's bookings by key to a seek in an index.
_BY_CITIZEN = f"{_SELECT} INDEXED BY qq_booking_citizen_ref"
_BY_KEY = f"{_SELECT} INDEXED BY qq_booking_key WHERE office_id = ? AND idempotency_key = ?"
_BY_ID = f"{_SELECT} WHERE office_id = ? AND id = ?"
_BY_DAY = f"{_SELECT} INDEXED BY qq_booking_number WHERE office_id = ? AND day = ?"


@functools.lru_cache(maxsize=64)
def _in(column: str, n: int) -> str:
    return f"{column} = ?" if n == 1 else f"{column} IN ({', '.join('?' * n)})"


@functools.lru_cache(maxsize=64)
def _counters_sql(scopes: int) -> str:
    return (
        "SELECT scope, day, used, last FROM qq_counter WHERE office_id = ? AND "
        f"{_in('scope', scopes)} AND day >= ? AND day < ?"
    )


@functools.lru_cache(maxsize=64)
def _put_counters_sql(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return (
        f"INSERT INTO qq_counter (office_id, scope, day, used, last) VALUES {values} "
        "ON CONFLICT (office_id, scope, day) DO UPDATE SET used = excluded.used, "
        "last = excluded.last"
    )


@functools.lru_cache(maxsize=64)
def _refs_sql(refs: int, since: bool) -> str:
    tail = " AND day >= ?" if since else ""
    return f"{_BY_CITIZEN} WHERE office_id = ? AND {_in('citizen_ref', refs)}{tail}"


# Every meta value of an office: closures live in ``qq_closure``, the secret in ``qq_secret``.
_ALL_META = (
    "SELECT name, value FROM qq_office_meta WHERE office_id = ?1 UNION ALL "
    f"SELECT '{CLOSURE}' || day, reason FROM qq_closure WHERE office_id = ?1 UNION ALL "
    f"SELECT '{SECRET}', fingerprint FROM qq_secret WHERE office_id = ?1"
)


_EVENTS = (
    "SELECT seq, kind, booking_id, day, at, data FROM qq_event "
    "WHERE office_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_PUT_EVENT = (
    "INSERT INTO qq_event (office_id, seq, kind, booking_id, day, at, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
#: Names from ``prefix`` up to (not including) ``prefix`` followed by the last code point.
_STATE = "SELECT name, value FROM qq_state WHERE office_id = ? AND name >= ? AND name < ?"
_PUT_STATE = (
    "INSERT INTO qq_state (office_id, name, value) VALUES (?, ?, ?) "
    "ON CONFLICT (office_id, name) DO UPDATE SET value = excluded.value"
)
_DEL_STATE = "DELETE FROM qq_state WHERE office_id = ? AND name = ?"


def _event(row: tuple[Any, ...]) -> Event:
    seq, kind, booking_id, day, at, data = row
    return Event(
        seq=seq,
        kind=kind,
        booking_id=booking_id,
        day=None if day is None else date.fromisoformat(day),
        at=datetime.fromisoformat(at),
        data=load_data(data),
    )


def _hhmm(t: time) -> str:
    return t.isoformat("minutes" if not (t.second or t.microsecond) else "auto")


def _row_to_booking(row: Sequence[Any]) -> Booking:
    charges = row[13]
    start = row[14]
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
        request_fingerprint=row[11],
        places=row[12],
        charges=() if charges is None else tuple(json.loads(charges)),
        window=None if start is None else (time.fromisoformat(start), time.fromisoformat(row[15])),
    )


def _booking_params(b: Booking) -> tuple[Any, ...]:
    charges = b.charges
    stored = (
        None
        if not charges or (len(charges) == 1 and charges[0] == "c:" + b.channel)
        else json.dumps(list(charges))
    )
    window = b.window
    return (
        b.id,
        b.office_id,
        b.channel,
        b.day.isoformat(),
        b.number,
        b.label,
        b.status.value,
        b.citizen_ref,
        b.created_at.isoformat(),
        b.ticket,
        b.idempotency_key,
        b.request_fingerprint,
        b.places,
        stored,
        None if window is None else _hhmm(window[0]),
        None if window is None else _hhmm(window[1]),
    )


class SQLiteTransaction:
    """The six primitives on one connection inside one transaction for one office.

    Driver errors propagate as `sqlite3.Error`; the transaction's context manager rolls
    back and raises them as `queue_quota.errors.StorageError`.
    """

    __slots__ = ("_conn", "_meta", "_office")

    def __init__(self, conn: sqlite3.Connection, office_id: str) -> None:
        self._conn = conn
        self._office = office_id
        self._meta: dict[str, str] | None = None

    def counters(
        self, scopes: Sequence[str], start: date, end: date
    ) -> dict[tuple[str, date], CounterRow]:
        if not scopes or start >= end:
            return {}
        rows = self._conn.execute(
            _counters_sql(len(scopes)),
            (self._office, *scopes, start.isoformat(), end.isoformat()),
        ).fetchall()
        return {(s, date.fromisoformat(d)): CounterRow(used, last) for s, d, used, last in rows}

    def put_counters(self, rows: Mapping[tuple[str, date], CounterRow]) -> None:
        if not rows:
            return
        office = self._office
        params: list[Any] = []
        for (scope, day), row in rows.items():
            params += (office, scope, day.isoformat(), row.used, row.last)
        self._conn.execute(_put_counters_sql(len(rows)), params)

    def bookings(
        self,
        *,
        booking_id: str | None = None,
        key: str | None = None,
        refs: Sequence[str] | None = None,
        since: date | None = None,
        day: date | None = None,
    ) -> list[Booking]:
        execute = self._conn.execute
        if booking_id is not None:
            cur = execute(_BY_ID, (self._office, booking_id))
        elif key is not None:
            cur = execute(_BY_KEY, (self._office, key))
        elif refs is not None:
            unique = tuple(dict.fromkeys(refs))
            if not unique:
                return []
            tail = () if since is None else (since.isoformat(),)
            cur = execute(_refs_sql(len(unique), since is not None), (self._office, *unique, *tail))
        elif day is not None:
            cur = execute(_BY_DAY, (self._office, day.isoformat()))
        else:
            raise TypeError("bookings() needs booking_id, key, refs or day")
        return [_row_to_booking(r) for r in cur.fetchall()]

    def put_booking(self, booking: Booking, *, new: bool) -> None:
        if booking.office_id != self._office:
            raise ValueError("the booking is of another office than the transaction")
        params = _booking_params(booking)
        if not new:
            self._conn.execute(_REPLACE, params)
        elif self._conn.execute(_INSERT_NEW, params).rowcount != 1:
            raise KeyError(booking.id)

    def meta(self, prefix: str) -> dict[str, str]:
        """The first call reads all of the office's meta in one statement (a booking asks
        for ``"closure:"`` and ``"~"``); later calls and writes use that copy, which no
        other connection can change before the transaction ends."""
        cached = self._meta
        if cached is None:
            cached = self._meta = dict(self._conn.execute(_ALL_META, (self._office,)).fetchall())
        return {k: v for k, v in cached.items() if k.startswith(prefix)}

    def put_meta(self, items: Mapping[str, str | None]) -> None:
        execute = self._conn.execute
        office = self._office
        cached = self._meta
        for name, value in items.items():
            if cached is not None:
                if value is None:
                    cached.pop(name, None)
                else:
                    cached[name] = value
            if name.startswith(CLOSURE):
                day = name[len(CLOSURE) :]
                if value is None:
                    execute("DELETE FROM qq_closure WHERE office_id = ? AND day = ?", (office, day))
                else:
                    execute(
                        "INSERT INTO qq_closure (office_id, day, reason, created_at) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (office_id, day) "
                        "DO UPDATE SET reason = excluded.reason",
                        (office, day, value, datetime.now(UTC).isoformat()),
                    )
            elif name == SECRET:
                if value is None:
                    execute("DELETE FROM qq_secret WHERE office_id = ?", (office,))
                else:
                    execute(
                        "INSERT INTO qq_secret (office_id, fingerprint, updated_at) "
                        "VALUES (?, ?, ?) ON CONFLICT (office_id) DO UPDATE "
                        "SET fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
                        (office, value, datetime.now(UTC).isoformat()),
                    )
            elif value is None:
                execute(
                    "DELETE FROM qq_office_meta WHERE office_id = ? AND name = ?", (office, name)
                )
            else:
                execute(
                    "INSERT INTO qq_office_meta (office_id, name, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (office_id, name) DO UPDATE SET value = excluded.value",
                    (office, name, value),
                )

    def events(self, after: int, limit: int) -> list[Event]:
        rows = self._conn.execute(_EVENTS, (self._office, after, limit)).fetchall()
        return [_event(r) for r in rows]

    def put_events(self, events: Sequence[Event]) -> None:
        office = self._office
        self._conn.executemany(
            _PUT_EVENT,
            [
                (
                    office,
                    e.seq,
                    e.kind,
                    e.booking_id,
                    None if e.day is None else e.day.isoformat(),
                    e.at.isoformat(),
                    dump_data(e.data),
                )
                for e in events
            ],
        )

    def state(self, prefix: str) -> dict[str, str]:
        rows = self._conn.execute(_STATE, (self._office, prefix, prefix + "\U0010ffff"))
        return dict(rows.fetchall())

    def put_state(self, items: Mapping[str, str | None]) -> None:
        execute = self._conn.execute
        for name, value in items.items():
            if value is None:
                execute(_DEL_STATE, (self._office, name))
            else:
                execute(_PUT_STATE, (self._office, name, value))
