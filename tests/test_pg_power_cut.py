"""The PostgreSQL server cut off under load: every acknowledged booking survives.

A cluster of its own (``fsync=on``, ``synchronous_commit=on``, see `_postgres_server`)
serves four booking processes (``tests/_power_cut_workers.py``) that book, each request
with its own idempotency key, and cancel their own bookings on an office of a few small
days, journaling (fsync) every answer before their next request. In each round the test
waits until every worker has new answers since the last round, then takes the server down
with no checkpoint and no goodbye to the clients: ``pg_ctl stop -m immediate`` (as a power
cut of the database host, except that what the server had already handed to the kernel
survives: a commit whose WAL was still in the server's memory is gone) or SIGKILL of the
postmaster, in turn, and starts it again (crash recovery from the WAL). The workers
reconnect with back-off and settle every request left without an answer: a book asked
again with its key, a cancel after re-reading the booking.

After the last round the workers stop (every request answered) and the tables are read
directly and compared with the journals, exactly: every acknowledged booking stored with
its day and number, every acknowledged cancel cancelled, nothing stored that no worker
acknowledged, a key on one booking, counters equal to the places of the active bookings
and within capacity, numbers unique per channel and day, the event log replaying to the
rows.

One variant runs four booking threads in each process on one
``PostgresStorage(group_commit=True, early_release=True)``: reservations waiting at once
share one transaction and one commit, and the cuts break such batches. The threads share
their process's journal (a line fsynced under its lock before its thread asks again), so
the check is the same; the processes also report how the storage batched, and the test
requires more reservations than batches in every process and batches of several that
the cuts broke or left in doubt.

The check is shown to catch a storage that acknowledges before the commit is durable:
the same workers on connections with ``synchronous_commit=off`` lose acknowledged
bookings across the same immediate stops (in each of 11 runs when it was written: 4-11
bookings and 1-8 cancels). Each test takes 10-20 s.
"""

from __future__ import annotations

