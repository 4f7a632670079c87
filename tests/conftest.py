"""Shared fixtures: time zones, an office like Tegal's, schedulers on every storage."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings

import queue_quota as qq
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

SECRET = b"test-secret-0123456789abcdef"


def wib(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """An aware datetime at the given Jakarta (WIB, UTC+7) wall time."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Jakarta"))


def tegal_office(online: int = 20, walk_in: int = 40) -> qq.Office:
    """The Tegal civil-registration office of the design document."""
    return qq.Office(
        id="tegal-disdukcapil",
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[
            OnlineQuota(capacity=online, lead_days=1, horizon_days=60),
            WalkInQuota(capacity=walk_in, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


@pytest.fixture
def office() -> qq.Office:
    """The Tegal office (20 online, 40 walk-in a day)."""
    return tegal_office()


StorageFactory = Callable[[], qq.storage.Storage]


@pytest.fixture(params=["memory", "sqlite"])
def storage_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageFactory]:
    """Builds storages of one kind that share their data (reopening the same database)."""
    made: list[qq.storage.Storage] = []
    if request.param == "memory":
        shared = MemoryStorage()

        def factory() -> qq.storage.Storage:
            return shared
    else:
        path = tmp_path / "queue.sqlite3"

        def factory() -> qq.storage.Storage:
            s = SQLiteStorage(path)
            made.append(s)
            return s

    yield factory
    for s in made:
        s.close()


@pytest.fixture
def sched(office: qq.Office, storage_factory: StorageFactory) -> qq.Scheduler:
    """A scheduler for the Tegal office on each storage."""
    return qq.Scheduler(office, storage_factory(), secret=SECRET)


# PostgreSQL: a throwaway cluster for the session (or $QUEUE_QUOTA_TEST_POSTGRES).
from _postgres_server import pg_storage, postgres_conninfo  # noqa: E402

__all__ = ["pg_storage", "postgres_conninfo"]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print how many PostgreSQL tests ran, passed and were skipped (none may skip in CI)."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error", "xfailed"):
        for report in terminalreporter.stats.get(outcome, []):
            counted = report.when == "call" or (outcome == "skipped" and report.when == "setup")
            if counted and "postgres" in getattr(report, "keywords", {}):
                counts[outcome] = counts.get(outcome, 0) + 1
    total = sum(counts.values())
    detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none collected"
    terminalreporter.write_line(f"PostgreSQL tests: {total} ({detail})")
