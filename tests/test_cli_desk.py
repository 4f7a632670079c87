"""The command line at the counter and for whole days: cancel, check-in, reschedule,
close-day, mark-no-shows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from _cli import FRIDAY, NIK, Runner, make_runner


@pytest.fixture
def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    return make_runner(tmp_path, capsys, monkeypatch)


def _as_typed(ticket_or_id: str) -> str:
    """What a clerk might type: lower case, spaces for dashes."""
    return ticket_or_id.lower().replace("-", " ")


def test_check_in_on_the_day_then_not_twice(run: Runner) -> None:
    """A ticket checks in on its day (exit 0); a second check-in is refused (exit 1)."""
    ticket = run.book().ticket
    r = run("check-in", _as_typed(ticket), now=FRIDAY)
    assert r.code == 0, r.err
    assert r.out.strip() == "Check-in berhasil: A-001, Jumat, 5 Juni 2020."
    again = run("check-in", ticket, now=FRIDAY)
    assert again.code == 1
    assert "check-in" in again.err


def test_forged_ticket_is_refused(run: Runner) -> None:
    """A ticket with a wrong signature exits 1 with the invalid-ticket message."""
    ticket = run.book().ticket
    forged = ticket[:-1] + ("0" if ticket[-1] != "0" else "1")
    r = run("check-in", forged)
    assert r.code == 1
    assert r.err.strip() == "Tiket tidak valid. Periksa kembali kode tiket Anda."


def test_cancel_by_id_or_ticket_as_typed(run: Runner) -> None:
    """cancel takes a booking id or a ticket in any case, with spaces; unknown exits 1."""
    first = run.book()
    r = run("cancel", _as_typed(first.booking_id))
    assert r.code == 0, r.err
    assert r.out.strip() == "Pendaftaran A-001 untuk Jumat, 5 Juni 2020 dibatalkan."
    second = run.book()
    assert run("cancel", _as_typed(second.ticket)).code == 0
    missing = run("cancel", "0000000000000000")
    assert missing.code == 1
    assert "tidak ditemukan" in missing.err


def test_reschedule_prints_old_and_new_number(run: Runner) -> None:
    """reschedule ID --date D moves the booking and prints the old and the new number."""
    run.book("3328011234560009", "--date", "2020-06-09")
    mine = run.book(NIK, "--date", "2020-06-08")
    r = run("reschedule", _as_typed(mine.ticket), "--date", "2020-06-09")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == (
        "Nomor lama A-001, Senin, 8 Juni 2020 -> nomor baru A-002, Selasa, 9 Juni 2020."
    )
    assert "Nomor antrean  : A-002" in r.out
    assert r.ticket == mine.ticket
    en = run("reschedule", mine.booking_id, "--lang", "en")
    assert en.code == 0, en.err
    assert en.out.startswith("Old number A-002, Tuesday, 9 June 2020 -> new number A-001, ")


def test_reschedule_refusals_are_exit_1(run: Runner) -> None:
    """An unknown booking, or the day it is already on, exits 1."""
    mine = run.book(NIK, "--date", "2020-06-08")
    assert run("reschedule", "0000000000000000").code == 1
    same = run("reschedule", mine.booking_id, "--date", "2020-06-08")
    assert same.code == 1
    assert "Senin, 8 Juni 2020" in same.err


def test_close_day_lists_old_and_new_numbers(run: Runner) -> None:
    """Closing a day moves its bookings and prints old and new numbers with the channel."""
    run.book("3328011234560009", "--date", "2020-06-09")
    ids = [run.book(f"33{i}", "--date", "2020-06-08").booking_id for i in range(2)]
    r = run("close-day", "2020-06-08", "--reason", "banjir")
    assert r.code == 0, r.err
    assert "Kantor ditutup pada Senin, 8 Juni 2020 (banjir)." in r.out
    assert "2 pendaftaran dipindahkan." in r.out
    rows = {line.split()[0]: line.split() for line in r.out.splitlines() if line[:16] in ids}
    assert rows[ids[0]][3:7] == ["A-001", "A-002", "Selasa,", "9"]
    assert rows[ids[1]][3:7] == ["A-002", "A-003", "Selasa,", "9"]
    assert "pendaftaran online" in r.out
    tuesday = json.loads(run("manifest", "2020-06-09", "--json").out)
    assert [b["id"] for b in tuesday["bookings"]][1:] == ids
    assert "banjir" in run("calendar", "--month", "2020-06").out


def test_close_day_plurals_in_english(run: Runner) -> None:
    """One moved booking is "1 booking moved", not "booking(s)"."""
    run.book(NIK, "--date", "2020-06-08")
    r = run("close-day", "2020-06-08", "--reason", "flood", "--lang", "en")
    assert "1 booking moved. Notify this ticket holder:" in r.out
    empty = run("close-day", "2020-06-12", "--reason", "flood", "--lang", "en")
    assert "No booking had to be moved." in empty.out


def test_mark_no_shows_lists_the_labels_once(run: Runner) -> None:
    """mark-no-shows prints the labels marked, then a sentence; a day not ended exits 2."""
    run.book(NIK)
    run.book("3328011234560002")
    early = run("mark-no-shows", "2020-06-05", now="2020-06-05T16:00:00+07:00")
    assert early.code == 2
    assert early.out == ""
    r = run("mark-no-shows", "2020-06-05", now="2020-06-06T08:00:00+07:00")
    assert (r.code, r.out.splitlines(), r.err) == (0, ["A-001", "A-002"], "")
    again = run("mark-no-shows", "2020-06-05", now="2020-06-06T08:00:00+07:00")
    assert (again.code, again.out.splitlines()) == (
        0,
        ["Tidak ada pendaftaran yang ditandai tidak hadir."],
    )
    manifest = run("manifest", "2020-06-05", "--csv")
    statuses = [row["status"] for row in csv.DictReader(io.StringIO(manifest.out))]
    assert statuses == ["no_show", "no_show"]


def test_lift_suspension_lets_a_citizen_who_missed_book_again(run: Runner) -> None:
    """After a no-show the citizen is refused online (exit 1); a clerk lifts it (exit 0)."""
    office = run.tmp / "sanctions.toml"
    text = (Path(__file__).parent.parent / "examples" / "tegal.toml").read_text()
    office.write_text(text.replace("horizon_days = 60\n", "horizon_days = 60\nno_show_limit = 1\n"))
    assert run("book", "--channel", "online", "--citizen", "-", office=office, stdin=NIK).code == 0
    marked = run("mark-no-shows", "2020-06-05", office=office, now="2020-06-08T08:00:00+07:00")
    assert marked.code == 0, marked.err
    later = "2020-06-08T09:00:00+07:00"
    refused = run(
        "book", "--channel", "online", "--citizen", "-", office=office, now=later, stdin=NIK
    )
    assert refused.code == 1
    assert "ditangguhkan" in refused.err
    assert NIK not in refused.err
    lifted = run("lift-suspension", "--citizen", "-", office=office, now=later, stdin=NIK)
    assert lifted.code == 0, lifted.err
    assert NIK not in lifted.out + lifted.err
    again = run(
        "book", "--channel", "online", "--citizen", "-", office=office, now=later, stdin=NIK
    )
    assert again.code == 0, again.err
