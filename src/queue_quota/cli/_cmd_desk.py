"""Commands at the counter: ``cancel``, ``check-in``, ``reschedule``.

Each takes a booking id or a ticket as typed (any case, with spaces or dashes): the
scheduler tells them apart. None of them creates a database.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import TYPE_CHECKING, Any

from .._capabilities import offers
from ..errors import BookingNotFound
from . import _format as fmt
from ._parser import iso_date

if TYPE_CHECKING:
    from ._context import Context
    from ._parser import AddCommand

__all__ = ["register"]

_BOOKING_HELP = "the booking id or its ticket, as typed (any case, spaces or dashes)"


def register(add: AddCommand) -> None:
    """Add the commands of this module to the parser."""
    p = add(
        "cancel",
        _cancel,
        access="write",
        summary="cancel a booking and free its place",
        description=(
            "Cancel a booking for today or later; its place becomes free (its number is not\n"
            "given to anyone else)."
        ),
        examples=[
            "--office tegal.toml cancel 7K3M2QXR9D0AHV5T",
            "--office tegal.toml cancel 7K3M-2QXR-9D0A-HV5T.E4W1-8NBC-Q6Z",
        ],
    )
    p.add_argument("booking", metavar="ID", help=_BOOKING_HELP)

    p = add(
        "check-in",
        _check_in,
        access="write",
        summary="check a citizen in with their ticket",
        description=(
            "Mark the citizen as arrived, on the booking's day only. A ticket's signature\n"
            "is verified (exit status 1 for a forged or altered ticket)."
        ),
        examples=["--office tegal.toml check-in 7K3M-2QXR-9D0A-HV5T.E4W1-8NBC-Q6Z"],
    )
    p.add_argument("ticket", metavar="TICKET", help=_BOOKING_HELP)

    p = add(
        "reschedule",
        _reschedule,
        access="write",
        summary="move a booking to another day",
        description=(
            "Move a booking to the earliest other day with room, or to --date. It keeps its\n"
            "id and ticket and gets a number on its new day; prints the old and the new\n"
            "number. Exit status 1 if no other day has room (the booking is unchanged)."
        ),
        examples=[
            "--office tegal.toml reschedule 7K3M2QXR9D0AHV5T",
            "--office tegal.toml reschedule 7K3M-2QXR-9D0A-HV5T.E4W1-8NBC-Q6Z --date 2020-06-09",
        ],
    )
    p.add_argument("booking", metavar="ID", help=_BOOKING_HELP)
    p.add_argument("--date", metavar="D", type=iso_date, help="the new day, YYYY-MM-DD")

    p = add(
        "lift-suspension",
        _lift_suspension,
        access="write",
        summary="let a suspended citizen register online again",
        description=(
            "A clerk's decision: the citizen's no-shows before today no longer count, so a\n"
            "suspension after no-shows (no_show_limit) ends at once. Writes a\n"
            "suspension_lifted event (without the citizen). Use --citizen - to read the ID\n"
            "from standard input, so that it stays out of the shell history."
        ),
        examples=["--office tegal.toml lift-suspension --citizen -"],
    )
    p.add_argument(
        "--citizen",
        metavar="ID",
        required=True,
        help="the citizen's ID (NIK), or - to read it from standard input (not echoed)",
    )


def _cancel(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    waiting = _waiting(sched, ctx)
    booking = sched.cancel(args.booking, now=ctx.now)
    day = fmt.format_date(booking.day, ctx.lang)
    ctx.print(ctx.text("cancelled", label=booking.label, day=day))
    for entry_id in waiting:  # the cancel's own transaction gave the place to the line
        with contextlib.suppress(BookingNotFound):
            got = sched.get(entry_id)
            when = fmt.format_date(got.day, ctx.lang)
            ctx.print(ctx.text("cancelled.promoted", label=got.label, day=when))
    return 0


def _waiting(sched: Any, ctx: Context) -> list[str]:
    """The ids waiting on every channel now (none on a storage without waitlists)."""
    if not offers(sched.storage, "waitlist"):
        return []
    return [e.id for c in sched.office.channels for e in sched.waitlist(c, now=ctx.now)]


def _check_in(ctx: Context, args: argparse.Namespace) -> int:
    booking = ctx.scheduler().check_in(args.ticket, now=ctx.now)
    day = fmt.format_date(booking.day, ctx.lang)
    ctx.print(ctx.text("checked_in", label=booking.label, day=day))
    return 0


def _reschedule(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    booking = sched.reschedule(args.booking, now=ctx.now, preferred_date=args.date)
    moved = fmt.moved_line(booking, ctx.lang)
    if moved:
        ctx.print(moved)
        ctx.print()
    ctx.print(fmt.ticket(sched.office, booking, ctx.lang))
    return 0


def _lift_suspension(ctx: Context, args: argparse.Namespace) -> int:
    citizen = ctx.citizen(args.citizen)
    assert citizen is not None  # the option is required
    ctx.scheduler().lift_suspension(citizen, now=ctx.now)
    ctx.print(ctx.text("suspension_lifted"))
    return 0
