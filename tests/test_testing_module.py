"""`queue_quota.testing`: its public names, its helpers, and proof that its checks can fail."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

import queue_quota as qq
import queue_quota.testing
from queue_quota.models import Booking, Reservation
from queue_quota.policies import BookingRequest, OnlineQuota
from queue_quota.storage import ChannelMove, MemoryStorage
from queue_quota.testing import FrozenClock, SchedulerMachine
from queue_quota.testing import strategies as qst

pytest_plugins = ["pytester"]

WIB = ZoneInfo("Asia/Jakarta")
QUICK = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- the public surface --------------------------------------------------------------------


def test_public_names() -> None:
    """`queue_quota.testing.__all__` lists exactly the shipped helpers, all importable."""
    assert set(queue_quota.testing.__all__) == {
        "FrozenClock",
        "PolicyContract",
        "SchedulerMachine",
        "StorageContract",
        "StorageFactory",
        "strategies",
    }
    for name in queue_quota.testing.__all__:
        assert getattr(queue_quota.testing, name) is not None
    assert set(qst.__all__) >= {
        "aware_datetimes",
        "capacity_calendars",
        "citizen_ids",
        "offices",
        "weekmasks",
        "working_calendars",
    }
    for name in qst.__all__:
        assert getattr(qst, name) is not None


def test_contract_methods_all_have_one_line_docstrings() -> None:
    """Every contract test has a one-line docstring (it is the failure's explanation)."""
    from queue_quota.testing import PolicyContract, StorageContract

    for suite in (StorageContract, PolicyContract):
        tests = [n for n in dir(suite) if n.startswith("test_")]
        assert len(tests) >= (40 if suite is StorageContract else 9)
        for name in tests:
            doc = getattr(suite, name).__doc__ or ""
            assert doc.strip(), f"{suite.__name__}.{name} has no docstring"
            assert "\n" not in doc.strip(), f"{suite.__name__}.{name}: not one line"


# -- FrozenClock ---------------------------------------------------------------------------


def test_frozen_clock_reads_sets_and_advances() -> None:
    """The clock returns its reading until set or advanced, by a timedelta or keywords."""
    clock = FrozenClock(datetime(2020, 6, 4, 16, 0, tzinfo=UTC))
    assert clock() == clock.now == datetime(2020, 6, 4, 16, 0, tzinfo=UTC)
    assert clock.advance(timedelta(minutes=59), seconds=59) == datetime(
        2020, 6, 4, 16, 59, 59, tzinfo=UTC
    )
    assert clock.advance(seconds=1) == datetime(2020, 6, 4, 17, 0, tzinfo=UTC)
    assert clock.set(datetime(2020, 1, 1, tzinfo=WIB)) == clock()
    assert clock.advance(days=-1).date() == date(2019, 12, 31)
    assert "2019-12-31" in repr(clock)
    assert FrozenClock().now.tzinfo is not None


def test_frozen_clock_refuses_naive_datetimes() -> None:
    """A naive start or reading is a ConfigurationError, as everywhere in queue_quota."""
    with pytest.raises(qq.ConfigurationError):
        FrozenClock(datetime(2020, 6, 4, 9, 0))
    clock = FrozenClock()
    with pytest.raises(qq.ConfigurationError):
        clock.set(datetime(2020, 6, 4, 9, 0))
    with pytest.raises(qq.ConfigurationError):
        clock.advance(5)  # type: ignore[arg-type]


def test_frozen_clock_advances_elapsed_time_across_dst() -> None:
    """Advancing moves elapsed time: one hour over a DST change is one real hour."""
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2020, 3, 29, 1, 30, tzinfo=berlin)
    clock = FrozenClock(start)
    after = clock.advance(hours=1)
    assert after.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=1)
    assert (after.hour, after.minute, after.tzinfo) == (3, 30, berlin)


def test_frozen_clock_drives_the_scheduler_across_wib_midnight() -> None:
    """A scheduler with the clock sees "today" change at 17:00 UTC (midnight WIB)."""
    clock = FrozenClock(datetime(2020, 6, 4, 16, 59, 59, tzinfo=UTC))
    office = qq.Office("o", qq.WorkingCalendar(tz="Asia/Jakarta"), [OnlineQuota(5, lead_days=1)])
    sched = qq.Scheduler(office, clock=clock)
    assert sched.today() == date(2020, 6, 4)
    assert sched.book("online", "3328011234560001").day == date(2020, 6, 5)
    clock.advance(seconds=1)
    assert sched.today() == date(2020, 6, 5)
    assert sched.book("online", "3328011234560002").day == date(2020, 6, 8)


