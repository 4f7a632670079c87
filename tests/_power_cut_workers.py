"""Booking processes for the database power-cut test (``tests/test_pg_power_cut.py``).

``python tests/_power_cut_workers.py --conninfo C --schema S --variant V --journal J --seed N
--slot K`` books (each request with its own idempotency key, citizens drawn from a small
shared list) on an office with a few small days, and cancels its own earlier bookings, in a
loop, until it reads ``stop`` (or end of file) on standard input. Every answer it gets is
appended to its journal and flushed and fsynced before the next request: ``book`` (a
booking returned), ``full`` (`QuotaExhausted`), ``refused`` (another refusal), ``cancel``.

When a request raises `StorageError` (the server is gone: stopped, killed, starting up),
the worker journals a ``doubt`` line, waits with back-off until the server accepts a
connection again, and asks again until it gets an answer: a book with the same idempotency
key (first reading whether the key's booking exists: the request had committed or not), a
cancel after re-reading the booking's status (already ``cancelled``: it had committed).
The answer's line says ``in_doubt`` (how many tries got no answer) and ``committed``
(what the re-read found), with the time ``t`` and the adapter's own ``adapter_retries``
so far (`PostgresStorage.retries`: transactions it ran again itself, e.g. a booking whose
commit was in doubt, settled by its id). So when the worker stops, every request it made
has a definite answer, and every booking in the database is one it journaled.

`check_database` reads the schema's tables directly (psycopg, one repeatable-read
transaction) and lists every way they differ from the journals or from the invariants.

``--threads T`` (T > 1) runs T such booking threads in the process, each with its own
keys (``w<slot>t<thread>-<n>``), random stream and bookings to cancel, on ONE shared
`PostgresStorage(group_commit=True)` (a pool of T connections): the reservations waiting
in the process at once share one transaction and one commit (`storage._combine`), so a cut
breaks batches of several reservations. The threads share the process's journal; a line
is written, flushed and fsynced under its lock before the thread that wrote it asks again.
The ``end`` line then also says how the storage batched (`BatchCountingStorage`):
``batches`` run, reservations ``combined`` in them, ``batch_sizes``, and the batches of
several whose transaction a cut broke (``broken_batches``: run again one by one) or left in
doubt (``doubtful_batches``: each booking looked up by its id).

``QQ_POWER_CUT_STORAGE_OPTIONS`` (JSON) adds `PostgresStorage` arguments (the tests set
``early_release``; e.g. ``{"max_size": 1}`` to diagnose a failure).

Variants: ``plain`` (one online channel of 4 a day, two per citizen) and ``pooled`` (online
in two arrival windows of 3 within 5 a day, a claim-only priority channel of 4, both under
a pool of 7; households of 1-3 places).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import queue_quota as qq
from _workers import JsonLines, event_problems, read_lines
from queue_quota.models import Booking, Reservation
from queue_quota.policies import OnlineQuota
from queue_quota.storage._combine import Waiter
from queue_quota.storage.postgres import PostgresStorage

OFFICE_ID = "tegal-power-cut"
SECRET = b"power-cut-secret-0123456789abcdef"
#: Thursday 4 June 2020, 07:00 WIB: before the first arrival window; days 4-9 June bookable.
NOW = datetime(2020, 6, 4, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
HORIZON_DAYS = 5
ACTIVE = ("booked", "checked_in")
#: Every counter's capacity, per variant (scope -> places a day).
CAPACITY: dict[str, dict[str, int]] = {
    "plain": {"c:online": 4},
    "pooled": {
        "c:online": 5,
        "s:online@08:00": 3,
        "s:online@09:00": 3,
        "c:priority": 4,
        "p:loket": 7,
    },
}
#: Citizens shared by every worker: the same citizen may book from several processes.
CITIZENS = [f"3328011234{i:06d}" for i in range(40)]
P_CANCEL = 0.35
#: More `PostgresStorage` arguments for the workers, as JSON (to diagnose; unset in tests).
STORAGE_OPTIONS = "QQ_POWER_CUT_STORAGE_OPTIONS"


def make_office(variant: str) -> qq.Office:
    """The office of ``variant`` (see the module docstring)."""
    cap = CAPACITY[variant]
    calendar = qq.WorkingCalendar(tz="Asia/Jakarta")
    if variant == "plain":
        online = OnlineQuota(cap["c:online"], lead_days=0, horizon_days=HORIZON_DAYS, per_citizen=2)
        return qq.Office(OFFICE_ID, calendar, [online])
    sessions = (
        qq.Session(clock(8), clock(9), cap["s:online@08:00"]),
        qq.Session(clock(9), clock(10), cap["s:online@09:00"]),
    )
    policies = [
        OnlineQuota(
            cap["c:online"],
            sessions=sessions,
            max_places=3,
            lead_days=0,
            horizon_days=HORIZON_DAYS,
            per_citizen=None,
        ),
        OnlineQuota(
            cap["c:priority"],
            channel="priority",
            prefix="P",
            requires_claim="group",
            max_places=3,
            lead_days=0,
            horizon_days=HORIZON_DAYS,
            per_citizen=None,
        ),
    ]
    return qq.Office(
        OFFICE_ID,
        calendar,
        policies,
        pools=[qq.Pool("loket", cap["p:loket"], ["online", "priority"])],
    )


class BatchCountingStorage(PostgresStorage):
    """`PostgresStorage` counting its group-commit batches by size, and the batches of
    several reservations whose shared transaction did not simply commit: ``broken`` (it
    failed, e.g. the server went away before the commit: its reservations were run again
    one by one) or ``doubtful`` (its commit was in doubt: each booking looked up by id)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_sizes: Counter[int] = Counter()
        self.broken_batches = self.doubtful_batches = 0
        self._stats_lock = threading.Lock()
        self._leading = threading.local()  # the batch of several this thread is running

    def _batch(self, batch: list[Waiter]) -> None:
        mark = self._leading
        mark.several, mark.broken, mark.doubtful = len(batch) > 1, False, False
        try:
            super()._batch(batch)
        finally:
            mark.several = False
            with self._stats_lock:
                self.batch_sizes[len(batch)] += 1
                self.broken_batches += mark.broken
                self.doubtful_batches += mark.doubtful

    # What `_batch` calls only when a batch of several did not commit cleanly:

    def _reserve_alone(self, reservation: Reservation) -> Booking:
        mark = self._leading
        several = getattr(mark, "several", False)
        if several:
            mark.broken, mark.several = True, False  # its own lookups are not the batch's
        try:
            return super()._reserve_alone(reservation)
        finally:
            mark.several = several

    def _find_id(self, office_id: str, booking_id: str) -> Booking | None:
        if getattr(self._leading, "several", False):
            self._leading.doubtful = True
        return super()._find_id(office_id, booking_id)


