"""A booking process for the multi-counter crash tests (``tests/test_crash_counters.py``).

``python tests/_counter_workers.py DB JOURNAL SEED`` books households (1-3 places) online
(two arrival windows) and on a claim-only priority channel, both under one pool, and
cancels some of its own bookings, in a loop, on one SQLite file. It journals a cancel it is
about to ask for, and every acknowledged answer after the call returned (one JSON line,
flushed: a SIGKILL does not lose what the kernel already has). It prints ``ready`` after
its first acknowledged answer. The test kills it at random moments.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
from collections import Counter
from datetime import datetime, time
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import queue_quota as qq
from _workers import event_problems
from queue_quota.policies import OnlineQuota
from queue_quota.storage import SQLiteStorage

OFFICE_ID = "tegal-counters"
SECRET = b"counter-crash-secret-0123456789ab"
#: Thursday 4 June 2020, 07:00 WIB: before the first arrival window of the day.
NOW = datetime(2020, 6, 4, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
#: The counters' capacities (sessions of online; the pool over online and priority).
CAPACITY = {
    "c:online": 5,
    "s:online@08:00": 3,
    "s:online@09:00": 3,
    "c:priority": 4,
    "p:loket": 7,
}
HORIZON_DAYS = 8
ACTIVE = ("booked", "checked_in")


def make_office() -> qq.Office:
    """Online 5 a day in two windows of 3 and priority 4 (claim ``group``), pool of 7."""
    sessions = (
        qq.Session(time(8), time(9), CAPACITY["s:online@08:00"]),
        qq.Session(time(9), time(10), CAPACITY["s:online@09:00"]),
    )
    return qq.Office(
        OFFICE_ID,
        qq.WorkingCalendar(tz="Asia/Jakarta"),
        [
            OnlineQuota(
                CAPACITY["c:online"],
                sessions=sessions,
                max_places=3,
                lead_days=0,
                horizon_days=HORIZON_DAYS,
                per_citizen=None,
            ),
            OnlineQuota(
                CAPACITY["c:priority"],
                channel="priority",
                prefix="P",
                requires_claim="group",
                max_places=3,
                lead_days=0,
                horizon_days=HORIZON_DAYS,
                per_citizen=None,
            ),
        ],
        pools=[qq.Pool("loket", CAPACITY["p:loket"], ["online", "priority"])],
    )


def _write(journal: IO[str], record: dict[str, Any]) -> None:
    journal.write(json.dumps(record, sort_keys=True) + "\n")
    journal.flush()


def work(db: str, journal_path: str, seed: int) -> None:
    """Book and cancel until killed."""
    rng = random.Random(seed)
    sched = qq.Scheduler(make_office(), SQLiteStorage(db), secret=SECRET, clock=lambda: NOW)
    # The bookings this slot's predecessors acknowledged and did not cancel (a cancel
    # asked for without an answer may or may not have happened: the database says).
    before = read_journals([Path(journal_path)])
    mine = [
        i
        for i in sorted(set(before["booked"]) - before["cancelled"])
        if i not in before["asked"] or sched.get(i).status is qq.BookingStatus.BOOKED
    ]
    ready = False
    with open(journal_path, "a", encoding="utf-8") as journal:
        while True:
            b: qq.Booking | None = None
            if mine and rng.random() < 0.3:
                booking_id = mine.pop(rng.randrange(len(mine)))
                _write(journal, {"op": "cancel-ask", "id": booking_id})
                sched.cancel(booking_id)
                _write(journal, {"op": "cancel", "id": booking_id})
            else:
                channel = rng.choice(["online", "priority"])
                at = rng.choice([None, time(8), time(9)]) if channel == "online" else None
                try:
                    b = sched.book(
                        channel,
                        f"33280112345{rng.randrange(10**5):05d}",
                        places=rng.randint(1, 3),
                        preferred_time=at,
                        claims={"group": "lansia"},
                    )
                except qq.QuotaExhausted:
                    b = None
            if b is not None:
                mine.append(b.id)
                record = {
                    "op": "book",
                    "id": b.id,
                    "channel": b.channel,
                    "day": b.day.isoformat(),
                    "number": b.number,
                    "places": b.places,
                    "window": None if b.window is None else f"{b.window[0]:%H:%M}",
                }
                _write(journal, record)
            if not ready:
                ready = True
                print("ready", flush=True)


# -- reading the database directly ---------------------------------------------------------


def read_journals(paths: list[Path]) -> dict[str, Any]:
    """Acknowledged bookings by id, acknowledged cancels, and cancels asked for."""
    booked: dict[str, dict[str, Any]] = {}
    cancelled: set[str] = set()
    asked: set[str] = set()
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:  # torn by a kill
                continue
            if rec["op"] == "book":
                booked[rec["id"]] = rec
            elif rec["op"] == "cancel":
                cancelled.add(rec["id"])
            else:
                asked.add(rec["id"])
    return {"booked": booked, "cancelled": cancelled, "asked": asked}


def check_database(db: str, journals: list[Path]) -> dict[str, Any]:
    """Read ``qq_counter`` and ``qq_booking`` in one read transaction and list what is
    wrong: a counter off the places of its active bookings or over capacity, a number given
    twice or beyond the counter's last, an acknowledged booking missing or changed.

    The journals are read before the database (what was acknowledged then must be in it)
    and again after (a cancel the database shows was asked for by then)."""
    acked = read_journals(journals)
    conn = sqlite3.connect(db, timeout=60, isolation_level=None)
    try:
        conn.execute("BEGIN")
        counters = conn.execute(
            "SELECT scope, day, used, last FROM qq_counter WHERE office_id = ?", (OFFICE_ID,)
        ).fetchall()
        rows = conn.execute(
            "SELECT id, channel, day, number, status, places, charges, window_start "
            "FROM qq_booking WHERE office_id = ?",
            (OFFICE_ID,),
        ).fetchall()
        events = conn.execute(
            "SELECT office_id, seq, kind, booking_id, day, json_extract(data, '$.number') "
            "FROM qq_event WHERE office_id = ? ORDER BY seq",
            (OFFICE_ID,),
        ).fetchall()
        last_seq = conn.execute(
            "SELECT value FROM qq_office_meta WHERE office_id = ? AND name = '~seq'",
            (OFFICE_ID,),
        ).fetchone()
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.execute("COMMIT")
    finally:
        conn.close()
    asked = read_journals(journals)["asked"]
    held: Counter[tuple[str, str]] = Counter()
    numbers: Counter[tuple[str, str, int]] = Counter()
    stored: dict[str, tuple[Any, ...]] = {}
    for booking_id, channel, day, number, status, places, charges, start in rows:
        numbers[(channel, day, number)] += 1
        stored[booking_id] = (channel, day, number, places, start, status)
        if status in ACTIVE:
            for scope in json.loads(charges) if charges else [f"c:{channel}"]:
                held[(scope, day)] += places
    used = {(scope, day): n for scope, day, n, _ in counters if n}
    last = {(scope[2:], day): n for scope, day, _, n in counters if scope.startswith("c:")}
    problems: list[str] = []
    if used != dict(held):
        diff = set(used.items()) ^ set(held.items())
        problems.append(f"counters differ from the bookings' places: {sorted(diff)[:6]}")
    problems += [f"{k} over capacity: {n}" for k, n in used.items() if n > CAPACITY[k[0]]]
    problems += [f"number {k} given {n} times" for k, n in numbers.items() if n > 1]
    problems += [
        f"number {k} beyond the counter's last" for k in numbers if k[2] > last.get(k[:2], 0)
    ]
    for booking_id, rec in acked["booked"].items():
        got = stored.get(booking_id)
        want = (rec["channel"], rec["day"], rec["number"], rec["places"], rec["window"])
        if got is None or got[:5] != want:
            problems.append(f"acknowledged booking {booking_id} {want} is stored as {got}")
            continue
        status = got[5]
        if booking_id in acked["cancelled"]:
            ok = status == "cancelled"
        elif booking_id in asked:
            ok = status in ("booked", "cancelled")
        else:
            ok = status == "booked"
        if not ok:
            problems.append(f"acknowledged booking {booking_id} is {status}")
    problems += _event_problems(events, last_seq, stored)
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    return {
        "problems": problems,
        "acked": len(acked["booked"]),
        "cancels": len(acked["cancelled"]),
        "bookings": len(rows),
        "active_places": sum(n for (s, _), n in held.items() if s.startswith("c:")),
        "pool_full_days": sum(
            1 for (s, _), n in held.items() if s == "p:loket" and n == CAPACITY[s]
        ),
        "days": len({d for _, d in held}),
        "households": sum(1 for r in rows if r[5] > 1),
        "events": len(events),
    }


def _event_problems(
    events: list[tuple[Any, ...]], last_seq: tuple[str] | None, stored: dict[str, Any]
) -> list[str]:
    """The log against the rows (`_workers.event_problems`), and ``~seq`` at its end."""
    bookings = {i: {"day": row[1], "number": row[2], "status": row[5]} for i, row in stored.items()}
    problems = event_problems({"events": events, "bookings": bookings})
    if int(last_seq[0] if last_seq else 0) != len(events):
        problems.append(f"~seq is {last_seq} but the log holds {len(events)} events")
    return problems


if __name__ == "__main__":
    work(sys.argv[1], sys.argv[2], int(sys.argv[3]))
