"""Promise 5: a raw citizen ID never reaches the storage, in any adapter."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import queue_quota as qq
from _postgres_server import drop_schema, unique_schema
from conftest import SECRET, tegal_office
from queue_quota.storage import MemoryStorage, SQLiteStorage

NIK = "3328019876543210"
NOW = datetime(2020, 6, 4, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def _exercise(sched: qq.Scheduler) -> None:
    """Book, retry, refuse, reschedule, walk in and cancel with the same citizen; then wait
    for a full day on the waitlist and have a clerk lift a suspension."""
    b = sched.book("online", NIK, now=NOW, idempotency_key="web-1")
    sched.book("online", NIK, now=NOW, idempotency_key="web-1")
    with pytest.raises(qq.AlreadyBooked) as refused:
        sched.book("online", f" {NIK.lower()} ", now=NOW)
    assert NIK not in str(refused.value)
    sched.reschedule(b.id, now=NOW)
    sched.book("walk_in", NIK, now=datetime.combine(NOW.date(), time(8), NOW.tzinfo))
    sched.cancel(b.id, now=NOW)
    day = sched.next_available("online", now=NOW)
    assert day is not None
    for i in range(20):  # the office's 20 online places of that day
        sched.book("online", f"33280100000000{i:02d}", now=NOW, preferred_date=day)
    entry = sched.join_waitlist("online", NIK, now=NOW, until=day)
    assert NIK not in repr(entry)
    sched.lift_suspension(NIK, now=NOW)


def test_memory_storage_holds_no_raw_id() -> None:
    """Nothing MemoryStorage keeps (bookings and indexes) contains the raw ID."""
    storage = MemoryStorage()
    _exercise(qq.Scheduler(tegal_office(), storage, secret=SECRET))
    offices = storage.primitives._offices.values()  # type: ignore[attr-defined]
    kept = repr([{k: getattr(o, k) for k in o.__slots__} for o in offices])
    assert NIK not in kept
    assert storage.bookings_on("tegal-disdukcapil", NOW.date())  # the walk-in is there


def test_sqlite_file_holds_no_raw_id(tmp_path: Path) -> None:
    """Neither the SQLite file nor its write-ahead log contains the raw ID."""
    path = tmp_path / "q.sqlite3"
    storage = SQLiteStorage(path)
    _exercise(qq.Scheduler(tegal_office(), storage, secret=SECRET))
    files = [p for p in tmp_path.iterdir() if p.name.startswith("q.sqlite3")]
    assert len(files) >= 2  # the database and its WAL, still open
    for p in files:
        assert NIK.encode() not in p.read_bytes(), p.name
    storage.close()


@pytest.mark.postgres
def test_postgres_rows_hold_no_raw_id(postgres_conninfo: str) -> None:
    """No row of any queue_quota table in PostgreSQL contains the raw ID."""
    import psycopg
    from psycopg import sql

    from queue_quota.storage import PostgresStorage

    schema = unique_schema()
    storage = PostgresStorage(postgres_conninfo, schema=schema)
    try:
        _exercise(qq.Scheduler(tegal_office(), storage, secret=SECRET))
        with psycopg.connect(postgres_conninfo) as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema,),
                )
            ]
            assert "qq_booking" in tables
            for table in tables:
                query = sql.SQL("SELECT row_to_json(t)::text FROM {}.{} AS t").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
                for (row,) in conn.execute(query):
                    assert NIK not in row, table
    finally:
        storage.close()
        drop_schema(postgres_conninfo, schema)
