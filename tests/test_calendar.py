"""WorkingCalendar: unit tests, precedence, time zones, laziness, and numpy as an oracle."""

from __future__ import annotations

import copy
import pickle
import random
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pytest
from attrs.exceptions import FrozenInstanceError
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_quota.calendar import WorkingCalendar
from queue_quota.errors import ConfigurationError

MON, TUE, WED, THU, FRI, SAT, SUN = (date(2020, 6, 1) + timedelta(days=i) for i in range(7))
# 2020-06-01 is a Monday (and Hari Lahir Pancasila in Indonesia).
ONE = timedelta(days=1)


def closed_error(call: Callable[[], object]) -> ConfigurationError:
    """Run ``call`` and return the ConfigurationError it raises (failing if it does not)."""
    with pytest.raises(ConfigurationError) as info:
        call()
    assert info.value.code == "configuration_error"
    assert isinstance(info.value, ValueError)
    return info.value


def days(start: date, end: date) -> Iterable[date]:
    """Every date in ``[start, end)``."""
    return (start + timedelta(days=i) for i in range((end - start).days))


# ------------------------------------------------------------------ construction


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        ("1111100", "1111100"),
        ("Mon Tue Wed Thu Fri", "1111100"),
        ("mon tue wed thu fri sat", "1111110"),
        ("Sat,Sun", "0000011"),
        ("SunMonTue", "1100001"),
        (" 0000001 ", "0000001"),
        ([1, 1, 1, 1, 1, 0, 0], "1111100"),
        ((True, False, True, False, True, False, True), "1010101"),
    ],
)
def test_weekmask_forms(mask: object, expected: str) -> None:
    """Weekmasks are accepted as 0/1 strings, weekday names or seven 0/1 values."""
    assert WorkingCalendar(weekmask=mask).weekmask == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "mask",
    [
        "111110",
        "11111000",
        "1111102",
        "0000000",
        "",
        "Mon Mon",
        "Funday",
        "Mo Tu",
        "Monday",
        1111100,
        [1, 1, 1],
        [1, 1, 1, 1, 1, 0, 2],
        b"1111100",
        None,
    ],
)
def test_bad_weekmask(mask: object) -> None:
    """A malformed weekmask (length, characters, names, no day at all) is refused."""
    closed_error(lambda: WorkingCalendar(weekmask=mask))  # type: ignore[arg-type]


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "  ", None, 7, "../etc/passwd", "Asia"])
def test_bad_time_zone(tz: object) -> None:
    """An unknown or malformed time zone is refused."""
    closed_error(lambda: WorkingCalendar(tz=tz))  # type: ignore[arg-type]


def test_time_zone_properties() -> None:
    """``tz`` is a ZoneInfo and ``tz_name`` its IANA name; a ZoneInfo is accepted too."""
    cal = WorkingCalendar(tz="Asia/Makassar")
    assert cal.tz == ZoneInfo("Asia/Makassar")
    assert cal.tz_name == "Asia/Makassar"
    assert WorkingCalendar(tz=ZoneInfo("Asia/Jayapura")).tz_name == "Asia/Jayapura"
    assert WorkingCalendar().tz_name == "UTC"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"holidays": "2020-06-01"},
        {"holidays": [datetime(2020, 6, 1, 9)]},
        {"holidays": ["2020-06-01"]},
        {"holidays": 2020},
        {"holidays": {date(2020, 6, 1): ""}},
        {"holidays": {date(2020, 6, 1): 5}},
        {"closures": [date(2020, 6, 1)]},
        {"closures": {date(2020, 6, 1): ""}},
        {"closures": {date(2020, 6, 1): None}},
        {"closures": {datetime(2020, 6, 1): "flood"}},
        {"closures": {"2020-06-01": "flood"}},
        {"openings": [datetime(2020, 6, 6, 8)]},
        {"openings": "2020-06-06"},
        {"openings": 5},
    ],
)
def test_bad_days_in_constructor(kwargs: dict[str, object]) -> None:
    """Holidays, closures and openings must be dates (closures with a reason)."""
    closed_error(lambda: WorkingCalendar(**kwargs))  # type: ignore[arg-type]


def test_holidays_as_mapping_names_them() -> None:
    """A mapping of holidays gives their names; plain dates are named "holiday"."""
    named = WorkingCalendar(holidays={MON: "Founders' Day"})
    assert named.closure_reason(MON) == "Founders' Day"
    plain = WorkingCalendar(holidays=[MON])
    assert plain.closure_reason(MON) == "holiday"
    assert plain.holidays == {MON: "holiday"}


