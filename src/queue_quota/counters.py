"""`Session` (an arrival window within a day) and `Pool` (places shared by channels).

Both are counters a booking takes places from, beside its channel's own (see "The
capacity model"): a booking in a session takes a place of the session and of the channel's
day; a booking on a pooled channel also takes a place of the pool, in the same atomic step.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import date, time
from typing import Any

import attrs

from .capacity import CapacityCalendar
from .errors import ConfigurationError

__all__ = ["Pool", "Session"]

_POOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _capacity(value: int | CapacityCalendar) -> CapacityCalendar:
    return CapacityCalendar.of(value)


def _naive_time(_: object, a: Any, v: Any) -> None:
    if not isinstance(v, time) or v.tzinfo is not None:
        raise ConfigurationError(
            f"a session's {a.name} must be a naive datetime.time (local office time), got {v!r}"
        )


@attrs.frozen
class Session:
    """An arrival window within the day: citizens booked in it come between ``start`` and
    ``end`` (local office time); at most ``capacity`` a day.

    Example: ``Session(time(8), time(8, 30), 10)``.
    """

    start: time = attrs.field(validator=_naive_time)
    end: time = attrs.field(validator=_naive_time)
    capacity: CapacityCalendar = attrs.field(converter=_capacity)

    def __attrs_post_init__(self) -> None:
        if self.start >= self.end:
            raise ConfigurationError(
                f"a session must start before it ends, got {self.start} .. {self.end}"
            )

    @property
    def window(self) -> tuple[time, time]:
        """``(start, end)``."""
        return self.start, self.end

    @property
    def key(self) -> str:
        """How the session's counter is named after its start: ``"08:00"``."""
        return f"{self.start:%H:%M}"

    def capacity_on(self, day: date) -> int:
        """Places in the session on ``day``."""
        return self.capacity.capacity_on(day)


def check_sessions(sessions: Sequence[Session]) -> tuple[Session, ...]:
    """Sessions in order of start, none overlapping another."""
    if isinstance(sessions, Session):
        sessions = (sessions,)
    out = tuple(sessions)
    for s in out:
        if not isinstance(s, Session):
            raise ConfigurationError(f"sessions must be Session objects, got {s!r}")
    out = tuple(sorted(out, key=lambda s: s.start))
    for a, b in itertools.pairwise(out):
        if b.start < a.end:
            raise ConfigurationError(
                f"sessions overlap: {a.start:%H:%M}-{a.end:%H:%M} and {b.start:%H:%M}-{b.end:%H:%M}"
            )
    return out


def _pool_name(_: object, a: Any, v: Any) -> None:
    if not isinstance(v, str) or not _POOL_NAME.match(v):
        raise ConfigurationError(
            f"a pool's name must be a lower-case identifier of at most 32 characters, got {v!r}"
        )


def _channels(value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise ConfigurationError(f"a pool needs a non-empty list of channels, got {value!r}")
    out = tuple(value)
    if len(set(out)) != len(out):
        raise ConfigurationError(f"a pool names a channel twice: {list(out)}")
    return out


@attrs.frozen
class Pool:
    """Places shared by several channels: a booking on any of ``channels`` also takes one
    of the pool's ``capacity`` places that day, in the same atomic step.

    Reserved places are a pool: online 25 and priority 30 under ``Pool("loket", 30,
    ["online", "priority"])`` — online never takes more than 25, so 5 are always left for
    priority, which may take any place the pool has left.
    """

    name: str = attrs.field(validator=_pool_name)
    capacity: CapacityCalendar = attrs.field(converter=_capacity)
    channels: tuple[str, ...] = attrs.field(converter=_channels)

    @property
    def scope(self) -> str:
        """The pool's counter: ``"p:<name>"``."""
        return f"p:{self.name}"

    def capacity_on(self, day: date) -> int:
        """Places in the pool on ``day``."""
        return self.capacity.capacity_on(day)
