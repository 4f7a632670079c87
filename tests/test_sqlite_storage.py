"""SQLiteStorage beyond the shared contract: the upgrade of a real 0.1 file and of a
version 2 file, several processes at once, the indexes each read uses, and what a common
booking costs in statements. (The primitives alone: test_sqlite_primitives.py.)"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

import queue_quota as qq
from queue_quota.errors import AlreadyBooked, InvalidTransition, StorageError
from queue_quota.models import Booking, Reservation, Slot
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import SQLiteStorage
from queue_quota.storage._sqlite_schema import SCHEMA_VERSION, needs_upgrade, upgrade
from queue_quota.testing._builders import OFFICE, day, reservation, slots

GOLDEN = Path(__file__).resolve().parent / "golden" / "sqlite_0_1"
EXPECTED: dict[str, Any] = json.loads((GOLDEN / "expected.json").read_text())
TEGAL, BREBES = "golden-tegal", "golden-brebes"
OLD_COLUMNS = (
    "id, office_id, channel, day, number, label, status, citizen_ref, created_at, ticket, "
    "idempotency_key"
)
PROCESSES = 6


def _old_database(tmp_path: Path, name: str = "old.sqlite3") -> Path:
    """A copy of the database written by queue_quota 0.1 (see golden/sqlite_0_1)."""
    path = tmp_path / name
    shutil.copyfile(GOLDEN / "queue.sqlite3", path)
    return path


@contextmanager
def _raw(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with _raw(path) as conn:
        return [tuple(r) for r in conn.execute(sql)]


def _schema(path: Path) -> dict[str, Any]:
    """Tables with their columns, and index names, as the file has them."""
    with _raw(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            "columns": {
                t: [tuple(c[1:]) for c in conn.execute(f"PRAGMA table_info({t})")]
                for t in sorted(tables)
            },
            "indexes": sorted(
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
            ),
            "version": conn.execute(
                "SELECT value FROM qq_meta WHERE key = 'schema_version'"
            ).fetchone()[0],
        }


def _as_json(b: Booking) -> dict[str, Any]:
    return {
        "id": b.id,
        "office_id": b.office_id,
        "channel": b.channel,
        "day": b.day.isoformat(),
        "number": b.number,
        "label": b.label,
        "status": b.status.value,
        "citizen_ref": b.citizen_ref,
        "created_at": b.created_at.isoformat(),
        "ticket": b.ticket,
        "idempotency_key": b.idempotency_key,
    }


def _golden_office(office_id: str = TEGAL) -> qq.Office:
    """The office the golden database was made for (see make_golden.py)."""
    return qq.Office(
        id=office_id,
        calendar=qq.WorkingCalendar(tz="Asia/Jakarta"),
        policies=[
            OnlineQuota(capacity=3, lead_days=1, horizon_days=30, per_citizen=1),
            WalkInQuota(capacity=5, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


# -- the upgrade of a database made by 0.1 ---------------------------------------------------


def test_golden_database_is_a_0_1_database() -> None:
    """The golden file really is 0.1's: schema version 1, none of the 0.2 additions."""
    schema = _schema(GOLDEN / "queue.sqlite3")
    assert schema["version"] == "1"
    assert "qq_secret" not in schema["columns"]
    assert "key_fingerprint" not in [c[0] for c in schema["columns"]["qq_booking"]]
    assert "qq_booking_citizen" in schema["indexes"]


def _counters(path: Path) -> list[list[Any]]:
    return [list(r) for r in _rows(path, "SELECT * FROM qq_counter ORDER BY 1, 2, 3")]


#: 0.1's day counters as version 3 counters: (office, "c:" channel, day, used, last).
EXPECTED_COUNTERS = [
    [o, f"c:{c}", d, booked, last] for o, c, d, _, booked, last in EXPECTED["days"]
]


def _expected_epochs() -> dict[str, int]:
    epochs: dict[str, int] = {}
    for office_id, _, epoch in EXPECTED["epochs"]:
        epochs[office_id] = max(epoch, epochs.get(office_id, 0))
    return epochs


