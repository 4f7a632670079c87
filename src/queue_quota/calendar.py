"""`WorkingCalendar`: which local days an office works, and arithmetic over working days.

A day is a working day by these rules, the first that applies winning:

1. an **ad-hoc closure** (``closures``) closes it, with the closure's reason;
2. a **special opening** (``openings``) opens it;
3. a **holiday** (``holidays``: fixed dates or a ``holidays.HolidayBase``) closes it;
4. the **weekmask** (Monday first) says whether it is a working day.

Arithmetic (`WorkingCalendar.add_working_days`, `WorkingCalendar.count_working_days`)
agrees exactly with ``numpy.busday_offset`` and ``numpy.busday_count``. It does not walk
day by day: the weekmask alone gives whole-week arithmetic in O(1), and the few days where
the calendar differs from its weekmask (holidays on weekmask days, closures, openings) are
kept in a sorted table with running counts, searched with ``bisect``. Holidays are read one
year at a time, when a year is first needed, and kept.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from itertools import chain
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs.exceptions import FrozenInstanceError

from ._calendar_days import (
    MAX_ORDINAL,
    MIN_ORDINAL,
    check_day,
    check_int,
    day_from_ordinal,
    days_of,
    reasons_of,
)
from ._calendar_holidays import HolidaySource, LazyHolidayBase, StaticHolidays, holiday_source
from ._weekmask import WeekArithmetic, format_weekmask, parse_weekmask
from .errors import ConfigurationError

__all__ = ["WEEKEND", "WorkingCalendar"]

#: The `WorkingCalendar.closure_reason` of a day that the weekmask leaves out.
WEEKEND: Final = "weekend"

_NO_CLOSURES: Final[Mapping[date, str]] = MappingProxyType({})
_MAX_CHILDREN: Final = 64
_MIN_YEAR: Final = date.min.year
_MAX_YEAR: Final = date.max.year


def _year_of(ordinal: int) -> int:
    return date.fromordinal(min(max(ordinal, MIN_ORDINAL), MAX_ORDINAL)).year


def _zone(tz: object) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        if tz.key is None:
            raise ConfigurationError("tz must be an IANA time zone name such as 'Asia/Jakarta'")
        return tz
    if isinstance(tz, str) and tz.strip():
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ConfigurationError(
        f"tz must be an IANA time zone name such as 'Asia/Jakarta', got {tz!r}"
    )


class _Span:
    """The days of the years ``first_year .. last_year`` where the calendar and its
    weekmask disagree, with running counts.

    ``ex`` are those days' ordinals, sorted; ``dcum[i]`` is the net number of days they add
    (openings +1, closed weekmask days -1) before ``ex[i]``; ``fe[i]`` is ``F(ex[i])``,
    where ``F(o) = cum(o) + dcum[bisect_left(ex, o)]`` counts the working days before
    ``o`` (from an origin common to the span). ``F`` is exact on ``[lo, hi + 1]``.
    """

    __slots__ = ("added", "dcum", "ex", "fe", "first_year", "hi", "last_year", "lo")

    def __init__(
        self,
        first_year: int,
        last_year: int,
        ex: list[int],
        dcum: list[int],
        fe: list[int],
        added: frozenset[int],
    ) -> None:
        self.first_year = first_year
        self.last_year = last_year
        self.lo = date(first_year, 1, 1).toordinal()
        self.hi = date(last_year, 12, 31).toordinal()
        self.ex = ex
        self.dcum = dcum
        self.fe = fe
        self.added = added


class _State:
    """The caches of one calendar: never part of its value."""

    __slots__ = ("children", "lock", "span", "years")

    def __init__(
        self, years: dict[int, dict[int, int]] | None = None, span: _Span | None = None
    ) -> None:
        #: year -> {ordinal: +1 (open off the weekmask) or -1 (closed on the weekmask)}
        self.years: dict[int, dict[int, int]] = years if years is not None else {}
        self.span = span
        self.children: dict[Hashable, WorkingCalendar] = {}
        self.lock = threading.Lock()


class WorkingCalendar:
    """The working days of an office, its holidays, closures and time zone.

    Immutable: `with_closures` returns a new calendar. Days are ``datetime.date`` objects,
    read as the office's local days (`local_date` turns an instant into one); a
    ``datetime`` given as a day is refused.

    Args:
        weekmask: The working days of the week, Monday first: seven ``0``/``1``
            characters (``"1111100"``), or weekday names (``"Mon Tue Wed Thu Fri"``).
        holidays: Holidays: a ``holidays.HolidayBase`` (read lazily, year by year, as
            years are looked up), a mapping of dates to holiday names, or an iterable of
            dates (each named ``"holiday"``).
        closures: Extra closed days, each with its reason. A closure beats everything.
        openings: Days open despite the weekmask and the holidays (not despite a closure).
        tz: The office's IANA time zone, e.g. ``"Asia/Jakarta"`` (WIB),
            ``"Asia/Makassar"`` (WITA), ``"Asia/Jayapura"`` (WIT).

    Raises:
        ConfigurationError: A malformed weekmask (wrong length or characters, no working
            day), an unknown time zone, or holidays, closures or openings that are not
            dates.

    Example:
        >>> from datetime import date
        >>> cal = WorkingCalendar(holidays=[date(2020, 6, 1)], tz="Asia/Jakarta")
        >>> cal.add_working_days(date(2020, 5, 29), 1)  # Friday -> Tuesday (Monday a holiday)
        datetime.date(2020, 6, 2)
    """

    __slots__ = (
        "_closure_ords",
        "_closures",
        "_opening_ords",
        "_openings",
        "_source",
        "_special_by_year",
        "_state",
        "_tz",
        "_weekmask",
        "_wk",
    )

    _closure_ords: Mapping[int, str]
    _closures: Mapping[date, str]
    _opening_ords: frozenset[int]
    _openings: frozenset[date]
    _source: HolidaySource
    _special_by_year: Mapping[int, frozenset[int]]
    _state: _State
    _tz: ZoneInfo
    _weekmask: str
    _wk: WeekArithmetic

    def __init__(
        self,
        *,
        weekmask: str | Sequence[int] = "1111100",
        holidays: Iterable[date] = (),
        closures: Mapping[date, str] = _NO_CLOSURES,
        openings: Iterable[date] = (),
        tz: str | ZoneInfo = "UTC",
    ) -> None:
        self._configure(weekmask, holiday_source(holidays), closures, openings, tz)

    @classmethod
    def _from_source(
        cls,
        weekmask: object,
        source: HolidaySource,
        closures: object,
        openings: object,
        tz: object,
    ) -> WorkingCalendar:
        calendar = object.__new__(cls)
        calendar._configure(weekmask, source, closures, openings, tz)
        return calendar

    def _configure(
        self,
        weekmask: object,
        source: HolidaySource,
        closures: object,
        openings: object,
        tz: object,
    ) -> None:
        self._setup(
            weekmask=format_weekmask(parse_weekmask(weekmask)),
            source=source,
            closures=reasons_of(closures, "closures"),
            openings=days_of(openings, "openings"),
            tz=_zone(tz),
            state=_State(),
        )

    def _setup(
        self,
        *,
        weekmask: str,
        source: HolidaySource,
        closures: Mapping[date, str],
        openings: frozenset[date],
        tz: ZoneInfo,
        state: _State,
    ) -> None:
        special: dict[int, set[int]] = {}
        for day in chain(closures, openings):
            special.setdefault(day.year, set()).add(day.toordinal())
        attrs: dict[str, object] = {
            "_weekmask": weekmask,
            "_wk": WeekArithmetic([ch == "1" for ch in weekmask]),
            "_source": source,
            "_closures": MappingProxyType(dict(sorted(closures.items()))),
            "_closure_ords": {day.toordinal(): reason for day, reason in closures.items()},
            "_openings": openings,
            "_opening_ords": frozenset(day.toordinal() for day in openings),
            "_special_by_year": {y: frozenset(days) for y, days in special.items()},
            "_tz": tz,
            "_state": state,
        }
        for name, value in attrs.items():
            object.__setattr__(self, name, value)

    # ----------------------------------------------------------------- constructors

    @classmethod
    def from_country(
        cls,
        country: str,
        *,
        categories: Iterable[str] = ("public",),
        subdiv: str | None = None,
        language: str | None = None,
        tz: str | ZoneInfo = "UTC",
        weekmask: str | Sequence[int] = "1111100",
        closures: Mapping[date, str] = _NO_CLOSURES,
        openings: Iterable[date] = (),
    ) -> WorkingCalendar:
        """A calendar with a country's holidays from the ``holidays`` package.

        Years are generated lazily, the first time a day of that year is looked up.

        Args:
            country: ISO 3166-1 alpha-2 code, e.g. ``"ID"``.
            categories: Holiday categories of the ``holidays`` package, e.g.
                ``("public", "government")`` (for Indonesia, ``"government"`` is cuti
                bersama).
            subdiv: A subdivision code, if the country has regional holidays.
            language: The language of the holiday names (one the country supports);
                ``None`` for the country's default.
            tz: The office's IANA time zone.
            weekmask: The working days of the week, Monday first.
            closures: Extra closed days, each with its reason.
            openings: Days open despite the weekmask and the holidays.

        Raises:
            ConfigurationError: An unknown country, subdivision, category or language, or
                any error of the main constructor.
        """
        import holidays as holidays_package  # imported lazily: it is slow to import

        if not isinstance(country, str) or not country.strip():
            raise ConfigurationError(f"country must be a country code, got {country!r}")
        code = country.strip().upper()
        if isinstance(categories, str) or not isinstance(categories, Iterable):
            raise ConfigurationError(f"categories must be a list of names, got {categories!r}")
        cats = tuple(categories)
        if not cats or not all(isinstance(c, str) and c for c in cats):
            raise ConfigurationError(
                f"categories must be a non-empty list of names, got {categories!r}"
            )
        entity = getattr(holidays_package, code, None)
        if code not in holidays_package.list_supported_countries() or entity is None:
            raise ConfigurationError(f"the holidays package knows no country {country!r}")
        supported = tuple(getattr(entity, "supported_languages", ()))
        if language is not None and language not in supported:
            raise ConfigurationError(
                f"language {language!r} is not available for {code}; choose one of {supported}"
            )
        try:
            h = holidays_package.country_holidays(
                code,
                subdiv=subdiv,
                categories=cats,
                language=language or entity.default_language,
            )
        except (NotImplementedError, ValueError, KeyError) as exc:
            raise ConfigurationError(f"holidays for {code}: {exc}") from exc
        key = ("country", code, subdiv, frozenset(cats), language or entity.default_language)
        return cls._from_source(weekmask, LazyHolidayBase(h, key), closures, openings, tz)

    @classmethod
    def indonesia(
        cls,
        tz: str | ZoneInfo = "Asia/Jakarta",
        *,
        cuti_bersama: bool = True,
        weekmask: str | Sequence[int] = "1111100",
        language: str = "id",
        closures: Mapping[date, str] = _NO_CLOSURES,
        openings: Iterable[date] = (),
    ) -> WorkingCalendar:
        """Indonesia: Monday to Friday, national public holidays and cuti bersama.

        Holidays come from ``holidays.country_holidays("ID", ...)``, with the categories
        ``("public", "government")`` (government: cuti bersama, the collective leave days
        of civil servants) or only ``("public",)``. Years are generated lazily.

        Args:
            tz: ``"Asia/Jakarta"`` (WIB), ``"Asia/Makassar"`` (WITA) or ``"Asia/Jayapura"``
                (WIT), or any IANA zone.
            cuti_bersama: Whether the cuti bersama days are closed too.
            weekmask: The working days of the week, Monday first.
            language: The language of the holiday names: ``"id"`` (``"Hari Raya Idul
                Fitri"``, ``"Cuti Bersama ..."``) or ``"en_US"``.
            closures: Extra closed days, each with its reason.
            openings: Days open despite the weekmask and the holidays.

        Raises:
            ConfigurationError: A bad time zone, weekmask or language.
        """
        categories = ("public", "government") if cuti_bersama else ("public",)
        return cls.from_country(
            "ID",
            categories=categories,
            language=language,
            tz=tz,
            weekmask=weekmask,
            closures=closures,
            openings=openings,
        )

    # ------------------------------------------------------------------- properties

    @property
    def weekmask(self) -> str:
        """The working days of the week as seven ``0``/``1`` characters, Monday first."""
        return self._weekmask

    @property
    def tz(self) -> ZoneInfo:
        """The office's time zone."""
        return self._tz

    @property
    def tz_name(self) -> str:
        """The IANA name of the office's time zone, e.g. ``"Asia/Jakarta"``."""
        return str(self._tz.key)

    @property
    def holidays(self) -> Any:
        """The holidays: the ``holidays.HolidayBase``, or a read-only mapping date -> name."""
        return self._source.obj

    @property
    def closures(self) -> Mapping[date, str]:
        """The ad-hoc closures, date -> reason (read-only)."""
        return self._closures

    @property
    def openings(self) -> frozenset[date]:
        """The special openings."""
        return self._openings

    # ------------------------------------------------------------------- single days

    def is_working_day(self, d: date) -> bool:
        """Whether the office works on ``d``.

        Args:
            d: A local date.

        Raises:
            ConfigurationError: ``d`` is not a date (or is a datetime).
        """
        if type(d) is not date:
            d = check_day(d)
        o = d.toordinal()
        return self._wk.bit[o % 7] != (o in self._year_ex(d.year))

    def closure_reason(self, d: date) -> str | None:
        """Why the office is closed on ``d``, or ``None`` if it works that day.

        The reason is the closure's reason, else the holiday's name (names of several
        holidays on one day are joined by ``"; "``), else ``"weekend"`` for a day the
        weekmask leaves out. A special opening makes the day a working day (``None``)
        unless it is also an ad-hoc closure.

        Raises:
            ConfigurationError: ``d`` is not a date (or is a datetime).
        """
        d = check_day(d)
        return self._reason(d.toordinal(), d.year)

    def holiday_name(self, d: date, language: str | None = None) -> str | None:
        """The name of the holiday on ``d``, or ``None``, whether or not the office works.

        A special opening or a closure on a holiday does not change its name.

        Args:
            d: The day.
            language: The language wanted for the name (``"id"``, ``"en"``, ``"en_US"``,
                ...); holidays from the ``holidays`` package are named in it when the
                country supports it (``"en"`` takes ``"en_US"``). ``None``, or a language
                the holidays cannot be named in: the calendar's own name.

        Raises:
            ConfigurationError: ``d`` is not a date (or is a datetime), or ``language`` is
                not a string.
        """
        d = check_day(d)
        name = self._source.year(d.year).get(d.toordinal())
        if name is None or language is None:
            return name
        if not isinstance(language, str):
            raise ConfigurationError(f"language must be a language code, got {language!r}")
        translated = self._source.translated(d.year, language)
        if translated is None:
            return name
        return translated.get(d.toordinal(), name)

    def is_holiday(self, d: date) -> bool:
        """Whether ``d`` is a holiday (see `holiday_name`).

        Raises:
            ConfigurationError: ``d`` is not a date (or is a datetime).
        """
        return self.holiday_name(d) is not None

    def next_working_day(self, d: date, *, inclusive: bool = True) -> date:
        """The first working day on or after ``d`` (after ``d`` if not ``inclusive``).

        Raises:
            ConfigurationError: ``d`` is not a date (or is a datetime).
        """
        o = check_day(d).toordinal()
        return day_from_ordinal(self._solve(o if inclusive else o + 1, 0))

    def previous_working_day(self, d: date, *, inclusive: bool = True) -> date:
        """The last working day on or before ``d`` (before ``d`` if not ``inclusive``).

        Raises:
            ConfigurationError: ``d`` is not a date (or is a datetime).
        """
        o = check_day(d).toordinal()
        return day_from_ordinal(self._solve(o + 1 if inclusive else o, -1))

    # -------------------------------------------------------------------- arithmetic

    def add_working_days(self, d: date, n: int) -> date:
        """The working day ``n`` working days after ``d`` (before it if ``n < 0``).

        Exactly ``numpy.busday_offset(d, n, roll="forward" if n >= 0 else "backward",
        weekmask=..., holidays=...)``: a day that is not a working day first rolls to the
        next working day (``n >= 0``) or the previous one (``n < 0``), then moves ``n``
        working days. So ``add_working_days(d, 0)`` is ``next_working_day(d)``.

        Runs in O(log h) for h exceptional days in the span, never day by day.

        Args:
            d: A local date.
            n: How many working days to move.

        Raises:
            ConfigurationError: ``d`` is not a date, ``n`` is not an integer, or the
                result is outside the range of ``datetime.date``.
        """
        if type(d) is not date:
            d = check_day(d)
        if type(n) is not int:
            n = check_int(n, "n")
        o = d.toordinal()
        wk = self._wk
        if n < 0 and wk.bit[o % 7] == (o in self._year_ex(d.year)):
            n -= 1  # roll backward to the previous working day first
        span = self._state.span
        if span is not None and span.lo <= o <= span.hi:
            # the fast path: F(o) + n, then the working day with that number
            q, r = divmod(o, 7)
            target = q * wk.per_week + wk.before[r] + span.dcum[bisect_left(span.ex, o)] + n
            fe = span.fe
            k = bisect_right(fe, target) - 1
            if k >= 0 and fe[k] == target and span.ex[k] in span.added:
                result = span.ex[k]
            else:
                q, j = divmod(target - span.dcum[k + 1], wk.per_week)
                result = q * 7 + wk.position[j]
            if span.lo <= result <= span.hi:
                return date.fromordinal(result)
        return day_from_ordinal(self._solve(o, n))

    def count_working_days(self, start: date, end: date) -> int:
        """The number of working days in ``[start, end)``.

        Exactly ``numpy.busday_count(start, end, ...)``, also when ``end < start``: the
        count is then negative, minus the working days in ``(end, start]`` (numpy >= 1.25
        counts backwards from ``start`` included to ``end`` excluded).

        Raises:
            ConfigurationError: ``start`` or ``end`` is not a date (or is a datetime).
        """
        a = check_day(start, "start").toordinal()
        b = check_day(end, "end").toordinal()
        sign = 1
        if b < a:
            a, b, sign = b + 1, a + 1, -1
        if a == b:
            return 0
        span = self._state.span
        if span is None or not (span.lo <= a and b - 1 <= span.hi):
            span = self._span(_year_of(a), _year_of(b - 1))
        return sign * (self._f(span, b) - self._f(span, a))

    def working_days(self, start: date, end: date) -> Iterator[date]:
        """The working days in ``[start, end)``, in order (nothing if ``end <= start``).

        Raises:
            ConfigurationError: ``start`` or ``end`` is not a date (or is a datetime).
        """
        a = check_day(start, "start").toordinal()
        b = check_day(end, "end").toordinal()
        return self._iter_days(a, b, working=True)

    def closed_days(self, start: date, end: date) -> Iterator[tuple[date, str]]:
        """Each closed day in ``[start, end)`` with its `closure_reason`, in order.

        Raises:
            ConfigurationError: ``start`` or ``end`` is not a date (or is a datetime).
        """
        a = check_day(start, "start").toordinal()
        b = check_day(end, "end").toordinal()
        return ((day, self._reason_or_weekend(day)) for day in self._iter_days(a, b, working=False))

    # -------------------------------------------------------------------- time zone

    def local_time(self, now: datetime) -> datetime:
        """``now`` (an aware datetime) converted to the office's time zone.

        Raises:
            ConfigurationError: ``now`` is not a datetime, or is naive.
        """
        if not isinstance(now, datetime):
            raise ConfigurationError(f"now must be a datetime, got {type(now).__name__}")
        if now.tzinfo is None or now.utcoffset() is None:
            raise ConfigurationError(
                f"now must be an aware datetime (with a time zone), got the naive {now!r}"
            )
        return now.astimezone(self._tz)

    def local_date(self, now: datetime) -> date:
        """The office's local date at the instant ``now`` (an aware datetime).

        For ``Asia/Jakarta`` (UTC+7), ``16:59:59 UTC`` is still the same day and
        ``17:00 UTC`` is the next one.

        Raises:
            ConfigurationError: ``now`` is not a datetime, or is naive.
        """
        return self.local_time(now).date()

    # ---------------------------------------------------------------------- overlays

    def with_closures(self, extra: Mapping[date, str]) -> WorkingCalendar:
        """A new calendar: this one plus the ad-hoc closures ``extra`` (date -> reason).

        A date already closed gets ``extra``'s reason. The new calendar shares this one's
        holiday tables, so it is cheap; the same ``extra`` gives back the same calendar.

        Raises:
            ConfigurationError: ``extra`` does not map dates to non-empty reasons.
        """
        checked = reasons_of(extra, "closures")
        if all(self._closures.get(day) == reason for day, reason in checked.items()):
            return self
        merged = dict(self._closures)
        merged.update(checked)
        return self._child(frozenset(checked.items()), merged, self._openings, set(checked))

    def with_openings(self, extra: Iterable[date]) -> WorkingCalendar:
        """A new calendar: this one plus the special openings ``extra`` (days open despite
        the weekmask and the holidays: a holiday revoked at run time). An ad-hoc closure
        still closes its day. Cheap, like `with_closures`.

        Raises:
            ConfigurationError: ``extra`` holds something that is not a date.
        """
        days = frozenset(check_day(d) for d in extra)
        if days <= self._openings:
            return self
        return self._child(("open", days), dict(self._closures), self._openings | days, days)

    def _child(
        self,
        key: Hashable,
        closures: dict[date, str],
        openings: frozenset[date],
        changed: Iterable[date],
    ) -> WorkingCalendar:
        """This calendar with other closures and openings, sharing its holiday tables and
        the cached years that ``changed`` does not touch."""
        state = self._state
        child = state.children.get(key)
        if child is not None:
            return child
        touched = {day.year for day in changed}
        span = state.span
        if span is not None and any(span.first_year <= y <= span.last_year for y in touched):
            span = None
        child = object.__new__(type(self))
        child._setup(
            weekmask=self._weekmask,
            source=self._source,
            closures=closures,
            openings=openings,
            tz=self._tz,
            state=_State(
                years={y: ex for y, ex in list(state.years.items()) if y not in touched},
                span=span,
            ),
        )
        with state.lock:
            if len(state.children) >= _MAX_CHILDREN:
                state.children.clear()
            state.children[key] = child
        return child

    # ----------------------------------------------------------------- value object

    def _key(self) -> tuple[Hashable, ...]:
        return (
            self._weekmask,
            self._source.key(),
            frozenset(self._closures.items()),
            self._openings,
            self.tz_name,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkingCalendar):
            return NotImplemented
        return self is other or self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        parts = [f"weekmask={self._weekmask!r}", f"holidays={self._source.describe()}"]
        if self._closures:
            closures = (
                repr(dict(self._closures))
                if len(self._closures) <= 4
                else f"<{len(self._closures)} dates>"
            )
            parts.append(f"closures={closures}")
        if self._openings:
            parts.append(f"openings={sorted(self._openings)!r}")
        parts.append(f"tz={self.tz_name!r}")
        return f"WorkingCalendar({', '.join(parts)})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError()

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError()

    def __copy__(self) -> WorkingCalendar:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> WorkingCalendar:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        source = self._source
        holidays: object
        if isinstance(source, LazyHolidayBase):
            holidays = (source.obj, source.spec)
        elif isinstance(source, StaticHolidays):
            holidays = dict(source.obj)
        else:  # pragma: no cover - there are only two kinds of sources
            holidays = source
        return (
            _restore,
            (self._weekmask, holidays, dict(self._closures), tuple(self._openings), self.tz_name),
        )

    # -------------------------------------------------------------------- internals

    def _year_ex(self, year: int) -> Mapping[int, int]:
        """The days of ``year`` where the calendar and its weekmask disagree (cached)."""
        ex = self._state.years.get(year)
        if ex is None:
            ex = self._build_year(year)
            self._state.years[year] = ex
        return ex

    def _build_year(self, year: int) -> dict[int, int]:
        holidays = self._source.year(year)
        closures = self._closure_ords
        openings = self._opening_ords
        bit = self._wk.bit
        ex: dict[int, int] = {}
        for o in chain(holidays, self._special_by_year.get(year, ())):
            working = o not in closures and o in openings
            if working != bit[o % 7]:
                ex[o] = 1 if working else -1
        return ex

    def _reason(self, o: int, year: int) -> str | None:
        reason = self._closure_ords.get(o)
        if reason is not None:
            return reason
        if o in self._opening_ords:
            return None
        name = self._source.year(year).get(o)
        if name is not None:
            return name
        return None if self._wk.bit[o % 7] else WEEKEND

    def _reason_or_weekend(self, day: date) -> str:
        return self._reason(day.toordinal(), day.year) or WEEKEND

    def _iter_days(self, a: int, b: int, *, working: bool) -> Iterator[date]:
        bit = self._wk.bit
        o = a
        while o < b:
            year = _year_of(o)
            stop = min(b, date(year, 12, 31).toordinal() + 1)
            ex = self._year_ex(year)
            for p in range(o, stop):
                if (bit[p % 7] != (p in ex)) is working:
                    yield date.fromordinal(p)
            o = stop

    def _span(self, first_year: int, last_year: int) -> _Span:
        """A span covering the years ``first_year .. last_year`` (the cached one if it does).

        A span next to or overlapping the cached one is merged with it; a distant one
        replaces it (so only years actually needed are ever loaded).
        """
        first_year = max(first_year, _MIN_YEAR)
        last_year = min(last_year, _MAX_YEAR)
        state = self._state
        span = state.span
        if span is not None:
            if span.first_year <= first_year and last_year <= span.last_year:
                return span
            if first_year <= span.last_year + 1 and last_year >= span.first_year - 1:
                first_year = min(first_year, span.first_year)
                last_year = max(last_year, span.last_year)
        span = self._build_span(first_year, last_year)
        state.span = span
        return span

    def _build_span(self, first_year: int, last_year: int) -> _Span:
        self._source.load(first_year, last_year)
        cum = self._wk.cum
        ex: list[int] = []
        dcum = [0]
        fe: list[int] = []
        added: list[int] = []
        running = 0
        for year in range(first_year, last_year + 1):
            year_ex = self._year_ex(year)
            for o in sorted(year_ex):
                delta = year_ex[o]
                ex.append(o)
                fe.append(cum(o) + running)
                running += delta
                dcum.append(running)
                if delta > 0:
                    added.append(o)
        return _Span(first_year, last_year, ex, dcum, fe, frozenset(added))

    def _f(self, span: _Span, o: int) -> int:
        """Working days before ``o``, from the span's origin (``span.lo <= o <= span.hi + 1``)."""
        return self._wk.cum(o) + span.dcum[bisect_left(span.ex, o)]

    def _nth(self, span: _Span, number: int) -> int:
        """The working day ``o`` with ``F(o) == number`` (exact if it falls in the span)."""
        fe = span.fe
        k = bisect_right(fe, number) - 1
        if k >= 0 and fe[k] == number and span.ex[k] in span.added:
            return span.ex[k]
        return self._wk.inv(number - span.dcum[k + 1])

    def _solve(self, base: int, delta: int) -> int:
        """The ordinal of the working day numbered ``F(base) + delta``.

        Widens the span of loaded years until the answer falls inside it.
        """
        first = last = _year_of(base)
        while True:
            span = self._span(first, last)
            result = self._nth(span, self._f(span, base) + delta)
            if span.lo <= result <= span.hi:
                return result
            if not MIN_ORDINAL <= result <= MAX_ORDINAL:
                raise ConfigurationError(
                    "the resulting day is outside the supported range of dates"
                )
            first = min(span.first_year, _year_of(result))
            last = max(span.last_year, _year_of(result))


def _restore(
    weekmask: str,
    holidays: object,
    closures: dict[date, str],
    openings: tuple[date, ...],
    tz: str,
) -> WorkingCalendar:
    """Rebuild a pickled WorkingCalendar."""
    if isinstance(holidays, tuple):
        obj, key = holidays
        return WorkingCalendar._from_source(
            weekmask, LazyHolidayBase(obj, key), closures, openings, tz
        )
    return WorkingCalendar._from_source(weekmask, holiday_source(holidays), closures, openings, tz)
