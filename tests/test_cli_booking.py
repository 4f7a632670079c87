"""The command line: book, walk-in, bookings (a lost ticket); channel titles."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path

import attrs
import pytest

from _cli import EXAMPLE, NIK, NOW, ROOT, Runner, make_runner
from queue_quota.calendar import WorkingCalendar
from queue_quota.capacity import CapacityCalendar
from queue_quota.config import register_policy_type, unregister_policy_type
from queue_quota.policies import OnlineQuota
from queue_quota.policies.base import BookingRequest


@pytest.fixture
def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    return make_runner(tmp_path, capsys, monkeypatch)


def test_book_prints_label_day_and_ticket(run: Runner) -> None:
    """A booking prints its number, its day in Indonesian, and its ticket; exit 0."""
    r = run("book", "--channel", "online", "--citizen", NIK)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].split(":") == ["Nomor antrean  ", " A-001"]
    assert "Layanan        : pendaftaran online" in r.out
    assert "Jumat, 5 Juni 2020" in r.out
    assert "." in r.ticket
    assert NIK not in r.out + r.err


def test_global_options_before_or_after_the_command(run: Runner) -> None:
    """--lang and --now work before the command as well as after it."""
    r = run("--lang", "en", "--now", NOW, "book", "--channel", "online", "--citizen", NIK, now=None)
    assert r.code == 0, r.err
    assert "Served on    : Friday, 5 June 2020" in r.out


def test_the_21st_booking_of_a_full_day_is_refused_in_indonesian(run: Runner) -> None:
    """Twenty bookings fill Friday; the 21st for that date exits 1 and says what is free."""
    for i in range(20):
        run.book(f"3328{i:012d}", "--date", "2020-06-05")
    r = run("book", "--channel", "online", "--citizen", "-", "--date", "2020-06-05", stdin=NIK)
    assert r.code == 1
    assert r.out == ""
    assert r.err.startswith(
        "Kuota pendaftaran online untuk Jumat, 5 Juni 2020 sudah penuh. "
        "Silakan memilih Senin, 8 Juni 2020"
    )


def test_idempotency_key_returns_the_same_booking(run: Runner) -> None:
    """The same --key twice gives the same booking, not a second one."""
    first = run.book(NIK, "--key", "web-1")
    again = run.book(NIK, "--key", "web-1")
    assert first.ticket == again.ticket


def test_closed_on_a_holiday_names_it_in_the_chosen_language(run: Runner) -> None:
    """Booking Christmas Day is refused with the holiday's name in English or Indonesian."""
    now = "2020-12-21T09:00:00+07:00"
    argv = ("book", "--channel", "online", "--citizen", "-", "--date", "2020-12-25")
    r = run(*argv, now=now, stdin=NIK)
    assert r.code == 1
    assert "Jumat, 25 Desember 2020 (Hari Raya Natal)" in r.err
    r = run(*argv, "--lang", "en", now=now, stdin=NIK)
    assert "Friday, 25 December 2020 (Christmas Day)" in r.err


# -- walk-in -------------------------------------------------------------------------------------


def test_full_walk_in_day_says_when_to_come_back(run: Runner) -> None:
    """With one walk-in place, the second walk-in is told the next day and the online day."""
    office = run.tmp / "tiny.toml"
    office.write_text(EXAMPLE.read_text().replace("capacity = 40", "capacity = 1"))
    assert run("walk-in", office=office).code == 0
    r = run("walk-in", office=office)
    assert r.code == 1
    assert r.err.strip() == (
        "Kuota hari ini sudah penuh. Silakan datang kembali pada Jumat, 5 Juni 2020, "
        "atau daftar online untuk Jumat, 5 Juni 2020."
    )
    r = run("walk-in", "--lang", "en", office=office)
    assert r.err.startswith("Today's quota is full. Please come back on Friday, 5 June 2020")


def test_walk_in_outside_hours_is_a_refusal(run: Runner) -> None:
    """A walk-in at 13:00 is refused with exit 1 and the opening hours."""
    r = run("walk-in", now="2020-06-04T13:00:00+07:00")
    assert r.code == 1
    assert "07.30–12.00" in r.err


@attrs.frozen
class DoorQueue:
    """A custom policy with no ``walk_in`` attribute: numbers for today only."""

    capacity: CapacityCalendar
    channel: str = "door"
    prefix: str = "D"
    per_citizen: int | None = None
    requires_citizen: bool = False

    def capacity_on(self, day: date) -> int:
        return self.capacity.capacity_on(day)

    def booking_window(self, today: date, calendar: WorkingCalendar) -> tuple[date, date]:
        return today, today

    def admit(self, request: BookingRequest, calendar: WorkingCalendar) -> None:
        return None

    def candidate_days(self, request: BookingRequest, calendar: WorkingCalendar) -> Iterable[date]:
        return [request.today] if calendar.is_working_day(request.today) else []


@pytest.fixture
def custom_types() -> Iterator[None]:
    """The policy types of the office files below."""
    register_policy_type("door", DoorQueue, replace=True)
    register_policy_type(
        "priority",
        lambda **kw: OnlineQuota(title={"id": "Prioritas", "en": "Priority"}, **kw),
        replace=True,
    )
    yield
    unregister_policy_type("door")
    unregister_policy_type("priority")


