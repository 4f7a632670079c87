"""The smallest online capacity that keeps every wait within a bound, found by simulating
the same citizens at several capacities ("how many places do we need so that nobody waits
more than 5 working days?")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, cast

import attrs

from ..errors import ConfigurationError
from ..office import Office
from . import _draws, _engine
from .demand import Demand
from .results import Simulation
from .runner import simulate

__all__ = ["CapacityAnswer", "smallest_capacity"]

#: The largest capacity a day the search tries.
MAX_CAPACITY = 5000


@attrs.frozen(kw_only=True)
class CapacityAnswer:
    """What `smallest_capacity` found.

    Attributes:
        channel: The channel whose capacity was varied.
        capacity: The smallest places a day with which every citizen is given a place and
            waits at most ``max_wait`` working days.
        max_wait: The bound asked for.
        simulation: The simulation at ``capacity``.
        below: The simulation at ``capacity - 1`` (``None`` when ``capacity`` is 1): what
            one place fewer does.
        runs: How many simulations the search ran.
    """

    channel: str
    capacity: int
    max_wait: int
    simulation: Simulation
    below: Simulation | None
    runs: int


def _fits(sim: Simulation, max_wait: int) -> bool:
    s = sim.summary
    gave_up = s.online_gave_up + s.online_still_waiting
    return gave_up == 0 and (s.wait_max is None or s.wait_max <= max_wait)


def _with_capacity(office: Office, channel: str) -> Callable[[int], Office]:
    policy = office.policy(channel)
    if not hasattr(policy, "capacity") or getattr(policy, "sessions", None):
        raise ConfigurationError(
            f"the policy of {channel!r} has no single capacity to vary (a custom policy, or "
            "arrival windows with their own capacities): simulate the offices you consider "
            "and compare them",
            message_key="configuration_error.simulate_capacity",
            channel=channel,
        )
    others = office.policies

    def make(n: int) -> Office:
        changed = [
            attrs.evolve(cast(Any, p), capacity=n) if p.channel == channel else p for p in others
        ]
        return attrs.evolve(office, policies=changed)

    return make


def smallest_capacity(
    office: Office,
    demand: Demand,
    *,
    max_wait: int,
    start: date,
    days: int,
    seed: int,
    channel: str | None = None,
) -> CapacityAnswer | None:
    """The smallest capacity a day of the online ``channel`` (default: the demand's online
    channel, else the office's first channel booked ahead) with which every simulated
    citizen is given a place and waits at most ``max_wait`` working days.

    The same citizens (one draw of ``demand``) meet the office at each capacity tried: a
    doubling from 1 until it fits, then a bisection. It assumes that more places never make
    a wait longer, which holds for the built-in policies; check ``below`` when in doubt.

    Returns:
        The answer, or ``None`` when not even `MAX_CAPACITY` places a day fit.

    Raises:
        ConfigurationError: A bad bound, or a channel without a single capacity to vary.
    """
    if isinstance(max_wait, bool) or not isinstance(max_wait, int) or max_wait < 0:
        raise ConfigurationError(
            f"max_wait must be a whole number of working days >= 0, got {max_wait!r}",
            message_key="configuration_error.simulate_input",
            field="max_wait",
        )
    if channel is None:
        channel = demand.online_channel or next(
            (c for c in office.channels if c not in office.walk_in_channels), None
        )
    if channel is None:
        raise ConfigurationError(
            f"office {office.id!r} has no online channel",
            message_key="configuration_error.simulate_channel",
            channel="online",
        )
    make = _with_capacity(office, channel)
    simulate(make(1), demand, start=start, days=days, seed=seed)  # checks every argument
    draws = _draws.draw(demand, days, seed)
    runs: dict[int, Simulation] = {}

    def run(n: int) -> Simulation:
        if n not in runs:
            runs[n] = _engine.run(make(n), demand, start, days, draws, seed)
        return runs[n]

    low, high = 0, 1  # low never fits (0 places fit nobody), high is tried
    while not _fits(run(high), max_wait):
        if high >= MAX_CAPACITY:
            return None
        low, high = high, min(2 * high, MAX_CAPACITY)
    while high - low > 1:
        middle = (low + high) // 2
        if _fits(run(middle), max_wait):
            high = middle
        else:
            low = middle
    return CapacityAnswer(
        channel=channel,
        capacity=high,
        max_wait=max_wait,
        simulation=run(high),
        below=run(high - 1) if high > 1 else None,
        runs=len(runs),
    )
