"""Commands of the waitlist: ``waitlist``, ``join-waitlist``, ``leave-waitlist`` and
``promote-waitlist``.

A citizen joins a full channel's line with ``--citizen -`` (the ID read from standard
input, as ``book`` reads it) and is given the entry's ticket, printed once, as ``book``
prints a booking's: the booking the entry becomes carries that same ticket and id. The
listing never shows tickets nor citizen refs. None of these commands creates a database.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, time
from typing import TYPE_CHECKING, Any

from .. import i18n
from ..errors import BookingNotFound
from . import _format as fmt
from ._main import EXIT_REFUSED
from ._parser import claim, clock_time, iso_date

if TYPE_CHECKING:
    from ..models import Booking
    from ..office import Office
    from ..waitlist import WaitlistEntry
    from ._context import Context
    from ._parser import AddCommand

__all__ = ["WAITLIST_FIELDS", "register"]

#: The fields of an entry in ``waitlist --json``, in order (no ticket, no citizen ref).
WAITLIST_FIELDS = ("id", "channel", "position", "places", "preferred_time", "until", "joined_at")

_CITIZEN_HELP = "the citizen's ID (NIK), or - to read it from standard input (not echoed)"
_ENTRY_HELP = "the entry's id or its ticket, as typed (any case, spaces or dashes)"


def register(add: AddCommand) -> None:
    """Add the commands of this module to the parser."""
    p = add(
        "waitlist",
        _waitlist,
        access="read",
        summary="list who waits for a place on a channel",
        description=(
            "List the entries waiting for a place on a channel, in joining order (position\n"
            "1 is served first): the entry id, the people and arrival window it needs, the\n"
            "last day it accepts and when it joined. Tickets and citizens are never shown."
        ),
        examples=[
            "--office tegal.toml waitlist online",
            "--office tegal.toml waitlist online --json",
        ],
    )
    p.add_argument("channel", metavar="CHANNEL", help="the channel, e.g. online")
    p.add_argument("--json", action="store_true", help="write JSON (no tickets)")

    p = add(
        "join-waitlist",
        _join_waitlist,
        access="write",
        summary="put a citizen on a full channel's waiting list",
        description=(
            "Put a citizen at the end of a channel's waiting list, for the first place that\n"
            "fits (freed by a cancel, a move, a reopened day) on or before --until. Prints\n"
            "the position, the last day and the ticket: when a place is found, the booking\n"
            "keeps that ticket and id. Exit status 1 if the channel has room now (book\n"
            "instead: the message names the day) or the citizen already holds a place."
        ),
        examples=[
            "--office tegal.toml join-waitlist online --citizen -",
            "--office tegal.toml join-waitlist online --citizen - --until 2020-06-12 --places 2",
        ],
    )
    p.add_argument("channel", metavar="CHANNEL", help="the channel, e.g. online")
    p.add_argument("--citizen", metavar="ID", help=f"{_CITIZEN_HELP}; only a keyed hash is stored")
    p.add_argument(
        "--until",
        metavar="DATE",
        type=iso_date,
        help="the last day accepted, YYYY-MM-DD (default: the booking window's last day)",
    )
    p.add_argument(
        "--places", metavar="N", type=int, default=1, help="places under one number (a household)"
    )
    p.add_argument(
        "--time", metavar="HH:MM", type=clock_time, help="only the arrival window that starts then"
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
        "leave-waitlist",
        _leave_waitlist,
        access="write",
        summary="take an entry off its waiting list",
        description=(
            "Take an entry off its channel's waiting list; the entries behind it move up.\n"
            "Exit status 1 if no such entry waits (an entry that already got a place is a\n"
            "booking: the message says its number and how to cancel it)."
        ),
        examples=["--office tegal.toml leave-waitlist 7K3M-2QXR-9D0A-HV5T.E4W1-8NBC-Q6Z"],
    )
    p.add_argument("entry", metavar="TICKET", help=_ENTRY_HELP)

    add(
        "promote-waitlist",
        _promote_waitlist,
        access="write",
        summary="give room that appeared to the waiting lists",
        description=(
            "Give room that appeared without a release (a higher capacity in a new office\n"
            "file) to the waiting lists, in joining order, and remove expired entries.\n"
            "Cancels, moves and reopened days do this by themselves. Prints the bookings\n"
            "made: notify these citizens. Run it after deploying a new office file."
        ),
        examples=["--office tegal.toml promote-waitlist"],
    )


def _waitlist(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    office = sched.office
    entries = sched.waitlist(args.channel, now=ctx.now)
    if args.json:
        document = {
            "office_id": office.id,
            "channel": args.channel,
            "entries": [_record(e) for e in entries],
        }
        ctx.out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return 0
    title = fmt.channel_name(office, args.channel, ctx.lang)
    ctx.print(ctx.text("waitlist.title", channel=title, office=office.id))
    ctx.print()
    if not entries:
        ctx.print(ctx.text("waitlist.none"))
        return 0
    windows = bool(_sessions(office, args.channel)) or any(e.preferred_time for e in entries)
    headers = [ctx.text("col.position"), ctx.text("col.id"), ctx.text("col.places")]
    headers += [ctx.text("col.window")] if windows else []
    headers += [ctx.text("col.until"), ctx.text("col.joined")]
    calendar = office.calendar
    rows = []
    for e in entries:
        row = [str(e.position), e.id, str(e.places)]
        if windows:
            row.append(_window(ctx, office, e))
        row += [
            fmt.format_date(e.until, ctx.lang),
            calendar.local_time(e.joined_at).strftime("%Y-%m-%d %H:%M"),
        ]
        rows.append(row)
    ctx.print(fmt.table(headers, rows, right=(0, 2)))
    return 0


def _join_waitlist(ctx: Context, args: argparse.Namespace) -> int:
    citizen = ctx.citizen(args.citizen)
    sched = ctx.scheduler()
    entry = sched.join_waitlist(
        args.channel,
        citizen,
        now=ctx.now,
        until=args.until,
        places=args.places,
        preferred_time=args.time,
        claims=dict(args.claim),
    )
    office = sched.office
    rows = [
        (ctx.text("ticket.waitlist"), fmt.channel_name(office, entry.channel, ctx.lang)),
        (ctx.text("ticket.position"), str(entry.position)),
        (ctx.text("ticket.until"), fmt.format_date(entry.until, ctx.lang)),
    ]
    if entry.preferred_time is not None:
        rows.append((ctx.text("ticket.window"), _window(ctx, office, entry, zone=True)))
    if entry.places > 1:
        rows.append((ctx.text("ticket.places"), str(entry.places)))
    rows += [(ctx.text("ticket.ticket"), entry.ticket), (ctx.text("ticket.id"), entry.id)]
    width = max(len(name) for name, _ in rows)
    ctx.print("\n".join(f"{name:<{width}} : {value}" for name, value in rows))
    ctx.print()
    ctx.print(ctx.text("waitlist.joined"))
    return 0


def _leave_waitlist(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    try:
        entry = sched.leave_waitlist(args.entry, now=ctx.now)
    except BookingNotFound:
        try:
            booking = sched.get(args.entry)
        except BookingNotFound:
            ctx.refusal(ctx.text("waitlist.not_found"))
            return EXIT_REFUSED
        day = fmt.format_date(booking.day, ctx.lang)
        text = ctx.text("waitlist.already_booked", label=booking.label, day=day, id=booking.id)
        ctx.refusal(text)
        return EXIT_REFUSED
    channel = fmt.channel_name(sched.office, entry.channel, ctx.lang)
    ctx.print(ctx.text("waitlist.left", id=entry.id, channel=channel))
    return 0


def _promote_waitlist(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    done = sched.promote_waitlist(now=ctx.now)
    if not done:
        ctx.print(ctx.text("promoted.none"))
        return 0
    key = "promoted.one" if len(done) == 1 else "promoted.other"
    ctx.print(ctx.text(key, count=len(done)))
    ctx.print()
    ctx.print(_bookings_table(ctx, sched.office, done))
    return 0


# -- helpers ----------------------------------------------------------------------------------


def _record(entry: WaitlistEntry) -> dict[str, Any]:
    """An entry for JSON: `WAITLIST_FIELDS` only (no ticket, no citizen ref)."""
    return {
        "id": entry.id,
        "channel": entry.channel,
        "position": entry.position,
        "places": entry.places,
        "preferred_time": None if entry.preferred_time is None else f"{entry.preferred_time:%H:%M}",
        "until": entry.until.isoformat(),
        "joined_at": entry.joined_at.astimezone(UTC).isoformat(),
    }


def _sessions(office: Office, channel: str) -> tuple[Any, ...]:
    """The channel's arrival windows (none for a policy without sessions)."""
    return tuple(getattr(office.policy(channel), "sessions", ()) or ())


