"""``simulate --max-wait N``: the fewest online places a day with which nobody waits more
than N working days (`queue_quota.simulate.smallest_capacity`), in one command."""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

from .. import charts
from ..simulate import Demand, smallest_capacity
from . import _format as fmt

if TYPE_CHECKING:
    from ..office import Office
    from ._context import Context

__all__ = ["show_capacity"]


def show_capacity(
    ctx: Context,
    args: argparse.Namespace,
    office: Office,
    demand: Demand,
    start: date,
    summary: Any,
    write_json: Any,
    write_csv: Any,
    chart_written: Any,
) -> int:
    """Search, then print the answer (and the summary at it and one place fewer); exit 1
    when no capacity up to the search's limit keeps the waits within the bound."""
    found = smallest_capacity(
        office, demand, max_wait=args.max_wait, start=start, days=args.days, seed=args.seed
    )
    if found is None:
        ctx.print(ctx.text("capacity.none", max_wait=args.max_wait))
        return 1
    sim = found.simulation
    table = not (args.json or args.csv)
    if args.json:
        write_json(
            ctx,
            {
                "channel": found.channel,
                "capacity": found.capacity,
                "max_wait": found.max_wait,
                "runs": found.runs,
                "summary": sim.summary.as_dict(),
                "below": None if found.below is None else found.below.summary.as_dict(),
            },
        )
    elif args.csv:
        rows = sim.as_rows()
        write_csv(ctx, list(rows[0]), rows)
    else:
        name = fmt.channel_name(office, found.channel, ctx.lang)
        ctx.print(
            ctx.text(
                "capacity.found",
                capacity=found.capacity,
                channel=name,
                max_wait=found.max_wait,
                runs=found.runs,
            )
        )
        for line in summary(ctx, office, sim):
            ctx.print(f"  {line}")
        if found.below is not None:
            below = found.below.summary
            ctx.print(
                ctx.text(
                    "capacity.below",
                    capacity=found.capacity - 1,
                    wait=below.wait_max if below.wait_max is not None else "-",
                    gave_up=below.online_gave_up + below.online_still_waiting,
                )
            )
    if args.png:
        path = charts.simulation_chart(sim, args.png, lang=ctx.lang)
        chart_written(ctx, path, table)
    return 0
