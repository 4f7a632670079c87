"""Worker entry points and checkers for the reliability tests.

Everything here runs in child processes as well as in the test process, so it only needs
``queue_quota`` on the path (``PYTHONPATH=src`` or an editable install):

* `hot_day_worker` — a process of booking threads (multiprocessing, "spawn"), used by
  ``test_reliability_concurrency.py``;
* `contender_main` / `contender_loop` — a process (or thread) that runs one command per
  round, lined up with the other contenders by a barrier (``test_reliability_races.py``);
* ``python tests/_workers.py crash-worker ...`` — a single-threaded booking loop that
  journals every acknowledged operation (flush + fsync) and is killed with SIGKILL by
  ``test_reliability_crash.py`` (or kills itself at a chosen SQL statement, ``--die-at``);
  `replay` and `check_journal` judge the journals against the database;
* `snapshot` and `check_invariants` — read the counters and bookings straight from the
  database (``sqlite3`` / ``psycopg``, not through the adapter) and count violations.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import queue_quota as qq
from queue_quota.policies import OnlineQuota

OFFICE_ID = "tegal-reliability"
SECRET = b"reliability-secret-0123456789abcdef"
WIB = ZoneInfo("Asia/Jakarta")
#: Thursday 4 June 2020, 09:00 WIB: "now" for every worker.
NOW = datetime(2020, 6, 4, 9, 0, tzinfo=WIB)
#: Monday 8 June 2020: the hot day (Friday 5 June is the first bookable day).
HOT_DAY = date(2020, 6, 8)
ACTIVE = ("booked", "checked_in")
SRC = Path(__file__).resolve().parents[1] / "src"

Spec = Mapping[str, Any]


# -- offices, storages, schedulers --------------------------------------------------------


def make_office(capacity: int, horizon_days: int = 60) -> qq.Office:
    """A Mon-Fri office (no holidays) with one online channel of ``capacity`` a day."""
    return qq.Office(
        id=OFFICE_ID,
        calendar=qq.WorkingCalendar(tz="Asia/Jakarta"),
        policies=[OnlineQuota(capacity=capacity, lead_days=1, horizon_days=horizon_days)],
    )


def open_storage(spec: Spec) -> Any:
    """A storage from a picklable spec: ``{"kind": "sqlite", "path": ...}`` or postgres."""
    if spec["kind"] == "sqlite":
        from queue_quota.storage import SQLiteStorage

        return SQLiteStorage(spec["path"], synchronous=spec.get("synchronous", "FULL"))
    if spec["kind"] == "postgres":
        from queue_quota.storage.postgres import PostgresStorage

        return PostgresStorage(spec["conninfo"], schema=spec["schema"], **spec.get("options", {}))
    raise ValueError(f"unknown storage kind {spec['kind']!r}")


def make_scheduler(spec: Spec, capacity: int, horizon_days: int = 60) -> qq.Scheduler:
    """A scheduler for the test office on the storage described by ``spec``."""
    return qq.Scheduler(
        make_office(capacity, horizon_days), open_storage(spec), secret=SECRET, clock=lambda: NOW
    )


def booking_dict(b: qq.Booking) -> dict[str, Any]:
    """The parts of a booking the checks compare."""
    return {
        "id": b.id,
        "day": b.day.isoformat(),
        "number": b.number,
        "status": b.status.value,
        "key": b.idempotency_key,
    }


def child_env() -> dict[str, str]:
    """The environment of a worker subprocess: ``src`` first on ``PYTHONPATH``."""
    env = dict(os.environ)
    parts = [str(SRC), *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


class JsonLines:
    """Thread-safe JSON-lines writer; ``sync=True`` fsyncs every line."""

    def __init__(self, path: str | os.PathLike[str], *, sync: bool = False) -> None:
        self._f = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed in close()
        if self._f.tell() > 0:
            self._f.seek(self._f.tell() - 1)
            if self._f.read(1) != "\n":  # a line torn by a kill: end it, readers skip it
                self._f.write("\n")
        self._lock = threading.Lock()
        self._sync = sync

    def write(self, record: Mapping[str, Any], *, sync: bool | None = None) -> None:
        line = json.dumps(record, sort_keys=True) + "\n"
        with self._lock:
            self._f.write(line)
            self._f.flush()
            if self._sync if sync is None else sync:
                os.fsync(self._f.fileno())

    def close(self) -> None:
        with self._lock:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()


def read_lines(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Complete JSON lines of a file; a line torn by a kill (or still being written) is skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.split("\n")[:-1]:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _error_record(during: str, exc: BaseException, **extra: Any) -> dict[str, Any]:
    """An ``"op": "error"`` line: what was being done, the exception's class and message."""
    return {
        "op": "error",
        "during": during,
        "error": type(exc).__name__,
        "message": str(exc)[:300],
        **extra,
    }


