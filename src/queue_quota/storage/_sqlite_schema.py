"""The SQLite schema and its upgrade from every earlier version, in place.

Version 1 (queue_quota 0.1) had no request fingerprint, no secret fingerprint and a
citizen index that only covered active bookings. Version 2 adds:

* ``qq_booking.key_fingerprint``, the keyed hash of the request an idempotency key was
  first used for (nullable: the bookings made by 0.1 have none);
* ``qq_secret``, the fingerprint of each office's secret;
* ``qq_booking_citizen_ref`` on ``(office_id, citizen_ref, channel, status, day)`` over
  every status, in place of ``qq_booking_citizen``: it serves both the per-citizen limit
  (office, ref, channel, active status, from today) and ``bookings_of`` (office, ref, any
  status), so a booking still maintains one citizen index.

`upgrade` runs in one ``BEGIN IMMEDIATE`` transaction: SQLite admits one writer at a time,
so when several processes open an old file at once the first upgrades it and the others,
once they get the write lock, find it upgraded and change nothing. Every step is also
idempotent on its own (``IF NOT EXISTS``, a column added only if missing). Nothing is
rewritten: rows keep their values, and the new column is ``NULL`` on old rows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StorageError

__all__ = ["SCHEMA_VERSION", "needs_upgrade", "upgrade"]

SCHEMA_VERSION = 2

#: The tables as version 2 creates them on an empty file. The column added since version 1
#: comes last, where ``ALTER TABLE ... ADD COLUMN`` puts it on an upgraded file, so both
#: files have the same layout.
_TABLES = """
CREATE TABLE IF NOT EXISTS qq_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS qq_day (
    office_id   TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    capacity    INTEGER NOT NULL CHECK (capacity >= 0),
    booked      INTEGER NOT NULL DEFAULT 0,
    last_number INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (office_id, channel, day),
    CHECK (booked >= 0 AND booked <= capacity),
    CHECK (last_number >= booked)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qq_booking (
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
    PRIMARY KEY (office_id, id),
    UNIQUE (office_id, day, channel, number),
    UNIQUE (office_id, idempotency_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS qq_epoch (
    office_id TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    epoch     INTEGER NOT NULL,
    PRIMARY KEY (office_id, channel)
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
) WITHOUT ROWID
"""

#: Added columns, by table: (name, declaration). Added to an older file if missing.
_ADDED_COLUMNS = {"qq_booking": (("key_fingerprint", "TEXT"),)}

#: Indexes of earlier versions that version 2 replaces.
_DROPPED_INDEXES = ("qq_booking_citizen",)

_INDEXES = """
CREATE INDEX IF NOT EXISTS qq_booking_citizen_ref
    ON qq_booking (office_id, citizen_ref, channel, status, day)
    WHERE citizen_ref IS NOT NULL
"""

# One read: the stored version (or NULL without qq_meta) and whether an index of an earlier
# version is there (a 0.1 process opening an upgraded file recreates its index before it
# notices the newer version and refuses to go on).
_CHECK = (
    "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'qq_meta'), "
    "(SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ({}))"
).format(", ".join(f"'{name}'" for name in _DROPPED_INDEXES))


def _stored_version(conn: sqlite3.Connection) -> int | None:
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


def _statements(script: str) -> list[str]:
    return [s for s in script.split(";") if s.strip()]


def upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema, or bring an older one up to `SCHEMA_VERSION`, in one transaction."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = _stored_version(conn)
        if version is not None and version >= SCHEMA_VERSION:
            conn.execute("ROLLBACK")  # another process did it first (or the file is newer)
            _refuse_newer(version, path)
            return
        for statement in _statements(_TABLES):
            conn.execute(statement)
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns:
                if name not in present:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
        for index in _DROPPED_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        for statement in _statements(_INDEXES):
            conn.execute(statement)
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
