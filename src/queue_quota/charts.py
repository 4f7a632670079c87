"""Charts an office head reads at a glance: one PNG of two or three panels per call.

* `simulation_chart`: a `Simulation` (``queue_quota.simulate``): online places against
  online registrations per day (the first day's surge written on its bar when it towers
  over the rest), the wait in working days by day of registration (mean, longest, and the
  wait quoted to a new registrant at the day's end), and the walk-ins given a number and
  turned away per day;
* `comparison_chart`: a `Comparison`, both offices on the same axes;
* `report_chart`: a `Report`: capacity and places booked per day and channel, no-shows,
  walk-ins turned away.

Titles, labels, legends and dates (``8 Jun``; Indonesian month names in ``"id"``) are in
the chosen language, from the catalogues of `queue_quota.i18n`. Days the office is closed
are shaded. Every series is drawn from the object's ``as_rows()``, by its field name.

Drawn with matplotlib, an optional extra (``pip install 'queue-quota[charts]'``),
imported only when a chart is drawn, on the Agg backend (a `Figure` with its own canvas:
no window, no global ``pyplot`` state, safe in a server). Without it a chart is a
`ConfigurationError` naming the extra.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from . import i18n
from ._messages import MONTH_NAMES
from .errors import ConfigurationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .office import Office
    from .report import Report
    from .simulate import Comparison, Simulation

__all__ = ["HEIGHT", "WIDTH", "comparison_chart", "report_chart", "simulation_chart"]

#: The size of every chart, in pixels.
WIDTH: Final = 1200
HEIGHT: Final = 960
_DPI: Final = 100

# Colours an office head tells apart (and most colour-blind readers too).
_BLUE, _ORANGE, _GREY, _RED, _GREEN = "#1f77b4", "#e07b00", "#9a9a9a", "#c8312b", "#2a9d4b"
_CLOSED = "#ececec"
_COLOURS: Final = (_BLUE, _ORANGE, _GREEN, "#7b4fa0", "#8c564b")
#: A first day higher than this many times the other days is drawn cut, its count written.
_SURGE_FACTOR: Final = 2.5


def _require() -> None:
    """Import matplotlib, or say which extra to install."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "charts need matplotlib: pip install 'queue-quota[charts]'",
            message_key="configuration_error.charts_extra",
            extra="charts",
            command="pip install 'queue-quota[charts]'",
        ) from None


def _t(lang: str, key: str, **fields: object) -> str:
    return i18n.text(f"chart.{key}", lang, **fields)


def _short(d: date, lang: str) -> str:
    """``8 Jun`` (``8 Agu`` in Indonesian)."""
    return f"{d.day} {MONTH_NAMES[lang][d.month - 1][:3]}"


def _long(d: date, lang: str) -> str:
    """``8 Juni 2020``."""
    return f"{d.day} {MONTH_NAMES[lang][d.month - 1]} {d.year}"


def _num(value: object) -> float:
    """A plotted number (``None``: a gap)."""
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


# -- the frame every chart shares ---------------------------------------------------------------


