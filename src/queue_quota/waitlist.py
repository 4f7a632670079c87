"""`WaitlistEntry`: a citizen waiting for a place on a full channel.

See "The waitlist" in the documentation: a freed place goes to the first entry that fits,
in the transaction that freed it, and the entry becomes a `Booking` with the entry's id and
ticket.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time

import attrs

__all__ = ["WaitlistEntry"]


@attrs.frozen(kw_only=True)
class WaitlistEntry:
    """One place in a channel's line.

    Attributes:
        id: The entry's id: the id of the booking it becomes.
        channel: The channel waited for.
        position: Its place in the channel's line now (1: the next to be served).
        ticket: The signed ticket, the same the booking will carry (show it to the
            citizen only).
        until: The last day the citizen accepts; the entry expires after it.
        places: Units it needs on one number (a household).
        preferred_time: The start of the only arrival window it accepts (``None``: any).
        joined_at: When it joined (aware, UTC).
        citizen_ref: The keyed hash of the citizen, or ``None``.
    """

    id: str
    channel: str
    position: int
    ticket: str
    until: date
    places: int = 1
    preferred_time: time | None = None
    joined_at: datetime
    citizen_ref: str | None = None

    def dump(self) -> str:
        """The stored form (JSON; ``position`` is not stored: it is computed on reading)."""
        return json.dumps(
            {
                "id": self.id,
                "channel": self.channel,
                "ticket": self.ticket,
                "until": self.until.isoformat(),
                "places": self.places,
                "time": None if self.preferred_time is None else self.preferred_time.isoformat(),
                "at": self.joined_at.isoformat(),
                "ref": self.citizen_ref,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, text: str, position: int = 0) -> WaitlistEntry:
        """An entry read back from `dump`'s text."""
        raw = json.loads(text)
        return cls(
            id=raw["id"],
            channel=raw["channel"],
            position=position,
            ticket=raw["ticket"],
            until=date.fromisoformat(raw["until"]),
            places=int(raw["places"]),
            preferred_time=None if raw["time"] is None else time.fromisoformat(raw["time"]),
            joined_at=datetime.fromisoformat(raw["at"]),
            citizen_ref=raw["ref"],
        )
