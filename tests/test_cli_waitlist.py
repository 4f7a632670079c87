"""The command line's waitlist: ``waitlist``, ``join-waitlist``, ``leave-waitlist`` and
``promote-waitlist``, run as real commands against an SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _cli import EXAMPLE, FRIDAY, NIK, NOW, Result, Runner, make_runner
from queue_quota import cli
from queue_quota.cli._cmd_waitlist import WAITLIST_FIELDS

#: Citizens other than NIK (per_citizen = 1: one place each).
OTHERS = [f"332801123456{n:04d}" for n in range(2, 9)]
LATER = "2020-06-04T10:00:00+07:00"


@pytest.fixture
def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    return make_runner(tmp_path, capsys, monkeypatch)


def _tiny(run: Runner, capacity: int = 1, extra: str = "") -> Path:
    """Tegal with ``capacity`` online places a day and a booking window of Friday 5 and
    Monday 8 June (from Thursday 4 June): two bookings fill it."""
    text = EXAMPLE.read_text().replace("capacity = 20 ", f"capacity = {capacity} ", 1)
    text = text.replace("horizon_days = 60", f"horizon_days = 4{extra}")
    path = run.tmp / "tiny.toml"
    path.write_text(text)
    return path


def _full(run: Runner, office: Path) -> list[Result]:
    """Fill the online channel of ``office`` (capacity 1): NIK on Friday, the next on Monday."""
    done = []
    for citizen in (NIK, OTHERS[0]):
        r = run("book", "--channel", "online", "--citizen", "-", office=office, stdin=citizen)
        assert r.code == 0, r.err
        done.append(r)
    return done


def _join(
    run: Runner, office: Path, citizen: str, *args: str, now: str = NOW, code: int = 0
) -> Result:
    r = run(
        "join-waitlist", "online", "--citizen", "-", *args, office=office, stdin=citizen, now=now
    )
    assert r.code == code, r.err
    assert citizen not in r.out + r.err
    return r


def _field(out: str, name: str) -> str:
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == name:
            return value.strip()
    raise AssertionError(f"no {name} in:\n{out}")


def test_full_join_cancel_promoted(run: Runner) -> None:
    """On a full channel a citizen joins; a cancel gives the place to the first in line,
    as a booking with the entry's id and ticket (which checks in on the day)."""
    office = _tiny(run)
    first, _ = _full(run, office)
    joined = _join(run, office, OTHERS[1])
    assert _field(joined.out, "Daftar tunggu") == "pendaftaran online"
    assert _field(joined.out, "Urutan") == "1"
    assert _field(joined.out, "Menunggu sampai") == "Senin, 8 Juni 2020"
    assert joined.ticket.startswith(joined.booking_id[:4] + "-")
    assert "Simpan tiketnya." in joined.out
    second = _join(run, office, OTHERS[2], "--lang", "en", now=LATER)
    assert _field(second.out, "Position") == "2"
    assert _field(second.out, "Waits until") == "Monday, 8 June 2020"

    cancelled = run("cancel", first.booking_id, office=office, now=LATER)
    assert cancelled.code == 0, cancelled.err
    assert cancelled.out.splitlines()[-1] == (
        "Tempatnya diberikan kepada daftar tunggu: A-002, Jumat, 5 Juni 2020."
    )
    assert joined.ticket not in cancelled.out
    manifest = json.loads(run("manifest", "2020-06-05", "--json", office=office).out)
    (promoted,) = manifest["bookings"]
    assert (promoted["id"], promoted["ticket"]) == (joined.booking_id, joined.ticket)
    assert promoted["label"] == "A-002"
    left = json.loads(run("waitlist", "online", "--json", office=office, now=LATER).out)
    assert [(e["id"], e["position"]) for e in left["entries"]] == [(second.booking_id, 1)]
    checked = run("check-in", joined.ticket, office=office, now=FRIDAY)
    assert checked.code == 0, checked.err
    assert checked.out.strip() == "Check-in berhasil: A-002, Jumat, 5 Juni 2020."


def test_listing_is_a_table_without_tickets(run: Runner) -> None:
    """The listing shows position, id, people, last day and joining time; no ticket."""
    office = _tiny(run)
    _full(run, office)
    a = _join(run, office, OTHERS[1], "--until", "2020-06-05")
    b = _join(run, office, OTHERS[2], now=LATER)
    r = run("waitlist", "online", office=office)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "Daftar tunggu pendaftaran online, tegal-disdukcapil"
    header, rule, row1, row2 = lines[2:]
    assert header.split() == ["Urutan", "ID", "Orang", "Sampai", "Bergabung"]
    assert len(rule) == len(row2.rstrip())
    assert row1.split()[:3] == ["1", a.booking_id, "1"]
    assert "  Jumat, 5 Juni 2020  " in row1
    assert row1.endswith("2020-06-04 09:00")
    assert row2.split()[:3] == ["2", b.booking_id, "1"]
    assert row2.endswith("2020-06-04 10:00")
    for printed in (r.out, run("waitlist", "online", "--json", office=office).out):
        assert a.ticket not in printed
        assert b.ticket not in printed
        assert a.ticket.split(".")[1] not in printed  # not even the signature
    en = run("waitlist", "online", "--lang", "en", office=office).out.splitlines()
    assert en[0] == "Waiting list of online registration, tegal-disdukcapil"
    assert en[2].split() == ["Position", "ID", "People", "Until", "Joined"]


