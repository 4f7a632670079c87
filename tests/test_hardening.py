"""Issue 8 (hardening) through the Scheduler, on memory, SQLite and PostgreSQL.

Each test here failed on 0.1: keys bound to their request, the secret's fingerprint,
rotation, `bookings_of`, ids and tickets as typed, `bookable`, where a moved booking came
from, `lead_days` from a closed day, and a closed day being closed rather than full.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

import queue_quota as qq
from conftest import SECRET, tegal_office, wib
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage

OLD = b"old-secret-0123456789abcdef-old"
NEW = b"new-secret-0123456789abcdef-new"
THU = wib(2020, 6, 4)  # Thursday 4 June 2020, 09:00 WIB

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Storage]]:
    """Handles on one fresh store: the same MemoryStorage, an SQLite file or a schema."""
    made: list[Storage] = []
    if request.param == "memory":
        shared = MemoryStorage()
        yield lambda: shared
        return
    if request.param == "sqlite":
        path = tmp_path / "hardening.sqlite3"

        def open_sqlite() -> Storage:
            made.append(SQLiteStorage(path))
            return made[-1]

        yield open_sqlite
    else:
        from _postgres_server import drop_schema, unique_schema
        from queue_quota.storage.postgres import PostgresStorage

        conninfo: str = request.getfixturevalue("postgres_conninfo")
        schema = unique_schema()

        def open_pg() -> Storage:
            made.append(PostgresStorage(conninfo, schema=schema))
            return made[-1]

        yield open_pg
        for s in made:
            s.close()
        made.clear()
        drop_schema(conninfo, schema)
    for s in made:
        s.close()


def scheduler(
    factory: Callable[[], Storage], secret: Any = SECRET, office: qq.Office | None = None
) -> qq.Scheduler:
    return qq.Scheduler(office or tegal_office(), factory(), secret=secret)


# -- 1. idempotency keys are bound to their first request -----------------------------------


def test_another_citizens_retry_with_a_key_learns_nothing(factory: Callable[[], Storage]) -> None:
    """Citizen B with citizen A's key: `IdempotencyConflict`, nothing booked, nothing shown."""
    sched = scheduler(factory)
    a = sched.book("online", "3328011234560001", now=THU, idempotency_key="k-1")
    with pytest.raises(qq.IdempotencyConflict) as caught:
        sched.book("online", "3328019999990002", now=THU, idempotency_key="k-1")
    err = caught.value
    assert err.code == "idempotency_conflict"
    assert isinstance(err, qq.RefusalError)
    shown = f"{err} {err.details!r} {err.describe('en')} {err.describe('id')}"
    for secret in (a.id, a.ticket, a.label, a.day.isoformat(), a.citizen_ref or ""):
        assert secret not in shown
    assert [b.id for b in sched.manifest(a.day)] == [a.id]
    assert sched.bookings_of("3328019999990002") == []


def test_a_key_is_bound_to_channel_and_preferred_date(factory: Callable[[], Storage]) -> None:
    """The same key on another channel, or for another day, is a conflict; the same request
    gets its booking back."""
    sched = scheduler(factory)
    a = sched.book("online", "C1", now=THU, idempotency_key="k-1")
    with pytest.raises(qq.IdempotencyConflict):
        sched.book("walk_in", "C1", now=THU, idempotency_key="k-1")
    with pytest.raises(qq.IdempotencyConflict):
        sched.book("walk_in", None, now=THU, idempotency_key="k-1")
    with pytest.raises(qq.IdempotencyConflict):
        sched.book("online", "C1", now=THU, idempotency_key="k-1", preferred_date=date(2020, 6, 9))
    assert sched.book("online", " c1 ", now=THU, idempotency_key="k-1") == a  # same citizen
    w = sched.book("walk_in", None, now=THU, idempotency_key="kiosk-1")
    with pytest.raises(qq.IdempotencyConflict):
        sched.book("walk_in", "C2", now=THU, idempotency_key="kiosk-1")
    assert sched.book("walk_in", None, now=THU, idempotency_key="kiosk-1") == w
    assert len(sched.manifest(THU.date(), "walk_in")) == 1
    assert len(sched.manifest(a.day, "online")) == 1


def test_a_key_is_bound_even_when_the_other_request_would_be_refused(
    factory: Callable[[], Storage],
) -> None:
    """After hours, the other citizen's retry is a conflict too (not the first booking)."""
    sched = scheduler(factory)
    sched.book("walk_in", "C1", now=THU, idempotency_key="kiosk-1")
    late = wib(2020, 6, 4, 13)
    with pytest.raises(qq.IdempotencyConflict):
        sched.book("walk_in", "C2", now=late, idempotency_key="kiosk-1")
    assert sched.book("walk_in", "C1", now=late, idempotency_key="kiosk-1").number == 1


