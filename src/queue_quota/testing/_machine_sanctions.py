"""The no-show sanctions of `SchedulerMachine`: the channels booked ahead refuse a citizen
with too many recent no-shows (`Suspended`), exactly when the model says; walk-ins never
do; a clerk's lift lets them book at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

import attrs
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import multiple, precondition, rule

from ..errors import DayClosed, NotEligible, OutsideBookingWindow, Suspended
from ..office import Office
from ..policies.online import OnlineQuota
from ._machine_base import MachineBase, Reasons
from ._machine_changes import ChangeRules
from ._model import BOOKED, NO_SHOW, Acked, ChannelSpec, Place

__all__ = ["SanctionRules"]

#: Refusals of the policy itself, given before the storage's transaction is reached.
_ADMIT: Reasons = {NotEligible, DayClosed, OutsideBookingWindow}


class SanctionRules(ChangeRules):
    """Suspensions after no-shows on the channels booked ahead, checked against the model.

    Attributes:
        sanctions: Channel booked ahead -> ``(no_show_limit, no_show_window_days,
            suspension_days)`` of its `OnlineQuota` (two channels with different rules, so
            that each booking is seen to carry its own policy's); a channel not listed has
            none. ``{}``: no sanctions, for a storage that does not keep them.
    """

    sanctions: ClassVar[Mapping[str, tuple[int, int, int]]] = {
        "online": (1, 3, 5),  # a no-show of 4 days ago no longer counts, though until is ahead
        "priority": (2, 7, 4),
    }

    # -- the office and the model ----------------------------------------------------------

    def _rule(self, channel: str) -> dict[str, Any]:
        if channel not in self.sanctions:
            return {}
        limit, window, days = self.sanctions[channel]
        return {"no_show_limit": limit, "no_show_window_days": window, "suspension_days": days}

    def make_office(self) -> Office:
        """The office of `MachineBase.make_office`, its online policies with `sanctions`."""
        office = super().make_office()
        policies = [
            attrs.evolve(p, **self._rule(p.channel)) if isinstance(p, OnlineQuota) else p
            for p in office.policies
        ]
        return attrs.evolve(office, policies=policies)

    def channel_specs(self) -> tuple[ChannelSpec, ...]:
        """The model's channels, those booked ahead with `sanctions`."""
        return tuple(attrs.evolve(s, **self._rule(s.name)) for s in super().channel_specs())

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
        """As `Expectations._ahead`; a new booking of a suspended citizen that the policy
        admits is refused with `Suspended` and nothing else (a move never is)."""
        reasons, target = super()._ahead(
            channel, citizen, preferred, at=at, places=places, eligible=eligible, moving=moving
        )
        if moving is not None or reasons & _ADMIT:
            return reasons, target
        if self.model.suspended_until(citizen, channel, self.today()) is None:
            return reasons, target
        return {Suspended}, None

    def _suspended(self) -> list[str]:
        """The citizens the model suspends on a channel booked ahead today."""
        today = self.today()
        ahead = [s.name for s in self.model.specs if not s.same_day]
        return [
            c
            for c in self.citizens
            if any(self.model.suspended_until(c, name, today) for name in ahead)
        ]

    def _check_limit(self, what: str, outcome: object, channel: str, citizen: str | None) -> None:
        """As `Expectations._check_limit`; a `Suspended` also names the channel and the
        model's ``until``."""
        super()._check_limit(what, outcome, channel, citizen)
        if isinstance(outcome, Suspended):
            expected = self.model.suspended_until(citizen, channel, self.today())
            assert outcome.until == expected, f"{what}: until {outcome.until}, model {expected}"
            assert outcome.channel == channel, f"{what}: Suspended names {outcome.channel}"

    def _last_seq(self) -> int:
        last = 0
        while page := self.sched.events(after=last, limit=1000):
            last = page[-1].seq
        return last

    # -- rules -----------------------------------------------------------------------------

    @rule(booking=MachineBase.bookings)
    def miss_a_booking(self, booking: str) -> None:
        """The citizen of a booking does not come: the clock moves to the next morning and
        that day's no-shows are marked (if the day is still ahead and the booking booked)."""
        acked = self.model.bookings[booking]
        if acked.status != BOOKED or acked.citizen is None or acked.day < self.today():
            return
        after = datetime.combine(acked.day + timedelta(days=1), time(7), self._zone)
        self.clock.set(max(after, self.clock.now))
        self.mark_no_shows(booking)

    @rule(
        target=MachineBase.bookings,
        pick=st.integers(0, 63),
        channel=st.integers(0, 2),
    )
    def a_citizen_who_missed_asks(self, pick: int, channel: int) -> Any:
        """A citizen the model suspends (else one with a no-show, else anyone) asks for a
        place on any channel: ahead, `Suspended` with the model's ``until`` unless the
        policy refuses first; at the door, never refused for it."""
        m = self.model
        missed = sorted(
            {b.citizen for b in m.bookings.values() if b.status == NO_SHOW and b.citizen}
        )
        pool = self._suspended() or missed or list(self.citizens)
        citizen = pool[pick % len(pool)]
        name = m.channels[channel % len(m.channels)]
        suspended = any(m.suspended_until(citizen, c, self.today()) for c in m.channels)
        event(f"a citizen who missed asks: {'suspended' if suspended else 'not suspended'}")
        if m.spec(name).same_day:
            booked = self._book_walk_in(citizen, 1)
        else:
            booked = self._book_ahead(name, citizen)
        return multiple() if booked is None else booked

    @precondition(lambda self: bool(self.sanctions))
    @rule(pick=st.integers(0, 63), suspended=st.booleans())
    def lift_suspension(self, pick: int, suspended: bool) -> None:
        """A clerk lifts a citizen's suspension (one suspended, if asked and there is one):
        from today only later no-shows count, and an event without personal data is written."""
        found = self._suspended()
        pool = (found if suspended else []) or list(self.citizens)
        citizen = pool[pick % len(pool)]
        today = self.today()
        event(f"lift: {'suspended' if citizen in found else 'not suspended'}")
        seen = self._last_seq()
        self.sched.lift_suspension(citizen)
        new = self.sched.events(after=seen)
        assert [(e.kind, e.booking_id, e.day, dict(e.data)) for e in new] == [
            ("suspension_lifted", None, today, {})
        ], f"lift for {citizen} on {today}: events {new}"
        self.model.lifts[citizen] = max(self.model.lifts.get(citizen, date.min), today)