def test_listing_json_parses_with_the_documented_fields(run: Runner) -> None:
    """--json is one object; each entry carries WAITLIST_FIELDS only (no ticket, no ref)."""
    office = _tiny(run)
    _full(run, office)
    a = _join(run, office, OTHERS[1])
    r = run("waitlist", "online", "--json", office=office)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert (doc["office_id"], doc["channel"]) == ("tegal-disdukcapil", "online")
    (entry,) = doc["entries"]
    assert tuple(entry) == WAITLIST_FIELDS
    assert entry == {
        "id": a.booking_id,
        "channel": "online",
        "position": 1,
        "places": 1,
        "preferred_time": None,
        "until": "2020-06-08",
        "joined_at": "2020-06-04T02:00:00+00:00",
    }
    empty = run("waitlist", "walk_in", "--json", office=office)
    assert json.loads(empty.out)["entries"] == []


def test_empty_waitlist_says_so(run: Runner) -> None:
    office = _tiny(run)
    _full(run, office)
    assert run("waitlist", "online", office=office).out.splitlines()[-1] == (
        "Tidak ada yang sedang menunggu."
    )
    assert run("waitlist", "online", "--lang", "en", office=office).out.splitlines()[-1] == (
        "No one is waiting."
    )


def test_sessions_show_the_asked_window(run: Runner) -> None:
    """With sessions, the ticket and the listing show the asked window (or any time)."""
    sessions = (
        "\nmax_places = 4\nsessions = [\n"
        "  { start = 08:00:00, end = 10:00:00, capacity = 1 },\n"
        "  { start = 10:00:00, end = 12:00:00, capacity = 1 },\n]"
    )
    office = _tiny(run, capacity=2, extra=sessions)
    for citizen in [NIK, *OTHERS[:3]]:
        booked = run("book", "--channel", "online", "--citizen", "-", office=office, stdin=citizen)
        assert booked.code == 0, booked.err
    joined = _join(run, office, OTHERS[3], "--time", "10:00")
    assert _field(joined.out, "Jam datang") == "10.00–12.00 WIB"
    _join(run, office, OTHERS[4], now=LATER)
    table = run("waitlist", "online", office=office).out
    assert "10.00–12.00 " in table
    assert "kapan saja" in table
    assert "any time" in run("waitlist", "online", "--lang", "en", office=office).out
    r = _join(run, office, OTHERS[5], "--time", "09:00", code=2)
    assert "09.00" in r.err


def test_join_refusals_are_exit_1(run: Runner) -> None:
    """A channel with room now, and a citizen who already holds a place, are refusals."""
    office = _tiny(run)
    assert (
        run("book", "--channel", "online", "--citizen", "-", office=office, stdin=OTHERS[0]).code
        == 0
    )
    r = _join(run, office, NIK, code=1)  # Friday is full, Monday is not
    assert r.err.strip() == "Masih ada tempat pada Senin, 8 Juni 2020: silakan langsung mendaftar."
    r = _join(run, office, NIK, "--lang", "en", code=1)
    assert r.err.strip() == "There is room on Monday, 8 June 2020: book it instead."
    assert r.out == ""
    assert run("book", "--channel", "online", "--citizen", "-", office=office, stdin=NIK).code == 0
    _join(run, office, OTHERS[1])
    again = _join(run, office, OTHERS[1], code=1)
    assert "1 nomor antrean aktif" in again.err
    booked = _join(run, office, NIK, code=1)  # holds a booking on the channel
    assert "1 nomor antrean aktif" in booked.err


def test_join_configuration_errors_are_exit_2(run: Runner) -> None:
    """A past --until, an unknown channel, a bad option, a missing database: exit 2."""
    office = _tiny(run)
    assert (
        run("join-waitlist", "online", "--citizen", "-", office=office, stdin=NIK).code == 2
    )  # no database yet: the command never creates one
    assert not run.db.exists()
    _full(run, office)
    r = _join(run, office, OTHERS[1], "--until", "2020-06-01", code=2)
    assert "Senin, 1 Juni 2020" in r.err
    r = run("join-waitlist", "fax", "--citizen", "-", office=office, stdin=OTHERS[1])
    assert r.code == 2
    assert "fax" in r.err
    assert run("join-waitlist", "online", "--places", "two", office=office).code == 2
    assert run("join-waitlist", "online", "--until", "8 June", office=office).code == 2
    empty = run("join-waitlist", "online", "--citizen", "-", office=office, stdin="\n")
    assert empty.code == 2
    assert "tidak ada NIK" in empty.err