def _race_worker(args: tuple[str, str, str, str]) -> str:
    kind, target, citizen, key = args
    storage: Storage
    if kind == "sqlite":
        storage = SQLiteStorage(target)
    else:
        from queue_quota.storage.postgres import PostgresStorage

        conninfo, schema = target.split("|")
        storage = PostgresStorage(conninfo, schema=schema)
    try:
        sched = qq.Scheduler(tegal_office(), storage, secret=SECRET)
        try:
            b = sched.book("online", citizen, now=THU, idempotency_key=key)
        except qq.IdempotencyConflict:
            return "conflict"
        return f"booked:{citizen}:{b.id}"
    finally:
        storage.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_processes_racing_with_one_key_for_different_citizens(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Eight processes, one key, eight citizens: one booking, seven conflicts."""
    if kind == "sqlite":
        target = str(tmp_path / "race.sqlite3")
        SQLiteStorage(target).close()
        cleanup: Callable[[], None] = lambda: None  # noqa: E731
    else:
        from _postgres_server import drop_schema, unique_schema
        from queue_quota.storage.postgres import PostgresStorage

        conninfo: str = request.getfixturevalue("postgres_conninfo")
        schema = unique_schema()
        PostgresStorage(conninfo, schema=schema).close()
        target = f"{conninfo}|{schema}"
        cleanup = lambda: drop_schema(conninfo, schema)  # noqa: E731
    try:
        # The secret's fingerprint is claimed once, so the race is on the key alone.
        first = _race_worker((kind, target, "warm-up", "shared-key"))
        assert first.startswith("booked:warm-up")
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(8) as pool:
            results = pool.map(
                _race_worker, [(kind, target, f"C{i}", "shared-key") for i in range(8)]
            )
        assert results.count("conflict") == 8  # the key already belongs to "warm-up"
        with ctx.Pool(8) as pool:
            racing = pool.map(
                _race_worker, [(kind, target, f"D{i}", "fresh-key") for i in range(8)]
            )
        winners = [r for r in racing if r.startswith("booked:")]
        assert len(winners) == 1, racing
        assert racing.count("conflict") == 7
    finally:
        cleanup()


# -- 2, 3. the secret's fingerprint, and rotation -------------------------------------------


def test_a_wrong_secret_is_refused_before_anything_is_read(
    factory: Callable[[], Storage],
) -> None:
    """A scheduler with another secret raises `SecretMismatch`; the right one still works."""
    sched = scheduler(factory, OLD)
    b = sched.book("online", "C1", now=THU)
    with pytest.raises(qq.SecretMismatch) as caught:
        scheduler(factory, NEW)
    assert caught.value.code == "secret_mismatch"
    assert isinstance(caught.value, qq.ConfigurationError)
    assert OLD.decode() not in str(caught.value)
    assert NEW.decode() not in str(caught.value)
    again = scheduler(factory, OLD)
    assert again.verify_ticket(b.ticket) == b
    with pytest.raises(qq.AlreadyBooked):
        again.book("online", "C1", now=THU)


def test_rotation_keeps_old_tickets_citizens_and_keys(factory: Callable[[], Storage]) -> None:
    """With ``[new, old]`` old tickets verify and old citizens, keys and limits match."""
    old = scheduler(factory, OLD)
    b = old.book("online", "C1", now=THU, idempotency_key="k-1")
    rotated = scheduler(factory, [NEW, OLD])
    assert rotated.verify_ticket(b.ticket) == b
    assert rotated.get(b.ticket) == b
    assert rotated.book("online", "C1", now=THU, idempotency_key="k-1") == b
    with pytest.raises(qq.IdempotencyConflict):
        rotated.book("online", "C2", now=THU, idempotency_key="k-1")
    with pytest.raises(qq.AlreadyBooked):
        rotated.book("online", "C1", now=THU)
    assert rotated.bookings_of("C1", now=THU) == [b]
    c = rotated.book("online", "C2", now=THU)
    assert c.citizen_ref == rotated.citizen_ref("C2") != old.citizen_ref("C2")
    assert rotated.verify_ticket(c.ticket) == c
    # The rotation is recorded: the old secret alone no longer starts (it may have leaked).
    with pytest.raises(qq.SecretMismatch):
        scheduler(factory, OLD)
    assert scheduler(factory, NEW).verify_ticket(c.ticket) == c
    with pytest.raises(qq.InvalidTicket):
        scheduler(factory, NEW).verify_ticket(b.ticket)


def test_secret_lists_are_checked() -> None:
    """An empty list, a short secret in the list, or a text secret is a ConfigurationError."""
    for bad in ([], [NEW, b"short"], "text-secret-0123456789", [NEW, "text-0123456789abcdef"]):
        with pytest.raises(qq.ConfigurationError):
            qq.Scheduler(tegal_office(), MemoryStorage(), secret=bad)


# -- 9. bookings_of -------------------------------------------------------------------------


def test_bookings_of_finds_a_citizen_by_id(factory: Callable[[], Storage]) -> None:
    """A citizen who lost the ticket is found by ID; past bookings only when asked."""
    sched = scheduler(factory)
    a = sched.book("online", "3328011234560001", now=THU)
    w = sched.book("walk_in", "3328011234560001", now=THU)
    sched.book("online", "3328019999990002", now=THU)
    assert sched.bookings_of("3328 0112 3456 0001", now=THU) == [w, a]
    later = wib(2020, 6, 5, 13)
    assert sched.bookings_of("3328011234560001", now=later) == [a]
    assert sched.bookings_of("3328011234560001", now=later, include_past=True) == [w, a]
    assert sched.bookings_of("0000", now=THU) == []


# -- 10. ids and tickets as typed -----------------------------------------------------------


def _typed(text: str) -> str:
    """How a clerk might type it: lower case, spaces instead of dashes."""
    return "  " + text.lower().replace("-", " ") + " "


def test_ids_and_tickets_are_accepted_as_typed(factory: Callable[[], Storage]) -> None:
    """get, cancel, reschedule and check_in take an id or a ticket, any case and spacing."""
    sched = scheduler(factory)
    a = sched.book("online", "C1", now=THU)
    b = sched.book("online", "C2", now=THU)
    c = sched.book("walk_in", None, now=THU)
    for text in (a.id, a.ticket, _typed(a.id), _typed(a.ticket), a.ticket.replace("-", "")):
        assert sched.get(text) == a
    moved = sched.reschedule(_typed(a.ticket), now=THU)
    assert moved.id == a.id
    assert sched.cancel(_typed(b.id), now=THU).status is qq.BookingStatus.CANCELLED
    assert sched.check_in(_typed(c.id), now=THU).status is qq.BookingStatus.CHECKED_IN
    forged = a.ticket[:-1] + ("0" if a.ticket[-1] != "0" else "1")
    with pytest.raises(qq.InvalidTicket):
        sched.get(forged)
    for junk in ("", "x" * 200, "not an id!", "0" * 16):
        with pytest.raises(qq.BookingNotFound) as caught:
            sched.get(junk)
        if junk:
            assert junk.strip() not in str(caught.value)


# -- 11. moved bookings say where they came from --------------------------------------------


def test_moves_carry_their_previous_day_and_number(factory: Callable[[], Storage]) -> None:
    """reschedule and close_day return the old day and number beside the new ones."""
    sched = scheduler(factory)
    first = [sched.book("online", f"C{i}", now=THU) for i in range(3)]
    friday = date(2020, 6, 5)
    assert {b.day for b in first} == {friday}
    moved = sched.reschedule(first[2].id, now=THU, preferred_date=date(2020, 6, 9))
    assert (moved.previous_day, moved.previous_number, moved.previous_label) == (
        friday,
        3,
        "A-003",
    )
    assert (moved.day, moved.label) == (date(2020, 6, 9), "A-001")
    closed = sched.close_day(friday, "banjir", now=THU)
    assert [(b.id, b.previous_day, b.previous_label, b.day) for b in closed] == [
        (first[0].id, friday, "A-001", date(2020, 6, 8)),
        (first[1].id, friday, "A-002", date(2020, 6, 8)),
    ]
    assert sched.get(first[0].id).previous_day is None


# -- 8. bookable ----------------------------------------------------------------------------


def test_availability_says_which_days_are_bookable(factory: Callable[[], Storage]) -> None:
    """Online today is not bookable with ``lead_days=1``; walk-ins only in opening hours."""
    sched = scheduler(factory, office=tegal_office(online=1))
    thu, fri, sat, mon = date(2020, 6, 4), date(2020, 6, 5), date(2020, 6, 6), date(2020, 6, 8)
    online = {a.day: a.bookable for a in sched.availability("online", thu, mon, now=THU)}
    assert online == {thu: False, fri: True, sat: False, date(2020, 6, 7): False}
    sched.book("online", "C1", now=THU)  # Friday is full now
    online = {
        a.day: a.bookable for a in sched.availability("online", thu, mon + timedelta(1), now=THU)
    }
    assert (online[fri], online[mon]) == (False, True)
    walk = sched.availability("walk_in", thu, fri, now=THU)
    assert walk[0].bookable
    assert not sched.availability("walk_in", thu, fri, now=wib(2020, 6, 4, 13))[0].bookable
    assert not sched.availability("walk_in", fri, sat, now=THU)[0].bookable  # not today


# -- 6. lead_days counts from today, whether or not today is a working day -------------------

# Written by hand from the decrees (tests/golden/indonesia_closures.csv): Thu 24 Dec 2020
# cuti bersama, Fri 25 Dec Natal, Thu 31 Dec cuti bersama, Fri 1 Jan 2021 new year.
# (today, earliest day with lead_days=0, 1, 2)
LEAD_DAYS_GOLDEN = [
    (date(2020, 6, 5), date(2020, 6, 5), date(2020, 6, 8), date(2020, 6, 9)),  # Friday
    (date(2020, 6, 6), date(2020, 6, 8), date(2020, 6, 8), date(2020, 6, 9)),  # Saturday
    (date(2020, 6, 7), date(2020, 6, 8), date(2020, 6, 8), date(2020, 6, 9)),  # Sunday
    (date(2020, 12, 22), date(2020, 12, 22), date(2020, 12, 23), date(2020, 12, 28)),
    (date(2020, 12, 23), date(2020, 12, 23), date(2020, 12, 28), date(2020, 12, 29)),
    (date(2020, 12, 24), date(2020, 12, 28), date(2020, 12, 28), date(2020, 12, 29)),
    (date(2020, 12, 25), date(2020, 12, 28), date(2020, 12, 28), date(2020, 12, 29)),
    (date(2020, 12, 26), date(2020, 12, 28), date(2020, 12, 28), date(2020, 12, 29)),
    (date(2020, 12, 27), date(2020, 12, 28), date(2020, 12, 28), date(2020, 12, 29)),
    (date(2020, 12, 28), date(2020, 12, 28), date(2020, 12, 29), date(2020, 12, 30)),
    (date(2020, 12, 29), date(2020, 12, 29), date(2020, 12, 30), date(2021, 1, 4)),
    (date(2020, 12, 30), date(2020, 12, 30), date(2021, 1, 4), date(2021, 1, 5)),
    (date(2020, 12, 31), date(2021, 1, 4), date(2021, 1, 4), date(2021, 1, 5)),
    (date(2021, 1, 1), date(2021, 1, 4), date(2021, 1, 4), date(2021, 1, 5)),
    (date(2021, 1, 2), date(2021, 1, 4), date(2021, 1, 4), date(2021, 1, 5)),
    (date(2021, 1, 3), date(2021, 1, 4), date(2021, 1, 4), date(2021, 1, 5)),
    (date(2021, 1, 4), date(2021, 1, 4), date(2021, 1, 5), date(2021, 1, 6)),
]


@pytest.mark.parametrize(("today", "lead0", "lead1", "lead2"), LEAD_DAYS_GOLDEN)
def test_lead_days_from_every_kind_of_day(
    today: date, lead0: date, lead1: date, lead2: date
) -> None:
    """The first day given is the lead_days-th working day after today (0: today if open)."""
    for lead, expected in ((0, lead0), (1, lead1), (2, lead2)):
        office = qq.Office(
            "lead",
            qq.WorkingCalendar.indonesia(),
            [OnlineQuota(5, lead_days=lead, horizon_days=30)],
        )
        sched = qq.Scheduler(office)
        now = datetime.combine(today, time(9), wib(2020, 1, 1).tzinfo)
        assert sched.book("online", "C1", now=now).day == expected, (today, lead)
        assert sched.next_available("online", now=now) == expected


# -- 7. a closed day is closed, not full ------------------------------------------------------


def test_a_same_day_channel_on_a_closed_day_is_day_closed() -> None:
    """A same-day online channel on Saturday, or a walk-in on a holiday: `DayClosed`."""
    office = qq.Office(
        "same-day",
        qq.WorkingCalendar.indonesia(),
        [
            OnlineQuota(5, lead_days=0, horizon_days=0, channel="today", prefix="T"),
            WalkInQuota(5),
        ],
    )
    sched = qq.Scheduler(office)
    for when in (wib(2020, 6, 6), wib(2020, 6, 1)):  # Saturday; Hari Lahir Pancasila
        for channel, citizen in (("today", "C1"), ("walk_in", None)):
            with pytest.raises(qq.DayClosed) as caught:
                sched.book(channel, citizen, now=when)
            assert caught.value.day == when.date()
            assert caught.value.next_available == date(2020, 6, 8 if when.day == 6 else 2)


def test_a_closed_preferred_day_outside_the_window_is_day_closed() -> None:
    """Asking for a Sunday beyond the horizon is `DayClosed`, not `OutsideBookingWindow`."""
    sched = qq.Scheduler(tegal_office())
    with pytest.raises(qq.DayClosed):
        sched.book("online", "C1", now=THU, preferred_date=date(2020, 9, 6))  # a Sunday
    with pytest.raises(qq.OutsideBookingWindow):
        sched.book("online", "C1", now=THU, preferred_date=date(2020, 9, 7))  # a Monday