# -- strategies ----------------------------------------------------------------------------


@QUICK
@given(qst.aware_datetimes("Asia/Makassar", min_day=date(2024, 1, 1), max_day=date(2024, 1, 31)))
def test_aware_datetimes_are_aware_local_and_in_range(now: datetime) -> None:
    """Drawn datetimes are aware, in the zone asked for, on the days asked for."""
    assert now.tzinfo == ZoneInfo("Asia/Makassar")
    assert now.utcoffset() == timedelta(hours=8)
    assert date(2024, 1, 1) <= now.date() <= date(2024, 1, 31)


def test_aware_datetimes_reach_both_sides_of_local_midnight() -> None:
    """The strategy produces the last microsecond before and the first instant of a day."""
    strategy = qst.aware_datetimes(min_day=date(2020, 6, 1), max_day=date(2020, 6, 30))
    before = find(strategy, lambda dt: dt.time() >= time(23, 59, 59))
    after = find(strategy, lambda dt: dt.time() == time(0))
    assert before.tzinfo == after.tzinfo == WIB
    as_utc = find(qst.aware_datetimes(as_utc=True), lambda dt: dt.hour == 17 and dt.minute == 0)
    assert as_utc.tzinfo == UTC


@QUICK
@given(qst.citizen_ids())
def test_citizen_ids_look_like_a_nik(nik: str) -> None:
    """Citizen ids are 16 digits: region, birth date (day + 40 for women), serial."""
    assert re.fullmatch(r"\d{16}", nik)
    day, month = int(nik[6:8]), int(nik[8:10])
    assert 1 <= (day - 40 if day > 40 else day) <= 31
    assert 1 <= month <= 12
    assert nik[12:] != "0000"


@QUICK
@given(qst.weekmasks(names=None))
def test_weekmasks_are_accepted_by_working_calendar(weekmask: str) -> None:
    """Every drawn weekmask builds a calendar with at least one working day a week."""
    cal = qq.WorkingCalendar(weekmask=weekmask)
    assert "1" in cal.weekmask


@QUICK
@given(qst.capacity_calendars(max_capacity=7), st.dates(date(2019, 1, 1), date(2026, 12, 31)))
def test_capacity_calendars_give_small_non_negative_numbers(
    cap: qq.CapacityCalendar, d: date
) -> None:
    """Capacities stay within ``0 .. max_capacity``."""
    assert 0 <= cap.capacity_on(d) <= 7


@QUICK
@given(qst.offices(), qst.aware_datetimes(min_day=date(2020, 1, 1), max_day=date(2020, 12, 31)))
def test_offices_run_in_a_scheduler(office: qq.Office, now: datetime) -> None:
    """A drawn office books or refuses with a typed refusal, and local "today" is right."""
    sched = qq.Scheduler(office)
    assert sched.today(now=now) == now.astimezone(office.calendar.tz).date()
    for channel in office.channels:
        try:
            b = sched.book(channel, "3328011234560001", now=now)
        except qq.RefusalError:
            continue
        assert office.calendar.is_working_day(b.day)
        assert b.day >= sched.today(now=now)


# -- broken storages and policies: the checks must fail ------------------------------------


def _shifted(reservation: Reservation, by: int) -> Reservation:
    """The reservation with every counter's capacity moved by ``by``."""
    candidates = [
        attrs.evolve(
            c, charges=tuple(attrs.evolve(ch, capacity=ch.capacity + by) for ch in c.charges)
        )
        for c in reservation.all_candidates()
    ]
    return attrs.evolve(reservation, candidates=candidates, candidates_key=None, slots=())


def _lifted(reservation: Reservation, prefix: str, by: int) -> Reservation:
    """The reservation with the capacity of the counters named ``prefix...`` moved by ``by``."""
    candidates = [
        attrs.evolve(
            c,
            charges=tuple(
                attrs.evolve(ch, capacity=ch.capacity + by) if ch.scope.startswith(prefix) else ch
                for ch in c.charges
            ),
        )
        for c in reservation.all_candidates()
    ]
    return attrs.evolve(reservation, candidates=candidates, candidates_key=None, slots=())