def _window(ctx: Context, office: Office, entry: WaitlistEntry, *, zone: bool = False) -> str:
    """The arrival window an entry asks for ("08.00–10.00", with ``zone`` "08.00–10.00
    WIB" as on a ticket), or "any time"."""
    start: time | None = entry.preferred_time
    if start is None:
        return ctx.text("waitlist.any_time")
    for session in _sessions(office, entry.channel):
        if session.start == start:
            window: tuple[time, time] = session.window
            tz = office.calendar.tz_name if zone else None
            return fmt.format_window(window, ctx.lang, tz=tz)
    return ctx.text("waitlist.from_time", time=i18n.format_time(start, ctx.lang))


def _bookings_table(ctx: Context, office: Office, bookings: list[Booking]) -> str:
    """The bookings just made: id, service, number, day (and window, people if any)."""
    windows = any(b.window for b in bookings)
    households = any(b.places > 1 for b in bookings)
    headers = [
        ctx.text("col.id"),
        ctx.text("col.channel"),
        ctx.text("col.label"),
        ctx.text("col.day"),
    ]
    headers += [ctx.text("col.window")] if windows else []
    headers += [ctx.text("col.places")] if households else []
    rows = []
    for b in bookings:
        row = [
            b.id,
            fmt.channel_name(office, b.channel, ctx.lang),
            b.label,
            fmt.format_date(b.day, ctx.lang),
        ]
        if windows:
            row.append(fmt.format_window(b.window, ctx.lang) if b.window else "")
        if households:
            row.append(str(b.places))
        rows.append(row)
    return fmt.table(headers, rows)