# -- direct reads of the database ---------------------------------------------------------


def snapshot(spec: Spec) -> dict[str, Any]:
    """Days, bookings and closures read in one transaction, straight from the database.

    ``{"kind": "memory", "storage": MemoryStorage}`` reads the storage's tables under its lock.
    """
    if spec["kind"] == "memory":
        return _memory_snapshot(spec["storage"])
    if spec["kind"] == "sqlite":
        return _sqlite_snapshot(spec["path"])
    if spec["kind"] == "postgres":
        return _postgres_snapshot(spec["conninfo"], spec["schema"])
    raise ValueError(spec["kind"])


def _memory_snapshot(storage: Any) -> dict[str, Any]:
    prims = storage.primitives
    with prims._lock:
        offices = prims._offices
        days = [
            (o, scope[2:], d.isoformat(), None, row.used, row.last)
            for o, state in offices.items()
            for (scope, d), row in state.counters.items()
            if scope.startswith("c:")
        ]
        bookings = [
            (
                b.id,
                b.office_id,
                b.channel,
                b.day.isoformat(),
                b.number,
                b.status.value,
                b.idempotency_key,
            )
            for state in offices.values()
            for b in state.bookings.values()
        ]
        closures = [
            (o, name[len("closure:") :])
            for o, state in offices.items()
            for name in state.meta
            if name.startswith("closure:")
        ]
        events = [
            (o, e.seq, e.kind, e.booking_id, e.day and e.day.isoformat(), e.data.get("number"))
            for o, state in offices.items()
            for e in state.logged(0, len(state.events))
        ]
    return _snap(days, bookings, closures, None, events)


def _sqlite_snapshot(path: str) -> dict[str, Any]:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        conn.execute("BEGIN")
        days = conn.execute(
            "SELECT office_id, substr(scope, 3), day, NULL, used, last FROM qq_counter "
            "WHERE scope LIKE 'c:%'"
        ).fetchall()
        bookings = conn.execute(
            "SELECT id, office_id, channel, day, number, status, idempotency_key FROM qq_booking"
        ).fetchall()
        closures = conn.execute("SELECT office_id, day FROM qq_closure").fetchall()
        events = conn.execute(
            "SELECT office_id, seq, kind, booking_id, day, json_extract(data, '$.number') "
            "FROM qq_event ORDER BY office_id, seq"
        ).fetchall()
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        conn.execute("COMMIT")
    finally:
        conn.close()
    return _snap(days, bookings, closures, integrity, events)


def _postgres_snapshot(conninfo: str, schema: str) -> dict[str, Any]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, autocommit=False) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        s = sql.Identifier(schema)
        days = conn.execute(
            sql.SQL(
                "SELECT office_id, substr(scope, 3), day::text, NULL, used, last"
                " FROM {}.qq_counter WHERE scope LIKE 'c:%%'"
            ).format(s)
        ).fetchall()
        bookings = conn.execute(
            sql.SQL(
                "SELECT id, office_id, channel, day::text, number, status, idempotency_key "
                "FROM {}.qq_booking"
            ).format(s)
        ).fetchall()
        closures = conn.execute(
            sql.SQL("SELECT office_id, day::text FROM {}.qq_closure").format(s)
        ).fetchall()
        events = conn.execute(
            sql.SQL(
                "SELECT office_id, seq, kind, booking_id, day::text, (data->>'number')::int"
                " FROM {}.qq_event ORDER BY office_id, seq"
            ).format(s)
        ).fetchall()
        conn.rollback()
    return _snap(days, bookings, closures, None, events)


