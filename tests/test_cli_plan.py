"""The planning commands: ``simulate`` (no database) and ``report`` (reads one)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from _cli import EXAMPLE, NIK, Runner, make_runner
from queue_quota import charts
from queue_quota.config import load_office
from queue_quota.report import FIELDS
from queue_quota.simulate import Demand, simulate
from test_charts import png_size

SIM = ["simulate", "--online-per-day", "25", "--walk-in-per-day", "35", "--days", "12",
       "--start", "2020-06-08", "--surge", "100", "--seed", "3"]  # fmt: skip


@pytest.fixture
def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    return make_runner(tmp_path, capsys, monkeypatch)


def expected() -> list[dict[str, object]]:
    demand = Demand(online_per_day=25, walk_in_per_day=35, first_day_surge=100)
    office = load_office(EXAMPLE)
    return simulate(office, demand, start=date(2020, 6, 8), days=12, seed=3).as_rows()


def as_csv(value: object) -> str:
    return "" if value is None else str(value)


def test_simulate_needs_no_database(run: Runner) -> None:
    """simulate prints the per-day table and the summary, and creates no database."""
    r = run(*SIM)
    assert r.code == 0, r.err
    assert not run.db.exists()
    lines = r.out.splitlines()
    assert lines[0] == "Simulasi tegal-disdukcapil: 12 hari mulai Senin, 8 Juni 2020 (seed 3)"
    assert any(line.startswith("Rabu, 10 Juni 2020") and "system maintenance" in line
               for line in lines)  # fmt: skip
    assert any(line.startswith("Minggu, 14 Juni 2020") and "akhir pekan" in line for line in lines)
    assert any(line.startswith("Median waktu tunggu ") for line in lines)
    r = run(*SIM, "--lang", "en")
    assert "Median wait " in r.out
    assert "working days, 9 in 10 within" in r.out
    assert "walk-ins turned away" in r.out


def test_simulate_csv_parses_back_to_the_rows(run: Runner) -> None:
    """--csv: the header is as_rows()' field names, the rows are as_rows() (None empty)."""
    r = run(*SIM, "--csv")
    assert r.code == 0, r.err
    rows = expected()
    reader = csv.DictReader(io.StringIO(r.out))
    assert reader.fieldnames == list(rows[0])
    assert list(reader) == [{k: as_csv(v) for k, v in row.items()} for row in rows]


def test_simulate_json(run: Runner) -> None:
    """--json holds the summary and the rows as as_rows() gives them."""
    r = run(*SIM, "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["rows"] == expected()
    assert doc["office_id"] == "tegal-disdukcapil"
    assert doc["seed"] == 3
    assert doc["summary"]["online_registrants"] == sum(r["online_arrivals"] for r in doc["rows"])


def test_simulate_compare(run: Runner, tmp_path: Path) -> None:
    """--compare runs a second office file on the same citizens, side by side."""
    other = tmp_path / "tegal-30.toml"
    other.write_text(EXAMPLE.read_text().replace("capacity = 20 ", "capacity = 30 ", 1))
    r = run(*SIM, "--compare", str(other), "--lang", "en")
    assert r.code == 0, r.err
    assert r.out.startswith("tegal and tegal-30 on the same citizens: 12 days from Monday")
    row = next(line for line in r.out.splitlines() if line.startswith("Longest wait"))
    a, b, diff = row.split()[-3:]
    assert int(b) < int(a)
    assert diff == f"-{int(a) - int(b)}"
    r = run(*SIM, "--compare", str(other), "--csv")
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [x["office"] for x in rows] == ["a"] * 12 + ["b"] * 12
    assert [x["online_arrivals"] for x in rows[:12]] == [x["online_arrivals"] for x in rows[12:]]
    doc = json.loads(run(*SIM, "--compare", str(other), "--json").out)
    assert set(doc) == {"a", "b", "difference"}


def test_simulate_png(run: Runner, tmp_path: Path) -> None:
    """--png writes the chart and says where (on standard error with --csv)."""
    out = tmp_path / "plan.png"
    r = run(*SIM, "--png", str(out))
    assert r.code == 0, r.err
    assert r.out.splitlines()[-1] == f"Grafik disimpan di {out}."
    assert png_size(out) == (charts.WIDTH, charts.HEIGHT)
    r = run(*SIM, "--csv", "--png", str(out), "--lang", "en")
    assert r.err == f"Chart written to {out}.\n"
    assert list(csv.DictReader(io.StringIO(r.out)))


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["--days", "0"], 2, "jumlah hari"),
        (["--no-show-rate", "2"], 2, "share from 0 to 1"),
        (["--json", "--csv"], 2, "not allowed with"),
        (["--compare", "missing.toml"], 2, "tidak ditemukan"),
    ],
)
def test_simulate_bad_input(run: Runner, args: list[str], status: int, says: str) -> None:
    """Bad numbers and files are exit status 2 with a message."""
    r = run(*SIM, *args)
    assert r.code == status
    assert says in r.err