class PoolIgnoringStorage(MemoryStorage):
    """A take that charges the pool but never checks its room."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve as if every pool were endless."""
        return super().reserve(_lifted(reservation, "p:", 1000))


class SessionIgnoringStorage(MemoryStorage):
    """A take that charges the session but never checks its room."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve as if every session were endless."""
        return super().reserve(_lifted(reservation, "s:", 1000))


class PoolFalseFullStorage(MemoryStorage):
    """Says "full" when a pool has exactly the room asked for."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve with every pool's capacity lowered by one."""
        return super().reserve(_lifted(reservation, "p:", -1))


class SessionForgettingStorage(MemoryStorage):
    """A cancel that gives the places back to the day and the pool but not the session."""

    def cancel(self, office_id: str, booking_id: str, *, not_before: date, **kw: Any) -> Booking:
        """Cancel, then take the session's places again."""
        cancelled = super().cancel(office_id, booking_id, not_before=not_before, **kw)
        sessions = [s for s in cancelled.charges if s.startswith("s:")]
        end = cancelled.day + timedelta(days=1)
        with self.primitives.transaction(office_id, write=True) as tx:
            rows = tx.counters(sessions, cancelled.day, end)
            tx.put_counters(
                {k: attrs.evolve(row, used=row.used + cancelled.places) for k, row in rows.items()}
            )
        return cancelled


class OnePlaceStorage(MemoryStorage):
    """Records a household's places on the booking but takes one unit from each counter."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Take one place, then write the places asked for on the booking."""
        booked = super().reserve(attrs.evolve(reservation, places=1))
        if booked.places == reservation.places:
            return booked
        fixed = attrs.evolve(booked, places=reservation.places)
        with self.primitives.transaction(reservation.office_id, write=True) as tx:
            tx.put_booking(fixed, new=False)
        return fixed


class OverbookingStorage(MemoryStorage):
    """Off by one: lets one booking more than the capacity onto every day."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve with every counter's capacity raised by one."""
        return super().reserve(_shifted(reservation, +1))


class NumberReusingStorage(MemoryStorage):
    """Gives a cancelled booking's number to the next booking of the day."""

    def cancel(self, office_id: str, booking_id: str, *, not_before: date, **kw: Any) -> Booking:
        """Cancel, then hand the number back."""
        cancelled = super().cancel(office_id, booking_id, not_before=not_before, **kw)
        key = (f"c:{cancelled.channel}", cancelled.day)
        with self.primitives.transaction(office_id, write=True) as tx:
            row = tx.counters([key[0]], key[1], key[1] + timedelta(days=1))[key]
            tx.put_counters({key: attrs.evolve(row, last=row.last - 1)})
        return cancelled


class HalfClosingStorage(MemoryStorage):
    """Closes a day and moves bookings one by one, without rolling back on failure."""

    def close_day(
        self,
        office_id: str,
        day: date,
        reason: str,
        moves: Mapping[str, ChannelMove],
        *,
        now: datetime,
        **kw: Any,
    ) -> list[Booking]:
        """Record the closure first, then move; a failure leaves what was done."""
        if day in self.closures(office_id):
            return []
        super().close_day(office_id, day, reason, {}, now=now, **kw)
        moved = []
        for channel, how in moves.items():
            for b in self.bookings_on(office_id, day, channel):
                if b.status is qq.BookingStatus.BOOKED:
                    moved.append(self.move(office_id, b.id, how.slots, prefix=how.prefix))
        return moved


class FalseFullStorage(MemoryStorage):
    """Says "full" one place early on every day."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve with every counter's capacity lowered by one."""
        return super().reserve(_shifted(reservation, -1))


def _unused_candidates(reservation: Reservation) -> list[int]:
    """Indexes of the candidates that take another channel's unused places (they do not
    charge the reservation's own channel)."""
    own = f"c:{reservation.channel}"
    return [
        i
        for i, c in enumerate(reservation.all_candidates())
        if all(ch.scope != own for ch in c.charges)
    ]


