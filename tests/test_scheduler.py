"""The Scheduler façade on every built-in storage (memory and SQLite)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import queue_quota as qq
from conftest import SECRET, StorageFactory, tegal_office
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage

WIB = ZoneInfo("Asia/Jakarta")
THU = datetime(2020, 6, 4, 9, 0, tzinfo=WIB)  # Thursday 4 June 2020


def at(d: date, hh: int = 9, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), WIB)


def test_first_booking_is_next_working_day_number_one(sched: qq.Scheduler) -> None:
    """The first online registrant on a Thursday is served Friday with A-001."""
    b = sched.book("online", "3328011234560001", now=THU)
    assert b.day == date(2020, 6, 5)
    assert (b.number, b.label, b.status) == (1, "A-001", qq.BookingStatus.BOOKED)
    assert b.office_id == "tegal-disdukcapil"
    assert b.channel == "online"
    assert b.created_at.utcoffset() == timedelta(0)


def test_fills_days_in_order_and_skips_weekend(sched: qq.Scheduler) -> None:
    """Twenty fit on Friday; the 21st goes to Monday (weekend skipped)."""
    days = [sched.book("online", f"c{i}", now=THU).day for i in range(45)]
    assert days[:20] == [date(2020, 6, 5)] * 20
    assert days[20:40] == [date(2020, 6, 8)] * 20
    assert days[40:] == [date(2020, 6, 9)] * 5
    numbers = [b.number for b in sched.manifest(date(2020, 6, 8))]
    assert numbers == list(range(1, 21))


def test_raw_citizen_id_is_never_stored(sched: qq.Scheduler) -> None:
    """The booking holds a keyed hash, never the ID, and its repr does not show the ID."""
    b = sched.book("online", "3328011234560001", now=THU)
    assert b.citizen_ref is not None
    assert "3328011234560001" not in b.citizen_ref
    assert "3328011234560001" not in repr(b)
    assert b.citizen_ref == sched.citizen_ref("3328011234560001")


def test_per_citizen_limit(sched: qq.Scheduler) -> None:
    """A citizen holding an active online booking is refused a second one."""
    sched.book("online", "A1", now=THU)
    with pytest.raises(qq.AlreadyBooked) as err:
        sched.book("online", "A1", now=THU)
    assert err.value.code == "already_booked"


def test_cancel_frees_place_and_limit(sched: qq.Scheduler) -> None:
    """After cancelling, the citizen may book again and the place is free; numbers not reused."""
    b = sched.book("online", "A1", now=THU)
    c = sched.cancel(b.id, now=THU)
    assert c.status is qq.BookingStatus.CANCELLED
    again = sched.book("online", "A1", now=THU)
    assert again.day == b.day
    assert again.number == 2
    avail = sched.availability("online", b.day, b.day + timedelta(days=1))[0]
    assert (avail.booked, avail.remaining) == (1, 19)
    with pytest.raises(qq.InvalidTransition):
        sched.cancel(b.id, now=THU)


def test_idempotency_key_returns_same_booking_before_checks(sched: qq.Scheduler) -> None:
    """A retried request with the same key returns the booking, not AlreadyBooked."""
    b = sched.book("online", "A1", now=THU, idempotency_key="req-1")
    again = sched.book("online", "A1", now=THU, idempotency_key="req-1")
    assert again == b
    assert len(sched.manifest(b.day)) == 1


def test_preferred_date_full_says_next_available(sched: qq.Scheduler) -> None:
    """A full preferred day is refused with the next day that has room."""
    friday = date(2020, 6, 5)
    for i in range(20):
        sched.book("online", f"c{i}", now=THU, preferred_date=friday)
    with pytest.raises(qq.QuotaExhausted) as err:
        sched.book("online", "late", now=THU, preferred_date=friday)
    assert err.value.next_available == date(2020, 6, 8)
    assert err.value.code == "quota_exhausted"


def test_preferred_date_outside_window_or_closed(sched: qq.Scheduler) -> None:
    """Preferred dates outside the window or on a closed day are refused with the right error."""
    with pytest.raises(qq.OutsideBookingWindow):
        sched.book("online", "c", now=THU, preferred_date=date(2020, 6, 4))
    with pytest.raises(qq.OutsideBookingWindow):
        sched.book("online", "c", now=THU, preferred_date=date(2020, 8, 4))
    with pytest.raises(qq.DayClosed) as err:
        sched.book("online", "c", now=THU, preferred_date=date(2020, 6, 6))
    assert err.value.reason == "weekend"


def test_window_full_is_quota_exhausted(storage_factory: StorageFactory) -> None:
    """When every day in the window is full, the refusal is QuotaExhausted."""
    office = qq.Office(
        id="tiny",
        calendar=qq.WorkingCalendar(tz="Asia/Jakarta"),
        policies=[OnlineQuota(capacity=1, horizon_days=3)],
    )
    s = qq.Scheduler(office, storage_factory(), secret=SECRET)
    # Thursday: window Friday .. Sunday -> only Friday is a working day.
    s.book("online", "a", now=THU)
    with pytest.raises(qq.QuotaExhausted) as err:
        s.book("online", "b", now=THU)
    assert err.value.next_available is None


def test_walk_in_refusal_order(sched: qq.Scheduler) -> None:
    """Walk-ins: closed day first, then hours, then full with when to come back."""
    saturday = date(2020, 6, 6)
    with pytest.raises(qq.DayClosed):
        sched.book("walk_in", now=at(saturday, 6, 0))
    with pytest.raises(qq.OutsideServiceHours) as hours:
        sched.book("walk_in", now=at(date(2020, 6, 4), 12, 1))
    assert hours.value.next_available == date(2020, 6, 5)
    with pytest.raises(qq.OutsideServiceHours) as early:
        sched.book("walk_in", now=at(date(2020, 6, 4), 7, 0))
    assert early.value.next_available == date(2020, 6, 4)
    for _ in range(40):
        sched.book("walk_in", now=at(date(2020, 6, 4), 8, 0))
    with pytest.raises(qq.QuotaExhausted) as full:
        sched.book("walk_in", now=at(date(2020, 6, 4), 8, 1))
    assert full.value.next_available == date(2020, 6, 5)
    assert full.value.alternatives == {"online": date(2020, 6, 5)}


def test_walk_in_labels_and_anonymous(sched: qq.Scheduler) -> None:
    """Walk-in numbers are B-labels for today and need no citizen."""
    b = sched.book("walk_in", now=at(date(2020, 6, 4), 8, 0))
    assert (b.day, b.label, b.citizen_ref) == (date(2020, 6, 4), "B-001", None)


def test_local_day_across_wib_midnight(sched: qq.Scheduler) -> None:
    """16:59 UTC on 4 June is still Thursday in WIB; 17:00 UTC is Friday already."""
    utc = ZoneInfo("UTC")
    b1 = sched.book("online", "x1", now=datetime(2020, 6, 4, 16, 59, tzinfo=utc))
    b2 = sched.book("online", "x2", now=datetime(2020, 6, 4, 17, 0, tzinfo=utc))
    assert b1.day == date(2020, 6, 5)
    assert b2.day == date(2020, 6, 8)


def test_check_in_only_on_the_day_and_once(sched: qq.Scheduler) -> None:
    """Check-in works with the ticket on the booking's day only, and only once."""
    b = sched.book("online", "c1", now=THU)
    with pytest.raises(qq.InvalidTransition):
        sched.check_in(b.ticket, now=THU)
    done = sched.check_in(b.ticket, now=at(b.day, 8))
    assert done.status is qq.BookingStatus.CHECKED_IN
    with pytest.raises(qq.InvalidTransition):
        sched.check_in(b.id, now=at(b.day, 9))


