"""Commands about whole days: ``close-day`` and ``mark-no-shows``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import _format as fmt
from ._parser import iso_date

if TYPE_CHECKING:
    from ._context import Context
    from ._parser import AddCommand

__all__ = ["register"]


def register(add: AddCommand) -> None:
    """Add the commands of this module to the parser."""
    p = add(
        "close-day",
        _close_day,
        access="create",
        summary="close a day and move its bookings",
        description=(
            "Close a day for every process sharing the database and move its bookings, in\n"
            "their order, to the next days with room. Prints the moved bookings with their\n"
            "old and new numbers: notify these citizens of their new number and day."
        ),
        examples=['--office tegal.toml close-day 2020-06-12 --reason "banjir (flood)"'],
    )
    p.add_argument("day", metavar="DATE", type=iso_date, help="the day to close, YYYY-MM-DD")
    p.add_argument("--reason", metavar="TEXT", required=True, help="why (shown to citizens)")

    p = add(
        "mark-no-shows",
        _mark_no_shows,
        access="write",
        summary="mark who did not come on a past day",
        description=(
            "Mark every booking of a day that has ended (before today at the office) that is\n"
            "still booked as a no-show, freeing its place in the day's count. Checked-in and\n"
            "cancelled bookings are left alone. Prints the labels marked, one a line, or a\n"
            "sentence saying none was; a day that has not ended is exit status 2."
        ),
        examples=["--office tegal.toml mark-no-shows 2020-06-05"],
    )
    p.add_argument("day", metavar="DATE", type=iso_date, help="the day that has ended, YYYY-MM-DD")


def _close_day(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    moved = sched.close_day(args.day, args.reason, now=ctx.now)
    day = fmt.format_date(args.day, ctx.lang)
    ctx.print(ctx.text("closed", day=day, reason=args.reason.strip()))
    if not moved:
        ctx.print(ctx.text("closed.none"))
        return 0
    key = "closed.moved.one" if len(moved) == 1 else "closed.moved.other"
    ctx.print(ctx.text(key, count=len(moved)))
    ctx.print()
    headers = [
        ctx.text("col.id"),
        ctx.text("col.channel"),
        ctx.text("col.old_label"),
        ctx.text("col.new_label"),
        ctx.text("col.new_day"),
    ]
    rows = [
        (
            b.id,
            fmt.channel_name(sched.office, b.channel, ctx.lang),
            b.previous_label or "?",
            b.label,
            fmt.format_date(b.day, ctx.lang),
        )
        for b in moved
    ]
    ctx.print(fmt.table(headers, rows))
    return 0


def _mark_no_shows(ctx: Context, args: argparse.Namespace) -> int:
    marked = ctx.scheduler().mark_no_shows(args.day, now=ctx.now)
    for b in marked:
        ctx.print(b.label)
    if not marked:
        ctx.print(ctx.text("no_shows.none"))
    return 0
