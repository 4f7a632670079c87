"""Commands that only look: ``demo``, ``calendar``, ``availability``, ``manifest``.

None of them creates a database or a key file.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .. import i18n
from . import _format as fmt
from ._parser import day_count, iso_date, year_month

if TYPE_CHECKING:
    from ._context import Context
    from ._parser import AddCommand

__all__ = ["register"]


def register(add: AddCommand) -> None:
    """Add the commands of this module to the parser."""
    add(
        "demo",
        _demo,
        access="read",
        summary="run the Tegal scenario and print a day-by-day report",
        description=(
            "Run the Tegal scenario of the design document (June 2020: 420 online\n"
            "registrations, walk-ins every morning) with its own built-in office, against a\n"
            "temporary SQLite database, and print what happened day by day. Ignores\n"
            "--office, --db and --now."
        ),
        examples=["demo"],
    )

    p = add(
        "calendar",
        _calendar,
        access="read",
        summary="list the closed days of a month, with the reasons",
        description=(
            "List every day of a month on which the office is closed (weekends, public\n"
            "holidays, cuti bersama, closures in the office file and days closed with\n"
            "close-day), with the reason, and the special openings. Reads the database\n"
            "for close-day's closures if it exists; a database named with --db or\n"
            "QUEUE_QUOTA_DB must exist."
        ),
        examples=["--office tegal.toml calendar --month 2020-12"],
    )
    p.add_argument(
        "--month",
        metavar="YYYY-MM",
        type=year_month,
        help="the month (default: the current month at the office)",
    )

    p = add(
        "availability",
        _availability,
        access="read",
        summary="show capacity, bookings and places left per day",
        description=(
            "Show, for each day, the capacity of a channel, how many places are booked, how\n"
            "many remain, whether a request made now could take the day, and why the day\n"
            "is closed if it is."
        ),
        examples=[
            "--office tegal.toml availability",
            "--office tegal.toml availability --channel walk_in --from 2020-06-04 --days 7",
        ],
    )
    p.add_argument(
        "--channel", metavar="C", help="the channel (default: the office's first channel)"
    )
    p.add_argument(
        "--from",
        dest="start",
        metavar="DATE",
        type=iso_date,
        help="first day, YYYY-MM-DD (default: today at the office)",
    )
    p.add_argument(
        "--days", metavar="N", type=day_count, default=14, help="number of days (default: 14)"
    )

    p = add(
        "manifest",
        _manifest,
        access="read",
        summary="list the bookings of a day in service order",
        description=(
            "List the bookings of a day in service order (the office's channel order, then\n"
            "number), as a table, JSON or CSV. No personal data is included."
        ),
        examples=[
            "--office tegal.toml manifest 2020-06-05",
            "--office tegal.toml manifest 2020-06-05 --channel online --json",
            "--office tegal.toml manifest 2020-06-05 --csv > manifest.csv",
        ],
    )
    p.add_argument("day", metavar="DATE", type=iso_date, help="the day, YYYY-MM-DD")
    p.add_argument("--channel", metavar="C", help="only this channel")
    p.add_argument(
        "--all", action="store_true", help="include cancelled bookings (default: active only)"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="write JSON")
    group.add_argument("--csv", action="store_true", help="write CSV")


def _demo(ctx: Context, args: argparse.Namespace) -> int:
    from ..demo import run_demo  # the demo keeps its own built-in office

    with tempfile.TemporaryDirectory(prefix="queue-quota-demo-") as tmp:
        return run_demo(Path(tmp) / "queue.sqlite3", ctx.out)


def _calendar(ctx: Context, args: argparse.Namespace) -> int:
    office = ctx.office()
    year, month = args.month or (ctx.today().year, ctx.today().month)
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    calendar = office.calendar
    storage = ctx.storage() if ctx.url_named else ctx.storage_if_exists()
    if storage is not None:
        closures = storage.closures(office.id)
        if closures:
            calendar = calendar.with_closures(closures)
    month_text = i18n.format_month(year, month, ctx.lang)
    ctx.print(ctx.text("calendar.title", office=office.id, month=month_text))
    ctx.print()
    rows = [
        (fmt.format_date(d, ctx.lang), fmt.closed_reason(calendar, d, why, ctx.lang))
        for d, why in calendar.closed_days(start, end)
    ]
    if rows:
        ctx.print(fmt.table([ctx.text("col.date"), ctx.text("col.reason")], rows))
    else:
        ctx.print(ctx.text("calendar.none"))
    openings = sorted(
        d for d in calendar.openings if start <= d < end and calendar.is_working_day(d)
    )
    if openings:
        days = "; ".join(fmt.format_date(d, ctx.lang) for d in openings)
        ctx.print()
        ctx.print(ctx.text("calendar.openings", days=days))
    return 0


def _availability(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    office = sched.office
    channel = args.channel or office.channels[0]
    office.policy(channel)
    start = args.start or ctx.today()
    days = sched.availability(channel, start, start + timedelta(days=args.days), now=ctx.now)
    closures = sched.closures()
    calendar = office.calendar.with_closures(closures) if closures else office.calendar
    title = fmt.channel_name(office, channel, ctx.lang)
    ctx.print(ctx.text("availability.title", channel=title, office=office.id))
    ctx.print()
    headers = [
        ctx.text("col.date"),
        ctx.text("col.capacity"),
        ctx.text("col.booked"),
        ctx.text("col.remaining"),
        ctx.text("col.bookable"),
        ctx.text("col.reason"),
    ]
    rows = [
        (
            fmt.format_date(a.day, ctx.lang),
            str(a.capacity),
            str(a.booked),
            str(a.remaining),
            ctx.text("yes" if a.bookable else "no"),
            fmt.closed_reason(calendar, a.day, a.closed_reason, ctx.lang)
            if a.closed_reason
            else "",
        )
        for a in days
    ]
    ctx.print(fmt.table(headers, rows, right=(1, 2, 3)))
    return 0


def _manifest(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    office = sched.office
    if args.channel is not None:
        office.policy(args.channel)
    bookings = sched.manifest(args.day, args.channel, include_cancelled=args.all)
    if args.json:
        document = {
            "office_id": office.id,
            "day": args.day.isoformat(),
            "channel": args.channel,
            "bookings": [fmt.record(b) for b in bookings],
        }
        ctx.out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return 0
    if args.csv:
        writer = csv.DictWriter(ctx.out, fieldnames=fmt.MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(fmt.record(b) for b in bookings)
        return 0
    day = fmt.format_date(args.day, ctx.lang)
    ctx.print(ctx.text("manifest.title", office=office.id, day=day))
    ctx.print()
    if not bookings:
        ctx.print(ctx.text("manifest.none"))
        return 0
    windows = any(b.window for b in bookings)
    households = any(b.places > 1 for b in bookings)
    headers = [ctx.text("col.label"), ctx.text("col.channel")]
    headers += [ctx.text("col.window")] if windows else []
    headers += [ctx.text("col.places")] if households else []
    headers += [ctx.text("col.status"), ctx.text("col.id")]
    rows = []
    for b in bookings:
        row = [b.label, fmt.channel_name(office, b.channel, ctx.lang)]
        if windows:
            row.append(fmt.format_window(b.window, ctx.lang) if b.window else "")
        if households:
            row.append(str(b.places))
        row += [ctx.text(f"status.{b.status.value}"), b.id]
        rows.append(row)
    ctx.print(fmt.table(headers, rows))
    return 0
