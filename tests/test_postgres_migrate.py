"""`PostgresStorage.migrate()` upgrades a schema written by queue_quota 0.1 (version 1), or
by 0.2's hardening schema (version 2), to version 3 in place.

The schema is ``tests/golden/postgres_0_1.sql``: a ``pg_dump`` of what the 0.1 code wrote
(see its header), loaded under a fresh name. Its rows are read before the upgrade with plain
SQL, and compared with what the upgraded storage returns.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import queue_quota as qq
from _postgres_server import drop_schema, unique_schema
from queue_quota.models import BookingStatus
from queue_quota.policies import OnlineQuota, WalkInQuota

psycopg = pytest.importorskip("psycopg")
from psycopg import sql  # noqa: E402

from queue_quota.storage.postgres import PostgresStorage  # noqa: E402

pytestmark = pytest.mark.postgres

GOLDEN = Path(__file__).parent / "golden" / "postgres_0_1.sql"
GOLDEN_SCHEMA = "qq_golden_v01"
SECRET = b"golden-0.1-secret-0123456789abcdef"
OFFICE = "tegal-disdukcapil"
WIB = ZoneInfo("Asia/Jakarta")
THU = datetime(2020, 6, 4, 9, 0, tzinfo=WIB)
SRC = str(Path(qq.__file__).resolve().parent.parent)


def office() -> qq.Office:
    """The office the golden schema was written for."""
    return qq.Office(
        id=OFFICE,
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[
            OnlineQuota(capacity=3, lead_days=1, horizon_days=60),
            WalkInQuota(capacity=4, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


def fetch(conninfo: str, query: sql.Composable, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.execute(query, params or None)
        return cur.fetchall() if cur.description else []


def rows(conninfo: str, schema: str, table: str, order: str) -> list[tuple[Any, ...]]:
    """Every row of a table, as plain SQL sees it."""
    q = sql.SQL("SELECT * FROM {}.{} ORDER BY " + order).format(
        sql.Identifier(schema), sql.Identifier(table)
    )
    return fetch(conninfo, q)


#: What schema 2 added to schema 1 (0.2's hardening), with one row of each new kind.
_TO_VERSION_2 = (
    "ALTER TABLE {s}.qq_booking ADD COLUMN key_fingerprint text",
    "UPDATE {s}.qq_booking SET key_fingerprint = 'fp-' || id WHERE idempotency_key IS NOT NULL",
    "CREATE INDEX qq_booking_refs ON {s}.qq_booking (office_id, citizen_ref, day)",
    'CREATE TABLE {s}.qq_secret (office_id text COLLATE "C" NOT NULL, fingerprint text NOT NULL,'
    " updated_at timestamptz NOT NULL, CONSTRAINT qq_secret_pkey PRIMARY KEY (office_id))",
    "INSERT INTO {s}.qq_secret VALUES ('another-office', 'fp-secret', now())",
    "UPDATE {s}.qq_meta SET value = '2' WHERE key = 'schema_version'",
)


def _load(conninfo: str, version: int) -> str:
    name = unique_schema()
    script = GOLDEN.read_text(encoding="utf-8").replace(GOLDEN_SCHEMA, name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(script.encode())
        if version == 2:
            for statement in _TO_VERSION_2:
                conn.execute(sql.SQL(statement).format(s=sql.Identifier(name)))
    return name


@pytest.fixture(params=[1, 2])
def old_schema(request: pytest.FixtureRequest, postgres_conninfo: str) -> Iterator[str]:
    """A fresh schema holding exactly what the 0.1 code wrote (and, for version 2, what the
    hardening schema added)."""
    name = _load(postgres_conninfo, request.param)
    yield name
    drop_schema(postgres_conninfo, name)


@pytest.fixture
def golden(postgres_conninfo: str) -> Iterator[str]:
    """The 0.1 schema as it was dumped."""
    name = _load(postgres_conninfo, 1)
    yield name
    drop_schema(postgres_conninfo, name)


def test_golden_is_a_schema_1_database(postgres_conninfo: str, golden: str) -> None:
    """The golden schema is 0.1's: version 1, no fingerprint column, no secret table."""
    old_schema = golden
    meta = dict(rows(postgres_conninfo, old_schema, "qq_meta", "key"))
    assert meta["schema_version"] == "1"
    cols = fetch(
        postgres_conninfo,
        sql.SQL(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'qq_booking'"
        ),
        old_schema,
    )
    assert ("key_fingerprint",) not in cols
    assert len(cols) == 11
    assert len(rows(postgres_conninfo, old_schema, "qq_booking", "id")) == 10


