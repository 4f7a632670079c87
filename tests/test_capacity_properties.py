"""Hypothesis: any sequence of bookings (households, sessions, a shared pool, walk-ins taking
unused online places), cancellations and moves keeps every counter equal to the places its
active bookings hold and within its capacity, and never refuses while a candidate has room.

The model recounts everything from the bookings the scheduler acknowledged; it shares no
code with the engine.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage

NOW = wib(2020, 6, 4, 10, 30)  # Thursday, after walk-ins may take unused online places
TODAY = NOW.date()
DAYS = [TODAY + timedelta(days=i) for i in range(0, 8)]
SESSIONS = (qq.Session(time(8), time(9), 2), qq.Session(time(9), time(10), 2))
POOL = qq.Pool("loket", 5, ["online", "priority"])
CAPS = {"c:online": 3, "c:priority": 3, "c:walk_in": 2, "p:loket": 5}
for s in SESSIONS:
    CAPS[f"s:online@{s.key}"] = 2


def office() -> qq.Office:
    return qq.Office(
        "prop",
        qq.WorkingCalendar(tz="Asia/Jakarta"),
        [
            OnlineQuota(3, lead_days=0, horizon_days=6, per_citizen=None, sessions=SESSIONS),
            OnlineQuota(3, lead_days=0, horizon_days=6, per_citizen=None, channel="priority",
                        prefix="P"),
            WalkInQuota(2, per_citizen=None, takes_unused={"online": time(10)}),
        ],
        pools=[POOL],
    )  # fmt: skip


op = st.one_of(
    st.tuples(
        st.just("book"),
        st.sampled_from(["online", "priority", "walk_in"]),
        st.integers(1, 3),
        st.none() | st.sampled_from([time(8), time(9)]),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("move"), st.integers(0, 50)),
)


def _check(sched: qq.Scheduler, storage: Storage, acked: dict[str, qq.Booking]) -> None:
    """Counters equal the model's recount, none over capacity, numbers unique."""
    model: Counter[tuple[str, date]] = Counter()
    numbers: Counter[tuple[str, date, int]] = Counter()
    for b in acked.values():
        current = sched.get(b.id)
        acked[b.id] = current
        numbers[(current.channel, current.day, current.number)] += 1
        if current.is_active:
            for scope in current.charges or (f"c:{current.channel}",):  # (): its own
                model[(scope, current.day)] += current.places
    assert max(numbers.values(), default=1) == 1
    reader: Any = storage
    for scope, cap in CAPS.items():
        stored = reader.counter_use("prop", scope, DAYS[0], DAYS[-1] + timedelta(days=1))
        expected = {d: n for (s, d), n in model.items() if s == scope and n}
        assert stored == expected, scope
        assert all(n <= cap for n in stored.values()), scope


def _no_room(sched: qq.Scheduler, channel: str, places: int, start: time | None) -> bool:
    """Whether the model agrees that no candidate had room for ``places``."""
    last = TODAY if channel == "walk_in" else TODAY + timedelta(days=6)
    for day in sched.availability(channel, TODAY, last + timedelta(days=1), now=NOW):
        if not day.is_open:
            continue
        if day.sessions:
            rooms = [s.remaining for s in day.sessions if start is None or s.start == start]
            if day.day == TODAY:  # sessions of today that have ended are not candidates
                rooms = [
                    s.remaining
                    for s in day.sessions
                    if s.end > NOW.time().replace(tzinfo=None)
                    and (start is None or s.start == start)
                ]
            if any(r >= places for r in rooms):
                return False
        elif day.remaining >= places:
            return False
    if channel == "walk_in":  # the unused online places of today, and the pool online is in
        (online,) = sched.availability("online", TODAY, TODAY + timedelta(days=1), now=NOW)
        storage: Any = sched.storage
        pooled = storage.counter_use("prop", "p:loket", TODAY, TODAY + timedelta(days=1))
        room = min(online.capacity - online.booked, CAPS["p:loket"] - pooled.get(TODAY, 0))
        if online.is_open and room >= places:
            return False
    return True


def _run(storage: Storage, ops: list[tuple[Any, ...]]) -> None:
    sched = qq.Scheduler(office(), storage, secret=SECRET)
    acked: dict[str, qq.Booking] = {}
    order: list[str] = []
    for i, step in enumerate(ops):
        if step[0] == "book":
            _, channel, places, start = step
            if channel != "online":  # only online has sessions
                start = None
            try:
                b = sched.book(channel, f"C{i}", now=NOW, places=places, preferred_time=start)
            except qq.QuotaExhausted:
                assert _no_room(sched, channel, places, start), step
            else:
                acked[b.id] = b
                order.append(b.id)
        elif order:
            target = acked[order[step[1] % len(order)]]
            try:
                if step[0] == "cancel":
                    sched.cancel(target.id, now=NOW)
                else:
                    sched.reschedule(target.id, now=NOW)
            except (qq.InvalidTransition, qq.QuotaExhausted, qq.OutsideServiceHours):
                pass
        _check(sched, storage, acked)


@pytest.mark.parametrize(
    "kind", ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
@settings(max_examples=60, deadline=None)
@given(ops=st.lists(op, min_size=1, max_size=40))
def test_counters_stay_exact_and_refusals_true(kind: str, ops: list[tuple[Any, ...]]) -> None:
    """No counter over capacity or off its bookings' places; no false "full"."""
    if kind == "memory":
        _run(MemoryStorage(), ops)
        return
    if kind == "postgres":
        from _postgres_server import _session_conninfo, drop_schema, unique_schema
        from queue_quota.storage import PostgresStorage

        conninfo = next(_session_conninfo())  # the session's server, started once
        schema = unique_schema()
        pg = PostgresStorage(conninfo, schema=schema, max_size=2)
        try:
            _run(pg, ops)
        finally:
            pg.close()
            drop_schema(conninfo, schema)
        return
    with tempfile.TemporaryDirectory() as tmp:
        storage = SQLiteStorage(Path(tmp) / "p.sqlite3", synchronous="OFF")
        try:
            _run(storage, ops)
        finally:
            storage.close()
