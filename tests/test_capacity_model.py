"""The capacity model through the Scheduler: sessions, pools and reserved places,
households, claims, unused online places for walk-ins, the office-wide limit.

Expected numbers are worked out by hand from the office below, not computed by the code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, time
from pathlib import Path

import pytest

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage

THU = wib(2020, 6, 4)  # Thursday 4 June 2020, 09:00 WIB
FRI, MON, TUE = date(2020, 6, 5), date(2020, 6, 8), date(2020, 6, 9)
CAL = qq.WorkingCalendar(tz="Asia/Jakarta")  # Mon-Fri, no holidays: days easy to follow


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Storage]]:
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
        made.append(SQLiteStorage(tmp_path / "model.sqlite3"))
        return made[-1]

    yield open_sqlite
    for s in made:
        s.close()


def sched_of(factory: Callable[[], Storage], *policies: object, **office: object) -> qq.Scheduler:
    return qq.Scheduler(qq.Office("model", CAL, list(policies), **office), factory(), secret=SECRET)  # type: ignore[arg-type]


# -- sessions -----------------------------------------------------------------------------


SESSIONS = (
    qq.Session(time(8), time(8, 30), 2),
    qq.Session(time(8, 30), time(9), 1),
)


def test_earliest_session_with_room_on_the_earliest_day(factory: Callable[[], Storage]) -> None:
    """2 + 1 places a day in two windows (day capacity 5 does not bind): 08:00 twice, 08:30,
    then Monday (Friday is full though the day counter is at 3 of 5)."""
    sched = sched_of(factory, OnlineQuota(5, sessions=SESSIONS))
    got = [sched.book("online", f"C{i}", now=THU) for i in range(4)]
    assert [(b.day, b.window, b.number) for b in got] == [
        (FRI, (time(8), time(8, 30)), 1),
        (FRI, (time(8), time(8, 30)), 2),
        (FRI, (time(8, 30), time(9)), 3),
        (MON, (time(8), time(8, 30)), 1),
    ]


def test_preferred_time_takes_that_session(factory: Callable[[], Storage]) -> None:
    """``preferred_time`` picks the session starting then; full is `QuotaExhausted`; a time
    no session starts at is bad input."""
    sched = sched_of(factory, OnlineQuota(5, sessions=SESSIONS))
    b = sched.book("online", "C1", now=THU, preferred_time=time(8, 30))
    assert (b.day, b.window) == (FRI, (time(8, 30), time(9)))
    c = sched.book("online", "C2", now=THU, preferred_time=time(8, 30))
    assert (c.day, c.window) == (MON, (time(8, 30), time(9)))
    with pytest.raises(qq.QuotaExhausted):
        sched.book("online", "C3", now=THU, preferred_date=FRI, preferred_time=time(8, 30))
    with pytest.raises(qq.ConfigurationError) as caught:
        sched.book("online", "C4", now=THU, preferred_time=time(10))
    assert caught.value.message_key == "configuration_error.no_session"


def test_day_capacity_binds_below_the_sessions(factory: Callable[[], Storage]) -> None:
    """Sessions of 2 + 1 under a day of 2: the third goes to Monday."""
    sched = sched_of(factory, OnlineQuota(2, sessions=SESSIONS))
    days = [sched.book("online", f"C{i}", now=THU).day for i in range(3)]
    assert days == [FRI, FRI, MON]


def test_availability_and_manifest_by_session(factory: Callable[[], Storage]) -> None:
    """Per-session rows in `availability`; the manifest in session order, then number."""
    sched = sched_of(factory, OnlineQuota(5, sessions=SESSIONS))
    late = sched.book("online", "C1", now=THU, preferred_time=time(8, 30))
    early = sched.book("online", "C2", now=THU)
    (fri,) = sched.availability("online", FRI, date(2020, 6, 6), now=THU)
    assert (fri.capacity, fri.booked, fri.remaining) == (5, 2, 1)
    assert [(s.start, s.capacity, s.booked, s.remaining) for s in fri.sessions] == [
        (time(8), 2, 1, 1),
        (time(8, 30), 1, 1, 0),
    ]
    assert [b.id for b in sched.manifest(FRI)] == [early.id, late.id]
    assert (late.number, early.number) == (1, 2)


def test_walk_in_sessions_that_have_ended_are_not_given(factory: Callable[[], Storage]) -> None:
    """At 08:40 a walk-in is given the 08:30 window, never the 08:00 one."""
    walk = WalkInQuota(10, opens=time(8), closes=time(12), sessions=SESSIONS)
    sched = sched_of(factory, walk)
    b = sched.book("walk_in", None, now=wib(2020, 6, 4, 8, 40))
    assert b.window == (time(8, 30), time(9))
    with pytest.raises(qq.QuotaExhausted):
        sched.book("walk_in", None, now=wib(2020, 6, 4, 8, 45))


# -- pools and reserved places ---------------------------------------------------------------


def reserved(factory: Callable[[], Storage]) -> qq.Scheduler:
    """Online 25 and priority 30 under one pool of 30 (the canonical example)."""
    return sched_of(
        factory,
        OnlineQuota(25, per_citizen=None),
        OnlineQuota(30, channel="priority", prefix="P", per_citizen=None),
        pools=[qq.Pool("loket", 30, ["online", "priority"])],
    )


def test_online_never_takes_the_reserved_places(factory: Callable[[], Storage]) -> None:
    """26 online registrations: 25 on Friday, the 26th on Monday; 5 priority fit Friday,
    the 6th goes to Monday."""
    sched = reserved(factory)
    online = [sched.book("online", f"O{i}", now=THU).day for i in range(26)]
    assert online == [FRI] * 25 + [MON]
    priority = [sched.book("priority", f"P{i}", now=THU).day for i in range(6)]
    assert priority == [FRI] * 5 + [MON]
    (fri,) = sched.availability("priority", FRI, date(2020, 6, 6), now=THU)
    assert (fri.booked, fri.remaining) == (5, 0)


def test_priority_may_take_every_place_of_the_pool(factory: Callable[[], Storage]) -> None:
    """30 priority bookings fill Friday; online then has no room on Friday at all."""
    sched = reserved(factory)
    assert {sched.book("priority", f"P{i}", now=THU).day for i in range(30)} == {FRI}
    assert sched.book("online", "O1", now=THU).day == MON
    (fri,) = sched.availability("online", FRI, date(2020, 6, 6), now=THU)
    assert (fri.capacity, fri.booked, fri.remaining, fri.bookable) == (25, 0, 0, False)


def test_a_cancel_frees_the_pool_for_either_channel(factory: Callable[[], Storage]) -> None:
    """A priority cancellation on a full pool gives the place to the next online booking."""
    sched = reserved(factory)
    taken = [sched.book("priority", f"P{i}", now=THU) for i in range(30)]
    sched.cancel(taken[0].id, now=THU)
    assert sched.book("online", "O1", now=THU).day == FRI
    assert sched.book("online", "O2", now=THU).day == MON


# -- households ------------------------------------------------------------------------------


def test_a_household_takes_several_places_under_one_number(
    factory: Callable[[], Storage],
) -> None:
    """3 places of 5: one number; the next household of 3 goes to Monday; a cancel frees 3."""
    sched = sched_of(factory, OnlineQuota(5, per_citizen=None))
    family = sched.book("online", "H1", now=THU, places=3)
    assert (family.day, family.number, family.places) == (FRI, 1, 3)
    assert sched.book("online", "H2", now=THU, places=3).day == MON
    assert sched.book("online", "S1", now=THU, places=2).day == FRI
    assert sched.availability("online", FRI, date(2020, 6, 6), now=THU)[0].remaining == 0
    sched.cancel(family.id, now=THU)
    assert sched.availability("online", FRI, date(2020, 6, 6), now=THU)[0].remaining == 3
    again = sched.book("online", "H3", now=THU, places=3)
    assert (again.day, again.number) == (FRI, 3)


def test_a_policy_caps_places_and_bad_places_are_refused(factory: Callable[[], Storage]) -> None:
    """``max_places`` caps a household; 0, -1, True or 2.5 places are bad input."""
    sched = sched_of(factory, OnlineQuota(10, max_places=4))
    with pytest.raises(qq.ConfigurationError) as caught:
        sched.book("online", "H1", now=THU, places=5)
    assert caught.value.message_key == "configuration_error.too_many_places"
    for bad in (0, -1, True, 2.5):
        with pytest.raises(qq.ConfigurationError):
            sched.book("online", "H1", now=THU, places=bad)  # type: ignore[arg-type]
    assert sched.manifest(FRI) == []


def test_places_are_part_of_the_idempotent_request(factory: Callable[[], Storage]) -> None:
    """The same key with another number of places is a conflict."""
    sched = sched_of(factory, OnlineQuota(10, per_citizen=None))
    b = sched.book("online", "H1", now=THU, places=2, idempotency_key="k")
    assert sched.book("online", "H1", now=THU, places=2, idempotency_key="k") == b
    with pytest.raises(qq.IdempotencyConflict):
        sched.book("online", "H1", now=THU, places=3, idempotency_key="k")


# -- claims ----------------------------------------------------------------------------------


def test_a_channel_reserved_for_a_claim(factory: Callable[[], Storage]) -> None:
    """Without the claim: `NotEligible`; with it: booked; claims are never stored."""
    sched = sched_of(
        factory,
        OnlineQuota(5),
        OnlineQuota(5, channel="priority", prefix="P", requires_claim="group"),
    )
    with pytest.raises(qq.NotEligible) as caught:
        sched.book("priority", "C1", now=THU)
    assert (caught.value.code, caught.value.claim) == ("not_eligible", "group")
    b = sched.book("priority", "C1", now=THU, claims={"group": "lansia-3328011234"})
    assert b.channel == "priority"
    assert "lansia-3328011234" not in repr(sched.get(b.id))


# -- unused online places for the door ---------------------------------------------------------


def test_walk_ins_take_unused_online_places_from_ten(factory: Callable[[], Storage]) -> None:
    """Walk-ins 2 a day; from 10:00 they may also take today's unused online places."""
    sched = sched_of(
        factory,
        OnlineQuota(3, lead_days=0),
        WalkInQuota(2, opens=time(8), closes=time(12), takes_unused={"online": time(10)}),
    )
    sched.book("online", "O1", now=wib(2020, 6, 4, 7))  # today, online: 1 of 3
    early = [sched.book("walk_in", None, now=wib(2020, 6, 4, 9)) for _ in range(2)]
    with pytest.raises(qq.QuotaExhausted):
        sched.book("walk_in", None, now=wib(2020, 6, 4, 9, 30))
    late = [sched.book("walk_in", None, now=wib(2020, 6, 4, 10)) for _ in range(2)]
    assert [b.number for b in early + late] == [1, 2, 3, 4]
    with pytest.raises(qq.QuotaExhausted):
        sched.book("walk_in", None, now=wib(2020, 6, 4, 10, 30))
    assert sched.availability("online", THU.date(), FRI, now=THU)[0].remaining == 0
    sched.cancel(late[0].id, now=THU)  # gives the online place back
    assert sched.book("online", "O2", now=wib(2020, 6, 4, 11)).day == THU.date()


