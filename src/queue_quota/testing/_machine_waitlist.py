"""The waitlist and run-time openings of `SchedulerMachine`: citizens join a full online
channel's line; every change that frees places (a cancel, a reschedule, a closed day, a
reopened or opened day) gives them, in its own transaction, to the first entries in joining
order that fit, exactly as the model says; entries past ``until`` leave; holidays are opened
at run time for every scheduler on the storage."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, time, timedelta
from typing import Any, ClassVar, cast

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import multiple, precondition, rule

from ..errors import (
    AlreadyBooked,
    ConfigurationError,
    InvalidTransition,
    OutsideBookingWindow,
    QueueQuotaError,
    Suspended,
)
from ..waitlist import WaitlistEntry
from ._machine_base import MachineBase
from ._machine_sanctions import SanctionRules
from ._model import BOOKED, Acked, Model, Place, Waiting

__all__ = ["WaitlistRules", "promote"]

#: ``(kind, entry id, day, number)`` of a promotion pass, in the order it is written.
Change = tuple[str, str, date | None, int | None]


def promote(
    m: Model, offered: Callable[[str], list[Place]], today: date, days: Iterable[date] | None
) -> list[Change]:
    """The model's promotion pass: in joining order, an entry past ``until`` leaves
    (``waitlist_expired``); any other takes the first place that fits among
    ``offered(channel)`` (on ``days`` if given), on or before ``until``, in its window
    (``promoted``), with the next number of its day."""
    only = None if days is None else set(days)
    out: list[Change] = []
    for e in list(m.line):
        if e.until < today:
            m.line.remove(e)
            out.append(("waitlist_expired", e.id, None, None))
            continue
        fitting = [
            p
            for p in offered(e.channel)
            if p.day <= e.until
            and (only is None or p.day in only)
            and (e.at is None or (p.window is not None and p.window[0] == e.at))
        ]
        place = m.first_fit(fitting, e.places)
        if place is None:
            continue
        number = m.next_number(e.channel, place.day)
        m.line.remove(e)
        m.add(
            Acked(
                id=e.id,
                channel=e.channel,
                day=place.day,
                number=number,
                status=BOOKED,
                ticket=e.ticket,
                citizen=e.citizen,
                key=None,
                places=e.places,
                window=place.window,
                scopes=place.scopes,
            )
        )
        out.append(("promoted", e.id, place.day, number))
    return out


class WaitlistRules(SanctionRules):
    """Joins, leaves, promotions and openings, checked against the model.

    Attributes:
        waitlists: Whether to run them (``False`` for a storage without
            ``supports_waitlist``; they are skipped on such a storage anyway).
    """

    waitlists: ClassVar[bool] = True
    _log_seen: int = 0

    def _waits(self) -> bool:
        return self.waitlists and bool(getattr(self.sched.storage, "supports_waitlist", False))

    def _offered(self, channel: str) -> list[Place]:
        """What the channel offers now (what `book` would search)."""
        if self.model.spec(channel).same_day:
            return self._same_day_places(channel)
        return self.model.candidates(channel, self.today())

    def _new_changes(self) -> list[Change]:
        """The promotions and expiries written since the machine last looked."""
        out: list[Change] = []
        while page := self.sched.events(after=self._log_seen, limit=1000):
            self._log_seen = page[-1].seq
            for e in page:
                if e.kind in ("promoted", "waitlist_expired") and e.booking_id is not None:
                    number = e.data.get("number") if e.kind == "promoted" else None
                    day = e.day if e.kind == "promoted" else None
                    out.append((e.kind, e.booking_id, day, number))
        return out

    def _promotions(self, what: str, days: list[date] | None) -> None:
        """The pass of the change just made equals the model's (an entry promoted once:
        the model removes it from the line)."""
        if not self._waits():
            return
        expected = promote(self.model, self._offered, self.today(), days)
        got = self._new_changes()
        assert got == expected, f"{what}: the waitlist got {got}, the model expects {expected}"
        if expected:
            event(f"waitlist: {'promoted' if any(c[0] == 'promoted' for c in got) else 'expired'}")
        for kind, entry_id, _, _ in got:
            if kind == "promoted":
                self._check_booking(self.sched.get(entry_id), self.model.bookings[entry_id])

    # -- rules -----------------------------------------------------------------------------

    @precondition(lambda self: self._waits())
    @rule(
        pick=st.integers(0, 63),
        places=st.sampled_from([1, 1, 1, 2, 3]),
        session=st.integers(0, 3),
        until=st.none() | st.integers(1, 4) | st.integers(0, 14),
    )
    def join_waitlist(self, pick: int, places: int, session: int, until: int | None) -> None:
        """A citizen joins the online line: refused as the engine checks (suspended, a
        limit reached, room now), else at the end of the line."""
        m = self.model
        channel = "online"
        citizen = self._citizen(pick)
        today = self.today()
        places = min(places, self.max_places if self.counters else 1)
        starts = [s for s, _, _ in self.online_sessions] if self.counters else []
        at: time | None = starts[session - 1] if 0 < session <= len(starts) else None
        last = None if until is None else today + timedelta(days=until)
        offered = m.candidates(channel, today, at)
        first, end = m.online_window(today)
        window = (first + timedelta(days=i) for i in range((end - first).days + 1))
        offers = [  # a day closed at run time is still in the window: `until` may be it
            d
            for d in window
            if m.working(d)
            and any(at is None or (p.window and p.window[0] == at) for p in m.places_on(channel, d))
        ]
        until_day = max(offers, default=today) if last is None else last
        room = m.first_fit((p for p in offered if p.day <= until_day), places)
        biggest = max(
            (
                min(cap for _, cap in p.charges)
                for d in offers
                for p in m.places_on(channel, d)
                if at is None or (p.window is not None and p.window[0] == at)
            ),
            default=0,
        )
        expected: type[QueueQuotaError] | None = None
        if offers and places > biggest:
            expected = ConfigurationError  # no day could ever hold them
        elif last is not None and offers and last < min(offers):
            expected = OutsideBookingWindow  # it could never be given a place
        elif m.suspended_until(citizen, channel, today) is not None:
            expected = Suspended
        elif m.limits_reached(citizen, channel, today):
            expected = AlreadyBooked
        elif room is not None:
            expected = InvalidTransition
        what = f"join {channel} x{places} at {at} until {last} for {citizen} on {today}"
        outcome: WaitlistEntry | QueueQuotaError
        try:
            outcome = self.sched.join_waitlist(
                channel, citizen, until=last, places=places, preferred_time=at
            )
        except QueueQuotaError as exc:
            outcome = exc
        event(f"join waitlist: {type(outcome).__name__}")
        self._new_changes()  # a join promotes nobody; move the cursor past its event
        if expected is not None:
            assert type(outcome) is expected, f"{what}: got {outcome!r}, the model: {expected}"
            if isinstance(outcome, InvalidTransition):
                assert room is not None
                assert (outcome.reason, outcome.day) == ("has_room", room.day), what
            return
        assert isinstance(outcome, WaitlistEntry), f"{what}: refused with {outcome!r}"
        m.line.append(Waiting(outcome.id, outcome.ticket, channel, citizen, places, until_day, at))
        live = [e for e in m.line if e.channel == channel and e.until >= today]
        got = (outcome.until, outcome.places, outcome.preferred_time, outcome.position)
        assert got == (until_day, places, at, len(live)), f"{what}: got {got}"
        assert outcome.id not in m.bookings

    @precondition(lambda self: self._waits() and bool(self.model.line))
    @rule(pick=st.integers(0, 63))
    def leave_waitlist(self, pick: int) -> None:
        """An entry (even one past ``until``, not yet removed) leaves by its ticket."""
        e = self.model.line[pick % len(self.model.line)]
        left = self.sched.leave_waitlist(e.ticket)
        assert left.id == e.id
        self.model.line.remove(e)
        self._new_changes()

    @precondition(lambda self: self._waits())
    @rule(target=MachineBase.bookings)
    def promote_waitlist(self) -> Any:
        """Room that appeared without a release (the clock moved the window) goes to the
        line in joining order; expired entries leave."""
        done = self.sched.promote_waitlist()
        expected = promote(self.model, self._offered, self.today(), None)
        got = self._new_changes()
        assert got == expected, f"promote: the waitlist got {got}, the model expects {expected}"
        assert [b.id for b in done] == [c[1] for c in expected if c[0] == "promoted"]
        for b in done:
            self._check_booking(b, self.model.bookings[b.id])
        return multiple(*(b.id for b in done))

    @precondition(lambda self: self._waits())
    @rule(offset=st.integers(0, 12))
    def reopen_day(self, offset: int) -> None:
        """Reopen a day: a run-time closure is lifted and a day the calendar closes (a
        holiday, a weekend) is opened, for every scheduler; its room goes to the line."""
        m = self.model
        d = self.today() + timedelta(days=offset)
        closed = d in m.closures
        opening = not m.working(d)
        self.sched.reopen_day(d)
        event(f"reopen day: {'closure' if closed else ''}{' opening' if opening else ''}")
        if closed:
            del m.closures[d]
        if opening:
            m.opened.add(d)
        if closed or opening:
            self._promotions(f"reopen {d}", [d])
        else:
            assert self._new_changes() == []

    @precondition(lambda self: self._waits() and bool(self.model.line))
    @rule(pick=st.integers(0, 63))
    def free_a_place_for_the_line(self, pick: int) -> None:
        """Cancel a booking on a day an entry waits for (on its channel and with enough
        places first), so that promotions are common: the cancel's own checks see them."""
        m = self.model
        e = m.line[pick % len(m.line)]
        today = self.today()
        fits = [
            b
            for b in m.bookings.values()
            if b.status == BOOKED and today <= b.day <= e.until  # any channel: pools are shared
        ]
        fits.sort(key=lambda b: (b.channel != e.channel, b.places < e.places))
        event(f"free a place for the line: {'found' if fits else 'none'}")
        if fits:
            self.cancel(fits[0].id, False, cast(Any, None))
