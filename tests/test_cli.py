"""The queue-quota command line, run in-process (and once as a real subprocess)."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from queue_quota import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "tegal.toml"
NOW = "2020-06-04T09:00:00+07:00"  # Thursday morning in Tegal
NIK = "3328011234560001"
COMMANDS = (
    "demo",
    "calendar",
    "availability",
    "book",
    "walk-in",
    "cancel",
    "check-in",
    "close-day",
    "mark-no-shows",
    "manifest",
)


@dataclass
class Result:
    """Exit status and captured output of one run."""

    code: int
    out: str
    err: str


class Runner:
    """Runs ``main`` in-process against one SQLite database at a fixed time."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = tmp_path / "x.sqlite3"
        self.capsys = capsys

    def __call__(self, *args: str, now: str | None = NOW) -> Result:
        argv = [*args, "--db", f"sqlite:///{self.db}"]
        if now is not None:
            argv += ["--now", now]
        self.capsys.readouterr()
        code = cli.main(argv)
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture
def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    """A runner with no QUEUE_QUOTA_* variables from the environment."""
    for name in (cli.ENV_OFFICE, cli.ENV_DB, cli.ENV_SECRET):
        monkeypatch.delenv(name, raising=False)
    return Runner(tmp_path, capsys)


def _ticket(out: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if "Tiket" in line)


def _booking_id(out: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if "ID" in line)


# -- booking -------------------------------------------------------------------------------


def test_book_prints_label_day_and_ticket(run: Runner) -> None:
    """A booking prints its number, its day in Indonesian, and its ticket; exit 0."""
    r = run("book", "--channel", "online", "--citizen", NIK)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].split(":") == ["Nomor antrean  ", " A-001"]
    assert "Jumat, 5 Juni 2020" in r.out
    assert "." in _ticket(r.out)
    assert NIK not in r.out + r.err


def test_global_options_before_or_after_the_command(run: Runner) -> None:
    """--lang and --now work before the command as well as after it."""
    r = run("--lang", "en", "--now", NOW, "book", "--channel", "online", "--citizen", NIK, now=None)
    assert r.code == 0, r.err
    assert "Served on    : Friday, 5 June 2020" in r.out


def test_the_21st_booking_of_a_full_day_is_refused_in_indonesian(run: Runner) -> None:
    """Twenty bookings fill Friday; the 21st for that date exits 1 and says what is free."""
    for i in range(20):
        r = run("book", "--channel", "online", "--citizen", f"3328{i:012d}", "--date", "2020-06-05")
        assert r.code == 0, r.err
    r = run("book", "--channel", "online", "--citizen", NIK, "--date", "2020-06-05")
    assert r.code == 1
    assert r.out == ""
    assert r.err.startswith(
        "Kuota pendaftaran online untuk Jumat, 5 Juni 2020 sudah penuh. "
        "Silakan memilih Senin, 8 Juni 2020"
    )
    assert NIK not in r.err


def test_full_walk_in_day_says_when_to_come_back(run: Runner, tmp_path: Path) -> None:
    """With one walk-in place, the second walk-in is told the next day and the online day."""
    office = tmp_path / "tiny.toml"
    office.write_text(EXAMPLE.read_text().replace("capacity = 40", "capacity = 1"))
    assert run("walk-in", "--office", str(office)).code == 0
    r = run("walk-in", "--office", str(office))
    assert r.code == 1
    assert r.err.strip() == (
        "Kuota hari ini sudah penuh. Silakan datang kembali pada Jumat, 5 Juni 2020, "
        "atau daftar online untuk Jumat, 5 Juni 2020."
    )
    r = run("walk-in", "--office", str(office), "--lang", "en")
    assert r.err.startswith("Today's quota is full. Please come back on Friday, 5 June 2020")


def test_walk_in_outside_hours_is_a_refusal(run: Runner) -> None:
    """A walk-in at 13:00 is refused with exit 1 and the opening hours."""
    r = run("walk-in", now="2020-06-04T13:00:00+07:00")
    assert r.code == 1
    assert "07.30–12.00" in r.err


