"""Interleavings: two sessions lined up by a barrier, round after round.

Each round the two contenders (threads sharing a storage, or "spawn" processes opening the
same database) wait on one barrier and then act at once: both book the last place; one
books while the other cancels the last booked place; one books while the other closes the
target day. Every outcome is checked against the database read directly.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import _workers as w
from _postgres_server import drop_schema, unique_schema
from queue_quota.storage import MemoryStorage

pytestmark = pytest.mark.slow

ROUNDS = 50
HORIZON = 120
FIRST_DAY = date(2020, 6, 5)  # the first bookable day at w.NOW (Thursday 4 June)

BACKENDS = [
    "memory-threads",
    "sqlite-threads",
    "sqlite-processes",
    pytest.param("postgres-threads", marks=pytest.mark.postgres),
    pytest.param("postgres-processes", marks=pytest.mark.postgres),
]


def round_days(n: int = ROUNDS) -> list[date]:
    """The first ``n`` working days from FIRST_DAY: one per round."""
    cal = w.make_office(1).calendar
    return list(cal.working_days(FIRST_DAY, FIRST_DAY + timedelta(days=3 * n)))[:n]


class Arena:
    """Two contenders, threads or processes, running one command each per round."""

    def __init__(self, backend: str, spec: dict[str, Any], capacity: int) -> None:
        self.backend = backend
        self.spec = spec
        self.capacity = capacity
        kind, how = backend.split("-")
        # The test's own session: sets days up and reads them through the API.
        self.admin = w.qq.Scheduler(
            w.make_office(capacity, HORIZON),
            spec["storage"] if kind == "memory" else w.open_storage(spec),
            secret=w.SECRET,
            clock=lambda: w.NOW,
        )
        self.admin.storage.migrate()
        self.workers: list[Any] = []
        if how == "threads":
            self.barrier: Any = threading.Barrier(2)
            self.commands: list[Any] = [queue.Queue(), queue.Queue()]
            self.results: Any = queue.Queue()
            for i in range(2):
                sched = w.qq.Scheduler(
                    w.make_office(capacity, HORIZON),
                    spec["storage"] if kind == "memory" else w.open_storage(spec),
                    secret=w.SECRET,
                    clock=lambda: w.NOW,
                )
                t = threading.Thread(
                    target=w.contender_loop,
                    args=(sched, self.commands[i], self.results, self.barrier),
                    daemon=True,
                )
                t.start()
                self.workers.append(t)
        else:
            ctx = multiprocessing.get_context("spawn")
            self.barrier = ctx.Barrier(2)
            self.commands = [ctx.Queue(), ctx.Queue()]
            self.results = ctx.Queue()
            for i in range(2):
                p = ctx.Process(
                    target=w.contender_main,
                    args=(spec, capacity, HORIZON, self.commands[i], self.results, self.barrier),
                )
                p.start()
                self.workers.append(p)
            ready = [self.results.get(timeout=90) for _ in range(2)]
            assert all("ready" in r for r in ready), ready

    def round(self, r: int, first: dict[str, Any], second: dict[str, Any]) -> list[dict[str, Any]]:
        """Run ``first`` and ``second`` at once; their outcomes, in that order."""
        for who, (q, cmd) in enumerate(zip(self.commands, (first, second), strict=True)):
            q.put({**cmd, "round": r, "who": who})
        got = [self.results.get(timeout=90) for _ in range(2)]
        return sorted(got, key=lambda g: g["who"])

    def snapshot(self) -> dict[str, Any]:
        return w.snapshot(self.spec)

    def close(self) -> None:
        for q in self.commands:
            q.put(None)
        for worker in self.workers:
            worker.join(timeout=60)
        if isinstance(self.workers[0], multiprocessing.process.BaseProcess):
            assert [p.exitcode for p in self.workers] == [0, 0]
        self.admin.storage.close()


@pytest.fixture
def arena_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The storage of one backend (fresh), as a spec the contenders can open."""
    backend: str = request.param
    kind = backend.split("-")[0]
    if kind == "memory":
        yield {"kind": "memory", "storage": MemoryStorage()}
    elif kind == "sqlite":
        yield {"kind": "sqlite", "path": str(tmp_path / "race.sqlite3")}
    else:
        conninfo = request.getfixturevalue("postgres_conninfo")
        schema = unique_schema()
        yield {
            "kind": "postgres",
            "conninfo": conninfo,
            "schema": schema,
            "options": {"min_size": 1, "max_size": 2},
        }
        drop_schema(conninfo, schema)


