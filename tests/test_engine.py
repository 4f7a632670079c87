"""`TransactionalStorage` over adapters whose transactions fail: transient failures are
run again; a commit whose outcome is unknown is settled by looking for the booking."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from queue_quota.errors import StorageError
from queue_quota.storage import (
    CommitInDoubt,
    MemoryStorage,
    RetryTransaction,
    TransactionalStorage,
)
from queue_quota.testing._builders import OFFICE, day, reservation, slots


class Flaky:
    """Memory primitives whose next write transactions fail as told: ``"retry"`` before
    anything is written, ``"in-doubt-committed"`` after the commit, ``"in-doubt-lost"``
    without committing."""

    def __init__(self) -> None:
        self.inner = MemoryStorage().primitives
        self.plan: list[str] = []
        self.persistent = False

    def migrate(self) -> None: ...

    def close(self) -> None: ...

    @contextmanager
    def transaction(self, office_id: str, *, write: bool) -> Iterator[Any]:
        step = self.plan.pop(0) if write and self.plan else None
        if step == "retry":
            raise RetryTransaction("serialization failure")
        with self.inner.transaction(office_id, write=write) as tx:
            yield tx
            if step == "in-doubt-lost":
                raise CommitInDoubt("connection lost")  # rolled back by the inner lock
        if step == "in-doubt-committed":
            raise CommitInDoubt("connection lost after COMMIT")


def test_transient_failures_are_run_again() -> None:
    """Two failed attempts, then the booking: number 1, one booking."""
    flaky = Flaky()
    storage = TransactionalStorage(flaky)  # type: ignore[arg-type]
    flaky.plan = ["retry", "retry"]
    b = storage.reserve(reservation(slots(day(1))))
    assert b.number == 1
    assert [x.id for x in storage.bookings_on(OFFICE, day(1))] == [b.id]
    flaky.plan = ["retry"] * 10
    with pytest.raises(StorageError):
        storage.reserve(reservation(slots(day(1))))


def test_a_commit_in_doubt_is_settled_by_the_booking_id() -> None:
    """Committed: the same booking is returned, not a second one. Lost: it is booked anew."""
    flaky = Flaky()
    storage = TransactionalStorage(flaky)  # type: ignore[arg-type]
    flaky.plan = ["in-doubt-committed"]
    r = reservation(slots(day(1)))
    b = storage.reserve(r)
    assert b.id == r.booking_id
    assert len(storage.bookings_on(OFFICE, day(1))) == 1
    flaky.plan = ["in-doubt-lost"]
    r2 = reservation(slots(day(1)))
    b2 = storage.reserve(r2)
    assert (b2.id, b2.number) == (r2.booking_id, 2)
    assert len(storage.bookings_on(OFFICE, day(1))) == 2


def test_other_changes_in_doubt_are_storage_errors() -> None:
    """A cancel whose commit is in doubt is not guessed at: `StorageError`."""
    flaky = Flaky()
    storage = TransactionalStorage(flaky)  # type: ignore[arg-type]
    b = storage.reserve(reservation(slots(day(1))))
    flaky.plan = ["in-doubt-committed"]
    with pytest.raises(StorageError):
        storage.cancel(OFFICE, b.id, not_before=day(0))