def test_day_arguments_refuse_datetimes_and_others() -> None:
    """Every method taking a day refuses a datetime (a date subclass) and non-dates."""
    cal = WorkingCalendar()
    for bad in (datetime(2020, 6, 1, 9, tzinfo=UTC), datetime(2020, 6, 1), "2020-06-01", None):
        for call in (
            lambda: cal.is_working_day(bad),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.closure_reason(bad),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.holiday_name(bad),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.is_holiday(bad),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.next_working_day(bad),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.previous_working_day(bad),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.add_working_days(bad, 1),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.count_working_days(bad, MON),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.count_working_days(MON, bad),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.working_days(bad, MON),  # type: ignore[arg-type]  # noqa: B023
            lambda: cal.closed_days(MON, bad),  # type: ignore[arg-type]  # noqa: B023
        ):
            closed_error(call)


@pytest.mark.parametrize("n", [1.0, True, False, "3", None, 2.5])
def test_add_working_days_refuses_non_integers(n: object) -> None:
    """``n`` must be an int (a bool or a float is refused)."""
    closed_error(lambda: WorkingCalendar().add_working_days(MON, n))  # type: ignore[arg-type]


def test_add_working_days_accepts_numpy_integers() -> None:
    """A numpy integer is an integer."""
    assert WorkingCalendar().add_working_days(MON, np.int64(5)) == MON + timedelta(days=7)  # type: ignore[arg-type]


def test_date_subclass_is_accepted() -> None:
    """A date subclass that is not a datetime (e.g. a frozen-clock FakeDate) is a day."""

    class FakeDate(date):
        pass

    cal = WorkingCalendar()
    assert cal.is_working_day(FakeDate(2020, 6, 1))
    assert cal.add_working_days(FakeDate(2020, 6, 5), 1) == MON + timedelta(days=7)


# ------------------------------------------------------------------ single days


def test_weekmask_only() -> None:
    """Without holidays, the weekmask decides; off days are closed for "weekend"."""
    cal = WorkingCalendar()
    assert [cal.is_working_day(d) for d in (MON, TUE, WED, THU, FRI, SAT, SUN)] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]
    assert cal.closure_reason(FRI) is None
    assert cal.closure_reason(SAT) == "weekend"


def test_precedence_closure_opening_holiday_weekmask() -> None:
    """An ad-hoc closure beats an opening, which beats a holiday and the weekmask."""
    holiday_and_opening = MON
    holiday_opening_and_closure = TUE
    weekend_opening = SAT
    weekend_opening_and_closure = SUN
    cal = WorkingCalendar(
        holidays={MON: "Hari Lahir Pancasila", TUE: "Some holiday", WED: "Plain holiday"},
        openings=[holiday_and_opening, holiday_opening_and_closure, SAT, SUN],
        closures={TUE: "flood", SUN: "audit", THU: "system maintenance"},
    )
    assert cal.is_working_day(holiday_and_opening)
    assert cal.closure_reason(holiday_and_opening) is None
    assert not cal.is_working_day(holiday_opening_and_closure)
    assert cal.closure_reason(holiday_opening_and_closure) == "flood"
    assert cal.closure_reason(WED) == "Plain holiday"
    assert cal.closure_reason(THU) == "system maintenance"
    assert cal.is_working_day(FRI)
    assert cal.is_working_day(weekend_opening)
    assert cal.closure_reason(weekend_opening) is None
    assert cal.closure_reason(weekend_opening_and_closure) == "audit"
    assert [cal.is_working_day(d) for d in (MON, TUE, WED, THU, FRI, SAT, SUN)] == [
        True,
        False,
        False,
        False,
        True,
        True,
        False,
    ]


def test_holiday_on_weekend_gives_its_name() -> None:
    """A holiday on a weekend day is closed with the holiday's name, not "weekend"."""
    cal = WorkingCalendar(holidays={SUN: "Idul Fitri"})
    assert cal.closure_reason(SUN) == "Idul Fitri"
    assert cal.closure_reason(SAT) == "weekend"


def test_holiday_name_ignores_openings_and_closures() -> None:
    """``holiday_name``/``is_holiday`` report the holiday whatever the office does."""
    cal = WorkingCalendar(holidays={MON: "H1", TUE: "H2"}, openings=[MON], closures={TUE: "x"})
    assert cal.holiday_name(MON) == "H1"
    assert cal.is_holiday(MON)
    assert cal.is_working_day(MON)
    assert cal.holiday_name(TUE) == "H2"
    assert cal.holiday_name(WED) is None
    assert not cal.is_holiday(WED)


