"""`Report`: what an office gave and what became of it, per day and channel.

Made by `Scheduler.report` from the storage (nothing written). Every figure counts
**places** (a household of three is 3), of the bookings whose day is that day now (a
booking moved away counts on its new day only):

* ``booked``: the places that stood on the day: bookings ``booked``, ``checked_in`` or
  ``no_show`` (every status but ``cancelled``), so ``booked == checked_in + no_shows +
  pending``;
* ``pending``: still ``booked`` (a day to come, or one whose no-shows are not marked yet);
* ``held``: what the channel's own counter holds (places booked or checked in, including
  those a walk-in channel took from this channel's unused places under ``takes_unused``);
* ``turned_away``: places asked for at the door and refused because the day was full,
  counted from the ``turned_away`` events; ``None`` on a channel that is not walk-in
  (its refusals are not counted: such a request is offered another day).

`Report.as_rows` flattens the report for CSV and JSON with the columns of `FIELDS`, a
stable interface (the CLI and the charts read it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

import attrs

__all__ = ["FIELDS", "Report", "ReportRow"]

#: The columns of `Report.as_rows`, in order (a stable interface: names are not changed).
FIELDS: Final = (
    "day",
    "channel",
    "capacity",
    "closed_reason",
    "booked",
    "checked_in",
    "no_shows",
    "pending",
    "cancelled",
    "held",
    "turned_away",
    "ended",
    "no_show_rate",
    "utilisation",
    "turned_away_share",
)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


@attrs.frozen(kw_only=True)
class ReportRow:
    """One channel on one day (or, with ``day`` ``None``, over the report's range).

    Attributes:
        day: The day, or ``None`` for a channel's totals.
        channel: The channel.
        capacity: The places the office gives that day (``0`` when closed); in a total,
            the sum over the range.
        closed_reason: Why the channel gives nothing that day (a weekend, a holiday's name,
            a closure's reason, ``"no capacity"``), else ``None``; ``None`` in a total.
        booked: Places of the day's bookings that stood: ``checked_in + no_shows +
            pending`` (every status but cancelled).
        checked_in: Places checked in.
        no_shows: Places marked no-show (`Scheduler.mark_no_shows`).
        pending: Places still booked (neither checked in nor marked).
        cancelled: Places cancelled (a cancelled booking keeps its day).
        held: Places the channel's counter holds (booked or checked in, counting those
            another channel took from this channel's unused places).
        turned_away: Places refused at the door because the day was full (walk-in
            channels; ``None`` for others).
        ended: Whether the day had ended when the report was made (in a total: whether
            any day had).
        no_show_rate: ``no_shows / (checked_in + no_shows)`` on a day that has ended
            (``None`` before, or with nobody to count); in a total, over the ended days.
        utilisation: ``held / capacity`` (``None`` when the capacity is 0).
        turned_away_share: ``turned_away / (booked + cancelled + turned_away)``: of the
            places asked for at the door, the share refused (``None`` when nothing was
            asked or the channel is not walk-in).
    """

    day: date | None
    channel: str
    capacity: int
    closed_reason: str | None = None
    booked: int = 0
    checked_in: int = 0
    no_shows: int = 0
    pending: int = 0
    cancelled: int = 0
    held: int = 0
    turned_away: int | None = None
    ended: bool = False
    no_show_rate: float | None = None
    utilisation: float | None = None
    turned_away_share: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The row with the keys of `FIELDS` (``day`` as ISO text, ``None`` for totals)."""
        out = {name: getattr(self, name) for name in FIELDS}
        out["day"] = None if self.day is None else self.day.isoformat()
        return out


def day_row(
    day: date,
    channel: str,
    capacity: int,
    closed_reason: str | None,
    counts: Mapping[str, int],
    held: int,
    turned_away: int | None,
    ended: bool,
) -> ReportRow:
    """A day's row from its counted places (``counts`` by status value)."""
    checked_in = counts.get("checked_in", 0)
    no_shows = counts.get("no_show", 0)
    pending = counts.get("booked", 0)
    cancelled = counts.get("cancelled", 0)
    booked = checked_in + no_shows + pending
    return ReportRow(
        day=day,
        channel=channel,
        capacity=capacity,
        closed_reason=closed_reason,
        booked=booked,
        checked_in=checked_in,
        no_shows=no_shows,
        pending=pending,
        cancelled=cancelled,
        held=held,
        turned_away=turned_away,
        ended=ended,
        no_show_rate=_ratio(no_shows, checked_in + no_shows) if ended else None,
        utilisation=_ratio(held, capacity),
        turned_away_share=(
            None if turned_away is None else _ratio(turned_away, booked + cancelled + turned_away)
        ),
    )


def total_row(channel: str, rows: list[ReportRow], walk_in: bool) -> ReportRow:
    """A channel's totals over its day rows (rates from the sums)."""

    def total(name: str) -> int:
        return sum(getattr(r, name) for r in rows)

    ended = [r for r in rows if r.ended]
    seen = sum(r.checked_in + r.no_shows for r in ended)
    away = sum(r.turned_away or 0 for r in rows) if walk_in else None
    asked = total("booked") + total("cancelled") + (away or 0)
    return ReportRow(
        day=None,
        channel=channel,
        capacity=total("capacity"),
        booked=total("booked"),
        checked_in=total("checked_in"),
        no_shows=total("no_shows"),
        pending=total("pending"),
        cancelled=total("cancelled"),
        held=total("held"),
        turned_away=away,
        ended=bool(ended),
        no_show_rate=_ratio(sum(r.no_shows for r in ended), seen) if ended else None,
        utilisation=_ratio(total("held"), total("capacity")),
        turned_away_share=None if away is None else _ratio(away, asked),
    )


@attrs.frozen(kw_only=True)
class Report:
    """An office's figures per day in ``[start, end)`` and per channel.

    Attributes:
        office_id: The office.
        start: The first day.
        end: The day after the last.
        today: The office's date when the report was made: the days before it have ended.
        channels: The channels, in the office's service order.
        rows: One `ReportRow` per day and channel: by day, then channel in service order.
        totals: Each channel's totals over the range (``day`` is ``None``), by channel.
    """

    office_id: str
    start: date
    end: date
    today: date
    channels: tuple[str, ...]
    rows: tuple[ReportRow, ...]
    totals: Mapping[str, ReportRow]

    def row(self, day: date, channel: str) -> ReportRow:
        """The row of ``channel`` on ``day`` (`KeyError` outside the report)."""
        if self.start <= day < self.end and channel in self.channels:
            i = (day - self.start).days * len(self.channels) + self.channels.index(channel)
            return self.rows[i]
        raise KeyError((day, channel))

    def as_rows(self, *, totals: bool = False) -> list[dict[str, Any]]:
        """The rows as flat dicts with the keys of `FIELDS`, for CSV or JSON.

        ``day`` is ISO text; with ``totals=True`` each channel's totals follow, with
        ``day`` ``None``. Counts are whole numbers, rates floats from 0 to 1 (or ``None``),
        ``ended`` a bool.
        """
        out = [r.as_dict() for r in self.rows]
        if totals:
            out.extend(self.totals[c].as_dict() for c in self.channels)
        return out
