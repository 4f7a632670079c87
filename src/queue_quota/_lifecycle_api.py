"""The `Scheduler`'s lifecycle methods: the event log and reopening days (a mixin, so that
``scheduler.py`` keeps to booking). See "Events and notifications"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from ._inputs import check_day
from .errors import ConfigurationError
from .events import Event
from .storage._lifecycle import MAX_EVENTS

if TYPE_CHECKING:
    from .calendar import WorkingCalendar
    from .office import Office
    from .storage.base import Storage

__all__ = ["SchedulerLifecycle"]


class SchedulerLifecycle:
    """Mixed into `Scheduler`."""

    _office: Office
    _storage: Storage
    _calendar: WorkingCalendar
    _now: Callable[[datetime | None], datetime]

    def _log(self) -> Any:
        """The storage, if it writes events (every `TransactionalStorage` does)."""
        storage = self._storage
        if not getattr(storage, "supports_events", False):
            raise ConfigurationError(
                f"{type(storage).__name__} does not write events; use a storage built on "
                "TransactionalStorage (memory, SQLite, PostgreSQL, or your own primitives)",
                message_key="configuration_error.no_events",
                storage=type(storage).__name__,
            )
        return storage

    def events(self, *, after: int = 0, limit: int = 100) -> list[Event]:
        """The office's events with ``seq > after``, in ``seq`` order (at most ``limit``).

        Every change (a booking, cancel, move, check-in, no-show, closed or reopened day)
        wrote its event in its own transaction. Follow the log with a cursor: pass the
        last ``seq`` seen as ``after``; a reader that has seen ``seq`` N never later finds
        a new event at or below N, whatever commits concurrently. Seqs are 1, 2, 3, ...
        with no gaps.

        Raises:
            ConfigurationError: ``after`` below 0, ``limit`` outside 1..1000, or a storage
                that writes no events.
        """
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ConfigurationError(
                f"after must be a whole number >= 0, got {after!r}",
                message_key="configuration_error.event_cursor",
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_EVENTS:
            raise ConfigurationError(
                f"limit must be a whole number from 1 to {MAX_EVENTS}, got {limit!r}",
                message_key="configuration_error.event_limit",
                max_events=MAX_EVENTS,
            )
        found: list[Event] = self._log().events(self._office.id, after=after, limit=limit)
        return found

    def reopen_day(self, day: date, *, now: datetime | None = None) -> None:
        """Lift the run-time closure of ``day`` for every process sharing the storage.

        Its places can be booked again at once (skip pointers are reset in the same
        transaction), and an event ``day_reopened`` is written. Reopening a day that is
        not closed at run time changes nothing.

        Raises:
            ConfigurationError: A past day, or a storage that writes no events.
        """
        check_day("day", day)
        at = self._now(now)
        today = self._calendar.local_date(at)
        if day < today:
            raise ConfigurationError(
                f"cannot reopen a past day ({day}; today is {today})",
                message_key="configuration_error.past_reopen",
                day=day,
                today=today,
            )
        self._log().reopen_day(self._office.id, day, now=at.astimezone(UTC))