# -- the office-wide limit ----------------------------------------------------------------------


def test_an_office_wide_limit_over_channels(factory: Callable[[], Storage]) -> None:
    """``Office(per_citizen=1)``: one active booking over every channel of the office."""
    sched = sched_of(
        factory,
        OnlineQuota(5, per_citizen=None),
        WalkInQuota(5),
        per_citizen=1,
    )
    sched.book("online", "C1", now=THU)
    with pytest.raises(qq.AlreadyBooked) as caught:
        sched.book("walk_in", "C1", now=THU)
    assert caught.value.channel is None
    assert sched.book("walk_in", "C2", now=THU).number == 1


def test_storages_without_counters_refuse_such_offices() -> None:
    """A storage that cannot take several counters is refused when the scheduler is made."""

    class OneCounter(MemoryStorage):
        supports_counters = False

    office = qq.Office("model", CAL, [OnlineQuota(5, sessions=SESSIONS)])
    with pytest.raises(qq.ConfigurationError):
        qq.Scheduler(office, OneCounter())


def test_tickets_show_the_window_and_the_places() -> None:
    """The citizen's ticket text says when to come (with the zone) and for how many."""
    from queue_quota.i18n import ticket_text

    office = qq.Office(
        "model", qq.WorkingCalendar(tz="Asia/Jakarta"), [OnlineQuota(5, sessions=SESSIONS)]
    )
    b = qq.Scheduler(office).book("online", "C1", now=THU, places=2)
    text = ticket_text(b, "id", office=office)
    assert "Jam datang    : 08.00–08.30 WIB" in text
    assert "Jumlah orang  : 2" in text
    assert "Arrive between : 08:00–08:30 WIB" in ticket_text(b, "en", office=office)
    single = qq.Scheduler(qq.Office("plain", CAL, [OnlineQuota(5)])).book("online", "C", now=THU)
    assert "Jam datang" not in ticket_text(single, "id")