def _assert_golden_kept(storage: SQLiteStorage, path: Path, raw_before: list[Any]) -> None:
    """Every value 0.1 wrote reads back the same, raw and through the adapter."""
    assert _rows(path, f"SELECT {OLD_COLUMNS} FROM qq_booking ORDER BY office_id, id") == (
        raw_before
    )
    assert _rows(
        path, "SELECT DISTINCT places, charges, window_start, window_end FROM qq_booking"
    ) == [(1, None, None, None)]
    assert _counters(path) == EXPECTED_COUNTERS
    assert dict(
        _rows(path, "SELECT office_id, value FROM qq_office_meta WHERE name = '~epoch'")
    ) == {o: str(e) for o, e in _expected_epochs().items()}
    expected = EXPECTED["bookings"]
    assert len(expected) == len(raw_before) == 13
    for want in expected:
        got = storage.get(want["office_id"], want["id"])
        assert _as_json(got) == want
        assert (got.places, got.window, got.charges) == (1, None, ())
        if want["idempotency_key"] is not None:
            found = storage.find_by_key(want["office_id"], want["idempotency_key"])
            assert found == got
    by_day = [
        _as_json(b)
        for office_id in (TEGAL, BREBES)
        for d in sorted({date.fromisoformat(b["day"]) for b in expected})
        for b in storage.bookings_on(office_id, d, include_cancelled=True)
    ]
    assert by_day == expected
    for want in expected:
        if want["citizen_ref"] is not None:
            mine = storage.bookings_of(want["office_id"], [want["citizen_ref"]])
            assert want in [_as_json(b) for b in mine]
    for office_id, closed in EXPECTED["closures"].items():
        assert {d.isoformat(): r for d, r in storage.closures(office_id).items()} == closed
    for office_id, channel, d, _, booked, _ in EXPECTED["days"]:
        day_ = date.fromisoformat(d)
        counts = storage.booked_counts(office_id, channel, day_, day_ + timedelta(days=1))
        assert counts == ({day_: booked} if booked else {})
    schema = _schema(path)
    assert schema["version"] == str(SCHEMA_VERSION) == "4"
    assert not {"qq_day", "qq_epoch", "qq_booking_old"} & set(schema["columns"])
    assert schema["indexes"] == NEW_INDEXES


#: Every index of a version 3 file (the tables' own keys are automatic indexes).
NEW_INDEXES = sorted(
    [
        "qq_booking_citizen_ref",
        "qq_booking_key",
        "qq_booking_number",
        "sqlite_autoindex_qq_meta_1",
    ]
)


def test_upgrade_keeps_every_booking_closure_and_counter(tmp_path: Path) -> None:
    """Opening a 0.1 file upgrades it in place and every value 0.1 wrote reads back the same;
    day counters become ``c:`` counters, the epochs one ``~epoch`` per office."""
    path = _old_database(tmp_path)
    raw_before = _rows(path, f"SELECT {OLD_COLUMNS} FROM qq_booking ORDER BY office_id, id")
    closures_before = _rows(path, "SELECT * FROM qq_closure ORDER BY 1, 2")
    storage = SQLiteStorage(path)
    storage.migrate()
    _assert_golden_kept(storage, path, raw_before)
    assert _rows(path, "SELECT key_fingerprint FROM qq_booking") == [(None,)] * len(raw_before)
    assert _rows(path, "SELECT * FROM qq_closure ORDER BY 1, 2") == closures_before
    storage.close()


# What the hardening schema (version 2, never released) changed in a 0.1 file.
_V2_FROM_V1 = """
ALTER TABLE qq_booking ADD COLUMN key_fingerprint TEXT;
CREATE TABLE qq_secret (
    office_id   TEXT NOT NULL PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
DROP INDEX qq_booking_citizen;
CREATE INDEX qq_booking_citizen_ref
    ON qq_booking (office_id, citizen_ref, channel, status, day)
    WHERE citizen_ref IS NOT NULL;
UPDATE qq_meta SET value = '2' WHERE key = 'schema_version';
UPDATE qq_booking SET key_fingerprint = 'fp-' || idempotency_key
    WHERE idempotency_key IS NOT NULL;
INSERT INTO qq_secret VALUES ('golden-tegal', 'secret-fp', '2020-06-08T01:00:00+00:00')
"""


def _v2_database(tmp_path: Path) -> Path:
    path = _old_database(tmp_path, "v2.sqlite3")
    with _raw(path) as conn:
        conn.executescript(_V2_FROM_V1)
    return path


