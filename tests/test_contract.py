"""Every built-in storage and policy passes the contract suites of `queue_quota.testing`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from dateutil.rrule import FR, MONTHLY, rrule

import queue_quota as qq
from queue_quota.policies import OnlineQuota, QuotaPolicy, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage
from queue_quota.testing import PolicyContract, StorageContract, StorageFactory

try:  # the PostgreSQL fixtures (imported here so that pytest finds them in this module)
    from _postgres_server import drop_schema, postgres_conninfo, unique_schema  # noqa: F401
except ImportError:  # pragma: no cover - depends on the checkout
    PG_FIXTURES: str | None = "tests/_postgres_server.py (the PostgreSQL fixtures) is missing"
else:
    PG_FIXTURES = None

try:
    from queue_quota.storage.postgres import PostgresStorage
except ImportError as exc:  # pragma: no cover - depends on the checkout
    PG_ADAPTER: str | None = f"queue_quota.storage.postgres cannot be imported: {exc}"
else:
    PG_ADAPTER = None

PG_MISSING = PG_FIXTURES or PG_ADAPTER

BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("sqlite-alone", id="sqlite-alone"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(PG_MISSING is not None, reason=str(PG_MISSING)),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def storage_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageFactory]:
    """Handles on one fresh store per test: one MemoryStorage, one SQLite file, one schema."""
    if request.param == "memory":
        shared = MemoryStorage()
        yield lambda: shared
    elif request.param == "sqlite":
        path = tmp_path / "contract.sqlite3"
        yield lambda: SQLiteStorage(path)
    elif request.param == "sqlite-alone":  # no group commit: one transaction a booking
        path = tmp_path / "contract.sqlite3"
        yield lambda: SQLiteStorage(path, group_commit=False)
    else:
        conninfo: str = request.getfixturevalue("postgres_conninfo")
        schema = unique_schema()
        try:
            yield lambda: PostgresStorage(conninfo, schema=schema)
        finally:
            drop_schema(conninfo, schema)


class TestStorageContract(StorageContract):
    """MemoryStorage, SQLiteStorage (also with group commit) and PostgresStorage keep the
    storage contract."""


# -- policies ------------------------------------------------------------------------------

LAST_FRIDAY = rrule(MONTHLY, byweekday=FR(-1), dtstart=datetime(2020, 1, 1))

POLICIES: dict[str, Any] = {
    "online-default": lambda: OnlineQuota(20),
    "online-same-day": lambda: OnlineQuota(3, lead_days=0, horizon_days=0),
    "online-short": lambda: OnlineQuota(2, lead_days=2, horizon_days=5, per_citizen=None),
    "online-calendar": lambda: OnlineQuota(
        qq.CapacityCalendar(
            10, weekdays={4: 5}, dates={date(2020, 6, 2): 0}, rules=[(LAST_FRIDAY, 3)]
        ),
        horizon_days=30,
        per_citizen=2,
        channel="online_ktp",
        prefix="KTP",
    ),
    "walk-in-default": lambda: WalkInQuota(40),
    "walk-in-hours": lambda: WalkInQuota(40, opens=time(7, 30), closes=time(12, 0)),
    "walk-in-limited": lambda: WalkInQuota(
        qq.CapacityCalendar(0, weekdays={0: 5, 2: 5}), per_citizen=1, prefix="W1"
    ),
}


class TestPolicyContract(PolicyContract):
    """The built-in policies, in several configurations, keep the policy contract."""

    @pytest.fixture(params=sorted(POLICIES))
    def policy(self, request: pytest.FixtureRequest) -> QuotaPolicy:
        """One configured built-in policy."""
        made: QuotaPolicy = POLICIES[request.param]()
        return made


class TestPolicyContractInIndonesia(PolicyContract):
    """The built-in policies also keep the contract with the real Indonesian calendar."""

    @pytest.fixture
    def policy_calendar(self) -> qq.WorkingCalendar:
        """Public holidays and cuti bersama from the `holidays` package, in WITA."""
        return qq.WorkingCalendar.indonesia("Asia/Makassar")

    @pytest.fixture
    def policy_days(self) -> list[date]:
        """Around Idul Fitri 2024 (cuti bersama 8-9 and 12-15 April)."""
        return [date(2024, 4, 1 + i) for i in range(25)]

    @pytest.fixture(params=["online", "walk_in"])
    def policy(self, request: pytest.FixtureRequest) -> QuotaPolicy:
        """The Tegal office's two policies."""
        if request.param == "online":
            return OnlineQuota(20, lead_days=1, horizon_days=60)
        return WalkInQuota(40, opens=time(7, 30), closes=time(12, 0))
