"""The SQLite schema (version 4) and its upgrade from versions 1, 2 and 3, in place.

What is stored, and why (only what cannot be derived):

* ``qq_counter (office_id, scope, day, used, last)``: one row per counter and day, the
  places ``used`` and (on ``c:<channel>`` rows) the ``last`` number given. No capacity:
  policies decide it at request time. The key ``(office_id, scope, day)`` makes the
  engine's read (a few scopes over a range of days) one seek per scope.
* ``qq_booking``: every `Booking` field the storage must give back. ``places`` (default 1),
  ``charges`` (a JSON list of scopes; ``NULL`` for 0.1's default, the channel's own
  counter), ``window_start``/``window_end`` (``HH:MM``; ``NULL`` without sessions). The
  key ``(office_id, id)`` clusters the rows (time-ordered ids append). Three indexes, each
  as narrow as its reads allow:

  - ``qq_booking_number``, unique ``(office_id, day, channel, number)``: a number is never
    given twice; serves the reads by day;
  - ``qq_booking_key``, unique ``(office_id, idempotency_key)``, only rows with a key;
  - ``qq_booking_citizen_ref``, ``(office_id, citizen_ref, day)``, only rows with a ref:
    one seek on (office, ref) serves the per-citizen limits (``day >= today``) and
    ``bookings_of``; status and channel are filtered on the rows found.

  The reads name their index (``INDEXED BY``): without statistics the planner guesses ten
  rows per office and would rather read all of the office's bookings by key.
* ``qq_office_meta (office_id, name, value)``: small per-office values (``~epoch``, the
  ``~hint:<channel>`` skip pointers). Two kinds of meta keep the tables they had:
  ``closure:YYYY-MM-DD`` is a row of ``qq_closure`` (with its ``created_at``), ``~secret``
  the row of ``qq_secret`` (with its ``updated_at``).
* ``qq_event (office_id, seq, kind, booking_id, day, at, data)``: the office's event log
  (``data`` as JSON); the key ``(office_id, seq)`` serves the reads after a cursor.
* ``qq_state (office_id, name, value)``: values read by name prefix (notifier cursors,
  leases, retries, dead letters, reminder marks), one seek on the key.
* ``qq_meta``: the file's ``schema_version``.

Upgrade (`upgrade`), in one ``BEGIN IMMEDIATE`` transaction: SQLite admits one writer at a
time, so when several processes open an old file at once the first upgrades it and the
others, once they get the write lock, re-read the version and change nothing. Version 1
(0.1) and 2 (the hardening schema) take version 3's layout so: ``qq_day`` rows become
``c:<channel>`` counters (``booked`` -> ``used``, ``last_number`` -> ``last``); the per-channel
``qq_epoch`` values become one ``~epoch`` (their maximum: any value invalidates pointers
set before); ``qq_booking`` is rebuilt in the new layout with every row and value kept
(0.1's rows have no fingerprint: ``NULL``); closures and secrets are untouched. Every
older version gains the two tables of version 4 (events and state), empty. A 0.1
process that opens a version 3 file recreates its empty tables and index before it sees
the version and refuses: they are dropped again on the next open.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StorageError

__all__ = ["SCHEMA_VERSION", "needs_upgrade", "upgrade"]

SCHEMA_VERSION = 4

_BOOKING = """
CREATE TABLE qq_booking (
    id              TEXT    NOT NULL,
    office_id       TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    day             TEXT    NOT NULL,
    number          INTEGER NOT NULL CHECK (number >= 1),
    label           TEXT    NOT NULL,
    status          TEXT    NOT NULL
        CHECK (status IN ('booked', 'checked_in', 'cancelled', 'no_show')),
    citizen_ref     TEXT,
    created_at      TEXT    NOT NULL,
    ticket          TEXT    NOT NULL,
    idempotency_key TEXT,
    key_fingerprint TEXT,
    places          INTEGER NOT NULL DEFAULT 1 CHECK (places >= 1),
    charges         TEXT,
    window_start    TEXT,
    window_end      TEXT,
    PRIMARY KEY (office_id, id)
) WITHOUT ROWID
"""

_TABLES = """
CREATE TABLE IF NOT EXISTS qq_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS qq_counter (
    office_id TEXT    NOT NULL,
    scope     TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    used      INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    last      INTEGER NOT NULL DEFAULT 0 CHECK (last >= 0),
    PRIMARY KEY (office_id, scope, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qq_office_meta (
    office_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (office_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qq_closure (
    office_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (office_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qq_secret (
    office_id   TEXT NOT NULL PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qq_event (
    office_id  TEXT    NOT NULL,
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    kind       TEXT    NOT NULL,
    booking_id TEXT,
    day        TEXT,
    at         TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    PRIMARY KEY (office_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qq_state (
    office_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (office_id, name)
) WITHOUT ROWID
"""

_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS qq_booking_number
    ON qq_booking (office_id, day, channel, number);
CREATE UNIQUE INDEX IF NOT EXISTS qq_booking_key
    ON qq_booking (office_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS qq_booking_citizen_ref
    ON qq_booking (office_id, citizen_ref, day)
    WHERE citizen_ref IS NOT NULL
"""

#: The columns version 3 copies from an older ``qq_booking`` (``key_fingerprint`` only if
#: the older table has it).
_KEPT = (
    "id, office_id, channel, day, number, label, status, citizen_ref, created_at, ticket, "
    "idempotency_key"
)

#: Tables and indexes of earlier versions: gone in version 3 (a 0.1 process recreates them,
#: empty, before it refuses a newer file).
_STALE_TABLES = ("qq_day", "qq_epoch")
_STALE_INDEXES = ("qq_booking_citizen",)

# One read: whether qq_meta exists, and how many stale objects are there.
_CHECK = (
    "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'qq_meta'), "
    "(SELECT count(*) FROM sqlite_master WHERE name IN ({}))"
).format(", ".join(f"'{name}'" for name in (*_STALE_TABLES, *_STALE_INDEXES)))


def _stored_version(conn: sqlite3.Connection) -> int | None:
    """The file's version (``None``: empty); a version 3 file with stale objects: 2."""
    has_meta, stale = conn.execute(_CHECK).fetchone()
    if not has_meta:
        return None
    row = conn.execute("SELECT value FROM qq_meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return None
    version = int(row[0])
    return SCHEMA_VERSION - 1 if stale and version == SCHEMA_VERSION else version


def needs_upgrade(conn: sqlite3.Connection, path: Path) -> bool:
    """Whether the file needs `upgrade` (a read, no write lock); newer files are refused."""
    try:
        version = _stored_version(conn)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the schema version of {path}: {exc}") from exc
    _refuse_newer(version, path)
    return version != SCHEMA_VERSION


def _refuse_newer(version: int | None, path: Path) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise StorageError(
            f"{path} has schema version {version}, newer than this library's "
            f"{SCHEMA_VERSION}: upgrade queue_quota"
        )


def _run(conn: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _rebuild_bookings(conn: sqlite3.Connection) -> None:
    """``qq_booking`` in the version 3 layout, every row and value of the older one kept."""
    if "qq_booking" not in _tables(conn):
        conn.execute(_BOOKING)
        return
    old = _columns(conn, "qq_booking")
    if "places" in old:  # already version 3 (stale objects only)
        return
    fingerprint = "key_fingerprint" if "key_fingerprint" in old else "NULL"
    conn.execute("ALTER TABLE qq_booking RENAME TO qq_booking_old")
    conn.execute(_BOOKING)
    conn.execute(
        f"INSERT INTO qq_booking ({_KEPT}, key_fingerprint) "
        f"SELECT {_KEPT}, {fingerprint} FROM qq_booking_old ORDER BY office_id, id"
    )
    conn.execute("DROP TABLE qq_booking_old")  # with its indexes


def _move_counters(conn: sqlite3.Connection) -> None:
    """``qq_day`` and ``qq_epoch`` into ``qq_counter`` and ``~epoch``, then dropped."""
    tables = _tables(conn)
    if "qq_day" in tables:
        conn.execute(
            "INSERT INTO qq_counter (office_id, scope, day, used, last) "
            "SELECT office_id, 'c:' || channel, day, booked, last_number FROM qq_day "
            "WHERE true ON CONFLICT (office_id, scope, day) DO NOTHING"
        )
    if "qq_epoch" in tables:
        conn.execute(
            "INSERT INTO qq_office_meta (office_id, name, value) "
            "SELECT office_id, '~epoch', CAST(max(epoch) AS TEXT) FROM qq_epoch "
            "GROUP BY office_id ON CONFLICT (office_id, name) DO NOTHING"
        )
    for table in _STALE_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for index in _STALE_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {index}")


def upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema, or bring an older one up to `SCHEMA_VERSION`, in one transaction."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = _stored_version(conn)
        if version is not None and version >= SCHEMA_VERSION:
            conn.execute("ROLLBACK")  # another process did it first (or the file is newer)
            _refuse_newer(version, path)
            return
        _run(conn, _TABLES)
        _rebuild_bookings(conn)
        _move_counters(conn)
        _run(conn, _INDEXES)
        conn.execute(
            "INSERT INTO qq_meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise StorageError(f"cannot create or upgrade the schema in {path}: {exc}") from exc