def _new_figure(panels: int) -> tuple[Figure, list[Axes]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH / _DPI, HEIGHT / _DPI), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def _date_axis(ax: Axes, days: Sequence[date], lang: str) -> None:
    """Ticks on Mondays (every week, or every few weeks on a long range), or on the first
    of each month past half a year; written ``8 Jun``."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    first, last = days[0], days[-1]
    span = (last - first).days + 1
    if span <= 16:
        ticks = list(days)
    elif span > 190:
        ticks = [d for d in days if d.day == 1] or [first]
        step = max(1, math.ceil(len(ticks) / 12))
        ticks = ticks[::step]
    else:
        mondays = [d for d in days if d.weekday() == 0] or [first]
        step = max(1, math.ceil(len(mondays) / 10))
        ticks = mondays[::step]
    index = {d: i for i, d in enumerate(days)}
    ax.xaxis.set_major_locator(FixedLocator([index[d] for d in ticks]))
    ax.xaxis.set_minor_locator(FixedLocator(range(len(days))) if span <= 92 else NullLocator())

    def label(x: float, _: int) -> str:
        i = round(x)
        return _short(first + timedelta(days=i), lang) if 0 <= i < span else ""

    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.set_xlim(-0.6, len(days) - 0.4)


def _shade_closed(ax: Axes, closed: Sequence[bool], lang: str, *, label: bool) -> None:
    """A light band over every run of closed days (labelled once, for the legend)."""
    i, first_band = 0, True
    while i < len(closed):
        if not closed[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(closed) and closed[j + 1]:
            j += 1
        name = _t(lang, "closed") if label and first_band else None
        ax.axvspan(i - 0.5, j + 0.5, color=_CLOSED, zorder=0, lw=0, label=name)
        first_band = False
        i = j + 1


def _legend(ax: Axes, lang: str) -> None:
    """Beside the panel, on the right (never over the data), the closed days last; and
    the y axis from 0 now that the data is drawn."""
    handles, labels = ax.get_legend_handles_labels()
    closed = _t(lang, "closed")
    order = sorted(range(len(labels)), key=lambda i: labels[i] == closed)
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=9,
    )
    top = ax.get_ylim()[1]
    ax.set_ylim(0, max(top * 1.05, 1))


def _panel(ax: Axes, title: str, ylabel: str) -> None:
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#dddddd", lw=0.8)
    ax.set_axisbelow(True)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))


def _steps(ax: Axes, values: Sequence[float], **style: Any) -> None:
    """One level per day, across the whole day (from ``i - 0.5`` to ``i + 0.5``): the
    line's y data is ``values`` and the last value once more."""
    edges = [i - 0.5 for i in range(len(values) + 1)]
    ax.step(edges, [*values, values[-1]], where="post", **style)


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    fig.savefig(out, format="png", dpi=_DPI)
    return out


def _column(rows: Sequence[dict[str, Any]], name: str) -> list[float]:
    return [_num(r.get(name)) for r in rows]


# -- a simulation -----------------------------------------------------------------------------


def simulation_chart(sim: Simulation, path: str | os.PathLike[str], *, lang: str = "id") -> Path:
    """Draw ``sim`` as a PNG of three panels at ``path`` (`WIDTH` x `HEIGHT` pixels).

    1. Online places (``online_capacity``) against online registrations per day (new
       ones, ``online_arrivals``, and those trying again, ``online_retries``) and the
       places booked for the day (``online_booked_for_day``); a first-day surge far
       above the other days is cut at the top and its count written on it.
    2. The wait in working days of those who first tried each day: ``wait_mean`` and
       ``wait_max``, and ``quoted_wait`` (what a citizen registering at the day's end
       would wait; a gap when the window is full).
    3. Walk-ins per day: ``walk_ins_served`` and ``walk_ins_turned_away``, stacked.

    Args:
        sim: The simulation (`queue_quota.simulate.simulate`).
        path: The PNG file to write (replaced if it exists).
        lang: ``"id"`` (default) or ``"en"``: titles, labels, legend and dates.

    Returns:
        ``path``, as a `Path`.

    Raises:
        ConfigurationError: matplotlib is not installed (the ``charts`` extra), or an
            unknown language.
    """
    return _save(_simulation_figure(sim, lang=lang), path)


def comparison_chart(
    comparison: Comparison,
    path: str | os.PathLike[str],
    *,
    lang: str = "id",
    names: tuple[str, str] | None = None,
) -> Path:
    """Draw both offices of ``comparison`` on the same axes, as `simulation_chart` draws
    one: online places of each against the same new registrations, each one's longest and
    quoted wait, each one's walk-ins turned away (bars side by side).

    Args:
        comparison: Two simulations on the same demand (`queue_quota.simulate.compare`).
        path: The PNG file to write.
        lang: ``"id"`` (default) or ``"en"``.
        names: How the legend names the offices (default: their ids, or "Office A" and
            "Office B" when the ids are the same).

    Returns:
        ``path``, as a `Path`.

    Raises:
        ConfigurationError: matplotlib is not installed, or an unknown language.
    """
    return _save(_comparison_figure(comparison, lang=lang, names=names), path)


def _days(rows: Sequence[dict[str, Any]]) -> list[date]:
    return [date.fromisoformat(str(r["day"])) for r in rows]


