"""The measuring machinery shared by every benchmark module.

* `interleave` times two workloads in alternating batches (ours, baseline, baseline, ours,
  ...) and keeps the per-operation time of every batch; medians and their ratio are what the
  table shows. Absolute times on a shared machine drift; alternating batches in one process
  makes the drift hit both sides alike, so the ratio holds.
* `RowSpec` / `Result` / `Target`: what a row of the table says, and whether it is met.
* `Bench`: a group of rows measured together; each module lists its own in ``BENCHES``.
* `Context`: options of the run, a scratch directory, and the PostgreSQL server (a throwaway
  cluster started on first use, unless a conninfo is given).
* `ProcessGroup`: long-lived worker processes that run one command at a time, lined up by a
  barrier, for the multi-process rows.
* `render_table` / `results_json`: the output.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import itertools
import math
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import textwrap
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import queue_quota as qq
from benchmarks import ROOT, SRC
from queue_quota.policies import OnlineQuota

__all__ = [
    "NOW",
    "SECRET",
    "Bench",
    "Comparison",
    "Context",
    "ProcessGroup",
    "Result",
    "RowSpec",
    "Skip",
    "Target",
    "calibrate",
    "citizen_ids",
    "fmt_rate",
    "fmt_time",
    "interleave",
    "interleave_many",
    "make_office",
    "percentile",
    "random_keys",
    "render_table",
    "results_json",
    "tegal_calendar",
]

WIB = ZoneInfo("Asia/Jakarta")
#: The moment every benchmark books at: Monday 8 June 2020, 09:00 WIB (Tegal's first week).
NOW = datetime(2020, 6, 8, 9, 0, tzinfo=WIB)
SECRET = b"benchmark-secret-0123456789abcdef"
#: A daily capacity that never fills during a benchmark (fits PostgreSQL's ``integer``).
UNLIMITED = 1_000_000_000

Met = Literal["yes", "NO", "report", "skipped", "error"]


# -- offices and inputs ------------------------------------------------------------------------


@cache
def tegal_calendar() -> qq.WorkingCalendar:
    """The Indonesian calendar (public holidays and cuti bersama), one per process."""
    return qq.WorkingCalendar.indonesia(tz="Asia/Jakarta")


def make_office(
    office_id: str,
    capacity: int | qq.CapacityCalendar,
    *,
    horizon_days: int = 60,
    lead_days: int = 1,
) -> qq.Office:
    """An office with one online channel on the Indonesian calendar."""
    return qq.Office(
        id=office_id,
        calendar=tegal_calendar(),
        policies=[OnlineQuota(capacity=capacity, lead_days=lead_days, horizon_days=horizon_days)],
    )


def citizen_ids(prefix: str) -> Iterator[str]:
    """Distinct citizen IDs (NIK-like strings), never repeated within a prefix."""
    for i in itertools.count():
        yield f"{prefix}{i:012d}"


def random_keys(n: int) -> list[tuple[str, str]]:
    """``n`` (booking id, citizen ref) pairs for the raw baselines: random, like ours.

    The library's ids are random and its citizen refs are keyed hashes, so its index inserts
    land anywhere in the B-trees; sequential keys would flatter the baselines.
    """
    return [(os.urandom(10).hex(), os.urandom(16).hex()) for _ in range(n)]


def first_day() -> date:
    """The first day an online booking made at `NOW` can take (lead of one working day)."""
    return tegal_calendar().add_working_days(NOW.date(), 1)


# -- targets, rows and results -----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a row must reach: ``ratio >= value`` (min), ``<= value`` (max), or nothing."""

    kind: Literal["min", "max", "report"]
    value: float = 0.0
    unit: str = "×"

    @property
    def text(self) -> str:
        """The target as printed."""
        if self.kind == "report":
            return "report"
        sign = "≥" if self.kind == "min" else "≤"
        number = f"{self.value:g}" if self.unit != "×" else f"{self.value:.2f}".rstrip("0")
        if number.endswith("."):
            number += "0"
        return f"{sign} {number}{self.unit}"

    def judge(self, value: float | None) -> Met:
        """``yes`` / ``NO`` for a measured value, ``report`` when there is no target."""
        if self.kind == "report":
            return "report"
        if value is None or math.isnan(value):
            return "error"
        ok = value >= self.value if self.kind == "min" else value <= self.value
        return "yes" if ok else "NO"


