"""`SchedulerMachine` on every built-in storage: random operations checked against a model."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from queue_quota.storage import SQLiteStorage, Storage
from queue_quota.testing import SchedulerMachine

try:  # the PostgreSQL fixtures (imported here so that pytest finds them in this module)
    from _postgres_server import drop_schema, postgres_conninfo  # noqa: F401
except ImportError:  # pragma: no cover - depends on the checkout
    PG_MISSING: str | None = "tests/_postgres_server.py (the PostgreSQL fixtures) is missing"
else:
    try:
        from queue_quota.storage.postgres import PostgresStorage
    except ImportError as exc:  # pragma: no cover - depends on the checkout
        PG_MISSING = f"queue_quota.storage.postgres cannot be imported: {exc}"
    else:
        PG_MISSING = None

MACHINE_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class MemoryMachine(SchedulerMachine):
    """The machine on one MemoryStorage per run (the default)."""


class SQLiteMachine(SchedulerMachine):
    """The machine on a new SQLite file per run; "reopen" opens the file again."""

    def make_storage(self) -> Storage:
        """A handle on this run's database file (NORMAL: the machine tests logic, not fsync)."""
        return SQLiteStorage(self.workdir / "machine.sqlite3", synchronous="NORMAL")


TestMemoryMachine = MemoryMachine.TestCase
TestMemoryMachine.settings = MACHINE_SETTINGS

TestSQLiteMachine = SQLiteMachine.TestCase
TestSQLiteMachine.settings = MACHINE_SETTINGS


class PostgresMachine(SchedulerMachine):
    """The machine on a new PostgreSQL schema per run; "reopen" opens a new pool."""

    conninfo: str = ""
    # The capacity model's office once PostgresStorage keeps several counters per booking
    # (it moves onto the engine); until then the 0.1 office, which it supports.
    counters = PG_MISSING is None and bool(getattr(PostgresStorage, "supports_counters", False))

    def make_storage(self) -> Storage:
        """A handle on this run's schema."""
        return PostgresStorage(self.conninfo, schema=self.run_id, max_size=2)

    def cleanup(self) -> None:
        """Drop this run's schema."""
        drop_schema(self.conninfo, self.run_id)


@pytest.mark.postgres
@pytest.mark.skipif(PG_MISSING is not None, reason=str(PG_MISSING))
class TestPostgresMachine(PostgresMachine.TestCase):  # type: ignore[valid-type,misc]
    """The machine on PostgreSQL (fewer examples: every run creates a schema)."""

    settings = settings(MACHINE_SETTINGS, max_examples=15)

    @pytest.fixture(autouse=True)
    def _server(self, postgres_conninfo: str) -> None:
        """Point the machine at the test server."""
        PostgresMachine.conninfo = postgres_conninfo
