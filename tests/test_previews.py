"""Previews: `preview_close_day` is what `close_day` then does, on every storage, and writes
nothing; `preview_office` against hand-counted answers (capacity, sessions, pools, a day
the new calendar closes)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage, TransactionalStorage

CAL = qq.WorkingCalendar(tz="Asia/Jakarta")  # Mon-Fri, no holidays: days easy to follow
THU = wib(2020, 6, 4)  # Thursday 4 June 2020, 09:00 WIB
FRI, MON, TUE, WED = date(2020, 6, 5), date(2020, 6, 8), date(2020, 6, 9), date(2020, 6, 10)
SPAN = (date(2020, 6, 1), date(2020, 9, 1))
SESSIONS = (qq.Session(time(8), time(8, 30), 3), qq.Session(time(8, 30), time(9), 3))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Storage]]:
    """Opens storages of one kind sharing their data."""
    made: list[Storage] = []
    if request.param == "memory":
        shared = MemoryStorage()
        yield lambda: shared
        return
    if request.param == "postgres":
        from _postgres_server import drop_schema, unique_schema
        from queue_quota.storage import PostgresStorage

        conninfo = request.getfixturevalue("postgres_conninfo")
        schema = unique_schema()

        def open_postgres() -> Storage:
            made.append(PostgresStorage(conninfo, schema=schema, max_size=4))
            return made[-1]

        yield open_postgres
        for s in made:
            s.close()
        drop_schema(conninfo, schema)
        return

    def open_sqlite() -> Storage:
        made.append(SQLiteStorage(tmp_path / "preview.sqlite3"))
        return made[-1]

    yield open_sqlite
    for s in made:
        s.close()


def busy_office(**kw: Any) -> qq.Office:
    """Online in two sessions (6 a day), households allowed; walk-ins 4 a day; a pool of 9
    over both."""
    return qq.Office(
        "preview",
        CAL,
        [
            OnlineQuota(6, lead_days=1, horizon_days=20, sessions=SESSIONS, **kw),
            WalkInQuota(4, opens=time(7, 30), closes=time(12)),
        ],
        pools=[qq.Pool("loket", 9, ["online", "walk_in"])],
    )


def fill(sched: qq.Scheduler) -> None:
    """Bookings on Friday and Monday (the earliest days), a household, walk-ins on Friday,
    one booking cancelled and one checked in."""
    for i in range(9):
        sched.book("online", f"C{i}", now=THU, places=2 if i == 4 else 1)
    sched.book("online", "late", now=THU, preferred_date=MON, preferred_time=time(8, 30))
    for i in range(3):
        sched.book("walk_in", now=wib(2020, 6, 5, 8, i))
    cancelled = sched.book("online", "gone", now=THU, preferred_date=TUE)
    sched.cancel(cancelled.id, now=THU)
    friday = sched.manifest(FRI, "walk_in")
    sched.check_in(friday[0].id, now=wib(2020, 6, 5, 8, 30))


def dump(storage: Storage, office_id: str) -> dict[str, Any]:
    """Everything the storage holds for the office: bookings (every field) over the span,
    every counter, closures, events, and the raw meta and state."""
    assert isinstance(storage, TransactionalStorage)
    days = [SPAN[0] + timedelta(n) for n in range((SPAN[1] - SPAN[0]).days)]
    bookings = [
        (attrs.asdict(b), b.charges)
        for d in days
        for b in storage.bookings_on(office_id, d, include_cancelled=True)
    ]
    scopes = ["c:online", "c:walk_in", "p:loket", "s:online@08:00", "s:online@08:30"]
    counters = {s: storage.counter_use(office_id, s, *SPAN) for s in scopes}
    with storage.primitives.transaction(office_id, write=False) as tx:
        meta, state = tx.meta(""), tx.state("")
        rows = tx.counters(scopes, *SPAN)
    return {
        "bookings": bookings,
        "counters": counters,
        "rows": rows,
        "closures": storage.closures(office_id),
        "events": storage.events(office_id, after=0, limit=1000),  # type: ignore[attr-defined]
        "meta": meta,
        "state": state,
    }


def same(a: list[qq.Booking], b: list[qq.Booking]) -> None:
    """Equal bookings, in the same order, down to the counters charged."""
    assert a == b
    assert [x.charges for x in a] == [x.charges for x in b]


# -- preview_close_day ------------------------------------------------------------------------


@pytest.mark.parametrize("day", [FRI, MON])
def test_preview_is_what_close_day_does_and_writes_nothing(
    factory: Callable[[], Storage], day: date
) -> None:
    """On every storage: the preview's bookings, days, numbers, windows and counters are
    close_day's own, and the storage is unchanged by the preview, to the last meta value."""
    sched = qq.Scheduler(busy_office(), factory(), secret=SECRET)
    fill(sched)
    at = wib(2020, 6, 5, 9)
    before = dump(sched.storage, "preview")
    preview = sched.preview_close_day(day, "banjir", now=at)
    assert dump(sched.storage, "preview") == before
    assert preview  # there is something to move
    assert sched.preview_close_day(day, "banjir", now=at) == preview  # and again
    last = before["events"][-1].seq
    done = sched.close_day(day, "banjir", now=at)
    same(preview, done)
    assert [(b.previous_day, b.previous_number) for b in done] == [
        (b.previous_day, b.previous_number) for b in preview
    ]
    # The closure's events start right after the last one: the preview used no seq.
    assert sched.events(after=last)[0].seq == last + 1
    assert sched.events(after=last)[0].kind == "day_closed"