def make_arena(request: pytest.FixtureRequest, spec: dict[str, Any], capacity: int) -> Arena:
    return Arena(request.node.callspec.params["arena_spec"], spec, capacity)


def fill(arena: Arena, day: date, n: int, tag: str) -> list[w.qq.Booking]:
    """Book ``n`` places on ``day`` from the test's own session."""
    return [arena.admin.book("online", f"{tag}-{day}-{i}", preferred_date=day) for i in range(n)]


def assert_invariants(label: str, arena: Arena, capacity: int) -> dict[str, int]:
    inv = w.check_invariants(arena.snapshot(), capacity)
    assert inv == dict.fromkeys(inv, 0), (label, inv)
    return inv


@pytest.mark.parametrize("arena_spec", BACKENDS, indirect=True)
def test_two_sessions_race_for_the_last_place(
    request: pytest.FixtureRequest, arena_spec: dict[str, Any]
) -> None:
    """50 rounds, two sessions book a day's last place at once: one wins, one QuotaExhausted."""
    capacity = 3
    arena = make_arena(request, arena_spec, capacity)
    t0 = time.monotonic()
    wins: Counter[str] = Counter()
    try:
        for r, day in enumerate(round_days()):
            fill(arena, day, capacity - 1, "pre")
            outcomes = arena.round(
                r,
                {"op": "book", "citizen": f"a-{r}", "day": day.isoformat()},
                {"op": "book", "citizen": f"b-{r}", "day": day.isoformat()},
            )
            ok = [o for o in outcomes if o["ok"]]
            refused = [o for o in outcomes if not o["ok"]]
            assert len(ok) == 1, outcomes
            assert refused[0]["error"] == "QuotaExhausted", outcomes
            assert ok[0]["booking"]["day"] == day.isoformat()
            assert ok[0]["booking"]["number"] == capacity
            wins["first" if ok[0]["who"] == 0 else "second"] += 1
        snap = arena.snapshot()
        per_day = Counter(b["day"] for b in snap["bookings"].values() if b["status"] in w.ACTIVE)
        assert set(per_day.values()) == {capacity}
        inv = assert_invariants("last place", arena, capacity)
    finally:
        arena.close()
    print(
        f"\n[last place {arena.backend}] rounds={ROUNDS} one_winner={sum(wins.values())} "
        f"wins={dict(wins)} refused=QuotaExhausted×{ROUNDS} "
        f"overbooked={inv['overbooked']} repeated_numbers={inv['repeated_numbers']} "
        f"counter_mismatch={inv['counter_mismatch']} seconds={time.monotonic() - t0:.1f}"
    )


