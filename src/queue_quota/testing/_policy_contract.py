"""`PolicyContract`: what the scheduler relies on from every `QuotaPolicy`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ..calendar import WorkingCalendar
from ..errors import ConfigurationError, RefusalError
from ..models import Booking
from ..office import Office
from ..policies.base import BookingRequest, QuotaPolicy
from ..scheduler import Scheduler
from ..storage.memory import MemoryStorage

__all__ = ["PolicyContract"]

_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,4}$")

#: Local times tried on every sample day: midnight, around typical opening hours, the end.
SAMPLE_TIMES = (
    time(0, 0),
    time(7, 29, 59),
    time(7, 30),
    time(9, 0),
    time(12, 0),
    time(12, 0, 1),
    time(23, 59, 59),
)
#: Preferred dates tried, as offsets from "today" (``None``: the earliest day).
PREFERRED_OFFSETS: tuple[int | None, ...] = (None, -1, 0, 1, 2, 3, 5, 8, 13, 31, 61, 90, 400)


def default_policy_calendar() -> WorkingCalendar:
    """Monday to Friday in Jakarta, with the holidays of late May 2020 and a cuti bersama."""
    return WorkingCalendar(
        weekmask="1111100",
        holidays={
            date(2020, 5, 7): "Hari Raya Waisak",
            date(2020, 5, 21): "Kenaikan Isa Al Masih",
            date(2020, 5, 22): "Cuti Bersama",
            date(2020, 5, 25): "Hari Raya Idul Fitri",
            date(2020, 5, 26): "Hari kedua Idul Fitri",
            date(2020, 6, 1): "Hari Lahir Pancasila",
        },
        openings=[date(2020, 6, 13)],
        tz="Asia/Jakarta",
    )


def _moments(calendar: WorkingCalendar, days: Sequence[date]) -> Iterator[datetime]:
    tz = ZoneInfo(calendar.tz_name)
    for d in days:
        for t in SAMPLE_TIMES:
            yield datetime.combine(d, t, tz)


def _request(
    policy: QuotaPolicy,
    now: datetime,
    *,
    citizen_ref: str | None = "contract-citizen",
    preferred: date | None = None,
) -> BookingRequest:
    return BookingRequest(
        channel=policy.channel,
        now=now,
        today=now.date(),
        citizen_ref=citizen_ref,
        preferred_date=preferred,
    )


class PolicyContract:
    """The policy contract: inherit it and provide a ``policy`` fixture.

    Every custom `QuotaPolicy` must pass it: the `Scheduler` trusts these rules (it
    books a preferred date that ``admit`` accepted without asking the calendar again, and
    it caches ``candidate_days`` per channel and day).

    Example:
        ```python
        import pytest
        from queue_quota.testing import PolicyContract


        class TestSaturdayQuota(PolicyContract):
            @pytest.fixture
            def policy(self):
                return SaturdayQuota(capacity=15)
        ```

    Override ``policy_calendar`` (a `WorkingCalendar`) or ``policy_days`` (the "today"s
    tried, every one at several local times) to test against your own calendar.
    """

    @pytest.fixture
    def policy_calendar(self) -> WorkingCalendar:
        """The calendar the policy is checked against (Jakarta, May-June 2020 holidays)."""
        return default_policy_calendar()

    @pytest.fixture
    def policy_days(self) -> list[date]:
        """The days tried as "today": five weeks around Idul Fitri 2020."""
        return [date(2020, 5, 15) + timedelta(days=i) for i in range(36)]

    # -- identity ----------------------------------------------------------------------------

    def test_implements_the_quota_policy_protocol(self, policy: QuotaPolicy) -> None:
        """The policy is a `QuotaPolicy` with typed attributes."""
        assert isinstance(policy, QuotaPolicy)
        assert isinstance(policy.requires_citizen, bool)
        limit = policy.per_citizen
        assert limit is None or (type(limit) is int and limit >= 1)

    def test_channel_and_prefix_are_valid(
        self, policy: QuotaPolicy, policy_calendar: WorkingCalendar
    ) -> None:
        """The channel is a short lower-case name, the prefix 1-4 upper-case characters."""
        assert isinstance(policy.channel, str)
        assert _CHANNEL.match(policy.channel), policy.channel
        assert isinstance(policy.prefix, str)
        assert _PREFIX.match(policy.prefix), policy.prefix
        office = Office("policy-contract", policy_calendar, [policy])
        assert office.channels == (policy.channel,)

    # -- capacity and window ----------------------------------------------------------------

    def test_capacity_is_a_non_negative_int(
        self, policy: QuotaPolicy, policy_days: list[date]
    ) -> None:
        """``capacity_on`` is an ``int`` (not a bool) >= 0 on every day of a year."""
        start = policy_days[0]
        for i in range(400):
            cap = policy.capacity_on(start + timedelta(days=i))
            assert type(cap) is int, f"capacity_on returned {cap!r}"
            assert cap >= 0

    def test_booking_window_never_starts_in_the_past(
        self, policy: QuotaPolicy, policy_calendar: WorkingCalendar, policy_days: list[date]
    ) -> None:
        """``booking_window(today)`` returns two dates, the first not before today."""
        for today in policy_days:
            first, last = policy.booking_window(today, policy_calendar)
            assert type(first) is date
            assert type(last) is date
            assert first >= today

    def test_candidate_days_are_working_days_of_the_window_in_order(
        self, policy: QuotaPolicy, policy_calendar: WorkingCalendar, policy_days: list[date]
    ) -> None:
        """Candidates are distinct working days inside ``booking_window``, in ascending order."""
        for now in _moments(policy_calendar, policy_days):
            try:
                policy.admit(_request(policy, now), policy_calendar)
            except RefusalError:
                continue
            first, last = policy.booking_window(now.date(), policy_calendar)
            days = list(policy.candidate_days(_request(policy, now), policy_calendar))
            assert days == sorted(set(days)), f"not ascending/distinct on {now}: {days}"
            for d in days:
                assert type(d) is date
                assert first <= d <= last, f"{d} outside {first} .. {last} ({now})"
                assert policy_calendar.is_working_day(d), f"{d} is closed ({now})"

    def test_candidate_days_skip_closures(
        self, policy: QuotaPolicy, policy_calendar: WorkingCalendar, policy_days: list[date]
    ) -> None:
        """A day closed in the calendar given is refused by ``admit`` or not a candidate."""
        checked = 0
        for now in _moments(policy_calendar, policy_days[::3]):
            request = _request(policy, now)
            try:
                policy.admit(request, policy_calendar)
            except RefusalError:
                continue
            days = list(policy.candidate_days(request, policy_calendar))
            if not days:
                continue
            closed = policy_calendar.with_closures({days[0]: "contract closure"})
            checked += 1
            try:
                policy.admit(request, closed)
            except RefusalError:
                continue
            assert days[0] not in list(policy.candidate_days(request, closed)), now
        if checked == 0:
            pytest.skip("the policy offered no candidate day on any sample day")

    def test_candidate_days_depend_only_on_the_day(
        self, policy: QuotaPolicy, policy_calendar: WorkingCalendar, policy_days: list[date]
    ) -> None:
        """Candidates without a preferred date are the same at any hour and for any citizen."""
        for today in policy_days:
            seen = {
                tuple(
                    policy.candidate_days(_request(policy, now, citizen_ref=ref), policy_calendar)
                )
                for now in _moments(policy_calendar, [today])
                for ref in (None, "citizen-a", "citizen-b")
            }
            assert len(seen) == 1, f"candidates on {today} vary: {seen}"

    # -- admission ---------------------------------------------------------------------------

    def test_admit_raises_only_refusals_or_configuration_errors(
        self, policy: QuotaPolicy, policy_calendar: WorkingCalendar, policy_days: list[date]
    ) -> None:
        """``admit`` returns ``None`` or raises a `RefusalError` / `ConfigurationError`."""
        for now in _moments(policy_calendar, policy_days):
            for offset in PREFERRED_OFFSETS:
                preferred = None if offset is None else now.date() + timedelta(days=offset)
                for ref in (None, "citizen-a"):
                    request = _request(policy, now, citizen_ref=ref, preferred=preferred)
                    try:
                        policy.admit(request, policy_calendar)
                    except (RefusalError, ConfigurationError):
                        continue
                    except Exception as exc:
                        pytest.fail(f"admit raised {exc!r} (not a typed refusal) for {request}")

    def test_an_admitted_preferred_date_is_a_working_day_in_the_window(
        self, policy: QuotaPolicy, policy_calendar: WorkingCalendar, policy_days: list[date]
    ) -> None:
        """A preferred date that ``admit`` accepts is a working day inside the window."""
        for now in _moments(policy_calendar, policy_days):
            first, last = policy.booking_window(now.date(), policy_calendar)
            for offset in PREFERRED_OFFSETS:
                if offset is None:
                    continue
                preferred = now.date() + timedelta(days=offset)
                request = _request(policy, now, preferred=preferred)
                try:
                    policy.admit(request, policy_calendar)
                except (RefusalError, ConfigurationError):
                    continue
                assert first <= preferred <= last, f"{preferred} admitted on {now}"
                assert policy_calendar.is_working_day(preferred), f"{preferred} is closed"
                days = list(policy.candidate_days(request, policy_calendar))
                assert set(days) <= {preferred}, f"candidates for {preferred}: {days}"

    # -- in a scheduler ----------------------------------------------------------------------

    def test_books_through_a_scheduler(
        self, policy: QuotaPolicy, policy_calendar: WorkingCalendar, policy_days: list[date]
    ) -> None:
        """Through a `Scheduler`, a booking lands on a candidate day with the policy's label."""
        office = Office("policy-contract", policy_calendar, [policy])
        sched = Scheduler(office, MemoryStorage())
        booked = 0
        for i, now in enumerate(_moments(policy_calendar, policy_days)):
            request = _request(policy, now)
            try:
                b: Booking = sched.book(policy.channel, f"33280112345{i:05d}", now=now)
            except RefusalError:
                continue
            first, last = policy.booking_window(now.date(), policy_calendar)
            assert first <= b.day <= last
            assert b.day in list(policy.candidate_days(request, policy_calendar))
            assert b.number <= policy.capacity_on(b.day)
            assert b.label == f"{policy.prefix}-{b.number:03d}"
            booked += 1
        if booked == 0:
            pytest.skip("the policy admitted no request on any sample day")