def test_preview_of_a_closed_day_is_empty_and_of_a_past_day_refused(
    factory: Callable[[], Storage],
) -> None:
    """As close_day: [] for a day already closed; a past day and an empty reason refused."""
    sched = qq.Scheduler(busy_office(), factory(), secret=SECRET)
    fill(sched)
    sched.close_day(MON, "banjir", now=THU)
    assert sched.preview_close_day(MON, "lagi", now=THU) == []
    with pytest.raises(qq.ConfigurationError):
        sched.preview_close_day(date(2020, 6, 3), "lewat", now=THU)
    with pytest.raises(qq.ConfigurationError):
        sched.preview_close_day(TUE, "  ", now=THU)


def test_a_preview_that_cannot_place_everyone_raises_like_close_day(
    factory: Callable[[], Storage],
) -> None:
    """Nowhere to go within the year: QuotaExhausted, as close_day, and nothing written."""
    office = qq.Office(
        "preview", CAL.with_closures({FRI + timedelta(n): "tutup" for n in range(1, 400)}),
        [OnlineQuota(2, lead_days=1, horizon_days=1)],
    )  # fmt: skip
    sched = qq.Scheduler(office, factory(), secret=SECRET)
    sched.book("online", "A", now=THU)
    before = dump(sched.storage, "preview")
    with pytest.raises(qq.QuotaExhausted):
        sched.preview_close_day(FRI, "banjir", now=THU)
    assert dump(sched.storage, "preview") == before
    with pytest.raises(qq.QuotaExhausted):
        sched.close_day(FRI, "banjir", now=THU)


def test_a_preview_rolls_back_a_waitlist_promotion(factory: Callable[[], Storage]) -> None:
    """A closure whose pass promotes a waiting citizen (the office now gives 2 a day): the
    preview leaves the entry waiting, close_day then promotes it and moves as previewed."""
    storage = factory()
    small = qq.Office("preview", CAL, [OnlineQuota(1, lead_days=1, horizon_days=5)])
    sched = qq.Scheduler(small, storage, secret=SECRET)
    for name in "ABC":  # Friday, Monday, Tuesday: the window is full
        sched.book("online", name, now=THU)
    sched.join_waitlist("online", "W", now=THU)
    bigger = qq.Office("preview", CAL, [OnlineQuota(2, lead_days=1, horizon_days=5)])
    sched = qq.Scheduler(bigger, storage, secret=SECRET)
    before = dump(storage, "preview")
    preview = sched.preview_close_day(TUE, "banjir", now=THU)
    assert dump(storage, "preview") == before
    assert len(sched.waitlist("online", now=THU)) == 1
    same(preview, sched.close_day(TUE, "banjir", now=THU))
    assert sched.waitlist("online", now=THU) == []
    assert [e.kind for e in sched.events(after=before["events"][-1].seq)] == [
        "day_closed",
        "moved",
        "promoted",
    ]


def test_a_storage_that_cannot_roll_back_is_told_so() -> None:
    """A 0.1-style storage (not a TransactionalStorage) cannot preview."""

    class Plain:
        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def __init__(self) -> None:
            self._inner = MemoryStorage()

    sched = qq.Scheduler(busy_office(), MemoryStorage(), secret=SECRET)
    sched._storage = Plain()  # type: ignore[assignment]
    with pytest.raises(qq.ConfigurationError, match="cannot preview"):
        sched.preview_close_day(MON, "banjir", now=THU)


@st.composite
def _requests(draw: st.DrawFn) -> list[tuple[int | None, int | None, int]]:
    """Online requests: a preferred day (working days from Friday) or none, a session or
    none, places."""
    return draw(
        st.lists(
            st.tuples(
                st.one_of(st.none(), st.integers(0, 6)),
                st.one_of(st.none(), st.integers(0, 1)),
                st.integers(1, 2),
            ),
            max_size=25,
        )
    )


