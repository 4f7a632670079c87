"""The office, the extension points and the expectations of `SchedulerMachine`.

`MachineBase` holds what the rules share: the class attributes that shape the office (read
by the model as well, never the office's objects), the storage handles, and the helpers
that say what the model expects of a request (its true refusal reasons, where it should
go, when to come back).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import ClassVar, Self
from zoneinfo import ZoneInfo

from hypothesis import event
from hypothesis.stateful import Bundle, RuleBasedStateMachine

from ..calendar import WorkingCalendar
from ..capacity import CapacityCalendar
from ..counters import Pool, Session
from ..errors import (
    QueueQuotaError,
)
from ..models import Booking
from ..office import Office
from ..policies.base import QuotaPolicy
from ..policies.online import OnlineQuota
from ..policies.walk_in import WalkInQuota
from ..scheduler import Scheduler
from ..storage.base import Storage
from ..storage.memory import MemoryStorage
from ._model import BOOKED, Acked, ChannelSpec, Model, Place
from .clock import FrozenClock

__all__ = ["MachineBase", "Outcome", "Reasons", "describe", "record"]

Outcome = Booking | QueueQuotaError
Reasons = set[type[QueueQuotaError]]


def record(what: str, outcome: object) -> None:
    """Count outcomes for ``--hypothesis-show-statistics``."""
    event(f"{what}: {'booked' if isinstance(outcome, Booking) else type(outcome).__name__}")


def describe(outcome: object) -> str:
    """A booking or a refusal, for an assertion message."""
    if isinstance(outcome, Booking):
        return f"booking {outcome.id} on {outcome.day} #{outcome.number} ({outcome.status})"
    return f"{type(outcome).__name__}: {outcome}"


class MachineBase(RuleBasedStateMachine):
    """See `queue_quota.testing.SchedulerMachine` for the attributes."""

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
    counters: ClassVar[bool] = True
    online_capacity: ClassVar[int] = 3
    online_capacity_by_weekday: ClassVar[Mapping[int, int]] = {0: 4}
    online_sessions: ClassVar[tuple[tuple[time, time, int], ...]] = (
        (time(8), time(9), 2),
        (time(9), time(10), 2),
    )
    priority_capacity: ClassVar[int] = 3
    priority_claim: ClassVar[str] = "group"
    pool_name: ClassVar[str] = "loket"
    pool_capacity: ClassVar[int] = 4
    max_places: ClassVar[int] = 3
    walk_in_capacity: ClassVar[int] = 3
    lead_days: ClassVar[int] = 1
    horizon_days: ClassVar[int] = 10
    per_citizen: ClassVar[int] = 1
    office_per_citizen: ClassVar[int | None] = 2
    takes_unused: ClassVar[Mapping[str, time]] = {"online": time(10)}
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
            specs=self.channel_specs(),
            pools={self.pool_name: self.pool_capacity} if self.counters else {},
            office_per_citizen=self.office_per_citizen if self.counters else None,
            lead_days=self.lead_days,
            horizon_days=self.horizon_days,
        )
        self.first_day = self.today()
        self.sched = self._scheduler(self._open())

    def _promotions(self, what: str, days: list[date] | None) -> None:
        """After a change that freed places on ``days`` (``None``: anywhere): check what
        the waitlist was given in its transaction (the waitlist rules do; none here)."""

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
        """The office, built from the class attributes.

        With `counters` (the default): online with arrival windows, a claim-only priority
        channel, both under one pool, households of up to `max_places`, walk-ins that take
        online's unused places from `takes_unused`, and the office-wide `office_per_citizen`
        limit. Without: the 0.1 office (online and walk-in, one counter each, one place each).
        """
        calendar = WorkingCalendar(
            weekmask=self.weekmask, holidays=dict(self.holidays), tz=self.timezone
        )
        online = CapacityCalendar(self.online_capacity, weekdays=self.online_capacity_by_weekday)
        walk_in = WalkInQuota(
            self.walk_in_capacity,
            opens=self.opens,
            closes=self.closes,
            takes_unused=self.takes_unused if self.counters else {},
        )
        if not self.counters:
            plain = OnlineQuota(
                online,
                per_citizen=self.per_citizen,
                lead_days=self.lead_days,
                horizon_days=self.horizon_days,
            )
            return Office(self.office_id, calendar, [plain, walk_in])
        policies: list[QuotaPolicy] = [
            OnlineQuota(
                online,
                per_citizen=self.per_citizen,
                sessions=[Session(s, e, c) for s, e, c in self.online_sessions],
                max_places=self.max_places,
                lead_days=self.lead_days,
                horizon_days=self.horizon_days,
            ),
            OnlineQuota(
                self.priority_capacity,
                per_citizen=self.per_citizen,
                channel="priority",
                prefix="P",
                requires_claim=self.priority_claim,
                max_places=self.max_places,
                lead_days=self.lead_days,
                horizon_days=self.horizon_days,
            ),
            walk_in,
        ]
        pool = Pool(self.pool_name, self.pool_capacity, ["online", "priority"])
        return Office(
            self.office_id, calendar, policies, pools=[pool], per_citizen=self.office_per_citizen
        )

    def channel_specs(self) -> tuple[ChannelSpec, ...]:
        """The model's view of the channels, from the class attributes (not the office)."""
        unused = tuple(self.takes_unused.items()) if self.counters else ()
        walk_in = ChannelSpec(
            "walk_in", "B", self._walk_in_places, same_day=True, takes_unused=unused
        )
        if not self.counters:
            plain = ChannelSpec("online", "A", self._online_places, per_citizen=self.per_citizen)
            return (plain, walk_in)
        pools = (self.pool_name,)
        return (
            ChannelSpec(
                "online",
                "A",
                self._online_places,
                per_citizen=self.per_citizen,
                sessions=self.online_sessions,
                pools=pools,
            ),
            ChannelSpec(
                "priority",
                "P",
                lambda d: self.priority_capacity,
                per_citizen=self.per_citizen,
                pools=pools,
                claim=self.priority_claim,
            ),
            walk_in,
        )

    @classmethod
    def with_storage(
        cls, factory: Callable[[Self], Storage], *, name: str | None = None
    ) -> type[Self]:
        """A subclass whose `make_storage` is ``factory(machine)``.

        Example:
            ```python
            Machine = SchedulerMachine.with_storage(
                lambda m: SQLiteStorage(m.workdir / "db.sqlite3")
            )
            TestMachine = Machine.TestCase
            ```
        """

        def make_storage(self: Self) -> Storage:
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
        where = (got.places, got.window, sorted(got.charges or (f"c:{got.channel}",)))
        want = (acked.places, acked.window, sorted(acked.scopes))
        assert where == want, f"{got.id}: (places, window, charges) {where}, model {want}"
        prefix = self.model.spec(acked.channel).prefix
        assert got.label == f"{prefix}-{acked.number:03d}", got.label
        assert got.office_id == self.office_id

    def _check_refusal(self, what: str, outcome: Outcome, reasons: Reasons) -> None:
        """The outcome is a refusal of one of the kinds the model finds true."""
        allowed = sorted(r.__name__ for r in reasons)
        assert not isinstance(outcome, Booking), (
            f"{what}: got {describe(outcome)}, but the model refuses it ({allowed})"
        )
        assert type(outcome) in reasons, (
            f"{what}: got {describe(outcome)}, but the model allows only {allowed}"
        )

    def _check_new(self, what: str, outcome: Outcome, channel: str, place: Place) -> Booking:
        """The outcome is a new booking in ``place`` with the next number."""
        day = place.day
        assert isinstance(outcome, Booking), (
            f"{what}: refused with {describe(outcome)}, but the model has room on {day}"
            f" ({place.window})"
        )
        number = self.model.next_number(channel, day)
        got = (outcome.channel, outcome.day, outcome.window, outcome.number)
        assert got == (channel, day, place.window, number), (
            f"{what}: got {describe(outcome)} in {outcome.window}, the model expects"
            f" {channel} {day} {place.window} #{number}"
        )
        assert outcome.id not in self.model.bookings, f"{what}: booking id reused"
        assert outcome.status.value == BOOKED
        assert outcome.label == f"{self.model.spec(channel).prefix}-{number:03d}"
        charged = sorted(outcome.charges or (f"c:{channel}",))
        assert charged == sorted(place.scopes), (
            f"{what}: charged {charged}, but the model charges {sorted(place.scopes)}"
        )
        return outcome

    def _new_key(self) -> str:
        self._keys_made += 1
        return f"{self.run_id}-key-{self._keys_made}"
