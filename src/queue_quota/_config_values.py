"""Office-file values the schema has let through, turned into objects: time zones,
calendars, capacities, dates, times, titles; what a schema cannot check is checked here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rruleset, rrulestr

from ._config_errors import Fail, join, one_of, show
from ._weekmask import parse_weekmask
from .calendar import WorkingCalendar
from .capacity import CapacityCalendar
from .errors import ConfigurationError

__all__ = ["calendar", "capacity", "clock", "day", "per_citizen", "title", "zone"]

_UNLIMITED: Final = "unlimited"
_RRULE_START: Final = datetime(1970, 1, 1)
_WEEKDAY_NAMES: Final = {
    name: i
    for i, names in enumerate(
        (
            ("mon", "monday", "senin"),
            ("tue", "tuesday", "selasa"),
            ("wed", "wednesday", "rabu"),
            ("thu", "thursday", "kamis"),
            ("fri", "friday", "jumat"),
            ("sat", "saturday", "sabtu"),
            ("sun", "sunday", "minggu"),
        )
    )
    for name in names
}


def day(fail: Fail, text: str, key: str, *, as_key: bool = False) -> date:
    """A date the schema saw as ``YYYY-MM-DD``, which may still not exist (2020-02-30)."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        what = "a valid date as the key" if as_key else "a valid date"
        raise fail(key, f"expected {what}, got {show(text)} ({exc})") from None


def clock(fail: Fail, text: str, key: str) -> time:
    """A local time the schema saw as ``HH:MM[:SS]``, which may still not exist (25:00)."""
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise fail(key, f"expected a valid time, got {show(text)} ({exc})") from None


def zone(fail: Fail, name: str, key: str) -> str:
    """An IANA time zone the system knows."""
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise fail(
            key, f'expected an IANA time zone name such as "Asia/Jakarta", got {show(name)}'
        ) from None
    return name.strip()


def per_citizen(value: object) -> int | None:
    """``"unlimited"`` is ``None``; the schema has checked the rest."""
    return None if value == _UNLIMITED else int(value)  # type: ignore[call-overload]


def title(value: str | Mapping[str, str]) -> str | dict[str, str]:
    """A channel's display name: one text, or texts by language, stripped."""
    if isinstance(value, str):
        return value.strip()
    return {lang: text.strip() for lang, text in value.items()}


def _weekday(fail: Fail, name: str, key: str) -> int:
    text = name.strip().lower()
    if text.isdigit() and len(text) == 1 and int(text) <= 6:
        return int(text)
    if text in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[text]
    raise fail(
        key,
        f'expected a weekday, 0 (Monday) .. 6 (Sunday) or a name such as "fri", got {show(name)}',
    )


def _rule(fail: Fail, table: Mapping[str, Any], key: str) -> tuple[rrule | rruleset, int]:
    text = table["rrule"].strip()
    where = join(key, "rrule")
    try:
        if "DTSTART" in text.upper():
            parsed = rrulestr(text)
        else:
            parsed = rrulestr(text, dtstart=_RRULE_START)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise fail(
            where,
            f'expected an RFC 5545 rule such as "FREQ=MONTHLY;BYDAY=-1FR", got {show(text)} '
            f"({exc})",
        ) from None
    if not isinstance(parsed, rrule | rruleset):  # pragma: no cover - rrulestr's contract
        raise fail(where, f"expected a recurrence rule, got {show(text)}")
    return parsed, int(table["capacity"])


def capacity(fail: Fail, value: int | Mapping[str, Any], key: str) -> CapacityCalendar:
    """A number, or a table of overrides (checked by the schema but for real weekdays,
    dates and rules)."""
    if not isinstance(value, Mapping):
        return CapacityCalendar(value)
    weekdays: dict[int, int] = {}
    where = join(key, "weekdays")
    seen: dict[int, str] = {}
    for name, places in value.get("weekdays", {}).items():
        item = join(where, name)
        weekday = _weekday(fail, name, item)
        if weekday in seen:
            raise fail(item, f"the same weekday as {join(where, seen[weekday])}")
        seen[weekday] = name
        weekdays[weekday] = places
    where = join(key, "dates")
    dates = {
        day(fail, name, join(where, name), as_key=True): places
        for name, places in value.get("dates", {}).items()
    }
    where = join(key, "rules")
    rules = [_rule(fail, item, join(where, i)) for i, item in enumerate(value.get("rules", []))]
    return CapacityCalendar(value["default"], weekdays=weekdays, dates=dates, rules=rules)


def calendar(fail: Fail, table: Mapping[str, Any], tz: str) -> WorkingCalendar:
    """The ``[calendar]`` table; without ``country``, no holidays."""
    key = "calendar"
    weekmask: str | list[int] = table.get("weekmask", "1111100")
    try:
        parse_weekmask(weekmask)
    except ConfigurationError as exc:
        raise fail("calendar.weekmask", str(exc)) from None
    where = "calendar.closures"
    closures = {
        day(fail, name, join(where, name), as_key=True): reason.strip()
        for name, reason in table.get("closures", {}).items()
    }
    where = "calendar.openings"
    openings = [day(fail, text, join(where, i)) for i, text in enumerate(table.get("openings", []))]
    if "country" not in table:
        for name in ("categories", "language", "subdiv"):
            if name in table:
                raise fail(join(key, name), "needs calendar.country (the holidays' country)")
        return WorkingCalendar(weekmask=weekmask, closures=closures, openings=openings, tz=tz)
    import holidays as holidays_package  # slow to import: only when a country is named

    country = table["country"].strip()
    code = country.upper()
    entity = getattr(holidays_package, code, None)
    if entity is None or code not in holidays_package.list_supported_countries():
        raise fail(
            "calendar.country",
            f'expected a country code known to the holidays package, such as "ID", '
            f"got {show(country)}",
        )
    categories: tuple[str, ...] = tuple(c.strip() for c in table.get("categories", ["public"]))
    supported = tuple(getattr(entity, "supported_categories", ("public",)))
    for i, category in enumerate(categories):
        if category not in supported:
            raise fail(
                join("calendar.categories", i),
                f"expected a category of {code}: {one_of(supported)}; got {show(category)}",
            )
    language: str = getattr(entity, "default_language", None) or ""
    if "language" in table:
        language = table["language"].strip()
        languages = tuple(getattr(entity, "supported_languages", ()))
        if language not in languages:
            raise fail(
                "calendar.language",
                f"expected a language of {code}'s holiday names: {one_of(languages)}; "
                f"got {show(language)}",
            )
    subdiv: str | None = None
    if "subdiv" in table:
        subdiv = table["subdiv"].strip()
        subdivisions = tuple(getattr(entity, "subdivisions", ()))
        if subdiv not in subdivisions:
            known = one_of(subdivisions) if subdivisions else "none"
            raise fail(
                "calendar.subdiv", f"expected a subdivision of {code} ({known}); got {show(subdiv)}"
            )
    try:
        return WorkingCalendar.from_country(
            code,
            categories=categories,
            subdiv=subdiv,
            language=language or None,
            tz=tz,
            weekmask=weekmask,
            closures=closures,
            openings=openings,
        )
    except ConfigurationError as exc:  # pragma: no cover - every value is checked above
        raise fail(key, str(exc)) from None