def test_upgrade_of_a_version_2_file_keeps_fingerprints_and_secrets(tmp_path: Path) -> None:
    """The unreleased hardening schema upgrades too: its request fingerprints and secret
    fingerprints are kept, and everything 0.1 wrote as well."""
    path = _v2_database(tmp_path)
    assert _schema(path)["version"] == "2"
    raw_before = _rows(path, f"SELECT {OLD_COLUMNS} FROM qq_booking ORDER BY office_id, id")
    secrets = _rows(path, "SELECT * FROM qq_secret")
    storage = SQLiteStorage(path)
    storage.migrate()
    _assert_golden_kept(storage, path, raw_before)
    for want in EXPECTED["bookings"]:
        got = storage.get(want["office_id"], want["id"])
        key = want["idempotency_key"]
        assert got.request_fingerprint == (None if key is None else f"fp-{key}")
    assert _rows(path, "SELECT * FROM qq_secret") == secrets
    assert storage.claim_secret(TEGAL, "secret-fp", ["secret-fp"]) == "secret-fp"
    assert storage.claim_secret(BREBES, "other-fp", ["other-fp"]) is None
    assert _schema(path) == _schema(_migrated_copy(tmp_path))
    storage.close()


def test_booking_continues_on_an_upgraded_database(tmp_path: Path) -> None:
    """Numbers go on after 0.1's (never reused), keys and citizens of 0.1 are still known."""
    storage = SQLiteStorage(_old_database(tmp_path))
    tue, wed, thu, fri = (date(2020, 6, d) for d in (9, 10, 11, 12))
    monday = date(2020, 6, 8)

    def book(where: tuple[Slot, ...], **kw: Any) -> Booking:
        return storage.reserve(reservation(where, office=TEGAL, today=monday, **kw))

    online = (Slot(tue, 3), Slot(wed, 3), Slot(thu, 3), Slot(fri, 3))
    # Tuesday has two places left (A-002 cancelled, A-003 moved), never
    # A-002 again; then Wednesday is closed (0.1's closure) and Thursday full: Friday A-003.
    got = [book(online) for _ in range(3)]
    assert [(b.day, b.label) for b in got] == [(tue, "A-004"), (tue, "A-005"), (fri, "A-003")]
    with pytest.raises(qq.QuotaExhausted):
        book(online[:3])
    walk = book((Slot(monday, 5),), channel="walk_in", prefix="B")
    assert walk.label == "B-005"  # after B-004, though three walk-ins were no-shows
    # An idempotency key used with 0.1 answers with its booking (no fingerprint: 0.1 kept none).
    again = book(online, key="web-1")
    assert (again.day, again.label, again.request_fingerprint) == (tue, "A-001", None)
    # A citizen of 0.1, under a rotated secret: found by the old ref among the refs.
    (old_ref,) = [b["citizen_ref"] for b in EXPECTED["bookings"] if b["idempotency_key"] == "web-7"]
    limited = attrs.evolve(
        reservation(online, office=TEGAL, today=monday, citizen="ref-new", per_citizen=1),
        other_refs=(old_ref,),
    )
    with pytest.raises(AlreadyBooked):
        storage.reserve(limited)
    assert [b.label for b in storage.bookings_of(TEGAL, ["ref-new", old_ref])] == ["A-001"]
    # Brebes, in the same file, is untouched by all this.
    assert [b.label for b in storage.bookings_on(BREBES, tue)] == ["A-001"]
    storage.close()


def test_scheduler_on_an_upgraded_database(tmp_path: Path) -> None:
    """0.1 tickets still verify and 0.1 citizens still hold their places."""
    storage = SQLiteStorage(_old_database(tmp_path))
    sched = qq.Scheduler(_golden_office(), storage, secret=EXPECTED["secret"].encode())
    for want in EXPECTED["bookings"]:
        if want["office_id"] == TEGAL:
            assert _as_json(sched.verify_ticket(want["ticket"])) == want
    now = datetime(2020, 6, 8, 10, tzinfo=ZoneInfo("Asia/Jakarta"))
    with pytest.raises(AlreadyBooked):
        sched.book("online", EXPECTED["citizen_ids"]["1"], now=now)
    fresh = sched.book("online", "3328019999999999", now=now)
    assert (fresh.day, fresh.label) == (date(2020, 6, 9), "A-004")
    storage.close()


