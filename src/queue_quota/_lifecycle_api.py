"""The `Scheduler`'s lifecycle methods: the event log and reopening days (a mixin, so that
``scheduler.py`` keeps to booking). See "Events and notifications"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ._candidates import CandidateCache
from ._capabilities import require
from ._inputs import check_day
from ._waitlist_api import Promotions
from .errors import ConfigurationError
from .events import Event
from .storage._lifecycle import MAX_EVENTS

if TYPE_CHECKING:
    from .calendar import WorkingCalendar
    from .office import Office
    from .policies.base import QuotaPolicy
    from .storage.base import Storage

__all__ = ["SchedulerLifecycle"]


class SchedulerLifecycle:
    """Mixed into `Scheduler`."""

    _office: Office
    _storage: Storage
    _calendar: WorkingCalendar
    _now: Callable[[datetime | None], datetime]
    _policies: dict[str, QuotaPolicy]

    if TYPE_CHECKING:

        def _when(self, at: datetime, *, frees: bool = False) -> dict[str, Any]: ...
        def _sync_openings(self) -> bool: ...

    def _log(self) -> Any:
        """The storage, if it writes events (every `TransactionalStorage` does)."""
        return require(self._storage, "events")

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
        """Open ``day`` for every process sharing the storage: lift its run-time closure,
        or open a day the office calendar closes (a holiday revoked by a new decree).

        Its places can be booked at once, by every scheduler on the storage (skip pointers
        are reset and the candidates rebuilt), the waitlist is given its room in the same
        transaction, and an event ``day_reopened`` is written (with ``opened: true`` for a
        calendar holiday). Reopening a day that is open changes nothing; `close_day` closes
        an opened day again.

        Raises:
            ConfigurationError: A past day, or a storage that writes no events.
        """
        check_day("day", day)
        storage = self._log()
        at = self._now(now)
        today = self._calendar.local_date(at)
        if day < today:
            raise ConfigurationError(
                f"cannot reopen a past day ({day}; today is {today})",
                message_key="configuration_error.past_reopen",
                day=day,
                today=today,
            )
        self._sync_openings()
        holiday = self._calendar.closure_reason(day)  # None: the calendar opens it already
        when = self._when(at, frees=True)
        if holiday is not None and "promoter" in when:
            # The waitlist is offered the day as the calendar will have it once opened.
            opened = self._calendar.with_openings([day])
            when["promoter"] = Promotions(self._policies, CandidateCache(self._office), opened, at)
        storage.reopen_day(self._office.id, day, holiday=holiday, **when)
        self._sync_openings()
