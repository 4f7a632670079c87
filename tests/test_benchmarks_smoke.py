"""Smoke tests of the benchmark harness: it runs, prints its columns, writes its JSON.

Timing is never asserted.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("operation", "ours", "baseline", "ratio", "target", "met")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    parts = [str(ROOT), str(ROOT / "src")]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.pop("QUEUE_QUOTA_TEST_POSTGRES", None)
    return env


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--no-postgres", "-q", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _harness() -> ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("benchmarks._harness")


def _proxy() -> ModuleType:
    _harness()  # puts the repository on sys.path
    return importlib.import_module("benchmarks._latency_proxy")


def _baselines() -> ModuleType:
    _harness()  # puts the repository on sys.path
    return importlib.import_module("benchmarks._baselines")


def _header(stdout: str) -> list[str]:
    first = stdout.splitlines()[0]
    return [cell.strip() for cell in first.strip("|").split("|")]


def test_quick_calendar_run_prints_table_and_json(tmp_path: Path) -> None:
    """`--quick --only calendar --json` exits 0, prints the six columns and writes the row."""
    out = tmp_path / "bench.json"
    proc = _bench("--only", "calendar", "--reps", "1", "--seconds", "0.01", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert tuple(_header(proc.stdout)) == COLUMNS
    assert "How measured:" in proc.stdout
    assert "add_working_days" in proc.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["columns"] == list(COLUMNS)
    (row,) = data["rows"]
    assert row["name"] == "calendar.add_working_days"
    assert row["met"] in {"yes", "NO"}
    assert row["ratio"] > 0
    assert len(row["data"]["ours_samples"]) == 1


def test_quick_memory_and_capacity_rows_run() -> None:
    """The memory rows (hand-written, limits) and the pools-and-session row print a ratio."""
    proc = _bench("--only", "book.memory,capacity.memory", "--reps", "1", "--seconds", "0.01")
    assert proc.returncode == 0, proc.stderr
    rows = {
        line.split("|")[1].strip(): line.split("|")[4].strip()
        for line in proc.stdout.splitlines()
        if line.startswith("| ") and "[" in line.split("|")[1]
    }
    assert set(rows) == {
        'book("online") on MemoryStorage vs hand-written [1]',
        'book("online") on MemoryStorage vs limits (information) [2]',
        "book with 2 pools and a session vs plain (memory) [3]",
    }
    assert all(ratio.endswith("×") and float(ratio[:-1]) > 0 for ratio in rows.values())


def test_minimal_sqlite_baseline_books_and_refuses_when_full(tmp_path: Path) -> None:
    """The minimal raw SQLite booking numbers 1..capacity, then refuses; rows = counter."""
    b = _baselines()
    minimal = b.MinimalSQLite(tmp_path / "minimal.sqlite3", "NORMAL", 3)
    try:
        assert [minimal.book(f"id{i}") for i in range(3)] == [1, 2, 3]
        with pytest.raises(b.Full):
            minimal.book("id3")
        assert minimal.count() == (3, 3)
        assert minimal.run(0) >= 0
    finally:
        minimal.close()


def test_hand_written_memory_baseline_does_the_promised_work() -> None:
    """Two keyed hashes (no raw ID kept), an 80-bit id, numbers under the capacity."""
    b = _baselines()
    h = _harness()
    hand = b.HandWritten(b"k" * 32, 2, h.first_day())
    first = hand.book("tegal", "online", "3328000000000001", h.NOW)
    second = hand.book("tegal", "online", "3328000000000002", h.NOW)
    with pytest.raises(b.Full):
        hand.book("tegal", "online", "3328000000000003", h.NOW)
    assert (first.number, second.number) == (1, 2)
    assert len(first.id) == 20  # 80 random bits, hex
    assert first.id != second.id
    assert len(first.citizen_ref) == len(first.ticket) == 64
    assert "3328000000000001" not in repr(first)
    assert set(hand.bookings) == {first.id, second.id}


def test_interleave_many_rotates_and_shares_our_batches() -> None:
    """Every repetition runs each side once, in a rotating order; one comparison each."""
    h = _harness()
    calls: list[str] = []

    def side(name: str, per_op: float) -> object:
        def run(n: int) -> float:
            calls.append(name)
            return per_op * n

        return run

    cmps = h.interleave_many(
        side("ours", 1e-6), {"a": side("a", 2e-6), "b": side("b", 4e-6)}, reps=3, seconds=0.01
    )
    assert set(cmps) == {"a", "b"}
    assert cmps["a"].ratio == pytest.approx(2.0)
    assert cmps["b"].ratio == pytest.approx(4.0)
    assert cmps["a"].ours == cmps["b"].ours
    assert calls[-9:] == ["ours", "a", "b", "ours", "b", "a", "b", "ours", "a"]


def test_postgres_rows_are_skipped_with_no_postgres() -> None:
    """`--no-postgres` marks the PostgreSQL rows "skipped" and still exits 0."""
    proc = _bench("--only", "book.postgres")
    assert proc.returncode == 0, proc.stderr
    rows = [
        line
        for line in proc.stdout.splitlines()
        if line.startswith("|") and "PostgresStorage" in line
    ]
    # local: 1 conn vs minimal, vs same schema, nosync, 8 proc; 1 ms RTT: 1 conn, 8 proc
    assert len(rows) == 6
    assert all(line.rstrip(" |").endswith("skipped") for line in rows)


def test_unknown_only_name_is_a_usage_error() -> None:
    """An unknown `--only` name exits 2 and lists the choices."""
    proc = _bench("--only", "no-such-benchmark")
    assert proc.returncode == 2
    assert "calendar" in proc.stderr


def test_script_entry_point_runs() -> None:
    """`python benchmarks/run.py --help` works from outside the package."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--help"],
        cwd=ROOT.parent,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--no-postgres" in proc.stdout


