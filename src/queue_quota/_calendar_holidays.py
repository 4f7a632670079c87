"""Where a WorkingCalendar's holidays come from: fixed dates, or a ``holidays.HolidayBase``.

Both sources answer by year: ``year(y)`` is a mapping from the ordinals of the year's
holidays to their names. A ``HolidayBase`` is asked for a year only when that year is first
needed, and each year's answer is kept, so a lookup costs one dictionary access however
large the underlying object grows. Sources are shared by a calendar and the calendars made
from it with ``with_closures``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Hashable, Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any, Final

from ._calendar_days import check_day
from .errors import ConfigurationError

__all__ = [
    "HolidaySource",
    "LazyHolidayBase",
    "StaticHolidays",
    "holiday_source",
    "pick_language",
]

DEFAULT_HOLIDAY_NAME: Final = "holiday"
_NO_HOLIDAYS: Final[Mapping[int, str]] = MappingProxyType({})


class HolidaySource:
    """The holidays of a calendar, by year (base class; not for use outside the package)."""

    __slots__ = ()

    def year(self, year: int) -> Mapping[int, str]:
        """Ordinal -> name of every holiday in ``year``."""
        raise NotImplementedError

    def load(self, first: int, last: int) -> None:
        """Make sure the years ``first .. last`` are ready (one batch, cheaper than one by one)."""

    @property
    def obj(self) -> object:
        """What the user passed (a mapping of dates to names, or the ``HolidayBase``)."""
        raise NotImplementedError

    def key(self) -> Hashable:
        """What equality and hashing of calendars compare for this source."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short text for the calendar's repr."""
        raise NotImplementedError

    def translated(self, year: int, language: str) -> Mapping[int, str] | None:
        """Ordinal -> name of every holiday in ``year``, named in ``language``; ``None``
        when the source cannot name them in that language (then its own names stand)."""
        return None


class StaticHolidays(HolidaySource):
    """A fixed set of holiday dates, each with a name."""

    __slots__ = ("_by_year", "_names")

    def __init__(self, names: Mapping[date, str]) -> None:
        self._names: Mapping[date, str] = MappingProxyType(dict(names))
        by_year: dict[int, dict[int, str]] = {}
        for day, name in names.items():
            by_year.setdefault(day.year, {})[day.toordinal()] = name
        self._by_year = by_year

    def year(self, year: int) -> Mapping[int, str]:
        """Ordinal -> name of every holiday in ``year``."""
        return self._by_year.get(year, _NO_HOLIDAYS)

    @property
    def obj(self) -> Mapping[date, str]:
        """The holidays as a read-only mapping of dates to names."""
        return self._names

    def key(self) -> Hashable:
        """The set of (date, name) pairs."""
        return frozenset(self._names.items())

    def describe(self) -> str:
        """``{date: name, ...}``, shortened when long."""
        if len(self._names) <= 4:
            return repr(dict(sorted(self._names.items())))
        return f"<{len(self._names)} dates>"


