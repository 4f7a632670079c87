"""The command line's views (manifest, availability, calendar), usage errors, help, and
running as a real process."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from _cli import EXAMPLE, NIK, NOW, ROOT, Runner, make_runner
from queue_quota import cli
from queue_quota.calendar import WorkingCalendar

COMMANDS = (
    "demo",
    "calendar",
    "availability",
    "manifest",
    "book",
    "walk-in",
    "bookings",
    "cancel",
    "check-in",
    "reschedule",
    "lift-suspension",
    "close-day",
    "mark-no-shows",
    "check-office",
    "events",
    "reopen-day",
    "notify",
    "waitlist",
    "join-waitlist",
    "leave-waitlist",
    "promote-waitlist",
    "simulate",
    "report",
)


@pytest.fixture
def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    return make_runner(tmp_path, capsys, monkeypatch)


def test_manifest_json(run: Runner) -> None:
    """manifest --json is one object whose bookings carry the documented fields only."""
    run("walk-in")
    run("walk-in", "--citizen", "-", stdin=NIK)
    r = run("manifest", "2020-06-04", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["office_id"] == "tegal-disdukcapil"
    assert doc["day"] == "2020-06-04"
    assert [b["label"] for b in doc["bookings"]] == ["B-001", "B-002"]
    assert set(doc["bookings"][0]) == set(cli.MANIFEST_FIELDS)
    assert NIK not in r.out


def test_manifest_csv(run: Runner) -> None:
    """manifest --csv parses with the csv module, one row per booking."""
    run.book()
    r = run("manifest", "2020-06-05", "--csv", "--channel", "online")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert len(rows) == 1
    assert rows[0]["label"] == "A-001"
    assert rows[0]["status"] == "booked"
    assert rows[0]["channel"] == "online"
    assert list(rows[0]) == list(cli.MANIFEST_FIELDS)


def test_manifest_table_is_aligned(run: Runner) -> None:
    """The default manifest is a table whose columns line up."""
    run("walk-in")
    lines = run("manifest", "2020-06-04").out.splitlines()
    header, rule, row = lines[2], lines[3], lines[4]
    assert header.startswith("Nomor")
    assert set(rule) <= {"-", " "}
    assert row.index("walk-in") == header.index("Layanan")


def test_availability_table_with_bookable(run: Runner) -> None:
    """availability shows capacity, booked, remaining, whether bookable now, and why closed."""
    run.book()
    r = run("availability", "--channel", "online", "--from", "2020-06-04", "--days", "7")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "Ketersediaan pendaftaran online, tegal-disdukcapil"

    def row(prefix: str) -> list[str]:
        return next(line for line in lines if line.startswith(prefix)).split()

    assert row("Kamis, 4 Juni")[-4:] == ["20", "0", "20", "tidak"]  # lead_days=1: not today
    assert row("Jumat, 5 Juni")[-4:] == ["20", "1", "19", "ya"]
    assert row("Sabtu, 6 Juni")[-3:] == ["tidak", "akhir", "pekan"]
    assert "system maintenance" in " ".join(row("Rabu, 10"))
    en = run("availability", "--channel", "online", "--days", "2", "--lang", "en")
    assert "Bookable" in en.out
    assert "Availability of online registration, tegal-disdukcapil" in en.out


def test_calendar_lists_christmas_with_names(run: Runner) -> None:
    """calendar --month 2020-12 lists 24 and 25 December with their names, in both languages."""
    r = run("calendar", "--month", "2020-12", db=None)
    assert r.code == 0, r.err
    assert "Kamis, 24 Desember 2020" in r.out
    assert "Cuti Bersama Hari Raya Natal" in r.out
    assert "Jumat, 25 Desember 2020   Hari Raya Natal" in r.out
    en = run("calendar", "--month", "2020-12", "--lang", "en", db=None)
    assert "Friday, 25 December 2020" in en.out
    assert "Christmas Day" in en.out
    assert "Natal" not in en.out


def test_calendar_names_holidays_in_a_language() -> None:
    """WorkingCalendar.holiday_name(day, language) translates where the country can."""
    cal = WorkingCalendar.indonesia()
    christmas = date(2020, 12, 25)
    assert cal.holiday_name(christmas) == "Hari Raya Natal"
    assert cal.holiday_name(christmas, "en") == "Christmas Day"
    assert cal.holiday_name(christmas, "en_US") == "Christmas Day"
    assert cal.holiday_name(christmas, "id") == "Hari Raya Natal"
    assert cal.holiday_name(christmas, "xx") == "Hari Raya Natal"
    assert cal.holiday_name(date(2020, 12, 28), "en") is None
    fixed = WorkingCalendar(holidays={christmas: "Natal"})
    assert fixed.holiday_name(christmas, "en") == "Natal"


def test_calendar_lists_special_openings(run: Runner) -> None:
    """A special opening in the month is listed below the closed days."""
    r = run("calendar", "--month", "2020-06", db=None)
    assert "Dibuka khusus: Sabtu, 13 Juni 2020" in r.out
    assert "Sabtu, 13 Juni 2020" not in r.out.split("Dibuka khusus")[0]


# -- bad usage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["book", "--channel", "online", "--now", "2020-06-04T09:00:00"],
        ["book", "--channel", "online", "--now", "yesterday"],
        ["book", "--citizen", NIK],
        ["calendar", "--month", "2020-13"],
        ["availability", "--days", "0"],
        ["manifest", "2020-06-05", "--json", "--csv"],
        ["bookings"],
        ["reschedule"],
        ["fly"],
        [],
    ],
    ids=[
        "naive-now",
        "bad-now",
        "no-channel",
        "bad-month",
        "zero-days",
        "two-formats",
        "bookings-no-citizen",
        "reschedule-no-id",
        "cmd",
        "none",
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Argument errors exit 2 with a usage message, never a traceback."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: queue-quota" in err
    assert "Traceback" not in err


def test_naive_now_message(capsys: pytest.CaptureFixture[str]) -> None:
    """A naive --now is refused with advice to add an offset."""
    assert cli.main(["walk-in", "--now", "2020-06-04T09:00:00"]) == 2
    assert "no time zone offset" in capsys.readouterr().err


def test_unknown_channel_and_bad_office_file_exit_2(run: Runner) -> None:
    """An unknown channel, or an office file with a mistake, exits 2 naming the problem."""
    r = run("book", "--channel", "fax", "--citizen", "-", "--lang", "en", stdin=NIK)
    assert r.code == 2
    assert "fax" in r.err
    broken = run.tmp / "broken.toml"
    broken.write_text(EXAMPLE.read_text().replace("capacity = 40", "capacity = -4"))
    r = run("availability", "--lang", "en", office=broken)
    assert r.code == 2
    assert f"{broken}: policy[1].capacity:" in r.err


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_of_every_command(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    """--help exits 0 with a description and examples, for the tool and every command."""
    argv = ["--help"] if command is None else [command, "--help"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: queue-quota")
    assert "examples:" in out
    assert "--office FILE" in out


def test_every_command_is_tested() -> None:
    """COMMANDS above is the parser's list."""
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "==SUPPRESS==" and a.choices]
    assert tuple(sub.choices) == COMMANDS


