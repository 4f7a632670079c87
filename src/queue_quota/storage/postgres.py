"""`PostgresStorage`: many app servers sharing one PostgreSQL database.

The booking rules are `TransactionalStorage`'s, as on every storage; this module and its
private neighbours hold the primitives (``_pg_base`` for the pool, the schema and the
errors, ``_pg_tx`` for the statements, ``_pg_sql`` for the SQL). Every write is one
transaction that first takes the office's advisory lock
(``pg_advisory_xact_lock(<office namespace>, hashtext(office_id))``), so no other writer of
the office runs between the engine's read of the counters and its write: the check
``used + places <= capacity`` of every counter holds when it commits. Offices do not wait
for each other. The schema repeats the rules as constraints (``CHECK (used >= 0)``, a
unique number per (office, day, channel), a unique idempotency key per office).

Failures: serialization failures, deadlocks and connections lost before ``COMMIT`` run the
operation again (bounded, with jittered back-off); a connection lost during the
``COMMIT`` of a booking is settled by looking for its id; of another write, it is a
`StorageError` (the outcome is unknown). Every driver error surfaces as `StorageError`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from ._engine import TransactionalStorage
from ._pg_base import PgPrimitives, import_error

if TYPE_CHECKING:
    from ._pg_base import Pool

__all__ = ["PostgresStorage"]

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _check_schema(schema: object) -> str:
    if not isinstance(schema, str) or not _SCHEMA_RE.fullmatch(schema):
        raise ConfigurationError(
            f"schema must match {_SCHEMA_RE.pattern} (lower-case letters, digits and "
            f"underscores), got {schema!r}"
        )
    return schema


class PostgresStorage(TransactionalStorage):
    """Bookings in a PostgreSQL schema, shared by any number of processes and threads.

    Args:
        conninfo_or_pool: A libpq connection string or URL (the storage then owns a
            ``psycopg_pool.ConnectionPool``, opened on first use and closed by `close`), or
            an existing ``ConnectionPool`` (used as is, never closed by the storage).
        schema: Schema holding the tables (``^[a-z_][a-z0-9_]{0,62}$``); created on first use.
        min_size: Connections an owned pool keeps open.
        max_size: Most connections an owned pool opens.
        timeout: Seconds to wait for a connection (and for the first connection).
        max_attempts: Attempts of one operation on serialization failures, deadlocks and
            lost connections before `StorageError`.
        prepare: Use server-side prepared statements. ``False`` prepares nothing, ever
            (for a transaction-mode pgbouncer older than 1.21); with a pool of your own,
            also create its connections with ``prepare_threshold=None`` if other code
            shares them.
        early_release: Commit each change without waiting for its flush, so that the
            office's lock is free for the next writer at once, and acknowledge it only
            after a durability barrier (one more tiny transaction in the same round trip,
            which writes one logical WAL message: the role needs ``EXECUTE`` on
            ``pg_logical_emit_message``, granted by default) has seen the WAL on disk past
            it. A returned change is durable either way; an error after the ``COMMIT``
            is sent is reported as a commit in doubt (a booking is then looked up by its
            id). Worth it where a flush is slow (a few ms); measured on a fast local disk
            it gains little. ``False`` (the default): the server's ``synchronous_commit``.
            See "The crowd day".
        group_commit: The bookings of one office waiting in this process (its threads)
            share one transaction: one lock hold, two round trips, one commit and flush,
            in arrival order. On by default (a lone booking runs alone, as without it);
            ``False`` gives each booking its own transaction. See "The crowd day".

    Raises:
        ConfigurationError: psycopg is not installed, or a bad argument.
    """

    persistent = True

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
        early_release: bool = False,
        group_commit: bool = True,
    ) -> None:
        error = import_error()
        if error is not None:
            raise ConfigurationError(
                "PostgresStorage needs psycopg 3 and psycopg_pool: "
                "pip install 'queue-quota[postgres]'"
            ) from error
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
        from psycopg_pool import ConnectionPool

        _check_schema(schema)
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
        if not isinstance(early_release, bool):
            raise ConfigurationError(f"early_release must be True or False, got {early_release!r}")
        conninfo: str | None = None
        pool: Pool | None = None
        if isinstance(conninfo_or_pool, ConnectionPool):
            pool = conninfo_or_pool
        elif isinstance(conninfo_or_pool, str):
            try:
                conninfo_to_dict(conninfo_or_pool)
            except psycopg.Error as exc:
                raise ConfigurationError(f"bad PostgreSQL conninfo: {exc}") from None
            conninfo = conninfo_or_pool
        else:
            raise ConfigurationError(
                "PostgresStorage needs a conninfo string or a psycopg_pool.ConnectionPool, "
                f"got {type(conninfo_or_pool).__name__}"
            )
        self._pg = PgPrimitives(
            conninfo,
            pool,
            schema=schema,
            min_size=min_size,
            max_size=max_size,
            timeout=float(timeout),
            max_attempts=max_attempts,
            prepare=prepare,
            early_release=early_release,
        )
        if not isinstance(group_commit, bool):
            raise ConfigurationError(f"group_commit must be True or False, got {group_commit!r}")
        super().__init__(self._pg, group_commit=group_commit)

    def __repr__(self) -> str:
        where = "owned pool" if self._pg.owns_pool else "shared pool"
        return f"<PostgresStorage schema={self._pg.schema!r} ({where})>"

    @property
    def schema(self) -> str:
        """The schema holding the tables."""
        return self._pg.schema

    @property
    def retries(self) -> int:
        """Attempts run again so far (serialization failures, deadlocks, lost connections,
        commits whose outcome had to be looked up)."""
        return self._pg.retries

    @property
    def _pool(self) -> Pool | None:
        """The open pool, if any (for tests)."""
        return self._pg.current_pool

    @property
    def _conninfo(self) -> str | None:
        return self._pg.conninfo

    def migrate(self) -> None:
        """Create the schema, or upgrade one made by an older version in place, now (it is
        otherwise done on first use).

        Idempotent, and safe when several processes do it at once (an advisory lock). An
        upgrade keeps every row (see ``queue_quota.storage._pg_sql``).

        Raises:
            StorageError: The server cannot be reached, or its schema is newer than this
                library's.
        """
        self._pg.migrate()

    def close(self) -> None:
        """Close the pool if the storage owns it; further use raises `StorageError`."""
        self._pg.close()
