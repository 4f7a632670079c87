"""queue_quota.charts: the PNG is written at its size, the panels are titled and labelled
in the chosen language, and every series drawn is the rows' own numbers."""

from __future__ import annotations

import importlib.util
import math
import struct
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import queue_quota as qq
from queue_quota import charts, i18n
from queue_quota.config import load_office
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.simulate import Demand, compare, simulate

ROOT = Path(__file__).resolve().parents[1]
WIB = ZoneInfo("Asia/Jakarta")
START = date(2020, 6, 8)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def tegal(online: int = 20) -> qq.Office:
    office = load_office(ROOT / "examples" / "tegal.toml")
    policies = [
        attrs.evolve(p, capacity=online) if isinstance(p, OnlineQuota) else p
        for p in office.policies
    ]
    return attrs.evolve(office, policies=policies)


DEMAND = Demand(online_per_day=25, walk_in_per_day=35, first_day_surge=200, retry_days=1)


@pytest.fixture(scope="module")
def sim() -> object:
    return simulate(tegal(), DEMAND, start=START, days=24, seed=7)


def series(fig: Figure) -> dict[str, list[float]]:
    """Every drawn series by its gid: bar heights, or a line's y data."""
    out: dict[str, list[float]] = {}
    for ax in fig.axes:
        for patch in ax.patches:
            gid = patch.get_gid()
            if gid:
                out.setdefault(gid, []).append(patch.get_height())
        for line in ax.lines:
            gid = line.get_gid()
            if gid:
                out[gid] = [float(v) for v in line.get_ydata()]
    return out


def same(drawn: list[float], values: list[object]) -> bool:
    """The drawn numbers are the values (``None`` drawn as a gap)."""
    if len(drawn) != len(values):
        return False
    for d, v in zip(drawn, values, strict=True):
        if v is None:
            if not math.isnan(d):
                return False
        elif not math.isclose(d, float(v)):  # type: ignore[arg-type]
            return False
    return True


def texts(ax: Axes) -> tuple[str, str, str, list[str]]:
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()] if legend else []
    return ax.get_title(loc="left"), ax.get_ylabel(), ax.get_xlabel(), labels


def test_simulation_chart_png_has_the_documented_size(sim: object, tmp_path: Path) -> None:
    """simulation_chart writes a PNG of WIDTH x HEIGHT pixels and returns its path."""
    out = charts.simulation_chart(sim, tmp_path / "sim.png")  # type: ignore[arg-type]
    assert out == tmp_path / "sim.png"
    assert png_size(out) == (charts.WIDTH, charts.HEIGHT)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_simulation_chart_is_titled_and_labelled_in_the_language(sim: object, lang: str) -> None:
    """Figure title, panel titles, axis labels and legends come from the catalogue."""
    fig = charts._simulation_figure(sim, lang=lang)  # type: ignore[arg-type]
    demand, wait, door = fig.axes

    def t(key: str, **fields: object) -> str:
        return i18n.text(f"chart.{key}", lang, **fields)

    start = "8 Juni 2020" if lang == "id" else "8 June 2020"
    want = t("simulation", office="tegal-disdukcapil", count=24, start=start)
    assert fig.get_suptitle() == want
    title, ylabel, _, legend = texts(demand)
    assert (title, ylabel) == (t("demand.title"), t("people"))
    assert set(legend) == {
        t("online_capacity"),
        t("online_booked"),
        t("online_arrivals"),
        t("closed"),
    }  # fmt: skip (nobody was refused: no "trying again" bars)
    assert legend[-1] == t("closed")  # the shading last
    assert texts(wait)[:2] == (t("wait.title"), t("working_days"))
    assert set(texts(wait)[3]) == {t("wait_mean"), t("wait_max"), t("quoted_wait")}
    title, ylabel, xlabel, legend = texts(door)
    assert (title, ylabel, xlabel) == (t("walk_in.title"), t("people"), t("date"))
    assert legend == [t("walk_ins_served"), t("walk_ins_turned_away")]
    # the surge is written on its bar, cut at the top
    notes = [c.get_text() for c in demand.texts]
    assert notes == [t("surge", count=sim.as_rows()[0]["online_demand"]) + " ↑"]  # type: ignore[attr-defined]
    fig.canvas.draw()  # renders without error
    ticks = [label.get_text() for label in door.get_xticklabels() if label.get_text()]
    assert ticks == ["8 Jun", "15 Jun", "22 Jun", "29 Jun"]  # Mondays


