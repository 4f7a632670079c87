"""Run the benchmarks and print one table: operation, ours, baseline, ratio, target, met.

Usage (from the repository root)::

    python -m benchmarks [--quick] [--only NAME ...] [--json FILE] [--no-postgres]
                         [--postgres CONNINFO] [--rtt-ms MS] [--strict]
    python benchmarks/run.py ...        # the same
    make bench                          # the same, in the project's virtualenv

Exit status: 0 when every benchmark ran, whether or not its target was met (the table says);
1 when a benchmark failed with an error, or with ``--strict`` when a target is not met; 2 on
bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as a script: python benchmarks/run.py
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path[:0] = [str(_here.parent), str(_here.parent / "src")]

import argparse
import json
import time
import traceback
from collections.abc import Sequence

from benchmarks import (
    availability,
    book_crowd,
    book_memory,
    book_open,
    book_postgres,
    book_sqlite,
    burst,
    capacity,
    footprint,
    growth,
    workdays,
)
from benchmarks._harness import (
    Bench,
    Context,
    Result,
    Skip,
    render_table,
    results_json,
)

#: Every group of rows, in the order of the table.
BENCHES: tuple[Bench, ...] = (
    *book_memory.BENCHES,
    *book_sqlite.BENCHES,
    *book_postgres.BENCHES,
    *book_crowd.BENCHES,
    *book_open.BENCHES,
    *capacity.BENCHES,
    *growth.BENCHES,
    *workdays.BENCHES,
    *availability.BENCHES,
    *burst.BENCHES,
    *footprint.BENCHES,
)


def names() -> list[str]:
    """Everything ``--only`` accepts: group names, row names and tags."""
    out: set[str] = set()
    for b in BENCHES:
        out.add(b.name)
        out.update(b.tags)
        out.update(r.name for r in b.rows)
    return sorted(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure queue_quota against plain baselines; print one table.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions and smaller sizes (smoke test)"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these groups/rows/tags (repeatable or comma-separated): "
        + ", ".join(names()),
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument(
        "--postgres",
        metavar="CONNINFO",
        help="use this server instead of a throwaway cluster "
        "(default: $QUEUE_QUOTA_TEST_POSTGRES, else a throwaway cluster)",
    )
    parser.add_argument("--reps", type=int, help="interleaved repetitions (default 7; quick 3)")
    parser.add_argument(
        "--seconds", type=float, help="seconds per timed batch (default 0.2; quick 0.05)"
    )
    parser.add_argument(
        "--burst", type=int, metavar="N", help="registrations per burst row (100000; quick 10000)"
    )
    parser.add_argument(
        "--burst-seconds",
        type=float,
        metavar="S",
        help="time cap of each burst row (default 45; quick 5)",
    )
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=1.0,
        metavar="MS",
        help="round-trip time of the emulated-network PostgreSQL rows (a latency proxy; "
        "default 1.0; 0 skips those rows)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is not met"
    )
    parser.add_argument("-q", "--silent", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    args.only = [n for item in args.only for n in item.split(",") if n.strip()]
    known = set(names())
    unknown = [
        n
        for n in args.only
        if n not in known and not any(k.startswith(n.strip() + ".") for k in known)
    ]
    if unknown:
        parser.error(f"unknown --only {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be >= 1")
    if args.seconds is not None and args.seconds <= 0:
        parser.error("--seconds must be > 0")
    if args.burst is not None and args.burst < 1:
        parser.error("--burst must be >= 1")
    if args.burst_seconds is not None and args.burst_seconds <= 0:
        parser.error("--burst-seconds must be > 0")
    if not 0 <= args.rtt_ms <= 1000:  # also refuses nan
        parser.error("--rtt-ms must be between 0 and 1000")
    return args


def run_benches(ctx: Context, selected: Sequence[Bench]) -> list[Result]:
    """Run each group; a group that raises gets its rows marked (skipped or error)."""
    results: list[Result] = []
    for bench in selected:
        ctx.log(f"{bench.name} ...")
        t0 = time.perf_counter()
        try:
            rows = bench.run(ctx)
        except Skip as skip:
            rows = [r.skipped(str(skip)) for r in bench.rows]
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            rows = [r.failed(f"{type(exc).__name__}: {exc}") for r in bench.rows]
        results.extend(rows)
        ctx.log(
            f"{bench.name}: {', '.join(r.met for r in rows)} ({time.perf_counter() - t0:.1f} s)"
        )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; the exit status (see the module docstring)."""
    args = parse_args(argv)
    selected = [b for b in BENCHES if not args.only or b.selected(args.only)]
    ctx = Context(
        quick=args.quick,
        postgres=args.postgres,
        no_postgres=args.no_postgres,
        reps=args.reps,
        seconds=args.seconds,
        burst_n=args.burst,
        burst_seconds=args.burst_seconds,
        rtt_ms=args.rtt_ms,
        verbose=not args.silent,
    )
    try:
        results = run_benches(ctx, selected)
    finally:
        ctx.close()
    meta = ctx.meta()
    print(render_table(results, meta), flush=True)
    if args.json:
        Path(args.json).write_text(
            json.dumps(results_json(results, meta), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    if any(r.met == "error" for r in results):
        return 1
    if args.strict and any(r.met == "NO" for r in results):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