class UnusedUnchargedStorage(MemoryStorage):
    """A walk-in that takes online's unused places charges online's pool, not its day."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve with the other channel's day counter left out of unused-places takes."""
        candidates = list(reservation.all_candidates())
        for i in _unused_candidates(reservation):
            c = candidates[i]
            kept = tuple(ch for ch in c.charges if not ch.scope.startswith("c:"))
            candidates[i] = attrs.evolve(c, charges=kept)
        return super().reserve(
            attrs.evolve(reservation, candidates=candidates, candidates_key=None, slots=())
        )


class UnusedIgnoringStorage(MemoryStorage):
    """Never lets a walk-in take online's unused places: "full" while they are free."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve over the channel's own candidates only."""
        skip = set(_unused_candidates(reservation))
        candidates = [c for i, c in enumerate(reservation.all_candidates()) if i not in skip]
        return super().reserve(
            attrs.evolve(reservation, candidates=candidates, candidates_key=None, slots=())
        )


class OfficeLimitIgnoringStorage(MemoryStorage):
    """Enforces each channel's per-citizen limit but not the office's."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve as if the office had no limit."""
        return super().reserve(attrs.evolve(reservation, office_per_citizen=None))


class OfficeLimitMisnamingStorage(MemoryStorage):
    """Refuses at the office's limit, but names the channel (as if its own limit were hit)."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve; an office-limit refusal is re-raised as the channel's."""
        try:
            return super().reserve(reservation)
        except qq.AlreadyBooked as exc:
            if exc.channel is not None:
                raise
            raise qq.AlreadyBooked(channel=reservation.channel, limit=exc.limit) from None


class WeekendPolicy(OnlineQuota):
    """Offers every day of the window, weekends and holidays included."""

    def candidate_days(
        self, request: BookingRequest, calendar: qq.WorkingCalendar
    ) -> Iterable[date]:
        """Every calendar day of the window."""
        first, last = self.booking_window(request.today, calendar)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class CrashingPolicy(OnlineQuota):
    """Raises a bare KeyError for a preferred date in the past."""

    def admit(self, request: BookingRequest, calendar: qq.WorkingCalendar) -> None:
        """Fail with an untyped error on a past preferred date."""
        if request.preferred_date is not None and request.preferred_date < request.today:
            raise KeyError(request.preferred_date)
        super().admit(request, calendar)


_CONTRACT_RUN = """
import pytest
from queue_quota.storage import MemoryStorage
from queue_quota.testing import PolicyContract, StorageContract
from queue_quota.policies import OnlineQuota
from test_testing_module import (
    CrashingPolicy, FalseFullStorage, HalfClosingStorage, NumberReusingStorage,
    OverbookingStorage, WeekendPolicy,
)

STORAGES = {
    "good": MemoryStorage, "overbooking": OverbookingStorage, "reusing": NumberReusingStorage,
    "half_closing": HalfClosingStorage, "false_full": FalseFullStorage,
}
POLICIES = {"good": lambda: OnlineQuota(5), "weekend": lambda: WeekendPolicy(5),
            "crashing": lambda: CrashingPolicy(5)}


class TestStorages(StorageContract):
    @pytest.fixture(params=sorted(STORAGES))
    def storage_factory(self, request):
        shared = STORAGES[request.param]()
        return lambda: shared


class TestPolicies(PolicyContract):
    @pytest.fixture(params=sorted(POLICIES))
    def policy(self, request):
        return POLICIES[request.param]()
"""


_OUTCOMES: dict[str, str] = {}


@pytest.fixture
def contract_outcomes(pytester: pytest.Pytester) -> dict[str, str]:
    """Both contract suites run once on good and broken objects: test id -> outcome."""
    if not _OUTCOMES:
        pytester.makepyfile(test_broken=_CONTRACT_RUN)
        result = pytester.runpytest_inprocess("-q", "-rA", "--tb=no", "-p", "no:cacheprovider")
        for line in result.outlines:
            m = re.match(r"^(PASSED|FAILED|ERROR|SKIPPED) \S*?::(\S+)", line)
            if m:
                _OUTCOMES[m.group(2)] = m.group(1)
    return _OUTCOMES


def _failed(outcomes: dict[str, str], cls: str, param: str) -> set[str]:
    return {
        name.split("[")[0].split("::")[-1]
        for name, outcome in outcomes.items()
        if name.startswith(f"{cls}::") and name.endswith(f"[{param}]") and outcome != "PASSED"
    }