def test_next_and_previous_working_day() -> None:
    """Next/previous working day, inclusive or not, skip weekends and holidays."""
    cal = WorkingCalendar(holidays=[MON, FRI])
    assert cal.next_working_day(MON) == TUE
    assert cal.next_working_day(TUE) == TUE
    assert cal.next_working_day(TUE, inclusive=False) == WED
    assert cal.next_working_day(THU, inclusive=False) == MON + timedelta(days=7)
    assert cal.previous_working_day(MON + timedelta(days=7)) == MON + timedelta(days=7)
    assert cal.previous_working_day(MON + timedelta(days=7), inclusive=False) == THU
    assert cal.previous_working_day(SUN) == THU
    assert cal.previous_working_day(TUE, inclusive=False) == MON - timedelta(days=3)


def test_next_working_day_across_years_and_long_closures() -> None:
    """A long run of closures crossing a new year is skipped in one step."""
    closures = {d: "renovation" for d in days(date(2020, 12, 1), date(2021, 3, 1))}
    cal = WorkingCalendar(closures=closures)
    assert cal.next_working_day(date(2020, 12, 15)) == date(2021, 3, 1)
    assert cal.previous_working_day(date(2021, 2, 27)) == date(2020, 11, 30)
    assert cal.add_working_days(date(2020, 11, 30), 1) == date(2021, 3, 1)
    assert cal.add_working_days(date(2021, 3, 1), -1) == date(2020, 11, 30)
    assert cal.count_working_days(date(2020, 11, 30), date(2021, 3, 2)) == 2


# ------------------------------------------------------------------ arithmetic


def test_add_working_days_basic() -> None:
    """Adding working days skips weekends and holidays, in both directions."""
    cal = WorkingCalendar(holidays=[MON + timedelta(days=7)])
    assert cal.add_working_days(FRI, 1) == TUE + timedelta(days=7)
    assert cal.add_working_days(FRI, 0) == FRI
    assert cal.add_working_days(TUE + timedelta(days=7), -1) == FRI
    assert cal.add_working_days(MON, 250) == date(2021, 5, 18)


def test_add_working_days_rolls_like_numpy() -> None:
    """A closed start rolls forward for n >= 0 and backward for n < 0 before moving."""
    cal = WorkingCalendar()
    assert cal.add_working_days(SAT, 0) == MON + timedelta(days=7)
    assert cal.add_working_days(SAT, 1) == TUE + timedelta(days=7)
    assert cal.add_working_days(SAT, -1) == THU
    assert cal.add_working_days(SUN, -2) == WED


def test_add_working_days_with_openings() -> None:
    """Openings are working days for arithmetic; a closure on an opening is not."""
    cal = WorkingCalendar(openings=[SAT], holidays=[MON + timedelta(days=7)])
    assert cal.add_working_days(FRI, 1) == SAT
    assert cal.add_working_days(FRI, 2) == TUE + timedelta(days=7)
    assert cal.add_working_days(SUN, -1) == FRI
    assert cal.add_working_days(SUN, 0) == TUE + timedelta(days=7)
    assert cal.add_working_days(SAT, 0) == SAT
    assert cal.count_working_days(MON, MON + timedelta(days=14)) == 10
    closed = cal.with_closures({SAT: "audit"})
    assert closed.add_working_days(FRI, 1) == TUE + timedelta(days=7)
    assert closed.count_working_days(MON, MON + timedelta(days=14)) == 9


def test_count_working_days() -> None:
    """Counts are over ``[start, end)``; backwards, over ``(end, start]``, negated (numpy)."""
    cal = WorkingCalendar(holidays=[WED])
    assert cal.count_working_days(MON, MON) == 0
    assert cal.count_working_days(MON, MON + timedelta(days=7)) == 4
    assert cal.count_working_days(MON + timedelta(days=7), MON) == -4
    assert cal.count_working_days(SAT, SUN) == 0
    assert cal.count_working_days(SAT, MON) == -3  # Tue, Thu, Fri
    assert cal.count_working_days(MON + timedelta(days=7), SAT) == -1  # the Monday
    assert cal.count_working_days(SAT, FRI) == 0
    assert cal.count_working_days(date(2020, 1, 1), date(2021, 1, 1)) == 261  # 262 weekdays


def test_working_days_and_closed_days() -> None:
    """``working_days`` and ``closed_days`` partition ``[start, end)``, in order."""
    cal = WorkingCalendar(holidays={MON: "Pancasila"}, closures={THU: "audit"})
    start, end = date(2020, 5, 30), date(2020, 6, 9)
    working = list(cal.working_days(start, end))
    closed = list(cal.closed_days(start, end))
    assert working == [TUE, WED, FRI, date(2020, 6, 8)]
    assert closed == [
        (date(2020, 5, 30), "weekend"),
        (date(2020, 5, 31), "weekend"),
        (MON, "Pancasila"),
        (THU, "audit"),
        (SAT, "weekend"),
        (SUN, "weekend"),
    ]
    assert list(cal.working_days(end, start)) == []
    assert list(cal.closed_days(end, start)) == []