def _office(run: Runner, policies: str) -> Path:
    head = EXAMPLE.read_text().split("[[policy]]")[0]
    path = run.tmp / "custom.toml"
    path.write_text(head + policies)
    return path


def test_walk_in_uses_the_offices_walk_in_channels(run: Runner, custom_types: None) -> None:
    """A custom walk-in policy (today-only window, no WalkInQuota) is the walk-in channel."""
    office = _office(
        run,
        '[[policy]]\ntype = "online"\ncapacity = 5\n\n[[policy]]\ntype = "door"\ncapacity = 3\n',
    )
    r = run("walk-in", office=office)
    assert r.code == 0, r.err
    assert "D-001" in r.out
    assert "Layanan        : door" in r.out


def test_walk_in_without_a_walk_in_channel_is_exit_2(run: Runner) -> None:
    """An office with no walk-in channel: exit 2 naming --channel and the channels."""
    office = _office(run, '[[policy]]\ntype = "online"\ncapacity = 5\n')
    r = run("walk-in", office=office)
    assert r.code == 2
    assert "--channel" in r.err
    assert "online" in r.err
    assert not run.db.exists()


def test_channel_titles_in_tickets(run: Runner, custom_types: None) -> None:
    """A channel with a title is shown by it, in the run's language."""
    office = _office(
        run, '[[policy]]\ntype = "priority"\nchannel = "priority"\nprefix = "P"\ncapacity = 5\n'
    )
    r = run("book", "--channel", "priority", "--citizen", "-", office=office, stdin=NIK)
    assert r.code == 0, r.err
    assert "Layanan        : Prioritas" in r.out
    en = run("bookings", "--citizen", "-", "--lang", "en", office=office, stdin=NIK)
    assert "Service      : Priority" in en.out
    table = run("manifest", "2020-06-05", office=office)
    assert "Prioritas" in table.out
    assert " priority " not in table.out


def test_channel_titles_in_refusals(run: Runner, custom_types: None) -> None:
    """A refusal names the channel by its title too (the second booking of a citizen)."""
    office = _office(
        run, '[[policy]]\ntype = "priority"\nchannel = "priority"\nprefix = "P"\ncapacity = 5\n'
    )
    assert (
        run("book", "--channel", "priority", "--citizen", "-", office=office, stdin=NIK).code == 0
    )
    again = run("book", "--channel", "priority", "--citizen", "-", office=office, stdin=NIK)
    assert again.code == 1
    assert "Prioritas" in again.err
    en = run(
        "book", "--channel", "priority", "--citizen", "-", "--lang", "en", office=office, stdin=NIK
    )
    assert "Priority" in en.err


# -- bookings: a citizen who lost the ticket ------------------------------------------------------


def test_bookings_finds_a_lost_ticket(run: Runner) -> None:
    """bookings --citizen - prints the tickets of the citizen's active bookings."""
    first = run.book(NIK)
    run.book("3328011234560099")
    r = run("bookings", "--citizen", "-", stdin=NIK)
    assert r.code == 0, r.err
    assert r.ticket == first.ticket
    assert r.out.count("Tiket") == 1
    assert NIK not in r.out + r.err


def test_bookings_hides_cancelled_unless_past(run: Runner) -> None:
    """A cancelled booking is not active; --past shows it with its status."""
    booking = run.book(NIK)
    assert run("cancel", booking.booking_id).code == 0
    r = run("bookings", "--citizen", "-", stdin=NIK)
    assert (r.code, r.out.strip()) == (0, "Tidak ada pendaftaran aktif untuk NIK ini.")
    past = run("bookings", "--citizen", "-", "--past", "--lang", "en", stdin=NIK)
    assert past.ticket == booking.ticket
    assert "Status       : cancelled" in past.out
    later = run("bookings", "--citizen", "-", "--past", stdin=NIK, now=_at(2020, 7, 1))
    assert later.ticket == booking.ticket


def _at(year: int, month: int, day: int) -> str:
    return datetime(year, month, day, 9).isoformat() + "+07:00"


def test_book_with_a_claim_a_window_and_a_household(run: Runner) -> None:
    """--claim opens a claim-only channel, --time picks the window, --places a household."""
    office = ROOT / "examples" / "loket.toml"
    refused = run("book", "--channel", "priority", "--citizen", "-", office=office, stdin=NIK)
    assert refused.code == 1
    ok = run(
        "book", "--channel", "priority", "--citizen", "-", "--claim", "group=lansia",
        office=office, stdin=NIK,
    )  # fmt: skip
    assert ok.code == 0, ok.err
    assert "P-001" in ok.out
    family = run(
        "book", "--channel", "online", "--citizen", "-", "--time", "10:00", "--places", "3",
        office=office, stdin="3328011234560002",
    )  # fmt: skip
    assert family.code == 0, family.err
    assert "10.00–12.00 WIB" in family.out
    assert "Jumlah orang   : 3" in family.out
    bad = run(
        "book", "--channel", "online", "--citizen", "-", "--claim", "oops", office=office, stdin=NIK
    )
    assert bad.code == 2
