"""`SQLitePrimitives`: SQLite as the engine's primitives (`queue_quota.storage.primitives`).

Each thread (and each process after a fork) has its own connection, in WAL mode. A write
transaction is ``BEGIN IMMEDIATE`` ... ``COMMIT``: SQLite admits one writer at a time to
the file, so a writer excludes every other, in this process or another, from its first
read to its commit. A read transaction is a deferred ``BEGIN``: in WAL mode its first
``SELECT`` takes a snapshot that every later ``SELECT`` of the transaction sees, whatever
commits meanwhile, and it never waits for a writer. Any exception rolls back.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from types import TracebackType

from ..errors import StorageError
from ._sqlite_conn import open_connection
from ._sqlite_schema import needs_upgrade, upgrade
from ._sqlite_tx import SQLiteTransaction

__all__ = ["SQLitePrimitives"]


class _Scope:
    """The context manager of one transaction (a class, not a generator: it is on every
    booking's path)."""

    __slots__ = ("_begin", "_conn", "_tx")

    def __init__(self, conn: sqlite3.Connection, office_id: str, write: bool) -> None:
        self._conn = conn
        self._begin = "BEGIN IMMEDIATE" if write else "BEGIN"
        self._tx = SQLiteTransaction(conn, office_id)

    def __enter__(self) -> SQLiteTransaction:
        try:
            self._conn.execute(self._begin)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot start a transaction: {exc}") from exc
        return self._tx

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        if kind is None:
            try:
                conn.execute("COMMIT")
                return
            except sqlite3.Error as error:
                exc = error
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the connection is gone; SQLite rolls back what was not committed
        if isinstance(exc, sqlite3.Error):
            raise StorageError(f"SQLite error: {exc}") from exc


class SQLitePrimitives:
    """The primitives over one SQLite file; the schema is created or upgraded on first use.

    Args:
        path: The database file (created if missing).
        synchronous: The ``PRAGMA synchronous`` of every connection.
        timeout: Seconds a writer waits for the write lock (and an open is retried)
            before `StorageError`.
    """

    persistent = True

    def __init__(self, path: Path, synchronous: str, timeout: float) -> None:
        self._path = path
        self._synchronous = synchronous
        self._timeout = timeout
        self._local = threading.local()
        self._migrated = False
        self._migrate_lock = threading.Lock()
        self._closed = False

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened, and the schema checked, on first use)."""
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        if self._closed:
            raise StorageError("the storage is closed")
        conn = open_connection(self._path, self._timeout, self._synchronous)
        local.conn = conn
        local.pid = os.getpid()
        if not self._migrated:
            self._migrate(conn)
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        with self._migrate_lock:
            if self._migrated:
                return
            if needs_upgrade(conn, self._path):  # a read: no write lock once up to date
                upgrade(conn, self._path)
            self._migrated = True

    def transaction(self, office_id: str, *, write: bool) -> _Scope:
        return _Scope(self.connection(), office_id, write)

    def migrate(self) -> None:
        self.connection()

    def close(self) -> None:
        """Close this thread's connection; further use raises `StorageError`."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local = threading.local()
        self._closed = True