def make_scheduler(conninfo: str, schema: str, variant: str, threads: int = 1) -> qq.Scheduler:
    """A scheduler for the office of ``variant`` on a `PostgresStorage` of ``schema``; for
    several threads a grouping one (`BatchCountingStorage`) with a connection per thread."""
    options: dict[str, Any] = {"min_size": 1, "max_size": 2, "timeout": 5}
    if threads > 1:
        options |= {"max_size": threads, "group_commit": True}
    options.update(json.loads(os.environ.get(STORAGE_OPTIONS, "{}")))
    kind = BatchCountingStorage if threads > 1 else PostgresStorage
    storage = kind(conninfo, schema=schema, **options)
    return qq.Scheduler(make_office(variant), storage, secret=SECRET, clock=lambda: NOW)


def wait_for_server(conninfo: str, deadline_s: float = 90) -> int:
    """Back off until the server accepts a connection; how many attempts failed."""
    import psycopg

    delay, failed = 0.02, 0
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            psycopg.connect(conninfo, connect_timeout=2, autocommit=True).close()
            return failed
        except psycopg.Error:
            failed += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)  # back-off of a reconnect loop, not a race dodge
            delay = min(delay * 2, 0.25)


class Worker:
    """One booker (a process, or a thread of one): its keys, its random stream, its
    acknowledged active bookings; the journal and the scheduler are its process's."""

    def __init__(
        self,
        args: argparse.Namespace,
        journal: JsonLines,
        sched: qq.Scheduler,
        *,
        seed: int,
        thread: int | None = None,
    ) -> None:
        self.conninfo: str = args.conninfo
        self.variant: str = args.variant
        self.slot: int = args.slot
        self.thread = thread
        self.prefix = f"w{self.slot}" if thread is None else f"w{self.slot}t{thread}"
        self.rng = random.Random(seed)
        self.journal = journal
        self.sched = sched
        self.mine: list[str] = []
        self.requests = 0

    def doubt(self, op: str, exc: BaseException, **what: Any) -> None:
        """A request failed without an answer: journal it (no fsync) and wait for the server."""
        self.journal.write(
            {"op": "doubt", "during": op, "error": type(exc).__name__, "message": str(exc)[:200]}
            | what,
            sync=False,
        )
        wait_for_server(self.conninfo)

    def answer(self, record: dict[str, Any]) -> None:
        """Journal an answer (fsync) with the time and the adapter's own retries so far."""
        retries = getattr(self.sched.storage, "retries", None)
        where = {} if self.thread is None else {"thread": self.thread}
        self.journal.write(
            {**record, **where, "t": round(time.time(), 3), "adapter_retries": retries}
        )

    def book(self) -> None:
        """One booking request, asked again with its key until it has an answer."""
        self.requests += 1
        key = f"{self.prefix}-{self.requests}"
        citizen = self.rng.choice(CITIZENS)
        if self.variant == "plain":
            channel, places, at = "online", 1, None
        else:
            channel = self.rng.choice(["online", "priority"])
            places = self.rng.randint(1, 3)
            at = self.rng.choice([None, clock(8), clock(9)]) if channel == "online" else None
        asked = {"key": key, "citizen": citizen, "channel": channel, "places": places}
        doubts = 0
        existed: bool | None = None
        while True:
            try:
                if doubts:  # did the request that got no answer commit?
                    existed = self.sched.storage.find_by_key(OFFICE_ID, key) is not None
                b = self.sched.book(
                    channel,
                    citizen,
                    idempotency_key=key,
                    places=places,
                    preferred_time=at,
                    claims={"group": "lansia"} if channel == "priority" else None,
                )
            except qq.StorageError as exc:
                doubts += 1
                self.doubt("book", exc, key=key)
                continue
            except qq.QuotaExhausted:
                record: dict[str, Any] = {"op": "full", **asked}
            except qq.QueueQuotaError as exc:
                record = {"op": "refused", "error": type(exc).__name__, **asked}
            else:
                self.mine.append(b.id)
                record = {
                    "op": "book",
                    **asked,
                    "id": b.id,
                    "channel": b.channel,
                    "day": b.day.isoformat(),
                    "number": b.number,
                    "window": None if b.window is None else f"{b.window[0]:%H:%M}",
                }
            self.answer({**record, "in_doubt": doubts, "committed": existed})
            return

    def cancel(self) -> None:
        """Cancel one of this worker's bookings; after a lost answer, re-read it first."""
        booking_id = self.mine.pop(self.rng.randrange(len(self.mine)))
        doubts = 0
        committed: bool | None = None
        while True:
            try:
                if doubts:
                    status = self.sched.get(booking_id).status
                    committed = status is qq.BookingStatus.CANCELLED
                if not committed:
                    self.sched.cancel(booking_id)
            except qq.StorageError as exc:
                doubts += 1
                self.doubt("cancel", exc, id=booking_id)
                continue
            except qq.QueueQuotaError as exc:  # not expected: the test counts these
                record: dict[str, Any] = {
                    "op": "refused",
                    "during": "cancel",
                    "error": type(exc).__name__,
                    "id": booking_id,
                }
            else:
                record = {"op": "cancel", "id": booking_id}
            self.answer({**record, "in_doubt": doubts, "committed": committed})
            return

    def run(self, stop: Callable[[], bool], answered: Callable[[], None]) -> None:
        """Book and cancel until ``stop()``; call ``answered()`` after the first answer."""
        first = True
        while not stop():
            if self.mine and self.rng.random() < P_CANCEL:
                self.cancel()
            else:
                self.book()
            if first:
                answered()
                first = False


