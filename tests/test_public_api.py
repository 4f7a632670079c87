"""The public surface: exported names, the README quick start, the typed example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import queue_quota as qq
import queue_quota.errors
import queue_quota.policies
import queue_quota.storage

ROOT = Path(__file__).resolve().parents[1]


def test_top_level_exports() -> None:
    """`queue_quota.__all__` lists exactly the contract's public names, all importable."""
    expected = {
        "AlreadyBooked", "Booking", "BookingNotFound", "BookingStatus", "CapacityCalendar",
        "ConfigurationError", "DayAvailability", "DayClosed", "IdempotencyConflict",
        "InvalidTicket", "NotEligible", "Pool", "Session", "SessionAvailability",
        "InvalidTransition", "Office", "OutsideBookingWindow", "OutsideServiceHours",
        "QueueQuotaError", "QuotaExhausted", "RefusalError", "Report", "ReportRow",
        "Scheduler", "SecretMismatch",
        "StorageError", "Suspended", "OfficePreview", "OverCapacity",
        "UnknownChannel", "WaitlistEntry", "WorkingCalendar", "__version__",
    }  # fmt: skip
    assert set(qq.__all__) == expected
    for name in qq.__all__:
        assert getattr(qq, name) is not None


def test_subpackage_exports() -> None:
    """Policies and storages are exported from their namespaces."""
    assert set(queue_quota.policies.__all__) >= {"QuotaPolicy", "OnlineQuota", "WalkInQuota"}
    assert set(queue_quota.storage.__all__) >= {
        "Storage", "MemoryStorage", "SQLiteStorage", "PostgresStorage", "from_url",
    }  # fmt: skip


def test_error_tree_has_one_root_and_stable_codes() -> None:
    """Every public error derives from QueueQuotaError and has a distinct code."""
    errors = [getattr(queue_quota.errors, n) for n in queue_quota.errors.__all__]
    assert all(issubclass(e, qq.QueueQuotaError) for e in errors)
    codes = [e.code for e in errors]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z_]+", c) for c in codes)
    assert issubclass(qq.ConfigurationError, ValueError)
    exc = qq.QuotaExhausted("x")
    assert (exc.next_available, exc.alternatives) == (None, {})


def test_importing_does_not_import_drivers() -> None:
    """`import queue_quota` loads neither psycopg nor the holidays data up front."""
    code = "import queue_quota, sys; print('psycopg' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"


def _readme_quickstart() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"## Quick start\n\n```python\n(.*?)```", text, re.S)
    assert match, "README has a Quick start python block"
    return match.group(1)


def test_readme_quickstart_runs_as_written(tmp_path: Path) -> None:
    """The README's quick start is at most 15 lines and runs as written."""
    code = _readme_quickstart()
    assert len(code.strip().splitlines()) <= 15
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("2020-06-05 A-001 ")
    assert (tmp_path / "queue.sqlite3").exists()


def test_typed_example_runs() -> None:
    """examples/typed_usage.py (checked by mypy --strict) runs and prints a refusal code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "typed_usage.py")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout.split()[-1] == "already_booked"


@pytest.mark.parametrize("module", ["queue_quota.demo"])
def test_demo_runs(module: str) -> None:
    """`python -m queue_quota.demo` prints the day-by-day table with holiday names."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-m", module], capture_output=True, text=True, env=env, check=True
    )
    assert "Hari Raya Idul Adha" in out.stdout
    assert "system maintenance" in out.stdout
    assert "Days over quota: 0." in out.stdout
