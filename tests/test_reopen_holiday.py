"""Opening a holiday at run time (a revoked decree): every scheduler on the storage books it
at once, the waitlist is given its room, and closing it again undoes the opening."""

from __future__ import annotations

from datetime import date

import pytest

import queue_quota as qq
from conftest import SECRET, StorageFactory, tegal_office, wib

NOW = wib(2020, 8, 13, 9)  # Thursday; Monday 17 August is Independence Day
HOLIDAY = date(2020, 8, 17)


def test_a_holiday_opened_at_run_time_is_booked_by_every_process(
    storage_factory: StorageFactory,
) -> None:
    """A scheduler made before the opening sees it at its next booking (no restart)."""
    storage = storage_factory()
    early = qq.Scheduler(tegal_office(online=1), storage, secret=SECRET)
    other = qq.Scheduler(tegal_office(online=1), storage_factory(), secret=SECRET)
    with pytest.raises(qq.DayClosed):
        early.book("online", "3328011234560001", now=NOW, preferred_date=HOLIDAY)
    other.reopen_day(HOLIDAY, now=NOW)
    got = early.book("online", "3328011234560001", now=NOW, preferred_date=HOLIDAY)
    assert got.day == HOLIDAY
    assert early.events()[-2].data == {
        "reason": "Hari Kemerdekaan Republik Indonesia",
        "opened": True,
    }
    days = [d.day for d in early.availability("online", HOLIDAY, date(2020, 8, 18), now=NOW)]
    assert days == [HOLIDAY]
    assert early.availability("online", HOLIDAY, date(2020, 8, 18), now=NOW)[0].capacity == 1


def test_the_earliest_day_search_finds_the_opened_day(storage_factory: StorageFactory) -> None:
    """Without a preferred date the opened holiday is a candidate in its place in order."""
    storage = storage_factory()
    sched = qq.Scheduler(tegal_office(online=1), storage, secret=SECRET)
    firsts = [sched.book("online", f"33280112345600{i:02d}", now=NOW).day for i in range(2)]
    assert firsts == [date(2020, 8, 14), date(2020, 8, 18)]  # Friday, then past the holiday
    qq.Scheduler(tegal_office(online=1), storage_factory(), secret=SECRET).reopen_day(
        HOLIDAY, now=NOW
    )
    assert sched.book("online", "3328011234560099", now=NOW).day == HOLIDAY


def test_the_waitlist_gets_the_opened_day(storage_factory: StorageFactory) -> None:
    """The first entry in line is booked on the opened day in the opening's transaction."""
    office = qq.Office(
        id="tegal-disdukcapil",
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[qq.policies.OnlineQuota(capacity=1, lead_days=1, horizon_days=5)],
    )
    sched = qq.Scheduler(office, storage_factory(), secret=SECRET)
    while True:
        try:
            sched.book("online", f"3328{len(sched.events()):012d}", now=NOW)
        except qq.QuotaExhausted:
            break
    entry = sched.join_waitlist("online", "3328011234569999", now=NOW)
    sched.reopen_day(HOLIDAY, now=NOW)
    assert sched.get(entry.id).day == HOLIDAY
    assert [e.kind for e in sched.events()[-2:]] == ["day_reopened", "promoted"]


def test_closing_an_opened_holiday_undoes_the_opening(storage_factory: StorageFactory) -> None:
    """``close_day`` on the opened day moves its bookings and closes it for everyone."""
    storage = storage_factory()
    sched = qq.Scheduler(tegal_office(online=1), storage, secret=SECRET)
    sched.reopen_day(HOLIDAY, now=NOW)
    booked = sched.book("online", "3328011234560001", now=NOW, preferred_date=HOLIDAY)
    other = qq.Scheduler(tegal_office(online=1), storage_factory(), secret=SECRET)
    moved = other.close_day(HOLIDAY, "banjir", now=NOW)
    assert [b.id for b in moved] == [booked.id]
    with pytest.raises(qq.DayClosed):
        sched.book("online", "3328011234560002", now=NOW, preferred_date=HOLIDAY)
    sched.reopen_day(HOLIDAY, now=NOW)  # open again: the closure lifted and the day opened
    assert sched.book("online", "3328011234560003", now=NOW, preferred_date=HOLIDAY).day == HOLIDAY


def test_reopening_an_open_day_changes_nothing(storage_factory: StorageFactory) -> None:
    """A working day, or a holiday opened already: no event, no change."""
    sched = qq.Scheduler(tegal_office(), storage_factory(), secret=SECRET)
    sched.reopen_day(date(2020, 8, 18), now=NOW)
    sched.reopen_day(HOLIDAY, now=NOW)
    sched.reopen_day(HOLIDAY, now=NOW)
    assert [e.kind for e in sched.events()] == ["day_reopened"]