def test_indonesian_month_names_on_the_axis() -> None:
    """An August simulation is written "3 Agu" in Indonesian, "3 Aug" in English."""
    run = simulate(tegal(), Demand(online_per_day=5), start=date(2020, 7, 27), days=21, seed=1)
    for lang, want in (("id", "3 Agu"), ("en", "3 Aug")):
        fig = charts._simulation_figure(run, lang=lang)
        fig.canvas.draw()
        assert want in [t.get_text() for t in fig.axes[-1].get_xticklabels()]


def test_simulation_chart_draws_the_rows(sim: object) -> None:
    """Each series is the as_rows() column of its name (a gap for None; the booked dots
    are left out on closed days with nothing booked)."""
    rows = sim.as_rows()  # type: ignore[attr-defined]
    drawn = series(charts._simulation_figure(sim))  # type: ignore[arg-type]
    for name in ("online_arrivals", "walk_ins_served", "walk_ins_turned_away",
                 "wait_mean", "wait_max"):  # fmt: skip
        assert same(drawn[name], [r[name] for r in rows]), name
    for name in ("online_capacity", "quoted_wait"):  # a level per day, the last once more
        assert same(drawn[name][:-1], [r[name] for r in rows]), name
    booked = [
        None if not r["open"] and not r["online_booked_for_day"] else r["online_booked_for_day"]
        for r in rows
    ]
    assert same(drawn["online_booked_for_day"], booked)
    assert any(r["walk_ins_turned_away"] for r in rows)
    assert not any(r["online_retries"] for r in rows)
    assert "online_retries" not in drawn


def test_retries_are_stacked_on_the_new_registrations() -> None:
    """Citizens trying again are drawn on top of the day's new registrations."""
    office = qq.Office(
        id="kecil",
        calendar=qq.WorkingCalendar(),
        policies=[OnlineQuota(capacity=2, horizon_days=2)],
    )
    demand = Demand(online_per_day=6, retry_days=2, poisson=False)
    run = simulate(office, demand, start=START, days=10, seed=1)
    rows = run.as_rows()
    fig = charts._simulation_figure(run, lang="en")
    drawn = series(fig)
    assert any(r["online_retries"] for r in rows)
    assert same(drawn["online_retries"], [r["online_retries"] for r in rows])
    bottoms = [p.get_y() for p in fig.axes[0].patches if p.get_gid() == "online_retries"]
    assert bottoms == [r["online_arrivals"] for r in rows]
    assert "Trying again" in texts(fig.axes[0])[3]
    assert texts(fig.axes[2])[3] == []  # no walk-in channel: a sentence, no legend
    assert [t.get_text() for t in fig.axes[2].texts] == ["This office has no walk-in service."]


def test_comparison_chart_puts_both_offices_on_the_same_axes(tmp_path: Path) -> None:
    """Both offices' series on each panel, named as asked, from their own rows."""
    both = compare(tegal(20), tegal(30), DEMAND, start=START, days=24, seed=7)
    fig = charts._comparison_figure(both, lang="en", names=("20 a day", "30 a day"))
    drawn = series(fig)
    for side, run in (("a", both.a), ("b", both.b)):
        rows = run.as_rows()
        assert same(drawn[f"{side}.wait_max"], [r["wait_max"] for r in rows])
        assert same(drawn[f"{side}.online_capacity"][:-1], [r["online_capacity"] for r in rows])
        assert same(drawn[f"{side}.walk_ins_turned_away"],
                    [r["walk_ins_turned_away"] for r in rows])  # fmt: skip
    assert same(drawn["a.online_arrivals"], [r["online_arrivals"] for r in both.b.as_rows()])
    legend = texts(fig.axes[1])[3]
    assert "Longest (20 a day)" in legend
    assert "Longest (30 a day)" in legend
    assert fig.get_suptitle().startswith("20 a day and 30 a day: the same citizens, 24 days")
    # the same office id twice and no names: Office A and Office B
    default = charts._comparison_figure(both, lang="id")
    assert "Terlama (Kantor A)" in texts(default.axes[1])[3]
    out = charts.comparison_chart(both, tmp_path / "c.png", lang="id")
    assert png_size(out) == (charts.WIDTH, charts.HEIGHT)


