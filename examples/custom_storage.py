"""A storage adapter: a thin wrapper that measures every operation of another storage.

`InstrumentedStorage` implements the `Storage` protocol by forwarding each call, whole, to
the storage it wraps, and counts calls, errors and time per operation (what you would
export to Prometheus or StatsD). It subclasses nothing.

It is also the smallest example of the one rule every adapter keeps: **each operation that
changes a count is one atomic operation**. The wrapper never splits one, e.g. it never
implements ``reserve`` as "read the counts, then write": it hands the whole request to the
wrapped storage, whose transaction does the check and the write together.

Run it: ``python examples/custom_storage.py``. Check it against the contract suite that
every adapter must pass: docs/how-to/custom-storage.md.
"""

# --8<-- [start:imports]
from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime, time
from time import perf_counter
from typing import TypeVar
from zoneinfo import ZoneInfo

import queue_quota as qq
from queue_quota.models import Reservation, Slot
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import ChannelMove, MemoryStorage, Storage

# --8<-- [end:imports]

__all__ = ["InstrumentedStorage", "main"]

T = TypeVar("T")


# --8<-- [start:wrapper]
class InstrumentedStorage:
    """Any `Storage`, with per-operation counters and timings.

    Args:
        inner: The storage that keeps the data (memory, SQLite, PostgreSQL, ...).

    Attributes:
        calls: Calls per operation (``"reserve"``, ``"cancel"``, ...).
        errors: Errors per operation and error code (``"reserve:quota_exhausted"``).
        seconds: Time spent per operation, in seconds.
    """

    def __init__(self, inner: Storage) -> None:
        if not isinstance(inner, Storage):
            raise qq.ConfigurationError(f"{type(inner).__name__} is not a Storage")
        self._inner = inner
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def __repr__(self) -> str:
        return f"<InstrumentedStorage {self._inner!r}>"

    @contextmanager
    def _measure(self, operation: str) -> Iterator[None]:
        start = perf_counter()
        try:
            yield
        except qq.QueueQuotaError as exc:
            with self._lock:
                self.errors[f"{operation}:{exc.code}"] += 1
            raise
        finally:
            with self._lock:
                self.calls[operation] += 1
                self.seconds[operation] += perf_counter() - start

    def _call(self, operation: str, run: Callable[[], T]) -> T:
        with self._measure(operation):
            return run()

    # -- the Storage protocol: every method forwards one whole call ------------------------

    @property
    def persistent(self) -> bool:
        """As persistent as the wrapped storage."""
        return self._inner.persistent

    def migrate(self) -> None:
        """Create the wrapped storage's schema."""
        self._call("migrate", self._inner.migrate)

    def reserve(self, reservation: Reservation) -> qq.Booking:
        """Book the first slot with room, atomically (in the wrapped storage)."""
        return self._call("reserve", lambda: self._inner.reserve(reservation))

    def find_by_key(self, office_id: str, idempotency_key: str) -> qq.Booking | None:
        """The booking made with that idempotency key, if any."""
        return self._call(
            "find_by_key", lambda: self._inner.find_by_key(office_id, idempotency_key)
        )

    def get(self, office_id: str, booking_id: str) -> qq.Booking:
        """The booking with that id."""
        return self._call("get", lambda: self._inner.get(office_id, booking_id))

    def cancel(self, office_id: str, booking_id: str, *, not_before: date) -> qq.Booking:
        """Cancel a booking, freeing its place."""
        return self._call(
            "cancel", lambda: self._inner.cancel(office_id, booking_id, not_before=not_before)
        )

    def check_in(self, office_id: str, booking_id: str, *, today: date) -> qq.Booking:
        """Mark a booking for today as checked in."""
        return self._call(
            "check_in", lambda: self._inner.check_in(office_id, booking_id, today=today)
        )

    def move(
        self, office_id: str, booking_id: str, slots: Sequence[Slot], *, prefix: str
    ) -> qq.Booking:
        """Move a booking to the first slot with room, atomically."""
        return self._call(
            "move", lambda: self._inner.move(office_id, booking_id, slots, prefix=prefix)
        )

    def close_day(
        self,
        office_id: str,
        day: date,
        reason: str,
        moves: Mapping[str, ChannelMove],
        *,
        now: datetime,
    ) -> list[qq.Booking]:
        """Close a day and move its bookings, in one transaction."""
        return self._call(
            "close_day", lambda: self._inner.close_day(office_id, day, reason, moves, now=now)
        )

    def mark_no_shows(self, office_id: str, day: date) -> list[qq.Booking]:
        """Mark a day's booked bookings as no-shows, in one transaction."""
        return self._call("mark_no_shows", lambda: self._inner.mark_no_shows(office_id, day))

    def bookings_of(
        self, office_id: str, citizen_refs: Sequence[str], *, since: date | None = None
    ) -> list[qq.Booking]:
        """A citizen's bookings (by the keyed hashes of the ID)."""
        return self._call(
            "bookings_of", lambda: self._inner.bookings_of(office_id, citizen_refs, since=since)
        )

    def claim_secret(self, office_id: str, fingerprint: str, accepted: Sequence[str]) -> str | None:
        """Check and record the secret's fingerprint."""
        return self._call(
            "claim_secret", lambda: self._inner.claim_secret(office_id, fingerprint, accepted)
        )

    def closures(self, office_id: str) -> dict[date, str]:
        """Days closed at run time."""
        return self._call("closures", lambda: self._inner.closures(office_id))

    def booked_counts(
        self, office_id: str, channel: str, start: date, end: date
    ) -> dict[date, int]:
        """Active bookings per day in ``[start, end)``."""
        return self._call(
            "booked_counts", lambda: self._inner.booked_counts(office_id, channel, start, end)
        )

    def bookings_on(
        self,
        office_id: str,
        day: date,
        channel: str | None = None,
        *,
        include_cancelled: bool = False,
    ) -> list[qq.Booking]:
        """The bookings of a day, by channel then number."""
        return self._call(
            "bookings_on",
            lambda: self._inner.bookings_on(
                office_id, day, channel, include_cancelled=include_cancelled
            ),
        )

    def close(self) -> None:
        """Close the wrapped storage."""
        self._inner.close()


# --8<-- [end:wrapper]


def main() -> None:
    """Fill a day through the wrapper and print what it measured."""
    office = qq.Office(
        id="tegal-disdukcapil",
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[
            OnlineQuota(capacity=20),
            WalkInQuota(capacity=3, opens=time(7, 30), closes=time(12)),
        ],
    )
    storage = InstrumentedStorage(MemoryStorage())
    sched = qq.Scheduler(office, storage)
    friday = datetime(2020, 6, 5, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    for _ in range(4):
        with suppress(qq.QuotaExhausted):
            sched.book("walk_in", now=friday)
    print(f"reserve calls: {storage.calls['reserve']}")
    print(f"errors: {dict(storage.errors)}")


if __name__ == "__main__":
    main()