def test_leave_by_ticket_or_id(run: Runner) -> None:
    """leave-waitlist takes the ticket as typed or the id; those behind move up; a second
    leave, a random id and a forged ticket are exit 1."""
    office = _tiny(run)
    _full(run, office)
    a = _join(run, office, OTHERS[1])
    b = _join(run, office, OTHERS[2], now=LATER)
    typed = a.ticket.lower().replace("-", " ")
    r = run("leave-waitlist", typed, office=office, now=LATER)
    assert (r.code, r.out.strip()) == (
        0,
        f"Entri {a.booking_id} dihapus dari daftar tunggu pendaftaran online.",
    )
    doc = json.loads(run("waitlist", "online", "--json", office=office, now=LATER).out)
    assert [(e["id"], e["position"]) for e in doc["entries"]] == [(b.booking_id, 1)]
    again = run("leave-waitlist", a.booking_id, "--lang", "en", office=office, now=LATER)
    assert (again.code, again.err.strip()) == (
        1,
        "No waiting list entry has this ticket or ID. Please check the ticket.",
    )
    assert run("leave-waitlist", "0000000000000000", office=office).code == 1
    forged = b.ticket[:-1] + ("0" if b.ticket[-1] != "0" else "1")
    assert run("leave-waitlist", forged, office=office).code == 1
    r = run("leave-waitlist", b.booking_id, "--lang", "en", office=office, now=LATER)
    assert (
        r.out.strip() == f"Entry {b.booking_id} has left the waiting list of online registration."
    )
    assert "Tidak ada yang sedang menunggu." in run("waitlist", "online", office=office).out


def test_leave_an_entry_that_got_a_place_says_how_to_cancel(run: Runner) -> None:
    office = _tiny(run)
    first, _ = _full(run, office)
    a = _join(run, office, OTHERS[1])
    assert run("cancel", first.booking_id, office=office, now=LATER).code == 0
    r = run("leave-waitlist", a.ticket, office=office, now=LATER)
    assert r.code == cli.EXIT_REFUSED
    assert r.err.strip() == (
        "Entri ini sudah mendapat tempat: nomor antrean A-002, Jumat, 5 Juni 2020. Untuk "
        f"melepasnya, batalkan pendaftaran itu: queue-quota cancel {a.booking_id}"
    )
    assert run("cancel", a.booking_id, office=office, now=LATER).code == 0


def test_promote_waitlist_gives_new_room_to_the_line(run: Runner) -> None:
    """Nothing to give: a sentence. A higher capacity in the office file: the entries in
    line become bookings, listed with their numbers (plural in English)."""
    office = _tiny(run)
    _full(run, office)
    a = _join(run, office, OTHERS[1])
    b = _join(run, office, OTHERS[2], now=LATER)
    r = run("promote-waitlist", office=office, now=LATER)
    assert (r.code, r.out.strip()) == (0, "Tidak ada entri daftar tunggu yang mendapat tempat.")
    bigger = _tiny(run, capacity=3)
    r = run("promote-waitlist", "--lang", "en", office=bigger, now=LATER)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "2 waiting list entries got a place. Notify these ticket holders:"
    assert lines[2].split() == ["ID", "Service", "Number", "Day"]
    assert lines[4].split()[:1] + lines[4].split()[3:5] == [a.booking_id, "A-002", "Friday,"]
    assert lines[5].split()[0] == b.booking_id
    assert a.ticket not in r.out
    again = run("promote-waitlist", "--lang", "en", office=bigger, now=LATER)
    assert again.out.strip() == "No waiting list entry got a place."


def test_promote_one_in_indonesian(run: Runner) -> None:
    office = _tiny(run)
    _full(run, office)
    _join(run, office, OTHERS[1])
    r = run("promote-waitlist", office=_tiny(run, capacity=2), now=LATER)
    assert r.out.splitlines()[0] == (
        "1 entri daftar tunggu mendapat tempat. Beri tahu pemegang tiket berikut:"
    )
    assert r.out.splitlines()[2].split() == ["ID", "Layanan", "Nomor", "Hari"]


@pytest.mark.parametrize(
    "argv",
    [["waitlist", "online"], ["leave-waitlist", "0000000000000000"], ["promote-waitlist"]],
)
def test_no_database_is_exit_2_and_none_is_created(run: Runner, argv: list[str]) -> None:
    r = run(*argv)
    assert r.code == cli.EXIT_USAGE
    assert "tidak membuat basis data baru" in r.err
    assert not run.db.exists()
    assert not run.key_dir.exists()


def test_unknown_channel_in_listing_is_exit_2(run: Runner) -> None:
    office = _tiny(run)
    _full(run, office)
    r = run("waitlist", "fax", office=office)
    assert r.code == cli.EXIT_USAGE
    assert "fax" in r.err