def run_process(args: argparse.Namespace) -> int:
    """The process's bookers (one, or ``--threads`` threads on one grouping storage) until
    ``stop``; print ``ready`` once each has an answer; the ``end`` line; the exit status."""
    journal = JsonLines(args.journal, sync=True)
    sched = make_scheduler(args.conninfo, args.schema, args.variant, args.threads)
    if args.threads == 1:
        worker = Worker(args, journal, sched, seed=args.seed)
        worker.run(_stop_requested, lambda: print("ready", flush=True))
        journal.write({"op": "end", "requests": worker.requests})
        journal.close()
        sched.storage.close()
        return 0
    rng = random.Random(args.seed)
    workers = [
        Worker(args, journal, sched, seed=rng.randrange(2**32), thread=i)
        for i in range(args.threads)
    ]
    stop = threading.Event()
    answered = [threading.Event() for _ in workers]
    failed: list[BaseException] = []

    def lane(worker: Worker, first: threading.Event) -> None:
        try:
            worker.run(stop.is_set, first.set)
        except BaseException as exc:
            traceback.print_exc()
            failed.append(exc)
            stop.set()
            first.set()

    threads = [
        threading.Thread(target=lane, args=(w, e), name=f"booker-{w.thread}", daemon=True)
        for w, e in zip(workers, answered, strict=True)
    ]
    for t in threads:
        t.start()
    for e in answered:
        e.wait()
    if not failed:
        print("ready", flush=True)
    while not stop.is_set():  # watch stdin, and the threads: one failed stops them all
        if _stop_requested(timeout=0.1):
            stop.set()
    for t in threads:
        t.join()
    if failed:
        return 1
    storage = sched.storage
    assert isinstance(storage, BatchCountingStorage)
    combiner = storage._combiners.get(OFFICE_ID)
    journal.write(
        {
            "op": "end",
            "requests": sum(w.requests for w in workers),
            "threads": len(workers),
            "batches": 0 if combiner is None else combiner.batches,
            "combined": 0 if combiner is None else combiner.combined,
            "batch_sizes": {str(k): n for k, n in sorted(storage.batch_sizes.items())},
            "broken_batches": storage.broken_batches,
            "doubtful_batches": storage.doubtful_batches,
        }
    )
    journal.close()
    storage.close()
    return 0


