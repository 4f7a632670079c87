"""Waitlist races with real processes (issue 10): two cancels and two promotions at once
never promote one entry twice or put a counter over capacity; promotion order is joining
order.

An office whose online channel is full over its whole booking window (three working days;
2 a day, or 3 a day in two arrival windows of 2), with a line of entries (households of 1
or 2, some asking for one arrival window, some accepting only the first days). Each round
the test's own session fills every free place, tops the line up, and frees a place or two
*without* a promotion (the storage's ``cancel`` with no promoter: room that appeared
without a release, which only ``promote_waitlist`` gives away); then "spawn" processes,
lined up by a barrier, act at once: two cancel different bookings, two call
``promote_waitlist`` and, in one variant, two leave the line.

The test keeps its own model of the office (counters, bookings, the line) and, after each
round, searches the serial orders of the round's operations for the one whose events are
the ones the database logged and whose answers are the ones the processes got: the
transactions must be serializable, and the database (read directly, not through the
adapter) must then be exactly the model's. Independently of the model, the database is
checked for what must always hold: no entry booked twice, no promoted entry still waiting,
every counter within its capacity and equal to its bookings' places, one ``promoted`` event
per promotion and one ``waitlisted`` per join, seqs 1..N, no citizen ID, ref or ticket in
any event, and single entries that accept any place promoted exactly in joining order.

A last test kills a cancelling process (SIGKILL) before each SQL statement of the cancel
and its promotion, in turn: the database holds both or neither.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from datetime import time as dtime
from pathlib import Path
from typing import Any

import pytest

import _waitlist_worker as wk
import queue_quota as qq
from _postgres_server import drop_schema, unique_schema
from _workers import child_env
from queue_quota.storage import SQLiteStorage

pytestmark = pytest.mark.slow

ROUNDS = 30
LINE = 8  # entries waiting when each race starts
TODAY = wk.NOW.date()
LAST = wk.DAYS[-1]

#: The racers of each variant, by role.
ROLES = {
    "plain": ("cancel", "cancel", "promote", "promote", "leave", "leave"),
    "sessions": ("cancel", "cancel", "promote", "promote"),
}


# -- the test's own model of the office ------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    id: str
    places: int
    time: str | None  # the only arrival window accepted ("HH:MM"), or any
    until: date


#: A booking in the model: day, window start, places, status.
Row = tuple[date, str | None, int, str]
#: An event as the model predicts it: kind, booking id, day (ISO) or None.
Ev = tuple[str, str | None, str | None]


@dataclass
class Model:
    """Counters, bookings and the line, changed the way the documentation says."""

    variant: str
    used: dict[tuple[str, date], int] = field(default_factory=dict)
    bookings: dict[str, Row] = field(default_factory=dict)
    waiting: list[Entry] = field(default_factory=list)

    def copy(self) -> Model:
        return Model(self.variant, dict(self.used), dict(self.bookings), list(self.waiting))

    @staticmethod
    def scopes(window: str | None) -> tuple[str, ...]:
        return ("c:online",) if window is None else ("c:online", f"s:online@{window}")

    def candidates(self) -> list[tuple[date, str | None]]:
        """In order of preference: earliest day, then earliest window."""
        return [(d, w) for d in wk.DAYS for w in wk.WINDOWS[self.variant]]

    def fits(self, day: date, window: str | None, places: int) -> bool:
        cap = wk.CAPACITY[self.variant]
        return all(self.used.get((s, day), 0) + places <= cap[s] for s in self.scopes(window))

    def take(self, booking_id: str, day: date, window: str | None, places: int) -> None:
        assert booking_id not in self.bookings
        for s in self.scopes(window):
            self.used[(s, day)] = self.used.get((s, day), 0) + places
        self.bookings[booking_id] = (day, window, places, "booked")

    def release(self, booking_id: str) -> Ev:
        day, window, places, status = self.bookings[booking_id]
        assert status == "booked"
        for s in self.scopes(window):
            self.used[(s, day)] -= places
        self.bookings[booking_id] = (day, window, places, "cancelled")
        return ("cancelled", booking_id, day.isoformat())

    def first_room(self, places: int, days: Sequence[date], entry: Entry | None) -> Any:
        for day, window in self.candidates():
            if day not in days:
                continue
            if entry is not None and (day > entry.until or entry.time not in (None, window)):
                continue
            if self.fits(day, window, places):
                return day, window
        return None

    def promotion_pass(self, days: Sequence[date]) -> list[Ev]:
        """Every entry, in joining order, that fits a place on ``days`` is booked there."""
        out: list[Ev] = []
        for entry in list(self.waiting):
            assert entry.until >= TODAY  # nothing expires at NOW
            found = self.first_room(entry.places, days, entry)
            if found is not None:
                self.take(entry.id, *found, entry.places)
                self.waiting.remove(entry)
                out.append(("promoted", entry.id, found[0].isoformat()))
        return out

    def apply(self, cmd: dict[str, Any]) -> tuple[list[Ev], dict[str, Any]]:
        """One racer's transaction: the events it writes, and what its caller is told."""
        op = cmd["op"]
        if op == "cancel":
            cancelled = self.release(cmd["id"])
            day = self.bookings[cmd["id"]][0]
            return [cancelled, *self.promotion_pass([day])], {"ok": True}
        if op == "promote":
            events = self.promotion_pass(wk.DAYS)
            return events, {"ok": True, "promoted": [bid for _, bid, _ in events]}
        if op == "leave":
            entry = next((e for e in self.waiting if e.id == cmd["id"]), None)
            if entry is None:
                return [], {"ok": False, "error": "BookingNotFound"}
            self.waiting.remove(entry)
            return [("waitlist_left", entry.id, None)], {"ok": True, "left": entry.id}
        assert op == "noop"
        return [], {"ok": True}


