"""`SchedulerMachine`: a Hypothesis state machine that checks a storage through a Scheduler.

Hypothesis runs random sequences of bookings (online, with and without a preferred date
and an idempotency key, and walk-in), cancellations, reschedules, check-ins, day
closures, no-shows of ended days, retries, clock jumps (across the office's midnight and
its opening hours) and reopenings of the storage. After every step it compares what the
scheduler and the storage say with a deliberately naive model
(`queue_quota.testing._model`) of what was acknowledged:

* no day is over capacity, per channel, in availability and in manifests;
* every acknowledged booking is still there, with the day and number the model expects,
  and nothing else is;
* numbers are unique per (channel, day) and never given twice;
* a refusal is one the model agrees with: "full" only when every open day of the window
  is full (no false "full"), `AlreadyBooked` only when the citizen holds ``per_citizen``
  active bookings from today on, and so on;
* a retry with an idempotency key returns the same booking.

Subclass it and override `SchedulerMachine.make_storage` to check your own storage::

    class SQLiteMachine(SchedulerMachine):
        def make_storage(self):
            return SQLiteStorage(self.workdir / "machine.sqlite3")


    TestSQLiteMachine = SQLiteMachine.TestCase
    TestSQLiteMachine.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)

The office is small on purpose (2-3 places a day, a 10-day horizon, a cluster of holidays
at the start) so that days fill up and every kind of refusal happens.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from ..calendar import WorkingCalendar
from ..capacity import CapacityCalendar
from ..errors import (
    AlreadyBooked,
    ConfigurationError,
    DayClosed,
    IdempotencyConflict,
    InvalidTransition,
    OutsideBookingWindow,
    OutsideServiceHours,
    QueueQuotaError,
    QuotaExhausted,
)
from ..models import Booking
from ..office import Office
from ..policies.online import OnlineQuota
from ..policies.walk_in import WalkInQuota
from ..scheduler import Scheduler
from ..storage.base import Storage
from ..storage.memory import MemoryStorage
from ._model import ACTIVE, BOOKED, CANCELLED, CHECKED_IN, NO_SHOW, Acked, Model
from .clock import FrozenClock

__all__ = ["SchedulerMachine"]

_PREFIX = {"online": "A", "walk_in": "B"}
_Outcome = Booking | QueueQuotaError
_CLOCK_MOVES = (
    "minutes",
    "hours",
    "next_day",
    "before_midnight",
    "midnight",
    "opens",
    "before_closes",
    "after_closes",
)


def _event(what: str, outcome: object) -> None:
    """Count outcomes for ``--hypothesis-show-statistics``."""
    event(f"{what}: {'booked' if isinstance(outcome, Booking) else type(outcome).__name__}")


def _describe(outcome: object) -> str:
    if isinstance(outcome, Booking):
        return f"booking {outcome.id} on {outcome.day} #{outcome.number} ({outcome.status})"
    return f"{type(outcome).__name__}: {outcome}"


class SchedulerMachine(RuleBasedStateMachine):
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
        online_capacity: Online places a day, and per weekday (0 = Monday) overrides.
        walk_in_capacity: Walk-in numbers a day.
        lead_days: Working days between today and the first online day.
        horizon_days: Calendar days from today to the last online day.
        per_citizen: Active online bookings one citizen may hold.
        opens: When walk-in numbers start (local time).
        closes: When they stop (inclusive).
        citizens: The small pool of citizen ids the machine books for.
        secret: The scheduler's secret.
    """

    bookings: ClassVar[Bundle[str]] = Bundle("bookings")

    office_id: ClassVar[str] = "machine-office"
    timezone: ClassVar[str] = "Asia/Jakarta"
    weekmask: ClassVar[str] = "1111100"
    holidays: ClassVar[Mapping[date, str]] = {
        date(2020, 5, 21): "Kenaikan Isa Al Masih",
        date(2020, 5, 22): "Cuti Bersama",
        date(2020, 5, 25): "Hari Raya Idul Fitri",
        date(2020, 5, 26): "Hari kedua Idul Fitri",
        date(2020, 5, 27): "Cuti Bersama Idul Fitri",
        date(2020, 6, 1): "Hari Lahir Pancasila",
    }
    start: ClassVar[datetime] = datetime(2020, 5, 18, 23, 0, tzinfo=UTC)
    online_capacity: ClassVar[int] = 2
    online_capacity_by_weekday: ClassVar[Mapping[int, int]] = {0: 3}
    walk_in_capacity: ClassVar[int] = 2
    lead_days: ClassVar[int] = 1
    horizon_days: ClassVar[int] = 10
    per_citizen: ClassVar[int] = 1
    opens: ClassVar[time] = time(7, 30)
    closes: ClassVar[time] = time(12, 0)
    citizens: ClassVar[tuple[str, ...]] = (
        "3328011234560001",
        "3328014506900002",
        "3376025112850003",
        "3328100101010004",
        "3173054407990005",
        "3328016612000006",
        "3328024305880007",
        "3328020909090008",
        "3328031212120009",
        "3328035507770010",
        "3328040101800011",
        "3328046803950012",
    )
    secret: ClassVar[bytes] = b"queue-quota-machine-secret-0123"

    def __init__(self) -> None:
        super().__init__()
        #: A name unique to this run, usable as a file or schema name (``qq_run_<hex>``).
        self.run_id = f"qq_run_{uuid.uuid4().hex[:12]}"
        self._workdir: Path | None = None
        self._memory: MemoryStorage | None = None
        self._handles: list[Storage] = []
        self._closed: set[int] = set()
        self._zone = ZoneInfo(self.timezone)
        self._keys_made = 0
        self._closures_made = 0
        self.clock = FrozenClock(self.start)
        self.office = self.make_office()
        self.model = Model(
            weekmask=self.weekmask,
            holidays=frozenset(self.holidays),
            capacity={"online": self._online_places, "walk_in": self._walk_in_places},
            channels=("online", "walk_in"),
            lead_days=self.lead_days,
            horizon_days=self.horizon_days,
            per_citizen=self.per_citizen,
        )
        self.first_day = self.today()
        self.sched = self._scheduler(self._open())

    # -- extension points ------------------------------------------------------------------

    def make_storage(self) -> Storage:
        """A handle on this run's store; every call a handle on the **same** data.

        Called once when the run starts and again at every "reopen" step. Each run (each
        Hypothesis example) must start from an empty store: use `run_id` or `workdir`
        to keep runs apart. The default returns one `MemoryStorage` per run.
        """
        if self._memory is None:
            self._memory = MemoryStorage()
        return self._memory

    def cleanup(self) -> None:
        """Called at the end of a run, after every handle is closed (e.g. drop a schema)."""

    def make_office(self) -> Office:
        """The office, built from the class attributes."""
        calendar = WorkingCalendar(
            weekmask=self.weekmask, holidays=dict(self.holidays), tz=self.timezone
        )
        online = CapacityCalendar(self.online_capacity, weekdays=self.online_capacity_by_weekday)
        return Office(
            self.office_id,
            calendar,
            [
                OnlineQuota(
                    online,
                    lead_days=self.lead_days,
                    horizon_days=self.horizon_days,
                    per_citizen=self.per_citizen,
                ),
                WalkInQuota(self.walk_in_capacity, opens=self.opens, closes=self.closes),
            ],
        )

    @classmethod
    def with_storage(
        cls, factory: Callable[[SchedulerMachine], Storage], *, name: str | None = None
    ) -> type[SchedulerMachine]:
        """A subclass whose `make_storage` is ``factory(machine)``.

        Example:
            ```python
            Machine = SchedulerMachine.with_storage(
                lambda m: SQLiteStorage(m.workdir / "db.sqlite3")
            )
            TestMachine = Machine.TestCase
            ```
        """

        def make_storage(self: SchedulerMachine) -> Storage:
            return factory(self)

        made = type(name or f"{cls.__name__}WithStorage", (cls,), {"make_storage": make_storage})
        return made

    @property
    def workdir(self) -> Path:
        """A temporary directory for this run (created on first use, removed at the end)."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="qq-machine-"))
        return self._workdir

    def teardown(self) -> None:
        """Close every handle opened, call `cleanup`, remove `workdir`."""
        try:
            for handle in reversed(self._handles):
                if id(handle) not in self._closed:
                    self._closed.add(id(handle))
                    handle.close()
            self.cleanup()
        finally:
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------

    def _online_places(self, d: date) -> int:
        return self.online_capacity_by_weekday.get(d.weekday(), self.online_capacity)

    def _walk_in_places(self, d: date) -> int:
        return self.walk_in_capacity

    def _open(self) -> Storage:
        handle = self.make_storage()
        self._handles.append(handle)
        return handle

    def _scheduler(self, storage: Storage) -> Scheduler:
        return Scheduler(self.office, storage, secret=self.secret, clock=self.clock)

    def local_now(self) -> datetime:
        """The clock's reading in the office's zone."""
        return self.clock.now.astimezone(self._zone)

    def today(self) -> date:
        """The office's local date, by the model's own reckoning."""
        return self.local_now().date()

    def _in_hours(self) -> bool:
        return self.opens <= self.local_now().time() <= self.closes

    def _citizen(self, who: int) -> str:
        return self.citizens[who % len(self.citizens)]

    def _check_booking(self, got: Booking, acked: Acked) -> None:
        expected = (acked.id, acked.channel, acked.day, acked.number, acked.status, acked.ticket)
        seen = (got.id, got.channel, got.day, got.number, got.status.value, got.ticket)
        assert seen == expected, f"storage has {seen}, the model expects {expected}"
        assert got.label == f"{_PREFIX[acked.channel]}-{acked.number:03d}", got.label
        assert got.office_id == self.office_id

    def _check_refusal(
        self, what: str, outcome: _Outcome, reasons: set[type[QueueQuotaError]]
    ) -> None:
        """The outcome is a refusal of one of the kinds the model finds true."""
        allowed = sorted(r.__name__ for r in reasons)
        assert not isinstance(outcome, Booking), (
            f"{what}: got {_describe(outcome)}, but the model refuses it ({allowed})"
        )
        assert type(outcome) in reasons, (
            f"{what}: got {_describe(outcome)}, but the model allows only {allowed}"
        )

    def _check_new(self, what: str, outcome: _Outcome, channel: str, day: date) -> Booking:
        """The outcome is a new booking on ``day`` with the next number."""
        assert isinstance(outcome, Booking), (
            f"{what}: refused with {_describe(outcome)}, but the model has room on {day}"
        )
        number = self.model.next_number(channel, day)
        assert (outcome.channel, outcome.day, outcome.number) == (channel, day, number), (
            f"{what}: got {_describe(outcome)}, the model expects {channel} {day} #{number}"
        )
        assert outcome.id not in self.model.bookings, f"{what}: booking id reused"
        assert outcome.status.value == BOOKED
        assert outcome.label == f"{_PREFIX[channel]}-{number:03d}"
        return outcome

    def _online(
        self, today: date, citizen: str | None, preferred: date | None, moving: Acked | None
    ) -> tuple[set[type[QueueQuotaError]], date | None]:
        """The true refusal reasons of an online request, and the day it should get."""
        m = self.model
        earliest, latest = m.online_window(today)
        reasons: set[type[QueueQuotaError]] = set()
        if preferred is None:
            days = m.candidates("online", today)
        else:
            if not m.open(preferred):  # a closed day is closed, whatever the window
                reasons.add(DayClosed)
            elif not earliest <= preferred <= latest:
                reasons.add(OutsideBookingWindow)
            days = [] if reasons else [preferred]
        if (
            moving is None
            and citizen is not None
            and m.held(citizen, "online", today) >= self.per_citizen
        ):
            reasons.add(AlreadyBooked)
        skip = moving.day if moving is not None else None
        target = m.first_room("online", (d for d in days if d != skip))
        if target is None and (preferred is None or days):
            reasons.add(QuotaExhausted)
        return reasons, target

    def _walk_in(self, today: date) -> list[type[QueueQuotaError]]:
        """The true refusal reasons of a walk-in request, in the order they are checked."""
        m = self.model
        reasons: list[type[QueueQuotaError]] = []
        if not m.open(today):
            reasons.append(DayClosed)
        if not self._in_hours():
            reasons.append(OutsideServiceHours)
        if not m.has_room("walk_in", today):
            reasons.append(QuotaExhausted)
        return reasons

    def _online_alternative(self, today: date) -> dict[str, date]:
        day = self.model.first_room("online", self.model.candidates("online", today))
        return {} if day is None else {"online": day}

    def _walk_in_alternative(self, today: date) -> dict[str, date]:
        m = self.model
        if m.open(today) and self._in_hours() and m.has_room("walk_in", today):
            return {"walk_in": today}
        return {}

    # -- rules: start -----------------------------------------------------------------------

    @initialize(
        days=st.integers(0, 27),
        at=st.sampled_from(
            [time(6, 0), time(7, 30), time(9, 15), time(11, 59, 59), time(16, 0), time(23, 30)]
        ),
        working_day=st.booleans(),
    )
    def begin(self, days: int, at: time, working_day: bool) -> None:
        """Start ``days`` after `start` (on a working day, or not), at a local time."""
        first = self.start.astimezone(self._zone).date() + timedelta(days=days)
        if working_day and not self.model.working(first):
            first = self.model.next_open_after(first)
        self.clock.set(max(self.start, datetime.combine(first, at, self._zone)).astimezone(UTC))

    # -- rules: booking --------------------------------------------------------------------

    @rule(
        target=bookings,
        who=st.integers(0, 63),
        key_mode=st.sampled_from(["none", "new", "reuse"]),
        preferred=st.none() | st.integers(-2, 16) | st.just("a booked day"),
        data=st.data(),
    )
    def book_online(
        self, who: int, key_mode: str, preferred: int | str | None, data: st.DataObject
    ) -> Any:
        """Book online for a citizen of the pool, maybe on a preferred day, maybe with a key.

        The preferred day is an offset from today, or the day of an acknowledged booking
        (so that full preferred days are asked for).
        """
        m = self.model
        today = self.today()
        key: str | None = None
        if key_mode == "new":
            self._keys_made += 1
            key = f"{self.run_id}-key-{self._keys_made}"
        elif key_mode == "reuse" and m.keys:
            key = data.draw(st.sampled_from(sorted(m.keys)), label="reused key")
        pref: date | None = None
        if isinstance(preferred, int):
            pref = today + timedelta(days=preferred)
        elif preferred is not None and m.bookings:
            days = sorted({b.day for b in m.bookings.values()})
            pref = data.draw(st.sampled_from(days), label="preferred booked day")
        booked = self._book_online(self._citizen(who), key=key, preferred=pref)
        return multiple() if booked is None else booked

    @rule(target=bookings, who=st.integers(0, 63), count=st.integers(2, 10))
    def book_online_in_a_row(self, who: int, count: int) -> Any:
        """Several citizens of the pool book online one after the other (days fill up)."""
        booked = [self._book_online(self._citizen(who + i)) for i in range(count)]
        return multiple(*(b for b in booked if b is not None))

    def _book_online(
        self, citizen: str, *, key: str | None = None, preferred: date | None = None
    ) -> str | None:
        """Book online and check the outcome against the model; the new id, if any."""
        m = self.model
        today = self.today()
        pref = preferred
        outcome: _Outcome
        try:
            outcome = self.sched.book("online", citizen, idempotency_key=key, preferred_date=pref)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"book online for {citizen} on {today} (preferred {pref}, key {key})"
        _event("book online" + (" (preferred)" if pref else ""), outcome)
        if key is not None and key in m.keys:
            first = m.bookings[m.keys[key]]
            if (first.citizen, first.preferred) == (citizen, pref):
                assert isinstance(outcome, Booking), f"{what}: a retry was refused: {outcome!r}"
                self._check_booking(outcome, first)
            else:  # the key is bound to its first request: nothing booked, nothing shown
                assert isinstance(outcome, IdempotencyConflict), (
                    f"{what}: a key reused for another request gave {_describe(outcome)}"
                )
                assert first.id not in str(outcome)
                assert first.ticket not in str(outcome)
            return None
        reasons, target = self._online(today, citizen, pref, None)
        if reasons:
            self._check_refusal(what, outcome, reasons)
            if isinstance(outcome, QuotaExhausted):
                window = m.candidates("online", today)
                if pref is None:
                    expected = m.first_room("online", window)
                else:
                    expected = m.first_room("online", [d for d in window if d > pref])
                    expected = expected or m.first_room("online", [d for d in window if d < pref])
                assert outcome.next_available == expected, (
                    f"{what}: next_available {outcome.next_available}, the model says {expected}"
                )
                assert outcome.alternatives == self._walk_in_alternative(today), (
                    f"{what}: alternatives {outcome.alternatives}"
                )
            return None
        assert target is not None
        b = self._check_new(what, outcome, "online", target)
        assert b.citizen_ref == self.sched.citizen_ref(citizen)
        assert b.idempotency_key == key
        m.add(Acked(b.id, "online", b.day, b.number, BOOKED, b.ticket, citizen, key, pref))
        return b.id

    @rule(target=bookings, who=st.none() | st.integers(0, 63))
    def book_walk_in(self, who: int | None) -> Any:
        """Ask for a walk-in number, named or anonymous."""
        m = self.model
        today = self.today()
        citizen = None if who is None else self._citizen(who)
        outcome: _Outcome
        try:
            outcome = self.sched.book("walk_in", citizen)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"walk-in at {self.local_now()}"
        _event("walk-in", outcome)
        reasons = self._walk_in(today)
        if reasons:
            # The order is part of the contract: the first true reason is the one given.
            self._check_refusal(what, outcome, {reasons[0]})
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
                assert outcome.alternatives == self._online_alternative(today), (
                    f"{what}: alternatives {outcome.alternatives}"
                )
            return multiple()
        b = self._check_new(what, outcome, "walk_in", today)
        m.add(Acked(b.id, "walk_in", b.day, b.number, BOOKED, b.ticket, citizen, None))
        return b.id

    @precondition(lambda self: bool(self.model.keys))
    @rule(who=st.integers(0, 63), data=st.data())
    def retry_with_key(self, who: int, data: st.DataObject) -> None:
        """Retry a booking with a key used before: the same booking comes back (the same
        request), or `IdempotencyConflict` (another citizen)."""
        key = data.draw(st.sampled_from(sorted(self.model.keys)), label="retried key")
        acked = self.model.bookings[self.model.keys[key]]
        other = self._citizen(who)
        if other != acked.citizen:
            with pytest.raises(IdempotencyConflict):
                self.sched.book("online", other, idempotency_key=key)
        assert acked.citizen is not None
        got = self.sched.book(
            "online", acked.citizen, idempotency_key=key, preferred_date=acked.preferred
        )
        self._check_booking(got, acked)
        assert got == self.sched.get(acked.id), "the retry differs from the stored booking"

    # -- rules: changes --------------------------------------------------------------------

    @rule(booking=bookings)
    def cancel(self, booking: str) -> None:
        """Cancel a booking: allowed while it is booked and its day has not passed."""
        acked = self.model.bookings[booking]
        today = self.today()
        outcome: _Outcome
        try:
            outcome = self.sched.cancel(booking)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"cancel {booking} ({acked.status} on {acked.day}) on {today}"
        _event("cancel", outcome)
        if acked.status != BOOKED or acked.day < today:
            self._check_refusal(what, outcome, {InvalidTransition})
            return
        assert isinstance(outcome, Booking), f"{what}: refused with {outcome!r}"
        acked.status = CANCELLED
        self._check_booking(outcome, acked)

    @rule(booking=bookings, by_ticket=st.booleans(), todays=st.booleans(), data=st.data())
    def check_in(self, booking: str, by_ticket: bool, todays: bool, data: st.DataObject) -> None:
        """Check in, by ticket or id: allowed once, on the booking's day.

        With ``todays``, a booking for today is taken when there is one.
        """
        today = self.today()
        on_today = [b.id for b in self.model.on_day(today)]
        if todays and on_today:
            booking = data.draw(st.sampled_from(on_today), label="booking for today")
        acked = self.model.bookings[booking]
        outcome: _Outcome
        try:
            outcome = self.sched.check_in(acked.ticket if by_ticket else booking)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"check in {booking} ({acked.status} on {acked.day}) on {today}"
        _event("check-in", outcome)
        if acked.status != BOOKED or acked.day != today:
            self._check_refusal(what, outcome, {InvalidTransition})
            return
        assert isinstance(outcome, Booking), f"{what}: refused with {outcome!r}"
        acked.status = CHECKED_IN
        self._check_booking(outcome, acked)

    @rule(booking=bookings, preferred=st.none() | st.integers(-2, 16))
    def reschedule(self, booking: str, preferred: int | None) -> None:
        """Move a booking to the earliest other day with room, or to a preferred day."""
        m = self.model
        acked = m.bookings[booking]
        today = self.today()
        pref = None
        if preferred is not None and acked.channel == "online":
            pref = today + timedelta(days=preferred)
        outcome: _Outcome
        try:
            outcome = self.sched.reschedule(booking, preferred_date=pref)
        except QueueQuotaError as exc:
            outcome = exc
        what = f"reschedule {booking} ({acked.status} on {acked.day}) on {today} to {pref}"
        _event("reschedule", outcome)
        reasons: set[type[QueueQuotaError]] = set()
        if acked.status != BOOKED or acked.day < today or pref == acked.day:
            reasons.add(InvalidTransition)
        if acked.channel == "online":
            more, target = self._online(today, acked.citizen, pref, acked)
            reasons |= more
        else:
            reasons |= set(self._walk_in(today)) - {QuotaExhausted}
            days = m.candidates("walk_in", today)
            target = m.first_room("walk_in", (d for d in days if d != acked.day))
            if target is None and days:
                reasons.add(QuotaExhausted)
        if reasons:
            self._check_refusal(what, outcome, reasons)
            return
        assert target is not None
        assert isinstance(outcome, Booking), f"{what}: refused with {outcome!r}"
        number = m.next_number(acked.channel, target)
        assert (outcome.id, outcome.ticket) == (acked.id, acked.ticket)
        m.move(acked, target, number)
        self._check_booking(outcome, acked)

    @rule(offset=st.integers(0, 12))
    def close_day(self, offset: int) -> None:
        """Close a day at run time: its bookings move, in order, to the next days with room."""
        self._close(self.today() + timedelta(days=offset))

    @rule(booking=bookings)
    def close_a_booked_day(self, booking: str) -> None:
        """Close the day of an acknowledged booking (unless that day has passed)."""
        d = self.model.bookings[booking].day
        if d >= self.today():
            self._close(d)

    def _close(self, d: date) -> None:
        self._closures_made += 1
        reason = f"machine closure {self._closures_made}"
        trial = self.model.copy()
        expected = trial.close(d, reason)
        moved = self.sched.close_day(d, reason)
        got = [(b.id, b.day, b.number) for b in moved]
        assert got == expected, f"close {d}: moved {got}, the model expects {expected}"
        event(f"close day: moved {'none' if not got else 'some'}")
        self.model = trial
        for b in moved:
            self._check_booking(b, trial.bookings[b.id])

    @rule(booking=bookings)
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
        expected = [b for b in m.on_day(d) if b.status == BOOKED]
        got = [b.id for b in outcome]
        want = [b.id for b in expected]
        assert got == want, f"{what}: marked {got}, the model expects {want}"
        event(f"mark no-shows: marked {'none' if not got else 'some'}")
        for acked, b in zip(expected, outcome, strict=True):
            acked.status = NO_SHOW
            self._check_booking(b, acked)

    # -- rules: time and storage -----------------------------------------------------------

    @rule(how=st.sampled_from(_CLOCK_MOVES), amount=st.integers(1, 240))
    def advance_clock(self, how: str, amount: int) -> None:
        """Move the clock forward: minutes, hours, a day, or to a local boundary of the day."""
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

    @rule(booking=bookings, at=st.sampled_from([time(7, 30), time(10, 0), time(23, 59)]))
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

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def acknowledged_bookings_are_kept(self) -> None:
        """Every acknowledged booking is there, where the model says, ticket verifiable."""
        for acked in self.model.bookings.values():
            self._check_booking(self.sched.verify_ticket(acked.ticket), acked)

    @invariant()
    def days_agree_with_the_model_and_capacity(self) -> None:
        """Availability matches the model's counts, and no day is over capacity."""
        m = self.model
        last = max((b.day for b in m.bookings.values()), default=self.first_day)
        start = min(self.first_day, self.today())
        end = max(self.today() + timedelta(days=self.horizon_days + 3), last + timedelta(days=1))
        for channel in m.channels:
            for a in self.sched.availability(channel, start, end):
                cap = m.capacity[channel](a.day)
                n = m.active(channel, a.day)
                assert a.booked == n, f"{channel} {a.day}: booked {a.booked}, model {n}"
                assert a.booked <= cap, f"{channel} {a.day} is overbooked: {a}"
                if m.open(a.day):
                    assert (a.capacity, a.remaining, a.closed_reason) == (cap, cap - n, None), a
                else:
                    assert (a.capacity, a.remaining) == (0, 0), a
                    assert a.closed_reason, a
                    if a.day in m.closures:
                        assert a.closed_reason == m.closures[a.day], a

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
            assert sum(1 for b in full if b.status.value in ACTIVE) <= sum(
                m.capacity[c](d) for c in m.channels
            )

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
        """The advertised next online day is the model's first day with room."""
        today = self.today()
        expected = self.model.first_room("online", self.model.candidates("online", today))
        got = self.sched.next_available("online")
        assert got == expected, f"next_available on {today}: {got}, the model says {expected}"
