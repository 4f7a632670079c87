"""The whole storage contract on a database that 0.1 wrote and 0.2 upgraded in place.

The golden file (tests/golden/sqlite_0_1/queue.sqlite3, written by the 0.1 code) holds the
bookings, counters, keys and closures of another office; the contract's offices start empty
in it, and everything the contract asks must hold beside the old data, which must come
through untouched.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from queue_quota.storage import SQLiteStorage
from queue_quota.testing import StorageContract, StorageFactory

GOLDEN = Path(__file__).parent / "golden" / "sqlite_0_1"


class TestUpgradedSQLite(StorageContract):
    """SQLiteStorage on an upgraded 0.1 file keeps the contract."""

    @pytest.fixture
    def storage_factory(self, tmp_path: Path) -> Iterator[StorageFactory]:
        path = tmp_path / "upgraded.sqlite3"
        shutil.copy(GOLDEN / "queue.sqlite3", path)
        yield lambda: SQLiteStorage(path)
        check = SQLiteStorage(path)
        try:
            _old_data_is_intact(check)
        finally:
            check.close()


def _old_data_is_intact(storage: SQLiteStorage) -> None:
    """The 0.1 office's bookings read back as 0.1 read them."""
    expected = json.loads((GOLDEN / "expected.json").read_text())
    bookings = expected["bookings"]
    assert bookings, "the golden file has bookings"
    for want in bookings:
        got = storage.get(want["office_id"], want["id"])
        assert (got.day.isoformat(), got.number, got.label, got.status.value) == (
            want["day"],
            want["number"],
            want["label"],
            want["status"],
        )


@pytest.mark.postgres
class TestUpgradedPostgres(StorageContract):
    """PostgresStorage on a schema 0.1 wrote (the golden dump), upgraded in place, keeps the
    contract."""

    @pytest.fixture
    def storage_factory(self, postgres_conninfo: str) -> Iterator[StorageFactory]:
        from _postgres_server import drop_schema
        from queue_quota.storage.postgres import PostgresStorage
        from test_postgres_migrate import _load

        schema = _load(postgres_conninfo, 1)
        made: list[PostgresStorage] = []

        def open_pg() -> PostgresStorage:
            made.append(PostgresStorage(postgres_conninfo, schema=schema))
            return made[-1]

        try:
            yield open_pg
        finally:
            for s in made:
                s.close()
            drop_schema(postgres_conninfo, schema)
