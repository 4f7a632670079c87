"""`PgPrimitives`: PostgreSQL as the engine's primitives (`queue_quota.storage.primitives`).

The pool, the schema (created or upgraded on first use, see ``_pg_sql``) and the scope of
one transaction (``_pg_tx``) with its error mapping:

* serialization failure, deadlock, or the connection lost before ``COMMIT``:
  `RetryTransaction` (nothing was written; the engine runs the operation again), after a
  short jittered back-off; after ``max_attempts`` such failures in a row on one thread,
  `StorageError`;
* the connection lost during ``COMMIT`` of a write: `CommitInDoubt` (a read's rows were
  all fetched already: its lost ``COMMIT`` is ignored);
* any other driver error: `StorageError`, the psycopg exception as ``__cause__``.

Prepared statements: with ``prepare=False`` no statement is ever prepared on the server
(every ``execute`` says ``prepare=False`` and an owned pool's connections have
``prepare_threshold=None``), so that the storage works behind a pgbouncer in transaction
mode, where consecutive transactions may run on different server connections.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..errors import StorageError
from . import _pg_sql as sqlq
from ._pg_support import lock_ns
from ._pg_tx import PgTransaction
from ._pg_writes import MERGED_PARTS, WriteMerger
from .primitives import CommitInDoubt, RetryTransaction

try:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    _IMPORT_ERROR: ImportError | None = exc
else:
    _IMPORT_ERROR = None

if TYPE_CHECKING:
    from psycopg.rows import TupleRow

    Conn = psycopg.Connection[TupleRow]
    Pool = ConnectionPool[Conn]

__all__ = ["PgPrimitives", "import_error"]

_RETRY_STATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def import_error() -> ImportError | None:
    """Why psycopg cannot be used, if it cannot."""
    return _IMPORT_ERROR


def _lost(conn: Conn, exc: BaseException) -> bool:
    """Whether the connection is gone (as opposed to the server refusing a statement)."""
    if conn.closed or conn.broken:
        return True
    return isinstance(exc, psycopg.OperationalError) and not getattr(exc, "sqlstate", None)


class _Scope:
    """The context manager of one transaction (a class: it is on every booking's path)."""

    __slots__ = ("_conn", "_p", "_pool", "_tx", "_write")

    def __init__(self, prims: PgPrimitives, office_id: str, write: bool) -> None:
        self._p = prims
        self._write = write
        self._pool = pool = prims.pool()
        try:
            conn = pool.getconn()
        except psycopg.Error as exc:
            raise StorageError(f"no PostgreSQL connection: {exc}") from exc
        self._conn = conn
        lock = (prims.lock_sql, prims.office_ns) if write else None
        self._tx = PgTransaction(
            conn,
            office_id,
            write,
            prims.queries,
            lock,
            prims.prepare,
            prims.early_release,
            prims.merger,
        )

    def __enter__(self) -> PgTransaction:
        return self._tx

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, p = self._conn, self._p
        try:
            if kind is None:
                try:
                    self._tx.commit()
                    p.succeeded()
                    return
                except psycopg.Error as error:
                    if not self._write and _lost(conn, error):
                        p.succeeded()  # every row was read: nothing to lose
                        return
                    if _lost(conn, error):
                        p.failed(self._pool)
                        raise CommitInDoubt("the connection was lost while committing") from error
                    if self._tx.barrier_sent:  # the COMMIT may have been kept before it
                        self._rollback()
                        raise CommitInDoubt("the durability barrier failed") from error
                    self._rollback()  # a write sent with the COMMIT failed: nothing was kept
                    exc = error
            else:
                self._rollback()
            if isinstance(exc, psycopg.Error):
                p.raise_for(exc, conn, self._pool)
            else:  # a refusal of the rules: the database answered, the run of failures ends
                p.succeeded()
        finally:
            self._pool.putconn(conn)

    def _rollback(self) -> None:
        conn = self._conn
        if conn.closed or conn.broken:
            return
        with contextlib.suppress(psycopg.Error):  # the server rolls back anyway
            conn.rollback()


class PgPrimitives:
    """The primitives over a pool; see `PostgresStorage` for the arguments (checked there)."""

    persistent = True

    def __init__(
        self,
        conninfo: str | None,
        pool: Pool | None,
        *,
        schema: str,
        min_size: int,
        max_size: int,
        timeout: float,
        max_attempts: int,
        prepare: bool,
        early_release: bool = False,
    ) -> None:
        self.conninfo = conninfo
        #: Release the office's lock before the commit's flush; acknowledge after a barrier.
        self.early_release = early_release
        self._pool: Pool | None = pool
        self.owns_pool = conninfo is not None
        self.schema = schema
        self._min_size, self._max_size = min_size, max_size
        self._timeout = timeout
        self._max_attempts = max_attempts
        # True: prepare every hot statement at once; False: never (not even psycopg's
        # automatic preparation after `prepare_threshold` executions).
        self.prepare = prepare
        ident = sql.Identifier(schema)
        self._create = [sql.SQL(s).format(s=ident).as_bytes(None) for s in sqlq.CREATE]
        self._from_day = [sql.SQL(s).format(s=ident).as_bytes(None) for s in sqlq.FROM_DAY]
        self._from_epoch = [sql.SQL(s).format(s=ident).as_bytes(None) for s in sqlq.FROM_EPOCH]
        self._indexes = [sql.SQL(s).format(s=ident).as_bytes(None) for s in sqlq.INDEXES]
        everything = b"\0".join([*self._create, *self._from_day, *self._from_epoch, *self._indexes])
        self._ddl_sha = hashlib.sha256(everything).hexdigest()
        self.queries = {
            k: sql.SQL(v).format(s=ident).as_bytes(None) for k, v in sqlq.QUERIES.items()
        }
        parts = {
            name: tuple(sql.SQL(x).format(s=ident).as_bytes(None) for x in texts)
            for name, texts in MERGED_PARTS.items()
        }
        #: Merges a transaction's held-back writes into one statement (kept per shape).
        self.merger = WriteMerger(self.queries, parts)
        self.lock_sql = sqlq.LOCK.encode()
        self.office_ns = lock_ns(schema, "office")
        self._ident = ident
        self._lock = threading.Lock()
        self._ready_pid: int | None = None
        self._closed = False
        self._failures = threading.local()
        self._stats_lock = threading.Lock()
        self.retries = 0

    def __repr__(self) -> str:
        where = "owned pool" if self.owns_pool else "shared pool"
        return f"<PgPrimitives schema={self.schema!r} ({where})>"

    # -- transactions and failures --------------------------------------------------------

    def transaction(self, office_id: str, *, write: bool) -> _Scope:
        return _Scope(self, office_id, write)

    def succeeded(self) -> None:
        self._failures.n = 0

    def failed(self, pool: Pool | None) -> None:
        """Count a retried attempt; after a lost connection drop the pool's dead ones."""
        with self._stats_lock:
            self.retries += 1
        if pool is not None:
            pool.check()  # e.g. after a server restart

    def raise_for(self, exc: psycopg.Error, conn: Conn, pool: Pool) -> None:
        """Raise what the engine expects for a driver error before the commit."""
        state = exc.sqlstate or ""
        lost = _lost(conn, exc)
        if state not in _RETRY_STATES and not lost:
            raise StorageError(f"PostgreSQL error: {exc}") from exc
        n = getattr(self._failures, "n", 0) + 1
        self._failures.n = n
        self.failed(pool if lost else None)
        if n >= self._max_attempts:
            self._failures.n = 0
            raise StorageError(f"PostgreSQL kept failing ({n} attempts): {exc}") from exc
        time.sleep(random.uniform(0, min(0.05, 0.001 * 2**n)))  # back off, then run again
        raise RetryTransaction(f"transient PostgreSQL failure: {exc}") from exc

    # -- connections and schema -----------------------------------------------------------

    def _connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"autocommit": True}
        if not self.prepare:
            kwargs["prepare_threshold"] = None
        return kwargs

    @property
    def current_pool(self) -> Pool | None:
        """The pool if one is open (for tests)."""
        return self._pool

    def pool(self) -> Pool:
        """The pool, opened (and the schema checked) on first use in this process."""
        pool = self._pool
        if self._ready_pid == os.getpid() and pool is not None and not self._closed:
            return pool
        with self._lock:
            if self._closed:
                raise StorageError("the storage is closed")
            pid = os.getpid()
            if self._ready_pid != pid or self._pool is None:
                if self.owns_pool:
                    # A pool inherited through fork() shares its sockets with the parent:
                    # leave it alone and open our own.
                    self._pool = None
                    self._migrate_with(self._direct)
                    self._pool = self._open_pool()
                else:
                    assert self._pool is not None
                    self._migrate_with(self._pool.connection)
                self._ready_pid = pid
            assert self._pool is not None
            return self._pool

    def _open_pool(self) -> Pool:
        assert self.conninfo is not None
        pool: Pool = ConnectionPool(
            self.conninfo,
            min_size=self._min_size,
            max_size=self._max_size,
            kwargs=self._connect_kwargs(),
            timeout=self._timeout,
            open=False,
            name=f"queue_quota.{self.schema}",
        )
        pool.open(wait=False)
        return pool

    def _direct(self) -> Any:
        """One direct connection: a bad conninfo fails now, with the server's message."""
        assert self.conninfo is not None
        extra = self._connect_kwargs()
        if "connect_timeout" not in conninfo_to_dict(self.conninfo):
            extra["connect_timeout"] = max(1, int(self._timeout))
        return psycopg.connect(self.conninfo, **extra)

    def _migrate_with(self, connect: Callable[[], Any]) -> None:
        """Check the schema, and create or upgrade it, retrying a deadlocked attempt."""
        for attempt in range(3):
            try:
                with connect() as conn:
                    if self._current(conn):  # a plain read, holding no lock afterwards
                        return
                    with conn.transaction():
                        self._upgrade(conn)
                return
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                # Processes starting at once can meet in the DDL; the victim was rolled
                # back whole, and a second look finds the schema made.
                if attempt == 2:
                    raise StorageError("cannot create the schema: deadlocks persist") from None
            except psycopg.Error as exc:
                raise StorageError(f"cannot use PostgreSQL: {exc}") from exc

    def _current(self, conn: Conn) -> bool:
        with conn.transaction():
            return self._version_is_current(conn)

    def _version_is_current(self, conn: Conn) -> bool:
        meta_table = f"{self._ident.as_string(None)}.qq_meta"
        row = conn.execute("SELECT to_regclass(%s::text)", (meta_table,)).fetchone()
        if row is None or row[0] is None:
            return False
        meta: dict[str, str] = dict(conn.execute(self.queries["META_READ"]).fetchall())
        version = int(meta.get("schema_version", "0"))
        if version > sqlq.SCHEMA_VERSION:
            raise StorageError(
                f"schema {self.schema!r} has version {version}, newer than this library's "
                f"{sqlq.SCHEMA_VERSION}: upgrade queue_quota"
            )
        return version == sqlq.SCHEMA_VERSION and meta.get("ddl_sha256") == self._ddl_sha

    def _upgrade(self, conn: Conn) -> None:
        """Create the schema or bring it to the current version, under the DDL lock (see
        ``_pg_sql``)."""
        conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        # Several processes may start at once: one upgrades, the others wait, then see it.
        lock = "SELECT pg_advisory_xact_lock(%s::int4, 0)"
        conn.execute(lock, (lock_ns(self.schema, "ddl"),))
        if self._version_is_current(conn):
            return
        for statement in self._create:
            conn.execute(statement)
        found = "SELECT to_regclass(%s::text)"
        for table, statements in (("qq_day", self._from_day), ("qq_epoch", self._from_epoch)):
            name = f"{self._ident.as_string(None)}.{table}"
            row = conn.execute(found, (name,)).fetchone()
            if row is not None and row[0] is not None:
                for statement in statements:
                    conn.execute(statement)
        for (function,) in conn.execute(sqlq.OLD_FUNCTIONS, (self.schema,)).fetchall():
            conn.execute(sql.SQL("DROP FUNCTION IF EXISTS {}").format(sql.SQL(function)))
        for statement in self._indexes:
            conn.execute(statement)
        conn.execute(self.queries["META_WRITE"], (str(sqlq.SCHEMA_VERSION), self._ddl_sha))

    def migrate(self) -> None:
        self.pool()

    def close(self) -> None:
        """Close the pool if the storage owns it; further use raises `StorageError`."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            mine = self._ready_pid == os.getpid()
        if pool is not None and self.owns_pool and mine:
            pool.close()