def test_simulate_without_matplotlib(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """--png without the charts extra is exit status 2 naming it, before any output."""
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    r = run(*SIM, "--png", "x.png")
    assert r.code == 2
    assert r.out == ""
    assert "pip install 'queue-quota[charts]'" in r.err


# -- report --------------------------------------------------------------------------------


def scripted(run: Runner) -> None:
    """A week in the SQLite database: an online booking for Friday, two walk-ins on
    Thursday, one checked in."""
    run.book()  # Friday 5 June, A-001
    first = run("walk-in")
    assert first.code == 0, first.err
    run("walk-in", "--citizen", "-", stdin=NIK)
    r = run("check-in", first.ticket)
    assert r.code == 0, r.err


def test_report_table_and_totals(run: Runner) -> None:
    """report prints each day and channel, then the totals and a sentence per channel."""
    scripted(run)
    r = run("report", "--from", "2020-06-04", "--to", "2020-06-05")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == ("Laporan tegal-disdukcapil, Kamis, 4 Juni 2020 sampai Jumat, 5 Juni 2020")
    thursday = [line for line in lines if line.startswith("Kamis, 4 Juni 2020")]
    assert [line.split()[4:] for line in thursday] == [
        ["pendaftaran", "online", "20", "0", "0", "0", "0", "0"],
        ["walk-in", "40", "2", "1", "0", "1", "0", "0"],
    ]
    assert sum(line.startswith("Jumlah") for line in lines) == 2
    assert any(line.startswith("walk-in: 0 orang ditolak") for line in lines)


def test_report_csv_and_json(run: Runner) -> None:
    """--csv has the FIELDS header and parses back to the report's rows; --json parses."""
    scripted(run)
    r = run("report", "--from", "2020-06-04", "--to", "2020-06-10", "--csv")
    assert r.code == 0, r.err
    reader = csv.DictReader(io.StringIO(r.out))
    assert tuple(reader.fieldnames or ()) == FIELDS
    rows = list(reader)
    assert len(rows) == 7 * 2
    doc = json.loads(run("report", "--from", "2020-06-04", "--to", "2020-06-10", "--json").out)
    assert [{k: as_csv(v) for k, v in row.items()} for row in doc["rows"]] == rows
    assert doc["from"] == "2020-06-04"
    assert doc["to"] == "2020-06-10"
    assert [t["channel"] for t in doc["totals"]] == ["online", "walk_in"]
    friday = next(x for x in doc["rows"] if x["day"] == "2020-06-05" and x["channel"] == "online")
    assert friday["booked"] == 1
    assert friday["pending"] == 1


def test_report_png(run: Runner, tmp_path: Path) -> None:
    """--png draws the report."""
    scripted(run)
    out = tmp_path / "r.png"
    r = run("report", "--from", "2020-06-01", "--to", "2020-06-12", "--png", str(out))
    assert r.code == 0, r.err
    assert png_size(out) == (charts.WIDTH, charts.HEIGHT)


def test_report_never_creates_a_database(run: Runner) -> None:
    """Like every read command: a missing database is exit status 2, and stays missing."""
    r = run("report", "--from", "2020-06-04", "--to", "2020-06-05")
    assert r.code == 2
    assert "tidak membuat basis data baru" in r.err
    assert not run.db.exists()


def test_report_range_and_rows_counted_from_the_database(run: Runner) -> None:
    """--to before --from is exit status 2; the counts are the database's own."""
    scripted(run)
    r = run("report", "--from", "2020-06-05", "--to", "2020-06-04")
    assert r.code == 2
    assert "--to" in r.err
    with sqlite3.connect(run.db) as conn:
        (count,) = conn.execute("SELECT sum(places) FROM qq_booking").fetchone()
    doc = json.loads(run("report", "--from", "2020-06-04", "--to", "2020-06-05", "--json").out)
    assert sum(t["booked"] + t["cancelled"] for t in doc["totals"]) == count


def test_simulate_max_wait_answers_how_many_places(run: Runner) -> None:
    """--max-wait W: the fewest online places a day with which nobody waits more than W
    working days; the same number as the library's search, and one fewer does not do."""
    from queue_quota.simulate import smallest_capacity

    office = load_office(EXAMPLE)
    demand = Demand(online_per_day=25, walk_in_per_day=35, first_day_surge=100)
    found = smallest_capacity(office, demand, max_wait=4, start=date(2020, 6, 8), days=12, seed=3)
    assert found is not None
    assert found.below is not None
    assert (found.below.summary.wait_max or 99) > 4
    r = run(*SIM, "--max-wait", "4", "--lang", "en")
    assert r.code == 0, r.err
    assert r.out.startswith(f"{found.capacity} places a day on online registration: nobody")
    document = json.loads(run(*SIM, "--max-wait", "4", "--json").out)
    assert (document["capacity"], document["max_wait"]) == (found.capacity, 4)
    assert document["summary"]["wait_max"] <= 4
    refused = run(*SIM, "--max-wait", "4", "--compare", str(EXAMPLE))
    assert refused.code == 2