def test_tickets_verify_and_forgeries_fail(sched: qq.Scheduler) -> None:
    """A ticket verifies (also typed lower-case, without dashes); an altered one does not."""
    b = sched.book("online", "c1", now=THU)
    assert sched.verify_ticket(b.ticket).id == b.id
    assert sched.verify_ticket(b.ticket.lower().replace("-", "")).id == b.id
    body, tag = b.ticket.split(".")
    flipped = ("1" if tag[0] != "1" else "2") + tag[1:]
    with pytest.raises(qq.InvalidTicket):
        sched.verify_ticket(f"{body}.{flipped}")
    with pytest.raises(qq.InvalidTicket):
        sched.verify_ticket("hello")
    other = qq.Scheduler(sched.office, MemoryStorage(), secret=b"another-secret-0123456789")
    with pytest.raises(qq.InvalidTicket):
        other.verify_ticket(b.ticket)


def test_reschedule_keeps_id_and_ticket(sched: qq.Scheduler) -> None:
    """Rescheduling moves to another day, keeps id and ticket, frees the old place."""
    b = sched.book("online", "c1", now=THU)
    moved = sched.reschedule(b.id, now=THU, preferred_date=date(2020, 6, 9))
    assert (moved.id, moved.ticket, moved.day, moved.number) == (
        b.id,
        b.ticket,
        date(2020, 6, 9),
        1,
    )
    assert sched.manifest(b.day) == []
    assert sched.verify_ticket(b.ticket).day == date(2020, 6, 9)