@dataclass
class Result:
    """One row of the table, with the raw numbers behind it (for ``--json``)."""

    name: str
    operation: str
    ours: str
    baseline: str
    ratio: float | None
    target: str
    met: Met
    how: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio_text(self) -> str:
        """The ratio as printed (growth rows print the growth, with a ``×``)."""
        return "—" if self.ratio is None else f"{self.ratio:.2f}×"


@dataclass(frozen=True)
class RowSpec:
    """The fixed description of a row: its name, operation, target and method."""

    name: str
    operation: str
    target: Target
    how: str

    def result(
        self,
        *,
        ours: str,
        baseline: str = "—",
        ratio: float | None = None,
        value: float | None = None,
        how: str = "",
        data: dict[str, Any] | None = None,
        also_ok: bool = True,
    ) -> Result:
        """A measured row; ``value`` (default: ``ratio``) is what the target judges."""
        judged = self.target.judge(ratio if value is None else value)
        if judged == "yes" and not also_ok:
            judged = "NO"
        return Result(
            name=self.name,
            operation=self.operation,
            ours=ours,
            baseline=baseline,
            ratio=ratio,
            target=self.target.text,
            met=judged,
            how=f"{self.how} {how}".strip(),
            data=data or {},
        )

    def skipped(self, reason: str) -> Result:
        """A row not measured (no PostgreSQL, not selected...)."""
        return Result(
            self.name, self.operation, "—", "—", None, self.target.text, "skipped",
            f"{self.how} Skipped: {reason}",
        )  # fmt: skip

    def failed(self, error: str) -> Result:
        """A row whose measurement raised."""
        return Result(
            self.name, self.operation, "—", "—", None, self.target.text, "error",
            f"{self.how} ERROR: {error}",
        )  # fmt: skip


class Skip(Exception):
    """Raised by a benchmark whose prerequisites are missing (its rows say why)."""


@dataclass(frozen=True)
class Bench:
    """Rows measured together by one function."""

    name: str
    rows: tuple[RowSpec, ...]
    run: Callable[[Context], list[Result]]
    tags: frozenset[str] = frozenset()
    postgres: bool = False

    def selected(self, names: Sequence[str]) -> bool:
        """Whether ``--only`` names this group: its name, a prefix of it, a tag or a row."""
        for raw in names:
            n = raw.strip().lower()
            if not n:
                continue
            if (
                n == self.name
                or self.name.startswith(n + ".")
                or n in self.tags
                or any(n == r.name or r.name.startswith(n + ".") for r in self.rows)
            ):
                return True
        return False


# -- timing ------------------------------------------------------------------------------------

#: Runs ``n`` operations and returns the seconds the timed part took.
Runner = Callable[[int], float]


@dataclass
class Comparison:
    """Per-operation seconds of every batch of both sides, and what follows from them."""

    ours: list[float]
    baseline: list[float]
    n_ours: int
    n_baseline: int

    @property
    def ours_median(self) -> float:
        """Median seconds per operation, ours."""
        return statistics.median(self.ours)

    @property
    def baseline_median(self) -> float:
        """Median seconds per operation, baseline."""
        return statistics.median(self.baseline)

    @property
    def ratio(self) -> float:
        """Baseline time per op / our time per op (>= 1: we are at least as fast)."""
        return self.baseline_median / self.ours_median

    @property
    def pair_ratios(self) -> list[float]:
        """The ratio of each repetition's pair of batches (their spread shows the noise)."""
        return [b / o for o, b in zip(self.ours, self.baseline, strict=True)]

    def data(self) -> dict[str, Any]:
        """The raw numbers, for ``--json``."""
        pairs = self.pair_ratios
        return {
            "ours_s_per_op": self.ours_median,
            "baseline_s_per_op": self.baseline_median,
            "ratio": self.ratio,
            "pair_ratio_min": min(pairs),
            "pair_ratio_max": max(pairs),
            "ours_samples": self.ours,
            "baseline_samples": self.baseline,
            "n_ours": self.n_ours,
            "n_baseline": self.n_baseline,
        }

    def describe(self) -> str:
        """A short note on the batches, for the "how measured" line."""
        pairs = self.pair_ratios
        return (
            f"R={len(self.ours)} interleaved pairs, {self.n_ours:,} ops/batch ours, "
            f"{self.n_baseline:,} baseline; per-pair ratio {min(pairs):.2f}-{max(pairs):.2f}."
        )


