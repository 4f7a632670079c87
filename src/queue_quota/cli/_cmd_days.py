"""Commands about whole days: ``close-day`` (and its ``--dry-run``), ``mark-no-shows``, and
``check-office`` (a new office file against the days already booked)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..config import load_office
from . import _format as fmt
from ._parser import iso_date
from ._text import CliError

if TYPE_CHECKING:
    from ..models import Booking
    from ..scheduler import Scheduler
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
            "old and new numbers: notify these citizens of their new number and day.\n"
            "With --dry-run, prints what closing would move, computed by the same code, and\n"
            "changes nothing (no closure, no move, no event)."
        ),
        examples=[
            '--office tegal.toml close-day 2020-06-12 --reason "banjir (flood)" --dry-run',
            '--office tegal.toml close-day 2020-06-12 --reason "banjir (flood)"',
        ],
    )
    p.add_argument("day", metavar="DATE", type=iso_date, help="the day to close, YYYY-MM-DD")
    p.add_argument("--reason", metavar="TEXT", required=True, help="why (shown to citizens)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="only show what would move; change nothing (never creates a database)",
    )

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

    p = add(
        "check-office",
        _check_office,
        access="read",
        summary="check a new office file against the bookings already made",
        description=(
            "Load a new office file (another capacity, sessions, pools or calendar) and\n"
            "compare it with the bookings from today on: every day and counter (a channel,\n"
            "a session, a pool) with more places booked than the new file gives, and the\n"
            "bookings that would have to move (the last-numbered first). Changes nothing.\n"
            "Exit status 0 when every booking fits, 1 when some do not, 2 for a bad file."
        ),
        examples=["--office tegal.toml check-office tegal-new.toml"],
    )
    p.add_argument("file", metavar="FILE", help="the new office file (TOML), of the same office")


def _close_day(ctx: Context, args: argparse.Namespace) -> int:
    if args.dry_run and not ctx.db_exists():  # a preview never creates a database
        raise CliError("err.no_database", db=ctx.db_name(), command="close-day --dry-run")
    sched = ctx.scheduler()
    day = fmt.format_date(args.day, ctx.lang)
    if args.dry_run:
        moved = sched.preview_close_day(args.day, args.reason, now=ctx.now)
        ctx.print(ctx.text("preview.closed", day=day, reason=args.reason.strip()))
        key = "preview.moved.one" if len(moved) == 1 else "preview.moved.other"
    else:
        moved = sched.close_day(args.day, args.reason, now=ctx.now)
        ctx.print(ctx.text("closed", day=day, reason=args.reason.strip()))
        key = "closed.moved.one" if len(moved) == 1 else "closed.moved.other"
    if not moved:
        ctx.print(ctx.text("closed.none"))
    else:
        ctx.print(ctx.text(key, count=len(moved)))
        ctx.print()
        _moved_table(ctx, sched, moved)
    if args.dry_run:
        ctx.print(ctx.text("preview.unchanged"))
    return 0


def _moved_table(ctx: Context, sched: Scheduler, moved: list[Booking]) -> None:
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


def _check_office(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    new = load_office(args.file)
    if new.id != sched.office.id:
        raise CliError("err.other_office", file=args.file, id=new.id, office=sched.office.id)
    preview = sched.preview_office(new, now=ctx.now)
    since = fmt.format_date(preview.since, ctx.lang)
    ctx.print(ctx.text("check.title", file=args.file, office=new.id, day=since))
    ctx.print()
    if preview.fits:
        ctx.print(ctx.text("check.fits"))
        return 0
    headers = [
        ctx.text("col.date"),
        ctx.text("col.counter"),
        ctx.text("col.booked"),
        ctx.text("col.new_capacity"),
        ctx.text("col.over"),
    ]
    rows = [
        (
            fmt.format_date(o.day, ctx.lang),
            fmt.counter_name(new, o.counter, ctx.lang),
            str(o.booked),
            str(o.capacity),
            str(o.over),
        )
        for o in preview.over
    ]
    ctx.print(fmt.table(headers, rows, right=(2, 3, 4)))
    ctx.print()
    moving = preview.to_move
    key = "check.move.one" if len(moving) == 1 else "check.move.other"
    ctx.print(ctx.text(key, count=len(moving)) if moving else ctx.text("check.move.none"))
    if moving:
        ctx.print()
        headers = [
            ctx.text("col.id"),
            ctx.text("col.channel"),
            ctx.text("col.label"),
            ctx.text("col.day"),
        ]
        lines = [
            (
                b.id,
                fmt.channel_name(new, b.channel, ctx.lang),
                b.label,
                fmt.format_date(b.day, ctx.lang),
            )
            for b in moving
        ]
        ctx.print(fmt.table(headers, lines))
    ctx.print()
    ctx.print(ctx.text("check.unchanged"))
    return 1


def _mark_no_shows(ctx: Context, args: argparse.Namespace) -> int:
    marked = ctx.scheduler().mark_no_shows(args.day, now=ctx.now)
    for b in marked:
        ctx.print(b.label)
    if not marked:
        ctx.print(ctx.text("no_shows.none"))
    return 0