def answered(result: dict[str, Any]) -> dict[str, Any]:
    """What a racer's answer says that the model predicts."""
    return {k: result[k] for k in ("ok", "promoted", "left", "error") if k in result}


def serial_order(
    model: Model, cmds: list[dict[str, Any]], answers: list[dict[str, Any]], logged: list[Ev]
) -> tuple[Model, list[int]] | None:
    """A serial order of ``cmds`` that writes exactly ``logged`` and answers ``answers``
    (and the model after it), or ``None``: what happened is no serial execution."""

    def search(m: Model, left: frozenset[int], pos: int, order: list[int]) -> Any:
        if not left:
            return (m, order) if pos == len(logged) else None
        for i in sorted(left):
            after = m.copy()
            events, answer = after.apply(cmds[i])
            if answer != answers[i] or logged[pos : pos + len(events)] != events:
                continue
            found = search(after, left - {i}, pos + len(events), [*order, i])
            if found is not None:
                return found
        return None

    found: tuple[Model, list[int]] | None = search(model, frozenset(range(len(cmds))), 0, [])
    return found


# -- the database against the model, and against what must always hold ----------------------


def logged_since(db: dict[str, Any], seq: int) -> list[Ev]:
    return [(kind, bid, day) for s, kind, bid, day, _ in db["events"] if s > seq]


def assert_db_is_model(db: dict[str, Any], model: Model, label: str) -> None:
    rows = {
        bid: (date.fromisoformat(b["day"]), b["window"], b["places"], b["status"])
        for bid, b in db["bookings"].items()
    }
    assert rows == model.bookings, label
    assert [e["id"] for _, e in db["waiting"]] == [e.id for e in model.waiting], label
    want = {(s, d.isoformat()): n for (s, d), n in model.used.items() if n}
    assert db["counters"] == want, label


@dataclass
class Joined:
    """What the test gave and was given at each join (for the checks after the races)."""

    entries: dict[str, Entry] = field(default_factory=dict)
    tickets: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)  # citizen IDs, refs, tickets