def calibrate(
    run: Runner, seconds: float, *, start: int = 4, floor: int = 8, cap: int = 5_000_000
) -> int:
    """How many operations take about ``seconds``, at least ``floor`` (trials warm up too).

    A first untimed run of ``start`` operations opens connections and fills caches, so the
    calibration does not mistake a cold start for the cost of an operation.
    """
    run(start)
    n = start
    while True:
        gc.collect()
        elapsed = run(n)
        if elapsed >= seconds * 0.2 or n >= cap:
            break
        grow = 10.0 if elapsed <= 0 else min(10.0, max(2.0, seconds * 0.3 / elapsed))
        n = min(cap, int(n * grow) + 1)
    per_op = max(elapsed, 1e-9) / n
    return max(floor, min(cap, round(seconds / per_op)))


def interleave(ours: Runner, baseline: Runner, *, reps: int, seconds: float) -> Comparison:
    """Time ``reps`` batches of each side, alternating which side goes first.

    Each side's batch size is calibrated to take about ``seconds``; the comparison keeps
    the seconds per operation of every batch.
    """
    n_ours = calibrate(ours, seconds)
    n_base = calibrate(baseline, seconds)
    ours_t: list[float] = []
    base_t: list[float] = []
    for rep in range(reps):
        order: list[tuple[Runner, int, list[float]]] = [
            (ours, n_ours, ours_t),
            (baseline, n_base, base_t),
        ]
        if rep % 2:
            order.reverse()
        for run, n, out in order:
            gc.collect()
            out.append(run(n) / n)
    return Comparison(ours_t, base_t, n_ours, n_base)