def test_idempotency_key_returns_the_same_booking(run: Runner) -> None:
    """The same --key twice gives the same booking, not a second one."""
    first = run("book", "--channel", "online", "--citizen", NIK, "--key", "web-1")
    again = run("book", "--channel", "online", "--citizen", NIK, "--key", "web-1")
    assert (first.code, again.code) == (0, 0)
    assert _ticket(first.out) == _ticket(again.out)


# -- cancel, check-in ----------------------------------------------------------------------


def test_check_in_on_the_day_then_not_twice(run: Runner) -> None:
    """A ticket checks in on its day (exit 0); a second check-in is refused (exit 1)."""
    ticket = _ticket(run("book", "--channel", "online", "--citizen", NIK).out)
    friday = "2020-06-05T08:00:00+07:00"
    r = run("check-in", ticket, now=friday)
    assert r.code == 0, r.err
    assert "A-001" in r.out
    again = run("check-in", ticket, now=friday)
    assert again.code == 1
    assert "check-in" in again.err


def test_forged_ticket_is_refused(run: Runner) -> None:
    """A ticket with a wrong signature exits 1 with the invalid-ticket message."""
    ticket = _ticket(run("book", "--channel", "online", "--citizen", NIK).out)
    forged = ticket[:-1] + ("0" if ticket[-1] != "0" else "1")
    r = run("check-in", forged)
    assert r.code == 1
    assert r.err.strip() == "Tiket tidak valid. Periksa kembali kode tiket Anda."


def test_cancel_by_id_or_ticket(run: Runner) -> None:
    """cancel takes a booking id or a ticket; an unknown id exits 1."""
    first = run("book", "--channel", "online", "--citizen", NIK).out
    r = run("cancel", _booking_id(first))
    assert r.code == 0, r.err
    assert "A-001" in r.out
    second = run("book", "--channel", "online", "--citizen", NIK).out
    assert run("cancel", _ticket(second)).code == 0
    missing = run("cancel", "0000000000000000")
    assert missing.code == 1
    assert "tidak ditemukan" in missing.err


# -- close-day, manifest, availability, calendar ---------------------------------------------


def test_close_day_moves_the_bookings_and_lists_them(run: Runner) -> None:
    """Closing Friday moves its bookings to Monday and prints whom to notify."""
    ids = [
        _booking_id(run("book", "--channel", "online", "--citizen", f"33{i}").out) for i in range(2)
    ]
    r = run("close-day", "2020-06-05", "--reason", "banjir")
    assert r.code == 0, r.err
    assert "Kantor ditutup pada Jumat, 5 Juni 2020 (banjir)." in r.out
    for booking_id in ids:
        line = next(line for line in r.out.splitlines() if line.startswith(booking_id))
        assert "Senin, 8 Juni 2020" in line
    monday = json.loads(run("manifest", "2020-06-08", "--json").out)
    assert [b["id"] for b in monday["bookings"]] == ids
    assert "banjir" in run("calendar", "--month", "2020-06").out


