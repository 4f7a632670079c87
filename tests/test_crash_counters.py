"""SIGKILL during multi-counter takes on SQLite: counters equal the rows, nothing acked lost.

Three processes (``tests/_counter_workers.py``) book households of 1-3 places online (two
arrival windows) and on a claim-only priority channel, both under one pool, and cancel some
of their bookings, on one SQLite file. The test kills one at a random moment (seeded RNG)
and starts another in its place, over and over, while the others go on; after every kill
it reads ``qq_counter`` and ``qq_booking`` directly, in one read transaction: every counter
(day, session, pool) equals the places of its active bookings and is within its capacity,
numbers are unique and within their counter's last, and every acknowledged booking (and
cancel) is there as acknowledged.
"""

from __future__ import annotations

import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import _counter_workers as cw
from _workers import child_env

pytestmark = pytest.mark.slow

WORKERS = 3
KILLS = 15


class Workers:
    """One booking process per slot, each with its own journal."""

    def __init__(self, db: Path, tmp_path: Path, rng: random.Random) -> None:
        self.db, self.dir, self.rng = db, tmp_path, rng
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.ready: set[int] = set()
        self.kills = 0

    def journals(self) -> list[Path]:
        return [self.dir / f"journal-{slot}.jsonl" for slot in range(WORKERS)]

    def start(self, slot: int) -> None:
        with open(self.dir / f"stderr-{slot}.txt", "ab") as err:
            self.procs[slot] = subprocess.Popen(
                [
                    sys.executable,
                    cw.__file__,
                    str(self.db),
                    str(self.journals()[slot]),
                    str(self.rng.randrange(2**32)),
                ],
                stdout=subprocess.PIPE,
                stderr=err,
                env=child_env(),
                cwd=self.dir,
            )

    def stderr(self, slot: int) -> str:
        return (self.dir / f"stderr-{slot}.txt").read_text(errors="replace")[-3000:]

    def wait_ready(self, slot: int) -> None:
        """Until the worker has acknowledged its first answer."""
        if slot in self.ready:
            return
        proc = self.procs[slot]
        assert proc.stdout is not None
        readable, _, _ = select.select([proc.stdout], [], [], 60)
        assert readable, f"worker {slot} never got ready:\n{self.stderr(slot)}"
        assert proc.stdout.readline().strip() == b"ready", self.stderr(slot)
        self.ready.add(slot)

    def kill(self, slot: int) -> None:
        proc = self.procs.pop(slot)
        self.ready.discard(slot)
        assert proc.poll() is None, f"worker {slot} died on its own:\n{self.stderr(slot)}"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert proc.stdout is not None
        proc.stdout.close()
        self.kills += 1

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _check(workers: Workers) -> dict[str, Any]:
    """The database against the journals: whatever was acked before the read is in it."""
    found = cw.check_database(str(workers.db), workers.journals())
    assert found["problems"] == [], found["problems"][:5]
    return found


def test_sigkill_during_multi_counter_takes_keeps_counters_equal_to_rows(tmp_path: Path) -> None:
    """SQLite: 18 SIGKILLs of processes booking households into a pool with sessions."""
    rng = random.Random(9062020)
    db = tmp_path / "counters.sqlite3"
    cw.SQLiteStorage(db).close()  # the schema exists before the processes race to use it
    workers = Workers(db, tmp_path, rng)
    try:
        for slot in range(WORKERS):
            workers.start(slot)
        for _ in range(KILLS):
            slot = rng.randrange(WORKERS)
            workers.wait_ready(slot)
            time.sleep(rng.uniform(0, 0.2))  # the moment of the kill is what is under test
            workers.kill(slot)
            _check(workers)  # the others keep booking meanwhile
            workers.start(slot)
        for slot in range(WORKERS):
            workers.wait_ready(slot)
            time.sleep(rng.uniform(0, 0.05))
            workers.kill(slot)
        last = _check(workers)  # every process dead: the journals are final
    finally:
        workers.stop_all()
    print(f"\n[counter sigkill] kills={workers.kills} {last}")
    assert workers.kills == KILLS + WORKERS
    assert last["acked"]
    assert last["cancels"]
    assert last["households"]
    assert last["events"] >= last["acked"] + last["cancels"]
    assert last["pool_full_days"], "the pool never filled: the test did not contend for it"


def test_the_direct_check_finds_counters_off_their_rows_and_lost_bookings(tmp_path: Path) -> None:
    """The check reads what it claims: a pool counter off by one, a session over its
    capacity, a lost acknowledged booking and a duplicate number are all reported."""
    db = tmp_path / "check.sqlite3"
    journal = tmp_path / "journal.jsonl"
    sched = cw.qq.Scheduler(
        cw.make_office(), cw.SQLiteStorage(db), secret=cw.SECRET, clock=lambda: cw.NOW
    )
    with open(journal, "w", encoding="utf-8") as out:
        for i in range(3):
            b = sched.book("online", f"332801123456000{i}", places=1, preferred_time=cw.time(8))
            cw._write(out, {"op": "book", "id": b.id, "channel": b.channel,
                            "day": b.day.isoformat(), "number": b.number, "places": b.places,
                            "window": "08:00"})  # fmt: skip
    sched.storage.close()
    assert cw.check_database(str(db), [journal])["problems"] == []
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE qq_counter SET used = used + 1 WHERE scope = 'p:loket'")
        conn.execute("UPDATE qq_counter SET used = 4 WHERE scope = 's:online@08:00'")
        conn.execute("DELETE FROM qq_booking WHERE number = 3")
        conn.execute("DROP INDEX qq_booking_number")
        conn.execute("UPDATE qq_booking SET number = 1")
    problems = " | ".join(cw.check_database(str(db), [journal])["problems"])
    assert "counters differ from the bookings' places" in problems
    assert "('s:online@08:00', '2020-06-04') over capacity: 4" in problems
    assert "is stored as None" in problems
    assert "given 2 times" in problems


def test_the_direct_check_finds_a_change_without_its_event(tmp_path: Path) -> None:
    """An event deleted behind the library's back (a change whose event was lost), and an
    event about no booking, are both reported."""
    import sqlite3

    db = tmp_path / "events.sqlite3"
    sched = cw.qq.Scheduler(
        cw.make_office(), cw.SQLiteStorage(db), secret=cw.SECRET, clock=lambda: cw.NOW
    )
    booked = [sched.book("online", f"332801123456000{i}") for i in range(2)]
    sched.cancel(booked[0].id)
    sched.storage.close()
    assert cw.check_database(str(db), [])["problems"] == []
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM qq_event WHERE kind = 'cancelled'")
    problems = cw.check_database(str(db), [])["problems"]
    assert any("its events replay to" in p and "'booked'" in p for p in problems), problems
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE qq_event SET booking_id = 'NOSUCHBOOKING00' WHERE seq = 2")
    problems = cw.check_database(str(db), [])["problems"]
    assert any("without its booking" in p for p in problems), problems
