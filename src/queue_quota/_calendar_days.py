"""Validation of the day, count and date-mapping arguments shared by the calendars."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Final

from .errors import ConfigurationError

__all__ = [
    "MAX_ORDINAL",
    "MIN_ORDINAL",
    "check_count",
    "check_day",
    "check_int",
    "day_from_ordinal",
    "days_of",
    "reasons_of",
]

MIN_ORDINAL: Final = date.min.toordinal()
MAX_ORDINAL: Final = date.max.toordinal()


def check_day(value: object, name: str = "day") -> date:
    """Return ``value`` if it is a ``date`` (and not a ``datetime``).

    A ``datetime`` is refused: it is a subclass of ``date``, so it would silently be
    taken for its UTC or naive date instead of the office's local date.

    Raises:
        ConfigurationError: ``value`` is not a date, or is a datetime.
    """
    if type(value) is date:
        return value
    if isinstance(value, datetime):
        raise ConfigurationError(
            f"{name} must be a date, not a datetime ({value!r}); "
            "use WorkingCalendar.local_date(now) to get the office's date"
        )
    if isinstance(value, date):
        return value
    raise ConfigurationError(f"{name} must be a datetime.date, got {type(value).__name__}")


def check_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int``; ``bool`` and non-integers are refused.

    Raises:
        ConfigurationError: ``value`` is not an integer.
    """
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be an integer, not a bool ({value!r})")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ConfigurationError(
            f"{name} must be an integer, got {type(value).__name__} ({value!r})"
        ) from None


def check_count(value: object, name: str) -> int:
    """Return ``value`` if it is a non-negative ``int`` (not a ``bool``).

    Raises:
        ConfigurationError: ``value`` is negative or not an integer.
    """
    number = check_int(value, name)
    if number < 0:
        raise ConfigurationError(f"{name} must be 0 or more, got {number}")
    return number


def day_from_ordinal(ordinal: int) -> date:
    """``date.fromordinal`` that reports a result out of range as a ConfigurationError."""
    if MIN_ORDINAL <= ordinal <= MAX_ORDINAL:
        return date.fromordinal(ordinal)
    raise ConfigurationError("the resulting day is outside the supported range of dates")


def days_of(values: object, name: str) -> frozenset[date]:
    """Validate an iterable of dates (a string or a mapping's keys are not taken for one).

    Raises:
        ConfigurationError: ``values`` is not an iterable of dates.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ConfigurationError(f"{name} must be an iterable of dates, got {values!r}")
    return frozenset(check_day(v, f"every item of {name}") for v in values)


def reasons_of(values: object, name: str) -> dict[date, str]:
    """Validate a mapping of dates to non-empty reasons.

    Raises:
        ConfigurationError: ``values`` is not a mapping of dates to non-empty strings.
    """
    if not isinstance(values, Mapping):
        raise ConfigurationError(f"{name} must map dates to reasons, got {values!r}")
    result: dict[date, str] = {}
    for key, reason in values.items():
        day = check_day(key, f"every key of {name}")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigurationError(
                f"{name}[{day.isoformat()}] must be a non-empty reason, got {reason!r}"
            )
        result[day] = reason
    return result
