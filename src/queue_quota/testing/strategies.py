"""Hypothesis strategies for queue_quota's values.

Every strategy builds valid objects through the public constructors, so a test that draws
from them exercises what users can build. Use them in property tests of your policies,
storages and applications::

    from hypothesis import given
    from queue_quota.testing import strategies as qst


    @given(qst.offices(), qst.aware_datetimes())
    def test_today_is_local(office, now):
        assert Scheduler(office).today(now=now) == now.astimezone(office.calendar.tz).date()
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import FR, MO, MONTHLY, WEEKLY, rrule
from hypothesis import strategies as st

from ..calendar import WorkingCalendar
from ..capacity import CapacityCalendar
from ..office import Office
from ..policies.base import QuotaPolicy
from ..policies.online import OnlineQuota
from ..policies.walk_in import WalkInQuota

__all__ = [
    "INDONESIAN_TIMEZONES",
    "aware_datetimes",
    "capacity_calendars",
    "citizen_ids",
    "office_ids",
    "offices",
    "online_quotas",
    "walk_in_quotas",
    "weekmasks",
    "working_calendars",
]

#: WIB (UTC+7), WITA (UTC+8) and WIT (UTC+9).
INDONESIAN_TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")

_DEFAULT_MIN = date(2019, 1, 1)
_DEFAULT_MAX = date(2026, 12, 31)
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _dates(min_day: date, max_day: date) -> st.SearchStrategy[date]:
    return st.dates(min_value=min_day, max_value=max_day)


def aware_datetimes(
    tz: str | ZoneInfo = "Asia/Jakarta",
    *,
    min_day: date = _DEFAULT_MIN,
    max_day: date = _DEFAULT_MAX,
    near_midnight: timedelta = timedelta(minutes=90),
    as_utc: bool = False,
) -> st.SearchStrategy[datetime]:
    """Aware datetimes on local days ``min_day .. max_day`` in the zone ``tz``.

    About half are within ``near_midnight`` of a local midnight (either side, the
    boundaries ``23:59:59.999999`` and ``00:00`` included), where the local date and the
    UTC date differ: the place where "today" bugs live.

    Args:
        tz: An IANA zone name or a ``ZoneInfo``.
        min_day: The first local day.
        max_day: The last local day.
        near_midnight: How close to midnight the second half of the values fall.
        as_utc: Return the instants in UTC instead of in ``tz`` (same instants).
    """
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    anywhere = st.datetimes(
        min_value=datetime.combine(min_day, time.min),
        max_value=datetime.combine(max_day, time.max),
        timezones=st.just(zone),
    )
    span = int(near_midnight.total_seconds() * 1_000_000)

    @st.composite
    def around_midnight(draw: st.DrawFn) -> datetime:
        midnight = datetime.combine(
            draw(_dates(min_day + timedelta(days=1), max_day)), time(0), zone
        )
        shift = draw(
            st.one_of(st.sampled_from([-1, 0]), st.integers(min_value=-span, max_value=span))
        )
        # Shift in elapsed time, then read the wall clock of the zone again.
        return (midnight.astimezone(UTC) + timedelta(microseconds=shift)).astimezone(zone)

    # A single day has no midnight inside the range.
    values = anywhere if max_day <= min_day else st.one_of(anywhere, around_midnight())
    return values.map(lambda dt: dt.astimezone(UTC)) if as_utc else values


def citizen_ids() -> st.SearchStrategy[str]:
    """16-digit NIK-like citizen ids (region, birth date, serial), e.g. ``"3328014506900001"``.

    The region is a province (11-94), regency and district code; the birth date is
    ``DDMMYY`` with 40 added to the day for women, as on an Indonesian NIK.
    """

    @st.composite
    def nik(draw: st.DrawFn) -> str:
        province = draw(st.integers(11, 94))
        regency = draw(st.integers(1, 79))
        district = draw(st.integers(1, 40))
        born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)))
        day = born.day + (40 if draw(st.booleans()) else 0)
        serial = draw(st.integers(1, 9999))
        return (
            f"{province:02d}{regency:02d}{district:02d}"
            f"{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
        )

    return nik()


def weekmasks(*, names: bool | None = False) -> st.SearchStrategy[str]:
    """Valid weekmasks with at least one working day.

    Args:
        names: ``False`` for seven ``0``/``1`` characters (``"1111100"``), ``True`` for
            day names (``"Mon Tue Wed Thu Fri"``), ``None`` for either.
    """
    bits = st.lists(st.booleans(), min_size=7, max_size=7).filter(any)
    as_bits = bits.map(lambda b: "".join("1" if x else "0" for x in b))
    as_names = bits.map(lambda b: " ".join(n for n, x in zip(_DAY_NAMES, b, strict=True) if x))
    if names is None:
        return st.one_of(as_bits, as_names)
    return as_names if names else as_bits


def capacity_calendars(
    *,
    max_capacity: int = 40,
    min_day: date = _DEFAULT_MIN,
    max_day: date = _DEFAULT_MAX,
    rules: bool = True,
) -> st.SearchStrategy[CapacityCalendar]:
    """`CapacityCalendar`s with a default, weekday and date overrides, and maybe rules.

    Args:
        max_capacity: The largest number of places on any day.
        min_day: The first day a date override may fall on.
        max_day: The last day a date override may fall on.
        rules: Whether to add recurrence rules (every other Monday, last Friday of the month).
    """
    counts = st.integers(min_value=0, max_value=max_capacity)
    rule_list: st.SearchStrategy[list[tuple[rrule, int]]] = st.just([])
    if rules:
        start = datetime.combine(min_day, time(0))
        choices = st.sampled_from(
            [
                rrule(WEEKLY, interval=2, byweekday=MO, dtstart=start),
                rrule(MONTHLY, byweekday=FR(-1), dtstart=start),
            ]
        )
        rule_list = st.lists(st.tuples(choices, counts), max_size=2)
    return st.builds(
        lambda default, weekdays, dates, rr: CapacityCalendar(
            default, weekdays=weekdays, dates=dates, rules=rr
        ),
        counts,
        st.dictionaries(st.integers(0, 6), counts, max_size=3),
        st.dictionaries(_dates(min_day, max_day), counts, max_size=4),
        rule_list,
    )


def working_calendars(
    *,
    min_day: date = date(2020, 1, 1),
    max_day: date = date(2020, 12, 31),
    tz: str | None = None,
    max_holidays: int = 6,
) -> st.SearchStrategy[WorkingCalendar]:
    """Small `WorkingCalendar`s: a weekmask, a few holidays, closures and openings.

    Holidays, closures and openings fall on ``min_day .. max_day`` (so that they matter in
    tests over that range). The zone is ``tz`` or one of `INDONESIAN_TIMEZONES`.
    """
    days = _dates(min_day, max_day)
    zones = st.just(tz) if tz is not None else st.sampled_from(INDONESIAN_TIMEZONES)
    reasons = st.sampled_from(["banjir", "system maintenance", "pemilu", "renovasi"])
    return st.builds(
        lambda weekmask, holidays, closures, openings, zone: WorkingCalendar(
            weekmask=weekmask, holidays=holidays, closures=closures, openings=openings, tz=zone
        ),
        weekmasks(names=None),
        st.dictionaries(days, st.just("libur nasional"), max_size=max_holidays),
        st.dictionaries(days, reasons, max_size=3),
        st.frozensets(days, max_size=2),
        zones,
    )


def office_ids() -> st.SearchStrategy[str]:
    """Valid office ids such as ``"tegal-disdukcapil"`` or ``"kab.brebes:2"``."""
    return st.from_regex(r"\A[a-z0-9][a-z0-9._:-]{0,30}\Z")


def online_quotas(
    *, max_capacity: int = 5, max_horizon: int = 20
) -> st.SearchStrategy[OnlineQuota]:
    """Small `OnlineQuota`s: few places, a short horizon, lead 0-2 days, limit 1-2 or none."""
    return st.builds(
        OnlineQuota,
        st.one_of(
            st.integers(0, max_capacity),
            capacity_calendars(max_capacity=max_capacity, rules=False),
        ),
        lead_days=st.integers(0, 2),
        horizon_days=st.integers(0, max_horizon),
        per_citizen=st.sampled_from([1, 2, None]),
    )


def walk_in_quotas(*, max_capacity: int = 5) -> st.SearchStrategy[WalkInQuota]:
    """Small `WalkInQuota`s with opening hours that make sense (opens before closes)."""

    @st.composite
    def build(draw: st.DrawFn) -> WalkInQuota:
        opens = draw(st.times(max_value=time(22, 0)).map(lambda t: t.replace(microsecond=0)))
        after = datetime.combine(date(2000, 1, 1), opens) + timedelta(minutes=1)
        closes = draw(st.times(min_value=after.time(), max_value=time(23, 59, 59)))
        return WalkInQuota(
            draw(st.integers(0, max_capacity)),
            opens=opens,
            closes=closes.replace(microsecond=0),
        )

    return build()


def offices(
    *,
    calendars: st.SearchStrategy[WorkingCalendar] | None = None,
    max_capacity: int = 5,
    walk_in: bool | None = None,
) -> st.SearchStrategy[Office]:
    """Small `Office`s: an online channel and (``walk_in`` None: maybe) a walk-in channel.

    Args:
        calendars: Where the calendar comes from (default `working_calendars`).
        max_capacity: The largest number of places a day per channel.
        walk_in: Whether the office has a walk-in channel (``None``: either).
    """
    cals = calendars if calendars is not None else working_calendars()
    with_walk_in = st.just(walk_in) if walk_in is not None else st.booleans()
    online = online_quotas(max_capacity=max_capacity)
    walk_ins = walk_in_quotas(max_capacity=max_capacity)
    ids = office_ids()

    @st.composite
    def build(draw: st.DrawFn) -> Office:
        policies: list[QuotaPolicy] = [draw(online)]
        if draw(with_walk_in):
            policies.append(draw(walk_ins))
        return Office(draw(ids), draw(cals), policies)

    return build()
