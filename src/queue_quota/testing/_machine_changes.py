"""The rules of `SchedulerMachine` that change bookings, days, the clock and the storage."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import rule

from ..errors import (
    ConfigurationError,
    InvalidTransition,
    QueueQuotaError,
    QuotaExhausted,
)
from ..models import Booking
from ._machine_base import MachineBase, Outcome, Reasons, record
from ._machine_booking import BookingRules
from ._model import BOOKED, CANCELLED, CHECKED_IN, NO_SHOW, Place

__all__ = ["ChangeRules"]

_CLOCK_MOVES = (
    "minutes",
    "hours",
    "next_day",
    "before_midnight",
    "midnight",
    "opens",
    "takes_unused",
    "before_closes",
    "after_closes",
)


class ChangeRules(BookingRules):
    """Rules that cancel, check in, move, close, mark no-shows, move time and reopen."""

    @rule(booking=MachineBase.bookings, cancellable=st.booleans(), data=st.data())
    def cancel(self, booking: str, cancellable: bool, data: st.DataObject) -> None:
        """Cancel a booking: allowed while it is booked and its day has not passed.

        With ``cancellable``, one that may be cancelled is taken when there is one (so
        that places are given back often, on every channel and counter).
        """
        today = self.today()
        if cancellable:
            found = [
                b.id for b in self.model.bookings.values() if b.status == BOOKED and b.day >= today
            ]
            if found:
                booking = data.draw(st.sampled_from(found), label="cancellable booking")
        acked = self.model.bookings[booking]
        outcome: Outcome
        try:
            outcome = self.sched.cancel(booking)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"cancel {booking} ({acked.status} on {acked.day}) on {today}"
        record("cancel", outcome)
        if acked.status != BOOKED or acked.day < today:
            self._check_refusal(what, outcome, {InvalidTransition})
            return
        assert isinstance(outcome, Booking), f"{what}: refused with {outcome!r}"
        acked.status = CANCELLED
        self._check_booking(outcome, acked)
        self._promotions(what, [acked.day])

    @rule(
        booking=MachineBase.bookings, by_ticket=st.booleans(), todays=st.booleans(), data=st.data()
    )
    def check_in(self, booking: str, by_ticket: bool, todays: bool, data: st.DataObject) -> None:
        """Check in, by ticket or id: allowed once, on the booking's day.

        With ``todays``, a booking for today is taken when there is one.
        """
        today = self.today()
        on_today = [b.id for b in self.model.on_day(today)]
        if todays and on_today:
            booking = data.draw(st.sampled_from(on_today), label="booking for today")
        acked = self.model.bookings[booking]
        outcome: Outcome
        try:
            outcome = self.sched.check_in(acked.ticket if by_ticket else booking)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"check in {booking} ({acked.status} on {acked.day}) on {today}"
        record("check-in", outcome)
        if acked.status != BOOKED or acked.day != today:
            self._check_refusal(what, outcome, {InvalidTransition})
            return
        assert isinstance(outcome, Booking), f"{what}: refused with {outcome!r}"
        acked.status = CHECKED_IN
        self._check_booking(outcome, acked)

    @rule(booking=MachineBase.bookings, preferred=st.none() | st.integers(-2, 16))
    def reschedule(self, booking: str, preferred: int | None) -> None:
        """Move a booking (all its places) to the earliest other day with room, or to a
        preferred day."""
        m = self.model
        acked = m.bookings[booking]
        spec = m.spec(acked.channel)
        today = self.today()
        pref = None
        if preferred is not None and not spec.same_day:
            pref = today + timedelta(days=preferred)
        outcome: Outcome
        try:
            outcome = self.sched.reschedule(booking, preferred_date=pref)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"reschedule {booking} ({acked.status} on {acked.day}) on {today} to {pref}"
        record("reschedule", outcome)
        reasons: Reasons = set()
        if acked.status != BOOKED or acked.day < today or pref == acked.day:
            reasons.add(InvalidTransition)
        target: Place | None
        if not spec.same_day:
            more, target = self._ahead(
                acked.channel, acked.citizen, pref, places=acked.places, moving=acked
            )
            reasons |= more
        else:
            reasons |= set(self._walk_in(acked.places)) - {QuotaExhausted}
            found = [p for p in self._same_day_places(acked.channel) if m.open(p.day)]
            others = (p for p in found if p.day != acked.day)
            target = m.first_fit(others, acked.places)
            if target is None and found:
                reasons.add(QuotaExhausted)
        if reasons:
            self._check_refusal(what, outcome, reasons)
            return
        assert target is not None
        assert isinstance(outcome, Booking), f"{what}: refused with {outcome!r}"
        number = m.next_number(acked.channel, target.day)
        assert (outcome.id, outcome.ticket) == (acked.id, acked.ticket)
        left = acked.day
        m.move(acked, target, number)
        self._check_booking(outcome, acked)
        self._promotions(what, [left])

    @rule(offset=st.integers(0, 12))
    def close_day(self, offset: int) -> None:
        """Close a day at run time: its bookings move, in order, to the next days with room."""
        self._close(self.today() + timedelta(days=offset))

    @rule(booking=MachineBase.bookings)
    def close_a_booked_day(self, booking: str) -> None:
        """Close the day of an acknowledged booking (unless that day has passed)."""
        d = self.model.bookings[booking].day
        if d >= self.today():
            self._close(d)

    def _close(self, d: date) -> None:
        self._closures_made += 1
        reason = f"machine closure {self._closures_made}"
        trial = self.model.copy()
        already = d in trial.closures  # closing it again changes nothing
        expected = trial.close(d, reason)
        moved = self.sched.close_day(d, reason)
        got = [(b.id, b.day, b.number) for b in moved]
        assert got == expected, f"close {d}: moved {got}, the model expects {expected}"
        event(f"close day: moved {'none' if not got else 'some'}")
        self.model = trial
        for b in moved:
            self._check_booking(b, trial.bookings[b.id])
        if not already:
            self._promotions(f"close {d}", None)

    @rule(booking=MachineBase.bookings)
    def mark_no_shows(self, booking: str) -> None:
        """Mark the no-shows of a booking's day: only once that day has ended."""
        m = self.model
        d = m.bookings[booking].day
        today = self.today()
        outcome: list[Booking] | QueueQuotaError
        try:
            outcome = self.sched.mark_no_shows(d)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"mark no-shows of {d} on {today}"
        if d >= today:
            assert isinstance(outcome, ConfigurationError), f"{what}: got {outcome!r}"
            event("mark no-shows: day not ended")
            return
        assert isinstance(outcome, list), f"{what}: refused with {outcome!r}"
        expected = sorted(
            (b for b in m.on_day(d) if b.status == BOOKED),
            key=lambda b: (m.channels.index(b.channel), b.number),
        )
        got = [b.id for b in outcome]
        want = [b.id for b in expected]
        assert got == want, f"{what}: marked {got}, the model expects {want}"
        event(f"mark no-shows: marked {'none' if not got else 'some'}")
        for acked, b in zip(expected, outcome, strict=True):
            acked.status = NO_SHOW
            self._check_booking(b, acked)

    # -- time and storage ------------------------------------------------------------------

    @rule(how=st.sampled_from(_CLOCK_MOVES), amount=st.integers(1, 240))
    def advance_clock(self, how: str, amount: int) -> None:
        """Move the clock forward: minutes, hours, a day, or to a local boundary of the day
        (midnight, opening, the time walk-ins may take unused places, closing)."""
        if how == "minutes":
            self.clock.advance(minutes=amount)
            return
        if how == "hours":
            self.clock.advance(hours=amount % 36 + 1)
            return
        if how == "next_day":
            self.clock.advance(days=1)
            return
        boundary = {
            "before_midnight": time(23, 59, 59, 999999),
            "midnight": time(0),
            "opens": self.opens,
            "takes_unused": min(self.takes_unused.values(), default=self.opens),
            "before_closes": self.closes,
            "after_closes": (datetime.combine(date(2000, 1, 1), self.closes)
                             + timedelta(microseconds=1)).time(),
        }[how]  # fmt: skip
        now = self.clock.now
        local = now.astimezone(self._zone)
        at = datetime.combine(local.date(), boundary, self._zone)
        if at <= now:
            at = datetime.combine(local.date() + timedelta(days=1), boundary, self._zone)
        self.clock.set(at.astimezone(UTC))

    @rule(
        booking=MachineBase.bookings,
        at=st.sampled_from([time(7, 30), time(10, 0), time(23, 59)]),
    )
    def advance_to_a_booked_day(self, booking: str, at: time) -> None:
        """Move the clock to a local time on the day of a booking (if that is ahead)."""
        target = datetime.combine(self.model.bookings[booking].day, at, self._zone)
        if target > self.clock.now:
            self.clock.set(target.astimezone(UTC))

    @rule()
    def reopen(self) -> None:
        """A new Scheduler on a fresh handle of the same store (like a restarted process)."""
        old = self.sched.storage
        new = self._open()
        if new is not old:
            self._closed.add(id(old))
            old.close()
        self.sched = self._scheduler(new)
