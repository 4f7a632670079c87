"""Processes for the waitlist race tests (``tests/test_waitlist_processes.py``).

* `racer_main`: a "spawn" process with its own scheduler that runs one command per round
  (``cancel``, ``promote``, ``leave`` or ``noop``), lined up with the other racers by a
  barrier, and reports what the call answered;
* ``python tests/_waitlist_worker.py kill-cancel SPEC BOOKING_ID K``: cancel one booking
  (the cancel promotes a waitlist entry in its transaction) and SIGKILL itself before the
  ``K``-th statement of the call (`_workers.StatementKiller`; SPEC is a storage spec as
  JSON); prints the number of statements when it was not killed;
* `read_db`: counters, bookings, waitlist entries and events read straight from the
  database (``sqlite3`` / ``psycopg``, not through the adapter), in one transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import queue_quota as qq
from _workers import StatementKiller, open_storage
from queue_quota.policies import OnlineQuota

OFFICE_ID = "tegal-waitlist"
SECRET = b"waitlist-race-secret-0123456789ab"
#: Thursday 4 June 2020, 09:00 WIB: "now" for every process.
NOW = datetime(2020, 6, 4, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
#: The booking window at NOW (lead 1 day, horizon 5 days, Mon-Fri): three working days.
DAYS = (date(2020, 6, 5), date(2020, 6, 8), date(2020, 6, 9))
#: The capacity of every counter, by office variant ("plain": 2 a day; "sessions": 3 a day
#: in two arrival windows of 2).
CAPACITY: dict[str, dict[str, int]] = {
    "plain": {"c:online": 2},
    "sessions": {"c:online": 3, "s:online@08:00": 2, "s:online@09:00": 2},
}
#: The arrival windows of each variant, in order of preference (``None``: no sessions).
WINDOWS: dict[str, tuple[str | None, ...]] = {"plain": (None,), "sessions": ("08:00", "09:00")}
ACTIVE = ("booked", "checked_in")

Spec = Mapping[str, Any]


def make_office(variant: str) -> qq.Office:
    """The office of ``variant``: one online channel full in three days, households of 2."""
    cap = CAPACITY[variant]
    sessions = ()
    if variant == "sessions":
        sessions = (
            qq.Session(time(8), time(9), cap["s:online@08:00"]),
            qq.Session(time(9), time(10), cap["s:online@09:00"]),
        )
    return qq.Office(
        OFFICE_ID,
        qq.WorkingCalendar(tz="Asia/Jakarta"),
        [
            OnlineQuota(
                cap["c:online"],
                lead_days=1,
                horizon_days=5,
                per_citizen=None,
                max_places=2,
                sessions=sessions,
            )
        ],
    )


def make_scheduler(spec: Spec, variant: str) -> qq.Scheduler:
    """A scheduler for the office of ``variant`` on the storage ``spec`` describes."""
    return qq.Scheduler(make_office(variant), open_storage(spec), secret=SECRET, clock=lambda: NOW)


# -- racers --------------------------------------------------------------------------------


def run_command(sched: qq.Scheduler, cmd: Mapping[str, Any]) -> dict[str, Any]:
    """Run one race command; what it answered (``promoted``: the ids a promotion made)."""
    op = cmd["op"]
    try:
        if op == "cancel":
            b = sched.cancel(cmd["id"], now=NOW)
            return {"ok": True, "status": b.status.value}
        if op == "promote":
            return {"ok": True, "promoted": [b.id for b in sched.promote_waitlist(now=NOW)]}
        if op == "leave":
            return {"ok": True, "left": sched.leave_waitlist(cmd["id"], now=NOW).id}
        if op == "noop":
            return {"ok": True}
    except qq.QueueQuotaError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    raise ValueError(f"unknown command {op!r}")


def racer_main(spec: Spec, variant: str, commands: Any, results: Any, barrier: Any) -> None:
    """Process entry point: run commands until ``None``, each right after ``barrier``."""
    sched = make_scheduler(spec, variant)
    try:
        results.put({"ready": os.getpid()})
        while True:
            cmd = commands.get(timeout=120)
            if cmd is None:
                return
            try:
                barrier.wait(timeout=60)
                outcome = run_command(sched, cmd)
            except Exception as exc:
                outcome = {"ok": False, "error": type(exc).__name__, "message": repr(exc)}
            results.put({"round": cmd["round"], "who": cmd["who"], "op": cmd["op"], **outcome})
    finally:
        sched.storage.close()


# -- a cancel killed before one of its statements -------------------------------------------


def kill_cancel(spec: Spec, booking_id: str, k: int) -> None:
    """Cancel ``booking_id``, SIGKILLing this process before the ``k``-th statement of the
    call: a SQLite statement as SQLite starts it, or a ``psycopg`` ``execute`` or
    ``commit`` (PostgreSQL: sent at once or queued in a pipeline)."""
    sched = make_scheduler(spec, "plain")
    killer = StatementKiller("cancel", k)
    if spec["kind"] == "sqlite":
        sched.storage._connect().set_trace_callback(killer)
    else:
        import psycopg

        for name in ("execute", "commit"):
            inner = getattr(psycopg.Connection, name)

            def counted(self: Any, *args: Any, _inner: Any = inner, **kwargs: Any) -> Any:
                killer(_inner.__name__)
                return _inner(self, *args, **kwargs)

            setattr(psycopg.Connection, name, counted)
    killer.arm("cancel")
    sched.cancel(booking_id, now=NOW)
    statements = killer.count
    killer.armed = False
    sched.storage.close()
    print(json.dumps({"statements": statements}), flush=True)


# -- reading the database directly ---------------------------------------------------------


def read_db(spec: Spec) -> dict[str, Any]:
    """``counters`` {(scope, day): used}, ``bookings`` {id: row}, ``waiting`` [(name, entry
    JSON)] in joining order, ``events`` [(seq, kind, booking_id, day, data JSON text)]."""
    if spec["kind"] == "sqlite":
        return _read_sqlite(spec["path"])
    if spec["kind"] == "postgres":
        return _read_postgres(spec["conninfo"], spec["schema"])
    raise ValueError(spec["kind"])


_BOOKINGS = "id, day, places, status, charges, window_start, ticket, citizen_ref, number"


def _read_sqlite(path: str) -> dict[str, Any]:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        conn.execute("BEGIN")
        counters = conn.execute(
            "SELECT scope, day, used FROM qq_counter WHERE office_id = ?", (OFFICE_ID,)
        ).fetchall()
        bookings = conn.execute(
            f"SELECT {_BOOKINGS} FROM qq_booking WHERE office_id = ?", (OFFICE_ID,)
        ).fetchall()
        waiting = conn.execute(
            "SELECT name, value FROM qq_state WHERE office_id = ? AND name LIKE 'wait:%' "
            "ORDER BY name",
            (OFFICE_ID,),
        ).fetchall()
        events = conn.execute(
            "SELECT seq, kind, booking_id, day, data FROM qq_event WHERE office_id = ? "
            "ORDER BY seq",
            (OFFICE_ID,),
        ).fetchall()
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.execute("COMMIT")
    finally:
        conn.close()
    out = _shape(
        counters,
        [(*b[:4], json.loads(b[4]) if b[4] else None, *b[5:]) for b in bookings],
        waiting,
        events,
    )
    out["integrity"] = integrity
    return out


def _read_postgres(conninfo: str, schema: str) -> dict[str, Any]:
    import psycopg
    from psycopg import sql

    s = sql.Identifier(schema)
    with psycopg.connect(conninfo, autocommit=False) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        counters = conn.execute(
            sql.SQL("SELECT scope, day::text, used FROM {}.qq_counter WHERE office_id = %s").format(
                s
            ),
            (OFFICE_ID,),
        ).fetchall()
        bookings = conn.execute(
            sql.SQL(
                "SELECT id, day::text, places, status, charges, window_start::text, ticket,"
                " citizen_ref, number FROM {}.qq_booking WHERE office_id = %s"
            ).format(s),
            (OFFICE_ID,),
        ).fetchall()
        waiting = conn.execute(
            sql.SQL(
                "SELECT name, value FROM {}.qq_state WHERE office_id = %s AND name LIKE 'wait:%%'"
                " ORDER BY name"
            ).format(s),
            (OFFICE_ID,),
        ).fetchall()
        events = conn.execute(
            sql.SQL(
                "SELECT seq, kind, booking_id, day::text, data::text FROM {}.qq_event"
                " WHERE office_id = %s ORDER BY seq"
            ).format(s),
            (OFFICE_ID,),
        ).fetchall()
        conn.rollback()
    return _shape(counters, bookings, waiting, events)


def _shape(counters: Any, bookings: Any, waiting: Any, events: Any) -> dict[str, Any]:
    return {
        "counters": {(scope, str(day)): used for scope, day, used in counters if used},
        "bookings": {
            bid: {
                "day": str(day),
                "places": places,
                "status": status,
                "charges": tuple(charges) if charges else ("c:online",),
                "window": None if start is None else str(start)[:5],
                "ticket": ticket,
                "citizen_ref": ref,
                "number": number,
            }
            for bid, day, places, status, charges, start, ticket, ref, number in bookings
        },
        "waiting": [(name, json.loads(value)) for name, value in waiting],
        "events": [
            (seq, kind, bid, None if day is None else str(day), data)
            for seq, kind, bid, day, data in events
        ],
        "integrity": None,
    }


if __name__ == "__main__":
    if sys.argv[1] != "kill-cancel":
        raise SystemExit(f"unknown command {sys.argv[1]!r}")
    kill_cancel(json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