def test_interleave_alternates_and_keeps_every_batch() -> None:
    """`interleave` calibrates both sides and returns one per-op time per repetition."""
    h = _harness()
    calls: list[tuple[str, int]] = []

    def side(name: str, per_op: float) -> object:
        def run(n: int) -> float:
            calls.append((name, n))
            return per_op * n

        return run

    cmp = h.interleave(side("ours", 1e-6), side("base", 2e-6), reps=3, seconds=0.01)
    assert len(cmp.ours) == len(cmp.baseline) == 3
    assert cmp.ratio == pytest.approx(2.0)
    timed = calls[-6:]
    assert [name for name, _ in timed] == ["ours", "base", "base", "ours", "ours", "base"]


def test_targets_and_table_rendering() -> None:
    """Targets judge yes/NO/report, and the table has one footnote per row."""
    h = _harness()
    assert h.Target("min", 1.0).judge(1.2) == "yes"
    assert h.Target("min", 1.5).judge(1.2) == "NO"
    assert h.Target("max", 64.0, " MB").judge(70.0) == "NO"
    assert h.Target("report").judge(None) == "report"
    spec = h.RowSpec("x.y", "an operation", h.Target("min", 0.66), "How.")
    results = [
        spec.result(ours="1 µs", baseline="2 µs", ratio=2.0),
        spec.skipped("no server"),
        spec.failed("boom"),
    ]
    table = h.render_table(results, {"mode": "quick"})
    assert tuple(_header(table)) == COLUMNS
    assert "≥ 0.66×" in table
    assert "[3] How. ERROR: boom" in table
    assert [r.met for r in results] == ["yes", "skipped", "error"]


def test_bench_selection_by_group_tag_and_row() -> None:
    """`--only` matches a group name, a prefix of it, a tag, or a row name."""
    h = _harness()
    spec = h.RowSpec("book.sqlite.full", "op", h.Target("report"), "How.")
    bench = h.Bench("book.sqlite", (spec,), lambda ctx: [], frozenset({"sqlite", "book"}))
    assert bench.selected(["book.sqlite"])
    assert bench.selected(["book"])
    assert bench.selected(["sqlite"])
    assert bench.selected(["book.sqlite.full"])
    assert not bench.selected(["memory"])


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    """A TCP server on 127.0.0.1 that echoes every connection until it closes."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        data = sock.recv(n - len(out))
        if not data:
            break
        out += data
    return bytes(out)


def test_latency_proxy_forwards_intact_in_order_and_late() -> None:
    """Bytes echoed through the proxy come back intact, in order, and not before 2 delays.

    Only a lower bound on the time is asserted (a slow machine may add to it).
    """
    proxy_mod = _proxy()
    delay = 0.05
    listener, _ = _echo_server()
    try:
        with (
            proxy_mod.LatencyProxy(listener.getsockname()[:2], delay) as proxy,
            socket.create_connection(proxy.address, timeout=10) as client,
        ):
            # One small round trip: out and back, each way held for `delay`.
            t0 = time.monotonic()
            client.sendall(b"ping")
            assert _recv_exactly(client, 4) == b"ping"
            assert time.monotonic() - t0 >= 2 * delay
            # Many chunks of many sizes sent back to back: all intact and in order.
            chunks = [bytes([i]) * (1 + 997 * i) for i in range(40)]
            payload = b"".join(chunks)
            t0 = time.monotonic()
            for chunk in chunks:
                client.sendall(chunk)
            assert _recv_exactly(client, len(payload)) == payload
            assert time.monotonic() - t0 >= 2 * delay
            client.shutdown(socket.SHUT_WR)  # a half-close passes through: echo ends
            assert client.recv(1) == b""
    finally:
        listener.close()


def test_latency_proxy_process_starts_and_stops() -> None:
    """`spawn` runs the proxy in a child process that forwards and exits when closed."""
    proxy_mod = _proxy()
    listener, _ = _echo_server()
    try:
        proc = proxy_mod.spawn(listener.getsockname()[:2], 0.01)
        with proc, socket.create_connection((proc.host, proc.port), timeout=10) as client:
            client.sendall(b"hello")
            assert _recv_exactly(client, 5) == b"hello"
        assert proc.returncode is not None  # the child has exited
    finally:
        listener.close()
