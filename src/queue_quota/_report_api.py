"""The `Scheduler`'s reports: an office's figures per day and channel, read from the
storage (a mixin, so that ``scheduler.py`` keeps to booking). See `queue_quota.report`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from ._capabilities import require
from ._inputs import check_day
from .errors import ConfigurationError
from .report import Report, ReportRow, day_row, total_row
from .storage._lifecycle import MAX_EVENTS

if TYPE_CHECKING:
    from .calendar import WorkingCalendar
    from .office import Office
    from .storage.base import Storage

__all__ = ["MAX_REPORT_DAYS", "SchedulerReports"]

#: The longest range a report covers, in days (as `Scheduler.availability`).
MAX_REPORT_DAYS = 3700
#: The event a refused walk-in writes (`queue_quota.models.Reservation.log_refusal`).
TURNED_AWAY = "turned_away"
_ONE = timedelta(days=1)


class SchedulerReports:
    """Mixed into `Scheduler`."""

    _office: Office
    _storage: Storage
    _calendar: WorkingCalendar
    _now: Callable[[datetime | None], datetime]

    if TYPE_CHECKING:

        def _effective_calendar(self) -> WorkingCalendar: ...

    def report(self, start: date, end: date, *, now: datetime | None = None) -> Report:
        """The office's figures per day in ``[start, end)`` and per channel, with totals.

        Reads only. Per day and channel: the capacity (``0`` on a closed day, with the
        reason), the places booked, checked in, marked no-show, still pending and
        cancelled, what the channel's counter holds, the walk-ins turned away because the
        day was full, and the rates (see `queue_quota.report.ReportRow`). A day has
        ended when it is before the office's date at ``now`` (default: the clock); its
        no-show rate counts once `mark_no_shows` has run for it.

        Walk-ins turned away are counted from the event log (each refusal for a full day
        wrote a ``turned_away`` event in its own transaction). A refusal that never
        reached the storage (outside the opening hours, a closed day, a missing claim) or
        that a rule made (the per-citizen limit) is not counted: that citizen was told to
        come back at a given time, not turned away.

        Cost: one read of the bookings per day, one counter read per channel, and, when
        the office has a walk-in channel, the whole event log in pages of 1,000 events
        (a log of a million events is a thousand reads): run long reports from a job.

        Raises:
            ConfigurationError: ``start > end``, a range longer than 3,700 days, or an
                office with a walk-in channel on a storage that writes no events.
        """
        check_day("start", start)
        check_day("end", end)
        if end < start or (end - start).days > MAX_REPORT_DAYS:
            raise ConfigurationError(
                f"need start <= end and at most {MAX_REPORT_DAYS} days, got {start} .. {end}",
                message_key="configuration_error.date_range",
                start=start,
                end=end,
                max_days=MAX_REPORT_DAYS,
            )
        today = self._calendar.local_date(self._now(now))
        office = self._office
        policies = office.policies
        channels = tuple(p.channel for p in policies)
        walk_ins = frozenset(c for c in channels if c in office.walk_in_channels)
        away = self._turned_away(start, end, walk_ins) if walk_ins else {}
        calendar = self._effective_calendar()
        held = {c: self._storage.booked_counts(office.id, c, start, end) for c in channels}
        rows: list[ReportRow] = []
        by_channel: dict[str, list[ReportRow]] = {c: [] for c in channels}
        d = start
        while d < end:
            counts = self._places_on(d)
            reason = calendar.closure_reason(d)
            for p in policies:
                c = p.channel
                capacity = 0 if reason is not None else max(0, p.capacity_on(d))
                row = day_row(
                    d,
                    c,
                    capacity,
                    "no capacity" if reason is None and not capacity else reason,
                    counts.get(c, {}),
                    held[c].get(d, 0),
                    away.get((d, c), 0) if c in walk_ins else None,
                    d < today,
                )
                rows.append(row)
                by_channel[c].append(row)
            d += _ONE
        return Report(
            office_id=office.id,
            start=start,
            end=end,
            today=today,
            channels=channels,
            rows=tuple(rows),
            totals={c: total_row(c, by_channel[c], c in walk_ins) for c in channels},
        )

    def _places_on(self, day: date) -> dict[str, dict[str, int]]:
        """Places of ``day``'s bookings (cancelled ones too) by channel, then status."""
        out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for b in self._storage.bookings_on(self._office.id, day, include_cancelled=True):
            out[b.channel][b.status.value] += b.places
        return out

    def _turned_away(
        self, start: date, end: date, channels: frozenset[str]
    ) -> dict[tuple[date, str], int]:
        """Places turned away per (day, channel) in ``[start, end)``, from the whole log."""
        log = require(self._storage, "events", ", and walk-ins turned away are counted from them")
        out: dict[tuple[date, str], int] = defaultdict(int)
        after = 0
        while True:
            page = log.events(self._office.id, after=after, limit=MAX_EVENTS)
            if not page:
                return out
            for e in page:
                if e.kind == TURNED_AWAY and e.day is not None and start <= e.day < end:
                    channel = e.data.get("channel")
                    if channel in channels:
                        out[(e.day, channel)] += int(e.data.get("places", 1))
            after = page[-1].seq