def test_reschedule_to_full_day_changes_nothing(sched: qq.Scheduler) -> None:
    """A reschedule that cannot be placed leaves the booking where it was."""
    b = sched.book("online", "c1", now=THU)
    for i in range(20):
        sched.book("online", f"f{i}", now=THU, preferred_date=date(2020, 6, 9))
    with pytest.raises(qq.QuotaExhausted):
        sched.reschedule(b.id, now=THU, preferred_date=date(2020, 6, 9))
    assert sched.get(b.id) == b


def test_close_day_moves_bookings_in_order(sched: qq.Scheduler) -> None:
    """Closing a day moves its bookings, in their order, to the next days with room."""
    booked = [sched.book("online", f"c{i}", now=THU) for i in range(25)]
    friday = date(2020, 6, 5)
    moved = sched.close_day(friday, "power outage", now=THU)
    assert [b.id for b in moved] == [b.id for b in booked[:20]]
    # Monday had 5 (numbers 1-5): the 15 first movers fill it, the last 5 go to Tuesday.
    assert [b.day for b in moved] == [date(2020, 6, 8)] * 15 + [date(2020, 6, 9)] * 5
    assert [b.number for b in moved[:15]] == list(range(6, 21))
    assert sched.manifest(friday) == []
    assert sched.closures() == {friday: "power outage"}
    day = sched.availability("online", friday, friday + timedelta(days=1))[0]
    assert (day.capacity, day.remaining, day.closed_reason) == (0, 0, "power outage")
    with pytest.raises(qq.DayClosed):
        sched.book("online", "x", now=THU, preferred_date=friday)
    assert sched.close_day(friday, "again", now=THU) == []


def test_close_day_seen_by_another_scheduler(storage_factory: StorageFactory) -> None:
    """A closure made by one scheduler is honoured by another sharing the storage."""
    s1 = qq.Scheduler(tegal_office(), storage_factory(), secret=SECRET)
    s2 = qq.Scheduler(tegal_office(), storage_factory(), secret=SECRET)
    s1.close_day(date(2020, 6, 5), "flood", now=THU)
    b = s2.book("online", "c", now=THU)
    assert b.day == date(2020, 6, 8)
    with pytest.raises(qq.DayClosed):
        s2.book("walk_in", now=at(date(2020, 6, 5), 8))


def test_close_past_day_refused(sched: qq.Scheduler) -> None:
    """Closing a day in the past is a configuration error."""
    with pytest.raises(qq.ConfigurationError):
        sched.close_day(date(2020, 6, 3), "oops", now=THU)


def test_availability_lists_every_day(sched: qq.Scheduler) -> None:
    """Availability has one entry per calendar day with closed days zeroed and explained."""
    sched.book("online", "a", now=THU)
    days = sched.availability("online", date(2020, 6, 5), date(2020, 6, 8))
    assert [d.day for d in days] == [date(2020, 6, 5), date(2020, 6, 6), date(2020, 6, 7)]
    assert (days[0].capacity, days[0].booked, days[0].remaining) == (20, 1, 19)
    assert (days[1].closed_reason, days[1].capacity) == ("weekend", 0)