def test_upgrade_keeps_everything_and_booking_continues(
    postgres_conninfo: str, old_schema: str
) -> None:
    """After migrate(): every booking field, counter, epoch and closure as 0.1 left them;
    tickets verify, keys answer, the citizen limit sees the old refs, numbers go on."""
    old_version = int(dict(rows(postgres_conninfo, old_schema, "qq_meta", "key"))["schema_version"])
    fingerprints = {}
    if old_version == 2:
        fingerprints = {
            r[0]: r[11] for r in rows(postgres_conninfo, old_schema, "qq_booking", "id")
        }
    before = {
        t: rows(postgres_conninfo, old_schema, t, o)
        for t, o in (
            ("qq_booking", "id"),
            ("qq_day", "office_id, channel, day"),
            ("qq_closure", "office_id, day"),
            ("qq_epoch", "office_id, channel"),
        )
    }
    storage = PostgresStorage(postgres_conninfo, schema=old_schema)
    try:
        storage.migrate()
        storage.migrate()  # idempotent
        meta = dict(rows(postgres_conninfo, old_schema, "qq_meta", "key"))
        assert meta["schema_version"] == "4"
        after = rows(postgres_conninfo, old_schema, "qq_booking", "id")
        assert [r[:11] for r in after] == [r[:11] for r in before["qq_booking"]]
        # The new columns: the fingerprint (none in 0.1), one place, the default counter.
        assert [r[11] for r in after] == [fingerprints.get(r[0]) for r in after]
        assert all(r[12:] == (1, None, None, None) for r in after)
        stored = rows(postgres_conninfo, old_schema, "qq_counter", "office_id, scope, day")
        assert stored == [
            (o, "c:" + c, d, booked, last) for o, c, d, _cap, booked, last in before["qq_day"]
        ]
        assert (
            rows(postgres_conninfo, old_schema, "qq_closure", "office_id, day")
            == (before["qq_closure"])
        )
        epochs: dict[str, int] = {}
        for o, _c, e in before["qq_epoch"]:
            epochs[o] = max(epochs.get(o, 0), e)
        assert epochs  # the golden has released places
        office_meta = rows(postgres_conninfo, old_schema, "qq_office_meta", "office_id, name")
        assert office_meta == [(o, "~epoch", str(e)) for o, e in sorted(epochs.items())]
        tables = fetch(
            postgres_conninfo,
            sql.SQL("SELECT tablename FROM pg_tables WHERE schemaname = %s"),
            old_schema,
        )
        assert not {"qq_day", "qq_epoch"} & {t for (t,) in tables}
        if old_version == 2:
            assert storage.claim_secret("another-office", "fp-x", ["fp-x"]) == "fp-secret"
        # Through the storage: the same fields as the rows.
        for r in before["qq_booking"]:
            b = storage.get(OFFICE, r[0])
            assert (b.id, b.office_id, b.channel, b.day, b.number, b.label) == r[:6]
            assert (b.status.value, b.citizen_ref, b.created_at, b.ticket) == r[6:10]
            assert b.idempotency_key == r[10]
        assert storage.closures(OFFICE) == {date(2020, 6, 9): "system maintenance"}
        statuses = {BookingStatus(r[6]) for r in before["qq_booking"]}
        assert statuses == set(BookingStatus)  # the golden has every status

        sched = qq.Scheduler(office(), storage, secret=SECRET)
        for r in before["qq_booking"]:
            assert sched.verify_ticket(r[9]).id == r[0]
        keyed = [r for r in before["qq_booking"] if r[10] is not None]
        assert len(keyed) == 3
        for r in keyed:
            found = storage.find_by_key(OFFICE, r[10])
            assert found is not None
            assert found.id == r[0]
        # Citizen 3328010000000005 holds an active online booking made by 0.1.
        with pytest.raises(qq.AlreadyBooked):
            sched.book("online", "3328010000000005", now=THU)
        refs = [r[7] for r in before["qq_booking"] if r[7] is not None and r[2] == "online"]
        assert len(sched.bookings_of("3328010000000005", include_past=True)) == 1
        assert all(storage.bookings_of(OFFICE, [ref]) for ref in refs)
        # Numbers go on from 0.1's counters, closed days stay closed.
        counters = {(r[1], r[2]): r for r in before["qq_day"]}
        new = sched.book("online", "3328010000000123", now=THU)
        last = counters[("online", new.day)][5] if ("online", new.day) in counters else 0
        assert new.number == last + 1
        assert new.day != date(2020, 6, 9)
        assert new.label == f"A-{new.number:03d}"
    finally:
        storage.close()


_MIGRATE = """
import sys
from queue_quota.storage.postgres import PostgresStorage
s = PostgresStorage(sys.argv[1], schema=sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
s.migrate()
print(len(s.bookings_of("tegal-disdukcapil", ["none"])), flush=True)
s.close()
"""


def test_processes_upgrading_at_once(postgres_conninfo: str, old_schema: str) -> None:
    """Six processes opening the 0.1 schema together: all succeed, the upgrade runs once."""
    env = {**os.environ, "PYTHONPATH": SRC}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE, postgres_conninfo, old_schema],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(6)
    ]
    for p in procs:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [err for _, err in results]
    assert [out.strip() for out, _ in results] == ["0"] * 6
    assert len(rows(postgres_conninfo, old_schema, "qq_booking", "id")) == 10
    functions = fetch(
        postgres_conninfo,
        sql.SQL(
            "SELECT p.proname, count(*) FROM pg_proc p JOIN pg_namespace n"
            " ON n.oid = p.pronamespace WHERE n.nspname = %s GROUP BY p.proname"
        ),
        old_schema,
    )
    assert functions == [], functions  # no server function left behind
