"""Commands for choosing the numbers: ``simulate`` (an office file against a demand, no
database) and ``report`` (the figures of a real database, read only).

Both print a per-day table and a summary, or ``--json``, or ``--csv`` (the header is the
``as_rows()`` field names: `queue_quota.simulate.Simulation.as_rows`,
`queue_quota.report.FIELDS`), and ``--png FILE`` writes the chart
(`queue_quota.charts`, the ``charts`` extra).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import charts
from ..config import load_office
from ..simulate import Comparison, Demand, Simulation, compare, simulate
from . import _format as fmt
from ._cmd_plan_capacity import show_capacity
from ._context import ENV_OFFICE
from ._parser import iso_date
from ._text import CliError

if TYPE_CHECKING:
    from ..office import Office
    from ..report import Report
    from ._context import Context
    from ._parser import AddCommand

__all__ = ["register"]


def _people(text: str) -> float:
    """A number of people (a mean a day), 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of people >= 0, got {text!r}")
    return value


def _share(text: str) -> float:
    """A share from 0 to 1 (``0.1``), or a percentage (``10%``)."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share from 0 to 1 (or 0% to 100%): {text!r}")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _outputs(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="write JSON")
    group.add_argument("--csv", action="store_true", help="write CSV (one row per day)")
    p.add_argument(
        "--png",
        metavar="FILE",
        help="also draw the chart into FILE (PNG; needs the charts extra: matplotlib)",
    )


def register(add: AddCommand) -> None:
    """Add the commands of this module to the parser."""
    p = add(
        "simulate",
        _simulate,
        access="read",
        summary="simulate the office file against a demand (no database)",
        description=(
            "Run the office file's real policies against a demand model on a memory\n"
            "storage (queue_quota.simulate): online registrations a working day (Poisson\n"
            "around the mean), a first-day surge, walk-ins a morning, no-shows and\n"
            "cancellations. Prints a table per day and the summary: the wait in working\n"
            "days (median, 9 in 10, max), walk-ins turned away, places used. With\n"
            "--compare, runs a second office file on the same citizens. Needs no database."
        ),
        examples=[
            "--office tegal.toml simulate --online-per-day 25 --walk-in-per-day 35 --days 20",
            "--office tegal.toml simulate --online-per-day 25 --walk-in-per-day 35 --days 60 "
            "--surge 300 --compare tegal-30.toml --png plan.png",
        ],
    )
    p.add_argument(
        "--online-per-day",
        metavar="N",
        type=_people,
        required=True,
        help="mean online registrations a working day",
    )
    p.add_argument(
        "--walk-in-per-day",
        metavar="M",
        type=_people,
        required=True,
        help="mean walk-ins a working day (morning)",
    )
    p.add_argument(
        "--days", metavar="D", type=_whole, required=True, help="calendar days to simulate"
    )
    p.add_argument(
        "--start",
        metavar="DATE",
        type=iso_date,
        help="first simulated day, YYYY-MM-DD (default: today at the office)",
    )
    p.add_argument("--seed", metavar="S", type=_whole, default=1, help="seed (default: 1)")
    p.add_argument(
        "--surge",
        metavar="N",
        type=_people,
        default=0.0,
        help="extra online registrations on the first day (people; default 0)",
    )
    p.add_argument(
        "--no-show-rate",
        metavar="R",
        type=_share,
        default=0.0,
        help="share of citizens given a place who do not come (0..1 or 10%%; default 0)",
    )
    p.add_argument(
        "--cancel-rate",
        metavar="R",
        type=_share,
        default=0.0,
        help="share of online bookings cancelled the day before (default 0)",
    )
    p.add_argument(
        "--waitlist",
        action="store_true",
        help="citizens refused online join the waiting list (default: they give up)",
    )
    p.add_argument(
        "--compare",
        metavar="F2",
        help="a second office file, simulated on the same citizens",
    )
    p.add_argument(
        "--max-wait",
        metavar="W",
        type=_whole,
        help="find the fewest online places a day with which nobody waits more than W "
        "working days (the same citizens at each capacity tried)",
    )
    _outputs(p)

    p = add(
        "report",
        _report,
        access="read",
        summary="the office's figures per day and channel, from the database",
        description=(
            "Per day from --from to --to (both included) and per channel: capacity,\n"
            "places booked, checked in, no-shows, pending, cancelled, and walk-ins turned\n"
            "away because the day was full (Scheduler.report), with each channel's totals\n"
            "and rates. Reads the database only (never creates one)."
        ),
        examples=[
            "--office tegal.toml report --from 2020-06-01 --to 2020-06-30",
            "--office tegal.toml report --from 2020-06-01 --to 2020-06-30 --csv > juni.csv",
        ],
    )
    p.add_argument(
        "--from", dest="start", metavar="DATE", type=iso_date, required=True, help="first day"
    )
    p.add_argument(
        "--to", dest="to", metavar="DATE", type=iso_date, required=True, help="last day (included)"
    )
    _outputs(p)


# -- numbers as the table writes them -------------------------------------------------------


def _percent(value: float | None, lang: str) -> str:
    """``4 %``, ``2,1 %`` (``2.1 %`` in English) below 10 %, ``-`` for none."""
    if value is None:
        return "-"
    pct = value * 100
    text = f"{pct:.0f}" if pct >= 10 or pct == round(pct) else f"{pct:.1f}"
    return (text.replace(".", ",") if lang == "id" else text) + " %"


def _number(value: object, lang: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:g}"
        return text.replace(".", ",") if lang == "id" else text
    return str(value)


def _office_name(ctx: Context) -> str:
    """The office file's name, as given (for ``--compare`` labels)."""
    return Path(str(ctx.args.office or os.environ.get(ENV_OFFICE) or "")).stem


