"""`simulate` and `compare`: run an office's real policies against a demand model."""

from __future__ import annotations

from datetime import date

from .._calendar_days import check_day
from ..errors import ConfigurationError
from ..office import Office
from . import _draws, _engine, _stats
from .demand import Demand
from .results import Comparison, Simulation

__all__ = ["MAX_DAYS", "compare", "simulate"]

#: The longest simulation, in calendar days (ten years).
MAX_DAYS = 3660


def _check(office: object, demand: object, start: object, days: object, seed: object) -> None:
    if not isinstance(office, Office):
        raise ConfigurationError(
            f"office must be an Office, got {type(office).__name__}",
            message_key="configuration_error.simulate_input",
            field="office",
        )
    if not isinstance(demand, Demand):
        raise ConfigurationError(
            f"demand must be a Demand, got {type(demand).__name__}",
            message_key="configuration_error.simulate_input",
            field="demand",
        )
    check_day(start, "start")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ConfigurationError(
            f"days must be a whole number from 1 to {MAX_DAYS}, got {days!r}",
            message_key="configuration_error.simulate_days",
            max_days=MAX_DAYS,
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigurationError(
            f"seed must be a whole number, got {seed!r}",
            message_key="configuration_error.simulate_input",
            field="seed",
        )


def simulate(office: Office, demand: Demand, *, start: date, days: int, seed: int) -> Simulation:
    """Run ``office``'s real policies for ``days`` calendar days from ``start``.

    The citizens are drawn from ``demand`` with ``random.Random(seed)`` first (see
    `Demand`), then meet a `Scheduler` of the office on a fresh `MemoryStorage`, through
    its public API, at simulated times (every call passes ``now=``). Built-in and custom
    policies run unchanged. The same arguments give the same result; the scheduler's
    random booking ids are never looked at but as handles.

    What a day holds and the order of its events: `DayRow` and the module
    ``queue_quota.simulate._engine``. Bookings made for days after the last simulated one
    count in the waits (their day is known) but are not served.

    Args:
        office: The office (its calendar and policies as they are).
        demand: The demand model.
        start: The first simulated day.
        days: Calendar days to simulate (1 to `MAX_DAYS`).
        seed: The seed of the draws.

    Returns:
        The `Simulation`: ``rows``, ``summary``, ``as_rows()``.

    Raises:
        ConfigurationError: Bad arguments; counts given for fewer than ``days`` days; an
            office without an online channel for online demand; a ``Demand`` channel the
            office does not have (`UnknownChannel`) or of the wrong kind.

    Example:
        >>> from datetime import date
        >>> import queue_quota as qq
        >>> from queue_quota.policies import OnlineQuota
        >>> office = qq.Office(id="loket", calendar=qq.WorkingCalendar(),
        ...                    policies=[OnlineQuota(capacity=10)])
        >>> sim = simulate(office, Demand(online_per_day=8, poisson=False),
        ...                start=date(2020, 6, 1), days=5, seed=1)
        >>> sim.summary.wait_max, sim.rows[1].booked_for_day["online"]
        (1, 8)
    """
    _check(office, demand, start, days, seed)
    if not office.channels or all(c in office.walk_in_channels for c in office.channels):
        online_demand = demand.online_per_day or demand.first_day_surge
        if online_demand:
            raise ConfigurationError(
                f"office {office.id!r} has no online channel for the online demand",
                message_key="configuration_error.simulate_channel",
                channel="online",
            )
    draws = _draws.draw(demand, days, seed)
    return _engine.run(office, demand, start, days, draws, seed)


def compare(
    office_a: Office, office_b: Office, demand: Demand, *, start: date, days: int, seed: int
) -> Comparison:
    """Simulate two offices on the same demand: the same citizens arriving on the same days
    (the draws depend on ``demand``, ``days`` and ``seed`` only, never on the office).

    Returns:
        A `Comparison`: both simulations and ``difference`` (``b - a`` of every summary
        number).

    Raises:
        ConfigurationError: As `simulate`.
    """
    a = simulate(office_a, demand, start=start, days=days, seed=seed)
    b = simulate(office_b, demand, start=start, days=days, seed=seed)
    return Comparison(a=a, b=b, difference=_stats.difference(a.summary, b.summary))
