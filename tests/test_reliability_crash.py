"""Crashes: booking processes killed with SIGKILL, PostgreSQL backends terminated.

Each worker (``python tests/_workers.py crash-worker``) books, cancels and reschedules in a
loop and appends every acknowledged answer to its journal (flush + fsync) *after* the call
returns. The test kills a worker at a random moment (seeded RNG), checks the database read
directly against the journals and the invariants, and starts a new worker in its place,
which first retries, with the same idempotency key, any booking its predecessor asked for
without an answer.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import _workers as w
from _postgres_server import drop_schema, unique_schema

pytestmark = pytest.mark.slow

WORKERS = 2
KILLS = 20  # random kills while the other worker keeps booking; then each is killed once more
APP_NAME = "qq_reliability_worker"


class Fleet:
    """Crash workers, one active per slot, each journaling into ``journal-<slot>.jsonl``.

    A replacement is started ahead as a stand-by (imports done, connected) and called in
    with ``go`` once its predecessor is dead, so kills are not paced by interpreter start-up.
    """

    def __init__(self, spec: dict[str, Any], tmp_path: Path, rng: random.Random) -> None:
        self.spec = spec
        self.dir = tmp_path
        self.rng = rng
        self.generation = 0
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.standby: dict[int, subprocess.Popen[bytes]] = {}
        self.ready: dict[int, bool] = {}
        self.kills = 0

    def journal(self, slot: int) -> Path:
        return self.dir / f"journal-{slot}.jsonl"

    def prepare(self, slot: int, *extra: str) -> None:
        """Start the next worker of ``slot`` as a stand-by (``extra``: more arguments)."""
        assert slot not in self.standby
        self.generation += 1
        with open(self.dir / f"stderr-{slot}.txt", "ab") as err:
            self.standby[slot] = subprocess.Popen(
                [
                    sys.executable,
                    w.__file__,
                    "crash-worker",
                    "--spec",
                    json.dumps(self.spec),
                    "--journal",
                    str(self.journal(slot)),
                    "--slot",
                    str(slot),
                    "--generation",
                    str(self.generation),
                    "--seed",
                    str(self.rng.randrange(2**32)),
                    "--standby",
                    *extra,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=w.child_env(),
                cwd=self.dir,
            )

    def activate(self, slot: int) -> None:
        """Call the stand-by of ``slot`` in (starting one first if there is none)."""
        if slot not in self.standby:
            self.prepare(slot)
        proc = self.standby.pop(slot)
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.close()
        self.procs[slot] = proc
        self.ready[slot] = False

    def wait_ready(self, slot: int, timeout: float = 60) -> bool:
        """Whether the worker has journaled its first acknowledged answer (waits ``timeout``)."""
        if self.ready[slot]:
            return True
        proc = self.procs[slot]
        assert proc.stdout is not None
        readable, _, _ = select.select([proc.stdout], [], [], timeout)
        if not readable:
            if timeout:
                raise AssertionError(f"worker {slot} never got ready:\n{self.stderr(slot)}")
            return False
        line = proc.stdout.readline()
        if line.strip() != b"ready":
            proc.kill()
            proc.wait()
            raise AssertionError(
                f"worker {slot} died before its first answer:\n{self.stderr(slot)}"
            )
        self.ready[slot] = True
        return True

    def pick(self, rng: random.Random) -> int:
        """A random worker among those already booking (waiting for the first if none is)."""
        busy = [s for s in sorted(self.procs) if self.wait_ready(s, timeout=0)]
        if not busy:
            pipes = {self.procs[s].stdout: s for s in self.procs}
            readable, _, _ = select.select(list(pipes), [], [], 60)
            assert readable, "no worker got ready"
            busy = [s for s in sorted(pipes[r] for r in readable) if self.wait_ready(s)]
        return rng.choice(busy)

    def alive(self, slot: int) -> bool:
        return self.procs[slot].poll() is None

    def kill(self, slot: int) -> None:
        proc = self.procs[slot]
        assert proc.poll() is None, f"worker {slot} died on its own:\n{self.stderr(slot)}"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert proc.stdout is not None
        proc.stdout.close()
        self.kills += 1

    def stop_all(self) -> None:
        for proc in [*self.procs.values(), *self.standby.values()]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def stderr(self, slot: int) -> str:
        path = self.dir / f"stderr-{slot}.txt"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def state(self) -> dict[str, Any]:
        lines = [line for s in range(WORKERS) for line in w.read_lines(self.journal(s))]
        return w.replay(lines)

    def acks(self, slot: int) -> int:
        ops = ("book", "cancel", "move")
        return sum(1 for line in w.read_lines(self.journal(slot)) if line["op"] in ops)


class Tally:
    """Violations summed over every check."""

    def __init__(self) -> None:
        self.total: Counter[str] = Counter()
        self.checks = 0

    def check(self, fleet: Fleet) -> dict[str, Any]:
        """Journals, then a snapshot, then journals again; count what is wrong."""
        before = fleet.state()
        snap = w.snapshot(fleet.spec)
        after = fleet.state()
        found = w.check_invariants(snap, w.CRASH_CAPACITY) | w.check_journal(before, snap, after)
        self.checks += 1
        self.total.update({k: v for k, v in found.items() if k != "unacked"})
        return {"snap": snap, "state": after, **found}


def summary(label: str, fleet: Fleet, tally: Tally, last: dict[str, Any], t0: float) -> str:
    state, snap = last["state"], last["snap"]
    statuses = Counter(b["status"] for b in snap["bookings"].values())
    moved = sum(len(b["history"]) > 1 for b in state["bookings"].values())
    figures = {
        "kills": fleet.kills,
        "checks": tally.checks,
        "acked_bookings": len(state["bookings"]),
        "db_bookings": len(snap["bookings"]),
        "active": statuses["booked"],
        "cancelled": statuses["cancelled"],
        "acked_with_later_ops": moved,
        "days_used": len(snap["days"]),
        "unacked_committed": last["unacked"],
        "retries_found_committed": state["retried_existing"],
        "storage_errors": state["storage_errors"],
        "adapter_retries": state["adapter_retries"],
        "errors": len(state["errors"]),
        **{k: tally.total[k] for k in sorted(tally.total)},
        "seconds": round(time.monotonic() - t0, 1),
    }
    return f"\n[{label}] " + " ".join(f"{k}={v}" for k, v in figures.items())


def assert_clean(tally: Tally, last: dict[str, Any]) -> None:
    """No check ever found a violation, and no worker was refused or failed otherwise."""
    assert dict(tally.total) == dict.fromkeys(tally.total, 0)
    assert last["state"]["errors"] == [], last["state"]["errors"][:3]


def run_kills(spec: dict[str, Any], tmp_path: Path, seed: int, label: str) -> None:
    """Kill a random worker at a random moment KILLS times, checking after each kill."""
    rng = random.Random(seed)
    fleet = Fleet(spec, tmp_path, rng)
    tally = Tally()
    t0 = time.monotonic()
    try:
        for slot in range(WORKERS):
            fleet.activate(slot)
            fleet.prepare(slot)
        for _ in range(KILLS):
            slot = fleet.pick(rng)
            time.sleep(rng.uniform(0, 0.25))  # the moment of the kill is what is under test
            fleet.kill(slot)
            last = tally.check(fleet)  # the others keep booking meanwhile
            fleet.activate(slot)
            fleet.prepare(slot)
        for slot in range(WORKERS):
            fleet.wait_ready(slot)
            time.sleep(rng.uniform(0, 0.1))
            fleet.kill(slot)
        last = tally.check(fleet)  # every worker dead: the journals are final
    finally:
        fleet.stop_all()
    print(summary(label, fleet, tally, last, t0))
    assert fleet.kills >= 20
    assert len(last["state"]["bookings"]) > 0
    assert_clean(tally, last)


def test_sqlite_sigkill_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """SQLite: 22 SIGKILLs mid-booking; counters, acks, capacity, numbers, integrity hold."""
    spec = {"kind": "sqlite", "path": str(tmp_path / "crash.sqlite3")}
    run_kills(spec, tmp_path, seed=4062020, label="sqlite sigkill")


def test_sqlite_kill_before_each_statement_of_each_write(tmp_path: Path) -> None:
    """SQLite: workers killed before the k-th SQL statement of a book/cancel/move, every k."""
    spec = {"kind": "sqlite", "path": str(tmp_path / "points.sqlite3")}
    fleet = Fleet(spec, tmp_path, random.Random(7062020))
    tally = Tally()
    t0 = time.monotonic()
    points = [("book", k) for k in range(1, 10)]
    points += [("cancel", k) for k in range(1, 6)] + [("move", k) for k in range(1, 10)]
    todo = [("--die-at", op, str(k)) for op, k in points]
    lanes: dict[int, list[tuple[str, ...]]] = {s: todo[s::WORKERS] for s in range(WORKERS)}
    try:
        for slot, mine in lanes.items():
            fleet.prepare(slot, *mine.pop(0))
            fleet.activate(slot)
            if mine:
                fleet.prepare(slot, *mine.pop(0))
        running = set(lanes)
        deadline = time.monotonic() + 120
        while running:
            assert time.monotonic() < deadline, "a worker never reached its statement"
            done = [s for s in running if fleet.procs[s].poll() is not None]
            if not done:
                time.sleep(0.01)  # waiting for a worker to kill itself
                continue
            for slot in done:
                proc = fleet.procs[slot]
                assert proc.returncode == -signal.SIGKILL, fleet.stderr(slot)
                assert proc.stdout is not None
                proc.stdout.close()
                fleet.kills += 1
                last = tally.check(fleet)  # the other lanes keep booking meanwhile
                if slot in fleet.standby:
                    fleet.activate(slot)
                    if lanes[slot]:
                        fleet.prepare(slot, *lanes[slot].pop(0))
                else:
                    running.discard(slot)
        last = tally.check(fleet)
    finally:
        fleet.stop_all()
    print(summary("sqlite statement kills", fleet, tally, last, t0))
    assert fleet.kills == len(points) >= 20
    assert_clean(tally, last)


@pytest.fixture
def pg_spec(postgres_conninfo: str) -> Iterator[dict[str, Any]]:
    """A storage spec on a fresh schema; workers' connections carry APP_NAME."""
    schema = unique_schema()
    yield {
        "kind": "postgres",
        "conninfo": f"{postgres_conninfo} application_name={APP_NAME}",
        "schema": schema,
        "options": {"min_size": 1, "max_size": 2, "timeout": 10},
    }
    drop_schema(postgres_conninfo, schema)


