"""A Hypothesis state machine for the waitlist and `reopen_day` on a calendar holiday,
against a deliberately naive model: random bookings, cancels, joins, leaves, promotions and
openings of a holiday; after every step the storage's bookings, counters and line equal
the model's (promotion in joining order, an entry promoted once, no counter over capacity,
an entry holding a place for the per-citizen limit)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.policies import OnlineQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage

NOW = wib(2020, 8, 13, 9)  # Thursday; the window is Fri 14 .. Wed 19 (Mon 17 a holiday)
HOLIDAY = date(2020, 8, 17)
WINDOW = [date(2020, 8, 14), date(2020, 8, 18), date(2020, 8, 19)]  # working days, in order
CAPACITY = 2
CITIZENS = [f"33280112345{i:05d}" for i in range(12)]


@attrs.define
class Entry:
    id: str
    citizen: str
    places: int
    until: date


class WaitlistMachine(RuleBasedStateMachine):
    """Subclasses choose the storage."""

    def make_storage(self, workdir: Path) -> qq.storage.Storage:
        return MemoryStorage()

    @initialize()
    def begin(self) -> None:
        self.workdir = Path(tempfile.mkdtemp())
        office = qq.Office(
            id="machine",
            calendar=qq.WorkingCalendar.indonesia(),
            policies=[
                OnlineQuota(capacity=CAPACITY, lead_days=1, horizon_days=6, per_citizen=1),
            ],
        )
        self.storage = self.make_storage(self.workdir)
        self.sched = qq.Scheduler(office, self.storage, secret=SECRET)
        self.days = list(WINDOW)  # the open days of the window, in order
        self.booked: dict[str, tuple[str, date, int]] = {}  # id -> citizen, day, places
        self.line: list[Entry] = []
        self.seq = 0

    def teardown(self) -> None:
        if hasattr(self, "storage"):
            self.storage.close()

    # -- the model ---------------------------------------------------------------------

    def used(self, d: date) -> int:
        return sum(p for _, day, p in self.booked.values() if day == d)

    def first_room(self, places: int, until: date | None = None) -> date | None:
        for d in sorted(self.days):
            if (until is None or d <= until) and self.used(d) + places <= CAPACITY:
                return d
        return None

    def holds(self, citizen: str) -> bool:
        return any(c == citizen for c, _, _ in self.booked.values()) or any(
            e.citizen == citizen for e in self.line
        )

    def promote(self, days: list[date]) -> list[str]:
        """The model's pass: entries in joining order onto the first of ``days`` that fits."""
        done: list[str] = []
        for e in list(self.line):
            for d in sorted(days):
                if d <= e.until and self.used(d) + e.places <= CAPACITY:
                    self.booked[e.id] = (e.citizen, d, e.places)
                    self.line.remove(e)
                    done.append(e.id)
                    break
        return done

    # -- rules -------------------------------------------------------------------------

    @rule(who=st.sampled_from(CITIZENS), places=st.integers(1, 2))
    def book(self, who: str, places: int) -> None:
        expected = None if self.holds(who) else self.first_room(places)
        try:
            b = self.sched.book("online", who, now=NOW, places=places)
        except qq.AlreadyBooked:
            assert self.holds(who)
            return
        except qq.QuotaExhausted:
            assert expected is None
            return
        assert not self.holds(who)
        assert b.day == expected
        self.booked[b.id] = (who, b.day, places)

    @precondition(lambda self: bool(self.booked))
    @rule(pick=st.integers(0, 1000))
    def cancel(self, pick: int) -> None:
        bid = list(self.booked)[pick % len(self.booked)]
        day = self.booked.pop(bid)[1]
        before = self.tail()
        self.sched.cancel(bid, now=NOW)
        assert self.promoted_since(before) == self.promote([day])

    @rule(who=st.sampled_from(CITIZENS), places=st.integers(1, 2), until=st.sampled_from(WINDOW))
    def join(self, who: str, places: int, until: date) -> None:
        room = self.first_room(places, until)
        try:
            entry = self.sched.join_waitlist("online", who, now=NOW, places=places, until=until)
        except qq.AlreadyBooked:
            assert self.holds(who)
            return
        except qq.InvalidTransition as exc:
            refused = (exc.reason, exc.day)
        else:
            refused = None
        if refused is not None:
            assert not self.holds(who)
            assert refused == ("has_room", room)
            return
        assert not self.holds(who)
        assert room is None
        self.line.append(Entry(entry.id, who, places, until))
        assert entry.position == len(self.line)

    @precondition(lambda self: bool(self.line))
    @rule(pick=st.integers(0, 1000))
    def leave(self, pick: int) -> None:
        e = self.line[pick % len(self.line)]
        self.sched.leave_waitlist(e.id, now=NOW)
        self.line.remove(e)

    @rule()
    def promote_waitlist(self) -> None:
        done = self.sched.promote_waitlist(now=NOW)
        assert [b.id for b in done] == self.promote(self.days)

    @precondition(lambda self: HOLIDAY not in self.days)
    @rule()
    def open_the_holiday(self) -> None:
        before = self.tail()
        self.sched.reopen_day(HOLIDAY, now=NOW)
        self.days.append(HOLIDAY)
        assert self.promoted_since(before) == self.promote([HOLIDAY])

    def tail(self) -> int:
        """The last seq of the log (read from where the machine last looked)."""
        page = self.sched.events(after=self.seq, limit=1000)
        while page:
            self.seq = page[-1].seq
            page = self.sched.events(after=self.seq, limit=1000)
        return self.seq

    def promoted_since(self, before: int) -> list[str | None]:
        return [e.booking_id for e in self.sched.events(after=before) if e.kind == "promoted"]

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def the_storage_holds_what_the_model_holds(self) -> None:
        if not hasattr(self, "sched"):
            return
        for d in [*WINDOW, HOLIDAY]:
            got = {b.id: (b.day, b.places) for b in self.sched.manifest(d)}
            want = {i: (day, p) for i, (_, day, p) in self.booked.items() if day == d}
            assert got == want
            assert sum(p for _, p in got.values()) <= CAPACITY
        line = self.sched.waitlist("online", now=NOW)
        assert [(e.id, e.places, e.until) for e in line] == [
            (e.id, e.places, e.until) for e in self.line
        ]
        assert [e.position for e in line] == list(range(1, len(line) + 1))
        assert not set(self.booked) & {e.id for e in self.line}  # promoted once, never twice


class SQLiteWaitlistMachine(WaitlistMachine):
    def make_storage(self, workdir: Path) -> qq.storage.Storage:
        return SQLiteStorage(workdir / "machine.sqlite3")


_SETTINGS = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestWaitlistMachine = WaitlistMachine.TestCase
TestWaitlistMachine.settings = _SETTINGS
TestSQLiteWaitlistMachine = SQLiteWaitlistMachine.TestCase
TestSQLiteWaitlistMachine.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None
)