def _demand_limit(ax: Axes, heights: Sequence[float], others: float, lang: str) -> None:
    """Cut a first day that towers over the rest, and write its count on it."""
    if len(heights) < 2 or not heights[0] > _SURGE_FACTOR * max(others, 1.0):
        return
    top = max(others, 1.0) * 1.5
    ax.set_ylim(0, top)
    ax.annotate(
        _t(lang, "surge", count=round(heights[0])) + " ↑",
        xy=(0, top),
        xytext=(6, -4),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=9,
        fontweight="bold",
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": _GREY, "lw": 0.6},
    )


def _simulation_figure(sim: Simulation, *, lang: str = "id") -> Figure:
    """The figure of `simulation_chart` (not saved)."""
    lang = i18n.normalize_language(lang)
    _require()
    rows = sim.as_rows()
    days = _days(rows)
    x = list(range(len(rows)))
    closed = [not r["open"] for r in rows]
    fig, (demand, wait, door) = _new_figure(3)
    start = _long(sim.start, lang)
    fig.suptitle(
        _t(lang, "simulation", office=sim.office_id, count=sim.days, start=start),
        fontsize=13,
        fontweight="bold",
    )

    # 1. online places against online registrations
    _panel(demand, _t(lang, "demand.title"), _t(lang, "people"))
    _shade_closed(demand, closed, lang, label=True)
    arrivals = _column(rows, "online_arrivals")
    retries = _column(rows, "online_retries")
    demand.bar(
        x, arrivals, 0.8, color="#9ecae1", label=_t(lang, "online_arrivals"), gid="online_arrivals"
    )
    if any(retries):
        demand.bar(
            x,
            retries,
            0.8,
            bottom=arrivals,
            color="#c6dbef",
            hatch="//",
            edgecolor="#6baed6",
            lw=0,
            label=_t(lang, "online_retries"),
            gid="online_retries",
        )
    capacity = _column(rows, "online_capacity")
    booked = _column(rows, "online_booked_for_day")
    booked = [math.nan if c and not b else b for b, c in zip(booked, closed, strict=True)]
    _steps(
        demand,
        capacity,
        color=_BLUE,
        lw=2,
        label=_t(lang, "online_capacity"),
        gid="online_capacity",
    )
    demand.plot(
        x,
        booked,
        "o",
        color=_ORANGE,
        ms=3.5,
        label=_t(lang, "online_booked"),
        gid="online_booked_for_day",
    )
    total = [a + r for a, r in zip(arrivals, retries, strict=True)]
    others = max([*total[1:], *capacity, *(b for b in booked if b == b), 1.0])
    _demand_limit(demand, total, others, lang)
    _legend(demand, lang)

    # 2. the wait
    _panel(wait, _t(lang, "wait.title"), _t(lang, "working_days"))
    _shade_closed(wait, closed, lang, label=False)
    _steps(
        wait,
        _column(rows, "quoted_wait"),
        color=_GREY,
        lw=1.5,
        ls="--",
        label=_t(lang, "quoted_wait"),
        gid="quoted_wait",
    )
    wait.plot(
        x,
        _column(rows, "wait_max"),
        "-o",
        color=_RED,
        ms=3,
        lw=1.5,
        label=_t(lang, "wait_max"),
        gid="wait_max",
    )
    wait.plot(
        x,
        _column(rows, "wait_mean"),
        "-o",
        color=_BLUE,
        ms=3,
        lw=1.5,
        label=_t(lang, "wait_mean"),
        gid="wait_mean",
    )
    _legend(wait, lang)

    # 3. walk-ins
    _panel(door, _t(lang, "walk_in.title"), _t(lang, "people"))
    _shade_closed(door, closed, lang, label=False)
    if sim.walk_in_channel is None:
        _no_walk_in(door, lang)
    else:
        served = _column(rows, "walk_ins_served")
        door.bar(
            x, served, 0.8, color=_GREY, label=_t(lang, "walk_ins_served"), gid="walk_ins_served"
        )
        door.bar(
            x,
            _column(rows, "walk_ins_turned_away"),
            0.8,
            bottom=served,
            color=_RED,
            label=_t(lang, "walk_ins_turned_away"),
            gid="walk_ins_turned_away",
        )
        _legend(door, lang)
    _date_axis(door, days, lang)
    door.set_xlabel(_t(lang, "date"))
    return fig


