"""Helpers of `PostgresStorage` that need no connection: rows, parameters, lock keys."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from ..models import Booking, BookingStatus

__all__ = ["booking_params", "lock_ns", "replace_params", "stored_charges", "to_booking"]


def to_booking(row: tuple[Any, ...]) -> Booking:
    """A `Booking` from a row of ``_pg_sql.COLUMNS``."""
    created: datetime = row[8]
    charges = row[13]
    start = row[14]
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
        places=row[12],
        charges=() if charges is None else tuple(charges),
        window=None if start is None else (start, row[15]),
    )


def stored_charges(b: Booking) -> list[str] | None:
    """``charges`` as stored: ``NULL`` for the 0.1 default (the channel's own counter)."""
    charges = b.charges
    if not charges or (len(charges) == 1 and charges[0] == "c:" + b.channel):
        return None
    return list(charges)


def booking_params(b: Booking) -> tuple[Any, ...]:
    """The parameters of ``INSERT`` (in ``COLUMNS`` order)."""
    window = b.window
    return (
        b.id,
        b.office_id,
        b.channel,
        b.day,
        b.number,
        b.label,
        b.status.value,
        b.citizen_ref,
        b.created_at,
        b.ticket,
        b.idempotency_key,
        b.request_fingerprint,
        b.places,
        stored_charges(b),
        None if window is None else window[0],
        None if window is None else window[1],
    )


def replace_params(b: Booking) -> tuple[Any, ...]:
    """The parameters of ``REPLACE`` (every column but the key, then the key)."""
    return (*booking_params(b)[2:], b.office_id, b.id)


def lock_ns(schema: str, what: str) -> int:
    """A stable signed 32-bit advisory-lock namespace for ``what`` in ``schema``."""
    digest = hashlib.sha256(f"queue_quota:{schema}:{what}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)