def _report() -> tuple[qq.Office, qq.Report]:
    office = qq.Office(
        id="loket",
        calendar=qq.WorkingCalendar.indonesia(tz="Asia/Jakarta"),
        policies=[OnlineQuota(capacity=3), WalkInQuota(capacity=2, opens=time(7), closes=time(12))],
    )
    sched = qq.Scheduler(office)
    friday = datetime(2020, 5, 29, 9, tzinfo=WIB)
    tuesday = date(2020, 6, 2)
    came = sched.book("online", "3328011234560001", preferred_date=tuesday, now=friday)
    sched.book("online", "3328011234560002", preferred_date=tuesday, now=friday)
    at_eight = datetime(2020, 6, 2, 8, tzinfo=WIB)
    sched.check_in(came.id, now=at_eight)
    sched.book("walk_in", now=at_eight)
    sched.book("walk_in", now=at_eight)
    with pytest.raises(qq.QuotaExhausted):
        sched.book("walk_in", places=2, now=at_eight)
    wednesday = datetime(2020, 6, 3, 7, tzinfo=WIB)
    sched.mark_no_shows(tuesday, now=wednesday)
    return office, sched.report(date(2020, 6, 1), date(2020, 6, 8), now=wednesday)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_report_chart_draws_the_report_rows(lang: str, tmp_path: Path) -> None:
    """Capacity and booked per channel, no-shows, turned away: the report's rows, with the
    channels named in the language."""
    office, report = _report()
    fig = charts._report_figure(report, lang=lang, office=office)
    drawn = series(fig)
    rows = report.as_rows()
    for channel in report.channels:
        mine = [r for r in rows if r["channel"] == channel]
        assert same(drawn[f"booked.{channel}"], [r["booked"] for r in mine])
        assert same(drawn[f"no_shows.{channel}"], [r["no_shows"] for r in mine])
        assert same(drawn[f"capacity.{channel}"][:-1], [r["capacity"] for r in mine])
    walk_in = [r["turned_away"] for r in rows if r["channel"] == "walk_in"]
    assert same(drawn["turned_away.walk_in"], walk_in)
    assert sum(walk_in) == 2
    assert "turned_away.online" not in drawn
    booked, no_shows, door = fig.axes

    def t(key: str, **fields: object) -> str:
        return i18n.text(f"chart.{key}", lang, **fields)

    online = i18n.channel_text("online", lang)
    assert texts(booked)[0] == t("capacity.title")
    assert t("booked_of", channel=online) in texts(booked)[3]
    assert t("capacity_of", channel=online) in texts(booked)[3]
    assert texts(no_shows)[0] == t("no_shows.title")
    assert texts(door)[0] == t("turned_away.title")
    assert texts(door)[2] == t("date")
    fig.canvas.draw()
    ticks = [label.get_text() for label in door.get_xticklabels()]
    assert ticks == [f"{d} Jun" for d in range(1, 8)]  # a week: every day
    out = charts.report_chart(report, tmp_path / "r.png", lang=lang, office=office)
    assert png_size(out) == (charts.WIDTH, charts.HEIGHT)


def test_a_report_without_walk_ins_has_two_panels() -> None:
    """No walk-in channel, no turned-away panel."""
    office = qq.Office(id="x", calendar=qq.WorkingCalendar(), policies=[OnlineQuota(capacity=3)])
    report = qq.Scheduler(office).report(
        date(2020, 6, 1), date(2020, 6, 3), now=datetime(2020, 6, 1, tzinfo=WIB)
    )
    assert len(charts._report_figure(report).axes) == 2


def test_an_unknown_language_is_refused(sim: object, tmp_path: Path) -> None:
    """lang is checked like everywhere else (ConfigurationError), and nothing is written."""
    with pytest.raises(qq.ConfigurationError, match="language"):
        charts.simulation_chart(sim, tmp_path / "x.png", lang="fr")  # type: ignore[arg-type]
    assert not (tmp_path / "x.png").exists()


def test_without_matplotlib_a_chart_names_the_extra(
    sim: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing matplotlib is a ConfigurationError naming the charts extra, in both
    languages."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(qq.ConfigurationError) as info:
        charts._simulation_figure(sim)  # type: ignore[arg-type]
    assert "queue-quota[charts]" in str(info.value)
    assert i18n.describe(info.value, "id").startswith("Grafik memerlukan paket tambahan charts")
    assert "pip install 'queue-quota[charts]'" in i18n.describe(info.value, "en")


def test_importing_queue_quota_does_not_import_matplotlib() -> None:
    """The core (and the charts module itself) never imports matplotlib up front."""
    code = (
        "import sys, queue_quota, queue_quota.charts, queue_quota.cli, queue_quota.simulate; "
        "print('matplotlib' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


def test_the_docs_images_script_draws_them(tmp_path: Path) -> None:
    """examples/choose_numbers.py (which made docs/img/tegal-*.png) still draws them all."""
    spec = importlib.util.spec_from_file_location(
        "choose_numbers", ROOT / "examples" / "choose_numbers.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.draw(tmp_path)
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == sorted(p.name for p in (ROOT / "docs" / "img").glob("tegal-*.png"))
    for path in tmp_path.glob("*.png"):
        assert png_size(path) == (charts.WIDTH, charts.HEIGHT)
