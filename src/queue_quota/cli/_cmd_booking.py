"""Commands for citizens' numbers: ``book``, ``walk-in``, and ``bookings`` (a citizen who
lost the ticket).

``--citizen -`` reads the ID from standard input, so that it stays out of ``ps`` and the
shell's history; it is never printed.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..models import BookingStatus
from . import _format as fmt
from ._parser import claim, clock_time, iso_date
from ._text import CliError

if TYPE_CHECKING:
    from ..office import Office
    from ._context import Context
    from ._parser import AddCommand

__all__ = ["register", "walk_in_channel"]

_ACTIVE = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)
_CITIZEN_HELP = "the citizen's ID (NIK), or - to read it from standard input (not echoed)"


def register(add: AddCommand) -> None:
    """Add the commands of this module to the parser."""
    p = add(
        "book",
        _book,
        access="create",
        summary="book a place for a citizen and print the ticket",
        description=(
            "Book a place on a channel: the earliest working day with room, or exactly\n"
            "--date. Prints the queue number, the day and the signed ticket. A retry with the\n"
            "same --key returns the same booking. Exit status 1 if refused (the message\n"
            "says which day is still free). Creates the database (and its key file) if it\n"
            "does not exist."
        ),
        examples=[
            "--office tegal.toml book --channel online --citizen -",
            "--office tegal.toml book --channel online --citizen - --date 2020-06-08",
            "--office tegal.toml book --channel online --citizen - --key web-4711",
        ],
    )
    p.add_argument("--channel", metavar="C", required=True, help="the channel, e.g. online")
    p.add_argument("--citizen", metavar="ID", help=f"{_CITIZEN_HELP}; only a keyed hash is stored")
    p.add_argument("--key", metavar="K", help="idempotency key: a retry returns the same booking")
    p.add_argument("--date", metavar="D", type=iso_date, help="the day wanted, YYYY-MM-DD")
    p.add_argument(
        "--time", metavar="HH:MM", type=clock_time, help="the arrival window that starts then"
    )
    p.add_argument(
        "--places", metavar="N", type=int, default=1, help="places under one number (a household)"
    )
    p.add_argument(
        "--claim",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        type=claim,
        help="a fact the clerk verified (e.g. group=lansia); repeatable; never stored",
    )

    p = add(
        "walk-in",
        _walk_in,
        access="create",
        summary="give a walk-in number for today",
        description=(
            "Give the next walk-in number for today, within the opening hours. When the day\n"
            "is full, says when to come back and the earliest online day (exit status 1).\n"
            "The channel is the office's first walk-in channel (Office.walk_in_channels)\n"
            "unless --channel names one."
        ),
        examples=[
            "--office tegal.toml walk-in",
            "--office tegal.toml walk-in --citizen - --lang en",
        ],
    )
    p.add_argument("--citizen", metavar="ID", help=f"{_CITIZEN_HELP} (optional)")
    p.add_argument(
        "--channel", metavar="C", help="the walk-in channel (default: the office's first)"
    )

    p = add(
        "bookings",
        _bookings,
        access="read",
        summary="find a citizen's bookings by ID (a lost ticket)",
        description=(
            "Print the tickets of a citizen's active bookings (booked or checked in, today\n"
            "or later), found by the keyed hash of the ID: for a citizen who lost the\n"
            "ticket. Give the ID with --citizen - (read from standard input)."
        ),
        examples=["--office tegal.toml bookings --citizen -"],
    )
    p.add_argument("--citizen", metavar="ID", required=True, help=_CITIZEN_HELP)
    p.add_argument(
        "--past", action="store_true", help="include past, cancelled and no-show bookings"
    )


def _book(ctx: Context, args: argparse.Namespace) -> int:
    citizen = ctx.citizen(args.citizen)
    sched = ctx.scheduler()
    booking = sched.book(
        args.channel,
        citizen,
        now=ctx.now,
        idempotency_key=args.key,
        preferred_date=args.date,
        preferred_time=args.time,
        places=args.places,
        claims=dict(args.claim),
    )
    ctx.print(fmt.ticket(sched.office, booking, ctx.lang))
    return 0


def walk_in_channel(office: Office) -> str:
    """The office's first walk-in channel (`Office.walk_in_channels`).

    Raises:
        CliError: The office has none.
    """
    channels = office.walk_in_channels
    if not channels:
        raise CliError("err.no_walk_in", office=office.id, channels=", ".join(office.channels))
    return channels[0]


def _walk_in(ctx: Context, args: argparse.Namespace) -> int:
    citizen = ctx.citizen(args.citizen)
    office = ctx.office()
    channel = args.channel or walk_in_channel(office)
    sched = ctx.scheduler()
    booking = sched.book(channel, citizen, now=ctx.now)
    ctx.print(fmt.ticket(office, booking, ctx.lang))
    return 0


def _bookings(ctx: Context, args: argparse.Namespace) -> int:
    citizen = ctx.citizen(args.citizen)
    assert citizen is not None  # the option is required
    sched = ctx.scheduler()
    found = sched.bookings_of(citizen, include_past=args.past, now=ctx.now)
    if not args.past:
        found = [b for b in found if b.status in _ACTIVE]
    if not found:
        ctx.print(ctx.text("bookings.none_past" if args.past else "bookings.none"))
        return 0
    ctx.print("\n\n".join(fmt.ticket(sched.office, b, ctx.lang) for b in found))
    return 0
