"""`SchedulerMachine`: a Hypothesis state machine that checks a storage through a Scheduler.

Hypothesis runs random sequences of bookings (online with arrival windows, a claim-only
priority channel sharing a pool with online, walk-ins that from 10:00 may also take the
places online left unused today; households of 1-3 places; with and without a preferred
date, session, claim or idempotency key; citizens who already hold bookings on other
channels, up to the office-wide limit), cancellations, reschedules,
check-ins, day closures, no-shows of ended days (and citizens who miss their day), lifted
suspensions, joins and leaves of the online waitlist, promotions, days reopened (holidays
opened at run time), retries, clock jumps (across the office's
midnight and its opening hours) and reopenings of the storage. After every step it
compares what the scheduler and the storage say with a deliberately naive model
(`queue_quota.testing._model`) of what was acknowledged:

* every counter (a channel's day, a session, the pool) equals the places of its active
  bookings and none is over its capacity, in availability, in the storage's counters (if
  it offers ``counter_use``) and in manifests;
* every acknowledged booking is still there, with the day, window, number, places and
  charged counters the model expects, and nothing else is (nothing lost, nothing twice);
* numbers are unique per (channel, day) and never given twice;
* a refusal is one the model agrees with: "full" only when no candidate has room for the
  places asked in every counter it needs (no false "full", also while a walk-in could take
  a place online left unused today), `AlreadyBooked` exactly when the citizen holds
  ``per_citizen`` active bookings from today on on the channel (naming it) or
  ``office_per_citizen`` over every channel (``channel=None``), `NotEligible` only
  without the claim, `Suspended` (with the model's ``until``) exactly when a citizen's
  no-shows of the window since their last lift reach the limit on a channel booked ahead
  and the policy admits the request, never for a walk-in or a move, and so on;
* a walk-in that takes online's unused places charges online's day and pool, not the
  walk-in's, and still gets the next walk-in number;
* every change that frees places (a cancel, a reschedule, a closed or reopened day, a
  ``promote_waitlist``) gives them, in its own transaction, to exactly the entries the
  model promotes (joining order, the entry's until, window and places), each once, with
  the entry's id and ticket; entries past ``until`` leave; a join is refused exactly when
  the model says (``has_room``, a limit an entry also counts for, a suspension);
* a retry with an idempotency key returns the same booking.

Subclass it and override `SchedulerMachine.make_storage` to check your own storage::

    class SQLiteMachine(SchedulerMachine):
        def make_storage(self):
            return SQLiteStorage(self.workdir / "machine.sqlite3")


    TestSQLiteMachine = SQLiteMachine.TestCase
    TestSQLiteMachine.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)

A storage that keeps one counter per booking (no ``supports_counters``) sets
``counters = False``: the office is then the 0.1 one (online and walk-in, one place each).

The office is small on purpose (3-4 online places a day in two sessions of 2, 3 priority
places, a pool of 4 over both, 3 walk-in places, 2 active bookings per citizen in the
office, a 10-day horizon, a cluster of holidays at the start) so that days, sessions and
the pool fill up and every kind of refusal happens.

The model's "come back on" answers (``next_available`` of a full walk-in day, a walk-in
among a refusal's ``alternatives``) count the walk-in's own places only, as the
scheduler's advisory reads do, not the unused places of other channels.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis.stateful import invariant

from ._machine_waitlist import WaitlistRules
from ._model import ACTIVE, CANCELLED

__all__ = ["SchedulerMachine"]


class SchedulerMachine(WaitlistRules):
    """Random operations on a `Scheduler`, checked against a model after every step.

    Override `make_storage` to run it on your storage; by default it uses one
    `MemoryStorage` per run. The class attributes below shape the office (the model reads
    the same attributes, never the office's objects).

    Attributes:
        office_id: The office's id.
        timezone: The office's IANA zone (its midnight is where "today" changes).
        weekmask: Working days, Monday first.
        holidays: The office calendar's holidays.
        start: The earliest first reading of the clock (06:00 WIB, Tuesday 19 May 2020, two
            days before eight closed days in nine); each run starts 0-27 days later, at one
            of several local times.
        counters: The capacity model's office (sessions, a pool, a claim-only channel,
            households, unused places, the office limit); ``False``: the 0.1 office, for
            storages without counters.
        online_capacity: Online places a day, and per weekday (0 = Monday) overrides.
        online_sessions: ``(start, end, capacity)`` of online's arrival windows.
        priority_capacity: Places a day of the ``priority`` channel.
        priority_claim: The claim ``priority`` requires.
        pool_name: The pool over ``online`` and ``priority``.
        pool_capacity: Its places a day.
        max_places: The largest household online and priority take.
        walk_in_capacity: Walk-in places a day.
        lead_days: Working days between today and the first online day.
        horizon_days: Calendar days from today to the last online day.
        per_citizen: Active bookings one citizen may hold per channel booked ahead.
        office_per_citizen: Active bookings one citizen may hold over every channel of
            the office (`Office.per_citizen`; only with `counters`).
        takes_unused: ``{channel: local time}``: from then, walk-ins may also take the
            places that channel left unused today (`WalkInQuota.takes_unused`; only with
            `counters`).
        opens: When walk-in numbers start (local time).
        closes: When they stop (inclusive).
        sanctions: Channel booked ahead -> ``(no_show_limit, no_show_window_days,
            suspension_days)`` of its `OnlineQuota`; ``{}`` for a storage that keeps no
            sanctions (``supports_sanctions``).
        waitlists: Whether to run the waitlist and opening rules (they are skipped anyway
            on a storage without ``supports_waitlist``).
        citizens: The small pool of citizen ids the machine books for.
        secret: The scheduler's secret.
    """

    @invariant()
    def acknowledged_bookings_are_kept(self) -> None:
        """Every acknowledged booking is there, where the model says, ticket verifiable."""
        for acked in self.model.bookings.values():
            self._check_booking(self.sched.verify_ticket(acked.ticket), acked)

    def _span(self) -> tuple[date, date]:
        m = self.model
        last = max((b.day for b in m.bookings.values()), default=self.first_day)
        start = min(self.first_day, self.today())
        end = max(self.today() + timedelta(days=self.horizon_days + 3), last + timedelta(days=1))
        return start, end

    @invariant()
    def days_agree_with_the_model_and_capacity(self) -> None:
        """Availability matches the model's counts per day and session, net of the pool,
        and no day is over capacity."""
        m = self.model
        start, end = self._span()
        for spec in m.specs:
            channel = spec.name
            for a in self.sched.availability(channel, start, end):
                cap = spec.capacity(a.day)
                n = m.active(channel, a.day)
                assert a.booked == n, f"{channel} {a.day}: booked {a.booked}, model {n}"
                assert a.booked <= cap, f"{channel} {a.day} is overbooked: {a}"
                if not m.open(a.day):
                    assert (a.capacity, a.remaining) == (0, 0), a
                    assert a.closed_reason, a
                    if a.day in m.closures:
                        assert a.closed_reason == m.closures[a.day], a
                    continue
                left, rows = m.remaining(channel, a.day)
                assert (a.capacity, a.remaining, a.closed_reason) == (cap, left, None), (
                    f"{channel} {a.day}: {a}, the model has {left} left"
                )
                got = [(s.capacity, s.booked, s.remaining) for s in a.sessions]
                assert got == rows, f"{channel} {a.day} sessions {got}, the model {rows}"
                windows = [(s.start, s.end) for s in a.sessions]
                assert windows == [(s, e) for s, e, _ in spec.sessions], windows

    @invariant()
    def counters_equal_the_places_of_their_bookings(self) -> None:
        """Every counter the storage keeps (day, session, pool) equals the places its
        active bookings hold, and none is over its capacity."""
        reader = getattr(self.sched.storage, "counter_use", None)
        if reader is None:  # a storage without counters: availability is all there is
            return
        m = self.model
        start, end = self._span()
        for scope, cap in sorted(m.scopes()):
            stored = reader(self.office_id, scope, start, end)
            days = [start + timedelta(days=i) for i in range((end - start).days)]
            expected = {d: m.used(scope, d) for d in days if m.used(scope, d)}
            assert {d: n for d, n in stored.items() if n} == expected, (
                f"counter {scope}: storage {stored}, the model {expected}"
            )
            for d, n in stored.items():
                limit = cap if cap >= 0 else m.spec(scope[2:]).capacity(d)
                assert n <= limit, f"counter {scope} on {d} is over capacity: {n} > {limit}"

    @invariant()
    def manifests_agree_with_the_model(self) -> None:
        """Each day's manifest lists exactly the model's bookings, numbers unique per channel."""
        m = self.model
        for d in sorted({b.day for b in m.bookings.values()}):
            full = self.sched.manifest(d, include_cancelled=True)
            seen = [(b.id, b.number, b.status.value) for b in full]
            expected = [(b.id, b.number, b.status) for b in m.on_day(d)]
            assert seen == expected, f"manifest of {d}: {seen}, the model expects {expected}"
            for channel in m.channels:
                nums = [b.number for b in full if b.channel == channel]
                assert len(nums) == len(set(nums)), f"{channel} {d} repeats a number: {nums}"
            active = [b.id for b in self.sched.manifest(d)]
            assert active == [b.id for b in m.on_day(d) if b.status != CANCELLED]
            taken = sum(b.places for b in full if b.status.value in ACTIVE)
            assert taken <= sum(s.capacity(d) for s in m.specs)

    @invariant()
    def keys_and_closures_agree_with_the_model(self) -> None:
        """Every idempotency key finds its booking; the closures are the model's."""
        storage = self.sched.storage
        for key, booking_id in self.model.keys.items():
            found = storage.find_by_key(self.office_id, key)
            assert found is not None, f"key {key} is lost"
            assert found.id == booking_id, f"key {key} finds {found}"
        assert self.sched.closures() == self.model.closures

    @invariant()
    def next_available_agrees_with_the_model(self) -> None:
        """The advertised next day of every channel booked ahead is the model's first day
        with room."""
        today = self.today()
        for spec in self.model.specs:
            if spec.same_day:
                continue
            days = self.model.window_days(spec.name, today)
            expected = self.model.first_room(spec.name, days)
            got = self.sched.next_available(spec.name)
            assert got == expected, (
                f"next_available({spec.name}) on {today}: {got}, the model says {expected}"
            )
