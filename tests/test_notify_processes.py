"""A notifier process killed with SIGKILL, over and over, delivering to a real local HTTP
server that fails a third of the requests and sometimes hangs past the sender's timeout:
every event arrives at least once, a duplicate only with its event's idempotency id, every
signature verifies, and each booking's events arrive in order."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import _notify_worker as nw
import _workers as w
from conftest import wib
from queue_quota.notify import InvalidSignature, verify_signature
from queue_quota.storage import SQLiteStorage

pytestmark = pytest.mark.slow


class Receiver:
    """What the flaky server saw: accepted deliveries in arrival order, bad signatures."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.failed = self.hung = 0
        self.release = threading.Event()

    def handle(self, headers: Any, body: bytes) -> int:
        if len(body) != int(headers["Content-Length"]):
            return 400  # the sender was killed half-way through its request
        try:
            verify_signature(
                nw.WEBHOOK_SECRET,
                body,
                timestamp=headers["Webhook-Timestamp"],
                signature=headers["Webhook-Signature"],
            )
        except (InvalidSignature, KeyError, TypeError):
            with self.lock:
                self.bad_signatures += 1
            return 401
        with self.lock:
            roll = self.rng.random()
            if roll < 0.33:
                self.failed += 1
                return 500
            hang = roll < 0.43
            if hang:
                self.hung += 1
        if hang:  # past the sender's 0.3 s timeout: the sender gives up, we accept late
            self.release.wait(0.6)
        doc = json.loads(body)
        with self.lock:
            self.accepted.append({"id": headers["Webhook-Id"], **doc})
        return 200


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver(seed=11062020)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            try:
                body = self.rfile.read(int(self.headers["Content-Length"]))
            except OSError:
                return  # the sender was killed half-way through its request
            status = rec.handle(self.headers, body)
            try:
                self.send_response(status)
                self.end_headers()
            except OSError:
                pass  # the sender timed out and went away

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec, f"http://127.0.0.1:{server.server_port}/hook"
    rec.release.set()
    server.shutdown()
    server.server_close()


def _start(db: Path, url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    err = open(tmp_path / "notifier.stderr", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, nw.__file__, str(db), url],
        stdout=subprocess.PIPE,
        stderr=err,
        env=w.child_env(),
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready", (tmp_path / "notifier.stderr").read_text()
    return proc


def _seqs(rec: Receiver) -> set[int]:
    with rec.lock:
        return {d["seq"] for d in rec.accepted}


def test_a_killed_notifier_resumes_without_losing_an_event(
    tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    db = tmp_path / "notify.sqlite3"
    SQLiteStorage(db).close()
    sched = w.make_scheduler({"kind": "sqlite", "path": str(db)}, capacity=25, horizon_days=10)
    now = wib(2020, 6, 3, 9)
    rng = random.Random(3)
    booked = [sched.book("online", f"33280112345{i:05d}", now=now) for i in range(40)]
    for b in rng.sample(booked, 10):
        sched.reschedule(b.id, now=now)
    for b in rng.sample(booked, 10):
        sched.cancel(b.id, now=now)
    total = len(sched.events(limit=1000))
    kills = 0
    proc = _start(db, url, tmp_path)
    try:
        for goal in (8, 20, 35, 50):  # kill it each time it has delivered that many
            deadline = time.monotonic() + 60
            while len(_seqs(rec)) < goal:
                assert time.monotonic() < deadline, "the notifier stopped delivering"
                time.sleep(0.01)  # polling the receiver, not waiting out a race
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
            kills += 1
            proc = _start(db, url, tmp_path)
        deadline = time.monotonic() + 120
        while _seqs(rec) != set(range(1, total + 1)):
            assert time.monotonic() < deadline, sorted(set(range(1, total + 1)) - _seqs(rec))
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()
        sched.storage.close()
    with rec.lock:
        accepted = list(rec.accepted)
    assert rec.bad_signatures == 0
    assert kills == 4
    assert rec.failed > 0  # the server did fail requests
    assert rec.hung > 0  # and hang past the timeout
    ids: dict[str, int] = {}
    for d in accepted:  # a duplicate carries its event's id, and no other event has it
        assert ids.setdefault(d["id"], d["seq"]) == d["seq"]
    assert len(ids) == total
    first: dict[int, int] = {}
    for i, d in enumerate(accepted):
        first.setdefault(d["seq"], i)
    by_booking: dict[str, list[int]] = {}
    for seq in sorted(first, key=first.__getitem__):
        booking = next(d["booking_id"] for d in accepted if d["seq"] == seq)
        by_booking.setdefault(booking, []).append(seq)
    for booking, seqs in by_booking.items():
        assert seqs == sorted(seqs), (booking, seqs)
    print(f"\n[notify kills] events={total} deliveries={len(accepted)} kills={kills} "
          f"failed={rec.failed} hung={rec.hung}")  # fmt: skip