class LazyHolidayBase(HolidaySource):
    """A ``holidays.HolidayBase`` read one year at a time, on first need.

    ``HolidayBase`` generates a year when a date of that year is first looked up (unless it
    was built with ``expand=False``). Each year is read once, under a lock (``HolidayBase``
    is not thread-safe while it expands), and kept.
    """

    __slots__ = ("_h", "_key", "_lock", "_translations", "_years")

    def __init__(self, h: Any, key: Hashable | None = None) -> None:
        self._h = h
        self._key = key
        self._lock = threading.Lock()
        self._years: dict[int, Mapping[int, str]] = {}
        self._translations: dict[tuple[str, int], Mapping[int, str] | None] = {}

    def year(self, year: int) -> Mapping[int, str]:
        """Ordinal -> name of every holiday in ``year`` (loaded on first use)."""
        names = self._years.get(year)
        if names is None:
            self.load(year, year)
            names = self._years[year]
        return names

    def load(self, first: int, last: int) -> None:
        """Read the years ``first .. last`` that are not read yet, in one pass."""
        years = self._years
        if all(y in years for y in range(first, last + 1)):
            return
        with self._lock:
            missing = [y for y in range(first, last + 1) if y not in years]
            if not missing:
                return
            h = self._h
            for y in missing:
                h.get(date(y, 1, 1))  # makes an expanding HolidayBase generate the year
            wanted = set(missing)
            found: dict[int, dict[int, str]] = {y: {} for y in missing}
            for day, name in h.items():
                if day.year in wanted:
                    found[day.year][day.toordinal()] = str(name)
            for y in missing:
                years[y] = found[y]

    @property
    def obj(self) -> Any:
        """The ``holidays.HolidayBase`` itself."""
        return self._h

    def translated(self, year: int, language: str) -> Mapping[int, str] | None:
        """The year's holidays named in ``language`` (``"en"`` picks ``"en_US"`` if the
        country has no plain ``"en"``), asked of the ``holidays`` package once per year and
        language; ``None`` if the country has no such language or the names cannot be had."""
        h = self._h
        target = pick_language(language, tuple(getattr(h, "supported_languages", ()) or ()))
        if target is None:
            return None
        if target == getattr(h, "language", None):
            return self.year(year)
        cache_key = (target, year)
        if cache_key in self._translations:
            return self._translations[cache_key]
        names = _country_names(h, target, year)
        with self._lock:
            self._translations[cache_key] = names
        return names

    @property
    def loaded_years(self) -> frozenset[int]:
        """The years read so far."""
        return frozenset(self._years)

    @property
    def spec(self) -> Hashable | None:
        """What it was built from (country, categories, ...), if the package built it."""
        return self._key

    def key(self) -> Hashable:
        """The spec it was built from (country, categories, ...), else the object's identity."""
        return self._key if self._key is not None else ("HolidayBase", id(self._h))

    def describe(self) -> str:
        """``<holidays ID categories=(...) language='id'>``."""
        h = self._h
        country = getattr(h, "country", None) or getattr(h, "market", None) or type(h).__name__
        parts = [f"<holidays {country}"]
        subdiv = getattr(h, "subdiv", None)
        if subdiv:
            parts.append(f"subdiv={subdiv!r}")
        categories = getattr(h, "categories", None)
        if categories:
            parts.append(f"categories={tuple(sorted(categories))!r}")
        language = getattr(h, "language", None)
        if language:
            parts.append(f"language={language!r}")
        return " ".join(parts) + ">"


#: What a bare language code also accepts, in order of preference.
_VARIANTS: Final[dict[str, tuple[str, ...]]] = {"en": ("en_US", "en_GB")}


def pick_language(language: str, supported: tuple[str, ...]) -> str | None:
    """The code in ``supported`` that best serves ``language``: itself, else a regional
    variant (``"en"`` -> ``"en_US"``), else ``None``."""
    wanted = language.strip().replace("-", "_")
    if wanted in supported:
        return wanted
    base = wanted.split("_")[0].lower()
    for candidate in (*_VARIANTS.get(base, ()), *sorted(supported)):
        if candidate in supported and candidate.split("_")[0].lower() == base:
            return candidate
    return None


def _country_names(h: Any, language: str, year: int) -> Mapping[int, str] | None:
    """The holidays of ``h``'s country (same subdivision and categories) in ``year``,
    named in ``language``; ``None`` if the package cannot give them."""
    country = getattr(h, "country", None)
    if not isinstance(country, str):
        return None
    import holidays as holidays_package

    categories = tuple(sorted(getattr(h, "categories", None) or ("public",)))
    try:
        found = holidays_package.country_holidays(
            country,
            subdiv=getattr(h, "subdiv", None),
            categories=categories,
            language=language,
            years=year,
        )
        return MappingProxyType({d.toordinal(): str(name) for d, name in found.items()})
    except Exception:  # a translation is a nicety: the calendar's own names stand
        return None


def _is_holiday_base(value: object) -> bool:
    module = sys.modules.get("holidays")  # if never imported, value cannot be a HolidayBase
    base = getattr(module, "HolidayBase", None)
    return isinstance(base, type) and isinstance(value, base)


def holiday_source(value: object, key: Hashable | None = None) -> HolidaySource:
    """Wrap the ``holidays=`` argument of a WorkingCalendar.

    ``value`` is a ``holidays.HolidayBase``, a mapping of dates to names, or an iterable of
    dates (each named ``"holiday"``).

    Raises:
        ConfigurationError: ``value`` is none of these.
    """
    if isinstance(value, HolidaySource):
        return value
    if _is_holiday_base(value):
        return LazyHolidayBase(value, key)
    if isinstance(value, Mapping):
        names: dict[date, str] = {}
        for day, name in value.items():
            checked = check_day(day, "every key of holidays")
            if not isinstance(name, str) or not name.strip():
                raise ConfigurationError(
                    f"holidays[{checked.isoformat()}] must be a non-empty name, got {name!r}"
                )
            names[checked] = name
        return StaticHolidays(names)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ConfigurationError(
            "holidays must be a holidays.HolidayBase, a mapping of dates to names or an "
            f"iterable of dates, got {value!r}"
        )
    return StaticHolidays(
        {check_day(day, "every item of holidays"): DEFAULT_HOLIDAY_NAME for day in value}
    )
