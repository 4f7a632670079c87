"""CapacityCalendar: precedence, validation, rule caching, and a brute-force model."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest
from attrs.exceptions import FrozenInstanceError
from dateutil.rrule import DAILY, FR, MONTHLY, WEEKLY, YEARLY, rrule, rruleset
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_quota.capacity import CapacityCalendar
from queue_quota.errors import ConfigurationError

MON = date(2020, 6, 1)
FRI = date(2020, 6, 5)
LAST_FRIDAYS = rrule(MONTHLY, byweekday=FR(-1), dtstart=datetime(2020, 1, 1))


def refused(call: Any) -> ConfigurationError:
    """Run ``call`` and return the ConfigurationError it raises (failing if it does not)."""
    with pytest.raises(ConfigurationError) as info:
        call()
    assert info.value.code == "configuration_error"
    return info.value


class CountingRule(rrule):
    """An rrule that counts the calls of ``between`` (to check the per-year cache)."""

    calls = 0

    def between(self, *args: Any, **kwargs: Any) -> Any:
        """Count, then answer as rrule does."""
        CountingRule.calls += 1
        return super().between(*args, **kwargs)


def test_default_only() -> None:
    """Without overrides every day has the default."""
    cap = CapacityCalendar(20)
    assert cap.capacity_on(MON) == 20
    assert cap.capacity_on(date(1900, 1, 1)) == 20
    assert cap.default == 20
    assert CapacityCalendar(0).capacity_on(MON) == 0


def test_weekday_overrides() -> None:
    """Weekday numbers (0 = Monday) override the default."""
    cap = CapacityCalendar(20, weekdays={4: 10, 0: 25})
    assert cap.capacity_on(MON) == 25
    assert cap.capacity_on(MON + timedelta(days=1)) == 20
    assert cap.capacity_on(FRI) == 10
    assert cap.weekdays == {0: 25, 4: 10}


def test_precedence_date_rule_weekday_default() -> None:
    """A date beats a rule, which beats a weekday, which beats the default."""
    last_friday_june = date(2020, 6, 26)
    cap = CapacityCalendar(
        20,
        weekdays={4: 10},
        rules=[(LAST_FRIDAYS, 5)],
        dates={date(2020, 7, 31): 1},
    )
    assert cap.capacity_on(FRI) == 10  # a Friday, not the last one
    assert cap.capacity_on(last_friday_june) == 5
    assert cap.capacity_on(date(2020, 7, 31)) == 1  # last Friday of July, date wins
    assert cap.capacity_on(MON) == 20


def test_first_matching_rule_wins() -> None:
    """Among rules, the first one with an occurrence on the day wins."""
    fridays = rrule(WEEKLY, byweekday=FR, dtstart=datetime(2020, 1, 3))
    cap = CapacityCalendar(20, rules=[(LAST_FRIDAYS, 5), (fridays, 15)])
    assert cap.capacity_on(date(2020, 6, 26)) == 5
    assert cap.capacity_on(FRI) == 15
    other_order = CapacityCalendar(20, rules=[(fridays, 15), (LAST_FRIDAYS, 5)])
    assert other_order.capacity_on(date(2020, 6, 26)) == 15


def test_rule_occurrences_are_cached_per_year() -> None:
    """``between`` runs once per (rule, year), not on every lookup."""
    CountingRule.calls = 0
    rule = CountingRule(WEEKLY, byweekday=FR, dtstart=datetime(2020, 1, 3))
    cap = CapacityCalendar(20, rules=[(rule, 7)])
    for i in range(800):
        cap.capacity_on(date(2020, 1, 1) + timedelta(days=i))
    assert CountingRule.calls == 3  # 2020, 2021, 2022
    assert cap.capacity_on(date(2022, 3, 4)) == 7
    assert CountingRule.calls == 3


def test_rule_with_time_of_day_and_year_edges() -> None:
    """Occurrences count on their date, whatever their time, at year boundaries too."""
    new_year_eve = rrule(YEARLY, bymonth=12, bymonthday=31, dtstart=datetime(2019, 12, 31, 23, 30))
    new_year = rrule(YEARLY, bymonth=1, bymonthday=1, dtstart=datetime(2020, 1, 1, 0, 0))
    cap = CapacityCalendar(20, rules=[(new_year_eve, 3), (new_year, 4)])
    assert cap.capacity_on(date(2020, 12, 31)) == 3
    assert cap.capacity_on(date(2021, 1, 1)) == 4
    assert cap.capacity_on(date(2021, 1, 2)) == 20
    assert cap.capacity_on(date(2020, 12, 30)) == 20


def test_aware_rule() -> None:
    """A rule with an aware start counts on the date in its own zone."""
    jakarta = ZoneInfo("Asia/Jakarta")
    rule = rrule(DAILY, interval=7, count=10, dtstart=datetime(2020, 12, 28, 6, 0, tzinfo=jakarta))
    cap = CapacityCalendar(20, rules=[(rule, 2)])
    assert cap.capacity_on(date(2020, 12, 28)) == 2
    assert cap.capacity_on(date(2021, 1, 4)) == 2
    assert cap.capacity_on(date(2021, 1, 5)) == 20
    utc_rule = rrule(DAILY, count=3, dtstart=datetime(2020, 12, 31, tzinfo=UTC))
    assert CapacityCalendar(1, rules=[(utc_rule, 0)]).capacity_on(date(2021, 1, 2)) == 0


def test_rruleset() -> None:
    """An rruleset works as a rule, exclusions included."""
    rules = rruleset()
    rules.rrule(rrule(WEEKLY, byweekday=FR, dtstart=datetime(2020, 1, 3)))
    rules.exdate(datetime(2020, 6, 5))
    cap = CapacityCalendar(20, rules=[(rules, 9)])
    assert cap.capacity_on(FRI) == 20
    assert cap.capacity_on(date(2020, 6, 12)) == 9


def test_of() -> None:
    """``of`` turns a number into a calendar and returns a calendar as it is."""
    cap = CapacityCalendar.of(40)
    assert cap == CapacityCalendar(40)
    assert cap.capacity_on(MON) == 40
    assert CapacityCalendar.of(cap) is cap
    for bad in (True, -1, 2.5, "20", None):
        refused(lambda bad=bad: CapacityCalendar.of(bad))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((-1,), {}),
        ((True,), {}),
        ((20.0,), {}),
        (("20",), {}),
        ((20,), {"weekdays": {7: 10}}),
        ((20,), {"weekdays": {-1: 10}}),
        ((20,), {"weekdays": {True: 10}}),
        ((20,), {"weekdays": {"4": 10}}),
        ((20,), {"weekdays": {4: -10}}),
        ((20,), {"weekdays": {4: False}}),
        ((20,), {"weekdays": [10]}),
        ((20,), {"dates": {datetime(2020, 6, 1): 5}}),
        ((20,), {"dates": {"2020-06-01": 5}}),
        ((20,), {"dates": {MON: -5}}),
        ((20,), {"dates": {MON: True}}),
        ((20,), {"dates": [MON]}),
        ((20,), {"rules": [LAST_FRIDAYS]}),
        ((20,), {"rules": [(LAST_FRIDAYS, -1)]}),
        ((20,), {"rules": [(LAST_FRIDAYS, 1, 2)]}),
        ((20,), {"rules": [("FREQ=MONTHLY", 1)]}),
        ((20,), {"rules": (LAST_FRIDAYS, 5)}),
        ((20,), {"rules": {LAST_FRIDAYS: 5}}),
        ((20,), {"rules": "FREQ=DAILY"}),
    ],
)
def test_bad_inputs(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    """Negative or non-int numbers, bad weekdays, dates and rules are refused."""
    refused(lambda: CapacityCalendar(*args, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("day", [datetime(2020, 6, 1, 9), "2020-06-01", None, 20200601])
def test_capacity_on_refuses_non_dates(day: object) -> None:
    """``capacity_on`` takes a date, never a datetime."""
    refused(lambda: CapacityCalendar(20).capacity_on(day))  # type: ignore[arg-type]


def test_immutable_and_value_semantics() -> None:
    """Frozen; equal when built alike; hashable; copies are itself; a useful repr."""
    a = CapacityCalendar(20, weekdays={4: 10}, dates={MON: 0}, rules=[(LAST_FRIDAYS, 5)])
    b = CapacityCalendar(20, weekdays={4: 10}, dates={MON: 0}, rules=[(LAST_FRIDAYS, 5)])
    assert a == b
    assert hash(a) == hash(b)
    assert a != CapacityCalendar(20, weekdays={4: 10}, dates={MON: 0})
    assert a != CapacityCalendar(21, weekdays={4: 10}, dates={MON: 0}, rules=[(LAST_FRIDAYS, 5)])
    assert a != 20
    with pytest.raises(FrozenInstanceError):
        a._default = 3
    with pytest.raises(TypeError):
        a.weekdays[0] = 1  # type: ignore[index]
    assert copy.copy(a) is a
    assert copy.deepcopy(a) is a
    text = repr(a)
    assert text.startswith("CapacityCalendar(20, weekdays={4: 10}, dates={datetime.date(2020, 6")
    assert "FREQ=MONTHLY;BYDAY=-1FR" in text
    assert repr(CapacityCalendar(7)) == "CapacityCalendar(7)"
    assert a.rules == ((LAST_FRIDAYS, 5),)
    assert a.dates == {MON: 0}


def test_pickle_round_trip() -> None:
    """A capacity calendar survives pickling and answers the same."""
    cap = CapacityCalendar(20, weekdays={4: 10}, dates={MON: 0}, rules=[(LAST_FRIDAYS, 5)])
    again = pickle.loads(pickle.dumps(cap))
    for i in range(60):
        d = MON + timedelta(days=i)
        assert again.capacity_on(d) == cap.capacity_on(d)


# ------------------------------------------------------------------ the model

FREQS: tuple[Literal[0, 1, 2, 3, 4, 5, 6], ...] = (DAILY, WEEKLY, MONTHLY, YEARLY)


@st.composite
def bounded_rules(draw: st.DrawFn) -> rrule:
    """A finite rrule starting in 2019-2021, of at most 40 occurrences."""
    start = date(2019, 1, 1) + timedelta(days=draw(st.integers(0, 1000)))
    hour = draw(st.integers(0, 23))
    freq = draw(st.sampled_from(FREQS))
    kwargs: dict[str, Any] = {
        "dtstart": datetime(start.year, start.month, start.day, hour),
        "interval": draw(st.integers(1, 5)),
        "count": draw(st.integers(1, 40)),
    }
    if freq in (WEEKLY, MONTHLY) and draw(st.booleans()):
        kwargs["byweekday"] = draw(st.lists(st.integers(0, 6), min_size=1, max_size=3))
    return rrule(freq, **kwargs)


def model(
    default: int,
    weekdays: dict[int, int],
    dates: dict[date, int],
    rules: list[tuple[rrule, int]],
    d: date,
) -> int:
    """The contract, plainly: every occurrence of every rule, listed in full."""
    if d in dates:
        return dates[d]
    for rule, places in rules:
        if d in {occurrence.date() for occurrence in list(rule)}:
            return places
    return weekdays.get(d.weekday(), default)


counts = st.integers(0, 100)


@settings(max_examples=200, deadline=None)
@given(
    default=counts,
    weekdays=st.dictionaries(st.integers(0, 6), counts, max_size=7),
    dates=st.dictionaries(st.dates(date(2019, 1, 1), date(2024, 12, 31)), counts, max_size=10),
    rules=st.lists(st.tuples(bounded_rules(), counts), max_size=3),
    probes=st.lists(st.dates(date(2019, 1, 1), date(2024, 12, 31)), min_size=1, max_size=30),
)
def test_matches_model(
    default: int,
    weekdays: dict[int, int],
    dates: dict[date, int],
    rules: list[tuple[rrule, int]],
    probes: list[date],
) -> None:
    """For any overrides and bounded rules, capacity_on agrees with the plain model."""
    cap = CapacityCalendar(default, weekdays=weekdays, dates=dates, rules=rules)
    # probe the rules' own days too, where the interesting answers are
    extra = [occ.date() for rule, _ in rules for occ in list(rule)[:5]]
    for d in probes + extra:
        assert cap.capacity_on(d) == model(default, weekdays, dates, rules, d)