def _snap(
    days: Iterable[Any],
    bookings: Iterable[Any],
    closures: Iterable[Any],
    integrity: list[str] | None,
    events: Iterable[Any] = (),
) -> dict[str, Any]:
    return {
        "events": list(events),
        "days": {
            (o, c, d): {"capacity": cap, "booked": n, "last_number": last}
            for o, c, d, cap, n, last in days
        },
        "bookings": {
            i: {
                "id": i,
                "office_id": o,
                "channel": c,
                "day": d,
                "number": num,
                "status": st,
                "key": key,
            }
            for i, o, c, d, num, st, key in bookings
        },
        "closures": {(o, d) for o, d in closures},
        "integrity": integrity,
    }


#: What each event kind does to a booking replayed from the log.
_STATUS_AFTER = {"cancelled": "cancelled", "checked_in": "checked_in", "no_show": "no_show"}


def event_problems(snap: Mapping[str, Any]) -> list[str]:
    """What the event log gets wrong about the bookings it describes: seqs not 1..N per
    office; a booking whose log does not start with ``booked`` or whose replay (``moved``
    sets day and number, ``cancelled``/``checked_in``/``no_show`` the status) is not the
    stored row; an event about a booking that is not stored."""
    problems: list[str] = []
    seqs: dict[str, list[int]] = {}
    replayed: dict[str, dict[str, Any]] = {}
    for office, seq, kind, booking_id, day, number in snap["events"]:
        seqs.setdefault(office, []).append(seq)
        if booking_id is None:
            continue
        state = replayed.get(booking_id)
        if kind == "booked":
            if state is not None:
                problems.append(f"booking {booking_id} booked twice (seq {seq})")
            replayed[booking_id] = {"day": day, "number": number, "status": "booked"}
        elif state is None:
            problems.append(f"event {seq} {kind} {booking_id} before its booking")
        elif kind == "moved":
            state.update(day=day, number=number)
        elif kind in _STATUS_AFTER:
            state["status"] = _STATUS_AFTER[kind]
    for office, got in seqs.items():
        if got != list(range(1, len(got) + 1)):
            problems.append(f"event seqs of {office} are not 1..{len(got)}: {got[:10]}...")
    for booking_id, b in snap["bookings"].items():
        want = replayed.pop(booking_id, None)
        row = {"day": b["day"], "number": b["number"], "status": b["status"]}
        if want != row:
            problems.append(f"booking {booking_id} is {row}; its events replay to {want}")
    problems += [f"event about {bid} without its booking" for bid in replayed]
    return problems


def event_mismatch(snap: Mapping[str, Any]) -> int:
    """How many `event_problems` a snapshot has (0 when the log is the changes)."""
    return len(event_problems(snap))


def check_invariants(snap: Mapping[str, Any], capacity: int | None = None) -> dict[str, int]:
    """Count violations of the storage invariants in a snapshot (all zero when healthy).

    * ``counter_mismatch``: days whose ``booked`` differs from their active bookings;
    * ``overbooked``: days with more active bookings (or a counter) above capacity, the
      stored capacity or, if given, ``capacity``;
    * ``repeated_numbers``: a number used twice on one (office, channel, day);
    * ``number_beyond_last``: a number above the day's ``last_number``;
    * ``duplicate_keys``: an idempotency key on two bookings;
    * ``active_on_closed``: an active booking on a day closed at run time;
    * ``integrity``: 0 when ``PRAGMA integrity_check`` said ``ok`` (SQLite only);
    * ``event_mismatch``: see `event_mismatch` (the log is the changes, no more, no less).
    """
    days = snap["days"]
    bookings = snap["bookings"].values()
    active = Counter(
        (b["office_id"], b["channel"], b["day"]) for b in bookings if b["status"] in ACTIVE
    )
    keys = set(days) | set(active)
    mismatch = sum(1 for k in keys if days.get(k, {}).get("booked", 0) != active[k])
    over = 0
    for k in keys:
        row = days.get(k)
        stored = row["capacity"] if row and row["capacity"] is not None else None
        limits = [x for x in (stored, capacity) if x is not None]
        limit = min(limits) if limits else 0
        if active[k] > limit or (row is not None and row["booked"] > limit):
            over += 1
    numbers = Counter((b["office_id"], b["channel"], b["day"], b["number"]) for b in bookings)
    beyond = sum(
        1
        for b in bookings
        if b["number"]
        > days.get((b["office_id"], b["channel"], b["day"]), {}).get("last_number", 0)
    )
    key_count = Counter(b["key"] for b in bookings if b["key"] is not None)
    on_closed = sum(
        1
        for b in bookings
        if b["status"] in ACTIVE and (b["office_id"], b["day"]) in snap["closures"]
    )
    found = {
        "event_mismatch": event_mismatch(snap),
        "counter_mismatch": mismatch,
        "overbooked": over,
        "repeated_numbers": sum(n - 1 for n in numbers.values() if n > 1),
        "number_beyond_last": beyond,
        "duplicate_keys": sum(n - 1 for n in key_count.values() if n > 1),
        "active_on_closed": on_closed,
    }
    if snap["integrity"] is not None:
        found["integrity"] = 0 if snap["integrity"] == ["ok"] else 1
    return found