@pytest.mark.postgres
def test_postgres_sigkill_loses_nothing_acknowledged(
    tmp_path: Path, pg_spec: dict[str, Any]
) -> None:
    """PostgreSQL: 22 SIGKILLs of client processes; counters, acks, capacity, numbers hold."""
    run_kills(pg_spec, tmp_path, seed=5062020, label="postgres sigkill")


@pytest.mark.postgres
def test_postgres_terminated_backends_only_storage_errors(
    tmp_path: Path, pg_spec: dict[str, Any], postgres_conninfo: str
) -> None:
    """PostgreSQL: backends killed by pg_terminate_backend; workers go on, nothing is lost."""
    import psycopg

    rng = random.Random(8062020)
    fleet = Fleet(pg_spec, tmp_path, rng)
    tally = Tally()
    terminated = attempts = 0
    t0 = time.monotonic()
    try:
        for slot in range(WORKERS):
            fleet.activate(slot)
        for slot in range(WORKERS):
            fleet.wait_ready(slot)
        with psycopg.connect(postgres_conninfo, autocommit=True) as admin:
            while terminated < 25:
                attempts += 1
                assert attempts < 500, "no worker connection to terminate"
                time.sleep(rng.uniform(0, 0.1))  # the moment of the termination is under test
                pids = [
                    pid
                    for (pid,) in admin.execute(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                        "AND pid <> pg_backend_pid()",
                        (APP_NAME,),
                    ).fetchall()
                ]
                if not pids:
                    continue
                row = admin.execute(
                    "SELECT pg_terminate_backend(%s)", (rng.choice(pids),)
                ).fetchone()
                terminated += bool(row and row[0])
                for slot in range(WORKERS):
                    assert fleet.alive(slot), f"worker {slot} died:\n{fleet.stderr(slot)}"
            # Every worker keeps booking after the last termination.
            progress = {slot: fleet.acks(slot) for slot in range(WORKERS)}
            deadline = time.monotonic() + 60
            while any(fleet.acks(s) < progress[s] + 5 for s in range(WORKERS)):
                assert time.monotonic() < deadline, "a worker stopped making progress"
                time.sleep(0.05)
        mid = tally.check(fleet)
        for slot in range(WORKERS):
            fleet.kill(slot)
        last = tally.check(fleet)
    finally:
        fleet.stop_all()
    print(
        summary("postgres terminate", fleet, tally, last, t0)
        + f" terminated_backends={terminated} unacked_mid_run={mid['unacked']}"
    )
    assert terminated >= 20
    assert_clean(tally, last)  # nothing but StorageError (never a false QuotaExhausted)
