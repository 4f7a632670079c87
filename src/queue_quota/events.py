"""`Event`: one change to a citizen's situation, written in the same transaction as the change.

See "Events and notifications" in the documentation for why a reader following ``seq``
can never skip one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Final

import attrs

from .models import Booking

__all__ = ["EVENT_KINDS", "Event"]

#: Every kind of event the library writes.
EVENT_KINDS: Final = (
    "booked",
    "cancelled",
    "moved",
    "checked_in",
    "no_show",
    "day_closed",
    "day_reopened",
    "reminder",
    "waitlisted",
    "promoted",
    "waitlist_left",
    "waitlist_expired",
    "suspension_lifted",
    "turned_away",
)


@attrs.frozen(kw_only=True)
class Event:
    """One change, as the storage's log holds it.

    Attributes:
        seq: Its place in the office's log: 1, 2, 3, ... with no gaps, in commit order. A
            reader that has seen ``seq`` N never later finds a new event at or below N.
        kind: One of `EVENT_KINDS` (``"booked"``, ``"moved"``, ...).
        booking_id: The booking it is about, or ``None`` (a closed or reopened day, a
            lifted suspension, a walk-in turned away).
        day: The booking's day (after a move, its new day), the day closed or reopened,
            the day a suspension was lifted, or the day a walk-in was turned away.
        at: When the change was made (aware, UTC).
        data: What a message needs, and nothing personal (no citizen ID, ref or ticket):
            ``channel``, ``label``, ``number``, ``places``, ``window`` (``["08:00",
            "08:30"]`` or ``None``); after a move also ``previous_day`` (ISO date),
            ``previous_number`` and ``previous_label``; for a closed day its ``reason``
            and how many bookings were ``moved``; for a walk-in turned away (the day
            full) the ``channel`` and the ``places`` asked for.
    """

    seq: int
    kind: str
    booking_id: str | None
    day: date | None
    at: datetime
    data: Mapping[str, Any] = attrs.field(factory=dict)


def _hhmm(t: time) -> str:
    return t.isoformat("minutes")  # "08:30"; three times faster than strftime


def booking_data(booking: Booking, **extra: Any) -> dict[str, Any]:
    """The ``data`` of an event about ``booking`` (no personal data)."""
    window = booking.window
    out: dict[str, Any] = {
        "channel": booking.channel,
        "label": booking.label,
        "number": booking.number,
        "places": booking.places,
        "window": None if window is None else [_hhmm(window[0]), _hhmm(window[1])],
    }
    out.update(extra)
    return out


def dump_data(data: Mapping[str, Any]) -> str:
    """``data`` as stored by a persistent adapter (compact, sorted JSON)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_data(text: str | None) -> dict[str, Any]:
    """``data`` read back."""
    if not text:
        return {}
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {}