def check_always(db: dict[str, Any], variant: str, joined: Joined) -> dict[str, int]:
    """What must hold whatever the order of the races, read from the database alone."""
    cap = wk.CAPACITY[variant]
    bookings, events = db["bookings"], db["events"]
    # Every counter within capacity, and equal to the places of its active bookings.
    over = {k: n for k, n in db["counters"].items() if n > cap[k[0]]}
    assert over == {}, over
    held: Counter[tuple[str, str]] = Counter()
    for b in bookings.values():
        if b["status"] in wk.ACTIVE:
            for scope in b["charges"]:
                held[(scope, b["day"])] += b["places"]
    assert db["counters"] == {k: n for k, n in held.items() if n}
    numbers = Counter((b["day"], b["number"]) for b in bookings.values())
    assert max(numbers.values()) == 1, "a number given twice"
    # One `waitlisted` per join; one `promoted` per promoted entry, never twice.
    seqs = [e[0] for e in events]
    assert seqs == list(range(1, len(events) + 1))
    kinds: dict[str, Counter[str]] = {}
    at: dict[tuple[str, str], int] = {}
    for seq, kind, bid, _, _ in events:
        if bid is not None:
            kinds.setdefault(bid, Counter())[kind] += 1
            at[(kind, bid)] = seq
    assert {bid for bid, k in kinds.items() if k["waitlisted"]} == set(joined.entries)
    assert all(k["waitlisted"] <= 1 and k["promoted"] <= 1 for k in kinds.values())
    promoted = {bid for bid, k in kinds.items() if k["promoted"]}
    waiting = {e["id"] for _, e in db["waiting"]}
    # A promoted entry is a booking with the entry's id and ticket, and waits no more.
    assert promoted == set(bookings) & set(joined.entries)
    assert not promoted & waiting, promoted & waiting
    assert all(bookings[bid]["ticket"] == joined.tickets[bid] for bid in promoted)
    assert all(kinds[bid]["booked"] == 0 for bid in promoted)
    for bid in promoted:
        day = bookings[bid]["day"]
        assert date.fromisoformat(day) <= joined.entries[bid].until
        assert bookings[bid]["places"] == joined.entries[bid].places
        asked = joined.entries[bid].time
        assert asked is None or bookings[bid]["window"] == asked
    left = {bid for bid, k in kinds.items() if k["waitlist_left"]}
    assert waiting == set(joined.entries) - promoted - left
    # Single entries that take any place are promoted exactly in joining order: one that
    # joined earlier was promoted (or had left) before a later one was promoted.
    flexible = [
        bid
        for bid in joined.order
        if (e := joined.entries[bid]).places == 1 and e.time is None and e.until == LAST
    ]
    for i, later in enumerate(flexible):
        if later not in promoted:
            continue
        for earlier in flexible[:i]:
            done = [at.get((k, earlier), 10**9) for k in ("promoted", "waitlist_left")]
            assert min(done) < at[("promoted", later)], (earlier, later)
    promoted_order = [bid for _, kind, bid, _, _ in events if kind == "promoted"]
    singles = [bid for bid in promoted_order if bid in set(flexible)]
    assert singles == [bid for bid in flexible if bid in promoted]
    # No personal data in the log.
    text = json.dumps([list(e) for e in events])
    leaked = [s for s in joined.secrets if s in text]
    assert leaked == []
    if db["integrity"] is not None:
        assert db["integrity"] == "ok"
    return {"promoted": len(promoted), "flexible_promoted": len(singles), "left": len(left)}


# -- the races -----------------------------------------------------------------------------


