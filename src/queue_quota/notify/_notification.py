"""`Notification`: one event as a message for a citizen, ready to forward."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import attrs

from ..events import Event

__all__ = ["Notification", "notification_id"]


def notification_id(office_id: str, event: Event) -> str:
    """The idempotency id of ``event``'s notification: the same for every delivery of that
    event (a receiver drops a second one), different for every other event."""
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{office_id}\x1f{event.seq}\x1f{event.kind}\x1f{event.booking_id}".encode())
    h.update(event.at.isoformat().encode())
    return f"qqn_{h.hexdigest()}"


@attrs.frozen(kw_only=True)
class Notification:
    """What a notifier hands to ``send``.

    Attributes:
        id: The idempotency id: the same on every delivery of this event (at least once
            means a receiver may see it twice: drop the second).
        office_id: The office.
        event: The `queue_quota.events.Event` (no personal data).
        text: The citizen-facing message by language, ``{"id": ..., "en": ...}``:
            ``"Nomor antrean A-007 Anda: Senin, 8 Juni 2020, 08.00–08.30 WIB"``.
        attempt: 1 on the first delivery, 2 on the first retry, ...
    """

    id: str
    office_id: str
    event: Event
    text: Mapping[str, str]
    attempt: int = 1

    def as_json(self) -> dict[str, Any]:
        """The JSON body a webhook posts (``event.data`` as is, dates as ISO text)."""
        e = self.event
        return {
            "id": self.id,
            "office_id": self.office_id,
            "seq": e.seq,
            "kind": e.kind,
            "booking_id": e.booking_id,
            "day": None if e.day is None else e.day.isoformat(),
            "at": e.at.isoformat(),
            "data": dict(e.data),
            "text": dict(self.text),
            "attempt": self.attempt,
        }
