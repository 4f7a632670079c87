"""The summary of a run, nearest-rank percentiles, and the difference of two summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .results import DayRow, Summary

__all__ = ["difference", "nearest_rank", "summarise"]


def nearest_rank(values: Sequence[int], percent: float) -> int | None:
    """The smallest value with at least ``percent`` % of ``values`` at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(
    rows: Sequence[DayRow],
    waits: Sequence[int],
    *,
    online_registrants: int,
    online_given_place: int,
    online_still_waiting: int,
    channels: Sequence[str],
) -> Summary:
    """The `Summary` of a run's rows and waits."""
    walk_ins = sum(r.walk_ins for r in rows)
    turned_away = sum(r.walk_ins_turned_away for r in rows)
    utilisation: dict[str, float | None] = {}
    for channel in channels:
        offered = sum(r.capacity.get(channel, 0) for r in rows)
        booked = sum(r.booked_for_day.get(channel, 0) for r in rows)
        utilisation[channel] = booked / offered if offered else None
    return Summary(
        online_registrants=online_registrants,
        online_given_place=online_given_place,
        online_gave_up=sum(r.gave_up for r in rows),
        online_still_waiting=online_still_waiting,
        wait_p50=nearest_rank(waits, 50),
        wait_p90=nearest_rank(waits, 90),
        wait_max=max(waits) if waits else None,
        wait_mean=sum(waits) / len(waits) if waits else None,
        walk_ins=walk_ins,
        walk_ins_turned_away=turned_away,
        walk_in_turned_away_share=turned_away / walk_ins if walk_ins else None,
        no_shows=sum(r.no_shows for r in rows),
        cancellations=sum(r.cancellations for r in rows),
        utilisation=utilisation,
        days_window_full=sum(1 for r in rows if r.window_full),
        service_days=sum(1 for r in rows if r.open),
    )


def difference(a: Summary, b: Summary) -> dict[str, int | float | None]:
    """``b - a`` for every key of either summary's `Summary.as_dict`."""
    first, second = a.as_dict(), b.as_dict()
    out: dict[str, int | float | None] = {}
    for key in [*first, *(k for k in second if k not in first)]:
        x, y = first.get(key), second.get(key)
        out[key] = None if x is None or y is None else y - x
    return out
