"""The Tegal office at 20 and at 30 online places a day, with the reopening crowd: the
simulations of docs/how-to/choose-your-numbers.md, and the charts shown there.

    python examples/choose_numbers.py docs/img

writes tegal-20.png, tegal-30.png and tegal-20-vs-30.png into the folder given (default:
docs/img) and prints how many online places keep every wait within 5 working days.
Needs the charts extra (matplotlib).
"""

from __future__ import annotations

# --8<-- [start:imports]
import sys
from datetime import date
from pathlib import Path

import attrs

import queue_quota as qq
from queue_quota.config import load_office
from queue_quota.policies import OnlineQuota
from queue_quota.simulate import Demand, Simulation, compare, simulate, smallest_capacity

# --8<-- [end:imports]

tegal = load_office(Path(__file__).resolve().parent / "tegal.toml")

# --8<-- [start:setup]


def with_online(office: qq.Office, places: int) -> qq.Office:
    """The office with ``places`` online places a day (everything else as it is)."""
    policies = [
        attrs.evolve(p, capacity=places) if isinstance(p, OnlineQuota) else p
        for p in office.policies
    ]
    return attrs.evolve(office, policies=policies)


# About 25 online registrations a working day, 300 more on the day the office reopens,
# 35 walk-ins a morning, one in ten who does not come.
demand = Demand(online_per_day=25, walk_in_per_day=35, first_day_surge=300, no_show_rate=0.1)
REOPENS = date(2020, 6, 8)  # a Monday: 60 days from the day the office reopens


def run(places: int) -> Simulation:
    """The reopening, with ``places`` online places a day."""
    return simulate(with_online(tegal, places), demand, start=REOPENS, days=60, seed=2020)


# --8<-- [end:setup]


def draw(folder: Path) -> None:
    """The three charts of the how-to, into ``folder``."""
    from queue_quota.charts import comparison_chart, simulation_chart

    folder.mkdir(parents=True, exist_ok=True)
    at_20, at_30 = run(20), run(30)
    simulation_chart(at_20, folder / "tegal-20.png", lang="en")
    simulation_chart(at_30, folder / "tegal-30.png", lang="en")
    both = compare(
        with_online(tegal, 20), with_online(tegal, 30), demand, start=REOPENS, days=60, seed=2020
    )
    comparison_chart(both, folder / "tegal-20-vs-30.png", lang="en", names=("20 a day", "30 a day"))


def answer() -> int:
    """The fewest online places a day with which nobody waits more than 5 working days."""
    found = smallest_capacity(tegal, demand, max_wait=5, start=REOPENS, days=60, seed=2020)
    assert found is not None
    return found.capacity


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1] / "docs" / "img"
    draw(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
    print(f"{answer()} online places a day: nobody waits more than 5 working days")
