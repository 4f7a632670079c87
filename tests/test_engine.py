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


class Counting:
    """Memory primitives that count the counter reads of write transactions."""

    def __init__(self) -> None:
        self.inner = MemoryStorage().primitives
        self.persistent = False
        self.reads = 0

    def migrate(self) -> None: ...

    def close(self) -> None: ...

    @contextmanager
    def transaction(self, office_id: str, *, write: bool) -> Iterator[Any]:
        with self.inner.transaction(office_id, write=write) as tx:
            outer = self

            class Tx:
                def __getattr__(self, name: str) -> Any:
                    return getattr(tx, name)

                def counters(self, *args: Any) -> Any:
                    if write:
                        outer.reads += 1
                    return tx.counters(*args)

            yield Tx()


def test_the_skip_pointer_is_shared_by_every_scheduler() -> None:
    """After one scheduler filled 100 days, a new scheduler on the same storage starts at the
    first day with room: one read of counters, not one per chunk of full days."""
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    import queue_quota as qq
    from queue_quota.policies import OnlineQuota

    counting = Counting()
    storage = TransactionalStorage(counting)  # type: ignore[arg-type]
    office = qq.Office(
        "skip", qq.WorkingCalendar(weekmask="1111111"), [OnlineQuota(1, horizon_days=300)]
    )
    now = datetime.combine(date(2020, 6, 4), time(9), ZoneInfo("UTC"))
    first = qq.Scheduler(office, storage)
    for i in range(100):
        first.book("online", f"c{i}", now=now)
    second = qq.Scheduler(office, storage)
    counting.reads = 0
    b = second.book("online", "new", now=now)
    assert b.day == date(2020, 6, 5) + (date(2020, 9, 13) - date(2020, 6, 5))
    assert counting.reads == 1
