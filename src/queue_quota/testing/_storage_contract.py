"""`StorageContract`: the rules of `queue_quota.storage.base`, as one inheritable test class."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, time

import attrs
import pytest

from ..errors import (
    AlreadyBooked,
    BookingNotFound,
    InvalidTransition,
    QuotaExhausted,
)
from ..models import Booking, BookingStatus, Candidate, Charge, Reservation, Slot
from ..storage.base import Storage
from ._builders import (
    CREATED_AT,
    OFFICE,
    OTHER_OFFICE,
    close,
    day,
    numbers,
    reservation,
    slots,
)
from ._events_contract import EventsContract
from ._sanctions_contract import SanctionsContract
from ._waitlist_contract import WaitlistContract

__all__ = ["StorageContract", "StorageFactory"]

#: Makes a handle on a storage; two calls give two handles on the same data.
StorageFactory = Callable[[], Storage]

THREADS = 8
PER_THREAD = 6


def _counts(storage: Storage, channel: str = "online", office: str = OFFICE) -> dict[date, int]:
    """Active bookings per day over the contract's days, with zero days dropped."""
    found = storage.booked_counts(office, channel, day(-30), day(400))
    return {d: n for d, n in found.items() if n}


def _run_threads(worker: Callable[[int], None], n: int = THREADS) -> None:
    """Run ``worker(i)`` in ``n`` threads released together; re-raise the first error."""
    barrier = threading.Barrier(n)

    def start(i: int) -> None:
        barrier.wait(timeout=60)
        worker(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        for future in [pool.submit(start, i) for i in range(n)]:
            future.result(timeout=300)


def _invalid(
    call: Callable[[], object], reason: str, *, on: date, status: str | None = None
) -> None:
    """``call()`` raises `InvalidTransition` with that ``reason``, ``status`` and ``day``."""
    with pytest.raises(InvalidTransition) as caught:
        call()
    err = caught.value
    assert (err.reason, err.status, err.day) == (reason, status, on), (
        f"InvalidTransition(reason={err.reason!r}, status={err.status!r}, day={err.day!r})"
    )


def _multi(
    channel: str,
    prefix: str,
    where: list[tuple[date, list[tuple[str, int]]]],
    *,
    places: int = 1,
    window: tuple[time, time] | None = None,
) -> Reservation:
    """A reservation of candidates with several charges each."""
    candidates = tuple(
        Candidate(d, tuple(Charge(scope, cap) for scope, cap in charges), window)
        for d, charges in where
    )
    return attrs.evolve(
        reservation((), channel=channel, prefix=prefix), candidates=candidates, places=places
    )


class StorageContract(EventsContract, SanctionsContract, WaitlistContract):
    """The storage contract: inherit it and provide a ``storage_factory`` fixture.

    ``storage_factory`` returns a callable that makes a `Storage` handle; calling it twice
    must give two handles on the **same** data (for example two `SQLiteStorage` objects on
    one file, or the same `MemoryStorage` object twice), and every test must start from an
    empty store. The contract closes every handle it opened when a test ends, so ``close``
    must tolerate being called on a handle that your fixture closes too.

    Example:
        ```python
        import pytest
        from queue_quota.testing import StorageContract


        class TestMyStorage(StorageContract):
            @pytest.fixture
            def storage_factory(self, tmp_path):
                return lambda: MyStorage(tmp_path / "db")
        ```

    The fixture may also come from a ``conftest.py`` (parametrized over several backends,
    in the style of `limits`' storage tests); a fixture defined on the class wins.
    """

    # -- fixtures ------------------------------------------------------------------------

    @pytest.fixture
    def _contract_handles(self, storage_factory: StorageFactory) -> Iterator[list[Storage]]:
        """Every handle a test opened, closed (once each) when the test ends."""
        handles: list[Storage] = []
        yield handles
        seen: set[int] = set()
        for handle in reversed(handles):
            if id(handle) not in seen:
                seen.add(id(handle))
                handle.close()

    @pytest.fixture
    def reopen(
        self, storage_factory: StorageFactory, _contract_handles: list[Storage]
    ) -> Callable[[], Storage]:
        """Opens another handle on the same data."""

        def open_handle() -> Storage:
            handle = storage_factory()
            _contract_handles.append(handle)
            return handle

        return open_handle

    @pytest.fixture
    def storage(self, reopen: Callable[[], Storage]) -> Storage:
        """The first handle on an empty store."""
        return reopen()

    # -- the protocol ----------------------------------------------------------------------

    def test_implements_the_storage_protocol(self, storage: Storage) -> None:
        """The handle is a `Storage` and says whether it is persistent."""
        assert isinstance(storage, Storage)
        assert isinstance(storage.persistent, bool)

    def test_starts_empty(self, storage: Storage) -> None:
        """A fresh store has no bookings, counts, closures or keys."""
        assert _counts(storage) == {}
        assert storage.bookings_on(OFFICE, day(1), include_cancelled=True) == []
        assert storage.closures(OFFICE) == {}
        assert storage.find_by_key(OFFICE, "k") is None

    def test_migrate_is_idempotent(self, storage: Storage, reopen: Callable[[], Storage]) -> None:
        """``migrate`` may run again, from any handle, without touching the data."""
        storage.migrate()
        b = storage.reserve(reservation(slots(day(1))))
        storage.migrate()
        other = reopen()
        other.migrate()
        assert other.get(OFFICE, b.id) == b
        assert _counts(other) == {day(1): 1}

    # -- reserve ---------------------------------------------------------------------------

    def test_reserve_books_the_first_slot_with_number_one(self, storage: Storage) -> None:
        """The first booking goes to the first slot, number 1, with every field stored."""
        r = reservation(
            slots(day(1), day(2)), citizen="ref-1", per_citizen=1, key="key-1", prefix="A"
        )
        b = storage.reserve(r)
        assert (b.id, b.office_id, b.channel) == (r.booking_id, OFFICE, "online")
        assert (b.day, b.number, b.label) == (day(1), 1, "A-001")
        assert b.status is BookingStatus.BOOKED
        assert (b.citizen_ref, b.ticket, b.idempotency_key) == ("ref-1", r.ticket, "key-1")
        assert b.created_at == CREATED_AT
        assert storage.get(OFFICE, b.id) == b

    def test_reserve_skips_full_slots_in_order(self, storage: Storage) -> None:
        """Bookings fill the first slot to capacity, then the next, in the given order."""
        order = slots(day(3), day(1), day(2), capacity=2)
        got = [storage.reserve(reservation(order)) for _ in range(5)]
        assert [b.day for b in got] == [day(3), day(3), day(1), day(1), day(2)]
        assert numbers(got) == [1, 2, 1, 2, 1]

    def test_reserve_skips_zero_capacity_slots(self, storage: Storage) -> None:
        """A slot with capacity 0 never takes a booking."""
        b = storage.reserve(reservation((Slot(day(1), 0), Slot(day(2), 1))))
        assert b.day == day(2)
        with pytest.raises(QuotaExhausted):
            storage.reserve(reservation((Slot(day(1), 0),)))
        assert _counts(storage) == {day(2): 1}

    def test_reserve_skips_days_closed_in_the_storage(self, storage: Storage) -> None:
        """A day closed with ``close_day`` is skipped even if a slot offers it."""
        close(storage, day(1), {"online": ("A", slots(day(5)))})
        b = storage.reserve(reservation(slots(day(1), day(2))))
        assert b.day == day(2)
        with pytest.raises(QuotaExhausted):
            storage.reserve(reservation(slots(day(1), capacity=10)))
        assert storage.bookings_on(OFFICE, day(1), include_cancelled=True) == []

    def test_reserve_without_room_raises_and_writes_nothing(self, storage: Storage) -> None:
        """When no slot has room: a bare `QuotaExhausted`, no booking, no key, no count."""
        storage.reserve(reservation(slots(day(1), capacity=1)))
        r = reservation(slots(day(1), capacity=1), key="full-key", citizen="ref-9", per_citizen=1)
        with pytest.raises(QuotaExhausted):
            storage.reserve(r)
        with pytest.raises(BookingNotFound):
            storage.get(OFFICE, r.booking_id)
        assert storage.find_by_key(OFFICE, "full-key") is None
        assert _counts(storage) == {day(1): 1}
        # The citizen was not counted either: a booking elsewhere is still allowed.
        assert storage.reserve(attrs.evolve(r, slots=slots(day(2)))).day == day(2)

    def test_reserve_with_no_slots_raises_quota_exhausted(self, storage: Storage) -> None:
        """An empty list of slots is a `QuotaExhausted`, not a crash."""
        with pytest.raises(QuotaExhausted):
            storage.reserve(reservation(()))
        assert _counts(storage) == {}

    def test_capacity_is_exactly_respected(self, storage: Storage) -> None:
        """Exactly ``capacity`` bookings fit on a day; every further one is refused."""
        accepted, refused = [], 0
        for _ in range(8):
            try:
                accepted.append(storage.reserve(reservation(slots(day(1), capacity=5))))
            except QuotaExhausted:
                refused += 1
        assert (len(accepted), refused) == (5, 3)
        assert numbers(accepted) == [1, 2, 3, 4, 5]
        assert _counts(storage) == {day(1): 5}
        assert numbers(storage.bookings_on(OFFICE, day(1))) == [1, 2, 3, 4, 5]

    def test_capacity_is_taken_from_each_reservation(self, storage: Storage) -> None:
        """A day's capacity is the slot's: raising it admits more, lowering it admits none."""
        storage.reserve(reservation(slots(day(1), capacity=1)))
        with pytest.raises(QuotaExhausted):
            storage.reserve(reservation(slots(day(1), capacity=1)))
        assert storage.reserve(reservation(slots(day(1), capacity=3))).number == 2
        with pytest.raises(QuotaExhausted):
            storage.reserve(reservation(slots(day(1), capacity=1)))
        assert _counts(storage) == {day(1): 2}

    def test_channels_have_their_own_capacity_and_numbers(self, storage: Storage) -> None:
        """Each channel of a day counts its own places and numbers its own queue."""
        a = storage.reserve(reservation(slots(day(1), capacity=1)))
        b = storage.reserve(reservation(slots(day(1), capacity=1), channel="walk_in", prefix="B"))
        assert (a.number, a.label, b.number, b.label) == (1, "A-001", 1, "B-001")
        with pytest.raises(QuotaExhausted):
            storage.reserve(reservation(slots(day(1), capacity=1), channel="walk_in", prefix="B"))
        assert _counts(storage, "online") == _counts(storage, "walk_in") == {day(1): 1}

    def test_duplicate_booking_id_fails_and_writes_nothing(self, storage: Storage) -> None:
        """Reusing a booking id is `InvalidTransition("duplicate_id")`, leaving all alone."""
        first = storage.reserve(reservation(slots(day(1), capacity=5)))
        with pytest.raises(InvalidTransition) as caught:
            storage.reserve(reservation(slots(day(2), capacity=5), booking_id=first.id))
        assert type(caught.value) is InvalidTransition
        assert caught.value.reason == "duplicate_id"
        assert storage.get(OFFICE, first.id) == first
        assert _counts(storage) == {day(1): 1}
        assert storage.reserve(reservation(slots(day(2)))).number == 1

    # -- several counters ------------------------------------------------------------------

    def test_a_take_needs_room_in_every_counter(self, storage: Storage) -> None:
        """A candidate with a full pool is passed over, untouched; the next takes every charge."""
        storage.reserve(_multi("priority", "P", [(day(1), [("c:priority", 5), ("p:loket", 1)])]))
        b = storage.reserve(
            _multi(
                "online",
                "A",
                [
                    (day(1), [("c:online", 5), ("p:loket", 1)]),
                    (day(2), [("c:online", 5), ("p:loket", 1)]),
                ],
            )
        )
        assert (b.day, b.number, b.label) == (day(2), 1, "A-001")
        assert _counts(storage, "online") == {day(2): 1}
        assert _counts(storage, "priority") == {day(1): 1}
        with pytest.raises(QuotaExhausted):
            storage.reserve(
                _multi("priority", "P", [(day(2), [("c:priority", 5), ("p:loket", 1)])])
            )

    def test_households_take_places_under_one_number(self, storage: Storage) -> None:
        """A household takes its places under one number; a cancel gives them all back."""
        where = [(day(1), [("c:online", 3)]), (day(2), [("c:online", 3)])]
        pair = storage.reserve(_multi("online", "A", where, places=2))
        assert (pair.day, pair.number, pair.places) == (day(1), 1, 2)
        assert storage.reserve(_multi("online", "A", where, places=2)).day == day(2)
        assert storage.reserve(_multi("online", "A", where)).number == 2
        assert _counts(storage) == {day(1): 3, day(2): 2}
        storage.cancel(OFFICE, pair.id, not_before=day(0))
        assert _counts(storage) == {day(1): 1, day(2): 2}
        assert storage.get(OFFICE, pair.id).places == 2

    def test_windows_and_places_are_stored(
        self, storage: Storage, reopen: Callable[[], Storage]
    ) -> None:
        """A booking's window and places read back the same, through another handle."""
        window = (time(8), time(8, 30))
        b = storage.reserve(
            _multi(
                "online",
                "A",
                [(day(1), [("c:online", 5), ("s:online@08:00", 2)])],
                places=2,
                window=window,
            )
        )
        other = reopen()
        for found in (other.get(OFFICE, b.id), other.bookings_on(OFFICE, day(1))[0]):
            assert (found.window, found.places) == (window, 2)
        with pytest.raises(QuotaExhausted):  # the session holds 2
            storage.reserve(
                _multi("online", "A", [(day(1), [("c:online", 5), ("s:online@08:00", 2)])])
            )

    def test_a_cancel_gives_back_every_counter(self, storage: Storage) -> None:
        """The pool place of a cancelled priority booking is there for online again."""
        taken = storage.reserve(
            _multi("priority", "P", [(day(1), [("c:priority", 5), ("p:loket", 1)])])
        )
        online = [(day(1), [("c:online", 5), ("p:loket", 1)])]
        with pytest.raises(QuotaExhausted):
            storage.reserve(_multi("online", "A", online))
        storage.cancel(OFFICE, taken.id, not_before=day(0))
        assert storage.reserve(_multi("online", "A", online)).day == day(1)

    # -- numbers ---------------------------------------------------------------------------

    def test_numbers_count_from_one_per_office_channel_and_day(self, storage: Storage) -> None:
        """Every (office, channel, day) has its own queue starting at 1."""
        got = [
            storage.reserve(reservation(slots(d, capacity=5), office=o, channel=c, prefix=p))
            for o in (OFFICE, OTHER_OFFICE)
            for c, p in (("online", "A"), ("walk_in", "B"))
            for d in (day(1), day(2), day(1))
        ]
        assert numbers(got) == [1, 1, 2] * 4

    def test_numbers_are_not_reused_after_cancel(self, storage: Storage) -> None:
        """A cancelled booking's number is never given again on its day."""
        a, b = (storage.reserve(reservation(slots(day(1), capacity=2))) for _ in range(2))
        storage.cancel(OFFICE, b.id, not_before=day(0))
        c = storage.reserve(reservation(slots(day(1), capacity=2)))
        storage.cancel(OFFICE, a.id, not_before=day(0))
        storage.cancel(OFFICE, c.id, not_before=day(0))
        d = storage.reserve(reservation(slots(day(1), capacity=2)))
        assert numbers([a, b, c, d]) == [1, 2, 3, 4]
        assert d.label == "A-004"

    def test_numbers_are_not_reused_after_move(self, storage: Storage) -> None:
        """A booking moved away leaves its number behind, unused."""
        storage.reserve(reservation(slots(day(1), capacity=3)))
        b = storage.reserve(reservation(slots(day(1), capacity=3)))
        moved = storage.move(OFFICE, b.id, slots(day(2)), prefix="A")
        c = storage.reserve(reservation(slots(day(1), capacity=3)))
        assert (moved.day, moved.number) == (day(2), 1)
        assert c.number == 3
        assert numbers(storage.bookings_on(OFFICE, day(1))) == [1, 3]

    # -- idempotency keys ------------------------------------------------------------------

    def test_idempotency_key_returns_the_same_booking(self, storage: Storage) -> None:
        """A second reservation with a used key returns the first booking, taking nothing."""
        first = storage.reserve(reservation(slots(day(1)), key="k-1"))
        again = storage.reserve(reservation(slots(day(2)), key="k-1"))
        assert again == first
        assert storage.find_by_key(OFFICE, "k-1") == first
        assert _counts(storage) == {day(1): 1}

    def test_idempotency_key_wins_over_full_days_and_limits(self, storage: Storage) -> None:
        """The key is checked first: a full day or a citizen at the limit still gets it back."""
        first = storage.reserve(
            reservation(slots(day(1), capacity=1), key="k-1", citizen="ref-1", per_citizen=1)
        )
        again = storage.reserve(
            reservation(slots(day(1), capacity=1), key="k-1", citizen="ref-1", per_citizen=1)
        )
        assert again == first
        assert _counts(storage) == {day(1): 1}

    def test_idempotency_key_keeps_the_request_fingerprint(self, storage: Storage) -> None:
        """The fingerprint stored with a key comes back with the key's booking, as stored."""
        first = storage.reserve(reservation(slots(day(1)), key="k-1", fingerprint="fp-first"))
        again = storage.reserve(reservation(slots(day(1)), key="k-1", fingerprint="fp-other"))
        found = storage.find_by_key(OFFICE, "k-1")
        assert found is not None
        assert again.id == first.id == found.id
        assert again.request_fingerprint == found.request_fingerprint == "fp-first"
        assert _counts(storage) == {day(1): 1}

    def test_idempotency_key_without_fingerprint_keeps_none(self, storage: Storage) -> None:
        """A key stored without a fingerprint (as 0.1 did) reads back with ``None``."""
        storage.reserve(reservation(slots(day(1)), key="k-1"))
        found = storage.find_by_key(OFFICE, "k-1")
        assert found is not None
        assert found.request_fingerprint is None

    def test_idempotency_key_is_seen_by_another_handle(
        self, storage: Storage, reopen: Callable[[], Storage]
    ) -> None:
        """A key used through one handle is answered by another."""
        first = storage.reserve(reservation(slots(day(1)), key="k-1"))
        other = reopen()
        assert other.find_by_key(OFFICE, "k-1") == first
        assert other.reserve(reservation(slots(day(2)), key="k-1")) == first
        assert _counts(other) == {day(1): 1}

    def test_idempotency_key_returns_the_current_state(self, storage: Storage) -> None:
        """After a move or a cancellation, the key returns the booking as it is now."""
        b = storage.reserve(reservation(slots(day(1)), key="k-1"))
        moved = storage.move(OFFICE, b.id, slots(day(2)), prefix="A")
        assert storage.reserve(reservation(slots(day(1)), key="k-1")) == moved
        cancelled = storage.cancel(OFFICE, b.id, not_before=day(0))
        assert storage.find_by_key(OFFICE, "k-1") == cancelled
        assert storage.reserve(reservation(slots(day(1)), key="k-1")) == cancelled
        assert _counts(storage) == {}

    def test_idempotency_keys_are_per_office(self, storage: Storage) -> None:
        """The same key in another office makes a new booking there."""
        a = storage.reserve(reservation(slots(day(1)), key="k-1"))
        b = storage.reserve(reservation(slots(day(1)), key="k-1", office=OTHER_OFFICE))
        assert a.id != b.id
        assert storage.find_by_key(OFFICE, "k-1") == a
        assert storage.find_by_key(OTHER_OFFICE, "k-1") == b
        assert storage.find_by_key(OFFICE, "k-2") is None

    # -- the citizen's limit ---------------------------------------------------------------

    def test_citizen_limit_refuses_beyond_the_limit(self, storage: Storage) -> None:
        """Beyond ``per_citizen`` active bookings: `AlreadyBooked`, and nothing written."""
        for _ in range(2):
            storage.reserve(reservation(slots(day(1), capacity=9), citizen="ref-1", per_citizen=2))
        r = reservation(slots(day(1), capacity=9), citizen="ref-1", per_citizen=2, key="k-3")
        with pytest.raises(AlreadyBooked) as refused:
            storage.reserve(r)
        assert refused.value.limit == 2
        assert refused.value.channel == "online"
        assert storage.find_by_key(OFFICE, "k-3") is None
        with pytest.raises(BookingNotFound):
            storage.get(OFFICE, r.booking_id)
        assert _counts(storage) == {day(1): 2}

    def test_citizen_limit_counts_only_active_bookings(self, storage: Storage) -> None:
        """Cancelled bookings free the citizen's limit; checked-in ones still count."""
        b = storage.reserve(reservation(slots(day(1)), citizen="ref-1", per_citizen=1))
        storage.cancel(OFFICE, b.id, not_before=day(0))
        c = storage.reserve(reservation(slots(day(0)), citizen="ref-1", per_citizen=1))
        storage.check_in(OFFICE, c.id, today=day(0))
        with pytest.raises(AlreadyBooked):
            storage.reserve(reservation(slots(day(1)), citizen="ref-1", per_citizen=1))

    def test_citizen_limit_counts_only_today_and_later(self, storage: Storage) -> None:
        """A booking on a day before ``today`` no longer counts against the limit."""
        storage.reserve(reservation(slots(day(1)), citizen="ref-1", per_citizen=1))
        with pytest.raises(AlreadyBooked):
            storage.reserve(
                reservation(slots(day(3)), citizen="ref-1", per_citizen=1, today=day(1))
            )
        later = storage.reserve(
            reservation(slots(day(3)), citizen="ref-1", per_citizen=1, today=day(2))
        )
        assert later.day == day(3)

    def test_citizen_limit_is_per_citizen_channel_and_office(self, storage: Storage) -> None:
        """The limit counts one citizen's bookings on one channel in one office."""
        storage.reserve(reservation(slots(day(1)), citizen="ref-1", per_citizen=1))
        storage.reserve(reservation(slots(day(1)), citizen="ref-2", per_citizen=1))
        storage.reserve(
            reservation(slots(day(1)), citizen="ref-1", per_citizen=1, channel="walk_in")
        )
        storage.reserve(
            reservation(slots(day(1)), citizen="ref-1", per_citizen=1, office=OTHER_OFFICE)
        )
        assert _counts(storage) == {day(1): 2}
        assert _counts(storage, "walk_in") == {day(1): 1}

    def test_citizen_limit_counts_every_ref_of_the_citizen(self, storage: Storage) -> None:
        """After a rotation, bookings under the citizen's older refs count towards the limit."""
        old = storage.reserve(reservation(slots(day(1)), citizen="ref-old", per_citizen=2))
        storage.reserve(reservation(slots(day(2)), citizen="ref-new", per_citizen=2))
        with pytest.raises(AlreadyBooked):
            storage.reserve(
                reservation(slots(day(3)), citizen="ref-new", other_refs=["ref-old"], per_citizen=2)
            )
        storage.cancel(OFFICE, old.id, not_before=day(0))
        third = storage.reserve(
            reservation(slots(day(3)), citizen="ref-new", other_refs=["ref-old"], per_citizen=2)
        )
        assert third.citizen_ref == "ref-new"
        # Without the older ref the old booking would not have counted: the limit is per ref.
        assert _counts(storage) == {day(2): 1, day(3): 1}

    def test_bookings_of_finds_a_citizens_bookings_under_every_ref(self, storage: Storage) -> None:
        """``bookings_of`` returns every status, only that citizen's, by day then number."""
        a = storage.reserve(reservation(slots(day(3), capacity=5), citizen="ref-1"))
        b = storage.reserve(reservation(slots(day(1), capacity=5), citizen="ref-old"))
        c = storage.reserve(
            reservation(slots(day(1), capacity=5), citizen="ref-1", channel="walk_in")
        )
        storage.reserve(reservation(slots(day(1), capacity=5), citizen="ref-2"))
        storage.reserve(
            reservation(slots(day(1), capacity=5), citizen="ref-1", office=OTHER_OFFICE)
        )
        storage.reserve(reservation(slots(day(1), capacity=5)))
        cancelled = storage.cancel(OFFICE, a.id, not_before=day(0))
        found = storage.bookings_of(OFFICE, ["ref-1", "ref-old"])
        assert [x.id for x in found] == [b.id, c.id, a.id]
        assert found[2] == cancelled
        assert storage.bookings_of(OFFICE, ["ref-1"], since=day(2)) == [cancelled]
        assert storage.bookings_of(OFFICE, ["nobody"]) == []
        assert storage.bookings_of(OFFICE, []) == []

    def test_claim_secret_records_checks_and_rotates(
        self, storage: Storage, reopen: Callable[[], Storage]
    ) -> None:
        """The first fingerprint is kept; an accepted one is replaced; another is refused."""
        assert storage.claim_secret(OFFICE, "fp-a", ["fp-a"]) is None
        assert reopen().claim_secret(OFFICE, "fp-a", ["fp-a"]) == "fp-a"
        assert storage.claim_secret(OFFICE, "fp-x", ["fp-x"]) == "fp-a"  # refused: unchanged
        assert storage.claim_secret(OFFICE, "fp-a", ["fp-a"]) == "fp-a"
        assert storage.claim_secret(OFFICE, "fp-b", ["fp-b", "fp-a"]) == "fp-a"  # rotated
        assert reopen().claim_secret(OFFICE, "fp-a", ["fp-a"]) == "fp-b"  # the old one: no
        assert storage.claim_secret(OTHER_OFFICE, "fp-z", ["fp-z"]) is None  # per office

    def test_threads_claiming_a_secret_agree_on_one(self, reopen: Callable[[], Storage]) -> None:
        """Schedulers starting at once with different secrets: exactly one fingerprint wins."""
        results: list[str | None] = [None] * THREADS
        handles = [reopen() for _ in range(THREADS)]

        def worker(i: int) -> None:
            results[i] = handles[i].claim_secret(OFFICE, f"fp-{i}", [f"fp-{i}"])

        _run_threads(worker)
        winners = [i for i, r in enumerate(results) if r is None]
        assert len(winners) == 1
        assert all(r == f"fp-{winners[0]}" for i, r in enumerate(results) if i != winners[0])

    def test_no_limit_without_citizen_or_per_citizen(self, storage: Storage) -> None:
        """Anonymous bookings and ``per_citizen=None`` are never refused as AlreadyBooked."""
        for _ in range(3):
            storage.reserve(reservation(slots(day(1), capacity=9), per_citizen=1))
            storage.reserve(reservation(slots(day(1), capacity=9), citizen="ref-1"))
        assert _counts(storage) == {day(1): 6}

    # -- cancel ----------------------------------------------------------------------------

    def test_cancel_frees_the_place(self, storage: Storage) -> None:
        """A cancelled booking keeps its day and number, and its place goes to the next one."""
        b = storage.reserve(reservation(slots(day(1), capacity=1)))
        c = storage.cancel(OFFICE, b.id, not_before=day(0))
        assert c == attrs.evolve(b, status=BookingStatus.CANCELLED)
        assert storage.get(OFFICE, b.id) == c
        assert _counts(storage) == {}
        assert storage.reserve(reservation(slots(day(1), capacity=1))).number == 2

    def test_cancel_allows_today_but_not_the_past(self, storage: Storage) -> None:
        """``not_before`` is inclusive: a booking for that day may go, an earlier one not."""
        b = storage.reserve(reservation(slots(day(1))))
        _invalid(lambda: storage.cancel(OFFICE, b.id, not_before=day(2)), "past_day", on=day(1))
        assert storage.get(OFFICE, b.id) == b
        assert _counts(storage) == {day(1): 1}
        assert storage.cancel(OFFICE, b.id, not_before=day(1)).status is BookingStatus.CANCELLED

    def test_cancel_refuses_bookings_that_are_not_booked(self, storage: Storage) -> None:
        """Cancelling twice, or after check-in, is `InvalidTransition` and changes nothing."""
        a = storage.reserve(reservation(slots(day(0))))
        b = storage.reserve(reservation(slots(day(0))))
        cancelled = storage.cancel(OFFICE, a.id, not_before=day(0))
        arrived = storage.check_in(OFFICE, b.id, today=day(0))
        _invalid(
            lambda: storage.cancel(OFFICE, a.id, not_before=day(0)),
            "not_booked",
            status="cancelled",
            on=day(0),
        )
        _invalid(
            lambda: storage.cancel(OFFICE, b.id, not_before=day(0)),
            "not_booked",
            status="checked_in",
            on=day(0),
        )
        assert storage.get(OFFICE, a.id) == cancelled
        assert storage.get(OFFICE, b.id) == arrived
        assert _counts(storage) == {day(0): 1}

    def test_unknown_bookings_are_not_found(self, storage: Storage) -> None:
        """get, cancel, check_in and move raise `BookingNotFound` for unknown ids."""
        b = storage.reserve(reservation(slots(day(1))))
        for office, booking_id in ((OFFICE, "0" * 16), (OTHER_OFFICE, b.id)):
            with pytest.raises(BookingNotFound):
                storage.get(office, booking_id)
            with pytest.raises(BookingNotFound):
                storage.cancel(office, booking_id, not_before=day(0))
            with pytest.raises(BookingNotFound):
                storage.check_in(office, booking_id, today=day(1))
            with pytest.raises(BookingNotFound):
                storage.move(office, booking_id, slots(day(2)), prefix="A")
        assert issubclass(BookingNotFound, LookupError)
        assert storage.get(OFFICE, b.id) == b

    # -- check-in --------------------------------------------------------------------------

    def test_check_in_only_on_the_booking_day(self, storage: Storage) -> None:
        """Check-in works on the booking's day, keeps its place, and fails on other days."""
        b = storage.reserve(reservation(slots(day(1))))
        for wrong in (day(0), day(2)):
            _invalid(
                functools.partial(storage.check_in, OFFICE, b.id, today=wrong),
                "not_today",
                on=day(1),
            )
        assert storage.get(OFFICE, b.id) == b
        arrived = storage.check_in(OFFICE, b.id, today=day(1))
        assert arrived == attrs.evolve(b, status=BookingStatus.CHECKED_IN)
        assert storage.get(OFFICE, b.id) == arrived
        assert _counts(storage) == {day(1): 1}

    def test_check_in_twice_or_after_cancel_is_invalid(self, storage: Storage) -> None:
        """A second check-in, or a check-in of a cancelled booking, is `InvalidTransition`."""
        a = storage.reserve(reservation(slots(day(1))))
        b = storage.reserve(reservation(slots(day(1))))
        storage.check_in(OFFICE, a.id, today=day(1))
        cancelled = storage.cancel(OFFICE, b.id, not_before=day(0))
        _invalid(
            lambda: storage.check_in(OFFICE, a.id, today=day(1)),
            "not_booked",
            status="checked_in",
            on=day(1),
        )
        _invalid(
            lambda: storage.check_in(OFFICE, b.id, today=day(1)),
            "not_booked",
            status="cancelled",
            on=day(1),
        )
        assert storage.get(OFFICE, a.id).status is BookingStatus.CHECKED_IN
        assert storage.get(OFFICE, b.id) == cancelled

    # -- move ------------------------------------------------------------------------------

    def test_move_keeps_identity_and_takes_a_new_number(self, storage: Storage) -> None:
        """A moved booking keeps id, ticket, citizen, key and creation time; numbers anew."""
        storage.reserve(reservation(slots(day(2))))
        b = storage.reserve(reservation(slots(day(1)), citizen="ref-1", key="k-1"))
        moved = storage.move(OFFICE, b.id, slots(day(2), capacity=5), prefix="Q")
        assert moved == attrs.evolve(b, day=day(2), number=2, label="Q-002")
        assert storage.get(OFFICE, b.id) == moved
        assert storage.find_by_key(OFFICE, "k-1") == moved
        assert _counts(storage) == {day(2): 2}
        assert storage.bookings_on(OFFICE, day(1)) == []

    def test_move_says_where_the_booking_was(self, storage: Storage) -> None:
        """A moved booking is returned with its previous day and number (not stored)."""
        storage.reserve(reservation(slots(day(1), capacity=5)))
        b = storage.reserve(reservation(slots(day(1), capacity=5)))
        moved = storage.move(OFFICE, b.id, slots(day(2), capacity=5), prefix="A")
        assert (moved.previous_day, moved.previous_number, moved.previous_label) == (
            day(1),
            2,
            "A-002",
        )
        assert storage.get(OFFICE, b.id).previous_day is None

    def test_move_never_stays_on_the_current_day(self, storage: Storage) -> None:
        """The booking's own day is skipped even when it is the first slot with room."""
        b = storage.reserve(reservation(slots(day(1), capacity=5)))
        moved = storage.move(OFFICE, b.id, slots(day(1), day(3), capacity=5), prefix="A")
        assert moved.day == day(3)
        with pytest.raises(QuotaExhausted):
            storage.move(OFFICE, b.id, slots(day(3), capacity=5), prefix="A")

    def test_move_skips_full_and_closed_days(self, storage: Storage) -> None:
        """A move takes the first slot with room that is not closed."""
        storage.reserve(reservation(slots(day(2), capacity=1)))
        close(storage, day(3), {})
        b = storage.reserve(reservation(slots(day(1))))
        moved = storage.move(OFFICE, b.id, slots(day(2), day(3), day(4), capacity=1), prefix="A")
        assert (moved.day, moved.number) == (day(4), 1)

    def test_move_without_room_changes_nothing(self, storage: Storage) -> None:
        """A move that finds no room raises `QuotaExhausted` and leaves everything as it was."""
        storage.reserve(reservation(slots(day(2), capacity=1)))
        b = storage.reserve(reservation(slots(day(1))))
        with pytest.raises(QuotaExhausted):
            storage.move(OFFICE, b.id, slots(day(2), capacity=1), prefix="A")
        with pytest.raises(QuotaExhausted):
            storage.move(OFFICE, b.id, (), prefix="A")
        assert storage.get(OFFICE, b.id) == b
        assert _counts(storage) == {day(1): 1, day(2): 1}
        assert storage.reserve(reservation(slots(day(1)))).number == 2

    def test_move_refuses_bookings_that_are_not_booked(self, storage: Storage) -> None:
        """Cancelled and checked-in bookings cannot move (`InvalidTransition`)."""
        a = storage.reserve(reservation(slots(day(1))))
        b = storage.reserve(reservation(slots(day(1))))
        storage.cancel(OFFICE, a.id, not_before=day(0))
        storage.check_in(OFFICE, b.id, today=day(1))
        for booking_id, status in ((a.id, "cancelled"), (b.id, "checked_in")):
            _invalid(
                functools.partial(storage.move, OFFICE, booking_id, slots(day(2)), prefix="A"),
                "not_booked",
                status=status,
                on=day(1),
            )
        assert _counts(storage) == {day(1): 1}

    # -- close_day -------------------------------------------------------------------------

    def test_close_day_moves_bookings_in_number_order(self, storage: Storage) -> None:
        """Closing a day records it and moves its bookings, by number, to slots with room."""
        storage.reserve(reservation(slots(day(2), capacity=2)))
        on_day = [storage.reserve(reservation(slots(day(1), capacity=4))) for _ in range(4)]
        target = slots(day(1), day(2), day(3), day(4), capacity=2)
        moved = close(storage, day(1), {"online": ("A", target)}, reason="banjir")
        assert [b.id for b in moved] == [b.id for b in on_day]
        assert [(b.day, b.number, b.label) for b in moved] == [
            (day(2), 2, "A-002"),
            (day(3), 1, "A-001"),
            (day(3), 2, "A-002"),
            (day(4), 1, "A-001"),
        ]
        assert all(b.status is BookingStatus.BOOKED for b in moved)
        assert [(b.previous_day, b.previous_number) for b in moved] == [
            (day(1), n) for n in (1, 2, 3, 4)
        ]
        assert storage.closures(OFFICE) == {day(1): "banjir"}
        assert storage.bookings_on(OFFICE, day(1)) == []
        assert _counts(storage) == {day(2): 2, day(3): 2, day(4): 1}
        for b in moved:
            assert storage.get(OFFICE, b.id) == b

    def test_close_day_moves_channels_in_the_order_given(self, storage: Storage) -> None:
        """Channels are moved in the order of ``moves``, each in number order."""
        online = [storage.reserve(reservation(slots(day(1)))) for _ in range(2)]
        walk_in = [
            storage.reserve(reservation(slots(day(1)), channel="walk_in", prefix="B"))
            for _ in range(2)
        ]
        moved = close(
            storage,
            day(1),
            {"walk_in": ("B", slots(day(2), day(3))), "online": ("A", slots(day(2), day(3)))},
        )
        assert [b.id for b in moved] == [b.id for b in walk_in + online]
        assert [(b.channel, b.day, b.label) for b in moved] == [
            ("walk_in", day(2), "B-001"),
            ("walk_in", day(2), "B-002"),
            ("online", day(2), "A-001"),
            ("online", day(2), "A-002"),
        ]

    def test_close_day_leaves_checked_in_and_cancelled_bookings(self, storage: Storage) -> None:
        """Only ``BOOKED`` bookings move; checked-in and cancelled ones stay on the day."""
        a, b, c = (storage.reserve(reservation(slots(day(0), capacity=3))) for _ in range(3))
        arrived = storage.check_in(OFFICE, a.id, today=day(0))
        cancelled = storage.cancel(OFFICE, b.id, not_before=day(0))
        moved = close(storage, day(0), {"online": ("A", slots(day(1)))})
        assert [m.id for m in moved] == [c.id]
        assert storage.get(OFFICE, a.id) == arrived
        assert storage.get(OFFICE, b.id) == cancelled
        assert storage.bookings_on(OFFICE, day(0), include_cancelled=True) == [arrived, cancelled]

    def test_close_day_is_idempotent(self, storage: Storage) -> None:
        """Closing a closed day returns ``[]``, keeps the first reason and moves nothing."""
        b = storage.reserve(reservation(slots(day(1))))
        assert len(close(storage, day(1), {"online": ("A", slots(day(2)))}, reason="first")) == 1
        storage.reserve(reservation(slots(day(1), day(3))))  # goes to day 3: day 1 is closed
        assert close(storage, day(1), {"online": ("A", slots(day(4)))}, reason="second") == []
        assert storage.closures(OFFICE) == {day(1): "first"}
        assert storage.get(OFFICE, b.id).day == day(2)
        assert _counts(storage) == {day(2): 1, day(3): 1}

    def test_close_day_that_cannot_place_everything_writes_nothing(self, storage: Storage) -> None:
        """If one booking finds no room, nothing happens: no closure, no move, no number used."""
        on_day = [storage.reserve(reservation(slots(day(1), capacity=4))) for _ in range(4)]
        walk_in = storage.reserve(reservation(slots(day(1)), channel="walk_in", prefix="B"))
        storage.reserve(reservation(slots(day(3), capacity=2)))
        with pytest.raises(QuotaExhausted):
            close(
                storage,
                day(1),
                {
                    "walk_in": ("B", slots(day(2))),
                    "online": ("A", slots(day(2), day(3), capacity=2)),
                },
            )
        assert storage.closures(OFFICE) == {}
        assert storage.bookings_on(OFFICE, day(1)) == [*on_day, walk_in]
        assert _counts(storage) == {day(1): 4, day(3): 1}
        assert _counts(storage, "walk_in") == {day(1): 1}
        assert storage.bookings_on(OFFICE, day(2), include_cancelled=True) == []
        # No number was used up on the target days by the failed attempt.
        assert storage.reserve(reservation(slots(day(2)))).number == 1
        assert storage.reserve(reservation(slots(day(3), capacity=2))).number == 2
        assert storage.reserve(reservation(slots(day(2)), channel="walk_in")).number == 1

    def test_close_empty_day_only_records_the_closure(self, storage: Storage) -> None:
        """Closing a day without bookings returns ``[]`` and records the reason."""
        assert close(storage, day(5), {"online": ("A", slots(day(6)))}, reason="libur") == []
        assert storage.closures(OFFICE) == {day(5): "libur"}
        assert storage.closures(OTHER_OFFICE) == {}

    # -- mark_no_shows -------------------------------------------------------------------

    def test_mark_no_shows_marks_only_booked_bookings_of_that_day(self, storage: Storage) -> None:
        """Only ``BOOKED`` bookings of that office and day change; by channel, then number."""
        a, b, c, d = (storage.reserve(reservation(slots(day(1), capacity=5))) for _ in range(4))
        w = storage.reserve(reservation(slots(day(1)), channel="walk_in", prefix="B"))
        arrived = storage.check_in(OFFICE, b.id, today=day(1))
        cancelled = storage.cancel(OFFICE, c.id, not_before=day(0))
        other_day = storage.reserve(reservation(slots(day(2))))
        other_office = storage.reserve(reservation(slots(day(1)), office=OTHER_OFFICE))
        marked = storage.mark_no_shows(OFFICE, day(1))
        assert [m.id for m in marked] == [a.id, d.id, w.id]
        assert marked == [attrs.evolve(x, status=BookingStatus.NO_SHOW) for x in (a, d, w)]
        for m in marked:
            assert storage.get(OFFICE, m.id) == m
        assert storage.get(OFFICE, b.id) == arrived
        assert storage.get(OFFICE, c.id) == cancelled
        assert storage.get(OFFICE, other_day.id) == other_day
        assert storage.get(OTHER_OFFICE, other_office.id) == other_office
        assert [x.status for x in storage.bookings_on(OFFICE, day(1))] == [
            BookingStatus.NO_SHOW,
            BookingStatus.CHECKED_IN,
            BookingStatus.NO_SHOW,
            BookingStatus.NO_SHOW,
        ]

    def test_mark_no_shows_frees_the_places_in_the_counters(self, storage: Storage) -> None:
        """The day's counters drop by the bookings marked; checked-in ones still count."""
        made = [storage.reserve(reservation(slots(day(1), capacity=3))) for _ in range(3)]
        storage.reserve(reservation(slots(day(1)), channel="walk_in", prefix="B"))
        storage.check_in(OFFICE, made[0].id, today=day(1))
        storage.reserve(reservation(slots(day(2))))
        storage.reserve(reservation(slots(day(1)), office=OTHER_OFFICE))
        assert _counts(storage) == {day(1): 3, day(2): 1}
        assert len(storage.mark_no_shows(OFFICE, day(1))) == 3
        assert _counts(storage) == {day(1): 1, day(2): 1}
        assert _counts(storage, "walk_in") == {}
        assert _counts(storage, office=OTHER_OFFICE) == {day(1): 1}

    def test_mark_no_shows_keeps_numbers_and_releases_places(self, storage: Storage) -> None:
        """After marking, the day has room again, but a new booking gets a new number."""
        order = slots(day(1), day(2), capacity=1)
        first = storage.reserve(reservation(order))
        assert storage.reserve(reservation(order)).day == day(2)  # day 1 is full
        storage.mark_no_shows(OFFICE, day(1))
        again = storage.reserve(reservation(order))
        assert (again.day, again.number, again.label) == (day(1), 2, "A-002")
        assert storage.get(OFFICE, first.id).status is BookingStatus.NO_SHOW

    def test_mark_no_shows_is_idempotent(self, storage: Storage) -> None:
        """A second call marks nothing and returns ``[]``; an empty day returns ``[]``."""
        b = storage.reserve(reservation(slots(day(1))))
        assert [m.id for m in storage.mark_no_shows(OFFICE, day(1))] == [b.id]
        assert storage.mark_no_shows(OFFICE, day(1)) == []
        assert storage.mark_no_shows(OFFICE, day(3)) == []
        assert storage.get(OFFICE, b.id).status is BookingStatus.NO_SHOW
        assert _counts(storage) == {}

    def test_no_shows_cannot_be_cancelled_checked_in_or_moved(self, storage: Storage) -> None:
        """A no-show is final: cancel, check-in and move are `InvalidTransition`."""
        b = storage.reserve(reservation(slots(day(1))))
        (marked,) = storage.mark_no_shows(OFFICE, day(1))
        for call in (
            lambda: storage.cancel(OFFICE, b.id, not_before=day(0)),
            lambda: storage.check_in(OFFICE, b.id, today=day(1)),
            lambda: storage.move(OFFICE, b.id, slots(day(2)), prefix="A"),
        ):
            _invalid(call, "not_booked", status="no_show", on=day(1))
        assert storage.get(OFFICE, b.id) == marked
        assert _counts(storage) == {}

    def test_no_shows_do_not_count_towards_the_citizen_limit(self, storage: Storage) -> None:
        """A citizen's no-show does not hold a place against ``per_citizen``."""
        storage.reserve(reservation(slots(day(1)), citizen="ref-1", per_citizen=1))
        with pytest.raises(AlreadyBooked):
            storage.reserve(reservation(slots(day(2)), citizen="ref-1", per_citizen=1))
        storage.mark_no_shows(OFFICE, day(1))
        again = storage.reserve(reservation(slots(day(2)), citizen="ref-1", per_citizen=1))
        assert again.day == day(2)

    # -- reads -----------------------------------------------------------------------------

    def test_booked_counts_is_half_open_and_counts_active_bookings(self, storage: Storage) -> None:
        """``booked_counts`` covers ``[start, end)`` and counts booked and checked-in only."""
        made = {
            d: [storage.reserve(reservation(slots(day(d), capacity=5))) for _ in range(d)]
            for d in (1, 2, 3, 4)
        }
        storage.cancel(OFFICE, made[3][0].id, not_before=day(0))
        storage.check_in(OFFICE, made[2][0].id, today=day(2))
        found = storage.booked_counts(OFFICE, "online", day(2), day(4))
        assert {d: n for d, n in found.items() if n} == {day(2): 2, day(3): 2}
        assert not any(storage.booked_counts(OFFICE, "online", day(4), day(4)).values())
        assert _counts(storage, "walk_in") == {}

    def test_bookings_on_orders_by_channel_then_number(self, storage: Storage) -> None:
        """A day's bookings come by channel, then number; filters by channel and status."""
        made: list[Booking] = []
        for channel in ("walk_in", "online", "walk_in", "online", "online"):
            made.append(storage.reserve(reservation(slots(day(1), capacity=5), channel=channel)))
        cancelled = storage.cancel(OFFICE, made[3].id, not_before=day(0))
        everything = storage.bookings_on(OFFICE, day(1), include_cancelled=True)
        assert [(b.channel, b.number) for b in everything] == [
            ("online", 1),
            ("online", 2),
            ("online", 3),
            ("walk_in", 1),
            ("walk_in", 2),
        ]
        assert cancelled in everything
        active = storage.bookings_on(OFFICE, day(1))
        assert cancelled not in active
        assert len(active) == 4
        assert [b.number for b in storage.bookings_on(OFFICE, day(1), "walk_in")] == [1, 2]
        assert storage.bookings_on(OFFICE, day(1), "online", include_cancelled=True) == [
            b for b in everything if b.channel == "online"
        ]
        assert storage.bookings_on(OFFICE, day(2), include_cancelled=True) == []

    # -- isolation and persistence ---------------------------------------------------------

    def test_offices_are_isolated(self, storage: Storage) -> None:
        """Two offices share nothing: counts, numbers, bookings, closures or capacity."""
        a = storage.reserve(reservation(slots(day(1), capacity=1)))
        b = storage.reserve(reservation(slots(day(1), capacity=1), office=OTHER_OFFICE))
        assert (a.number, b.number) == (1, 1)
        assert _counts(storage) == _counts(storage, office=OTHER_OFFICE) == {day(1): 1}
        close(storage, day(1), {"online": ("A", slots(day(2)))})
        assert storage.closures(OTHER_OFFICE) == {}
        assert storage.get(OTHER_OFFICE, b.id) == b
        assert storage.bookings_on(OTHER_OFFICE, day(1)) == [b]
        assert [m.id for m in storage.bookings_on(OFFICE, day(2))] == [a.id]

    def test_data_survives_reopening(self, storage: Storage, reopen: Callable[[], Storage]) -> None:
        """Bookings, statuses, keys, closures and number counters survive close and reopen."""
        a = storage.reserve(reservation(slots(day(1)), key="k-1", citizen="ref-1", per_citizen=1))
        b = storage.reserve(reservation(slots(day(1))))
        c = storage.reserve(reservation(slots(day(2))))
        storage.cancel(OFFICE, b.id, not_before=day(0))
        storage.check_in(OFFICE, c.id, today=day(2))
        close(storage, day(4), {})
        before = {x.id: storage.get(OFFICE, x.id) for x in (a, b, c)}
        storage.close()
        other = reopen()
        assert {x: other.get(OFFICE, x) for x in before} == before
        assert other.find_by_key(OFFICE, "k-1") == before[a.id]
        assert other.closures(OFFICE) == {day(4): "contract closure"}
        assert _counts(other) == {day(1): 1, day(2): 1}
        assert other.reserve(reservation(slots(day(1)))).number == 3
        with pytest.raises(AlreadyBooked):
            other.reserve(reservation(slots(day(3)), citizen="ref-1", per_citizen=1))

    def test_two_handles_share_capacity(
        self, storage: Storage, reopen: Callable[[], Storage]
    ) -> None:
        """Handles open at once see each other's writes and share a day's places."""
        other = reopen()
        got = [
            handle.reserve(reservation(slots(day(1), capacity=3)))
            for handle in (storage, other, storage)
        ]
        with pytest.raises(QuotaExhausted):
            other.reserve(reservation(slots(day(1), capacity=3)))
        assert numbers(got) == [1, 2, 3]
        assert other.get(OFFICE, got[0].id) == got[0]
        assert storage.get(OFFICE, got[1].id) == got[1]

    # -- threads ---------------------------------------------------------------------------

    def test_threads_never_overbook_a_hot_day(
        self, storage: Storage, reopen: Callable[[], Storage]
    ) -> None:
        """Many threads on two handles racing for one day: exactly capacity, unique numbers."""
        handles = [storage, reopen()]
        capacity = 13
        accepted: list[Booking] = []
        refused: list[QuotaExhausted] = []
        lock = threading.Lock()

        def worker(i: int) -> None:
            for _ in range(PER_THREAD):
                try:
                    b = handles[i % 2].reserve(reservation(slots(day(1), capacity=capacity)))
                except QuotaExhausted as exc:
                    with lock:
                        refused.append(exc)
                else:
                    with lock:
                        accepted.append(b)

        _run_threads(worker)
        assert len(accepted) == capacity
        assert len(refused) == THREADS * PER_THREAD - capacity
        assert sorted(numbers(accepted)) == list(range(1, capacity + 1))
        assert _counts(storage) == {day(1): capacity}
        assert sorted(numbers(storage.bookings_on(OFFICE, day(1)))) == list(range(1, capacity + 1))

    def test_threads_spill_over_in_slot_order(
        self, storage: Storage, reopen: Callable[[], Storage]
    ) -> None:
        """Racing threads fill the first slot exactly, then the next, never skipping one."""
        handles = [storage, reopen()]
        order = (Slot(day(1), 11), Slot(day(2), 17), Slot(day(3), 100))
        accepted: list[Booking] = []
        lock = threading.Lock()

        def worker(i: int) -> None:
            for _ in range(PER_THREAD):
                b = handles[i % 2].reserve(reservation(order))
                with lock:
                    accepted.append(b)

        _run_threads(worker)
        total = THREADS * PER_THREAD
        assert _counts(storage) == {day(1): 11, day(2): 17, day(3): total - 28}
        for d, n in ((day(1), 11), (day(2), 17), (day(3), total - 28)):
            assert sorted(b.number for b in accepted if b.day == d) == list(range(1, n + 1))

    def test_threads_with_one_idempotency_key_make_one_booking(
        self, storage: Storage, reopen: Callable[[], Storage]
    ) -> None:
        """Concurrent retries with the same key all get the same single booking."""
        handles = [storage, reopen()]
        got: list[Booking] = []
        lock = threading.Lock()

        def worker(i: int) -> None:
            b = handles[i % 2].reserve(reservation(slots(day(1), capacity=50), key="hot-key"))
            with lock:
                got.append(b)

        _run_threads(worker)
        assert len(got) == THREADS
        assert len({b.id for b in got}) == 1
        assert _counts(storage) == {day(1): 1}

    def test_threads_for_one_citizen_respect_the_limit(
        self, storage: Storage, reopen: Callable[[], Storage]
    ) -> None:
        """Concurrent requests of one citizen with ``per_citizen=1``: exactly one succeeds."""
        handles = [storage, reopen()]
        outcomes: list[Booking | AlreadyBooked] = []
        lock = threading.Lock()

        def worker(i: int) -> None:
            r = reservation(slots(day(1), capacity=50), citizen="ref-1", per_citizen=1)
            try:
                result: Booking | AlreadyBooked = handles[i % 2].reserve(r)
            except AlreadyBooked as exc:
                result = exc
            with lock:
                outcomes.append(result)

        _run_threads(worker)
        assert sum(isinstance(o, Booking) for o in outcomes) == 1
        assert sum(isinstance(o, AlreadyBooked) for o in outcomes) == THREADS - 1
        assert _counts(storage) == {day(1): 1}
