"""Connections, schema and retries of `PostgresStorage` (the storage methods are in ``postgres``).

Failures: serialization failures and deadlocks are retried (bounded, with jittered
backoff). A connection lost while a write may have committed is retried only when the
retry cannot duplicate anything (see `PgBase._run`). Every driver error surfaces as
`StorageError`.

Prepared statements: with ``prepare=False`` no statement is ever prepared on the server
(every ``execute`` says ``prepare=False`` and an owned pool's connections have
``prepare_threshold=None``), so that the storage works behind a pgbouncer in transaction
mode, where consecutive transactions may run on different server connections.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError, StorageError
from ..models import Slot
from . import _pg_sql as sqlq
from ._pg_support import Refused, lock_ns

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

__all__ = ["FLAG", "RAISE", "RETRY", "PgBase", "Row"]

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RETRY_STATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
Row = tuple[Any, ...]

#: What to do when a connection is lost while a write may have committed (see `_run`).
RETRY, FLAG, RAISE = "retry", "flag", "raise"


class PgBase:
    """The pool, the schema and the retry loop; see `PostgresStorage` for the arguments."""

    def __init__(
        self,
        conninfo_or_pool: str | Pool,
        *,
        schema: str = "queue_quota",
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
        max_attempts: int = 5,
        prepare: bool = True,
    ) -> None:
        if _IMPORT_ERROR is not None:
            raise ConfigurationError(
                "PostgresStorage needs psycopg 3 and psycopg_pool: "
                "pip install 'queue-quota[postgres]'"
            ) from _IMPORT_ERROR
        if not isinstance(schema, str) or not _SCHEMA_RE.match(schema):
            raise ConfigurationError(
                f"schema must match {_SCHEMA_RE.pattern} (lower-case letters, digits and "
                f"underscores), got {schema!r}"
            )
        for name, value, low in (("min_size", min_size, 0), ("max_size", max_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigurationError(f"{name} must be an integer >= {low}, got {value!r}")
        if min_size > max_size:
            raise ConfigurationError(f"min_size ({min_size}) exceeds max_size ({max_size})")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigurationError(f"timeout must be a positive number, got {timeout!r}")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be >= 1, got {max_attempts!r}")
        if not isinstance(prepare, bool):
            raise ConfigurationError(f"prepare must be True or False, got {prepare!r}")
        self._conninfo: str | None = None
        self._pool: Pool | None = None
        if isinstance(conninfo_or_pool, ConnectionPool):
            self._pool = conninfo_or_pool
        elif isinstance(conninfo_or_pool, str):
            try:
                conninfo_to_dict(conninfo_or_pool)
            except psycopg.Error as exc:
                raise ConfigurationError(f"bad PostgreSQL conninfo: {exc}") from None
            self._conninfo = conninfo_or_pool
        else:
            raise ConfigurationError(
                "PostgresStorage needs a conninfo string or a psycopg_pool.ConnectionPool, "
                f"got {type(conninfo_or_pool).__name__}"
            )
        self._owns_pool = self._conninfo is not None
        self._schema = schema
        self._min_size, self._max_size = min_size, max_size
        self._timeout = float(timeout)
        self._max_attempts = max_attempts
        # True: prepare every statement at once; False: never (not even psycopg's automatic
        # preparation after `prepare_threshold` executions).
        self._prepare = prepare
        ident = sql.Identifier(schema)
        key_ns = sql.Literal(lock_ns(schema, "key"))
        citizen_ns = sql.Literal(lock_ns(schema, "citizen"))
        self._ddl = [
            sql.SQL(s).format(s=ident, key_ns=key_ns, citizen_ns=citizen_ns).as_bytes(None)
            for s in sqlq.DDL
        ]
        self._ddl_sha = hashlib.sha256(b"\0".join(self._ddl)).hexdigest()
        self._q = {k: sql.SQL(v).format(s=ident).as_bytes(None) for k, v in sqlq.QUERIES.items()}
        self._meta_table = f"{ident.as_string(None)}.qq_meta"
        self._lock = threading.Lock()
        self._ready_pid: int | None = None
        self._closed = False
        self._retries = 0
        # Skip pointer over full days, per (office, channel): see `PostgresStorage.reserve`.
        self._hints: dict[tuple[str, str], tuple[Sequence[Slot], int, int]] = {}
        self._converted: dict[str, tuple[Slot, ...]] = {}
        self._stats_lock = threading.Lock()

    def __repr__(self) -> str:
        where = "owned pool" if self._owns_pool else "shared pool"
        return f"<PostgresStorage schema={self._schema!r} ({where})>"

    @property
    def schema(self) -> str:
        """The schema holding the tables."""
        return self._schema

    @property
    def retries(self) -> int:
        """Attempts retried so far (serialization failures, deadlocks, lost connections)."""
        return self._retries

    # -- connections and schema ------------------------------------------------------------

    def _exec(
        self, conn: Conn, query: bytes | str, params: Sequence[Any] | None = None, *, hot: bool
    ) -> Any:
        """``conn.execute`` with the storage's preparation rule (see the module docstring).

        ``hot``: a statement run on every operation (prepared at once when ``prepare`` is
        on); the others (schema checks, DDL) are left to psycopg's default then.
        """
        if not self._prepare:
            return conn.execute(query, params, prepare=False)
        return conn.execute(query, params, prepare=True if hot else None)

    def _connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"autocommit": True}
        if not self._prepare:
            kwargs["prepare_threshold"] = None
        return kwargs

    def _get_pool(self) -> Pool:
        pool = self._pool
        if self._ready_pid == os.getpid() and pool is not None and not self._closed:
            return pool
        with self._lock:
            if self._closed:
                raise StorageError("the storage is closed")
            pid = os.getpid()
            if self._ready_pid != pid or self._pool is None:
                if self._owns_pool:
                    # A pool inherited through fork() shares its sockets with the parent:
                    # leave it alone and open our own.
                    self._pool = None
                    self._migrate_direct()
                    self._pool = self._open_pool()
                else:
                    assert self._pool is not None
                    self._run(self._pool, self._migrate_on, "create the schema", tx=True)
                self._ready_pid = pid
            assert self._pool is not None
            return self._pool

    def _open_pool(self) -> Pool:
        assert self._conninfo is not None
        pool: Pool = ConnectionPool(
            self._conninfo,
            min_size=self._min_size,
            max_size=self._max_size,
            kwargs=self._connect_kwargs(),
            timeout=self._timeout,
            open=False,
            name=f"queue_quota.{self._schema}",
        )
        pool.open(wait=False)
        return pool

    def _migrate_direct(self) -> None:
        """Connect once directly: a bad conninfo fails now, with the server's message."""
        assert self._conninfo is not None
        params = conninfo_to_dict(self._conninfo)
        extra = self._connect_kwargs()
        if "connect_timeout" not in params:
            extra["connect_timeout"] = max(1, int(self._timeout))
        for attempt in range(3):
            try:
                with psycopg.connect(self._conninfo, **extra) as conn, conn.transaction():
                    self._migrate_on(conn)
                return
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                # Processes starting at once on a new schema can meet in the DDL; the
                # victim was rolled back whole, and a second look finds the schema made.
                if attempt == 2:
                    raise StorageError("cannot create the schema: deadlocks persist") from None
            except psycopg.Error as exc:
                raise StorageError(f"cannot use PostgreSQL: {exc}") from exc

    def _migrate_on(self, conn: Conn) -> list[Row]:
        """Create the schema or upgrade it in place, inside the caller's transaction."""
        self._exec(conn, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", hot=False)
        if self._schema_is_current(conn):
            return []
        # Several processes may start at once: one creates, the others wait, then see it.
        lock = "SELECT pg_advisory_xact_lock(%s::int4, 0)"
        self._exec(conn, lock, (lock_ns(self._schema, "ddl"),), hot=False)
        if not self._schema_is_current(conn):
            for statement in self._ddl:
                self._exec(conn, statement, hot=False)
            version = (str(sqlq.SCHEMA_VERSION), self._ddl_sha)
            self._exec(conn, self._q["META_WRITE"], version, hot=False)
        return []

    def _schema_is_current(self, conn: Conn) -> bool:
        found = "SELECT to_regclass(%s::text)"
        row = self._exec(conn, found, (self._meta_table,), hot=False).fetchone()
        if row is None or row[0] is None:
            return False
        meta: dict[str, str] = dict(self._exec(conn, self._q["META_READ"], hot=False).fetchall())
        version = int(meta.get("schema_version", "0"))
        if version > sqlq.SCHEMA_VERSION:
            raise StorageError(
                f"schema {self._schema!r} has version {version}, newer than this library's "
                f"{sqlq.SCHEMA_VERSION}: upgrade queue_quota"
            )
        return version == sqlq.SCHEMA_VERSION and meta.get("ddl_sha256") == self._ddl_sha

    def migrate(self) -> None:
        """Create the schema, or upgrade one made by an older version in place, now (it is
        otherwise done on first use).

        Idempotent, and safe when several processes do it at once (an advisory lock). An
        upgrade adds what is new (columns, tables, indexes, functions) and keeps every row.

        Raises:
            StorageError: The server cannot be reached, or its schema is newer than this
                library's.
        """
        self._get_pool()

    def close(self) -> None:
        """Close the pool if the storage owns it; further use raises `StorageError`."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            mine = self._ready_pid == os.getpid()
        if pool is not None and self._owns_pool and mine:
            pool.close()

    # -- running statements ----------------------------------------------------------------

    def _run(
        self,
        pool: Pool,
        work: Callable[[Conn], list[Row]],
        what: str,
        *,
        tx: bool,
        in_doubt: str = RETRY,
        retry_flag: list[bool] | None = None,
    ) -> list[Row]:
        """Run ``work`` on a pooled connection, retrying what is safe to retry.

        ``tx``: wrap in an explicit transaction (otherwise one autocommit statement, which
        is its own transaction). ``in_doubt``: what to do when the connection is lost while
        the work may have committed: ``RETRY`` (reads, DDL), ``FLAG`` (set
        ``retry_flag[0]`` and re-run: the function then recognizes its own earlier commit)
        or ``RAISE``.
        """
        for attempt in range(1, self._max_attempts + 1):
            try:
                conn = pool.getconn()
            except psycopg.Error as exc:
                raise StorageError(f"cannot {what}: no PostgreSQL connection: {exc}") from exc
            stage = "run"
            try:
                if not tx and conn.autocommit:
                    stage = "commit"
                    return work(conn)
                with conn.transaction():
                    rows = work(conn)
                    stage = "commit"
                return rows
            except psycopg.Error as exc:
                failure = exc
                lost = conn.closed or conn.broken
            finally:
                pool.putconn(conn)
            state = failure.sqlstate or ""
            if state.startswith("QQ"):
                raise Refused(state, failure) from None
            if state in _RETRY_STATES or (
                isinstance(failure, psycopg.errors.UniqueViolation)
                and failure.diag.constraint_name == "qq_booking_key"
            ):
                pass  # rolled back by the server: safe to run again
            elif lost or (isinstance(failure, psycopg.OperationalError) and not state):
                if stage == "commit" and in_doubt == RAISE:
                    raise StorageError(
                        f"the connection was lost while committing ({what}); the outcome is "
                        f"unknown: {failure}"
                    ) from failure
                if stage == "commit" and retry_flag is not None:
                    retry_flag[0] = True
                pool.check()  # drop the other dead connections (e.g. after a server restart)
            else:
                raise StorageError(f"cannot {what}: {failure}") from failure
            if attempt == self._max_attempts:
                raise StorageError(
                    f"cannot {what} after {attempt} attempts: {failure}"
                ) from failure
            with self._stats_lock:
                self._retries += 1
            time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _query(self, name: str, params: Sequence[Any], what: str) -> list[Row]:
        query = self._q[name]

        def work(conn: Conn) -> list[Row]:
            return list(self._exec(conn, query, params, hot=True).fetchall())

        return self._run(self._get_pool(), work, what, tx=False)

    def _call(
        self,
        name: str,
        params: Callable[[bool], Sequence[Any]],
        idempotent: bool,
        what: str,
        flag: list[bool] | None = None,
    ) -> list[Row]:
        """Call a server function; ``params(retry)`` builds its arguments.

        An idempotent function runs as one autocommit statement and is re-run with its
        retry flag after a lost connection (``flag[0]`` then stays True: the caller knows
        that an attempt may have committed); any other runs in an explicit transaction, so
        that only a connection lost during COMMIT leaves the outcome in doubt.
        """
        query = self._q[name]
        flag = [False] if flag is None else flag

        def work(conn: Conn) -> list[Row]:
            return list(self._exec(conn, query, params(flag[0]), hot=True).fetchall())

        if idempotent:
            return self._run(self._get_pool(), work, what, tx=False, in_doubt=FLAG, retry_flag=flag)
        return self._run(self._get_pool(), work, what, tx=True, in_doubt=RAISE)
