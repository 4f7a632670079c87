"""What the model expects of a request in `SchedulerMachine`: its true refusal reasons,
where it should go, and when a "full" refusal says to come back."""

from __future__ import annotations

from datetime import date, time

from hypothesis import event

from ..errors import (
    AlreadyBooked,
    DayClosed,
    NotEligible,
    OutsideBookingWindow,
    OutsideServiceHours,
    QueueQuotaError,
    QuotaExhausted,
)
from ._machine_base import MachineBase, Reasons
from ._model import Acked, Place

__all__ = ["Expectations"]


def _starts(place: Place, at: time) -> bool:
    return place.window is not None and place.window[0] == at


class Expectations(MachineBase):
    """The model's answers to requests, shared by the rules."""

    def _ahead(
        self,
        channel: str,
        citizen: str | None,
        preferred: date | None,
        *,
        at: time | None = None,
        places: int = 1,
        eligible: bool = True,
        moving: Acked | None = None,
    ) -> tuple[Reasons, Place | None]:
        """The true refusal reasons of a request on a channel booked ahead (online,
        priority), and the place it should get."""
        m = self.model
        spec = m.spec(channel)
        today = self.today()
        if spec.claim is not None and not eligible:
            return {NotEligible}, None  # the policy's first check
        earliest, latest = m.online_window(today)
        reasons: Reasons = set()
        admitted = True
        if preferred is None:
            found = m.candidates(channel, today, at)
        else:
            if not m.open(preferred):  # a closed day is closed, whatever the window
                reasons.add(DayClosed)
            elif not earliest <= preferred <= latest:
                reasons.add(OutsideBookingWindow)
            on_day = m.places_on(channel, preferred)
            found = [] if reasons else [p for p in on_day if at is None or _starts(p, at)]
        admitted = not reasons
        if moving is None and m.limits_reached(citizen, channel, today):
            reasons.add(AlreadyBooked)  # the channel's limit or the office's (a move: none)
        skip = moving.day if moving is not None else None
        target = m.first_fit((p for p in found if p.day != skip), places)
        if target is None and (preferred is None or admitted):
            reasons.add(QuotaExhausted)
        return reasons, target

    def _same_day_places(self, channel: str) -> list[Place]:
        """Where a same-day request now may go: its own places, then (from their times)
        the places other channels left unused today."""
        now = self.local_now().time()
        return self.model.same_day_places(channel, self.today(), now)

    def _walk_in(self, places: int = 1, citizen: str | None = None) -> list[type[QueueQuotaError]]:
        """The true refusal reasons of a walk-in request, in the order they are checked
        (``citizen``: a new booking for that citizen, subject to the limits)."""
        m = self.model
        today = self.today()
        reasons: list[type[QueueQuotaError]] = []
        if not m.open(today):
            reasons.append(DayClosed)
        if not self._in_hours():
            reasons.append(OutsideServiceHours)
        if m.limits_reached(citizen, "walk_in", today):
            reasons.append(AlreadyBooked)
        if m.first_fit(self._same_day_places("walk_in"), places) is None:
            reasons.append(QuotaExhausted)
        return reasons

    def _check_limit(self, what: str, outcome: object, channel: str, citizen: str | None) -> None:
        """An `AlreadyBooked` names the limit reached: the channel's (its name and limit)
        or the office's (``channel=None``, `office_per_citizen`); either if both are."""
        if not isinstance(outcome, AlreadyBooked):
            return
        event(f"already booked: {'office' if outcome.channel is None else 'channel'} limit")
        reached = self.model.limits_reached(citizen, channel, self.today())
        allowed = {
            (name, self.model.spec(name).per_citizen if name else self.model.office_per_citizen)
            for name in reached
        }
        got = (outcome.channel, outcome.limit)
        assert got in allowed, f"{what}: AlreadyBooked{got}, but the model reached {allowed}"

    def _alternatives(self, refused: str) -> dict[str, date]:
        """The earliest day with room on every other channel a request without claims
        may use (what a "full" refusal offers instead)."""
        m = self.model
        today = self.today()
        out: dict[str, date] = {}
        for spec in m.specs:
            if spec.name == refused or spec.claim is not None:
                continue
            if spec.same_day:
                if m.open(today) and self._in_hours() and m.has_room(spec.name, today):
                    out[spec.name] = today
                continue
            day = m.first_room(spec.name, m.window_days(spec.name, today))
            if day is not None:
                out[spec.name] = day
        return out

    def _next_available(self, channel: str, preferred: date | None) -> date | None:
        """When a "full" refusal says to come back: the first day with room for one."""
        m = self.model
        window = m.window_days(channel, self.today())
        if preferred is None:
            return m.first_room(channel, window)
        after = m.first_room(channel, [d for d in window if d > preferred])
        return after or m.first_room(channel, [d for d in window if d < preferred])
