"""The command line's previews: ``close-day --dry-run`` and ``check-office FILE``."""

from __future__ import annotations

from pathlib import Path

import pytest

from _cli import EXAMPLE, NOW, Runner, make_runner

MONDAY = "2020-06-08"
FRIDAY_PM = "2020-06-05T14:00:00+07:00"


@pytest.fixture
def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    return make_runner(tmp_path, capsys, monkeypatch)


def book_monday(run: Runner, n: int) -> None:
    for i in range(n):
        run.book(f"33280112345600{i:02d}", "--date", MONDAY)


def office_file(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_dry_run_prints_what_close_day_then_does_and_changes_nothing(run: Runner) -> None:
    """The preview's table is close-day's own (old and new numbers, new days); the events,
    the manifest and the calendar are unchanged by it."""
    book_monday(run, 3)
    events = run("events").out
    manifest = run("manifest", MONDAY).out
    r = run("close-day", MONDAY, "--reason", "pemadaman listrik", "--dry-run", now=FRIDAY_PM)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "Pratinjau: jika kantor ditutup pada Senin, 8 Juni 2020 (pemadaman listrik):"
    assert lines[1] == "3 pendaftaran akan dipindahkan:"
    assert lines[-1].startswith("Tidak ada yang diubah (pratinjau)")
    assert run("events").out == events
    assert run("manifest", MONDAY).out == manifest
    assert "pemadaman listrik" not in run("calendar", "--month", "2020-06").out
    done = run("close-day", MONDAY, "--reason", "pemadaman listrik", now=FRIDAY_PM)
    assert done.code == 0
    table = [line for line in r.out.splitlines() if "A-00" in line]
    assert table == [line for line in done.out.splitlines() if "A-00" in line]
    assert len(table) == 3


def test_dry_run_in_english_and_with_nothing_to_move(run: Runner) -> None:
    """One language from the first line to the last; an empty day says so."""
    book_monday(run, 1)
    r = run("close-day", MONDAY, "--reason", "power cut", "--dry-run", "--lang", "en")
    assert r.code == 0
    assert r.out.splitlines()[:2] == [
        "Preview: if the office closes on Monday, 8 June 2020 (power cut):",
        "1 booking would be moved:",
    ]
    assert r.out.splitlines()[-1] == (
        "Nothing was changed (a preview): run without --dry-run to close the day."
    )
    r = run("close-day", "2020-06-09", "--reason", "power cut", "--dry-run", "--lang", "en")
    assert r.out.splitlines()[1] == "No booking had to be moved."


def test_dry_run_never_creates_a_database(run: Runner) -> None:
    """Unlike close-day, a dry run on a missing database is exit status 2, and creates
    neither the database nor a key file."""
    r = run("close-day", MONDAY, "--reason", "x", "--dry-run")
    assert r.code == 2
    assert "close-day --dry-run" in r.err
    assert not run.db.exists()
    assert not run.key_dir.exists()


def test_check_office_fits_and_over(run: Runner, tmp_path: Path) -> None:
    """The same file fits (exit 0); 20 -> 2 a day with 3 on Monday: Monday's online counter
    is 1 over, and A-003 would have to move (exit 1); nothing changes."""
    book_monday(run, 3)
    same = run("check-office", str(EXAMPLE))
    assert same.code == 0, same.err
    assert same.out.splitlines()[-1] == "Semua pendaftaran muat dalam kuota file baru."
    small = office_file(tmp_path, "small.toml", "capacity = 20 ", "capacity = 2 ")
    events = run("events").out
    r = run("check-office", str(small), "--lang", "en")
    assert r.code == 1, r.err
    lines = r.out.splitlines()
    assert lines[0] == (
        f"Checking {small} against the bookings of tegal-disdukcapil from Thursday, 4 June 2020"
    )
    assert lines[2].split() == ["Date", "Counter", "Booked", "New", "capacity", "Over"]
    row = "Monday, 8 June 2020  online registration       3             2     1"
    assert lines[4] == row
    assert lines[6] == "1 booking would have to move (the last numbers first):"
    assert "A-003" in lines[10]
    assert lines[-1] == "Nothing was changed."
    assert run("events").out == events


def test_check_office_with_a_day_closed_in_the_new_calendar(run: Runner, tmp_path: Path) -> None:
    """A renovation on Monday in the new file: all three Monday bookings are listed."""
    book_monday(run, 3)
    closed = office_file(
        tmp_path, "closed.toml", '"2020-06-10" = "system maintenance"',
        '"2020-06-10" = "system maintenance", "2020-06-08" = "renovasi"',
    )  # fmt: skip
    r = run("check-office", str(closed))
    assert r.code == 1
    assert "Senin, 8 Juni 2020  pendaftaran online       3           0      3" in r.out
    assert "3 pendaftaran harus dipindahkan" in r.out
    assert sum("A-00" in line for line in r.out.splitlines()) == 3


def test_check_office_bad_files_and_missing_database(run: Runner, tmp_path: Path) -> None:
    """A missing or broken file, another office's file, or no database: exit status 2."""
    missing = run("check-office", str(tmp_path / "nope.toml"))
    assert missing.code == 2  # the database is checked first: it does not exist yet
    assert "tidak membuat basis data baru" in missing.err
    assert not run.db.exists()
    book_monday(run, 1)
    r = run("check-office", str(tmp_path / "nope.toml"))
    assert r.code == 2
    assert "nope.toml" in r.err
    broken = tmp_path / "broken.toml"
    broken.write_text("[office\n", encoding="utf-8")
    assert run("check-office", str(broken)).code == 2
    other = office_file(tmp_path, "other.toml", 'id = "tegal-disdukcapil"', 'id = "brebes"')
    r = run("check-office", str(other), "--lang", "en")
    assert r.code == 2
    assert r.err.startswith(f"queue-quota: {other} is the office file of brebes")


def test_now_is_the_start(run: Runner, tmp_path: Path) -> None:
    """Days before today are not looked at: after Monday, the small file fits."""
    book_monday(run, 3)
    small = office_file(tmp_path, "small.toml", "capacity = 20 ", "capacity = 2 ")
    assert run("check-office", str(small), now=NOW).code == 1
    assert run("check-office", str(small), now="2020-06-09T08:00:00+07:00").code == 0