def test_working_days_across_years() -> None:
    """Iterating across a year boundary gives every working day once."""
    cal = WorkingCalendar(holidays=[date(2021, 1, 1)])
    got = list(cal.working_days(date(2020, 12, 28), date(2021, 1, 6)))
    assert got == [
        date(2020, 12, 28),
        date(2020, 12, 29),
        date(2020, 12, 30),
        date(2020, 12, 31),
        date(2021, 1, 4),
        date(2021, 1, 5),
    ]


def test_extreme_dates() -> None:
    """The whole range of ``date`` works; results beyond it are ConfigurationErrors."""
    cal = WorkingCalendar(weekmask="1111111")
    assert cal.add_working_days(date.max, 0) == date.max
    assert cal.add_working_days(date.min, 0) == date.min
    assert cal.count_working_days(date.min, date.max) == (date.max - date.min).days
    closed_error(lambda: cal.add_working_days(date.max, 1))
    closed_error(lambda: cal.add_working_days(date.min, -1))
    closed_error(lambda: cal.next_working_day(date.max, inclusive=False))
    workweek = WorkingCalendar()
    assert workweek.add_working_days(date(1900, 1, 1), 1) == date(1900, 1, 2)
    assert workweek.add_working_days(date(2200, 12, 31), 1) == date(2201, 1, 1)


def test_huge_offsets_are_fast_and_exact() -> None:
    """A million working days is arithmetic, not a walk (and agrees with numpy)."""
    hols = [date(2020, 1, 1) + timedelta(days=37 * i) for i in range(400)]
    cal = WorkingCalendar(holidays=hols)
    npcal = np.busdaycalendar(weekmask="1111100", holidays=hols)
    for n in (10**6, -(10**5), 12345):
        roll: Literal["forward", "backward"] = "forward" if n >= 0 else "backward"
        expected = np.busday_offset(date(2020, 6, 3), n, roll=roll, busdaycal=npcal)
        assert cal.add_working_days(date(2020, 6, 3), n) == expected.astype(object)


# ------------------------------------------------------------------ time zones


@pytest.mark.parametrize(
    ("zone", "last_utc_hour_same_day"),
    [("Asia/Jakarta", 16), ("Asia/Makassar", 15), ("Asia/Jayapura", 14)],
)
def test_local_date_in_wib_wita_wit(zone: str, last_utc_hour_same_day: int) -> None:
    """Midnight falls at 17:00, 16:00 and 15:00 UTC for WIB, WITA and WIT."""
    cal = WorkingCalendar(tz=zone)
    before = datetime(2020, 6, 8, last_utc_hour_same_day, 59, 59, tzinfo=UTC)
    after = before + timedelta(seconds=1)
    assert cal.local_date(before) == date(2020, 6, 8)
    assert cal.local_date(after) == date(2020, 6, 9)
    local = cal.local_time(after)
    assert local.tzinfo == ZoneInfo(zone)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)


