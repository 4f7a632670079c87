"""Races on the counters of the capacity model, repeated: the last place of a pool wanted by
two channels at once, and a session's last place against a cancel in another session.

Each round releases the competitors together (a barrier) and checks that the outcome is one
the rules allow and that the counters agree with it.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, time
from pathlib import Path

import pytest

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.policies import OnlineQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage

NOW = wib(2020, 6, 4)
FRI = date(2020, 6, 5)
ROUNDS = 30


@pytest.fixture(params=["memory", "sqlite"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[int], Storage]]:
    """Makes a new empty storage per round."""
    made: list[Storage] = []

    def make(i: int) -> Storage:
        storage: Storage = (
            MemoryStorage() if request.param == "memory" else SQLiteStorage(tmp_path / f"{i}.db")
        )
        made.append(storage)
        return storage

    yield make
    for s in made:
        s.close()


def _together(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released at once; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    out: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            out[i] = calls[i]()
        except qq.QueueQuotaError as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_the_last_place_of_a_pool_has_one_winner(fresh: Callable[[int], Storage]) -> None:
    """A pool of 3 with 2 taken: online and priority race for the last place on Friday; one
    gets Friday, the other Monday, and the pool holds exactly 3 on Friday."""
    winners: Counter[str] = Counter()
    for i in range(ROUNDS):
        office = qq.Office(
            "race",
            qq.WorkingCalendar(tz="Asia/Jakarta"),
            [
                OnlineQuota(3, per_citizen=None),
                OnlineQuota(3, channel="priority", prefix="P", per_citizen=None),
            ],
            pools=[qq.Pool("loket", 3, ["online", "priority"])],
        )
        storage = fresh(i)
        sched = qq.Scheduler(office, storage, secret=SECRET)
        sched.book("online", "a", now=NOW)
        sched.book("priority", "b", now=NOW)
        got = _together(
            functools.partial(sched.book, "online", "c", now=NOW),
            functools.partial(sched.book, "priority", "d", now=NOW),
        )
        days = [b.day for b in got if isinstance(b, qq.Booking)]
        assert sorted(days) == [FRI, date(2020, 6, 8)], got
        winner = next(b for b in got if isinstance(b, qq.Booking) and b.day == FRI)
        winners[winner.channel] += 1
        reader = storage
        assert reader.counter_use("race", "p:loket", FRI, date(2020, 6, 6)) == {FRI: 3}  # type: ignore[attr-defined]
    assert sum(winners.values()) == ROUNDS


def test_a_sessions_last_place_against_a_cancel_elsewhere(fresh: Callable[[int], Storage]) -> None:
    """Sessions of 1 and 1 under a day of 2, both taken: a booking asking for 08:00 races
    the cancel of the 09:00 booking. The booking can only go to Monday (08:00 stays full);
    the day counter ends at 1 on Friday whatever the order."""
    sessions = (qq.Session(time(8), time(9), 1), qq.Session(time(9), time(10), 1))
    outcomes: Counter[str] = Counter()
    for i in range(ROUNDS):
        office = qq.Office(
            "race", qq.WorkingCalendar(tz="Asia/Jakarta"), [OnlineQuota(2, sessions=sessions)]
        )
        storage = fresh(i)
        sched = qq.Scheduler(office, storage, secret=SECRET)
        sched.book("online", "a", now=NOW, preferred_time=time(8))
        late = sched.book("online", "b", now=NOW, preferred_time=time(9))
        got = _together(
            functools.partial(sched.book, "online", "c", now=NOW, preferred_time=time(8)),
            functools.partial(sched.cancel, late.id, now=NOW),
        )
        booked, cancelled = got
        assert isinstance(booked, qq.Booking), got
        assert isinstance(cancelled, qq.Booking), got
        assert (booked.day, booked.window) == (date(2020, 6, 8), (time(8), time(9)))
        reader = storage
        assert reader.counter_use("race", "c:online", FRI, date(2020, 6, 6)) == {FRI: 1}  # type: ignore[attr-defined]
        assert reader.counter_use("race", "s:online@09:00", FRI, date(2020, 6, 6)) == {}  # type: ignore[attr-defined]
        outcomes["ok"] += 1
    assert outcomes["ok"] == ROUNDS


def test_a_session_freed_by_a_cancel_is_found_by_a_racing_booking(
    fresh: Callable[[int], Storage],
) -> None:
    """The cancelled booking's own session is asked for: the booking gets Friday 09:00 if
    the cancel committed first, else Monday 09:00; never anything else, and the day's
    count agrees with where it went."""
    sessions = (qq.Session(time(8), time(9), 1), qq.Session(time(9), time(10), 1))
    for i in range(ROUNDS * 2):
        office = qq.Office(
            "race", qq.WorkingCalendar(tz="Asia/Jakarta"), [OnlineQuota(2, sessions=sessions)]
        )
        storage = fresh(i)
        sched = qq.Scheduler(office, storage, secret=SECRET)
        sched.book("online", "a", now=NOW, preferred_time=time(8))
        late = sched.book("online", "b", now=NOW, preferred_time=time(9))
        booked, _ = _together(
            functools.partial(sched.book, "online", "c", now=NOW, preferred_time=time(9)),
            functools.partial(sched.cancel, late.id, now=NOW),
        )
        assert isinstance(booked, qq.Booking)
        assert booked.window == (time(9), time(10))
        assert booked.day in (FRI, date(2020, 6, 8))
        on_friday = sum(1 for b in sched.manifest(FRI) if b.is_active)
        assert on_friday == (2 if booked.day == FRI else 1)