# -- concurrency: one hot day, many processes × threads ------------------------------------


def hot_day_worker(
    spec: Spec,
    capacity: int,
    proc: int,
    plan: list[dict[str, list[dict[str, Any]]]],
    cancel_in: Any,
    cancel_out: Any,
    start: Any,
    phase: Any,
    out_path: str,
) -> None:
    """One process: ``len(plan)`` booking threads and one thread cancelling for a neighbour.

    ``plan[t]`` holds thread ``t``'s requests for phase 1 and phase 2 (``key``, ``citizen``,
    ``retry``, ``cancel``). All threads of all processes start together on ``start``; a
    booking flagged ``cancel`` is handed, once acknowledged, to the next process through
    ``cancel_out``; this process cancels what arrives on ``cancel_in`` until the sentinel.
    Phase 2 starts, in every process at once, after every cancellation is done.
    """
    out = JsonLines(out_path)
    sched = make_scheduler(spec, capacity)
    sched.storage.migrate()

    def book_all(requests: list[dict[str, Any]], tag: str) -> None:
        for req in requests:
            try:
                b = sched.book(
                    "online",
                    req["citizen"],
                    idempotency_key=req["key"],
                    preferred_date=HOT_DAY,
                )
            except qq.QuotaExhausted as exc:
                out.write({"op": "full", "phase": tag, "proc": proc, **req, "msg": str(exc)})
            except Exception as exc:
                out.write(_error_record("book", exc, phase=tag, proc=proc, **req))
            else:
                out.write({"op": "book", "phase": tag, "proc": proc, **req, **booking_dict(b)})
                if req["cancel"] and not req["retry"]:
                    cancel_out.put(b.id)

    def canceller() -> None:
        while True:
            booking_id = cancel_in.get(timeout=120)
            if booking_id is None:
                return
            try:
                c = sched.cancel(booking_id)
            except Exception as exc:
                out.write(_error_record("cancel", exc, proc=proc, id=booking_id))
            else:
                out.write({"op": "cancel", "proc": proc, **booking_dict(c)})

    def phase_one(t: int) -> None:
        start.wait(timeout=120)
        book_all(plan[t]["phase1"], "1")

    try:
        cancel_thread = threading.Thread(target=canceller)
        cancel_thread.start()
        threads = [threading.Thread(target=phase_one, args=(t,)) for t in range(len(plan))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        cancel_out.put(None)  # every booking this process will hand over has been handed over
        cancel_thread.join()
        phase.wait(timeout=120)  # every cancellation of every process is done
        threads = [
            threading.Thread(target=book_all, args=(plan[t]["phase2"], "2"))
            for t in range(len(plan))
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    except BaseException as exc:
        out.write(_error_record("worker", exc, proc=proc, tb=traceback.format_exc()))
        raise
    finally:
        sched.storage.close()
        out.close()


def fill_worker(
    spec: Spec, capacity: int, proc: int, keys: list[list[str]], start: Any, out_path: str
) -> None:
    """One process of threads booking the earliest day with room, one key after another."""
    out = JsonLines(out_path)
    sched = make_scheduler(spec, capacity)
    sched.storage.migrate()

    def run(t: int) -> None:
        start.wait(timeout=120)
        for key in keys[t]:
            try:
                b = sched.book("online", key, idempotency_key=key)
            except Exception as exc:
                out.write(_error_record("book", exc, proc=proc, key=key))
            else:
                out.write({"op": "book", "proc": proc, **booking_dict(b)})

    threads = [threading.Thread(target=run, args=(t,)) for t in range(len(keys))]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sched.storage.close()
        out.close()


# -- races: contenders lined up by a barrier ----------------------------------------------


def run_command(sched: qq.Scheduler, cmd: Mapping[str, Any]) -> dict[str, Any]:
    """Run one race command (``book``, ``cancel`` or ``close_day``) and describe the outcome."""
    op = cmd["op"]
    try:
        if op == "book":
            day = cmd.get("day")
            b = sched.book(
                "online",
                cmd["citizen"],
                idempotency_key=cmd.get("key"),
                preferred_date=date.fromisoformat(day) if day else None,
            )
            return {"ok": True, "booking": booking_dict(b)}
        if op == "cancel":
            return {"ok": True, "booking": booking_dict(sched.cancel(cmd["id"]))}
        if op == "close_day":
            moved = sched.close_day(date.fromisoformat(cmd["day"]), cmd["reason"])
            return {"ok": True, "moved": [booking_dict(b) for b in moved]}
    except qq.QueueQuotaError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    raise ValueError(f"unknown command {op!r}")


def contender_loop(sched: qq.Scheduler, commands: Any, results: Any, barrier: Any) -> None:
    """Run commands until ``None``: wait on ``barrier`` (all contenders), then run at once."""
    while True:
        cmd = commands.get(timeout=120)
        if cmd is None:
            return
        try:
            barrier.wait(timeout=60)
            outcome = run_command(sched, cmd)
        except Exception as exc:
            outcome = {"ok": False, "error": type(exc).__name__, "message": repr(exc)}
        results.put({"round": cmd["round"], "op": cmd["op"], "who": cmd["who"], **outcome})


def contender_main(
    spec: Spec, capacity: int, horizon_days: int, commands: Any, results: Any, barrier: Any
) -> None:
    """Process entry point: a scheduler on ``spec`` running `contender_loop`."""
    sched = make_scheduler(spec, capacity, horizon_days)
    try:
        sched.storage.migrate()
        results.put({"ready": os.getpid()})
        contender_loop(sched, commands, results, barrier)
    finally:
        sched.storage.close()


# -- crashes: a journaling booking loop killed with SIGKILL --------------------------------

CRASH_CAPACITY = 25
CRASH_HORIZON = 366


class StatementKiller:
    """SQLite trace callback: SIGKILL this process before the ``k``-th SQL statement of an op.

    Armed around each call of ``op``; statements are counted as SQLite starts running them,
    so ``k`` = 1 dies before the first statement and ``k`` = the op's last statement (the
    ``COMMIT``) dies with everything but the commit done. If an op runs fewer than ``k``
    statements, ``k`` wraps round for the next call, so every ``k`` lands somewhere.
    """

    def __init__(self, op: str, k: int) -> None:
        self.op = op
        self.k = k
        self.armed = False
        self.count = 0

    def __call__(self, statement: str) -> None:
        if self.armed:
            self.count += 1
            if self.count == self.k:
                os.kill(os.getpid(), signal.SIGKILL)

    def arm(self, op: str) -> None:
        self.armed = op == self.op
        self.count = 0

    def disarm(self) -> None:
        if self.armed and 0 < self.count < self.k:
            self.k = (self.k - 1) % self.count + 1
        self.armed = False


def crash_worker(
    spec: Spec,
    journal_path: str,
    slot: int,
    generation: int,
    seed: int,
    die_at: tuple[str, int] | None = None,
    *,
    standby: bool = False,
) -> None:
    """Book, cancel and reschedule in a loop; journal each acknowledged result (fsync).

    Before each operation an ``intent`` line is written (flushed: it survives a process
    kill); after the call returns, the result is appended and fsynced: the acknowledged
    set. On start, book intents left without an answer by a killed predecessor are retried
    with the same idempotency key. Refusals or errors other than `StorageError` are
    journaled as ``error`` (the test counts them). Prints ``ready`` after the first ack.

    ``die_at=(op, k)`` (SQLite): the worker kills itself before the ``k``-th statement of
    its first ``op`` after its first ack (see `StatementKiller`). ``standby``: start up
    (imports, connection) and wait for ``go`` on stdin before reading the journal, so that
    a replacement is ready the moment its predecessor is killed.
    """
    rng = random.Random(seed)
    sched = make_scheduler(spec, CRASH_CAPACITY, CRASH_HORIZON)
    sched.storage.migrate()
    killer = StatementKiller(*die_at) if die_at else None
    if killer is not None:
        sched.storage._connect().set_trace_callback(killer)
    if standby and sys.stdin.readline().strip() != "go":
        return  # a stand-by never called in
    journal = JsonLines(journal_path, sync=True)
    state = replay(read_lines(journal_path))
    mine = [
        bid
        for bid, b in state["bookings"].items()
        if b["history"][-1][2] == "booked" and b["pending"] is None
    ]
    announced = False
    failed_in_a_row = 0

    def ack(record: dict[str, Any]) -> None:
        nonlocal announced
        retries = getattr(sched.storage, "retries", None)  # PostgresStorage counts them
        journal.write({**record, "gen": generation, "adapter_retries": retries})
        if not announced:
            print("ready", flush=True)
            announced = True

    def attempt(op: str, fn: Callable[[], qq.Booking], **intent: Any) -> qq.Booking | None:
        nonlocal failed_in_a_row
        journal.write({"op": "intent-" + op, **intent}, sync=False)
        in_doubt = False
        for _ in range(5):
            try:
                if killer is not None and announced:
                    killer.arm(op)
                try:
                    done = fn()
                finally:
                    if killer is not None:
                        killer.disarm()
                failed_in_a_row = 0
                return done
            except qq.StorageError as exc:
                journal.write(_error_record("storage-" + op, exc, **intent), sync=False)
                in_doubt = True
                last_error = exc
                time.sleep(0.05)  # back off before retrying, not a race dodge
            except qq.InvalidTransition as exc:
                # A cancel retried after a StorageError may find its first try committed.
                if in_doubt and op == "cancel":
                    done = sched.get(intent["id"])
                    if done.status is qq.BookingStatus.CANCELLED:
                        return done
                journal.write(_error_record("refused-" + op, exc, **intent))
                return None
            except qq.QueueQuotaError as exc:
                journal.write(_error_record("refused-" + op, exc, **intent))
                return None
        failed_in_a_row += 1
        if failed_in_a_row >= 3:  # the storage is not failing now and then but always
            sys.exit(f"crash worker: {op} keeps failing: {last_error!r}")
        return None

    # An unanswered book of a killed predecessor: retry it with the same key.
    for key in state["pending_keys"]:
        existed = sched.storage.find_by_key(OFFICE_ID, key)
        b = attempt("book", lambda key=key: sched.book("online", key, idempotency_key=key), key=key)
        if b is not None:
            ack({"op": "book", "retried": True, "existed": existed is not None, **booking_dict(b)})
            if existed is not None and existed.id != b.id:
                journal.write(
                    {"op": "error", "during": "retry", "error": "returned-another-id", "key": key}
                )
            mine.append(b.id)
    i = 0
    while True:
        i += 1
        r = rng.random()
        if mine and r < 0.15:
            bid = mine.pop(rng.randrange(len(mine)))
            c = attempt("cancel", lambda bid=bid: sched.cancel(bid), id=bid)
            if c is not None:
                ack({"op": "cancel", **booking_dict(c)})
        elif mine and r < 0.25:
            bid = rng.choice(mine)
            m = attempt("move", lambda bid=bid: sched.reschedule(bid), id=bid)
            if m is not None:
                ack({"op": "move", **booking_dict(m)})
            else:
                mine.remove(bid)
        else:
            key = f"s{slot}-g{generation}-{i}"
            b = attempt(
                "book", lambda key=key: sched.book("online", key, idempotency_key=key), key=key
            )
            if b is not None:
                ack({"op": "book", **booking_dict(b)})
                mine.append(b.id)


def replay(lines: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What journals acknowledge.

    Returns ``bookings`` (id -> ``key``, ``history`` of acknowledged ``(day, number,
    status)`` states, ``pending``: ``"cancel"`` or ``"move"`` when the last operation has an
    intent but no answer, else ``None``), ``pending_keys`` (book intents without an answer),
    ``errors`` (refusals and unexpected errors), ``storage_errors``, ``retried_existing``
    (retries after a kill that found their booking committed) and ``adapter_retries``
    (operations the PostgreSQL adapter re-ran by itself, e.g. after a lost connection).
    """
    bookings: dict[str, dict[str, Any]] = {}
    intents_book: dict[str, None] = {}
    errors: list[dict[str, Any]] = []
    storage_errors = 0
    retried_existing = 0
    adapter_retries: dict[Any, int] = {}
    for line in lines:
        op = line["op"]
        if line.get("adapter_retries") is not None:
            gen = line.get("gen")
            adapter_retries[gen] = max(adapter_retries.get(gen, 0), line["adapter_retries"])
        if op == "error" and line["during"].startswith("storage-"):
            storage_errors += 1
        elif op == "error":
            errors.append(dict(line))
            if line.get("id") in bookings:
                bookings[line["id"]]["pending"] = None
            intents_book.pop(line.get("key", ""), None)
        elif op == "intent-book":
            intents_book[line["key"]] = None
        elif op in ("intent-cancel", "intent-move"):
            bookings[line["id"]]["pending"] = op[len("intent-") :]
        elif op == "book":
            intents_book.pop(line["key"], None)
            state = (line["day"], line["number"], line["status"])
            if line["id"] in bookings:  # a retry answered with a booking already acked
                bookings[line["id"]]["history"].append(state)
            else:
                bookings[line["id"]] = {"key": line["key"], "history": [state], "pending": None}
            retried_existing += bool(line.get("existed"))
        elif op in ("cancel", "move"):
            b = bookings[line["id"]]
            b["history"].append((line["day"], line["number"], line["status"]))
            b["pending"] = None
    return {
        "bookings": bookings,
        "pending_keys": list(intents_book),
        "errors": errors,
        "storage_errors": storage_errors,
        "retried_existing": retried_existing,
        "adapter_retries": sum(adapter_retries.values()),
    }


def check_journal(
    before: Mapping[str, Any], snap: Mapping[str, Any], after: Mapping[str, Any] | None = None
) -> dict[str, int]:
    """Compare what journals acknowledge with a database snapshot.

    ``before`` is the journals read before the snapshot, ``after`` read after it (the same
    when every worker is dead). Everything acknowledged in ``before`` was committed before
    the snapshot; operations that appear only in ``after`` may or may not be in it.

    * ``lost``: an acknowledged booking missing from the database, or in a state that no
      acknowledged or in-flight operation explains;
    * ``phantom``: a booking in the database that no journal asked for, or whose key was
      acknowledged with another id;
    * ``unacked``: bookings committed whose answer a killed worker never journaled (the
      window between commit and journal; their keys are retried by the next worker).
    """
    after = before if after is None else after
    rows = snap["bookings"]
    lost = 0
    for bid, was in before["bookings"].items():
        row = rows.get(bid)
        now = after["bookings"].get(bid, was)
        if row is None or row["key"] != was["key"]:
            lost += 1
            continue
        got = (row["day"], row["number"], row["status"])
        allowed = now["history"][len(was["history"]) - 1 :]
        if got in allowed:
            continue
        last_day, _, last_status = allowed[-1]
        if now["pending"] == "cancel" and got[0] == last_day and got[2] == "cancelled":
            continue
        if now["pending"] == "move" and got[2] == last_status and got[0] != last_day:
            continue
        lost += 1
    acked_keys = {b["key"]: bid for bid, b in after["bookings"].items()}
    pending = set(after["pending_keys"])
    phantom = unacked = 0
    for row in rows.values():
        key = row["key"]
        if key in acked_keys:
            phantom += acked_keys[key] != row["id"]
        elif key in pending:
            unacked += 1
        else:
            phantom += 1
    return {"lost": lost, "phantom": phantom, "unacked": unacked}


def _main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="_workers.py")
    sub = parser.add_subparsers(dest="command", required=True)
    crash = sub.add_parser("crash-worker")
    crash.add_argument("--spec", required=True, help="storage spec as JSON")
    crash.add_argument("--journal", required=True)
    crash.add_argument("--slot", type=int, required=True)
    crash.add_argument("--generation", type=int, required=True)
    crash.add_argument("--seed", type=int, required=True)
    crash.add_argument("--die-at", nargs=2, metavar=("OP", "K"), help="e.g. cancel 3")
    crash.add_argument("--standby", action="store_true", help="wait for 'go' on stdin")
    args = parser.parse_args(argv)
    die_at = (args.die_at[0], int(args.die_at[1])) if args.die_at else None
    crash_worker(
        json.loads(args.spec),
        args.journal,
        args.slot,
        args.generation,
        args.seed,
        die_at,
        standby=args.standby,
    )


if __name__ == "__main__":
    _main(sys.argv[1:])