def _stop_requested(timeout: float = 0) -> bool:
    readable, _, _ = select.select([sys.stdin], [], [], timeout)
    return bool(readable) and sys.stdin.readline().strip() in ("stop", "")


# -- the journals and the database ------------------------------------------------------


ANSWERS = ("book", "full", "refused", "cancel")
#: What a threaded process's ``end`` line says of its storage's batches.
BATCHING = ("batches", "combined", "batch_sizes", "broken_batches", "doubtful_batches")


def answers(path: str | Path) -> int:
    """How many requests a journal holds the answer of."""
    return sum(1 for line in read_lines(path) if line["op"] in ANSWERS)


def summarize(journals: Iterable[str | Path]) -> dict[str, Any]:
    """The acknowledged bookings and cancels, refusals, how in-doubt requests ended, and
    each threaded process's batching (from its ``end`` line)."""
    booked: dict[str, dict[str, Any]] = {}
    cancelled: set[str] = set()
    refused: list[dict[str, Any]] = []
    doubt: Counter[str] = Counter()
    batching: list[dict[str, Any]] = []
    ended = adapter_retries = 0
    for path in journals:
        lines = read_lines(path)
        adapter_retries += max((x.get("adapter_retries") or 0 for x in lines), default=0)
        for line in lines:
            op = line["op"]
            if op == "book":
                booked[line["id"]] = line
            elif op == "cancel":
                cancelled.add(line["id"])
            elif op == "refused":
                refused.append(line)
            elif op == "doubt":
                doubt["doubt_lines"] += 1
            elif op == "end":
                ended += 1
                if "batches" in line:
                    batching.append({k: line[k] for k in BATCHING})
            if op in ANSWERS and line["in_doubt"]:
                outcome = {True: "committed", False: "not_committed", None: "unread"}
                doubt[f"{op}_in_doubt"] += 1
                doubt[f"{op}_{outcome[line['committed']]}"] += 1
    return {
        "booked": booked,
        "cancelled": cancelled,
        "refused": refused,
        "doubt": dict(sorted(doubt.items())),
        "ended": ended,
        "full": sum(1 for p in journals for x in read_lines(p) if x["op"] == "full"),
        "adapter_retries": adapter_retries,
        "batching": batching,
    }