@given(requests=_requests(), closed=st.integers(0, 6), walk_ins=st.integers(0, 5))
def test_preview_equals_close_day_for_random_bookings(
    requests: list[tuple[int | None, int | None, int]], closed: int, walk_ins: int
) -> None:
    """Property (memory): any bookings, any day closed: the preview is close_day's result
    and the storage is the same before and after it."""
    sched = qq.Scheduler(busy_office(), MemoryStorage(), secret=SECRET)
    working = list(CAL.working_days(FRI, FRI + timedelta(14)))
    for i, (day, session, places) in enumerate(requests):
        with contextlib.suppress(qq.RefusalError):
            sched.book(
                "online",
                f"C{i}",
                now=THU,
                preferred_date=None if day is None else working[day],
                preferred_time=None if session is None else SESSIONS[session].start,
                places=places,
            )
    for i in range(walk_ins):
        with contextlib.suppress(qq.RefusalError):
            sched.book("walk_in", now=wib(2020, 6, 5, 8, i))
    at = wib(2020, 6, 5, 9)
    before = dump(sched.storage, "preview")
    try:
        preview: list[qq.Booking] | type[qq.QuotaExhausted] = sched.preview_close_day(
            working[closed], "banjir", now=at
        )
    except qq.QuotaExhausted:
        preview = qq.QuotaExhausted
    assert dump(sched.storage, "preview") == before
    if preview is qq.QuotaExhausted:
        with pytest.raises(qq.QuotaExhausted):
            sched.close_day(working[closed], "banjir", now=at)
    else:
        assert isinstance(preview, list)
        same(preview, sched.close_day(working[closed], "banjir", now=at))


# -- preview_office ---------------------------------------------------------------------------


def simple(online: int, **calendar: Any) -> qq.Office:
    cal = CAL.with_closures(calendar["closures"]) if calendar else CAL
    return qq.Office("preview", cal, [OnlineQuota(online, lead_days=1, horizon_days=20)])


def test_lower_capacity_moves_the_highest_numbers(factory: Callable[[], Storage]) -> None:
    """20 -> 10 with 14 booked on Monday: 4 over, numbers 11 to 14 move (by hand: 14 - 10)."""
    sched = qq.Scheduler(simple(20), factory(), secret=SECRET)
    for i in range(14):
        sched.book("online", f"C{i}", now=THU, preferred_date=MON)
    for i in range(3):
        sched.book("online", f"F{i}", now=THU, preferred_date=FRI)  # 3 fit in 10 on Friday
    before = dump(sched.storage, "preview")
    preview = sched.preview_office(simple(10), now=THU)
    assert dump(sched.storage, "preview") == before
    assert preview.over == (qq.OverCapacity(MON, "c:online", 14, 10),)
    assert preview.over[0].over == 4
    assert [(b.day, b.number) for b in preview.to_move] == [(MON, n) for n in (11, 12, 13, 14)]
    assert preview.days == (MON,)
    assert not preview.fits
    assert preview.since == THU.date()
    assert sched.preview_office(simple(14), now=THU).fits
    assert sched.preview_office(simple(20), now=THU) == qq.OfficePreview("preview", THU.date())


def test_a_day_the_new_calendar_closes_gives_nothing(factory: Callable[[], Storage]) -> None:
    """A renovation on Monday in the new file: every Monday booking is over (capacity 0);
    past days are not looked at."""
    sched = qq.Scheduler(simple(20), factory(), secret=SECRET)
    booked = [sched.book("online", f"C{i}", now=THU, preferred_date=MON) for i in range(3)]
    preview = sched.preview_office(simple(20, closures={MON: "renovasi"}), now=THU)
    assert preview.over == (qq.OverCapacity(MON, "c:online", 3, 0),)
    assert [b.id for b in preview.to_move] == [b.id for b in booked]
    later = sched.preview_office(simple(20, closures={MON: "renovasi"}), now=wib(2020, 6, 9))
    assert later.fits
    assert later.since == TUE


def test_sessions_move_only_what_is_over_and_count_a_booking_once(
    factory: Callable[[], Storage],
) -> None:
    """Friday: numbers 1-3 in 08:00, 4-6 in 08:30. New file: 08:00 takes 1 and the day 4.
    By hand: 08:00 is 2 over (3 and 2 move), which also brings the day from 6 to 4: two
    bookings move, not four."""
    sched = qq.Scheduler(busy_office(), factory(), secret=SECRET)
    got = [sched.book("online", f"C{i}", now=THU) for i in range(6)]
    assert [(b.day, b.number, b.window) for b in got[::3]] == [
        (FRI, 1, (time(8), time(8, 30))),
        (FRI, 4, (time(8, 30), time(9))),
    ]
    new = qq.Office(
        "preview",
        CAL,
        [
            OnlineQuota(
                4,
                lead_days=1,
                horizon_days=20,
                sessions=(qq.Session(time(8), time(8, 30), 1), SESSIONS[1]),
            ),
            WalkInQuota(4, opens=time(7, 30), closes=time(12)),
        ],
        pools=[qq.Pool("loket", 9, ["online", "walk_in"])],
    )
    preview = sched.preview_office(new, now=THU)
    assert preview.over == (
        qq.OverCapacity(FRI, "c:online", 6, 4),
        qq.OverCapacity(FRI, "s:online@08:00", 3, 1),
    )
    assert [b.number for b in preview.to_move] == [2, 3]


