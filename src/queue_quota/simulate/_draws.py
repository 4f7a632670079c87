"""The demand drawn once, before any office is asked: the same seed gives the same citizens.

Nothing here knows the office. A mean is drawn for every calendar day; `_engine` thins
the online arrivals of a day the office is closed (``keep < closed_day_share``) and drops
the walk-ins, which keeps the draws of two offices with different calendars identical.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import time

import attrs

from ..errors import ConfigurationError
from .demand import Demand

__all__ = ["Arrival", "Draws", "draw", "poisson"]

#: Largest mean drawn in one go by Knuth's method (exp(-30) is far from underflow).
_CHUNK = 30.0


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method, a large mean drawn as a sum of small ones)."""
    n = 0
    while mean > 0:
        step = min(mean, _CHUNK)
        mean -= step
        limit = math.exp(-step)
        product = rng.random()
        while product > limit:
            n += 1
            product *= rng.random()
    return n


@attrs.frozen
class Arrival:
    """One online citizen, as drawn.

    ``second`` is the local second of the day they register at; ``keep`` decides whether
    they still register on a day the office is closed; the flags say what they will do.
    """

    number: int
    second: int
    keep: float
    surge: bool
    priority: bool
    cancels: bool
    shows: bool


@attrs.frozen
class Draws:
    """Per simulated day: the online arrivals (by time) and the walk-ins (each a fraction
    of the walk-in opening hours, in order), and whether the counts were given exactly."""

    online: tuple[tuple[Arrival, ...], ...]
    walk_ins: tuple[tuple[float, ...], ...]
    online_exact: bool
    walk_in_exact: bool


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _counts(
    rng: random.Random, value: float | tuple[int, ...], days: int, exact_mean: bool, name: str
) -> list[int]:
    if isinstance(value, tuple):
        if len(value) < days:
            raise ConfigurationError(
                f"{name} gives {len(value)} counts for {days} simulated days",
                message_key="configuration_error.demand_count",
                field=name,
            )
        return list(value[:days])
    if exact_mean:  # spread a fractional mean so that every prefix meets it
        return [math.floor((i + 1) * value) - math.floor(i * value) for i in range(days)]
    return [poisson(rng, value) for _ in range(days)]


def draw(demand: Demand, days: int, seed: int) -> Draws:
    """Every citizen of ``days`` days of ``demand``, from ``random.Random(seed)``."""
    rng = random.Random(seed)
    exact = not demand.poisson
    online_counts = _counts(rng, demand.online_per_day, days, exact, "online_per_day")
    walk_counts = _counts(rng, demand.walk_in_per_day, days, exact, "walk_in_per_day")
    surge = demand.first_day_surge
    surge_count = int(surge) if exact else poisson(rng, float(surge))
    first, last = (_seconds(t) for t in demand.online_hours)
    number = 0
    online: list[tuple[Arrival, ...]] = []
    walk_ins: list[tuple[float, ...]] = []
    for i in range(days):
        day: list[Arrival] = []
        extra = surge_count if i == 0 else 0
        for k in range(online_counts[i] + extra):
            number += 1
            day.append(
                Arrival(
                    number=number,
                    second=first + int(rng.random() * (last - first)),
                    keep=rng.random(),
                    surge=k >= online_counts[i],
                    priority=rng.random() < demand.priority_share,
                    cancels=rng.random() < demand.cancel_rate,
                    shows=rng.random() >= demand.no_show_rate,
                )
            )
        day.sort(key=lambda a: (a.second, a.number))
        online.append(tuple(day))
        walk_ins.append(tuple(sorted(rng.random() for _ in range(walk_counts[i]))))
    return Draws(
        online=tuple(online),
        walk_ins=tuple(walk_ins),
        online_exact=isinstance(demand.online_per_day, tuple),
        walk_in_exact=isinstance(demand.walk_in_per_day, tuple),
    )


def thin(arrivals: Sequence[Arrival], share: float, exact: bool) -> list[Arrival]:
    """The arrivals of a day the office is closed who still register.

    Drawn (``poisson``) demand keeps each with probability ``share``; counts spread from a
    mean (``exact``) keep the first ``floor(n * share)`` in order of their numbers. The
    surge always comes.
    """
    surge = [a for a in arrivals if a.surge]
    usual = [a for a in arrivals if not a.surge]
    if exact:
        chosen = {
            a.number for a in sorted(usual, key=lambda a: a.number)[: int(len(usual) * share)]
        }
        kept = [a for a in usual if a.number in chosen]
    else:
        kept = [a for a in usual if a.keep < share]
    return sorted([*kept, *surge], key=lambda a: (a.second, a.number))