def _no_walk_in(ax: Axes, lang: str) -> None:
    ax.text(
        0.5,
        0.5,
        _t(lang, "no_walk_in"),
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#555555",
    )
    ax.set_yticks([])


def _office_names(comparison: Comparison, lang: str, names: tuple[str, str] | None) -> list[str]:
    if names is not None:
        return [str(names[0]), str(names[1])]
    a, b = comparison.a.office_id, comparison.b.office_id
    if a != b:
        return [a, b]
    return [_t(lang, "office", name="A"), _t(lang, "office", name="B")]


def _comparison_figure(
    comparison: Comparison, *, lang: str = "id", names: tuple[str, str] | None = None
) -> Figure:
    """The figure of `comparison_chart` (not saved); series ids are ``a.FIELD`` and
    ``b.FIELD``."""
    lang = i18n.normalize_language(lang)
    _require()
    sims = (comparison.a, comparison.b)
    rows = [s.as_rows() for s in sims]
    labels = _office_names(comparison, lang, names)
    days = _days(rows[0])
    x = list(range(len(days)))
    closed = [not r["open"] for r in rows[0]]
    fig, (demand, wait, door) = _new_figure(3)
    start = _long(comparison.a.start, lang)
    fig.suptitle(
        _t(lang, "comparison", a=labels[0], b=labels[1], count=comparison.a.days, start=start),
        fontsize=13,
        fontweight="bold",
    )
    colours = (_BLUE, _ORANGE)

    def series(name: str, i: int) -> str:
        return _t(lang, "series", series=_t(lang, name), office=labels[i])

    # 1. the same new registrations; each office's places and retries
    _panel(demand, _t(lang, "demand.title"), _t(lang, "people"))
    _shade_closed(demand, closed, lang, label=True)
    arrivals = _column(rows[0], "online_arrivals")
    demand.bar(
        x,
        arrivals,
        0.8,
        color="#d0d0d0",
        label=_t(lang, "online_arrivals"),
        gid="a.online_arrivals",
    )
    others = max([*arrivals[1:], 1.0])
    for i, side in enumerate(("a", "b")):
        capacity = _column(rows[i], "online_capacity")
        _steps(
            demand,
            capacity,
            color=colours[i],
            lw=2,
            label=series("online_capacity", i),
            gid=f"{side}.online_capacity",
        )
        others = max([others, *capacity])
    _demand_limit(demand, arrivals, others, lang)
    _legend(demand, lang)

    # 2. the waits
    _panel(wait, _t(lang, "wait.title"), _t(lang, "working_days"))
    _shade_closed(wait, closed, lang, label=False)
    for i, side in enumerate(("a", "b")):
        wait.plot(
            x,
            _column(rows[i], "wait_max"),
            "-o",
            color=colours[i],
            ms=3,
            lw=1.5,
            label=series("wait_max", i),
            gid=f"{side}.wait_max",
        )
        _steps(
            wait,
            _column(rows[i], "quoted_wait"),
            color=colours[i],
            lw=1.2,
            ls="--",
            label=series("quoted_wait", i),
            gid=f"{side}.quoted_wait",
        )
    _legend(wait, lang)

    # 3. walk-ins turned away, side by side
    _panel(door, _t(lang, "turned_away_per_day"), _t(lang, "people"))
    _shade_closed(door, closed, lang, label=False)
    if all(s.walk_in_channel is None for s in sims):
        _no_walk_in(door, lang)
    else:
        for i, side in enumerate(("a", "b")):
            shifted = [v + (i - 0.5) * 0.4 for v in x]
            door.bar(
                shifted,
                _column(rows[i], "walk_ins_turned_away"),
                0.4,
                color=colours[i],
                label=series("walk_ins_turned_away", i),
                gid=f"{side}.walk_ins_turned_away",
            )
        _legend(door, lang)
    _date_axis(door, days, lang)
    door.set_xlabel(_t(lang, "date"))
    return fig


# -- a report ---------------------------------------------------------------------------------