def test_upgrade_gives_the_schema_of_a_new_file(tmp_path: Path) -> None:
    """An upgraded 0.1 file and a file created by this version have the same schema."""
    old = _old_database(tmp_path)
    SQLiteStorage(old).migrate()
    new = tmp_path / "new.sqlite3"
    SQLiteStorage(new).migrate()
    assert _schema(old) == _schema(new)
    assert _schema(new)["version"] == "4"
    assert "qq_secret" in _schema(new)["columns"]
    assert _rows(old, "SELECT sql FROM sqlite_master ORDER BY name") == _rows(
        new, "SELECT sql FROM sqlite_master ORDER BY name"
    )


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    """Migrating again, from another handle, changes nothing."""
    path = _old_database(tmp_path)
    SQLiteStorage(path).migrate()
    before = (_schema(path), _rows(path, "SELECT * FROM qq_booking ORDER BY 1, 2"))
    for _ in range(2):
        handle = SQLiteStorage(path)
        handle.migrate()
        handle.close()
    assert (_schema(path), _rows(path, "SELECT * FROM qq_booking ORDER BY 1, 2")) == before


def test_upgrade_after_another_process_upgraded_changes_nothing(tmp_path: Path) -> None:
    """The race of two first openings, in the order that matters: both see version 1, the
    other one upgrades, then this one gets the write lock and must find nothing to do."""
    path = _old_database(tmp_path)
    with _raw(path) as conn:
        assert needs_upgrade(conn, path)
        SQLiteStorage(path).migrate()  # "another process", in between
        upgrade(conn, path)  # would fail on a second ADD COLUMN if it did not re-check
    assert _schema(path) == _schema(_migrated_copy(tmp_path))


def test_upgrade_finishes_a_half_done_file(tmp_path: Path) -> None:
    """A file with version 2's column but version 1 in qq_meta upgrades (fingerprints kept)."""
    path = _old_database(tmp_path)
    with _raw(path) as conn:
        conn.execute("ALTER TABLE qq_booking ADD COLUMN key_fingerprint TEXT")
        conn.execute("UPDATE qq_booking SET key_fingerprint = 'fp'")
    SQLiteStorage(path).migrate()
    assert _schema(path) == _schema(_migrated_copy(tmp_path))
    assert _rows(path, "SELECT DISTINCT key_fingerprint FROM qq_booking") == [("fp",)]


def _zero_one_schema() -> str:
    """The statements 0.1 runs on every first open (before it reads the version)."""
    with _raw(GOLDEN / "queue.sqlite3") as conn:
        return (
            ";\n".join(
                r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")
            )
            .replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ")
            .replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ")
        )


def test_what_a_0_1_process_recreates_is_dropped_again(tmp_path: Path) -> None:
    """A 0.1 process recreates its (empty) day and epoch tables and its citizen index
    before it refuses the newer file: the next open drops them, nothing else changes."""
    path = _migrated_copy(tmp_path)
    before = _rows(path, "SELECT * FROM qq_booking ORDER BY 1, 2"), _counters(path)
    with _raw(path) as conn:
        conn.executescript(_zero_one_schema())
        assert {"qq_day", "qq_epoch"} <= set(_schema(path)["columns"])
    SQLiteStorage(path).migrate()
    assert _schema(path) == _schema(_migrated_copy(tmp_path, "again.sqlite3"))
    assert "qq_booking_citizen" not in _schema(path)["indexes"]
    assert (_rows(path, "SELECT * FROM qq_booking ORDER BY 1, 2"), _counters(path)) == before


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """A file of a later version is not touched."""
    path = _migrated_copy(tmp_path)
    with _raw(path) as conn:
        conn.execute("UPDATE qq_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="newer"):
        SQLiteStorage(path).migrate()
    assert _schema(path)["version"] == "99"


def test_an_up_to_date_file_is_opened_without_a_write_transaction(tmp_path: Path) -> None:
    """Once upgraded, opening a handle only reads the version (no BEGIN IMMEDIATE)."""
    path = _migrated_copy(tmp_path)
    storage = SQLiteStorage(path)
    seen: list[str] = []
    original = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = original(*args, **kwargs)
        conn.set_trace_callback(seen.append)
        return conn

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sqlite3, "connect", traced)
        storage.migrate()
    assert seen
    assert not [s for s in seen if s.startswith("BEGIN")]
    storage.close()