def read_database(conninfo: str, schema: str) -> dict[str, Any]:
    """Counters, bookings, events and ``~seq`` of the office, in one read transaction."""
    import psycopg
    from psycopg import sql

    s = sql.Identifier(schema)
    with psycopg.connect(conninfo, autocommit=False) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

        def rows(query: str) -> list[tuple[Any, ...]]:
            return conn.execute(sql.SQL(query).format(s=s), (OFFICE_ID,)).fetchall()

        out = {
            "counters": rows(
                "SELECT scope, day::text, used, last FROM {s}.qq_counter WHERE office_id = %s"
            ),
            "bookings": rows(
                "SELECT id, channel, day::text, number, status, places, charges, "
                "to_char(window_start, 'HH24:MI'), idempotency_key "
                "FROM {s}.qq_booking WHERE office_id = %s"
            ),
            "events": rows(
                "SELECT office_id, seq, kind, booking_id, day::text, (data->>'number')::int "
                "FROM {s}.qq_event WHERE office_id = %s ORDER BY seq"
            ),
            "seq": rows(
                "SELECT value FROM {s}.qq_office_meta WHERE office_id = %s AND name = '~seq'"
            ),
        }
        conn.rollback()
    return out


def check_database(
    conninfo: str, schema: str, variant: str, journals: Iterable[str | Path]
) -> dict[str, Any]:
    """Everything wrong with the database, read after every worker stopped.

    Every request then has its answer in a journal, so the check is exact: each
    acknowledged booking is stored with its channel, day, number, places and window, and is
    ``cancelled`` exactly when a cancel of it was acknowledged; no booking is stored that no
    journal acknowledged; a key is on one booking; every counter equals the places its
    active bookings hold and is within capacity; a number is given once per channel and day
    and not beyond its counter's ``last``; the event log replays to the rows, its ``seq``
    1..N and ``~seq`` N.
    """
    journals = list(journals)
    acked = summarize(journals)
    db = read_database(conninfo, schema)
    capacity = CAPACITY[variant]
    problems: list[str] = []
    stored: dict[str, dict[str, Any]] = {}
    held: Counter[tuple[str, str]] = Counter()
    numbers: Counter[tuple[str, str, int]] = Counter()
    keys: Counter[str] = Counter()
    for bid, channel, day, number, status, places, charges, window, key in db["bookings"]:
        stored[bid] = {
            "channel": channel,
            "day": day,
            "number": number,
            "status": status,
            "places": places,
            "window": window,
            "key": key,
        }
        numbers[(channel, day, number)] += 1
        keys[key] += 1
        if status in ACTIVE:
            for scope in charges or [f"c:{channel}"]:
                held[(scope, day)] += places
    lost = changed = wrong_status = 0
    for bid, rec in acked["booked"].items():
        got = stored.get(bid)
        if got is None:
            lost += 1
            problems.append(f"acknowledged booking {bid} ({rec['key']}, {rec['day']}) is missing")
            continue
        fields = ("channel", "day", "number", "places", "window", "key")
        if any(got[f] != rec[f] for f in fields):
            changed += 1
            want = {f: rec[f] for f in fields}
            problems.append(f"acknowledged booking {bid} {want} is stored as {got}")
        status = "cancelled" if bid in acked["cancelled"] else "booked"
        if got["status"] != status:
            wrong_status += 1
            problems.append(f"acknowledged booking {bid} should be {status}, is {got['status']}")
    unacked = sorted(set(stored) - set(acked["booked"]))
    problems += [f"booking {bid} {stored[bid]} was never acknowledged" for bid in unacked]
    problems += [f"key {k!r} is on {n} bookings" for k, n in keys.items() if n > 1]
    used = {(scope, day): n for scope, day, n, _ in db["counters"] if n}
    if used != dict(held):
        diff = sorted(set(used.items()) ^ set(held.items()))
        problems.append(f"counters differ from the bookings' places: {diff[:6]}")
    problems += [f"{k} over capacity: {n}" for k, n in used.items() if n > capacity[k[0]]]
    problems += [
        f"{k} holds {n} places, over capacity" for k, n in held.items() if n > capacity[k[0]]
    ]
    last = {(scope[2:], day): n for scope, day, _, n in db["counters"] if scope.startswith("c:")}
    problems += [f"number {k} given {n} times" for k, n in numbers.items() if n > 1]
    problems += [
        f"number {k} beyond its counter's last" for k in numbers if k[2] > last.get(k[:2], 0)
    ]
    rows = {i: {f: b[f] for f in ("day", "number", "status")} for i, b in stored.items()}
    problems += event_problems({"events": db["events"], "bookings": rows})
    seq = int(db["seq"][0][0]) if db["seq"] else 0
    if seq != len(db["events"]):
        problems.append(f"~seq is {seq} but the log holds {len(db['events'])} events")
    batching = acked["batching"]
    batched = (
        {
            "batching": batching,
            "batches": sum(b["batches"] for b in batching),
            "combined": sum(b["combined"] for b in batching),
            "largest_batch": max((int(k) for b in batching for k in b["batch_sizes"]), default=0),
            "broken_batches": sum(b["broken_batches"] for b in batching),
            "doubtful_batches": sum(b["doubtful_batches"] for b in batching),
        }
        if batching
        else {}
    )
    return {
        "problems": problems,
        "lost": lost,
        "changed": changed,
        "wrong_status": wrong_status,
        "unacknowledged": len(unacked),
        "acked_bookings": len(acked["booked"]),
        "acked_cancels": len(acked["cancelled"]),
        "full": acked["full"],
        "refused": len(acked["refused"]),
        "refusals": acked["refused"],
        "stored": len(stored),
        "active_places": sum(n for (s, _), n in held.items() if s.startswith("c:")),
        "full_days": sorted(
            {d for (s, d), n in held.items() if s.startswith(("c:", "p:")) and n == capacity[s]}
        ),
        "events": len(db["events"]),
        "ended": acked["ended"],
        "adapter_retries": acked["adapter_retries"],
        **acked["doubt"],
        **batched,
    }


def _main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="_power_cut_workers.py")
    parser.add_argument("--conninfo", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--variant", choices=sorted(CAPACITY), required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--slot", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    sys.exit(run_process(parser.parse_args(argv)))


if __name__ == "__main__":
    _main(sys.argv[1:])
