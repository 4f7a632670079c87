"""Appending to the office's event log inside a write transaction (see "Events and
notifications"): ``seq`` is one more than the office's ``~seq`` meta, read and written
under the office's write lock, so seqs commit in order and a rollback leaves no gap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from ..events import Event, booking_data
from ..models import Booking
from .primitives import Transaction

__all__ = ["SEQ", "Change", "about", "emit", "event_time", "moved"]

#: Meta name of the office's last ``seq``.
SEQ = "~seq"

#: An event before it has a ``seq``: kind, booking id, day, data.
Change = tuple[str, str | None, date | None, Mapping[str, Any]]


def event_time(now: datetime | None) -> datetime:
    """An event's ``at``: ``now`` in UTC (the system clock when the caller gave none)."""
    return datetime.now(UTC) if now is None else now.astimezone(UTC)


def about(kind: str, booking: Booking, **extra: Any) -> Change:
    """The change ``kind`` of ``booking`` (its id, day and data)."""
    return (kind, booking.id, booking.day, booking_data(booking, **extra))


def moved(booking: Booking, previous: Booking) -> Change:
    """A move of ``previous`` to where ``booking`` is now."""
    return about(
        "moved",
        booking,
        previous_day=previous.day.isoformat(),
        previous_number=previous.number,
        previous_label=previous.label,
    )


def emit(
    tx: Transaction, meta: dict[str, str], changes: Sequence[Change], at: datetime
) -> list[Event]:
    """Append ``changes`` to the log with the next seqs; ``meta`` is the transaction's
    ``"~"`` meta (updated)."""
    if not changes:
        return []
    last = int(meta.get(SEQ, "0"))
    events = [
        Event(seq=last + i, kind=kind, booking_id=bid, day=day, at=at, data=dict(data))
        for i, (kind, bid, day, data) in enumerate(changes, start=1)
    ]
    tx.put_events(events)
    meta[SEQ] = str(events[-1].seq)
    tx.put_meta({SEQ: meta[SEQ]})
    return events