def test_good_objects_pass_the_contracts(contract_outcomes: dict[str, str]) -> None:
    """MemoryStorage and OnlineQuota pass every contract test in the inner run."""
    assert len(contract_outcomes) > 100
    assert _failed(contract_outcomes, "TestStorages", "good") == set()
    assert _failed(contract_outcomes, "TestPolicies", "good") == set()


@pytest.mark.parametrize(
    ("param", "must_fail"),
    [
        (
            "overbooking",
            {"test_capacity_is_exactly_respected", "test_threads_never_overbook_a_hot_day"},
        ),
        ("reusing", {"test_numbers_are_not_reused_after_cancel"}),
        ("half_closing", {"test_close_day_that_cannot_place_everything_writes_nothing"}),
        (
            "false_full",
            {"test_capacity_is_exactly_respected", "test_reserve_skips_full_slots_in_order"},
        ),
    ],
)
def test_storage_contract_catches_broken_storages(
    contract_outcomes: dict[str, str], param: str, must_fail: set[str]
) -> None:
    """Each deliberately broken storage fails the contract tests aimed at its bug."""
    failed = _failed(contract_outcomes, "TestStorages", param)
    assert must_fail <= failed, f"{param} passed {sorted(must_fail - failed)}"


@pytest.mark.parametrize(
    ("param", "must_fail"),
    [
        ("weekend", {"test_candidate_days_are_working_days_of_the_window_in_order"}),
        ("crashing", {"test_admit_raises_only_refusals_or_configuration_errors"}),
    ],
)
def test_policy_contract_catches_broken_policies(
    contract_outcomes: dict[str, str], param: str, must_fail: set[str]
) -> None:
    """Each deliberately broken policy fails the contract tests aimed at its bug."""
    failed = _failed(contract_outcomes, "TestPolicies", param)
    assert must_fail <= failed, f"{param} passed {sorted(must_fail - failed)}"