def test_local_date_from_another_zone() -> None:
    """An aware time in any zone is converted to the office's zone."""
    cal = WorkingCalendar(tz="Asia/Jakarta")
    tokyo = datetime(2020, 6, 9, 1, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # 23:30 WIB on 8 June
    assert cal.local_date(tokyo) == date(2020, 6, 8)


@pytest.mark.parametrize("now", [datetime(2020, 6, 8, 9), date(2020, 6, 8), "2020-06-08T09:00Z"])
def test_local_date_refuses_naive_and_non_datetimes(now: object) -> None:
    """A naive datetime (or anything not a datetime) is a ConfigurationError."""
    cal = WorkingCalendar(tz="Asia/Jakarta")
    closed_error(lambda: cal.local_date(now))  # type: ignore[arg-type]
    closed_error(lambda: cal.local_time(now))  # type: ignore[arg-type]


# ------------------------------------------------------------------ overlays, values


def test_with_closures_is_a_new_calendar() -> None:
    """``with_closures`` adds closures to a copy and leaves the original as it was."""
    cal = WorkingCalendar(holidays={MON: "Pancasila"}, closures={FRI: "old reason"})
    assert cal.add_working_days(TUE, 1) == WED
    child = cal.with_closures({WED: "flood", FRI: "new reason"})
    assert child.closure_reason(WED) == "flood"
    assert child.closure_reason(FRI) == "new reason"
    assert child.closure_reason(MON) == "Pancasila"
    assert child.add_working_days(TUE, 1) == THU
    assert cal.is_working_day(WED)
    assert cal.closure_reason(FRI) == "old reason"
    assert cal.add_working_days(TUE, 1) == WED
    assert child.holidays is cal.holidays
    assert child.tz == cal.tz
    assert child.weekmask == cal.weekmask


def test_with_closures_is_cheap_and_shared() -> None:
    """No new closure gives the same calendar; the same extra gives the same child."""
    cal = WorkingCalendar.indonesia()
    assert cal.with_closures({}) is cal
    child = cal.with_closures({date(2020, 6, 10): "system maintenance"})
    assert cal.with_closures({date(2020, 6, 10): "system maintenance"}) is child
    assert child.with_closures({date(2020, 6, 10): "system maintenance"}) is child
    assert child.holidays is cal.holidays
    assert child != cal
    assert child == WorkingCalendar.indonesia(closures={date(2020, 6, 10): "system maintenance"})
    closed_error(lambda: cal.with_closures({date(2020, 6, 10): ""}))
    closed_error(lambda: cal.with_closures([date(2020, 6, 10)]))  # type: ignore[arg-type]


def test_with_closures_after_arithmetic_reuses_nothing_stale() -> None:
    """A child made after the parent cached its tables sees its own closures."""
    cal = WorkingCalendar()
    assert cal.add_working_days(MON, 3) == THU
    assert cal.count_working_days(MON, MON + timedelta(days=400)) > 0
    child = cal.with_closures({TUE: "x"})
    assert child.add_working_days(MON, 3) == FRI
    far = cal.with_closures({date(2030, 1, 2): "y"})
    assert far.add_working_days(MON, 3) == THU
    assert far.add_working_days(date(2030, 1, 1), 1) == date(2030, 1, 3)


def test_immutable() -> None:
    """Attributes cannot be set or deleted; copies are the calendar itself."""
    cal = WorkingCalendar()
    with pytest.raises(FrozenInstanceError):
        cal.tz = ZoneInfo("Asia/Jakarta")  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        cal._weekmask = "1111111"
    with pytest.raises(FrozenInstanceError):
        del cal._weekmask
    with pytest.raises(TypeError):
        cal.closures[MON] = "x"  # type: ignore[index]
    assert copy.copy(cal) is cal
    assert copy.deepcopy(cal) is cal


def test_repr() -> None:
    """The repr shows the weekmask, holidays, closures, openings and zone."""
    cal = WorkingCalendar(
        weekmask="Mon Tue Wed Thu Fri Sat",
        holidays=[MON],
        closures={TUE: "flood"},
        openings=[SUN],
        tz="Asia/Makassar",
    )
    text = repr(cal)
    assert text.startswith("WorkingCalendar(weekmask='1111110', holidays={")
    assert "flood" in text
    assert "openings=[datetime.date(2020, 6, 7)]" in text
    assert text.endswith("tz='Asia/Makassar')")
    indo = repr(WorkingCalendar.indonesia())
    assert "<holidays ID categories=('government', 'public') language='id'>" in indo
    assert "Asia/Jakarta" in indo


def test_equality_and_hash() -> None:
    """Calendars built the same way are equal and hash alike; a difference shows."""
    a = WorkingCalendar(holidays=[MON], closures={TUE: "x"}, openings=[SAT], tz="Asia/Jakarta")
    b = WorkingCalendar(holidays=[MON], closures={TUE: "x"}, openings=[SAT], tz="Asia/Jakarta")
    assert a == b
    assert hash(a) == hash(b)
    assert a != WorkingCalendar(holidays=[MON], closures={TUE: "x"}, openings=[SAT])
    assert a != WorkingCalendar(holidays=[MON], closures={TUE: "y"}, openings=[SAT])
    assert WorkingCalendar.indonesia() == WorkingCalendar.indonesia()
    assert WorkingCalendar.indonesia() != WorkingCalendar.indonesia(cuti_bersama=False)
    assert a != "calendar"
    h = holidays.country_holidays("ID")
    assert WorkingCalendar(holidays=h) == WorkingCalendar(holidays=h)


def test_pickle_round_trip() -> None:
    """A calendar survives pickling (for multi-process apps) and answers the same."""
    for cal in (
        WorkingCalendar(holidays={MON: "H"}, closures={TUE: "x"}, openings=[SAT], tz="UTC"),
        WorkingCalendar.indonesia(tz="Asia/Makassar", closures={date(2020, 6, 10): "maint"}),
    ):
        cal.add_working_days(MON, 10)
        again = pickle.loads(pickle.dumps(cal))
        assert again == cal
        assert again.add_working_days(MON, 10) == cal.add_working_days(MON, 10)
        assert again.closure_reason(MON) == cal.closure_reason(MON)


# ------------------------------------------------------------------ holidays package


def test_indonesia_defaults() -> None:
    """``indonesia()``: WIB, Monday-Friday, Indonesian names, cuti bersama closed."""
    cal = WorkingCalendar.indonesia()
    assert cal.tz_name == "Asia/Jakarta"
    assert cal.weekmask == "1111100"
    assert cal.closure_reason(date(2020, 6, 1)) == "Hari Lahir Pancasila"
    reason = cal.closure_reason(date(2024, 4, 8))
    assert reason is not None
    assert reason.startswith("Cuti Bersama")


def test_indonesia_options() -> None:
    """English names, no cuti bersama, another zone and weekmask are options."""
    english = WorkingCalendar.indonesia(language="en_US")
    assert english.closure_reason(date(2024, 4, 10)) == "Eid al-Fitr"
    assert english.closure_reason(date(2024, 4, 8)) == "Eid al-Fitr Joint Holiday"
    public_only = WorkingCalendar.indonesia("Asia/Jayapura", cuti_bersama=False)
    assert public_only.tz_name == "Asia/Jayapura"
    assert public_only.is_working_day(date(2024, 4, 8))
    assert not public_only.is_working_day(date(2024, 4, 10))
    six_days = WorkingCalendar.indonesia(weekmask="1111110")
    assert six_days.is_working_day(date(2024, 4, 13))
    closed_error(lambda: WorkingCalendar.indonesia(language="xx"))
    closed_error(lambda: WorkingCalendar.indonesia(tz="Asia/Atlantis"))


def test_from_country() -> None:
    """Any country of the holidays package works; unknown ones are ConfigurationErrors."""
    us = WorkingCalendar.from_country("us", tz="America/New_York")
    assert us.closure_reason(date(2024, 7, 4)) == "Independence Day"
    closed_error(lambda: WorkingCalendar.from_country("XX"))
    closed_error(lambda: WorkingCalendar.from_country(""))
    closed_error(lambda: WorkingCalendar.from_country("ID", categories=("bogus",)))
    closed_error(lambda: WorkingCalendar.from_country("ID", categories=()))
    closed_error(lambda: WorkingCalendar.from_country("ID", categories="public"))
    closed_error(lambda: WorkingCalendar.from_country("ID", subdiv="ZZ"))


def test_years_are_loaded_lazily() -> None:
    """Only the years looked up are generated by the holidays package."""
    cal = WorkingCalendar.indonesia()
    h = cal.holidays
    assert set(h.years) == set()
    assert cal.is_working_day(date(2030, 1, 2))
    assert set(h.years) == {2030}
    cal.add_working_days(date(2030, 6, 3), 20)
    cal.count_working_days(date(2030, 1, 1), date(2031, 1, 1))
    assert set(h.years) == {2030}
    cal.add_working_days(date(2030, 12, 20), 10)
    assert set(h.years) == {2030, 2031}
    cal.is_working_day(date(2045, 5, 5))
    cal.add_working_days(date(2045, 5, 5), 3)
    assert set(h.years) == {2030, 2031, 2045}


def test_user_holiday_base_is_read_lazily_and_cached() -> None:
    """A HolidayBase passed in is expanded only for the years looked up, once each."""
    h = holidays.country_holidays("ID", language="id")
    cal = WorkingCalendar(holidays=h, tz="Asia/Jakarta")
    assert cal.holidays is h
    assert cal.closure_reason(date(2021, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"
    assert set(h.years) == {2021}
    h.clear()  # the calendar keeps what it read
    assert cal.closure_reason(date(2021, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"


def test_non_expanding_holiday_base() -> None:
    """A HolidayBase built with ``expand=False`` only knows its years."""
    h = holidays.country_holidays("ID", years=2024, expand=False)
    cal = WorkingCalendar(holidays=h)
    assert not cal.is_working_day(date(2024, 4, 10))
    assert cal.is_working_day(date(2025, 3, 31))  # Idul Fitri 2025, but not loaded
    assert set(h.years) == {2024}


def test_concurrent_first_use() -> None:
    """Threads using a fresh calendar at once (loading years, swapping tables) agree."""
    reference = WorkingCalendar.indonesia()
    starts = [date(2015 + i % 12, 1 + i % 12, 1 + i % 28) for i in range(60)]
    expected = [
        (reference.add_working_days(d, 250), reference.add_working_days(d, -40)) for d in starts
    ]
    cal = WorkingCalendar.indonesia()
    results: dict[int, list[tuple[date, date]]] = {}
    barrier = threading.Barrier(6)

    def work(k: int) -> None:
        barrier.wait()
        order = starts[k::6] + starts
        got = {d: (cal.add_working_days(d, 250), cal.add_working_days(d, -40)) for d in order}
        results[k] = [got[d] for d in starts]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(6))


# ------------------------------------------------------------------ numpy, the oracle


def _random_holidays(rng: random.Random, first: date, last: date, count: int) -> list[date]:
    span = (last - first).days
    picked = {first + timedelta(days=rng.randrange(span)) for _ in range(count)}
    # and a few dense runs, the hard case for skipping ahead
    for _ in range(3):
        start = first + timedelta(days=rng.randrange(span - 40))
        picked.update(start + timedelta(days=i) for i in range(rng.randrange(5, 40)))
    return sorted(picked)


def _check_against_numpy(
    cal: WorkingCalendar,
    npcal: np.busdaycalendar,
    starts: list[date],
    offsets: list[int],
) -> None:
    """Assert add_working_days/count_working_days equal busday_offset/busday_count."""
    dates = np.array(starts, dtype="datetime64[D]")
    n = np.array(offsets)
    forward = np.busday_offset(dates, n, roll="forward", busdaycal=npcal)
    backward = np.busday_offset(dates, n, roll="backward", busdaycal=npcal)
    expected = np.where(n >= 0, forward, backward).astype(object)
    got = [cal.add_working_days(d, k) for d, k in zip(starts, offsets, strict=True)]
    mismatches = [
        (d, k, g, e) for d, k, g, e in zip(starts, offsets, got, expected, strict=True) if g != e
    ]
    assert not mismatches[:5]
    ends = [d + timedelta(days=k) for d, k in zip(starts, offsets, strict=True)]
    counts = np.busday_count(dates, np.array(ends, dtype="datetime64[D]"), busdaycal=npcal)
    got_counts = [cal.count_working_days(a, b) for a, b in zip(starts, ends, strict=True)]
    assert got_counts == counts.tolist()


MASKS = ["1111100", "1111110", "1111111", "1000000", "0000001", "1010101", "0111110", "0000011"]


@pytest.mark.parametrize("mask", MASKS)
def test_numpy_oracle_random_holidays(mask: str) -> None:
    """Thousands of (date, n) pairs agree with numpy, holidays in 1900-2200."""
    rng = random.Random(f"queue_quota-{mask}")
    first, last = date(1900, 1, 1), date(2201, 1, 1)
    hols = _random_holidays(rng, first, last, 3000)
    cal = WorkingCalendar(weekmask=mask, holidays=hols)
    npcal = np.busdaycalendar(weekmask=mask, holidays=hols)
    span = (last - first).days
    starts = [first + timedelta(days=rng.randrange(span)) for _ in range(3000)]
    limit = 30 if mask in {"1000000", "0000001"} else 150
    offsets = [rng.randint(-limit, limit) for _ in range(2500)]
    offsets += [rng.randint(-40 * limit, 40 * limit) for _ in range(400)]
    offsets += [rng.randint(-2, 2) for _ in range(100)]
    _check_against_numpy(cal, npcal, starts, offsets)


def test_numpy_oracle_no_holidays_far_dates() -> None:
    """Without holidays, agreement holds over the whole range numpy and date share."""
    rng = random.Random(7)
    for mask in MASKS:
        cal = WorkingCalendar(weekmask=mask)
        npcal = np.busdaycalendar(weekmask=mask)
        starts = [date(2000, 1, 1) + timedelta(days=rng.randrange(1_800_000)) for _ in range(500)]
        offsets = [rng.randint(-50_000, 50_000) for _ in range(500)]
        _check_against_numpy(cal, npcal, starts, offsets)


def test_numpy_oracle_indonesia() -> None:
    """The Indonesian calendar (with cuti bersama and a closure) agrees with numpy."""
    base = WorkingCalendar.indonesia()
    cal = base.with_closures({date(2020, 6, 10): "system maintenance", date(2023, 1, 2): "x"})
    first, last = date(2018, 1, 1), date(2029, 1, 1)
    closed = [d for d, _ in cal.closed_days(first, last) if d.weekday() < 5]
    npcal = np.busdaycalendar(weekmask="1111100", holidays=closed)
    rng = random.Random(2020)
    starts = [date(2019, 7, 1) + timedelta(days=rng.randrange(365 * 8)) for _ in range(4000)]
    offsets = [rng.randint(-250, 250) for _ in range(4000)]
    _check_against_numpy(cal, npcal, starts, offsets)


@settings(max_examples=200, deadline=None)
@given(
    mask=st.lists(st.booleans(), min_size=7, max_size=7).filter(any),
    holiday_offsets=st.sets(st.integers(0, 3000), max_size=300),
    start=st.integers(0, 3000),
    n=st.integers(-600, 600),
    length=st.integers(-800, 800),
)
def test_numpy_oracle_hypothesis(
    mask: list[bool], holiday_offsets: set[int], start: int, n: int, length: int
) -> None:
    """For any weekmask, holidays and (date, n), numpy and the calendar agree."""
    origin = date(2019, 12, 20)
    hols = [origin + timedelta(days=k) for k in sorted(holiday_offsets)]
    text = "".join("1" if b else "0" for b in mask)
    cal = WorkingCalendar(weekmask=text, holidays=hols)
    npcal = np.busdaycalendar(weekmask=text, holidays=hols)
    d = origin + timedelta(days=start)
    roll: Literal["forward", "backward"] = "forward" if n >= 0 else "backward"
    expected = np.busday_offset(d, n, roll=roll, busdaycal=npcal).astype(object)
    assert cal.add_working_days(d, n) == expected
    end = d + timedelta(days=length)
    assert cal.count_working_days(d, end) == int(np.busday_count(d, end, busdaycal=npcal))


# ------------------------------------------------------------------ a brute-force model


class Model:
    """The rules of the contract, written plainly, day by day."""

    def __init__(
        self, mask: list[bool], hols: set[date], closures: dict[date, str], openings: set[date]
    ) -> None:
        self.mask, self.hols, self.closures, self.openings = mask, hols, closures, openings

    def working(self, d: date) -> bool:
        """Closure > opening > holiday > weekmask."""
        if d in self.closures:
            return False
        if d in self.openings:
            return True
        if d in self.hols:
            return False
        return self.mask[d.weekday()]

    def roll_back(self, d: date) -> date:
        """The last working day on or before ``d``."""
        while not self.working(d):
            d -= ONE
        return d

    def add(self, d: date, n: int) -> date:
        """numpy's busday_offset semantics, one day at a time."""
        step = ONE if n >= 0 else -ONE
        while not self.working(d):
            d += step
        for _ in range(abs(n)):
            d += step
            while not self.working(d):
                d += step
        return d

    def count(self, a: date, b: date) -> int:
        """Working days in [a, b); when b < a, minus those in (b, a] (as numpy counts)."""
        if b < a:
            return -self.count(b + ONE, a + ONE)
        return sum(self.working(x) for x in days(a, b))


@settings(max_examples=200, deadline=None)
@given(
    mask=st.lists(st.booleans(), min_size=7, max_size=7).filter(any),
    hols=st.sets(st.integers(0, 120), max_size=40),
    closures=st.sets(st.integers(0, 120), max_size=20),
    openings=st.sets(st.integers(0, 120), max_size=20),
    start=st.integers(20, 100),
    n=st.integers(-15, 15),
    length=st.integers(-60, 60),
)
def test_model_with_openings_and_closures(
    mask: list[bool],
    hols: set[int],
    closures: set[int],
    openings: set[int],
    start: int,
    n: int,
    length: int,
) -> None:
    """With openings too (which numpy cannot express), a day-by-day model agrees."""
    origin = date(2020, 12, 1)  # spans a new year
    as_days = {k: origin + timedelta(days=k) for k in range(-400, 600)}
    model = Model(
        mask,
        {as_days[k] for k in hols},
        {as_days[k]: f"closure {k}" for k in closures},
        {as_days[k] for k in openings},
    )
    cal = WorkingCalendar(
        weekmask=[int(b) for b in mask],
        holidays={d: "holiday" for d in model.hols},
        closures=model.closures,
        openings=model.openings,
    )
    d = as_days[start]
    end = d + timedelta(days=length)
    assert cal.add_working_days(d, n) == model.add(d, n)
    assert cal.count_working_days(d, end) == model.count(d, end)
    assert cal.next_working_day(d) == model.add(d, 0)
    assert cal.next_working_day(d, inclusive=False) == model.add(d + ONE, 0)
    assert cal.previous_working_day(d) == model.roll_back(d)
    assert cal.previous_working_day(d, inclusive=False) == model.roll_back(d - ONE)
    lo, hi = min(d, end), max(d, end)
    assert list(cal.working_days(lo, hi)) == [x for x in days(lo, hi) if model.working(x)]
    for x in days(lo, hi):
        reason = cal.closure_reason(x)
        if model.working(x):
            assert reason is None
        elif x in model.closures:
            assert reason == model.closures[x]
        elif x in model.hols:
            assert reason == "holiday"
        else:
            assert reason == "weekend"
    assert [x for x, _ in cal.closed_days(lo, hi)] == [
        x for x in days(lo, hi) if not model.working(x)
    ]
