"""Checks of what callers pass to the `Scheduler`, before anything is read or written."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time

import attrs

from .errors import BookingNotFound, ConfigurationError

__all__ = ["Ask", "check_day", "check_places", "check_time", "quiet_not_found"]


@contextlib.contextmanager
def quiet_not_found() -> Iterator[None]:
    """`BookingNotFound` without the id that was asked for (it may be someone's ticket)."""
    try:
        yield
    except BookingNotFound:
        raise BookingNotFound("no such booking in this office") from None


@attrs.frozen
class Ask:
    """What a booking request asks for, beyond channel and citizen."""

    day: date | None
    time: time | None
    places: int
    claims: Mapping[str, str] | None


def check_time(value: object) -> time | None:
    if value is None:
        return None
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ConfigurationError(
            f"preferred_time must be a naive datetime.time (local office time), got {value!r}",
            message_key="configuration_error.preferred_time",
        )
    return value


def check_places(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ConfigurationError(
            f"places must be a whole number from 1 to 1000, got {value!r}",
            message_key="configuration_error.places",
            max_places=1000,
        )
    return value


def check_day(name: str, value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ConfigurationError(f"{name} must be a datetime.date, got {value!r}")
    return value
