"""Helpers of `PostgresStorage` that need no connection: rows, lock keys, refusals."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from ..errors import (
    AlreadyBooked,
    BookingNotFound,
    InvalidTransition,
    QueueQuotaError,
    QuotaExhausted,
    StorageError,
)
from ..models import Booking, BookingStatus

if TYPE_CHECKING:
    import psycopg

__all__ = ["REASONS", "Refused", "lock_ns", "to_booking", "transition"]


def to_booking(row: tuple[Any, ...]) -> Booking:
    """A `Booking` from a ``qq_booking`` row (columns in table order).

    A row of ``qq_move`` or ``qq_close_day`` has two more columns, the day and number the
    booking had before the move (``previous_day``, ``previous_number``); the extra column
    of ``qq_reserve`` (the release epoch) is not a booking's.
    """
    created: datetime = row[8]
    moved = len(row) == 14
    return Booking(
        id=row[0],
        office_id=row[1],
        channel=row[2],
        day=row[3],
        number=row[4],
        label=row[5],
        status=BookingStatus(row[6]),
        citizen_ref=row[7],
        created_at=created.astimezone(UTC),
        ticket=row[9],
        idempotency_key=row[10],
        request_fingerprint=row[11],
        previous_day=row[12] if moved else None,
        previous_number=row[13] if moved else None,
    )


def lock_ns(schema: str, what: str) -> int:
    """A stable signed 32-bit advisory-lock namespace for ``what`` in ``schema``."""
    digest = hashlib.sha256(f"queue_quota:{schema}:{what}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


#: The `InvalidTransition` reason of each SQLSTATE the server functions raise for one.
REASONS = {
    "QQ041": "not_booked",
    "QQ042": "past_day",
    "QQ043": "not_today",
    "QQ044": "duplicate_id",
}


def transition(state: str, message: str, detail: str | None) -> InvalidTransition:
    """The `InvalidTransition` the other adapters raise, from a refusal's SQLSTATE and its
    JSON DETAIL (``{"status": ..., "day": "YYYY-MM-DD"}``); the message is only shown."""
    facts: dict[str, Any] = {}
    if detail:
        try:
            loaded = json.loads(detail)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            facts = loaded
    status = facts.get("status")
    day = facts.get("day")
    return InvalidTransition(
        message,
        reason=REASONS[state],
        status=status if REASONS[state] == "not_booked" and isinstance(status, str) else None,
        day=date.fromisoformat(day) if isinstance(day, str) else None,
    )


class Refused(Exception):
    """A server function refused with one of our SQLSTATEs (``QQxxx``, see ``_pg_sql``)."""

    def __init__(self, state: str, cause: psycopg.Error) -> None:
        super().__init__(state)
        self.state = state
        self.cause = cause

    def domain(
        self,
        *,
        channel: str | None = None,
        limit: int | None = None,
        office_id: str = "",
        booking_id: str = "",
    ) -> QueueQuotaError:
        """The error the other adapters raise in the same case."""
        diag = self.cause.diag
        message = diag.message_primary or str(self.cause)
        if self.state == "QQ001":  # the channel is in DETAIL (useful for close_day)
            return QuotaExhausted(channel=channel or diag.message_detail)
        if self.state == "QQ002":
            return AlreadyBooked(channel=channel, limit=limit if limit is not None else 1)
        if self.state == "QQ003":
            return BookingNotFound(f"no booking {booking_id!r} in office {office_id!r}")
        if self.state in REASONS:
            return transition(self.state, message, diag.message_detail)
        error = StorageError(message)
        error.__cause__ = self.cause
        return error
