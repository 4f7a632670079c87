"""The skip pointer over full days never causes a false "full" (all storages)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import queue_quota as qq
from _postgres_server import drop_schema, unique_schema
from conftest import SECRET
from queue_quota.policies import OnlineQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage

NOW = datetime(2021, 1, 4, 9, tzinfo=ZoneInfo("Asia/Jakarta"))  # a Monday
Pair = tuple[Callable[[], Storage], list[Storage]]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def handles(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Storage]]:
    """A factory of handles on one store (two handles = two processes' views)."""
    made: list[Storage] = []
    if request.param == "memory":
        shared = MemoryStorage()
        yield lambda: shared
        return
    if request.param == "sqlite":

        def make() -> Storage:
            s = SQLiteStorage(tmp_path / "q.sqlite3")
            made.append(s)
            return s

        yield make
    else:
        from queue_quota.storage import PostgresStorage

        conninfo = request.getfixturevalue("postgres_conninfo")
        schema = unique_schema()

        def make() -> Storage:
            s = PostgresStorage(conninfo, schema=schema)
            made.append(s)
            return s

        yield make
        for s in made:
            s.close()
        drop_schema(conninfo, schema)
        return
    for s in made:
        s.close()


def _office() -> qq.Office:
    return qq.Office(
        id="skip",
        calendar=qq.WorkingCalendar(tz="Asia/Jakarta"),
        policies=[OnlineQuota(capacity=1, lead_days=0, horizon_days=400, per_citizen=None)],
    )


def test_skips_full_days_and_finds_released_place(handles: Callable[[], Storage]) -> None:
    """After 200 full days, a place freed by another handle is found at once."""
    a = qq.Scheduler(_office(), handles(), secret=SECRET)
    b = qq.Scheduler(_office(), handles(), secret=SECRET)
    booked = [a.book("online", f"c{i}", now=NOW) for i in range(200)]
    days = [x.day for x in booked]
    assert days == sorted(set(days))  # one a day, in order, no day skipped
    assert days[0] == date(2021, 1, 4)
    # Another process frees a place on day 37; the next booking by `a` must take it.
    b.cancel(booked[37].id, now=NOW)
    assert a.book("online", "new", now=NOW).day == booked[37].day
    # And a move by `b` frees day 5 for `a` too.
    moved = b.reschedule(booked[5].id, now=NOW)
    assert moved.day > days[-1]
    assert a.book("online", "newer", now=NOW).day == booked[5].day
    # With everything full again up to the horizon's end, the next booking lands after.
    nxt = a.book("online", "after", now=NOW)
    assert nxt.day == moved.day + timedelta(days=1)


def test_fill_by_other_handle_is_seen(handles: Callable[[], Storage]) -> None:
    """Days filled by another handle are skipped correctly (no double booking)."""
    a = qq.Scheduler(_office(), handles(), secret=SECRET)
    b = qq.Scheduler(_office(), handles(), secret=SECRET)
    seen = set()
    for i in range(60):
        who = a if i % 3 else b
        d = who.book("online", f"c{i}", now=NOW).day
        assert d not in seen
        seen.add(d)
    assert len(seen) == 60


def test_closure_honoured_when_candidates_are_not_in_date_order(
    handles: Callable[[], Storage],
) -> None:
    """A closed day is skipped even when a custom policy lists candidates out of order."""
    from queue_quota.models import Reservation, Slot
    from queue_quota.tickets import new_booking_id

    storage = handles()
    d1, d2, d3 = date(2021, 1, 5), date(2021, 1, 6), date(2021, 1, 7)
    storage.close_day("skip", d1, "flood", {}, now=NOW)
    slots = (Slot(d2, 1), Slot(d1, 5), Slot(d3, 5))  # preference order, not date order

    def reserve(i: int) -> date:
        r = Reservation(
            office_id="skip", channel="online", slots=slots, booking_id=new_booking_id(),
            ticket="t", prefix="A", citizen_ref=None, per_citizen=None, today=NOW.date(),
            created_at=NOW,
        )  # fmt: skip
        return storage.reserve(r).day

    assert [reserve(i) for i in range(3)] == [d2, d3, d3]
    assert storage.booked_counts("skip", "online", d1, d1 + timedelta(days=1)) == {}