class Racers:
    """One "spawn" process per role, each with its own scheduler and command queue."""

    def __init__(self, spec: dict[str, Any], variant: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.roles = ROLES[variant]
        self.barrier = ctx.Barrier(len(self.roles))
        self.commands = [ctx.Queue() for _ in self.roles]
        self.results = ctx.Queue()
        self.procs = [
            ctx.Process(
                target=wk.racer_main,
                args=(spec, variant, q, self.results, self.barrier),
                daemon=True,
            )
            for q in self.commands
        ]
        for p in self.procs:
            p.start()
        ready = [self.results.get(timeout=120) for _ in self.procs]
        assert all("ready" in r for r in ready), ready

    def run(self, r: int, cmds: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every racer runs its command at once (after the barrier); their answers."""
        for who, (q, cmd) in enumerate(zip(self.commands, cmds, strict=True)):
            q.put({**cmd, "round": r, "who": who})
        got = [self.results.get(timeout=120) for _ in cmds]
        assert {g["round"] for g in got} == {r}
        return sorted(got, key=lambda g: g["who"])

    def close(self) -> None:
        for q in self.commands:
            q.put(None)
        for p in self.procs:
            p.join(timeout=60)
        codes = [p.exitcode for p in self.procs]
        for p in self.procs:
            if p.is_alive():
                p.kill()
        assert codes == [0] * len(self.procs), codes


class Office:
    """The test's own session: sets each round up, step by step, in the model too."""

    def __init__(self, spec: dict[str, Any], variant: str, seed: int) -> None:
        self.spec = spec
        self.variant = variant
        self.rng = random.Random(seed)
        self.sched = wk.make_scheduler(spec, variant)
        self.sched.storage.migrate()
        self.model = Model(variant)
        self.joined = Joined()
        self.citizens = 0
        self.seq = 0  # the last event seq the model accounts for
        self.silent = 0

    def citizen(self) -> str:
        self.citizens += 1
        nik = f"3328{self.citizens:012d}"
        self.joined.secrets |= {nik, self.sched.citizen_ref(nik) or ""}
        return nik

    def expect(self, events: list[Ev], label: str) -> None:
        db = wk.read_db(self.spec)
        assert logged_since(db, self.seq) == events, label
        self.seq += len(events)
        assert_db_is_model(db, self.model, label)

    def fill(self) -> None:
        """Book every free place (a place the line could not use, or the first round)."""
        events: list[Ev] = []
        while True:
            try:
                b = self.sched.book("online", self.citizen(), now=wk.NOW)
            except qq.QuotaExhausted:
                break
            window = None if b.window is None else f"{b.window[0]:%H:%M}"
            assert (b.day, window) == self.model.first_room(1, wk.DAYS, None)
            self.model.take(b.id, b.day, window, 1)
            events.append(("booked", b.id, b.day.isoformat()))
        assert self.model.first_room(1, wk.DAYS, None) is None  # full over the window
        self.expect(events, "fill")

    def top_up(self) -> None:
        """Join entries at the end of the line until LINE wait."""
        events: list[Ev] = []
        while len(self.model.waiting) < LINE:
            places = self.rng.choice([1, 1, 1, 2])
            asked = self.rng.choice(wk.WINDOWS[self.variant] + (None, None))
            until = LAST if self.variant == "sessions" else self.rng.choice([*wk.DAYS, LAST, LAST])
            nik = self.citizen()
            e = self.sched.join_waitlist(
                "online",
                nik,
                now=wk.NOW,
                until=until,
                places=places,
                preferred_time=None if asked is None else dtime.fromisoformat(asked),
            )
            entry = Entry(e.id, places, asked, until)
            assert e.position == len(self.model.waiting) + 1
            self.model.waiting.append(entry)
            self.joined.entries[e.id] = entry
            self.joined.tickets[e.id] = e.ticket
            self.joined.order.append(e.id)
            self.joined.secrets.add(e.ticket)
            events.append(("waitlisted", e.id, None))
        self.expect(events, "join")

    def active(self) -> list[str]:
        return sorted(b for b, row in self.model.bookings.items() if row[3] == "booked")

    def free_silently(self) -> None:
        """Cancel through the storage without a promoter: room only a promotion pass sees."""
        events = []
        for bid in self.rng.sample(self.active(), self.rng.choice([0, 1, 1, 2])):
            self.sched.storage.cancel(
                wk.OFFICE_ID, bid, not_before=TODAY, now=wk.NOW.astimezone(UTC)
            )
            events.append(self.model.release(bid))
            self.silent += 1
        self.expect(events, "silent cancel")

    def commands(self, roles: Sequence[str]) -> list[dict[str, Any]]:
        """The round's commands: two different bookings to cancel, entries near the front
        of the line to leave (the cancels are about to promote them)."""
        cancels = iter(self.rng.sample(self.active(), roles.count("cancel")))
        front = [e.id for e in self.model.waiting[:4]]
        leaves = iter(self.rng.sample(front, min(len(front), roles.count("leave"))))
        cmds: list[dict[str, Any]] = []
        for role in roles:
            if role == "cancel":
                cmds.append({"op": "cancel", "id": next(cancels)})
            elif role == "leave":
                entry_id = next(leaves, None)
                cmds.append({"op": "noop"} if entry_id is None else {"op": "leave", "id": entry_id})
            else:
                cmds.append({"op": "promote"})
        return cmds


def race(spec: dict[str, Any], variant: str, seed: int) -> None:
    office = Office(spec, variant, seed)
    racers = Racers(spec, variant)
    orders: Counter[str] = Counter()
    tally: Counter[str] = Counter()
    t0 = time.monotonic()
    try:
        for r in range(ROUNDS):
            office.fill()
            office.top_up()
            office.free_silently()
            cmds = office.commands(racers.roles)
            answers = racers.run(r, cmds)
            errors = [a for a in answers if not a["ok"] and a.get("error") != "BookingNotFound"]
            assert errors == [], errors
            db = wk.read_db(spec)
            logged = logged_since(db, office.seq)
            found = serial_order(office.model, cmds, [answered(a) for a in answers], logged)
            assert found is not None, (
                f"round {r}: no serial order of {cmds} writes {logged} and answers {answers}"
            )
            office.model, order = found
            office.seq += len(logged)
            assert_db_is_model(db, office.model, f"round {r}")
            orders["".join(cmds[i]["op"][0] for i in order)] += 1
            for a in answers:
                tally["by_promote_waitlist"] += len(a.get("promoted", ()))
                tally["leave_lost_to_promotion"] += a.get("error") == "BookingNotFound"
            tally["promoted"] += sum(1 for kind, _, _ in logged if kind == "promoted")
            check_always(db, variant, office.joined)
    finally:
        racers.close()
        office.sched.storage.close()
    final = check_always(wk.read_db(spec), variant, office.joined)
    print(
        f"\n[waitlist race {spec['kind']} {variant}] rounds={ROUNDS} joined="
        f"{len(office.joined.entries)} silent_frees={office.silent} {dict(tally)} {final} "
        f"distinct_orders={len(orders)} seconds={time.monotonic() - t0:.1f}"
    )
    assert tally["promoted"] >= ROUNDS  # the races promoted, every round or nearly
    assert tally["by_promote_waitlist"] > 0  # promote_waitlist took room, racing the cancels
    assert len(orders) > 1  # the processes really did interleave in more than one way


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh storage the racers open: a SQLite file, or a schema of the throwaway cluster."""
    if request.param == "sqlite":
        path = str(tmp_path / "waitlist.sqlite3")
        SQLiteStorage(path).close()
        yield {"kind": "sqlite", "path": path}
        return
    conninfo = request.getfixturevalue("postgres_conninfo")
    schema = unique_schema()
    yield {
        "kind": "postgres",
        "conninfo": conninfo,
        "schema": schema,
        "options": {"min_size": 1, "max_size": 2},
    }
    drop_schema(conninfo, schema)


def test_cancels_promotions_and_leaves_at_once(spec: dict[str, Any]) -> None:
    """2 a day: two cancels, two promote_waitlist and two leaves at once, round after round;
    households of 2 and entries that accept only the first days wait in the same line."""
    race(spec, "plain", seed=10062020)


def test_cancels_and_promotions_at_once_with_arrival_windows(spec: dict[str, Any]) -> None:
    """3 a day in two windows of 2: two cancels and two promote_waitlist at once; entries
    asking for one window, households of 2, and entries taking any place."""
    race(spec, "sessions", seed=11062020)


# -- SIGKILL before each statement of a cancel and its promotion ---------------------------


@dataclass
class KillScene:
    """A full office, a line (a household of 2, then two singles), and the booking whose
    cancel promotes the first single: the database before and after, as the test sees them."""

    spec: dict[str, Any]
    target: qq.Booking
    household: qq.WaitlistEntry
    single: qq.WaitlistEntry
    third: qq.WaitlistEntry
    before: dict[str, Any]

    @classmethod
    def make(cls, spec: dict[str, Any]) -> KillScene:
        sched = wk.make_scheduler(spec, "plain")
        sched.storage.migrate()
        booked = []
        while True:
            try:
                booked.append(sched.book("online", f"3328{len(booked):012d}", now=wk.NOW))
            except qq.QuotaExhausted:
                break
        household, single, third = (
            sched.join_waitlist("online", f"3329{i:012d}", now=wk.NOW, places=p)
            for i, p in enumerate((2, 1, 1))
        )
        sched.storage.close()
        return cls(spec, booked[0], household, single, third, wk.read_db(spec))

    def state(self) -> str:
        """``"neither"`` (the database as before) or ``"both"`` (asserted in full)."""
        got = wk.read_db(self.spec)
        assert got["integrity"] in (None, "ok")
        if got == self.before:
            return "neither"
        target, single, day = self.target.id, self.single.id, self.target.day.isoformat()
        new = [(kind, bid, d) for _, kind, bid, d, _ in got["events"][len(self.before["events"]) :]]
        assert new == [("cancelled", target, day), ("promoted", single, day)], new
        assert got["bookings"][target]["status"] == "cancelled"
        promoted = got["bookings"][single]
        assert (promoted["day"], promoted["places"]) == (day, 1)
        assert promoted["ticket"] == self.single.ticket
        assert [e["id"] for _, e in got["waiting"]] == [self.household.id, self.third.id]
        assert got["counters"] == self.before["counters"]  # one place out, one in
        others = {k: v for k, v in got["bookings"].items() if k not in (target, single)}
        assert others == {k: v for k, v in self.before["bookings"].items() if k != target}
        return "both"

    def kill(self, k: int) -> subprocess.Popen[bytes]:
        """A process cancelling ``target`` that kills itself before its ``k``-th statement."""
        return subprocess.Popen(
            [sys.executable, wk.__file__, "kill-cancel", json.dumps(self.spec), self.target.id,
             str(k)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
        )  # fmt: skip

    def recover(self) -> None:
        """The next process finds the database as the kill left it and goes on."""
        after = wk.make_scheduler(self.spec, "plain")
        try:
            if after.get(self.target.id).status is qq.BookingStatus.BOOKED:
                after.cancel(self.target.id, now=wk.NOW)
            assert after.promote_waitlist(now=wk.NOW) == []
        finally:
            after.storage.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Makes fresh storages (a SQLite file, or a schema of the throwaway cluster) as specs."""
    made: list[str] = []
    conninfo = request.getfixturevalue("postgres_conninfo") if request.param == "postgres" else ""

    def make() -> dict[str, Any]:
        made.append(unique_schema())
        if not conninfo:
            return {"kind": "sqlite", "path": str(tmp_path / f"{made[-1]}.sqlite3")}
        options = {"min_size": 1, "max_size": 1}
        return {"kind": "postgres", "conninfo": conninfo, "schema": made[-1], "options": options}

    yield make
    for schema in made if conninfo else ():
        drop_schema(conninfo, schema)


def test_a_cancel_killed_before_any_of_its_statements_leaves_both_or_neither(
    fresh_spec: Any,
) -> None:
    """A process cancelling a booking (which promotes the second entry in line: the first is
    a household of 2) is killed before its 1st, 2nd, ... statement (SQLite: as SQLite runs
    it; PostgreSQL: a call of psycopg's execute or commit); the database then holds the
    cancel, the promotion and their events, or none of them, and the next process cancels
    and promotes as if nothing had happened."""
    whole = KillScene.make(fresh_spec())
    proc = whole.kill(10**6)  # not killed: how many statements the call makes
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    statements = json.loads(out)["statements"]
    assert statements >= 4
    assert whole.state() == "both"
    outcomes: Counter[str] = Counter()
    for first in range(1, statements + 1, 4):
        batch = [
            (k, KillScene.make(fresh_spec())) for k in range(first, min(first + 4, statements + 1))
        ]
        running = [(k, scene, scene.kill(k)) for k, scene in batch]
        for k, scene, proc in running:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == -signal.SIGKILL, (k, err.decode())
            outcomes[scene.state()] += 1
            scene.recover()
            assert scene.state() == "both", k
    print(f"\n[waitlist kill {whole.spec['kind']}] statements={statements} {dict(outcomes)}")
    assert sum(outcomes.values()) == statements


def test_the_direct_checks_find_what_they_claim(tmp_path: Path) -> None:
    """`check_always` reads what it claims: a promoted entry still waiting, a counter off its
    bookings, a lost `promoted` event and a citizen ref in an event are each reported."""
    import sqlite3

    spec = {"kind": "sqlite", "path": str(tmp_path / "check.sqlite3")}
    office = Office(spec, "plain", seed=1)
    office.fill()
    office.top_up()
    office.sched.cancel(office.active()[0], now=wk.NOW)
    office.sched.storage.close()
    db = wk.read_db(spec)
    check_always(db, "plain", office.joined)
    (promoted,) = [bid for _, kind, bid, _, _ in db["events"] if kind == "promoted"]
    tampering = [
        f"INSERT INTO qq_state VALUES ('{wk.OFFICE_ID}', 'wait:9999999999', "
        f"json_object('id', '{promoted}'))",
        "UPDATE qq_counter SET used = used + 1 WHERE day = (SELECT MIN(day) FROM qq_counter)",
        f"DELETE FROM qq_event WHERE kind = 'promoted' AND booking_id = '{promoted}'",
        f"UPDATE qq_event SET data = json_set(data, '$.x', "
        f"(SELECT citizen_ref FROM qq_booking WHERE id = '{promoted}')) WHERE seq = 1",
    ]
    for sql in tampering:
        copy = tmp_path / "tampered.sqlite3"
        copy.unlink(missing_ok=True)
        with sqlite3.connect(spec["path"]) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        with sqlite3.connect(copy) as conn:
            conn.execute(sql)
        with pytest.raises(AssertionError):
            check_always(wk.read_db({"kind": "sqlite", "path": str(copy)}), "plain", office.joined)
