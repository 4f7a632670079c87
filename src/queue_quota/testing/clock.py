"""`FrozenClock`: a clock that only moves when a test moves it.

Pass it as ``Scheduler(office, clock=clock)``; then every call that omits ``now=`` sees
``clock.now``. Nothing sleeps and nothing depends on the machine's real time::

    clock = FrozenClock(datetime(2020, 6, 4, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    sched = Scheduler(office, clock=clock)
    sched.book("online", "3328011234560001")   # booked "at" 09:00 WIB
    clock.advance(hours=8)                      # 17:00 WIB
    clock.set(datetime(2020, 6, 4, 17, 0, tzinfo=UTC))  # 00:00 WIB on 5 June
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ..errors import ConfigurationError

__all__ = ["FrozenClock"]


def _aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ConfigurationError(f"{name} must be an aware datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(f"{name} must be an aware datetime, got the naive {value!r}")
    return value


class FrozenClock:
    """A settable, advanceable clock: call it to read the time.

    Thread-safe: several threads may read it while one moves it.

    Args:
        start: The first reading (an aware datetime); defaults to 1 June 2020, 00:00 UTC.

    Raises:
        ConfigurationError: ``start`` is not an aware datetime.

    Example:
        >>> from datetime import UTC, datetime
        >>> clock = FrozenClock(datetime(2020, 6, 4, 16, 59, tzinfo=UTC))
        >>> clock.advance(minutes=1).isoformat()
        '2020-06-04T17:00:00+00:00'
        >>> clock() == clock.now
        True
    """

    __slots__ = ("_lock", "_now")

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (
            _aware(start, "start") if start is not None else datetime(2020, 6, 1, tzinfo=UTC)
        )
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        """The current reading."""
        with self._lock:
            return self._now

    def __repr__(self) -> str:
        return f"FrozenClock({self.now.isoformat()})"

    @property
    def now(self) -> datetime:
        """The current reading."""
        return self()

    def set(self, now: datetime) -> datetime:
        """Jump to ``now`` (forwards or backwards) and return it.

        Raises:
            ConfigurationError: ``now`` is not an aware datetime.
        """
        value = _aware(now, "now")
        with self._lock:
            self._now = value
        return value

    def advance(
        self,
        delta: timedelta | None = None,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
    ) -> datetime:
        """Move the clock by ``delta`` plus the keyword amounts and return the new reading.

        The step is elapsed time (computed in UTC, then shown in the reading's zone), so
        advancing across a daylight-saving change moves the wall clock accordingly. Moving
        backwards (a negative amount) is allowed: tests of clock skew need it.

        Raises:
            ConfigurationError: ``delta`` is neither ``None`` nor a ``timedelta``.
        """
        if delta is not None and not isinstance(delta, timedelta):
            raise ConfigurationError(f"delta must be a timedelta, got {delta!r}")
        step = (delta or timedelta()) + timedelta(
            days=days, hours=hours, minutes=minutes, seconds=seconds
        )
        with self._lock:
            now = self._now
            self._now = (now.astimezone(UTC) + step).astimezone(now.tzinfo)
            return self._now