def test_the_demos_capacity_part_tells_the_hand_computed_story() -> None:
    """25 online under a pool of 30: a household of 3 and 22 singles fill Friday's online
    places (one single goes to Monday), 5 priority fit Friday, and on Monday walk-ins get
    their 10 plus the 24 online places left unbooked."""
    from queue_quota._demo_capacity import run_capacity_demo

    lines: list[str] = []
    run_capacity_demo(MemoryStorage(), SECRET, lines.append)
    text = "".join(lines)
    assert "A household of 3: one number, A-001, 08:00–10:00 WIB." in text
    assert "Online: 22 more on Friday, then 1 went to Monday 08 June" in text
    assert "Priority: 5 on Friday" in text
    assert "refused (not_eligible)" in text
    assert "08:00–10:00 15/15, 10:00–12:00 10/15; room left 0." in text
    assert "Walk-ins on Monday from 10:00: 34 numbers, their own 10 and the 24" in text


def test_a_booking_on_a_claim_only_channel_can_be_rescheduled(
    factory: Callable[[], Storage],
) -> None:
    """Claims are never stored; a reschedule does not ask for them again."""
    sched = sched_of(
        factory, OnlineQuota(5, channel="priority", prefix="P", requires_claim="group")
    )
    b = sched.book("priority", "C1", now=THU, claims={"group": "lansia"})
    moved = sched.reschedule(b.id, now=THU)
    assert (moved.id, moved.day) == (b.id, MON)