def interleave_many(
    ours: Runner, baselines: dict[str, Runner], *, reps: int, seconds: float
) -> dict[str, Comparison]:
    """`interleave` with several baselines: every repetition runs one batch of each side.

    The order rotates from one repetition to the next (and is reversed every other one), so
    that a drift penalises no side; each baseline gets its own `Comparison` against the
    same batches of ours.
    """
    sides: list[tuple[str, Runner]] = [("", ours), *baselines.items()]
    sizes = {name: calibrate(run, seconds) for name, run in sides}
    times: dict[str, list[float]] = {name: [] for name, _ in sides}
    for rep in range(reps):
        k = rep % len(sides)
        order = sides[k:] + sides[:k]
        if rep % 2:
            order.reverse()
        for name, run in order:
            gc.collect()
            times[name].append(run(sizes[name]) / sizes[name])
    return {name: Comparison(times[""], times[name], sizes[""], sizes[name]) for name in baselines}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) of already sorted values (nearest rank)."""
    if not sorted_values:
        return math.nan
    k = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def fmt_time(seconds: float) -> str:
    """A duration per operation: ``"53.2 µs"``, ``"1.61 ms"``."""
    if seconds != seconds:  # NaN
        return "—"
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs" if seconds < 1e-4 else f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_rate(per_second: float) -> str:
    """Operations per second, with a thousands separator."""
    return f"{per_second:,.0f}/s"


# -- the run's context -------------------------------------------------------------------------


class Context:
    """Options of the run, a scratch directory, and PostgreSQL on demand."""

    def __init__(
        self,
        *,
        quick: bool = False,
        postgres: str | None = None,
        no_postgres: bool = False,
        reps: int | None = None,
        seconds: float | None = None,
        burst_n: int | None = None,
        burst_seconds: float | None = None,
        rtt_ms: float = 1.0,
        verbose: bool = True,
    ) -> None:
        self.quick = quick
        #: Round-trip time the emulated-network rows add with a latency proxy (0: no such rows).
        self.rtt_ms = rtt_ms
        #: Registrations of the burst rows (``None``: 100,000, or 10,000 when quick).
        self.burst_n = burst_n
        #: Time cap of one burst, so that a slow machine still finishes the run.
        self.burst_seconds = burst_seconds or (5.0 if quick else 45.0)
        self.reps = reps if reps is not None else (3 if quick else 7)
        self.seconds = seconds if seconds is not None else (0.05 if quick else 0.2)
        self.verbose = verbose
        self._given_conninfo = postgres or os.environ.get("QUEUE_QUOTA_TEST_POSTGRES") or None
        self._no_postgres = no_postgres
        self._pg: str | Skip | None = None
        self._pg_source = "not used"
        self._pg_error: Exception | None = None
        self._cluster: Any = None
        self._tmp = tempfile.TemporaryDirectory(prefix="qq-bench-")
        self.workdir = Path(self._tmp.name)
        self._started = time.perf_counter()

    def scale(self, full: int, quick: int) -> int:
        """A size for this mode."""
        return quick if self.quick else full

    def log(self, message: str) -> None:
        """Progress, on stderr (the table goes to stdout)."""
        if self.verbose:
            elapsed = time.perf_counter() - self._started
            print(f"[bench {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)

    def path(self, name: str) -> Path:
        """A fresh file path in the scratch directory."""
        return self.workdir / f"{uuid.uuid4().hex[:8]}-{name}"

    # PostgreSQL ------------------------------------------------------------------------------

    def postgres(self) -> str:
        """A conninfo; starts a throwaway cluster on first use. `Skip` if unavailable."""
        if self._pg_error is not None:
            raise RuntimeError(f"PostgreSQL could not be started: {self._pg_error}")
        if self._pg is None:
            try:
                self._pg = self._find_postgres()
            except Exception as exc:  # a failed start fails every PostgreSQL row, once
                self._pg_error = exc
                self._pg_source = f"failed to start ({exc})"
                raise
            if isinstance(self._pg, Skip):
                self._pg_source = f"skipped ({self._pg})"
            else:
                self._pg_source = (
                    "given conninfo" if self._cluster is None else ("throwaway cluster")
                )
        if isinstance(self._pg, Skip):
            raise self._pg
        return self._pg

    def _find_postgres(self) -> str | Skip:
        if self._no_postgres:
            return Skip("--no-postgres")
        try:
            import psycopg  # noqa: F401
            import psycopg_pool  # noqa: F401
        except ImportError:
            return Skip("psycopg / psycopg_pool not installed (pip install -e '.[bench]')")
        if self._given_conninfo:
            return self._given_conninfo
        server = _postgres_server()
        if server.find_bindir() is None:
            return Skip("no PostgreSQL server binaries (set QUEUE_QUOTA_PG_BINDIR)")
        self.log("starting a throwaway PostgreSQL cluster")
        self._cluster = server.start_cluster()
        conninfo: str = self._cluster.conninfo
        return conninfo

    def postgres_tcp(self) -> str:
        """A conninfo reaching the same server over TCP where possible (for a proxy).

        The throwaway cluster's own TCP address; a given conninfo as it is (it may name a
        unix socket directory, which the latency proxy can forward to as well).
        """
        given = self.postgres()
        if self._cluster is not None:
            tcp: str = self._cluster.tcp_conninfo
            return tcp
        return given

    def new_schema(self) -> str:
        """A fresh schema name (dropped by `drop_schema`)."""
        return f"qq_bench_{uuid.uuid4().hex[:10]}"

    def drop_schema(self, schema: str) -> None:
        """Drop a schema made by a benchmark (errors ignored: the cluster is thrown away)."""
        if not isinstance(self._pg, str):
            return
        import psycopg
        from psycopg import sql

        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(self._pg, autocommit=True) as conn,
        ):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    def close(self) -> None:
        """Stop the throwaway cluster and remove the scratch directory."""
        try:
            if self._cluster is not None:
                self.log("stopping the throwaway PostgreSQL cluster")
                _postgres_server().stop_cluster(self._cluster)
                self._cluster = None
        finally:
            self._tmp.cleanup()

    def meta(self) -> dict[str, Any]:
        """What the run was: mode, repetitions, machine load."""
        load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
        return {
            "mode": "quick" if self.quick else "full",
            "reps": self.reps,
            "batch_seconds": self.seconds,
            "burst_cap_seconds": self.burst_seconds,
            "rtt_ms": self.rtt_ms,
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in load],
            "postgres": self._pg_source,
            "elapsed_s": round(time.perf_counter() - self._started, 1),
            "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        }


def _postgres_server() -> Any:
    """``tests/_postgres_server.py`` (start_cluster / stop_cluster), imported from the tests."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.append(tests)
    return importlib.import_module("_postgres_server")


def child_env() -> dict[str, str]:
    """The environment for a child ``python``: the repository and ``src`` on its path."""
    env = dict(os.environ)
    parts = [str(ROOT), str(SRC)]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


# -- worker processes --------------------------------------------------------------------------


class Handler(Protocol):
    """What a worker process runs: ``handler(command, n)``, its result sent back."""

    def __call__(self, command: str, n: int) -> Any: ...


