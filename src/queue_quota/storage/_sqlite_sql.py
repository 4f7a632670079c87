"""The statements of `SQLiteStorage` and the mapping of a row to a `Booking`."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from ..models import Booking, BookingStatus

__all__ = [
    "COLUMNS",
    "INSERT_BOOKING",
    "UPSERT_DAY",
    "bookings_of_sql",
    "citizen_count_sql",
    "fast_take_params",
    "fast_take_sql",
    "find_booking",
    "row_to_booking",
]

COLUMNS = (
    "id, office_id, channel, day, number, label, status, citizen_ref, created_at, ticket, "
    "idempotency_key, key_fingerprint"
)

# A booking id that exists already inserts nothing (``rowcount`` 0: the caller raises
# `InvalidTransition`); any other broken constraint still aborts the statement.
INSERT_BOOKING = (
    f"INSERT INTO qq_booking ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (office_id, id) DO NOTHING"
)

UPSERT_DAY = """
INSERT INTO qq_day (office_id, channel, day, capacity, booked, last_number)
VALUES (?, ?, ?, ?, 1, 1)
ON CONFLICT (office_id, channel, day) DO UPDATE
    SET booked = booked + 1, last_number = last_number + 1, capacity = excluded.capacity
    WHERE booked < excluded.capacity
RETURNING last_number
"""

# The common case in one statement: take a place on the day the skip pointer points at,
# if it is not closed, no place of the channel was released since the pointer was set
# (the epoch), and (with a citizen) the citizen is under the limit. No row back means
# "not that simply": the caller falls back to the full search, which says why.
# Parameters: ?1 office, ?2 channel, ?3 day, ?4 capacity, ?5 epoch; with a citizen also
# ?6 the citizen's ref, ?7 today, ?8 the limit, then ?9... the citizen's older refs.
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

_ACTIVE = "status IN ('booked', 'checked_in')"
# The citizen index, named: without statistics the planner prefers the (office, day,
# channel, number) index for ``bookings_of`` (no sort), which reads every booking of the
# office; ``INDEXED BY`` makes that plan impossible (a missing index fails the statement).
_BY_CITIZEN = "qq_booking INDEXED BY qq_booking_citizen_ref"


@functools.lru_cache(maxsize=32)
def fast_take_sql(refs: int) -> str:
    """The fast take for a citizen with ``refs`` refs (``0``: anonymous or no limit)."""
    if refs == 0:
        return _FAST_TAKE.format(citizen="")
    if refs == 1:
        test = "citizen_ref = ?6"
    else:
        test = "citizen_ref IN (?6, " + ", ".join(f"?{9 + i}" for i in range(refs - 1)) + ")"
    return _FAST_TAKE.format(
        citizen=f"AND (SELECT count(*) FROM {_BY_CITIZEN} WHERE office_id = ?1 AND channel = ?2 "
        f"AND {test} AND {_ACTIVE} AND day >= ?7) < ?8"
    )


def fast_take_params(
    head: tuple[Any, ...], refs: Sequence[str], today: date, limit: int
) -> tuple[Any, ...]:
    """The parameters of `fast_take_sql` (``refs`` non-empty)."""
    return (*head, refs[0], today.isoformat(), limit, *refs[1:])


@functools.lru_cache(maxsize=32)
def citizen_count_sql(refs: int) -> str:
    """Active bookings from a day on of a citizen on a channel: office, channel, refs, day."""
    marks = ", ".join("?" * refs)
    return (
        f"SELECT count(*) FROM {_BY_CITIZEN} WHERE office_id = ? AND channel = ? "
        f"AND citizen_ref IN ({marks}) AND {_ACTIVE} AND day >= ?"
    )


@functools.lru_cache(maxsize=32)
def bookings_of_sql(refs: int, since: bool) -> str:
    """Every booking of an office with one of ``refs`` refs: office, refs[, since]."""
    marks = ", ".join("?" * refs)
    return (
        f"SELECT {COLUMNS} FROM {_BY_CITIZEN} WHERE office_id = ? AND citizen_ref IN ({marks})"
        + (" AND day >= ?" if since else "")
        + " ORDER BY day, channel, number"
    )


def row_to_booking(row: Sequence[Any]) -> Booking:
    """A `Booking` from a row of `COLUMNS`."""
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
    )


def find_booking(conn: sqlite3.Connection, office_id: str, booking_id: str) -> Booking | None:
    """The booking with that id, read on ``conn`` (in the caller's transaction), if any."""
    row = conn.execute(
        f"SELECT {COLUMNS} FROM qq_booking WHERE office_id = ? AND id = ?",
        (office_id, booking_id),
    ).fetchone()
    return None if row is None else row_to_booking(row)
