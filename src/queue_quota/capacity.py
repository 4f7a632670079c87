"""`CapacityCalendar`: how many places a channel offers on each day.

The most specific rule wins: a date override, else the first recurrence rule
(``dateutil.rrule``) that has an occurrence that day, else the weekday's number, else the
default. Whether the office is open at all is the `WorkingCalendar`'s business: a capacity
is only asked for working days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Final, TypeAlias

from attrs.exceptions import FrozenInstanceError
from dateutil.rrule import rrule, rruleset

from ._calendar_days import check_count, check_day, check_int
from .errors import ConfigurationError

__all__ = ["CapacityCalendar", "Rule"]

#: A recurrence: a ``dateutil.rrule.rrule`` or ``rruleset``.
Rule: TypeAlias = rrule | rruleset

_EMPTY: Final[Mapping[int, int]] = MappingProxyType({})
_NO_DATES: Final[Mapping[date, int]] = MappingProxyType({})


def _year_bounds(year: int, aware: bool) -> tuple[datetime, datetime]:
    """A window holding every instant of ``year`` (widened by a day each side if aware)."""
    start = datetime(year, 1, 1)
    end = datetime(year + 1, 1, 1) if year < date.max.year else datetime.max
    if not aware:
        return start, end
    start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    if year > date.min.year:
        start -= timedelta(days=1)
    if year < date.max.year:
        end += timedelta(days=1)
    return start, end


def _occurrences(rule: Rule, year: int) -> frozenset[int]:
    """The ordinals of the days of ``year`` on which ``rule`` has an occurrence.

    Works for naive and time-zone-aware rules (an aware occurrence counts on its date in
    its own zone).
    """
    try:
        hits = rule.between(*_year_bounds(year, aware=False), inc=True)
    except TypeError:  # can't compare naive and aware datetimes: an aware rule
        hits = rule.between(*_year_bounds(year, aware=True), inc=True)
    return frozenset(hit.toordinal() for hit in hits if hit.year == year)


def _describe(rule: Rule) -> str:
    if isinstance(rule, rrule):
        lines = [line for line in str(rule).splitlines() if line.startswith("RRULE:")]
        return f"<rrule {lines[0][6:]}>" if lines else "<rrule>"
    return "<rruleset>"


class CapacityCalendar:
    """Places per day: a default, with overrides by weekday, by recurrence and by date.

    The most specific wins: ``dates`` > ``rules`` (the first rule with an occurrence that
    day) > ``weekdays`` > ``default``. Immutable.

    Args:
        default: Places on a day that nothing else mentions.
        weekdays: Places by weekday, ``0`` = Monday .. ``6`` = Sunday.
        dates: Places on particular dates.
        rules: ``(rule, places)`` pairs, ``rule`` a ``dateutil.rrule.rrule`` (or
            ``rruleset``): e.g. ``(rrule(MONTHLY, byweekday=FR(-1), dtstart=...), 10)``
            for the last Friday of every month. A rule's occurrences are computed once per
            year, when a day of that year is first asked for.

    Raises:
        ConfigurationError: A number that is negative or not an ``int`` (a ``bool`` is
            not a number here), a weekday outside ``0..6``, a key of ``dates`` that is not
            a date, or a rule that is not an ``rrule``/``rruleset`` paired with a number.

    Example:
        >>> from datetime import date
        >>> cap = CapacityCalendar(20, weekdays={4: 10}, dates={date(2020, 6, 8): 0})
        >>> cap.capacity_on(date(2020, 6, 5)), cap.capacity_on(date(2020, 6, 8))
        (10, 0)
    """

    __slots__ = ("_by_weekday", "_cache", "_dates", "_default", "_ordinals", "_rules", "_weekdays")

    _by_weekday: tuple[int, ...]
    _cache: tuple[dict[int, frozenset[int]], ...]
    _dates: Mapping[date, int]
    _default: int
    _ordinals: dict[int, int]
    _rules: tuple[tuple[Rule, int], ...]
    _weekdays: Mapping[int, int]

    def __init__(
        self,
        default: int,
        *,
        weekdays: Mapping[int, int] = _EMPTY,
        dates: Mapping[date, int] = _NO_DATES,
        rules: Iterable[tuple[Rule, int]] = (),
    ) -> None:
        base = check_count(default, "default capacity")
        if not isinstance(weekdays, Mapping):
            raise ConfigurationError(f"weekdays must map 0..6 to numbers, got {weekdays!r}")
        by_weekday: dict[int, int] = {}
        for weekday_key, places in weekdays.items():
            weekday = check_int(weekday_key, "a weekday")
            if not 0 <= weekday <= 6:
                raise ConfigurationError(f"a weekday is 0 (Monday) .. 6 (Sunday), got {weekday!r}")
            by_weekday[weekday] = check_count(places, f"capacity on weekday {weekday}")
        if not isinstance(dates, Mapping):
            raise ConfigurationError(f"dates must map dates to numbers, got {dates!r}")
        by_date: dict[date, int] = {}
        for date_key, places in dates.items():
            day = check_day(date_key, "every key of dates")
            by_date[day] = check_count(places, f"capacity on {day.isoformat()}")
        if isinstance(rules, (str, bytes, Mapping)) or not isinstance(rules, Iterable):
            raise ConfigurationError(f"rules must be a list of (rrule, number), got {rules!r}")
        checked_rules: list[tuple[Rule, int]] = []
        for item in rules:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise ConfigurationError(f"every rule must be a pair (rrule, number), got {item!r}")
            rule, places = item
            if not isinstance(rule, (rrule, rruleset)):
                raise ConfigurationError(
                    f"a rule must be a dateutil.rrule.rrule or rruleset, got {rule!r}"
                )
            checked_rules.append((rule, check_count(places, f"capacity of rule {_describe(rule)}")))

        values: dict[str, object] = {
            "_default": base,
            "_weekdays": MappingProxyType(dict(sorted(by_weekday.items()))),
            "_by_weekday": tuple(by_weekday.get(i, base) for i in range(7)),
            "_dates": MappingProxyType(dict(sorted(by_date.items()))),
            "_ordinals": {day.toordinal(): n for day, n in by_date.items()},
            "_rules": tuple(checked_rules),
            "_cache": tuple({} for _ in checked_rules),
        }
        for name, attribute in values.items():
            object.__setattr__(self, name, attribute)

    @classmethod
    def of(cls, value: int | CapacityCalendar) -> CapacityCalendar:
        """``value`` if it is a CapacityCalendar, else a calendar of ``value`` places every day.

        Raises:
            ConfigurationError: ``value`` is neither a CapacityCalendar nor an ``int`` >= 0.
        """
        if isinstance(value, CapacityCalendar):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigurationError(
                f"capacity must be a number or a CapacityCalendar, got {value!r}"
            )
        return cls(value)

    @property
    def default(self) -> int:
        """Places on a day that nothing else mentions."""
        return self._default

    @property
    def weekdays(self) -> Mapping[int, int]:
        """Places by weekday (0 = Monday), read-only."""
        return self._weekdays

    @property
    def dates(self) -> Mapping[date, int]:
        """Places on particular dates, read-only."""
        return self._dates

    @property
    def rules(self) -> tuple[tuple[Rule, int], ...]:
        """The ``(rule, places)`` pairs, in order of precedence."""
        return self._rules

    def capacity_on(self, d: date) -> int:
        """Places on ``d``: its date override, else the first matching rule, else its
        weekday's number, else the default.

        Raises:
            ConfigurationError: ``d`` is not a date (or is a datetime).
        """
        if type(d) is not date:
            d = check_day(d)
        o = d.toordinal()
        value = self._ordinals.get(o)
        if value is not None:
            return value
        if self._rules:
            year = d.year
            for (rule, places), cache in zip(self._rules, self._cache, strict=True):
                days = cache.get(year)
                if days is None:
                    days = cache[year] = _occurrences(rule, year)
                if o in days:
                    return places
        return self._by_weekday[(o - 1) % 7]  # ordinal 1 is a Monday

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CapacityCalendar):
            return NotImplemented
        return (
            self._default == other._default
            and self._by_weekday == other._by_weekday
            and self._ordinals == other._ordinals
            and len(self._rules) == len(other._rules)
            and all(
                a is b and m == n for (a, m), (b, n) in zip(self._rules, other._rules, strict=True)
            )
        )

    def __hash__(self) -> int:
        return hash(
            (
                self._default,
                self._by_weekday,
                frozenset(self._ordinals.items()),
                tuple((id(rule), places) for rule, places in self._rules),
            )
        )

    def __repr__(self) -> str:
        parts = [repr(self._default)]
        if self._weekdays:
            parts.append(f"weekdays={dict(self._weekdays)!r}")
        if self._dates:
            parts.append(f"dates={dict(self._dates)!r}")
        if self._rules:
            rules = ", ".join(f"({_describe(rule)}, {places})" for rule, places in self._rules)
            parts.append(f"rules=[{rules}]")
        return f"CapacityCalendar({', '.join(parts)})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError()

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError()

    def __copy__(self) -> CapacityCalendar:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> CapacityCalendar:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _restore,
            (self._default, dict(self._weekdays), dict(self._dates), list(self._rules)),
        )


def _restore(
    default: int,
    weekdays: dict[int, int],
    dates: dict[date, int],
    rules: list[tuple[Rule, int]],
) -> CapacityCalendar:
    """Rebuild a pickled CapacityCalendar."""
    return CapacityCalendar(default, weekdays=weekdays, dates=dates, rules=rules)