def _migrated_copy(tmp_path: Path, name: str = "reference.sqlite3") -> Path:
    path = _old_database(tmp_path, name)
    SQLiteStorage(path).migrate()
    return path


# -- several processes at once -----------------------------------------------------------


def _first_open_worker(path: str, barrier: Any, i: int, results: Any) -> None:
    """Open a 0.1 file (the first use upgrades it) and book one walk-in, all at once."""
    try:
        storage = SQLiteStorage(path)
        barrier.wait(timeout=60)
        b = storage.reserve(
            reservation(
                (Slot(date(2020, 6, 15), PROCESSES),),
                office=TEGAL,
                channel="walk_in",
                prefix="B",
                today=date(2020, 6, 15),
            )
        )
        results.put((i, b.number))
    except BaseException as exc:  # reported to the test process
        results.put((i, f"{type(exc).__name__}: {exc}"))


def _claim_worker(path: str, barrier: Any, i: int, results: Any) -> None:
    """Claim the office's secret fingerprint (two rounds: first claims, then a rotation)."""
    try:
        storage = SQLiteStorage(path)
        storage.migrate()
        barrier.wait(timeout=60)
        first = storage.claim_secret(TEGAL, f"fp-{i}", [f"fp-{i}"])
        barrier.wait(timeout=60)
        winner = storage.claim_secret(TEGAL, "fp-probe", [])  # refused: tells the winner
        barrier.wait(timeout=60)
        rotated = storage.claim_secret(TEGAL, "fp-new", ["fp-new", str(winner)])
        results.put((i, first, winner, rotated))
    except BaseException as exc:
        results.put((i, f"{type(exc).__name__}: {exc}", None, None))


