"""The waitlist through the `Scheduler`: joining a full channel, promotion on every release
(cancel, reschedule, reopened day) in joining order, sessions and households, expiry, the
per-citizen limit, room that appears with a new office file, and what citizens are told."""

from __future__ import annotations

from datetime import date, time

import pytest

import queue_quota as qq
from conftest import SECRET, StorageFactory, wib
from queue_quota import i18n
from queue_quota.counters import Session
from queue_quota.errors import ConfigurationError
from queue_quota.notify import notification_text
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage.memory import MemoryStorage

NOW = wib(2020, 6, 1, 9)  # Monday; lead 1: Tue 2, Wed 3 and Thu 4 June are the window
DAYS = [date(2020, 6, 2), date(2020, 6, 3), date(2020, 6, 4)]


def _office(capacity: int = 2, *, sessions: bool = False, per_citizen: int | None = 1) -> qq.Office:
    online = OnlineQuota(
        capacity=capacity,
        lead_days=1,
        horizon_days=3,
        per_citizen=per_citizen,
        sessions=(
            [
                Session(start=time(8), end=time(10), capacity=capacity // 2),
                Session(start=time(10), end=time(12), capacity=capacity - capacity // 2),
            ]
            if sessions
            else ()
        ),
    )
    walk_in = WalkInQuota(capacity=1, opens=time(7, 30), closes=time(12))
    return qq.Office(
        id="wait-office", calendar=qq.WorkingCalendar.indonesia(), policies=[online, walk_in]
    )


def _citizen(i: int) -> str:
    return f"33280112345{i:05d}"


def _fill(sched: qq.Scheduler) -> list[qq.Booking]:
    """Book every online place of the window."""
    out: list[qq.Booking] = []
    i = 0
    while True:
        try:
            out.append(sched.book("online", _citizen(i), now=NOW))
        except qq.QuotaExhausted:
            return out
        i += 1


@pytest.fixture
def sched(storage_factory: StorageFactory) -> qq.Scheduler:
    return qq.Scheduler(_office(), storage_factory(), secret=SECRET)


def test_a_cancel_gives_the_place_to_the_first_in_line(sched: qq.Scheduler) -> None:
    """The first entry becomes the booking (same id and ticket), the second moves up."""
    held = _fill(sched)
    assert len(held) == 6
    first = sched.join_waitlist("online", _citizen(100), now=NOW)
    second = sched.join_waitlist("online", _citizen(101), now=NOW)
    assert (first.position, second.position, first.until) == (1, 2, DAYS[-1])
    assert sched.waitlist_entry(first.ticket, now=NOW) == first
    with pytest.raises(qq.BookingNotFound):
        sched.get(first.ticket)  # not a booking yet
    sched.cancel(held[3].id, now=NOW)
    got = sched.get(first.ticket)  # the ticket the citizen already holds
    assert (got.id, got.day, got.label, got.status) == (
        first.id,
        held[3].day,
        "A-003",
        qq.BookingStatus.BOOKED,
    )
    assert sched.verify_ticket(first.ticket).id == first.id
    assert [(e.id, e.position) for e in sched.waitlist("online", now=NOW)] == [(second.id, 1)]
    assert sched.bookings_of(_citizen(100), now=NOW) == [got]
    kinds = [(e.kind, e.booking_id) for e in sched.events()[-2:]]
    assert kinds == [("cancelled", held[3].id), ("promoted", first.id)]


def test_a_reschedule_frees_its_old_day_for_the_line(storage_factory: StorageFactory) -> None:
    """A booking moved to a roomier day (a new office file) leaves its place to the line."""
    storage = storage_factory()
    small = qq.Scheduler(_office(), storage, secret=SECRET)
    held = _fill(small)
    entry = small.join_waitlist("online", _citizen(100), now=NOW, until=DAYS[0])
    bigger = qq.Scheduler(_office(capacity=3), storage, secret=SECRET)
    moved = bigger.reschedule(held[0].id, now=NOW, preferred_date=DAYS[2])
    assert moved.day == DAYS[2]
    assert bigger.get(entry.id).day == DAYS[0]  # into the freed place, not the new room


def test_an_entry_waits_for_its_own_session(storage_factory: StorageFactory) -> None:
    """An entry asking for the 10:00 window is not given a freed 08:00 place."""
    sched = qq.Scheduler(_office(sessions=True), storage_factory(), secret=SECRET)
    held = _fill(sched)
    late = sched.join_waitlist("online", _citizen(100), now=NOW, preferred_time=time(10))
    anyone = sched.join_waitlist("online", _citizen(101), now=NOW)
    early = next(b for b in held if b.window == (time(8), time(10)))
    sched.cancel(early.id, now=NOW)
    assert sched.get(anyone.id).window == (time(8), time(10))
    assert [e.id for e in sched.waitlist("online", now=NOW)] == [late.id]
    later = next(b for b in held if b.window == (time(10), time(12)))
    sched.cancel(later.id, now=NOW)
    assert sched.get(late.id).window == (time(10), time(12))


def test_a_household_is_promoted_only_with_room_for_all(storage_factory: StorageFactory) -> None:
    """An entry of two places passes over one freed place; two freed places take it."""
    sched = qq.Scheduler(_office(per_citizen=None), storage_factory(), secret=SECRET)
    held = _fill(sched)
    pair = sched.join_waitlist("online", _citizen(100), now=NOW, places=2, until=DAYS[0])
    on_day = [b for b in held if b.day == DAYS[0]]
    sched.cancel(on_day[0].id, now=NOW)
    assert [e.id for e in sched.waitlist("online", now=NOW)] == [pair.id]
    sched.cancel(on_day[1].id, now=NOW)
    got = sched.get(pair.id)
    assert (got.places, got.day) == (2, DAYS[0])
    assert sched.availability("online", DAYS[0], DAYS[1], now=NOW)[0].remaining == 0


def test_a_reopened_day_goes_to_the_line(sched: qq.Scheduler) -> None:
    """Closing a day moves its bookings; reopening it gives its room to the line."""
    held = _fill(sched)
    entry = sched.join_waitlist("online", _citizen(100), now=NOW)
    sched.cancel(held[0].id, now=NOW)  # the entry takes it
    assert sched.get(entry.id).day == DAYS[0]
    second = sched.join_waitlist("online", _citizen(101), now=NOW)
    moved = sched.close_day(DAYS[2], "banjir", now=NOW)  # beyond the window: no room freed
    assert [e.id for e in sched.waitlist("online", now=NOW)] == [second.id]
    sched.reopen_day(DAYS[2], now=NOW)
    assert sched.get(second.id).day == DAYS[2]
    assert [b.day > DAYS[2] for b in moved] == [True, True]


def test_joining_with_room_is_refused_with_the_day(sched: qq.Scheduler) -> None:
    """Room now: book instead (``has_room`` and the day, in both languages)."""
    with pytest.raises(qq.InvalidTransition) as refused:
        sched.join_waitlist("online", _citizen(1), now=NOW)
    assert (refused.value.reason, refused.value.day) == ("has_room", DAYS[0])
    assert "2 Juni 2020" in i18n.describe(refused.value, "id")
    assert "2 June 2020" in i18n.describe(refused.value, "en")
    assert sched.waitlist("online", now=NOW) == []
    assert sched.events() == []


def test_an_entry_counts_for_the_citizens_limit(sched: qq.Scheduler) -> None:
    """With ``per_citizen=1``: waiting, the citizen cannot book or join again."""
    held = _fill(sched)
    sched.join_waitlist("online", _citizen(100), now=NOW)
    with pytest.raises(qq.AlreadyBooked):
        sched.join_waitlist("online", _citizen(100), now=NOW)
    with pytest.raises(qq.AlreadyBooked):
        sched.join_waitlist("online", _citizen(0), now=NOW)  # holds a booking
    sched.cancel(held[0].id, now=NOW)
    with pytest.raises(qq.AlreadyBooked):
        sched.book("online", _citizen(100), now=NOW)  # promoted: holds the booking


def test_entries_expire_after_until(sched: qq.Scheduler) -> None:
    """Past ``until`` an entry is hidden, then removed at the next pass with an event."""
    held = _fill(sched)
    short = sched.join_waitlist("online", _citizen(100), now=NOW, until=DAYS[0])
    keen = sched.join_waitlist("online", _citizen(101), now=NOW)
    later = wib(2020, 6, 3, 7)  # Wednesday: 2 June has passed
    assert [e.id for e in sched.waitlist("online", now=later)] == [keen.id]
    with pytest.raises(qq.BookingNotFound):
        sched.waitlist_entry(short.ticket, now=later)
    sched.cancel(next(b for b in held if b.day == DAYS[2]).id, now=later)
    with pytest.raises(qq.BookingNotFound):
        sched.get(short.id)
    assert sched.get(keen.id).day == DAYS[2]
    assert [e.kind for e in sched.events()[-3:]] == ["cancelled", "waitlist_expired", "promoted"]


def test_until_in_the_past_and_unknown_channels_are_refused(sched: qq.Scheduler) -> None:
    """Bad input is a typed error and writes nothing."""
    _fill(sched)
    with pytest.raises(ConfigurationError):
        sched.join_waitlist("online", _citizen(100), now=NOW, until=date(2020, 5, 29))
    with pytest.raises(qq.UnknownChannel):
        sched.join_waitlist("telepon", _citizen(100), now=NOW)
    with pytest.raises(ConfigurationError):
        sched.join_waitlist("online", _citizen(100), now=NOW, preferred_time=time(9))
    assert sched.waitlist("online", now=NOW) == []


def test_leaving_the_line(sched: qq.Scheduler) -> None:
    """By ticket, as typed; the next moves up; leaving twice is not found."""
    _fill(sched)
    a = sched.join_waitlist("online", _citizen(100), now=NOW)
    b = sched.join_waitlist("online", _citizen(101), now=NOW)
    assert sched.leave_waitlist(a.ticket.lower(), now=NOW).id == a.id
    assert sched.waitlist_entry(b.id, now=NOW).position == 1
    with pytest.raises(qq.BookingNotFound):
        sched.leave_waitlist(a.id, now=NOW)
    assert sched.events()[-1].kind == "waitlist_left"


def test_more_capacity_in_a_new_office_file_goes_to_the_line(
    storage_factory: StorageFactory,
) -> None:
    """``promote_waitlist`` gives room that appeared without a release, in joining order."""
    storage = storage_factory()
    small = qq.Scheduler(_office(), storage, secret=SECRET)
    _fill(small)
    entries = [small.join_waitlist("online", _citizen(100 + i), now=NOW) for i in range(5)]
    bigger = qq.Scheduler(_office(capacity=3), storage, secret=SECRET)
    done = bigger.promote_waitlist(now=NOW)
    assert [b.id for b in done] == [e.id for e in entries[:3]]
    assert [b.day for b in done] == DAYS
    assert [e.id for e in bigger.waitlist("online", now=NOW)] == [e.id for e in entries[3:]]
    assert bigger.promote_waitlist(now=NOW) == []


def test_a_walk_in_line_is_for_today(sched: qq.Scheduler) -> None:
    """A walk-in entry waits for today only (``until`` today)."""
    morning = wib(2020, 6, 2, 8)
    walk = sched.book("walk_in", now=morning)
    entry = sched.join_waitlist("walk_in", now=morning)
    assert entry.until == date(2020, 6, 2)
    sched.cancel(walk.id, now=morning)
    assert sched.get(entry.id).label.startswith("B-")


def test_citizens_are_told_in_both_languages(sched: qq.Scheduler) -> None:
    """``waitlisted`` and ``promoted`` have their text; no event carries personal data."""
    held = _fill(sched)
    nik = _citizen(100)
    entry = sched.join_waitlist("online", nik, now=NOW)
    sched.cancel(held[0].id, now=NOW)
    waited, _, promoted = sched.events()[-3:]
    assert notification_text(waited, sched.office) == {
        "id": "Anda masuk daftar tunggu, urutan ke-1, sampai Kamis, 4 Juni 2020",
        "en": "You are on the waiting list, number 1, until Thursday, 4 June 2020",
    }
    assert notification_text(promoted, sched.office)["en"] == (
        "You have a place from the waiting list: queue number A-003, Tuesday, 2 June 2020"
    )
    text = repr(sched.events())
    for secret_thing in (nik, entry.ticket, sched.citizen_ref(nik)):
        assert secret_thing not in text


def test_a_storage_without_waitlists_says_so() -> None:
    """A storage that keeps no waitlist gets a clear `ConfigurationError`."""
    inner = MemoryStorage()
    sched = qq.Scheduler(_office(), inner)
    setattr(inner, "supports_waitlist", False)  # noqa: B010 - as a third-party storage would
    with pytest.raises(ConfigurationError) as refused:
        sched.waitlist("online", now=NOW)
    assert refused.value.details["message_key"] == "configuration_error.no_waitlist"


def test_an_entry_that_could_never_be_served_is_refused(sched: qq.Scheduler) -> None:
    """``until`` before the earliest day the channel gives: `OutsideBookingWindow`."""
    _fill(sched)
    with pytest.raises(qq.OutsideBookingWindow) as refused:
        sched.join_waitlist("online", _citizen(100), now=NOW, until=date(2020, 6, 1))
    assert (refused.value.earliest, refused.value.latest) == (DAYS[0], DAYS[-1])
    assert sched.waitlist("online", now=NOW) == []


def test_an_entry_larger_than_any_day_is_refused(sched: qq.Scheduler) -> None:
    """More places on one number than any day gives could never be served: refused."""
    _fill(sched)
    with pytest.raises(ConfigurationError) as refused:
        sched.join_waitlist("online", _citizen(100), now=NOW, places=3)
    assert refused.value.details["message_key"] == "configuration_error.places_never_fit"
    assert sched.waitlist("online", now=NOW) == []