def _write_csv(ctx: Context, fields: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    writer = csv.DictWriter(ctx.out, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _json(ctx: Context, document: object) -> None:
    ctx.out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def _chart_written(ctx: Context, path: Path, table: bool) -> None:
    line = ctx.text("plan.chart", path=path)
    if table:
        ctx.print()
        ctx.print(line)
    else:  # standard output holds the JSON or CSV
        ctx.err.write(line + "\n")


# -- simulate -------------------------------------------------------------------------------


def _simulate(ctx: Context, args: argparse.Namespace) -> int:
    office = ctx.office()
    other = load_office(args.compare) if args.compare else None
    if args.png:
        charts._require()  # before the work: a missing extra is said at once
    demand = Demand(
        online_per_day=args.online_per_day,
        walk_in_per_day=args.walk_in_per_day,
        first_day_surge=args.surge,
        no_show_rate=args.no_show_rate,
        cancel_rate=args.cancel_rate,
        waitlist=args.waitlist,
    )
    start = args.start or ctx.today()
    if args.max_wait is not None:
        if other is not None:
            raise CliError("err.max_wait_compare")
        return show_capacity(
            ctx, args, office, demand, start, _summary_lines, _json, _write_csv, _chart_written
        )
    if other is not None:
        both = compare(office, other, demand, start=start, days=args.days, seed=args.seed)
        return _show_comparison(
            ctx, args, both, demand, (_office_name(ctx), Path(args.compare).stem)
        )
    sim = simulate(office, demand, start=start, days=args.days, seed=args.seed)
    table = not (args.json or args.csv)
    if args.json:
        _json(ctx, _sim_document(sim))
    elif args.csv:
        rows = sim.as_rows()
        _write_csv(ctx, list(rows[0]), rows)
    else:
        _sim_table(ctx, office, sim, demand)
    if args.png:
        path = charts.simulation_chart(sim, args.png, lang=ctx.lang)
        _chart_written(ctx, path, table)
    return 0


def _sim_document(sim: Simulation) -> dict[str, Any]:
    return {
        "office_id": sim.office_id,
        "start": sim.start.isoformat(),
        "days": sim.days,
        "seed": sim.seed,
        "summary": sim.summary.as_dict(),
        "rows": sim.as_rows(),
    }


def _demand_line(ctx: Context, demand: Demand) -> str:
    def mean(value: object) -> str:
        return _number(value, ctx.lang) if isinstance(value, float) else "-"

    return ctx.text(
        "simulate.demand",
        online=mean(demand.online_per_day),
        surge=_number(float(demand.first_day_surge), ctx.lang),
        walk_in=mean(demand.walk_in_per_day),
        no_show=_percent(demand.no_show_rate, ctx.lang),
        cancel=_percent(demand.cancel_rate, ctx.lang),
    )


def _sim_table(ctx: Context, office: Office, sim: Simulation, demand: Demand) -> None:
    lang = ctx.lang
    title = ctx.text(
        "simulate.title",
        office=sim.office_id,
        days=sim.days,
        start=fmt.format_date(sim.start, lang),
        seed=sim.seed,
    )
    ctx.print(title)
    ctx.print(_demand_line(ctx, demand))
    ctx.print()
    calendar = office.calendar
    end = sim.start + timedelta(days=sim.days)
    reasons = dict(calendar.closed_days(sim.start, end))
    headers = [
        ctx.text("col.date"),
        ctx.text("col.online_demand"),
        ctx.text("col.online_capacity"),
        ctx.text("col.online_booked"),
        ctx.text("col.quoted_wait"),
        ctx.text("col.walk_ins"),
        ctx.text("col.turned_away"),
        ctx.text("col.reason"),
    ]
    lines = []
    for row in sim.as_rows():
        day = date.fromisoformat(str(row["day"]))
        wait = row["quoted_wait"]
        reason = reasons.get(day)
        lines.append(
            (
                fmt.format_date(day, lang),
                str(row["online_demand"]),
                str(row["online_capacity"]),
                str(row["online_booked_for_day"]),
                ctx.text("simulate.full") if wait is None else str(wait),
                str(row["walk_ins"]),
                str(row["walk_ins_turned_away"]),
                "" if reason is None else fmt.closed_reason(calendar, day, reason, lang),
            )
        )
    ctx.print(fmt.table(headers, lines, right=range(1, 7)))
    ctx.print()
    for line in _summary_lines(ctx, office, sim):
        ctx.print(line)


def _summary_lines(ctx: Context, office: Office, sim: Simulation) -> list[str]:
    s, lang = sim.summary, ctx.lang
    share = _percent(s.walk_in_turned_away_share, lang)
    people = ctx.text(
        "simulate.people",
        registrants=s.online_registrants,
        given=s.online_given_place,
        gave_up=s.online_gave_up,
        waiting=s.online_still_waiting,
    )
    if s.wait_p50 is None:
        wait = ctx.text("simulate.no_wait", share=share)
    else:
        wait = ctx.text("simulate.wait", p50=s.wait_p50, p90=s.wait_p90, max=s.wait_max,
                        share=share)  # fmt: skip
    used = ", ".join(
        f"{fmt.channel_name(office, c, lang)} {_percent(u, lang)}" for c, u in s.utilisation.items()
    )
    use = ctx.text("simulate.use", utilisation=used, full=s.days_window_full, days=s.service_days)
    return [people, wait, use]


def _show_comparison(
    ctx: Context,
    args: argparse.Namespace,
    both: Comparison,
    demand: Demand,
    names: tuple[str, str],
) -> int:
    table = not (args.json or args.csv)
    if args.json:
        _json(
            ctx,
            {
                "a": _sim_document(both.a),
                "b": _sim_document(both.b),
                "difference": both.difference,
            },
        )
    elif args.csv:
        rows_a, rows_b = both.a.as_rows(), both.b.as_rows()
        fields = ["office", *rows_a[0]]
        fields += [f for f in rows_b[0] if f not in fields]
        rows = [{"office": "a", **r} for r in rows_a] + [{"office": "b", **r} for r in rows_b]
        _write_csv(ctx, fields, rows)
    else:
        _comparison_table(ctx, both, demand, names)
    if args.png:
        path = charts.comparison_chart(both, args.png, lang=ctx.lang, names=names)
        _chart_written(ctx, path, table)
    return 0


def _comparison_table(
    ctx: Context, both: Comparison, demand: Demand, names: tuple[str, str]
) -> None:
    lang = ctx.lang
    a, b = both.a.summary, both.b.summary
    ctx.print(
        ctx.text(
            "compare.title",
            a=names[0],
            b=names[1],
            days=both.a.days,
            start=fmt.format_date(both.a.start, lang),
            seed=both.a.seed,
        )
    )
    ctx.print(_demand_line(ctx, demand))
    ctx.print()

    def diff(x: float | None, y: float | None, percent: bool = False) -> str:
        if x is None or y is None:
            return "-"
        d = y - x
        text = _percent(abs(d), lang) if percent else _number(abs(d), lang)
        return ("+" if d > 0 else "-" if d < 0 else "") + text

    metrics: list[tuple[str, Any, Any, bool]] = [
        ("row.registrants", a.online_registrants, b.online_registrants, False),
        ("row.given", a.online_given_place, b.online_given_place, False),
        ("row.gave_up", a.online_gave_up, b.online_gave_up, False),
        ("row.wait_p50", a.wait_p50, b.wait_p50, False),
        ("row.wait_p90", a.wait_p90, b.wait_p90, False),
        ("row.wait_max", a.wait_max, b.wait_max, False),
        ("row.walk_in_share", a.walk_in_turned_away_share, b.walk_in_turned_away_share, True),
        ("row.days_full", a.days_window_full, b.days_window_full, False),
    ]
    headers = ["", names[0], names[1], ctx.text("compare.difference", a=names[0], b=names[1])]
    rows = [
        (
            ctx.text(key),
            _percent(x, lang) if percent else _number(x, lang),
            _percent(y, lang) if percent else _number(y, lang),
            diff(x, y, percent),
        )
        for key, x, y, percent in metrics
    ]
    ctx.print(fmt.table(headers, rows, right=(1, 2, 3)))


# -- report ---------------------------------------------------------------------------------


def _report(ctx: Context, args: argparse.Namespace) -> int:
    if args.to < args.start:
        raise CliError("err.report_range", start=args.start, end=args.to)
    if args.png:
        charts._require()
    sched = ctx.scheduler()
    report = sched.report(args.start, args.to + timedelta(days=1), now=ctx.now)
    table = not (args.json or args.csv)
    if args.json:
        _json(
            ctx,
            {
                "office_id": report.office_id,
                "from": report.start.isoformat(),
                "to": args.to.isoformat(),
                "today": report.today.isoformat(),
                "channels": list(report.channels),
                "rows": report.as_rows(),
                "totals": [report.totals[c].as_dict() for c in report.channels],
            },
        )
    elif args.csv:
        from ..report import FIELDS

        _write_csv(ctx, FIELDS, report.as_rows())
    else:
        _report_table(ctx, sched.office, report, args.to)
    if args.png:
        path = charts.report_chart(report, args.png, lang=ctx.lang, office=sched.office)
        _chart_written(ctx, path, table)
    return 0


def _report_table(ctx: Context, office: Office, report: Report, last: date) -> None:
    lang = ctx.lang
    start, end = fmt.format_date(report.start, lang), fmt.format_date(last, lang)
    ctx.print(ctx.text("report.title", office=report.office_id, start=start, end=end))
    ctx.print()
    headers = [
        ctx.text("col.date"),
        ctx.text("col.channel"),
        ctx.text("col.capacity"),
        ctx.text("col.booked"),
        ctx.text("col.checked_in"),
        ctx.text("col.no_shows"),
        ctx.text("col.pending"),
        ctx.text("col.cancelled"),
        ctx.text("col.turned_away"),
        ctx.text("col.reason"),
    ]
    calendar = office.calendar
    lines = []
    for row in [*report.rows, *(report.totals[c] for c in report.channels)]:
        day = ctx.text("report.total") if row.day is None else fmt.format_date(row.day, lang)
        reason = row.closed_reason
        if reason and row.day is not None:
            reason = fmt.closed_reason(calendar, row.day, reason, lang)
        lines.append(
            (
                day,
                fmt.channel_name(office, row.channel, lang),
                str(row.capacity),
                str(row.booked),
                str(row.checked_in),
                str(row.no_shows),
                str(row.pending),
                str(row.cancelled),
                "" if row.turned_away is None else str(row.turned_away),
                reason or "",
            )
        )
    ctx.print(fmt.table(headers, lines, right=range(2, 9)))
    ctx.print()
    for channel in report.channels:
        total = report.totals[channel]
        name = fmt.channel_name(office, channel, lang)
        ctx.print(
            ctx.text(
                "report.channel",
                channel=name,
                held=total.held,
                capacity=total.capacity,
                utilisation=_percent(total.utilisation, lang),
                no_shows=total.no_shows,
                no_show_rate=_percent(total.no_show_rate, lang),
            )
        )
        if total.turned_away is not None:
            ctx.print(
                ctx.text(
                    "report.turned_away",
                    channel=name,
                    turned_away=total.turned_away,
                    share=_percent(total.turned_away_share, lang),
                )
            )
