"""Helpers of `PostgresStorage` that need no connection: rows, lock keys, refusals."""

from __future__ import annotations

import hashlib
import re
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

__all__ = ["Refused", "lock_ns", "to_booking"]


def to_booking(row: tuple[Any, ...]) -> Booking:
    """A `Booking` from a ``qq_booking`` row (columns in table order)."""
    created: datetime = row[8]
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
    )


def lock_ns(schema: str, what: str) -> int:
    """A stable signed 32-bit advisory-lock namespace for ``what`` in ``schema``."""
    digest = hashlib.sha256(f"queue_quota:{schema}:{what}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


_NOT_BOOKED = re.compile(r"^cannot (?:cancel|check in|move) a booking that is (\w+)$")
_PAST_DAY = re.compile(r"^cannot cancel a booking for a past day \((\d{4}-\d\d-\d\d)\)$")
_NOT_TODAY = re.compile(r"^the booking is for (\d{4}-\d\d-\d\d), not today")


def transition(message: str) -> InvalidTransition:
    """The `InvalidTransition` the other adapters raise for a server function's message."""
    if m := _NOT_BOOKED.match(message):
        return InvalidTransition(message, reason="not_booked", status=m.group(1))
    if m := _PAST_DAY.match(message):
        return InvalidTransition(message, reason="past_day", day=date.fromisoformat(m.group(1)))
    if m := _NOT_TODAY.match(message):
        return InvalidTransition(message, reason="not_today", day=date.fromisoformat(m.group(1)))
    return InvalidTransition(message)


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
        if self.state == "QQ004":
            return transition(message)
        error = StorageError(message)
        error.__cause__ = self.cause
        return error
