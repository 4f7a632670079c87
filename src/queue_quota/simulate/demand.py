"""`Demand`: who comes, when, and how they behave, for `simulate`.

A demand model is data only: the numbers an office head estimates ("about 100 a day
online, 40 at the door, 500 on the day we reopen, one in ten does not come"). The
simulator draws the citizens from it with ``random.Random(seed)`` before it asks the
office anything, so two offices simulated with the same demand and seed see the same
citizens arriving on the same days (`compare`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import time
from typing import Any, TypeAlias

import attrs

from ..errors import ConfigurationError

__all__ = ["Demand", "PerDay"]

#: A mean number of people a day, or exact counts, one per simulated calendar day.
PerDay: TypeAlias = float | Sequence[int]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _per_day(value: Any, name: str) -> float | tuple[int, ...]:
    """A mean (a finite number >= 0) or a sequence of whole counts >= 0."""
    if _is_number(value):
        if math.isfinite(value) and value >= 0:
            return float(value)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        counts = tuple(value)
        if all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            return counts
    raise ConfigurationError(
        f"{name} must be a mean number of people a day (>= 0) or a list of whole numbers "
        f">= 0, one per simulated day; got {value!r}",
        message_key="configuration_error.demand_count",
        field=name,
    )


def _online(value: Any) -> float | tuple[int, ...]:
    return _per_day(value, "online_per_day")


def _walk_in(value: Any) -> float | tuple[int, ...]:
    return _per_day(value, "walk_in_per_day")


def _count(_: object, a: attrs.Attribute[Any], value: Any) -> None:
    ok = _is_number(value) and math.isfinite(value) and value >= 0
    if a.name != "first_day_surge":  # the others are whole numbers of days
        ok = ok and isinstance(value, int)
    if not ok:
        raise ConfigurationError(
            f"{a.name} must be a number >= 0, got {value!r}",
            message_key="configuration_error.demand_count",
            field=a.name,
        )


def _rate(_: object, a: attrs.Attribute[Any], value: Any) -> None:
    if not (_is_number(value) and 0 <= value <= 1):
        raise ConfigurationError(
            f"{a.name} must be a share from 0 to 1, got {value!r}",
            message_key="configuration_error.demand_rate",
            field=a.name,
        )


def _hours(value: Any) -> tuple[time, time]:
    if isinstance(value, Sequence) and len(value) == 2:
        first, last = value
        if (
            isinstance(first, time)
            and isinstance(last, time)
            and first.tzinfo is None
            and last.tzinfo is None
            and first < last
        ):
            return first, last
    raise ConfigurationError(
        f"online_hours must be two naive datetime.time, the first earlier, got {value!r}",
        message_key="configuration_error.demand_hours",
        field="online_hours",
    )


def _claims(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping) and all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
    ):
        return dict(value)
    raise ConfigurationError(
        f"priority_claims must map claim names to non-empty texts, got {value!r}",
        message_key="configuration_error.demand_claims",
        field="priority_claims",
    )


def _flag(_: object, a: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError(
            f"{a.name} must be True or False, got {value!r}",
            message_key="configuration_error.demand_flag",
            field=a.name,
        )


def _channel(_: object, a: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigurationError(
            f"{a.name} must be None or a channel name, got {value!r}",
            message_key="configuration_error.demand_channel",
            field=a.name,
        )


@attrs.frozen(kw_only=True)
class Demand:
    """How many citizens come, when, and what they do.

    **Counts.** ``online_per_day`` and ``walk_in_per_day`` are either a **mean** number of
    people per working day of the office (a float), or **exact counts**, one per simulated
    calendar day (a list of ints; index 0 is ``start``; a list shorter than ``days`` is
    refused by `simulate`). With a mean and ``poisson=True`` (the default) each day's
    count is drawn from a Poisson distribution around it; with ``poisson=False`` the
    counts are the mean itself, spread so that a fractional mean is met exactly over the
    days (12.5 a day gives 12, 13, 12, 13, ...). Exact counts are used as given.

    **When.** Online registrants arrive at times spread uniformly over ``online_hours``
    (local office time), on the office's working days; on the days it is closed (weekends,
    holidays) ``closed_day_share`` of the working day's mean still registers (a mean only:
    exact counts say for themselves). Walk-ins arrive at times spread uniformly over the
    walk-in policy's ``opens`` .. ``closes`` (the whole day for a policy without them), on
    working days only (exact counts: on the days given; on a closed day they find the door
    shut and are turned away).

    **The reopening crowd.** ``first_day_surge`` is a **number of people** (not a
    multiple): that many extra online registrants on the first simulated day, Poisson
    around it when ``poisson=True``, exactly that many when ``False`` (then it must be a
    whole number).

    **Behaviour.** ``no_show_rate``: the share of citizens given a place who do not come
    (left ``no_show`` by `Scheduler.mark_no_shows`). ``cancel_rate``: the share of online
    bookings cancelled ``cancel_days_before`` calendar days before their day (or on the
    day they were made, if that is later). ``priority_share``: the share of online
    registrants who carry ``priority_claims`` (``{"group": "lansia"}``): they first try
    every channel whose policy ``requires_claim`` one of those claims, in the office's
    order, then the general online channel.

    **Refused online.** A citizen refused on every channel tried joins the general online
    channel's waitlist when ``waitlist=True`` (and is served if a place is freed for
    them before the entry expires); otherwise, or if joining is refused too, they try
    again at the same hour on each of the next ``retry_days`` calendar days, then give up
    (``retry_days=0``: give up at once). A walk-in turned away does not come back.

    Args:
        online_per_day: Online registrants: a mean per working day, or counts per day.
        walk_in_per_day: Walk-ins: a mean per working day, or counts per day.
        first_day_surge: Extra online registrants on the first day (a number of people).
        no_show_rate: Share of citizens given a place who do not come.
        cancel_rate: Share of online bookings cancelled before their day.
        cancel_days_before: Calendar days before its day that a booking is cancelled.
        priority_share: Share of online registrants who carry ``priority_claims``.
        priority_claims: The claims they carry (verified facts, as in `Scheduler.book`).
        poisson: Draw counts from Poisson distributions around the means.
        waitlist: Refused online citizens join the general channel's waitlist.
        retry_days: Further days a refused online citizen tries again.
        online_hours: ``(first, last)`` local times online registrations arrive between.
        closed_day_share: Share of the mean that registers online on a closed day.
        online_channel: The general online channel (``None``: the office's first channel
            that is not a walk-in channel and requires no claim).
        walk_in_channel: The channel walk-ins ask for (``None``: the office's first walk-in
            channel; an office without one gets no walk-ins).

    Raises:
        ConfigurationError: A count, share, time or claim that cannot be used (each with
            a ``message_key``).

    Example:
        >>> Demand(online_per_day=100, walk_in_per_day=40, first_day_surge=500).poisson
        True
    """

    online_per_day: float | tuple[int, ...] = attrs.field(default=0.0, converter=_online)
    walk_in_per_day: float | tuple[int, ...] = attrs.field(default=0.0, converter=_walk_in)
    first_day_surge: float | int = attrs.field(default=0, validator=_count)
    no_show_rate: float = attrs.field(default=0.0, validator=_rate)
    cancel_rate: float = attrs.field(default=0.0, validator=_rate)
    cancel_days_before: int = attrs.field(default=1, validator=_count)
    priority_share: float = attrs.field(default=0.0, validator=_rate)
    priority_claims: dict[str, str] = attrs.field(
        factory=lambda: {"group": "lansia"}, converter=_claims, hash=False
    )
    poisson: bool = attrs.field(default=True, validator=_flag)
    waitlist: bool = attrs.field(default=False, validator=_flag)
    retry_days: int = attrs.field(default=0, validator=_count)
    online_hours: tuple[time, time] = attrs.field(default=(time(8), time(20)), converter=_hours)
    closed_day_share: float = attrs.field(default=0.0, validator=_rate)
    online_channel: str | None = attrs.field(default=None, validator=_channel)
    walk_in_channel: str | None = attrs.field(default=None, validator=_channel)

    def __attrs_post_init__(self) -> None:
        surge = self.first_day_surge
        if not self.poisson and surge != int(surge):
            raise ConfigurationError(
                f"first_day_surge must be a whole number of people when poisson is False, "
                f"got {surge!r}",
                message_key="configuration_error.demand_count",
                field="first_day_surge",
            )
