"""The primitives a storage adapter implements; `TransactionalStorage` does the rest.

A new storage is a short file: one class with `transaction` (and `migrate`, `close`,
`persistent`), whose transactions offer ten methods over five kinds of data:

* **counters**: one row per (office, scope, day) with ``used`` places and the ``last``
  number given (scopes: ``"c:<channel>"``, ``"s:<channel>@HH:MM"``, ``"p:<pool>"``);
* **bookings**: `Booking` records, found by id, idempotency key, citizen refs or day;
* **meta**: small per-office text values (closures, the release epoch, skip pointers, the
  secret's fingerprint, the last event's ``seq``), read by key prefix; an adapter may read
  them all at once, they are few;
* **events**: the office's log of `queue_quota.events.Event` (appended by the engine with
  ``seq`` 1, 2, 3, ... inside write transactions; read by ``seq``);
* **state**: any number of per-office text values read by key prefix (the notifiers'
  cursors, leases, retries and dead letters, reminder marks): unlike meta, never read
  whole.

Optional, for an adapter whose reads cost a round trip: a transaction may also offer
``expect(*, keys=(), booking_ids=(), refs=(), counters=None)``, a hint the engine gives
before a reservation's (or a group-commit batch's) first read: bookings by idempotency
key, by id, by citizen (``refs``: pairs of refs and ``since``), and the counters (scopes,
start, end) its search will most likely read first. The adapter may fetch them at once and
answer the later reads from what it fetched, as long as the answers are the ones the reads
would get (its own writes since included); ``PostgresStorage`` does (see "The crowd day").

Every rule (idempotency, limits, numbers, the search, the skip pointer, transitions) is in
`queue_quota.storage.TransactionalStorage`, written once; see "The capacity model" in the
documentation for why it cannot overbook. The contract suite
(`queue_quota.testing.StorageContract`) checks an adapter built this way like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Protocol, runtime_checkable

import attrs

from ..errors import StorageError
from ..events import Event
from ..models import Booking

__all__ = ["CommitInDoubt", "CounterRow", "Primitives", "RetryTransaction", "Transaction"]


class RetryTransaction(StorageError):
    """Raised by an adapter when its transaction failed in a way that running it again may
    cure (a serialization failure, a deadlock, a connection lost before the commit).
    Nothing of the transaction was written; `TransactionalStorage` runs the whole
    operation again, a few times, before giving up with a `StorageError`."""


class CommitInDoubt(StorageError):
    """Raised by an adapter when the connection was lost during the commit: the
    transaction may or may not have been written. `TransactionalStorage` then looks,
    in a new transaction, for what a booking would have left (its id) before answering."""


@attrs.frozen
class CounterRow:
    """One counter on one day: ``used`` places and the ``last`` number given (numbers are
    kept on the ``"c:<channel>"`` rows only)."""

    used: int = 0
    last: int = 0


@runtime_checkable
class Transaction(Protocol):
    """One atomic, isolated unit of work on one office's data.

    A write transaction excludes every other writer of the office from its first read to
    its end (a lock, ``BEGIN IMMEDIATE``, row locks taken in order). If the ``with`` block
    raises, nothing it wrote remains.
    """

    def counters(
        self, scopes: Sequence[str], start: date, end: date
    ) -> dict[tuple[str, date], CounterRow]:
        """The rows of ``scopes`` on the days of ``[start, end)``; missing rows omitted."""
        ...

    def put_counters(self, rows: Mapping[tuple[str, date], CounterRow]) -> None:
        """Create or replace rows."""
        ...

    def bookings(
        self,
        *,
        booking_id: str | None = None,
        key: str | None = None,
        refs: Sequence[str] | None = None,
        since: date | None = None,
        day: date | None = None,
    ) -> list[Booking]:
        """Bookings by exactly one of: ``booking_id``, idempotency ``key``, citizen ``refs``
        (with ``day >= since`` if given), or ``day``. Any order; every status."""
        ...

    def put_booking(self, booking: Booking, *, new: bool) -> None:
        """Insert a new booking (``new=True``; an id that exists raises `KeyError`) or
        replace the stored one with the same id. Stores every field, including
        ``charges``, ``places``, ``window`` and ``request_fingerprint``; ``previous_day``
        and ``previous_number`` are never stored."""
        ...

    def meta(self, prefix: str) -> dict[str, str]:
        """The office's meta values whose names start with ``prefix``."""
        ...

    def put_meta(self, items: Mapping[str, str | None]) -> None:
        """Set values (``None`` deletes)."""
        ...

    def events(self, after: int, limit: int) -> list[Event]:
        """The office's events with ``seq > after``, by ``seq``, at most ``limit``."""
        ...

    def put_events(self, events: Sequence[Event]) -> None:
        """Append events (their ``seq`` is new for the office; ``data`` is JSON-able)."""
        ...

    def state(self, prefix: str) -> dict[str, str]:
        """The office's state values whose names start with ``prefix`` (an index seek)."""
        ...

    def put_state(self, items: Mapping[str, str | None]) -> None:
        """Set state values (``None`` deletes)."""
        ...


@runtime_checkable
class Primitives(Protocol):
    """What a storage adapter provides."""

    @property
    def persistent(self) -> bool:
        """Whether data outlives the process (then a `Scheduler` needs a secret)."""
        ...

    def transaction(self, office_id: str, *, write: bool) -> AbstractContextManager[Transaction]:
        """A transaction on one office's data: exclusive if ``write``, else a consistent
        read. Driver errors surface as `queue_quota.errors.StorageError`; transient ones
        as `RetryTransaction` (run it again) or `CommitInDoubt` (the commit's outcome is
        unknown)."""
        ...

    def migrate(self) -> None:
        """Create or upgrade the schema (idempotent; safe from several processes)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