def test_python_dash_m_in_a_subprocess(tmp_path: Path) -> None:
    """`python -m queue_quota book` works as a real process, the ID from a pipe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_QUOTA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    argv = [sys.executable, "-m", "queue_quota", "book", "--channel", "online", "--citizen", "-"]
    argv += ["--db", f"sqlite:///{tmp_path}/x.sqlite3", "--now", NOW, "--office", str(EXAMPLE)]
    done = subprocess.run(
        argv, input=NIK + "\n", capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "A-001" in done.stdout
    assert "Jumat, 5 Juni 2020" in done.stdout
    assert NIK not in done.stdout + done.stderr
    assert list((tmp_path / "config" / "queue-quota").iterdir())


def test_manifest_shows_windows_and_households(run: Runner) -> None:
    """With sessions and a household, the table gains the window and people columns, and
    CSV carries them; without, the table is as before."""
    from datetime import time as clock

    import queue_quota as qq
    from queue_quota.config import register_policy_type, unregister_policy_type
    from queue_quota.policies import OnlineQuota

    register_policy_type(
        "windowed",
        lambda **kw: OnlineQuota(sessions=[qq.Session(clock(8), clock(9), 5)], max_places=4, **kw),
        replace=True,
    )
    try:
        head = EXAMPLE.read_text().split("[[policy]]")[0]
        office = run.tmp / "windowed.toml"
        office.write_text(head + '[[policy]]\ntype = "windowed"\ncapacity = 10\n')
        assert (
            run("book", "--channel", "online", "--citizen", "-", office=office, stdin=NIK).code == 0
        )
        table = run("manifest", "2020-06-05", office=office)
        assert table.code == 0, table.err
        assert "Jam datang" in table.out
        assert "08.00–09.00" in table.out
        rows = list(
            csv.DictReader(io.StringIO(run("manifest", "2020-06-05", "--csv", office=office).out))
        )
        assert (rows[0]["places"], rows[0]["window_start"], rows[0]["window_end"]) == (
            "1",
            "08:00",
            "09:00",
        )
    finally:
        unregister_policy_type("windowed")
