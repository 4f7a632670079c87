"""`SQLiteStorage`: the embedded default, shared safely by threads and processes.

The booking rules are `TransactionalStorage`'s; this module and its private neighbours
hold only the primitives (`queue_quota.storage._sqlite_primitives`). Every write is one
``BEGIN IMMEDIATE`` transaction: SQLite admits one writer at a time to the file, so the
check (``used + places <= capacity`` for every counter) and the writes happen with no other
writer in between, whatever the number of processes. The schema repeats the rules as
constraints (``CHECK (used >= 0)``, a unique number per channel and day, a unique
idempotency key) as a backstop; see `queue_quota.storage._sqlite_schema`.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..errors import ConfigurationError
from ._engine import TransactionalStorage
from ._sqlite_primitives import SQLitePrimitives

__all__ = ["SQLiteStorage"]

_SYNC_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


class SQLiteStorage(TransactionalStorage):
    """Bookings in one SQLite file, shared by any number of threads and processes.

    Args:
        path: The database file (created if missing).
        synchronous: ``"FULL"`` (default: a commit survives power loss) or ``"NORMAL"``
            (faster; the last commits may be lost on power loss, never on a process crash).
        timeout: Seconds a writer waits for the file's write lock before `StorageError`.
        group_commit: The bookings of one office waiting in this process (a web server's
            threads) share one transaction and its fsync, in arrival order; ``FULL`` is
            kept, and a booking returns only once its transaction committed. On by
            default (a lone booking runs alone, as without it); ``False`` gives each
            booking its own transaction. See "The crowd day".

    Each thread (and each process after a fork) gets its own connection. The schema is
    created on first use, and a file made by an earlier version (0.1) is upgraded in place.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "FULL",
        timeout: float = 30.0,
        group_commit: bool = True,
    ) -> None:
        if str(path) in ("", ":memory:") or str(path).startswith("file::memory:"):
            raise ConfigurationError(
                "SQLiteStorage needs a file shared by all connections; use MemoryStorage "
                "for an in-memory store"
            )
        sync = str(synchronous).upper()
        if sync not in _SYNC_MODES:
            raise ConfigurationError(
                f"synchronous must be one of {_SYNC_MODES}, got {synchronous!r}"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigurationError(f"timeout must be a positive number, got {timeout!r}")
        self._path = Path(path)
        self._synchronous = sync
        if not isinstance(group_commit, bool):
            raise ConfigurationError(f"group_commit must be True or False, got {group_commit!r}")
        self._sqlite = SQLitePrimitives(self._path, sync, float(timeout))
        super().__init__(self._sqlite, group_commit=group_commit)

    def __repr__(self) -> str:
        return f"<SQLiteStorage {str(self._path)!r} synchronous={self._synchronous}>"

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def migrate(self) -> None:
        """Create the schema, or upgrade a database of an earlier version, now.

        It is otherwise done on first use. Idempotent, and safe when several processes
        open the same file at once (see `queue_quota.storage._sqlite_schema`).
        """
        self._p.migrate()

    def close(self) -> None:
        """Close this thread's connection; further use raises `StorageError`."""
        self._p.close()

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection (for tests that trace or interrupt its statements)."""
        return self._sqlite.connection()
