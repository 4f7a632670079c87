"""Connections of `SQLiteStorage`: opening one in WAL mode, and its write transactions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StorageError

__all__ = ["open_connection", "write_transaction"]


def open_connection(path: Path, timeout: float, synchronous: str) -> sqlite3.Connection:
    """A new connection in WAL mode, autocommit (explicit transactions), with these pragmas.

    Opening can meet ``SQLITE_BUSY`` without the busy handler being called (while
    another connection switches the file to WAL or recovers its index), so it is
    retried for up to ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        conn = None
        try:
            conn = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=True
            )
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise StorageError(f"could not switch {path} to WAL mode (got {mode})")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            return conn
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() + delay > deadline:
                raise StorageError(f"cannot open {path}: {exc}") from exc
            time.sleep(delay)  # back off before retrying the open (not a test sleep)
            delay = min(delay * 2, 0.05)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise StorageError(f"cannot open {path}: {exc}") from exc


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction: committed, or rolled back on any exception."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot start a write transaction: {exc}") from exc
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        if isinstance(exc, sqlite3.Error):
            raise StorageError(f"SQLite error: {exc}") from exc
        raise