import json
import os
import random
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import _power_cut_workers as pw
from _postgres_server import (
    ClusterError,
    PostgresCluster,
    _unavailable,
    start_cluster,
    stop_cluster,
    unique_schema,
)
from _workers import child_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKERS = 4
ROUNDS = 4
#: Booking threads in each process of the group-commit variant.
THREADS = 4
#: New answers every worker must have journaled before the next cut.
ANSWERS_PER_ROUND = 10


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    """A throwaway cluster for this module only: the tests stop and kill its server."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'queue-quota[postgres]')")
    try:
        made = start_cluster()
    except (ClusterError, OSError, subprocess.SubprocessError) as exc:
        _unavailable(f"cannot start a throwaway PostgreSQL: {exc}")
    try:
        yield made
    finally:
        stop_cluster(made)


class Fleet:
    """The booking processes of one test, each journaling into ``journal-<slot>.jsonl``
    (with ``threads`` > 1, each process's booking threads into its one journal)."""

    def __init__(
        self, conninfo: str, schema: str, variant: str, tmp_path: Path, seed: int, threads: int
    ):
        self.conninfo, self.schema, self.variant = conninfo, schema, variant
        self.threads = threads
        self.dir = tmp_path
        rng = random.Random(seed)
        self.procs = [self._spawn(slot, rng.randrange(2**32)) for slot in range(WORKERS)]

    def journal(self, slot: int) -> Path:
        return self.dir / f"journal-{slot}.jsonl"

    def journals(self) -> list[Path]:
        return [self.journal(slot) for slot in range(WORKERS)]

    def _spawn(self, slot: int, seed: int) -> subprocess.Popen[bytes]:
        with open(self.dir / f"stderr-{slot}.txt", "ab") as err:
            return subprocess.Popen(
                [
                    sys.executable,
                    pw.__file__,
                    *("--conninfo", self.conninfo, "--schema", self.schema),
                    *("--variant", self.variant, "--journal", str(self.journal(slot))),
                    *("--seed", str(seed), "--slot", str(slot)),
                    *("--threads", str(self.threads)),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=child_env(),
                cwd=self.dir,
            )

    def stderr(self, slot: int) -> str:
        return (self.dir / f"stderr-{slot}.txt").read_text(errors="replace")[-3000:]

    def wait_ready(self) -> None:
        """Until every worker has its first answer."""
        for slot, proc in enumerate(self.procs):
            assert proc.stdout is not None
            readable, _, _ = select.select([proc.stdout], [], [], 60)
            assert readable, f"worker {slot} never got ready:\n{self.stderr(slot)}"
            assert proc.stdout.readline().strip() == b"ready", self.stderr(slot)

    def answered(self) -> list[int]:
        return [pw.answers(path) for path in self.journals()]

    def wait_progress(self, since: list[int], n: int, timeout: float = 60) -> None:
        """Until every worker has journaled ``n`` answers more than ``since``."""
        deadline = time.monotonic() + timeout
        while True:
            for slot, proc in enumerate(self.procs):
                assert proc.poll() is None, f"worker {slot} died:\n{self.stderr(slot)}"
            now = self.answered()
            if all(a >= b + n for a, b in zip(now, since, strict=True)):
                return
            assert time.monotonic() < deadline, f"no progress: {since} -> {now}"
            time.sleep(0.01)  # polling the journals

    def stop(self) -> None:
        """Tell every worker to stop after its current request; each must exit cleanly."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(b"stop\n")
            proc.stdin.close()
        for slot, proc in enumerate(self.procs):
            assert proc.wait(timeout=60) == 0, f"worker {slot} failed:\n{self.stderr(slot)}"

    def kill(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None and not pipe.closed:
                    pipe.close()


def cut_power(cluster: PostgresCluster, how: str) -> float:
    """Take the server down (``immediate`` or ``sigkill``), start it again; seconds down."""
    t0 = time.monotonic()
    if how == "immediate":
        cluster.stop("immediate")
    else:
        cluster.crash()
    assert cluster.pg_ctl("status", check=False).returncode != 0, "the server is still up"
    for attempt in range(50):
        try:
            cluster.start()  # crash recovery from the WAL
            break
        except ClusterError:
            # After SIGKILL of the postmaster its children may still hold the shared
            # memory for a moment; the new postmaster then refuses to start.
            if attempt == 49:
                raise
            time.sleep(0.1)
    return time.monotonic() - t0


def run_cuts(
    cluster: PostgresCluster,
    tmp_path: Path,
    variant: str,
    seed: int,
    cuts: list[str],
    *,
    worker_options: str = "",
    threads: int = 1,
) -> dict[str, Any]:
    """Workers on a fresh schema, the server cut ``cuts`` times; then the direct check."""
    from queue_quota.storage.postgres import PostgresStorage

    schema = unique_schema()
    made = PostgresStorage(cluster.conninfo, schema=schema)
    made.migrate()  # the schema exists before the workers race to use it
    made.close()
    conninfo = cluster.conninfo + (f" options='{worker_options}'" if worker_options else "")
    t0 = time.monotonic()
    fleet = Fleet(conninfo, schema, variant, tmp_path, seed, threads)
    down: list[float] = []
    try:
        fleet.wait_ready()
        for how in cuts:
            fleet.wait_progress(fleet.answered(), ANSWERS_PER_ROUND)
            at = time.time()
            down.append(cut_power(cluster, how))
            with open(tmp_path / "cuts.jsonl", "a", encoding="utf-8") as log:  # for diagnosis
                log.write(json.dumps({"how": how, "down": at, "up": at + down[-1]}) + "\n")
        fleet.wait_progress(fleet.answered(), ANSWERS_PER_ROUND)  # all back at work
        fleet.stop()
    finally:
        fleet.kill()
    found = pw.check_database(cluster.conninfo, schema, variant, fleet.journals())
    (tmp_path / "found.json").write_text(json.dumps(found, indent=1))  # for diagnosis
    hidden = ("problems", "refusals", "full_days", "batching")
    figures = {k: v for k, v in found.items() if k not in hidden}
    print(
        f"\n[power cut {variant}{' ' + worker_options if worker_options else ''}"
        f"{f' {threads} threads' if threads > 1 else ''}] "
        f"cuts={'+'.join(cuts)} down_s={[round(d, 1) for d in down]} "
        + " ".join(f"{k}={v}" for k, v in figures.items())
        + f" full_days={len(found['full_days'])} problems={len(found['problems'])}"
        f" seconds={time.monotonic() - t0:.1f}"
    )
    return found


@pytest.mark.parametrize(
    ("variant", "seed", "early", "threads"),
    [
        ("plain", 11062020, False, 1),
        ("pooled", 12062020, False, 1),
        ("pooled", 14062020, True, 1),
        ("pooled", 15062020, True, THREADS),
    ],
    ids=["plain", "pooled", "pooled-early", "pooled-early-group-threads"],
)
def test_acknowledged_bookings_survive_server_power_cuts(
    cluster: PostgresCluster,
    tmp_path: Path,
    variant: str,
    seed: int,
    early: bool,
    threads: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four immediate stops / postmaster kills under four booking processes: every
    acknowledged booking and cancel is there, counters equal the rows, none over capacity
    (also with ``early_release``: the lock freed before the flush, a barrier after; and
    with four threads a process on one ``group_commit`` storage: batches of several
    reservations in one transaction, cut by the stops)."""
    monkeypatch.setenv(pw.STORAGE_OPTIONS, json.dumps({"early_release": early}))
    cuts = ["immediate", "sigkill"] * (ROUNDS // 2)
    found = run_cuts(cluster, tmp_path, variant, seed, cuts, threads=threads)
    assert found["problems"] == [], found["problems"][:8]
    assert found["ended"] == WORKERS  # every request answered
    assert [r for r in found["refusals"] if r.get("during") == "cancel"] == []
    assert found["acked_bookings"] > 0
    assert found["acked_cancels"] > 0
    assert found["full"] > 0, "no day filled up: the workers did not contend"
    # The cuts broke requests: the adapter ran them again (a commit in doubt settled by
    # the booking's id), or the worker got StorageError and asked again itself.
    in_doubt = found.get("book_in_doubt", 0) + found.get("cancel_in_doubt", 0)
    assert found["adapter_retries"] + in_doubt >= ROUNDS, found
    if threads > 1:
        # The threads did share transactions: in every process, more reservations than
        # batches; and the cuts broke batches of several reservations.
        assert len(found["batching"]) == WORKERS
        for stats in found["batching"]:
            assert stats["combined"] > stats["batches"], found["batching"]
        assert found["broken_batches"] + found["doubtful_batches"] > 0, found["batching"]


def test_the_check_catches_acknowledgement_before_durability(
    cluster: PostgresCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same workers and stops, on connections with ``synchronous_commit=off`` (a
    commit acknowledged before its WAL is flushed): acknowledged bookings are lost."""
    monkeypatch.setenv(pw.STORAGE_OPTIONS, json.dumps({"early_release": False}))  # no barrier
    found = run_cuts(
        cluster,
        tmp_path,
        "plain",
        13062020,
        ["immediate"] * ROUNDS,
        worker_options="-c synchronous_commit=off",
    )
    assert found["lost"] + found["wrong_status"] > 0, found


def test_journal_lines_are_on_disk_before_the_next_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`JsonLines(sync=True)`, the workers' journal, fsyncs each line as it writes it."""
    from _workers import JsonLines

    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real(fd)

    journal = JsonLines(tmp_path / "journal.jsonl", sync=True)
    monkeypatch.setattr(os, "fsync", fsync)
    journal.write({"op": "book"})
    assert len(synced) == 1
    journal.write({"op": "cancel"})
    assert len(synced) == 2
    monkeypatch.undo()
    journal.close()
