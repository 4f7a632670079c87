"""Simulate an office's policies against demand, before citizens live them.

``simulate(office, demand, start=, days=, seed=)`` runs the office's real policies (built-in
or custom, unchanged) through the public `Scheduler` API on a memory storage under
simulated time, against citizens drawn from a `Demand`; it returns a `Simulation` with one
`DayRow` per day, a `Summary` (waits in working days, walk-ins turned away, utilisation,
days the window was full) and ``as_rows()`` for CSV and JSON. ``compare`` runs two offices
on the same citizens; ``smallest_capacity`` finds the fewest online places a day that keep
every wait within a bound.
"""

from .capacity import CapacityAnswer, smallest_capacity
from .demand import Demand
from .results import Comparison, DayRow, Simulation, Summary
from .runner import MAX_DAYS, compare, simulate

__all__ = [
    "MAX_DAYS",
    "CapacityAnswer",
    "Comparison",
    "DayRow",
    "Demand",
    "Simulation",
    "Summary",
    "compare",
    "simulate",
    "smallest_capacity",
]
