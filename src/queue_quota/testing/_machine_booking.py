"""The booking rules of `SchedulerMachine`: online and priority (ahead), walk-ins, retries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import initialize, multiple, precondition, rule

from ..errors import (
    DayClosed,
    IdempotencyConflict,
    OutsideServiceHours,
    QueueQuotaError,
    QuotaExhausted,
)
from ..models import Booking
from ._machine_base import MachineBase, Outcome, describe, record
from ._machine_expect import Expectations
from ._model import BOOKED, Acked

__all__ = ["BookingRules"]

_LOCAL_STARTS = [
    time(6, 0),
    time(7, 30),
    time(9, 15),
    time(10, 30),
    time(11, 59, 59),
    time(16, 0),
    time(23, 30),
]


class BookingRules(Expectations):
    """Rules that ask for places."""

    # -- start -----------------------------------------------------------------------------

    @initialize(
        days=st.integers(0, 27), at=st.sampled_from(_LOCAL_STARTS), working_day=st.booleans()
    )
    def begin(self, days: int, at: time, working_day: bool) -> None:
        """Start ``days`` after `start` (on a working day, or not), at a local time."""
        first = self.start.astimezone(self._zone).date() + timedelta(days=days)
        if working_day and not self.model.working(first):
            first = self.model.next_open_after(first)
        self.clock.set(max(self.start, datetime.combine(first, at, self._zone)).astimezone(UTC))

    # -- helpers ---------------------------------------------------------------------------

    def _ahead_channels(self) -> list[str]:
        return [s.name for s in self.model.specs if not s.same_day]

    def _places(self, places: int) -> int:
        """``places`` with the capacity model, else 1 (0.1 storages book one place)."""
        return places if self.counters else 1

    def _session_start(self, channel: str, pick: int | None) -> time | None:
        sessions = self.model.spec(channel).sessions
        return None if pick is None or not sessions else sessions[pick % len(sessions)][0]

    # -- rules -----------------------------------------------------------------------------

    @rule(
        target=MachineBase.bookings,
        channel=st.integers(0, 1),
        who=st.integers(0, 63),
        key_mode=st.sampled_from(["none", "new", "reuse"]),
        preferred=st.none() | st.integers(-2, 16) | st.just("a booked day"),
        session=st.none() | st.integers(0, 3),
        places=st.integers(1, 3),
        eligible=st.sampled_from([True, True, True, False]),
        data=st.data(),
    )
    def book_online(
        self,
        channel: int,
        who: int,
        key_mode: str,
        preferred: int | str | None,
        session: int | None,
        places: int,
        eligible: bool,
        data: st.DataObject,
    ) -> Any:
        """Book ahead (online, or the claim-only priority channel) for a citizen of the
        pool: maybe a household, a preferred day or session, an idempotency key, no claim.

        The preferred day is an offset from today, or the day of an acknowledged booking
        (so that full preferred days are asked for).
        """
        m = self.model
        today = self.today()
        names = self._ahead_channels()
        name = names[channel % len(names)]
        key: str | None = None
        if key_mode == "new":
            key = self._new_key()
        elif key_mode == "reuse" and m.keys:
            key = data.draw(st.sampled_from(sorted(m.keys)), label="reused key")
        pref: date | None = None
        if isinstance(preferred, int):
            pref = today + timedelta(days=preferred)
        elif preferred is not None and m.bookings:
            days = sorted({b.day for b in m.bookings.values()})
            pref = data.draw(st.sampled_from(days), label="preferred booked day")
        booked = self._book_ahead(
            name,
            self._citizen(who),
            key=key,
            preferred=pref,
            at=self._session_start(name, session),
            places=self._places(places),
            eligible=eligible,
        )
        return multiple() if booked is None else booked

    @rule(
        target=MachineBase.bookings,
        channel=st.integers(0, 1),
        who=st.integers(0, 63),
        places=st.lists(st.integers(1, 3), min_size=2, max_size=10),
    )
    def book_online_in_a_row(self, channel: int, who: int, places: list[int]) -> Any:
        """Several citizens (households) book ahead one after the other (days fill up)."""
        names = self._ahead_channels()
        name = names[channel % len(names)]
        booked = [
            self._book_ahead(name, self._citizen(who + i), places=self._places(n))
            for i, n in enumerate(places)
        ]
        return multiple(*(b for b in booked if b is not None))

    def _book_ahead(
        self,
        channel: str,
        citizen: str,
        *,
        key: str | None = None,
        preferred: date | None = None,
        at: time | None = None,
        places: int = 1,
        eligible: bool = True,
    ) -> str | None:
        """Book ahead and check the outcome against the model; the new id, if any."""
        m = self.model
        today = self.today()
        claim = m.spec(channel).claim or "group"
        outcome: Outcome
        try:
            outcome = self.sched.book(
                channel,
                citizen,
                idempotency_key=key,
                preferred_date=preferred,
                preferred_time=at,
                places=places,
                claims={claim: "lansia"} if eligible else None,
            )
        except QueueQuotaError as exc:
            outcome = exc
        what = (
            f"book {channel} x{places} for {citizen} on {today} (preferred {preferred} {at},"
            f" key {key}, claim {eligible})"
        )
        record(f"book {channel}" + (" (preferred)" if preferred or at else ""), outcome)
        if key is not None and key in m.keys:
            first = m.bookings[m.keys[key]]
            asked = (channel, citizen, preferred, at, places)
            if (first.channel, first.citizen, first.preferred, first.preferred_time,
                    first.places) == asked:  # fmt: skip
                assert isinstance(outcome, Booking), f"{what}: a retry was refused: {outcome!r}"
                self._check_booking(outcome, first)
            else:  # the key is bound to its first request: nothing booked, nothing shown
                assert isinstance(outcome, IdempotencyConflict), (
                    f"{what}: a key reused for another request gave {describe(outcome)}"
                )
                assert first.id not in str(outcome)
                assert first.ticket not in str(outcome)
            return None
        reasons, target = self._ahead(
            channel, citizen, preferred, at=at, places=places, eligible=eligible
        )
        if reasons:
            self._check_refusal(what, outcome, reasons)
            self._check_limit(what, outcome, channel, citizen)
            if isinstance(outcome, QuotaExhausted):
                expected = self._next_available(channel, preferred)
                assert outcome.next_available == expected, (
                    f"{what}: next_available {outcome.next_available}, the model says {expected}"
                )
                assert outcome.alternatives == self._alternatives(channel), (
                    f"{what}: alternatives {outcome.alternatives}"
                )
            return None
        assert target is not None
        b = self._check_new(what, outcome, channel, target)
        assert b.citizen_ref == self.sched.citizen_ref(citizen)
        assert b.idempotency_key == key
        assert b.places == places, f"{what}: {b.places} places"
        m.add(
            Acked(
                b.id, channel, b.day, b.number, BOOKED, b.ticket, citizen, key, preferred,
                places, target.window, target.scopes, at,
            )
        )  # fmt: skip
        return b.id

    @rule(target=MachineBase.bookings, who=st.none() | st.integers(0, 63), places=st.integers(1, 3))
    def book_walk_in(self, who: int | None, places: int) -> Any:
        """Ask for a walk-in number, named or anonymous, maybe for a household: in its own
        places, or (from `takes_unused`'s time) in those online left unused today."""
        citizen = None if who is None else self._citizen(who)
        booked = self._book_walk_in(citizen, self._places(places))
        return multiple() if booked is None else booked

    @rule(
        target=MachineBase.bookings,
        who=st.lists(st.none() | st.integers(0, 63), min_size=2, max_size=6),
        places=st.integers(1, 3),
    )
    def book_walk_ins_in_a_row(self, who: list[int | None], places: int) -> Any:
        """Several walk-ins one after the other (the day fills up, then, from `takes_unused`'s
        time, online's unused places are taken)."""
        booked = [
            self._book_walk_in(None if w is None else self._citizen(w), self._places(places))
            for w in who
        ]
        return multiple(*(b for b in booked if b is not None))

    @rule(target=MachineBase.bookings, booking=MachineBase.bookings, channel=st.integers(0, 2))
    def book_for_a_holder(self, booking: str, channel: int) -> Any:
        """The citizen of an acknowledged booking asks for one more place, on a channel
        where they hold nothing yet if there is one (so that the office's limit over every
        channel is often reached; the channels' own limits are reached by the other rules)."""
        m = self.model
        citizen = m.bookings[booking].citizen
        if citizen is None:
            return multiple()
        today = self.today()
        names = [c for c in m.channels if not m.held(citizen, c, today)] or list(m.channels)
        name = names[channel % len(names)]
        if m.spec(name).same_day:
            booked = self._book_walk_in(citizen, 1)
        else:
            booked = self._book_ahead(name, citizen)
        return multiple() if booked is None else booked

    def _book_walk_in(self, citizen: str | None, places: int) -> str | None:
        """Ask for a walk-in number and check the outcome against the model; the new id."""
        m = self.model
        today = self.today()
        outcome: Outcome
        try:
            outcome = self.sched.book("walk_in", citizen, places=places)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"walk-in x{places} for {citizen} at {self.local_now()}"
        record("walk-in", outcome)
        reasons = self._walk_in(places, citizen)
        if reasons:
            # The order is part of the contract: the first true reason is the one given.
            self._check_refusal(what, outcome, {reasons[0]})
            self._check_limit(what, outcome, "walk_in", citizen)
            nxt = getattr(outcome, "next_available", None)
            if isinstance(outcome, DayClosed):
                assert nxt == m.next_open_after(today), f"{what}: come back {nxt}?"
            elif isinstance(outcome, OutsideServiceHours):
                before = self.local_now().time() < self.opens
                expected = today if before else m.next_open_after(today)
                assert nxt == expected, f"{what}: come back {nxt}, expected {expected}"
            elif isinstance(outcome, QuotaExhausted):
                ahead = [today + timedelta(days=i) for i in range(1, 61)]
                expected_day = m.first_room("walk_in", ahead)
                assert nxt == expected_day, f"{what}: come back {nxt}, expected {expected_day}"
                assert outcome.alternatives == self._alternatives("walk_in"), (
                    f"{what}: alternatives {outcome.alternatives}"
                )
            return None
        place = m.first_fit(self._same_day_places("walk_in"), places)
        assert place is not None
        b = self._check_new(what, outcome, "walk_in", place)
        if "c:walk_in" not in place.scopes:
            event("walk-in: took places online left unused")
        m.add(
            Acked(
                b.id, "walk_in", b.day, b.number, BOOKED, b.ticket, citizen, None,
                places=places, window=place.window, scopes=place.scopes,
            )
        )  # fmt: skip
        return b.id

    @precondition(lambda self: bool(self.model.keys))
    @rule(who=st.integers(0, 63), data=st.data())
    def retry_with_key(self, who: int, data: st.DataObject) -> None:
        """Retry a booking with a key used before: the same booking comes back (the same
        request, even without its claim), or `IdempotencyConflict` (another citizen)."""
        key = data.draw(st.sampled_from(sorted(self.model.keys)), label="retried key")
        acked = self.model.bookings[self.model.keys[key]]
        other = self._citizen(who)
        ask: dict[str, Any] = {
            "idempotency_key": key,
            "preferred_date": acked.preferred,
            "preferred_time": acked.preferred_time,
            "places": acked.places,
        }
        if other != acked.citizen:
            with pytest.raises(IdempotencyConflict):
                self.sched.book(acked.channel, other, **ask)
        assert acked.citizen is not None
        got = self.sched.book(acked.channel, acked.citizen, **ask)
        self._check_booking(got, acked)
        assert got == self.sched.get(acked.id), "the retry differs from the stored booking"