def _serve(
    index: int,
    factory: Callable[..., Handler],
    args: tuple[Any, ...],
    commands: Any,
    results: Any,
    barrier: Any,
) -> None:
    try:
        handler = factory(index, *args)
    except BaseException:
        results.put((index, "error", traceback.format_exc()))
        return
    results.put((index, "ready", None))
    try:
        while True:
            message = commands.get()
            if message is None:
                break
            command, n = message
            try:
                barrier.wait(timeout=120)
                results.put((index, "ok", handler(command, n)))
            except BaseException:
                results.put((index, "error", traceback.format_exc()))
    finally:
        close = getattr(handler, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()


def _mp_context() -> Any:
    """A fork server where there is one (fresh children, quick to start), else spawn.

    Never plain fork: this process may hold threads (connection pools) and their locks.
    """
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["queue_quota", "benchmarks._harness"])
        return ctx
    return mp.get_context("spawn")


class ProcessGroup:
    """``size`` worker processes (fork server or spawn), each built by ``factory(index, *args)``.

    `run` sends one command to every worker; the workers start it together (a barrier) and
    their results come back in worker order.
    """

    def __init__(
        self,
        size: int,
        factory: Callable[..., Handler],
        args: tuple[Any, ...] = (),
        *,
        timeout: float = 300.0,
    ) -> None:
        ctx = _mp_context()
        self._timeout = timeout
        self._results = ctx.Queue()
        self._commands = [ctx.Queue() for _ in range(size)]
        barrier = ctx.Barrier(size)
        self._procs = [
            ctx.Process(
                target=_serve,
                args=(i, factory, args, self._commands[i], self._results, barrier),
                daemon=True,
                name=f"qq-bench-worker-{i}",
            )
            for i in range(size)
        ]
        for p in self._procs:
            p.start()
        try:
            self._collect("ready")
        except BaseException:
            self.close()
            raise

    def _collect(self, expected: str) -> list[Any]:
        out: list[Any] = [None] * len(self._procs)
        errors: list[str] = []
        for _ in self._procs:
            index, status, payload = self._results.get(timeout=self._timeout)
            if status == "error":
                errors.append(f"worker {index}:\n{payload}")
            else:
                assert status == expected, (status, expected)
                out[index] = payload
        if errors:
            raise RuntimeError("a worker process failed:\n" + "\n".join(errors))
        return out

    def run(self, command: str, n: int) -> list[Any]:
        """Run ``command`` with ``n`` in every worker; their results, in worker order."""
        for q in self._commands:
            q.put((command, n))
        return self._collect("ok")

    def close(self) -> None:
        """Stop the workers (politely, then by their pid)."""
        for q in self._commands:
            with contextlib.suppress(Exception):
                q.put(None)
        for p in self._procs:
            p.join(timeout=20)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)


# -- output ------------------------------------------------------------------------------------

HEADERS = ("operation", "ours", "baseline", "ratio", "target", "met")


def render_table(results: Sequence[Result], meta: dict[str, Any] | None = None) -> str:
    """The table (Markdown), then one "how measured" note per row."""
    rows = [
        (f"{r.operation} [{i}]", r.ours, r.baseline, r.ratio_text, r.target, r.met)
        for i, r in enumerate(results, 1)
    ]
    widths = [max(len(h), *(len(row[c]) for row in rows)) for c, h in enumerate(HEADERS)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(HEADERS), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(row) for row in rows)
    out.append("")
    out.append(
        "ratio = baseline time per op / our time per op (>= 1: we are at least as fast); "
        "growth rows: cost with 3,000 full days ahead / cost with 10."
    )
    if meta:
        load = meta.get("load_average")
        out.append(
            f"mode {meta.get('mode')}, R={meta.get('reps')}, "
            f"batches of ~{meta.get('batch_seconds')} s, "
            f"Python {meta.get('python')}, {meta.get('cpus')} CPUs, load average {load}, "
            f"PostgreSQL: {meta.get('postgres')}, {meta.get('elapsed_s')} s in all."
        )
    out.append("")
    out.append("How measured:")
    for i, r in enumerate(results, 1):
        out.append(
            textwrap.fill(r.how, width=100, initial_indent=f"[{i}] ", subsequent_indent="    ")
        )
    return "\n".join(out)


def results_json(results: Sequence[Result], meta: dict[str, Any]) -> dict[str, Any]:
    """Everything, for ``--json`` (and docs/performance.md)."""
    return {
        "meta": meta,
        "columns": list(HEADERS),
        "rows": [asdict(r) | {"ratio_text": r.ratio_text} for r in results],
    }