def test_manifest_service_order(sched: qq.Scheduler) -> None:
    """The manifest lists online registrants first, then walk-ins, each by number."""
    friday = date(2020, 6, 5)
    w = sched.book("walk_in", now=at(friday, 8))
    o = sched.book("online", "a", now=THU)
    assert [b.id for b in sched.manifest(friday)] == [o.id, w.id]
    assert [b.id for b in sched.manifest(friday, "walk_in")] == [w.id]


def test_bad_input_is_typed_and_writes_nothing(sched: qq.Scheduler) -> None:
    """Unknown channel, naive now, bad dates: typed errors and nothing written."""
    with pytest.raises(qq.UnknownChannel):
        sched.book("fax", "a", now=THU)
    with pytest.raises(qq.ConfigurationError):
        sched.book("online", "a", now=datetime(2020, 6, 4, 9))
    with pytest.raises(qq.ConfigurationError):
        sched.book("online", "a", now=THU, preferred_date=datetime(2020, 6, 5))  # type: ignore[arg-type]
    with pytest.raises(qq.ConfigurationError):
        sched.book("online", None, now=THU)
    with pytest.raises(qq.ConfigurationError):
        sched.book("online", "  ", now=THU)
    with pytest.raises(qq.BookingNotFound):
        sched.get("NOPE")
    assert sched.availability("online", date(2020, 6, 1), date(2020, 8, 1)) == [
        d for d in sched.availability("online", date(2020, 6, 1), date(2020, 8, 1)) if d.booked == 0
    ]


def test_persistent_storage_needs_secret(tmp_path: object) -> None:
    """SQLite without a secret is refused; memory gets an ephemeral one."""
    from pathlib import Path

    with pytest.raises(qq.ConfigurationError):
        qq.Scheduler(tegal_office(), SQLiteStorage(Path(str(tmp_path)) / "x.db"))
    with pytest.raises(qq.ConfigurationError):
        qq.Scheduler(tegal_office(), MemoryStorage(), secret=b"short")
    assert qq.Scheduler(tegal_office()).book("online", "a", now=THU).day == date(2020, 6, 5)


def test_office_validation() -> None:
    """Offices refuse duplicate channels, bad ids and non-policies."""
    cal = qq.WorkingCalendar()
    with pytest.raises(qq.ConfigurationError):
        qq.Office(id="x", calendar=cal, policies=[OnlineQuota(1), OnlineQuota(2, prefix="C")])
    with pytest.raises(qq.ConfigurationError):
        qq.Office(id="bad id", calendar=cal, policies=[OnlineQuota(1)])
    with pytest.raises(qq.ConfigurationError):
        qq.Office(id="x", calendar=cal, policies=[object()])  # type: ignore[list-item]
    with pytest.raises(qq.ConfigurationError):
        OnlineQuota(-1)
    with pytest.raises(qq.ConfigurationError):
        WalkInQuota(5, opens=time(12), closes=time(8))


def test_clock_is_used_when_now_is_omitted() -> None:
    """The injected clock decides "today" when no now= is given."""
    s = qq.Scheduler(tegal_office(), clock=lambda: THU)
    assert s.book("online", "a").day == date(2020, 6, 5)
    with pytest.raises(qq.ConfigurationError):
        qq.Scheduler(tegal_office(), clock=lambda: datetime(2020, 6, 4)).book("online", "a")