HUNT = settings(
    max_examples=300,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


#: How the machine says what is wrong: a booking where the model expects another, a refusal
#: while the model has room, a booking the model refuses, a refusal of another kind, moves
#: of a closed day the model does not expect, a counter off its bookings, a take charging
#: other counters than the model's, a per-citizen refusal naming the wrong limit, or a
#: stored booking (its number, day, status) other than the model's.
_WRONG = (
    r"got booking \w+ on .* the model expects|refused with \w+: .* but the model has room"
    r"|but the model refuses it|but the model allows only|moved .* the model expects"
    r"|counter \S+: storage .* the model|over capacity"
    r"|charged .* but the model charges|AlreadyBooked.* but the model reached"
    r"|storage has \(.*\), the model expects"
)


# HalfClosingStorage is left to the contract: the machine's closures always find room.
@pytest.mark.parametrize(
    "storage",
    [NumberReusingStorage, OverbookingStorage, FalseFullStorage],
    ids=["reuses-numbers", "overbooks", "false-full"],
)
def test_machine_finds_bugs_in_broken_storages(storage: type[MemoryStorage]) -> None:
    """The state machine fails on a storage with a known bug, naming the wrong booking."""
    runs: dict[str, MemoryStorage] = {}
    machine = SchedulerMachine.with_storage(lambda m: runs.setdefault(m.run_id, storage()))
    with pytest.raises(AssertionError, match=_WRONG):
        run_state_machine_as_test(machine, settings=HUNT)


@pytest.mark.parametrize(
    "storage",
    [
        PoolIgnoringStorage,
        SessionIgnoringStorage,
        PoolFalseFullStorage,
        SessionForgettingStorage,
        OnePlaceStorage,
    ],
    ids=[
        "take-ignores-pool",
        "take-ignores-session",
        "pool-false-full",
        "cancel-keeps-session",
        "household-takes-one",
    ],
)
def test_machine_finds_bugs_in_broken_counter_storages(storage: type[MemoryStorage]) -> None:
    """The state machine fails, saying which counter or refusal is wrong, on a storage with
    a capacity-model bug: a take that ignores a pool or a session, a false "full" on a
    pool, a cancel that forgets the session, a household that takes one place."""
    runs: dict[str, MemoryStorage] = {}
    machine = SchedulerMachine.with_storage(lambda m: runs.setdefault(m.run_id, storage()))
    with pytest.raises(AssertionError, match=_WRONG):
        run_state_machine_as_test(machine, settings=HUNT)


@pytest.mark.parametrize(
    ("storage", "says"),
    [
        (
            UnusedUnchargedStorage,
            r"charged \['p:loket'\], but the model charges \['c:online', 'p:loket'\]"
            r"|counter c:online: storage|walk-in .* but the model refuses it",
        ),
        (UnusedIgnoringStorage, r"walk-in .* refused with QuotaExhausted: .* the model has room"),
        (
            OfficeLimitIgnoringStorage,
            r"but the model refuses it \(\['AlreadyBooked'\]\)"
            r"|but the model allows only \['AlreadyBooked'\]",
        ),
        (
            OfficeLimitMisnamingStorage,
            r"AlreadyBooked\('\w+', 2\), but the model reached \{\(None, 2\)\}",
        ),
    ],
    ids=[
        "unused-take-skips-online-day",
        "unused-never-taken",
        "office-limit-ignored",
        "office-limit-named-as-channel",
    ],
)
def test_machine_finds_bugs_in_unused_places_and_the_office_limit(
    storage: type[MemoryStorage], says: str
) -> None:
    """The state machine fails, naming the wrong take or refusal, on a storage where a
    walk-in takes online's unused places without charging online's day (or never takes
    them: a false "full"), or the office-wide per-citizen limit is not enforced (or its
    refusal names the channel's limit instead of the office's)."""
    runs: dict[str, MemoryStorage] = {}
    machine = SchedulerMachine.with_storage(lambda m: runs.setdefault(m.run_id, storage()))
    with pytest.raises(AssertionError, match=says):
        run_state_machine_as_test(machine, settings=HUNT)


def test_machine_passes_on_memory_storage() -> None:
    """The same hunt finds nothing on the real MemoryStorage (the failures above are real)."""
    run_state_machine_as_test(SchedulerMachine, settings=settings(HUNT, max_examples=30))


def test_machine_with_storage_names_the_subclass() -> None:
    """``with_storage`` makes a SchedulerMachine subclass that uses the factory."""
    made: list[SchedulerMachine] = []

    def factory(machine: SchedulerMachine) -> MemoryStorage:
        made.append(machine)
        return MemoryStorage()

    cls = SchedulerMachine.with_storage(factory, name="MyMachine")
    assert cls.__name__ == "MyMachine"
    assert issubclass(cls, SchedulerMachine)
    machine = cls()
    try:
        assert made == [machine]
        assert isinstance(machine.sched.storage, MemoryStorage)
        assert re.fullmatch(r"qq_run_[0-9a-f]{12}", machine.run_id)
        assert machine.workdir.is_dir()
    finally:
        machine.teardown()
    assert not machine.workdir.exists()


class SanctionIgnoringStorage(MemoryStorage):
    """Books a citizen with too many no-shows as if the channel had no sanction."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve without the no-show limit."""
        return super().reserve(attrs.evolve(reservation, no_show_limit=None))


class SanctionStretchingStorage(MemoryStorage):
    """Suspends one day longer than the policy says."""

    def reserve(self, reservation: Reservation) -> Booking:
        """Reserve with one more day of suspension."""
        days = reservation.suspension_days + 1
        return super().reserve(attrs.evolve(reservation, suspension_days=days))


@pytest.mark.parametrize(
    ("storage", "says"),
    [
        (SanctionIgnoringStorage, r"but the model (?:refuses it \(|allows only )\['Suspended'\]"),
        (
            SanctionStretchingStorage,
            r"refused with Suspended: .* but the model has room|but the model allows only"
            r"|until \S+, model",
        ),
    ],
    ids=["sanction-ignored", "suspension-too-long"],
)
def test_machine_finds_bugs_in_no_show_sanctions(storage: type[MemoryStorage], says: str) -> None:
    """The state machine fails on a storage that books a suspended citizen, or keeps one
    suspended a day too long, naming the refusal the model expects."""
    runs: dict[str, MemoryStorage] = {}
    machine = SchedulerMachine.with_storage(lambda m: runs.setdefault(m.run_id, storage()))
    with pytest.raises(AssertionError, match=says):
        run_state_machine_as_test(machine, settings=HUNT)