@pytest.mark.parametrize("arena_spec", BACKENDS, indirect=True)
def test_booking_races_cancel_of_last_booked_place(
    request: pytest.FixtureRequest, arena_spec: dict[str, Any]
) -> None:
    """A booking racing the cancel of a full day's last place: count always equals actives."""
    capacity = 2
    arena = make_arena(request, arena_spec, capacity)
    t0 = time.monotonic()
    outcomes_seen: Counter[str] = Counter()
    try:
        for r, day in enumerate(round_days()):
            placed = fill(arena, day, capacity, "pre")
            outcomes = arena.round(
                r,
                {"op": "book", "citizen": f"a-{r}", "day": day.isoformat()},
                {"op": "cancel", "id": placed[-1].id},
            )
            booking, cancel = outcomes
            assert cancel["ok"], cancel
            assert cancel["booking"]["status"] == "cancelled"
            active = [b for b in arena.admin.manifest(day) if b.is_active]
            counted = arena.admin.availability("online", day, day + timedelta(days=1))[0]
            assert counted.booked == len(active)
            if booking["ok"]:
                # The cancel came first and the new booking took the freed place.
                assert booking["booking"]["number"] == capacity + 1  # numbers never reused
                assert {b.id for b in active} == {placed[0].id, booking["booking"]["id"]}
                outcomes_seen["booking got the freed place"] += 1
            else:
                # The booking came first, while the place was still taken.
                assert booking["error"] == "QuotaExhausted", booking
                assert [b.id for b in active] == [placed[0].id]
                outcomes_seen["refused while still taken"] += 1
        inv = assert_invariants("cancel race", arena, capacity)
    finally:
        arena.close()
    print(
        f"\n[book vs cancel {arena.backend}] rounds={ROUNDS} outcomes={dict(outcomes_seen)} "
        f"overbooked={inv['overbooked']} counter_mismatch={inv['counter_mismatch']} "
        f"repeated_numbers={inv['repeated_numbers']} seconds={time.monotonic() - t0:.1f}"
    )


@pytest.mark.parametrize("arena_spec", BACKENDS, indirect=True)
def test_booking_races_close_day_of_its_target(
    request: pytest.FixtureRequest, arena_spec: dict[str, Any]
) -> None:
    """A booking racing close_day of its day: moved with the day, placed elsewhere, or refused."""
    capacity = 100
    arena = make_arena(request, arena_spec, capacity)
    t0 = time.monotonic()
    outcomes_seen: Counter[str] = Counter()
    mine: dict[str, str] = {}
    try:
        for r, day in enumerate(round_days()):
            # Even rounds: the earliest day with room (which is `day`); odd: exactly `day`.
            preferred = r % 2 == 1
            cmd = {"op": "book", "citizen": f"a-{r}", "key": f"k-{r}"}
            if preferred:
                cmd["day"] = day.isoformat()
            booking, closing = arena.round(
                r, cmd, {"op": "close_day", "day": day.isoformat(), "reason": f"race {r}"}
            )
            assert closing["ok"], closing
            moved = {m["id"]: m for m in closing["moved"]}
            if booking["ok"]:
                b = booking["booking"]
                mine[b["id"]] = day.isoformat()
                if b["day"] == day.isoformat():
                    # Booked first, then moved by the closure (same id, a new day and number).
                    assert b["id"] in moved, (booking, closing)
                    assert moved[b["id"]]["day"] > day.isoformat()
                    assert arena.admin.get(b["id"]).day.isoformat() == moved[b["id"]]["day"]
                    outcomes_seen["booked then moved"] += 1
                else:
                    # The closure came first: placed on a later day, never moved by it.
                    assert not preferred
                    assert b["id"] not in moved
                    assert b["day"] > day.isoformat()
                    outcomes_seen["placed on another day"] += 1
            else:
                # Only an exact day can be refused: it closed first.
                assert preferred, booking
                assert booking["error"] in ("DayClosed", "QuotaExhausted"), booking
                outcomes_seen["refused (day closed)"] += 1
            assert not [b for b in arena.admin.manifest(day) if b.is_active]
        snap = arena.snapshot()
        inv = assert_invariants("close race", arena, capacity)
        closed = {d for _, d in snap["closures"]}
        assert len(closed) == ROUNDS
        left_on_closed = sum(
            1 for b in snap["bookings"].values() if b["status"] in w.ACTIVE and b["day"] in closed
        )
        lost = sum(
            1
            for bid in mine
            if bid not in snap["bookings"] or snap["bookings"][bid]["status"] != "booked"
        )
        assert left_on_closed == lost == 0
    finally:
        arena.close()
    print(
        f"\n[book vs close_day {arena.backend}] rounds={ROUNDS} outcomes={dict(outcomes_seen)} "
        f"left_on_closed_day={left_on_closed} lost={lost} overbooked={inv['overbooked']} "
        f"counter_mismatch={inv['counter_mismatch']} seconds={time.monotonic() - t0:.1f}"
    )
