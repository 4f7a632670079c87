"""One PostgreSQL transaction as the engine's `Transaction`: each primitive is one statement.

A write transaction starts with ``BEGIN ISOLATION LEVEL READ COMMITTED`` and
``pg_advisory_xact_lock(<office namespace>, hashtext(office_id))``, sent in one pipeline
with its first primitive's statement (one round trip): every other writer of the office
waits on that lock until this transaction ends, and each later statement, at READ
COMMITTED, sees every write of the office committed before the lock was granted. So the
engine's read-then-write of counters cannot interleave with another's; other offices go on
in parallel. A read transaction is ``REPEATABLE READ READ ONLY`` (one snapshot), begun the
same way. On a connection that is not in autocommit (a pool of the caller's), psycopg
begins the transaction itself, and ``SET TRANSACTION`` gives it its isolation level.

Early lock release (``early_release``, the default): a write transaction also says
``SET LOCAL synchronous_commit TO off``, so that its ``COMMIT`` returns, and the office's
lock is released, without waiting for the WAL to reach the disk; the same round trip then
carries a *durability barrier*, a tiny transaction that must be flushed (``SET LOCAL
synchronous_commit TO on`` and one WAL record of its own, a logical message: without a
record PostgreSQL commits it without a flush), whose commit follows ours in the WAL: when
it returns, our commit is on disk too. Only then is the change acknowledged. Barriers of
concurrent transactions share the server's flushes. See "The crowd day".

Reads ahead (`expect`): the engine names the reads a reservation is about to make (its
idempotency key, the citizen's bookings, its id, the first chunk of counters); they go in
one pipeline with ``BEGIN``, the lock and the meta, and later reads are answered from what
came back while they still hold (counters are kept up to date by this transaction's own
writes; a booking written drops the answers it could change: its id, its key, any read of
its citizen; see ``_pg_ahead``). Under
the office's lock no other writer can change them meanwhile, and a read transaction sees
one snapshot, so the answers are the ones the server would give. A new booking whose id was
read ahead as absent is inserted without waiting for an answer (``INSERT_NEW``, no ``ON
CONFLICT``: a conflict would fail the transaction), with the next round trip. A warm
booking is then two round trips: the reads, then the writes with the ``COMMIT``.

Nothing is kept on the connection between transactions (no ``SET`` outside one, no
session lock), so the storage works through a pgbouncer in transaction mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ..events import Event, dump_data, load_data
from ..models import Booking
from ._pg_ahead import ReadAhead, by_refs, counters_query
from ._pg_support import booking_params, replace_params, to_booking
from ._pg_writes import WriteMerger
from ._search import CLOSURE, SECRET
from .primitives import CounterRow

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

    Conn = psycopg.Connection[TupleRow]

__all__ = ["BARRIER", "PgTransaction"]

Params = Sequence[Any] | Mapping[str, Any]

#: After an early-released COMMIT: a transaction that must wait for the WAL flush past
#: it. It must write WAL (a transaction that writes none commits without a flush, whatever
#: ``synchronous_commit`` says): a transactional logical message, one small record.
BARRIER = (
    b"BEGIN",
    b"SET LOCAL synchronous_commit TO on",
    b"SELECT pg_logical_emit_message(true, 'queue_quota', '')",
    b"COMMIT",
)
_ASYNC = b"SET LOCAL synchronous_commit TO off"

_BEGIN = {
    (True, True): b"BEGIN ISOLATION LEVEL READ COMMITTED",
    (True, False): b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    (False, True): b"SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
    (False, False): b"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
}


class PgTransaction:
    """The primitives on one pooled connection, inside one transaction of one office.

    Driver errors propagate as `psycopg.Error`; the scope (``_pg_base``) rolls back and
    maps them. ``statements`` counts the statements asked for (writes merged into one count
    one each) and ``round_trips`` the round trips (for measurements).
    """

    __slots__ = (
        "_ahead",
        "_barrier",
        "_conn",
        "_lock",
        "_merger",
        "_meta",
        "_office",
        "_pending",
        "_prep",
        "_q",
        "barrier_sent",
        "begun",
        "round_trips",
        "statements",
    )

    def __init__(
        self,
        conn: Conn,
        office_id: str,
        write: bool,
        queries: Mapping[str, bytes],
        lock: tuple[bytes, int] | None,
        prepare: bool | None,
        early_release: bool = False,
        merger: WriteMerger | None = None,
    ) -> None:
        self._conn = conn
        self._merger = merger or WriteMerger(queries, {})
        self._barrier = early_release and write
        #: Whether the COMMIT went with a barrier (a failure after it is a commit in doubt).
        self.barrier_sent = False
        self._office = office_id
        self._q = queries
        self._prep = prepare
        self._lock = (_BEGIN[(conn.autocommit, write)], lock)
        self._meta: dict[str, str] | None = None
        # Writes whose answer nothing reads, sent with the next statement or the COMMIT.
        self._pending: list[tuple[str, Sequence[Any]]] = []
        self._ahead = ReadAhead()
        self.begun = False
        self.statements = 0
        self.round_trips = 0

    def _send(self, statements: Sequence[tuple[bytes, Params]]) -> list[psycopg.Cursor[Any]]:
        """Send ``statements`` in one round trip: the first travel with BEGIN (and the
        office's lock); later ones after the writes held back, in order."""
        conn, prep = self._conn, self._prep
        self.round_trips += 1
        self.statements += len(statements)
        if self.begun and not self._pending and len(statements) == 1:
            query, params = statements[0]
            return [conn.execute(query, params, prepare=prep)]
        with conn.pipeline():
            if self.begun:
                pending, self._pending = self._pending, []
                for held, values in self._merger.statements(pending):
                    conn.execute(held, values, prepare=prep)
            else:
                begin, lock = self._lock
                self.begun = True
                conn.execute(begin, prepare=False)
                self.statements += 1
                if self._barrier:
                    conn.execute(_ASYNC, prepare=False)
                    self.statements += 1
                if lock is not None:
                    conn.execute(lock[0], (lock[1], self._office), prepare=prep)
                    self.statements += 1
            cursors = [conn.execute(query, params, prepare=prep) for query, params in statements]
        return cursors

    def _exec(self, name: str, params: Params) -> psycopg.Cursor[Any]:
        return self._send(((self._q[name], params),))[0]

    def expect(
        self,
        *,
        keys: Sequence[str] = (),
        booking_ids: Sequence[str] = (),
        refs: Sequence[tuple[Sequence[str], date | None]] = (),
        counters: tuple[Sequence[str], date, date] | None = None,
    ) -> None:
        """Read ahead, in one round trip (with the meta, and BEGIN and the lock if this is
        the first), what the caller is about to read: bookings by idempotency ``keys``, by
        ``booking_ids``, by citizen ``refs`` (pairs of refs and ``since``), and
        ``counters`` (scopes, start, end). A hint: later reads are answered from it while it
        holds (see ``_pg_ahead``)."""
        ahead, office = self._ahead, self._office
        wanted: list[tuple[Any, str, Params]] = []
        if self._meta is None:
            wanted.append((None, "META", {"o": office}))
        groups = [(tuple(dict.fromkeys(r)), since) for r, since in refs]
        wanted += ahead.plan(office, keys=keys, ids=booking_ids, refs=groups, counters=counters)
        if not wanted:
            return
        q = self._q
        cursors = self._send([(q[name], params) for _, name, params in wanted])
        for (what, _, _), cur in zip(wanted, cursors, strict=True):
            rows = cur.fetchall()
            if what is None:
                self._meta = dict(rows)
            else:
                ahead.keep(what, rows)

    def _later(self, name: str, params: Sequence[Any]) -> None:
        """A write whose answer nothing reads: sent with the next statement or the COMMIT
        (an error in it fails that statement or the commit, and the whole transaction)."""
        if not self.begun:
            self._exec(name, params)
            return
        self.statements += 1
        self._pending.append((name, params))

    def commit(self) -> None:
        """COMMIT, with the writes still held back (and, with early release, the durability
        barrier) in the same round trip."""
        conn = self._conn
        barrier = self._barrier and self.begun
        if self.begun:
            self.round_trips += 1
        if not self._pending and not barrier:
            conn.commit()
            return
        pending, self._pending = self._pending, []
        self.barrier_sent = barrier
        with conn.pipeline():
            for held, values in self._merger.statements(pending):
                conn.execute(held, values, prepare=self._prep)
            conn.commit()
            if barrier:
                if conn.autocommit:
                    for statement in BARRIER:
                        conn.execute(statement, prepare=False)
                else:  # psycopg begins the barrier's transaction itself
                    for statement in BARRIER[1:-1]:
                        conn.execute(statement, prepare=False)
                    conn.commit()
                self.statements += len(BARRIER)

    def counters(
        self, scopes: Sequence[str], start: date, end: date
    ) -> dict[tuple[str, date], CounterRow]:
        if not scopes or start >= end:
            return {}
        ahead = self._ahead.counters(scopes, start, end)
        if ahead is not None:
            return ahead
        rows = self._exec(*counters_query(self._office, scopes, start, end)).fetchall()
        return {(s, d): CounterRow(used, last) for s, d, used, last in rows}

    def put_counters(self, rows: Mapping[tuple[str, date], CounterRow]) -> None:
        if not rows:
            return
        self._ahead.wrote_counters(rows)
        scopes, days, used, last = [], [], [], []
        for (scope, day), row in rows.items():
            scopes.append(scope)
            days.append(day)
            used.append(row.used)
            last.append(row.last)
        self._later("PUT_COUNTERS", (self._office, scopes, days, used, last))

    def bookings(
        self,
        *,
        booking_id: str | None = None,
        key: str | None = None,
        refs: Sequence[str] | None = None,
        since: date | None = None,
        day: date | None = None,
    ) -> list[Booking]:
        office = self._office
        read: tuple[Any, ...] | None = None  # the answer read ahead that may serve it
        params: Params
        if booking_id is not None:
            read, name, params = ("id", booking_id), "BY_ID", (office, booking_id)
        elif key is not None:
            read, name, params = ("key", key), "BY_KEY", (office, key)
        elif refs is not None:
            unique = tuple(dict.fromkeys(refs))
            if not unique:
                return []
            read = ("refs", unique, since)
            name, params = by_refs(office, unique, since)
        elif day is not None:
            name, params = "BY_DAY", (office, day)
        else:
            raise TypeError("bookings() needs booking_id, key, refs or day")
        if read is not None:
            found = self._ahead.bookings(read)
            if found is not None:
                return found
        cur = self._exec(name, params)
        return [to_booking(r) for r in cur.fetchall()]

    def put_booking(self, booking: Booking, *, new: bool) -> None:
        if booking.office_id != self._office:
            raise ValueError("the booking is of another office than the transaction")
        known = self._ahead.wrote_booking(booking)
        if not new:
            self._later("REPLACE", replace_params(booking))
        elif known:
            raise KeyError(booking.id)
        elif known is not None:  # seen absent under the lock: no answer to wait for
            self._later("INSERT_NEW", booking_params(booking))
        elif self._exec("INSERT", booking_params(booking)).rowcount != 1:
            raise KeyError(booking.id)

    def meta(self, prefix: str) -> dict[str, str]:
        """The first call reads all of the office's meta in one statement; later calls and
        writes use that copy (no other writer of the office can change it meanwhile, and a
        read transaction sees one snapshot)."""
        cached = self._meta
        if cached is None:
            rows = self._exec("META", {"o": self._office}).fetchall()
            cached = self._meta = dict(rows)
        return {k: v for k, v in cached.items() if k.startswith(prefix)}

    def put_meta(self, items: Mapping[str, str | None]) -> None:
        office = self._office
        cached = self._meta
        for name, value in items.items():
            if cached is not None:
                if value is None:
                    cached.pop(name, None)
                else:
                    cached[name] = value
            if name.startswith(CLOSURE):
                day = date.fromisoformat(name[len(CLOSURE) :])
                if value is None:
                    self._later("DEL_CLOSURE", (office, day))
                else:
                    self._later("PUT_CLOSURE", (office, day, value))
            elif name == SECRET:
                if value is None:
                    self._later("DEL_SECRET", (office,))
                else:
                    self._later("PUT_SECRET", (office, value))
            elif value is None:
                self._later("DEL_META", (office, name))
            else:
                self._later("PUT_META", (office, name, value))

    def events(self, after: int, limit: int) -> list[Event]:
        rows = self._exec("EVENTS", (self._office, after, limit)).fetchall()
        return [
            Event(seq=seq, kind=kind, booking_id=bid, day=day, at=at, data=load_data(data))
            for seq, kind, bid, day, at, data in rows
        ]

    def put_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        self._later(
            "PUT_EVENTS",
            (
                self._office,
                [e.seq for e in events],
                [e.kind for e in events],
                [e.booking_id for e in events],
                [e.day for e in events],
                [e.at for e in events],
                [dump_data(e.data) for e in events],
            ),
        )

    def state(self, prefix: str) -> dict[str, str]:
        rows = self._exec("STATE", (self._office, prefix, prefix + "\U0010ffff")).fetchall()
        return dict(rows)

    def put_state(self, items: Mapping[str, str | None]) -> None:
        for name, value in items.items():
            if value is None:
                self._later("DEL_STATE", (self._office, name))
            else:
                self._later("PUT_STATE", (self._office, name, value))