def _run_processes(target: Callable[..., None], path: Path) -> list[tuple[Any, ...]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(str(path), barrier, i, results)) for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    got = sorted(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return got


@pytest.mark.slow
def test_processes_opening_a_0_1_database_at_once(tmp_path: Path) -> None:
    """Several processes start on one 0.1 file together: one upgrade, every booking kept."""
    path = _old_database(tmp_path)
    raw_before = _rows(path, f"SELECT {OLD_COLUMNS} FROM qq_booking ORDER BY office_id, id")
    got = _run_processes(_first_open_worker, path)
    assert sorted(number for _, number in got) == list(range(1, PROCESSES + 1)), got
    schema = _schema(path)
    assert schema == _schema(_migrated_copy(tmp_path))
    assert schema["version"] == "4"
    assert _counters(path)[-1] == [TEGAL, "c:walk_in", "2020-06-15", PROCESSES, PROCESSES]
    after = _rows(path, f"SELECT {OLD_COLUMNS} FROM qq_booking ORDER BY office_id, id")
    assert set(raw_before) <= set(after)
    assert len(after) == len(raw_before) + PROCESSES


@pytest.mark.slow
def test_processes_claiming_a_secret_at_once(tmp_path: Path) -> None:
    """Processes with different secrets: exactly one is recorded, all others are told it;
    then all rotate to one new fingerprint at once: one replaces, the others find it."""
    path = tmp_path / "claims.sqlite3"
    SQLiteStorage(path).migrate()
    got = _run_processes(_claim_worker, path)
    firsts = [first for _, first, _, _ in got]
    assert firsts.count(None) == 1, got
    winner = f"fp-{firsts.index(None)}"
    assert [w for _, _, w, _ in got] == [winner] * PROCESSES
    assert sorted(first for first in firsts if first is not None) == [winner] * (PROCESSES - 1)
    rotated = [r for _, _, _, r in got]
    assert rotated.count(winner) == 1, rotated  # the one that replaced it
    assert rotated.count("fp-new") == PROCESSES - 1
    assert _rows(path, "SELECT office_id, fingerprint FROM qq_secret") == [(TEGAL, "fp-new")]


# -- the citizen index -----------------------------------------------------------------------


def _plans(storage: SQLiteStorage, run: Callable[[], object]) -> list[str]:
    """The query plan of every statement ``run`` executes on the storage's connection."""
    conn = storage._connect()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    return [
        " / ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
        for sql in seen
        if sql.lstrip().upper().startswith(("SELECT", "INSERT"))
    ]


def _crowd(storage: SQLiteStorage) -> None:
    """Many citizens' bookings over many days, so that a scan would be the planner's loss."""
    for i in range(120):
        storage.reserve(reservation(slots(day(i % 30), capacity=50), citizen=f"ref-{i}"))
    storage.reserve(reservation(slots(day(3), capacity=50), citizen="ref-old"))
    storage.reserve(reservation(slots(day(5), capacity=50), citizen="ref-a", channel="walk_in"))


@pytest.mark.parametrize("since", [None, day(2)])
def test_bookings_of_searches_the_citizen_index(tmp_path: Path, since: date | None) -> None:
    """``bookings_of`` seeks (office, ref) in the citizen index, with or without ``since``,
    also after ANALYZE: never a scan of the office's bookings by day."""
    storage = SQLiteStorage(tmp_path / "q.sqlite3")
    _crowd(storage)
    refs = ["ref-a", "ref-old"]
    for analyzed in (False, True):
        plans = _plans(storage, lambda: storage.bookings_of(OFFICE, refs, since=since))
        assert len(plans) == 1
        assert "USING INDEX qq_booking_citizen_ref (office_id=? AND citizen_ref=?" in plans[0]
        assert "SCAN" not in plans[0]
        found = storage.bookings_of(OFFICE, refs, since=since)
        assert [(b.citizen_ref, b.day) for b in found] == [("ref-old", day(3)), ("ref-a", day(5))]
        if not analyzed:
            storage._connect().execute("ANALYZE")
    storage.close()


def test_citizen_limit_searches_the_citizen_index(tmp_path: Path) -> None:
    """The per-citizen limit is one seek (office, ref, day from today) on the citizen index,
    also with older refs of a rotated secret."""
    storage = SQLiteStorage(tmp_path / "q.sqlite3")
    _crowd(storage)
    where = slots(day(40), capacity=50)
    storage.reserve(reservation(where))
    r = attrs.evolve(
        reservation(where, citizen="ref-new", per_citizen=1), other_refs=("ref-1", "ref-2")
    )

    def refused() -> None:
        with pytest.raises(AlreadyBooked):
            storage.reserve(r)

    refused()
    plans = _plans(storage, refused)
    searches = [step for plan in plans for step in plan.split(" / ") if "qq_booking" in step]
    assert searches == [
        "SEARCH qq_booking USING INDEX qq_booking_citizen_ref (office_id=? AND citizen_ref=? "
        "AND day>?)"
    ], plans
    storage.close()


def test_every_read_seeks_its_index(tmp_path: Path) -> None:
    """By key, by day, by id and the counters: seeks, never a scan of an office's rows."""
    storage = SQLiteStorage(tmp_path / "q.sqlite3")
    _crowd(storage)
    b = storage.reserve(reservation(slots(day(3), capacity=50), key="k-1"))
    expected = {
        "key": "SEARCH qq_booking USING INDEX qq_booking_key (office_id=? AND idempotency_key=?)",
        "day": "SEARCH qq_booking USING INDEX qq_booking_number (office_id=? AND day=?)",
        "id": "SEARCH qq_booking USING PRIMARY KEY (office_id=? AND id=?)",
        "counters": "SEARCH qq_counter USING PRIMARY KEY (office_id=? AND scope=? AND day>? "
        "AND day<?)",
    }
    runs = {
        "key": lambda: storage.find_by_key(OFFICE, "k-1"),
        "day": lambda: storage.bookings_on(OFFICE, day(3)),
        "id": lambda: storage.get(OFFICE, b.id),
        "counters": lambda: storage.booked_counts(OFFICE, "online", day(0), day(9)),
    }
    for name, run in runs.items():
        assert _plans(storage, run) == [expected[name]], name
    storage.close()


# -- what a common booking costs ---------------------------------------------------------------


def _statements(storage: SQLiteStorage, r: Reservation) -> list[str]:
    conn = storage._connect()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        storage.reserve(r)
    finally:
        conn.set_trace_callback(None)
    return [" ".join(s.split()[:4]) for s in seen]


def test_common_booking_statements(tmp_path: Path) -> None:
    """Each primitive is one statement and the two meta reads are one: BEGIN, the key, the
    meta, the citizen's bookings, one read of the counters, their write, the insert, its
    event and the log's seq, COMMIT. Without a key or a limit, fewer; older refs add none."""
    storage = SQLiteStorage(tmp_path / "q.sqlite3")
    where = slots(*(day(i) for i in range(1, 30)), capacity=5)
    storage.reserve(reservation(where))  # the first search sets the skip pointer

    def booking(n: int, **kw: Any) -> Reservation:
        return attrs.evolve(
            reservation(where, citizen=f"ref-{n}", per_citizen=1, **kw), fingerprint=f"fp-{n}"
        )

    meta = "SELECT name, value FROM"
    counters = "SELECT scope, day, used,"
    write = [
        "INSERT INTO qq_counter (office_id,",
        "INSERT INTO qq_booking (id,",
        "INSERT INTO qq_event (office_id,",
        "INSERT INTO qq_office_meta (office_id,",
        "COMMIT",
    ]
    rows = "SELECT id, office_id, channel,"
    assert _statements(storage, booking(1, key="k-1")) == [
        "BEGIN IMMEDIATE",
        rows,  # the key
        meta,
        rows,  # the citizen's bookings
        counters,
        *write,
    ]
    assert _statements(storage, booking(2)) == ["BEGIN IMMEDIATE", meta, rows, counters, *write]
    rotated = attrs.evolve(booking(3), other_refs=("ref-3-old", "ref-3-older"))
    assert _statements(storage, rotated) == ["BEGIN IMMEDIATE", meta, rows, counters, *write]
    anonymous = reservation(where)
    assert _statements(storage, anonymous) == ["BEGIN IMMEDIATE", meta, counters, *write]
    assert storage.find_by_key(OFFICE, "k-1").request_fingerprint == "fp-1"  # type: ignore[union-attr]
    storage.close()


# -- duplicate ids -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["fast", "search", "full"])
def test_duplicate_booking_id_is_an_invalid_transition(tmp_path: Path, path: str) -> None:
    """On the fast path, the full search and a full day alike: ``duplicate_id``, nothing
    written (the next booking gets the next number, the counters are unchanged)."""
    storage = SQLiteStorage(tmp_path / "q.sqlite3")
    where = slots(day(1), day(2), capacity=2)
    first = storage.reserve(reservation(where, citizen="ref-1", per_citizen=1))
    if path == "search":
        storage.cancel(OFFICE, storage.reserve(reservation(where)).id, not_before=day(0))
    if path == "full":
        storage.reserve(reservation(where))
        storage.reserve(reservation(where))
        storage.reserve(reservation(where))
    before = _rows(storage.path, "SELECT * FROM qq_counter ORDER BY 1, 2, 3")
    again = reservation(where, citizen="ref-2", per_citizen=1, booking_id=first.id)
    with pytest.raises(InvalidTransition) as refused:
        storage.reserve(again)
    assert refused.value.reason == "duplicate_id"
    assert refused.value.code == "invalid_transition"
    assert _rows(storage.path, "SELECT * FROM qq_counter ORDER BY 1, 2, 3") == before
    assert storage.get(OFFICE, first.id) == first
    assert storage.bookings_of(OFFICE, ["ref-2"]) == []
    if path != "full":
        assert storage.reserve(reservation(where)).number == (2 if path == "fast" else 3)
    storage.close()


def test_moved_bookings_say_where_they_were(tmp_path: Path) -> None:
    """``move`` and ``close_day`` return the previous day and number (not stored)."""
    storage = SQLiteStorage(tmp_path / "q.sqlite3")
    a = storage.reserve(reservation(slots(day(1))))
    b = storage.reserve(reservation(slots(day(1))))
    moved = storage.move(OFFICE, a.id, slots(day(2)), prefix="A")
    assert (moved.previous_day, moved.previous_number, moved.day, moved.number) == (
        day(1),
        1,
        day(2),
        1,
    )
    assert moved.previous_label == "A-001"
    closed = storage.close_day(
        OFFICE,
        day(1),
        "banjir",
        {"online": qq.storage.ChannelMove("A", slots(day(3)))},
        now=datetime(2030, 1, 7, tzinfo=ZoneInfo("UTC")),
    )
    assert [(c.id, c.previous_day, c.previous_number, c.day) for c in closed] == [
        (b.id, day(1), 2, day(3))
    ]
    assert storage.get(OFFICE, b.id).previous_day is None
    storage.close()