def report_chart(
    report: Report,
    path: str | os.PathLike[str],
    *,
    lang: str = "id",
    office: Office | None = None,
) -> Path:
    """Draw ``report`` as a PNG at ``path`` (`WIDTH` x `HEIGHT` pixels).

    1. Per day and channel: the places booked (``booked``: checked in, no-show or still
       booked; bars side by side) against the channel's ``capacity`` (a line).
    2. No-shows per day and channel (``no_shows``, marked by `Scheduler.mark_no_shows`).
    3. Walk-ins turned away because the day was full (``turned_away``), for each walk-in
       channel (the panel is left out when the office has none).

    Args:
        report: The report (`Scheduler.report`).
        path: The PNG file to write.
        lang: ``"id"`` (default) or ``"en"``.
        office: The report's office, to name channels by their policies' titles
            (default: their built-in names).

    Returns:
        ``path``, as a `Path`.

    Raises:
        ConfigurationError: matplotlib is not installed, or an unknown language.
    """
    return _save(_report_figure(report, lang=lang, office=office), path)


def _report_figure(report: Report, *, lang: str = "id", office: Office | None = None) -> Figure:
    """The figure of `report_chart` (not saved); series ids are ``FIELD.CHANNEL``."""
    lang = i18n.normalize_language(lang)
    _require()
    rows = report.as_rows()
    channels = report.channels
    per_day = [rows[i : i + len(channels)] for i in range(0, len(rows), len(channels))]
    days = [date.fromisoformat(str(group[0]["day"])) for group in per_day]
    x = list(range(len(days)))
    closed = [all(r["closed_reason"] is not None for r in group) for group in per_day]
    walk_ins = [
        c for c in channels if any(r["turned_away"] is not None for r in rows if r["channel"] == c)
    ]
    fig, axes = _new_figure(3 if walk_ins else 2)
    last = report.end - timedelta(days=1)
    fig.suptitle(
        _t(
            lang,
            "report",
            office=report.office_id,
            start=_long(report.start, lang),
            end=_long(last, lang),
        ),
        fontsize=13,
        fontweight="bold",
    )

    def name(channel: str) -> str:
        return i18n.channel_text(channel, lang, office=office)

    def column(field: str, channel: str) -> list[float]:
        return [_num(next(r for r in g if r["channel"] == channel)[field]) for g in per_day]

    def grouped(ax: Axes, field: str, chosen: Sequence[str], label: Callable[[str], str]) -> None:
        width = 0.8 / max(len(chosen), 1)
        for k, channel in enumerate(chosen):
            colour = _COLOURS[channels.index(channel) % len(_COLOURS)]
            shifted = [v + (k - (len(chosen) - 1) / 2) * width for v in x]
            ax.bar(
                shifted,
                column(field, channel),
                width,
                color=colour,
                label=label(channel),
                gid=f"{field}.{channel}",
            )

    booked_ax, no_show_ax = axes[0], axes[1]
    _panel(booked_ax, _t(lang, "capacity.title"), _t(lang, "people"))
    _shade_closed(booked_ax, closed, lang, label=True)
    grouped(booked_ax, "booked", channels, lambda c: _t(lang, "booked_of", channel=name(c)))
    for channel in channels:
        colour = _COLOURS[channels.index(channel) % len(_COLOURS)]
        _steps(
            booked_ax,
            column("capacity", channel),
            color=colour,
            lw=1.8,
            ls="--",
            label=_t(lang, "capacity_of", channel=name(channel)),
            gid=f"capacity.{channel}",
        )
    _legend(booked_ax, lang)

    _panel(no_show_ax, _t(lang, "no_shows.title"), _t(lang, "people"))
    _shade_closed(no_show_ax, closed, lang, label=False)
    grouped(no_show_ax, "no_shows", channels, name)
    _legend(no_show_ax, lang)

    if walk_ins:
        door = axes[2]
        _panel(door, _t(lang, "turned_away.title"), _t(lang, "people"))
        _shade_closed(door, closed, lang, label=False)
        grouped(door, "turned_away", walk_ins, name)
        _legend(door, lang)
    _date_axis(axes[-1], days, lang)
    axes[-1].set_xlabel(_t(lang, "date"))
    return fig
