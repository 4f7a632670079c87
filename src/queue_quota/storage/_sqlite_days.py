"""The day counters of `SQLiteStorage`: taking, releasing and moving places.

Every function runs inside the caller's write transaction (``BEGIN IMMEDIATE``), so the
check (``booked < capacity``) and the write have no other writer in between.

The skip pointer: per (office, channel), the candidates an earlier search in this process
found unavailable, with the channel's release epoch at that time. The ``qq_epoch`` counter
is bumped in the same transaction as every release, so while it is unchanged those days
are still unavailable (days only fill up until a release; closures are never lifted) and a
search starts after them: the cost of a booking does not grow with the number of full days
ahead. The common booking is one statement (`fast_take_sql`) on the day the pointer
points at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from itertools import islice

import attrs

from ..errors import QuotaExhausted, StorageError
from ..models import Booking, Reservation, Slot, make_label
from ._sqlite_sql import UPSERT_DAY, fast_take_params, fast_take_sql

__all__ = ["DayCounters"]


class DayCounters:
    """The day-counter operations of one `SQLiteStorage`, with its skip pointer."""

    def __init__(self) -> None:
        self._hints: dict[tuple[str, str], tuple[Sequence[Slot], int, int]] = {}

    @staticmethod
    def release(conn: sqlite3.Connection, office_id: str, channel: str, day: date) -> None:
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

    def fast_take(self, conn: sqlite3.Connection, r: Reservation) -> tuple[date, int] | None:
        """One statement for the common case (see `fast_take_sql`), or ``None``."""
        hint = self._hints.get((r.office_id, r.channel))
        if hint is None or hint[0] is not r.slots or hint[2] >= len(r.slots):
            return None
        slot = r.slots[hint[2]]
        if slot.capacity <= 0:
            return None
        head = (r.office_id, r.channel, slot.day.isoformat(), slot.capacity, hint[1])
        refs = r.citizen_refs
        if refs and r.per_citizen is not None:
            params = fast_take_params(head, refs, r.today, r.per_citizen)
            row = conn.execute(fast_take_sql(len(refs)), params).fetchone()
        else:
            row = conn.execute(fast_take_sql(0), head).fetchone()
        return None if row is None else (slot.day, int(row[0]))

    def take(
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
            taken = conn.execute(UPSERT_DAY, (office_id, channel, iso, slot.capacity)).fetchone()
            if taken is not None:
                if exclude is None:
                    self._hints[key] = (slots, epoch, i)
                return slot.day, int(taken[0])
        if exclude is None:
            self._hints[key] = (slots, epoch, len(slots))
        raise QuotaExhausted(channel=channel)

    def move(
        self, conn: sqlite3.Connection, b: Booking, slots: Sequence[Slot], prefix: str
    ) -> Booking:
        day, number = self.take(conn, b.office_id, b.channel, slots, exclude=b.day)
        label = make_label(prefix, number)
        conn.execute(
            "UPDATE qq_booking SET day = ?, number = ?, label = ? WHERE office_id = ? AND id = ?",
            (day.isoformat(), number, label, b.office_id, b.id),
        )
        self.release(conn, b.office_id, b.channel, b.day)
        return attrs.evolve(
            b, day=day, number=number, label=label, previous_day=b.day, previous_number=b.number
        )