def test_a_removed_session_or_pool_limits_nothing(factory: Callable[[], Storage]) -> None:
    """Without sessions and without the pool, only the day counters are compared: 4 of 6
    fits; at 3 a day, number 4 moves (the sessions' counters are not reported)."""
    sched = qq.Scheduler(busy_office(), factory(), secret=SECRET)
    for i in range(4):
        sched.book("online", f"C{i}", now=THU)

    def plain(online: int) -> qq.Office:
        return qq.Office(
            "preview",
            CAL,
            [
                OnlineQuota(online, lead_days=1, horizon_days=20),
                WalkInQuota(4, opens=time(7, 30), closes=time(12)),
            ],
        )

    assert sched.preview_office(plain(6), now=THU).fits
    preview = sched.preview_office(plain(3), now=THU)
    assert preview.over == (qq.OverCapacity(FRI, "c:online", 4, 3),)
    assert [b.number for b in preview.to_move] == [4]


def test_a_removed_channel_gives_nothing(factory: Callable[[], Storage]) -> None:
    """A channel the new file no longer has: its bookings are over (capacity 0)."""
    sched = qq.Scheduler(busy_office(), factory(), secret=SECRET)
    sched.book("walk_in", now=wib(2020, 6, 5, 8))
    preview = sched.preview_office(simple(20), now=wib(2020, 6, 5, 9))
    assert preview.over == (qq.OverCapacity(FRI, "c:walk_in", 1, 0),)
    assert [b.channel for b in preview.to_move] == ["walk_in"]


def test_a_smaller_pool_moves_the_last_numbers_of_its_channels(
    factory: Callable[[], Storage],
) -> None:
    """Friday: online 1-3 (a household of 2 as number 2: 4 places) and walk-ins 1-3 at the
    door: the pool holds 7. A pool of 4 in the new file: 3 over. By hand, the last numbers
    first (number 3 of the walk-ins before number 3 online): walk-in 3, online 3 (1 each),
    then walk-in 2: 3 places."""
    sched = qq.Scheduler(busy_office(), factory(), secret=SECRET)
    for i in range(3):
        sched.book("online", f"C{i}", now=THU, places=2 if i == 1 else 1)
    for i in range(3):
        sched.book("walk_in", now=wib(2020, 6, 5, 8, i))
    friday = wib(2020, 6, 5, 9)
    new = attrs.evolve(busy_office(), pools=(qq.Pool("loket", 4, ["online", "walk_in"]),))
    preview = sched.preview_office(new, now=friday)
    assert preview.over == (qq.OverCapacity(FRI, "p:loket", 7, 4),)
    assert [(b.channel, b.number) for b in preview.to_move] == [
        ("online", 3),
        ("walk_in", 2),
        ("walk_in", 3),
    ]


def test_checked_in_bookings_count_but_never_move(factory: Callable[[], Storage]) -> None:
    """Today, 3 booked and checked in, 2 more booked; capacity 2 in the new file: 3 over,
    only the two still waiting can move."""
    sched = qq.Scheduler(simple(20), factory(), secret=SECRET)
    got = [sched.book("online", f"C{i}", now=THU, preferred_date=FRI) for i in range(5)]
    friday = wib(2020, 6, 5, 8)
    for b in got[:3]:
        sched.check_in(b.id, now=friday)
    preview = sched.preview_office(simple(2), now=friday)
    assert preview.over == (qq.OverCapacity(FRI, "c:online", 5, 2),)
    assert [b.number for b in preview.to_move] == [4, 5]


def test_another_office_is_refused() -> None:
    """A file of another office is not a preview of this one."""
    sched = qq.Scheduler(simple(20), MemoryStorage(), secret=SECRET)
    other = qq.Office("elsewhere", CAL, [OnlineQuota(10)])
    with pytest.raises(qq.ConfigurationError, match="elsewhere"):
        sched.preview_office(other, now=THU)
    with pytest.raises(qq.ConfigurationError):
        sched.preview_office("preview.toml", now=THU)  # type: ignore[arg-type]