def test_invalid_transition_says_why(sched: qq.Scheduler) -> None:
    """InvalidTransition carries a stable reason, the status and the day."""
    b = sched.book("online", "c1", now=THU)
    with pytest.raises(qq.InvalidTransition) as wrong_day:
        sched.check_in(b.ticket, now=THU)
    assert (wrong_day.value.reason, wrong_day.value.day) == ("not_today", b.day)
    sched.check_in(b.ticket, now=at(b.day, 8))
    with pytest.raises(qq.InvalidTransition) as twice:
        sched.check_in(b.ticket, now=at(b.day, 9))
    assert (twice.value.reason, twice.value.status) == ("not_booked", "checked_in")
    other = sched.book("online", "c2", now=THU)
    with pytest.raises(qq.InvalidTransition) as same:
        sched.reschedule(other.id, now=THU, preferred_date=other.day)
    assert same.value.reason == "same_day"
    sched.cancel(other.id, now=THU)
    with pytest.raises(qq.InvalidTransition) as again:
        sched.cancel(other.id, now=THU)
    assert (again.value.reason, again.value.status) == ("not_booked", "cancelled")
    third = sched.book("online", "c3", now=THU)
    with pytest.raises(qq.InvalidTransition) as late:
        sched.cancel(third.id, now=at(third.day + timedelta(days=1)))
    assert (late.value.reason, late.value.day) == ("past_day", third.day)


def test_mark_no_shows_of_an_ended_day(sched: qq.Scheduler) -> None:
    """Bookings still booked on an ended day become no-shows, in service order, once."""
    friday, saturday = date(2020, 6, 5), date(2020, 6, 6)
    a, b, c = (sched.book("online", f"c{i}", now=THU) for i in range(3))
    w = sched.book("walk_in", now=at(friday, 8))
    sched.check_in(b.ticket, now=at(friday, 8))
    sched.cancel(c.id, now=THU)
    for not_ended in (friday, saturday):
        with pytest.raises(qq.ConfigurationError, match="the day has not ended"):
            sched.mark_no_shows(not_ended, now=at(friday, 23, 59))
    with pytest.raises(qq.ConfigurationError):
        sched.mark_no_shows(datetime(2020, 6, 5, 9), now=at(saturday))  # type: ignore[arg-type]
    assert sched.get(a.id).status is qq.BookingStatus.BOOKED
    marked = sched.mark_no_shows(friday, now=at(saturday, 0, 0))
    assert [(m.id, m.label, m.status) for m in marked] == [
        (a.id, "A-001", qq.BookingStatus.NO_SHOW),
        (w.id, "B-001", qq.BookingStatus.NO_SHOW),
    ]
    assert sched.get(a.id) == marked[0]
    assert sched.get(b.id).status is qq.BookingStatus.CHECKED_IN
    assert sched.get(c.id).status is qq.BookingStatus.CANCELLED
    online = sched.availability("online", friday, saturday)[0]
    walk_in = sched.availability("walk_in", friday, saturday)[0]
    assert (online.booked, walk_in.booked) == (1, 0)
    assert sched.mark_no_shows(friday, now=at(saturday)) == []
    assert [m.status.value for m in sched.manifest(friday)] == ["no_show", "checked_in", "no_show"]


def test_outside_hours_names_the_channel(sched: qq.Scheduler) -> None:
    """OutsideServiceHours says which channel's hours were missed."""
    with pytest.raises(qq.OutsideServiceHours) as late:
        sched.book("walk_in", now=at(date(2020, 6, 4), 12, 30))
    assert late.value.channel == "walk_in"


def test_retry_refused_before_storage_still_returns_booking(sched: qq.Scheduler) -> None:
    """A retried key gets its booking even when the retry itself would now be refused."""
    thursday = date(2020, 6, 4)
    w = sched.book("walk_in", now=at(thursday, 11, 59), idempotency_key="kiosk-1")
    assert sched.book("walk_in", now=at(thursday, 12, 30), idempotency_key="kiosk-1") == w
    assert sched.book("walk_in", now=at(date(2020, 6, 6), 8), idempotency_key="kiosk-1") == w
    o = sched.book("online", "c1", now=THU, idempotency_key="web-1")
    with pytest.raises(qq.IdempotencyConflict):  # not the same request: no citizen
        sched.book("online", None, now=THU, idempotency_key="web-1")
    assert sched.book("online", "c1", now=THU, idempotency_key="web-1") == o
    assert len(sched.manifest(o.day, "online")) == 1