def test_manifest_json(run: Runner) -> None:
    """manifest --json is one object whose bookings carry the documented fields only."""
    run("walk-in")
    run("walk-in", "--citizen", NIK)
    r = run("manifest", "2020-06-04", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["office_id"] == "tegal-disdukcapil"
    assert doc["day"] == "2020-06-04"
    assert [b["label"] for b in doc["bookings"]] == ["B-001", "B-002"]
    assert set(doc["bookings"][0]) == set(cli._MANIFEST_FIELDS)
    assert NIK not in r.out


def test_manifest_csv(run: Runner) -> None:
    """manifest --csv parses with the csv module, one row per booking."""
    run("book", "--channel", "online", "--citizen", NIK)
    r = run("manifest", "2020-06-05", "--csv", "--channel", "online")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert len(rows) == 1
    assert rows[0]["label"] == "A-001"
    assert rows[0]["status"] == "booked"
    assert rows[0]["day"] == "2020-06-05"
    assert list(rows[0]) == list(cli._MANIFEST_FIELDS)


def test_manifest_table_is_aligned(run: Runner) -> None:
    """The default manifest is a table whose columns line up."""
    run("walk-in")
    lines = run("manifest", "2020-06-04").out.splitlines()
    header, rule, row = lines[2], lines[3], lines[4]
    assert header.startswith("Nomor")
    assert set(rule) <= {"-", " "}
    assert row.index("walk-in") == header.index("Layanan")


def test_availability_table(run: Runner) -> None:
    """availability shows capacity, booked and remaining per day, and why a day is closed."""
    run("book", "--channel", "online", "--citizen", NIK)
    r = run("availability", "--channel", "online", "--from", "2020-06-05", "--days", "6")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    friday = next(line for line in lines if line.startswith("Jumat, 5 Juni 2020"))
    assert friday.split()[-3:] == ["20", "1", "19"]
    assert "akhir pekan" in next(line for line in lines if line.startswith("Sabtu, 6 Juni"))
    assert "system maintenance" in next(line for line in lines if line.startswith("Rabu, 10"))


def test_calendar_lists_christmas_with_names(run: Runner) -> None:
    """calendar --month 2020-12 lists 24 and 25 December with their names, in both languages."""
    r = run("calendar", "--month", "2020-12")
    assert r.code == 0, r.err
    assert "Kamis, 24 Desember 2020" in r.out
    assert "Cuti Bersama Hari Raya Natal" in r.out
    assert "Jumat, 25 Desember 2020   Hari Raya Natal" in r.out
    en = run("calendar", "--month", "2020-12", "--lang", "en")
    assert "Friday, 25 December 2020" in en.out
    assert "Christmas Day" in en.out
    assert not run.db.exists()  # listing the calendar creates no database


def test_calendar_lists_special_openings(run: Runner) -> None:
    """A special opening in the month is listed below the closed days."""
    r = run("calendar", "--month", "2020-06")
    assert "Dibuka khusus: Sabtu, 13 Juni 2020" in r.out
    assert "Sabtu, 13 Juni 2020" not in r.out.split("Dibuka khusus")[0]


# -- secrets and the key file ----------------------------------------------------------------


def test_key_file_is_created_0600_and_reused(run: Runner) -> None:
    """The first command creates <db>.key (0600, 32 bytes); later ones reuse it."""
    ticket = _ticket(run("book", "--channel", "online", "--citizen", NIK).out)
    key_file = Path(f"{run.db}.key")
    key = key_file.read_bytes()
    assert len(key) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert run("check-in", ticket, now="2020-06-05T08:00:00+07:00").code == 0
    assert key_file.read_bytes() == key


def test_key_file_readable_by_others_gives_a_warning(run: Runner) -> None:
    """A key file that others can read still works, with a warning to chmod it."""
    assert run("book", "--channel", "online", "--citizen", NIK).code == 0
    key_file = Path(f"{run.db}.key")
    key_file.chmod(0o644)
    r = run("walk-in")
    assert r.code == 0, r.err
    assert f"chmod 600 {key_file}" in r.err


def test_closed_on_a_holiday_names_it_in_the_chosen_language(run: Runner) -> None:
    """Booking Christmas Day is refused with the holiday's name in English or Indonesian."""
    now = "2020-12-21T09:00:00+07:00"
    r = run("book", "--channel", "online", "--citizen", NIK, "--date", "2020-12-25", now=now)
    assert r.code == 1
    assert "Jumat, 25 Desember 2020 (Hari Raya Natal)" in r.err
    argv = ("book", "--channel", "online", "--citizen", NIK, "--date", "2020-12-25")
    r = run(*argv, "--lang", "en", now=now)
    assert "Friday, 25 December 2020 (Christmas Day)" in r.err


def test_key_file_creation_race_agrees(tmp_path: Path) -> None:
    """Threads racing to create the key file all get the same key, and no temp file remains."""
    path = tmp_path / "db.sqlite3.key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: cli.load_or_create_key(path), range(32)))
    assert keys == {path.read_bytes()}
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_damaged_key_file_exits_2(run: Runner) -> None:
    """A truncated key file is a configuration error, never silently replaced."""
    Path(f"{run.db}.key").write_bytes(b"short")
    r = run("book", "--channel", "online", "--citizen", NIK)
    assert r.code == 2
    assert "key file" in r.err


def test_secret_from_environment(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """QUEUE_QUOTA_SECRET replaces the key file; a short one exits 2."""
    monkeypatch.setenv(cli.ENV_SECRET, "a-long-enough-secret-for-tests")
    assert run("book", "--channel", "online", "--citizen", NIK).code == 0
    assert not Path(f"{run.db}.key").exists()
    monkeypatch.setenv(cli.ENV_SECRET, "short")
    r = run("book", "--channel", "online", "--citizen", "99")
    assert r.code == 2
    assert cli.ENV_SECRET in r.err


def test_postgresql_without_secret_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL URL without QUEUE_QUOTA_SECRET is refused before connecting."""
    monkeypatch.delenv(cli.ENV_SECRET, raising=False)
    code = cli.main(
        ["book", "--channel", "online", "--citizen", NIK, "--db", "postgresql://h/db", "--now", NOW]
    )
    assert code == 2
    assert cli.ENV_SECRET in capsys.readouterr().err


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


def test_unknown_channel_and_bad_office_file_exit_2(run: Runner, tmp_path: Path) -> None:
    """An unknown channel, or an office file with a mistake, exits 2 naming the problem."""
    r = run("book", "--channel", "fax", "--citizen", NIK)
    assert r.code == 2
    assert "fax" in r.err
    broken = tmp_path / "broken.toml"
    broken.write_text(EXAMPLE.read_text().replace("capacity = 40", "capacity = -4"))
    r = run("availability", "--office", str(broken))
    assert r.code == 2
    assert f"{broken}: policy[1].capacity:" in r.err


def test_unsupported_database_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A database URL of an unknown scheme is a configuration error."""
    assert cli.main(["availability", "--db", "mysql://localhost/x", "--now", NOW]) == 2
    assert "unsupported scheme 'mysql'" in capsys.readouterr().err


def test_office_from_environment(
    run: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """QUEUE_QUOTA_OFFICE names the office file when --office is not given."""
    other = tmp_path / "other.toml"
    other.write_text(EXAMPLE.read_text().replace('"tegal-disdukcapil"', '"brebes"'))
    monkeypatch.setenv(cli.ENV_OFFICE, str(other))
    assert json.loads(run("manifest", "2020-06-05", "--json").out)["office_id"] == "brebes"


# -- help and demo -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_of_every_command(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    """--help exits 0 with a description and examples, for the tool and every command."""
    argv = ["--help"] if command is None else [command, "--help"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: queue-quota")
    assert "examples:" in out
    assert "--office FILE" in out


def test_demo_command(run: Runner) -> None:
    """demo runs the Tegal scenario and prints its report."""
    r = run("demo")
    assert r.code == 0, r.err
    assert "Tegal" in r.out


def test_python_dash_m_in_a_subprocess(tmp_path: Path) -> None:
    """`python -m queue_quota book` works as a real process: exit 0 and a label."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_QUOTA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    argv = [sys.executable, "-m", "queue_quota", "book", "--channel", "online"]
    argv += ["--citizen", NIK, "--db", f"sqlite:///{tmp_path}/x.sqlite3", "--now", NOW]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "A-001" in done.stdout
    assert "Jumat, 5 Juni 2020" in done.stdout


def test_mark_no_shows_lists_the_labels_once(run: Runner) -> None:
    """mark-no-shows prints the labels marked, then "none"; a day not ended exits 2."""
    run("book", "--channel", "online", "--citizen", NIK)
    run("book", "--channel", "online", "--citizen", "3328011234560002")
    early = run("mark-no-shows", "2020-06-05", now="2020-06-05T16:00:00+07:00")
    assert early.code == 2
    assert "the day has not ended" in early.err
    assert early.out == ""
    r = run("mark-no-shows", "2020-06-05", now="2020-06-06T08:00:00+07:00")
    assert (r.code, r.out.splitlines(), r.err) == (0, ["A-001", "A-002"], "")
    again = run("mark-no-shows", "2020-06-05", now="2020-06-06T08:00:00+07:00")
    assert (again.code, again.out.splitlines()) == (0, ["none"])
    manifest = run("manifest", "2020-06-05", "--csv")
    assert [row["status"] for row in csv.DictReader(io.StringIO(manifest.out))] == [
        "no_show",
        "no_show",
    ]
