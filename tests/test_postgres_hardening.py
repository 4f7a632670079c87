"""`PostgresStorage` hardening (issue 8): fingerprints, rotated refs, bookings_of, the secret's
fingerprint, moves that say where they came from, structured refusals, prepare=False and a
bounded reservation under endless cancellations."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from _postgres_server import drop_schema, unique_schema
from queue_quota.errors import AlreadyBooked, InvalidTransition, QuotaExhausted
from queue_quota.models import Booking, BookingStatus, Reservation, Slot
from queue_quota.storage.base import ChannelMove

psycopg = pytest.importorskip("psycopg")
psycopg_pool = pytest.importorskip("psycopg_pool")
from psycopg import sql  # noqa: E402

from queue_quota.storage._pg_tx import BARRIER  # noqa: E402
from queue_quota.storage.postgres import PostgresStorage  # noqa: E402

pytestmark = pytest.mark.postgres

OFFICE = "tegal-disdukcapil"
TODAY = date(2020, 6, 4)
FRI, MON, TUE, WED = date(2020, 6, 5), date(2020, 6, 8), date(2020, 6, 9), date(2020, 6, 10)
NOW = datetime(2020, 6, 4, 2, 0, tzinfo=UTC)


def reservation(
    slots: Sequence[Slot],
    *,
    citizen: str | None = None,
    others: tuple[str, ...] = (),
    key: str | None = None,
    fingerprint: str | None = None,
    per_citizen: int | None = 1,
    channel: str = "online",
    booking_id: str | None = None,
) -> Reservation:
    """A reservation as the Scheduler builds it."""
    bid = booking_id or uuid.uuid4().hex[:16].upper()
    return Reservation(
        office_id=OFFICE,
        channel=channel,
        slots=slots,
        booking_id=bid,
        ticket=f"ticket-{bid}",
        prefix="A" if channel == "online" else "B",
        citizen_ref=citizen,
        per_citizen=per_citizen,
        today=TODAY,
        created_at=NOW,
        idempotency_key=key,
        fingerprint=fingerprint,
        other_refs=others,
    )


def in_threads(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run ``fn(i)`` in ``n`` threads released together; results (or exceptions) in order."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fn(i)
        except Exception as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.fixture
def schema(postgres_conninfo: str) -> Iterator[str]:
    """A fresh schema name, dropped after the test."""
    name = unique_schema()
    yield name
    drop_schema(postgres_conninfo, name)


# -- (a) the request's fingerprint is kept with the idempotency key ---------------------------


def test_fingerprint_comes_back_with_the_key(pg_storage: PostgresStorage) -> None:
    """Stored with the booking; returned by find_by_key and by a reserve with the used key."""
    b = pg_storage.reserve(reservation([Slot(FRI, 5)], citizen="c1", key="k1", fingerprint="fp1"))
    assert b.request_fingerprint == "fp1"
    found = pg_storage.find_by_key(OFFICE, "k1")
    assert found is not None
    assert found.request_fingerprint == "fp1"
    # A retry with another fingerprint gets the first one back: the storage does not compare.
    again = pg_storage.reserve(
        reservation([Slot(FRI, 5)], citizen="c2", key="k1", fingerprint="other")
    )
    assert (again.id, again.request_fingerprint) == (b.id, "fp1")
    assert pg_storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}
    plain = pg_storage.reserve(reservation([Slot(FRI, 5)], citizen="c3"))
    assert plain.request_fingerprint is None


# -- (b) the citizen's limit counts every ref of the citizen -----------------------------------


def test_limit_counts_bookings_under_older_refs(pg_storage: PostgresStorage) -> None:
    """A booking stored under an older secret's ref counts; the new one is stored as the new ref."""
    old = pg_storage.reserve(reservation([Slot(FRI, 5)], citizen="ref-old", per_citizen=2))
    new = pg_storage.reserve(
        reservation([Slot(FRI, 5)], citizen="ref-new", others=("ref-old",), per_citizen=2)
    )
    assert (old.citizen_ref, new.citizen_ref) == ("ref-old", "ref-new")
    with pytest.raises(AlreadyBooked):
        pg_storage.reserve(
            reservation([Slot(MON, 5)], citizen="ref-new", others=("ref-old",), per_citizen=2)
        )
    # Without the older ref the storage cannot know: only the new ref's booking counts.
    pg_storage.reserve(reservation([Slot(MON, 5)], citizen="ref-new", per_citizen=2))
    pg_storage.cancel(OFFICE, old.id, not_before=TODAY)
    with pytest.raises(AlreadyBooked):
        pg_storage.reserve(
            reservation([Slot(TUE, 5)], citizen="ref-new", others=("ref-old",), per_citizen=2)
        )


def test_rotated_refs_racing_get_one_place(pg_storage: PostgresStorage) -> None:
    """Eight requests of one citizen under three secrets (each request's current one differs,
    the older ones in another order): one booking, and no deadlock."""
    refs = [
        ("ref-a", ("ref-b", "ref-c")),
        ("ref-b", ("ref-c", "ref-a")),
        ("ref-c", ("ref-b", "ref-a")),
    ]

    def book(i: int) -> Booking:
        current, others = refs[i % len(refs)]
        day = FRI + timedelta(days=i)
        return pg_storage.reserve(reservation([Slot(day, 5)], citizen=current, others=others))

    for _ in range(3):
        results = in_threads(8, book)
        booked = [r for r in results if isinstance(r, Booking)]
        assert len(booked) <= 1, results
        assert all(isinstance(r, Booking | AlreadyBooked) for r in results), results
    counts = pg_storage.booked_counts(OFFICE, "online", FRI, FRI + timedelta(days=9))
    assert sum(counts.values()) == 1
    assert pg_storage.retries == 0  # no deadlock was detected (and retried)


# -- (c) bookings_of ---------------------------------------------------------------------------


def test_bookings_of_every_status_in_order(pg_storage: PostgresStorage) -> None:
    """All the citizen's bookings under any of the refs, any status, by day, channel, number."""
    a = pg_storage.reserve(reservation([Slot(MON, 9)], citizen="r1", per_citizen=None))
    w = pg_storage.reserve(reservation([Slot(FRI, 9)], citizen="r2", channel="walk_in"))
    o = pg_storage.reserve(reservation([Slot(FRI, 9)], citizen="r1", per_citizen=None))
    pg_storage.reserve(reservation([Slot(FRI, 9)], citizen="someone-else"))
    pg_storage.reserve(reservation([Slot(FRI, 9)], channel="walk_in"))  # anonymous
    c = pg_storage.cancel(OFFICE, a.id, not_before=TODAY)
    got = pg_storage.bookings_of(OFFICE, ["r1", "r2"])
    assert [(b.id, b.day, b.channel) for b in got] == [
        (o.id, FRI, "online"),
        (w.id, FRI, "walk_in"),
        (a.id, MON, "online"),
    ]
    assert got[2].status is BookingStatus.CANCELLED
    assert got[2] == c
    assert [b.id for b in pg_storage.bookings_of(OFFICE, ["r1", "r2"], since=MON)] == [a.id]
    assert pg_storage.bookings_of(OFFICE, ["r2"], since=TUE) == []
    assert pg_storage.bookings_of(OFFICE, []) == []
    assert pg_storage.bookings_of("other-office", ["r1"]) == []


def test_bookings_of_uses_the_index(pg_storage: PostgresStorage, postgres_conninfo: str) -> None:
    """Among 20,000 other citizens' bookings, the lookup is a scan of the index on
    (office_id, citizen_ref, day), not of the table or of a day's bookings."""
    pg_storage.migrate()
    s = sql.Identifier(pg_storage.schema)
    fill = sql.SQL(
        "INSERT INTO {}.qq_booking (id, office_id, channel, day, number, label, status,"
        " citizen_ref, created_at, ticket)"
        " SELECT 'ID' || i, %s, 'online', DATE '2020-06-05' + i / 20, i %% 20 + 1, 'A', 'booked',"
        " 'ref-' || i, now(), 't' FROM generate_series(1, 20000) AS i"
    ).format(s)
    queries = pg_storage.primitives.queries  # type: ignore[attr-defined]
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(fill, (OFFICE,))
        conn.execute(sql.SQL("ANALYZE {}.qq_booking").format(s))
        for name, params in (
            ("BY_REFS", (OFFICE, ["ref-7"])),
            ("BY_REFS_SINCE", (OFFICE, ["ref-7"], MON)),
        ):
            for generic in ("auto", "force_generic_plan"):  # also as a prepared statement
                conn.execute(f"SET plan_cache_mode = {generic}")
                explain = b"EXPLAIN " + queries[name]
                plan = "\n".join(r[0] for r in conn.execute(explain, params))
                assert "qq_booking_refs" in plan, plan
    assert [b.id for b in pg_storage.bookings_of(OFFICE, ["ref-7", "ref-8"])] == ["ID7", "ID8"]


# -- (d) claim_secret --------------------------------------------------------------------------


def test_claim_secret_rules(pg_storage: PostgresStorage) -> None:
    """Nothing stored: store, None. Stored and accepted: replace, old. Otherwise: leave, stored."""
    assert pg_storage.claim_secret(OFFICE, "fp-1", ["fp-1"]) is None
    assert pg_storage.claim_secret(OFFICE, "fp-1", ["fp-1"]) == "fp-1"
    assert pg_storage.claim_secret(OFFICE, "fp-2", ["fp-2", "fp-1"]) == "fp-1"  # rotation
    assert pg_storage.claim_secret(OFFICE, "fp-2", ["fp-2"]) == "fp-2"
    assert pg_storage.claim_secret(OFFICE, "fp-3", ["fp-3", "fp-1"]) == "fp-2"  # mismatch
    assert pg_storage.claim_secret(OFFICE, "fp-2", ["fp-2"]) == "fp-2"  # nothing was written
    assert pg_storage.claim_secret("other-office", "fp-9", ["fp-9"]) is None


def test_claim_secret_racing_first_claims(pg_storage: PostgresStorage) -> None:
    """Eight processes claiming a fresh office at once: one stores, all see that one."""
    pg_storage.migrate()
    results = in_threads(8, lambda i: pg_storage.claim_secret(OFFICE, f"fp-{i}", [f"fp-{i}"]))
    assert results.count(None) == 1, results
    winner = f"fp-{results.index(None)}"
    assert all(r == winner for r in results if r is not None), results


# -- (e) moves say where they came from ---------------------------------------------------------


def test_move_and_close_day_return_previous_day_and_number(pg_storage: PostgresStorage) -> None:
    """The returned bookings carry previous_day/number; what is read back later does not."""
    a = pg_storage.reserve(reservation([Slot(FRI, 9)]))
    b = pg_storage.reserve(reservation([Slot(FRI, 9)]))
    moved = pg_storage.move(OFFICE, a.id, [Slot(MON, 9)], prefix="A")
    assert (moved.day, moved.number, moved.previous_day, moved.previous_number) == (
        MON,
        1,
        FRI,
        1,
    )
    assert moved.previous_label == "A-001"
    out = pg_storage.close_day(
        OFFICE, FRI, "flood", {"online": ChannelMove("A", (Slot(TUE, 9),))}, now=NOW
    )
    assert [(x.id, x.day, x.number, x.previous_day, x.previous_number) for x in out] == [
        (b.id, TUE, 1, FRI, 2)
    ]
    again = pg_storage.get(OFFICE, b.id)
    assert (again.previous_day, again.previous_number) == (None, None)
    assert again == out[0]  # previous_* are not part of equality


# -- (f) duplicate booking ids -----------------------------------------------------------------


def test_duplicate_id_on_a_full_day_is_still_duplicate_id(pg_storage: PostgresStorage) -> None:
    """The id is checked before the slots: a full day does not hide it; nothing is written."""
    first = pg_storage.reserve(reservation([Slot(FRI, 1)], booking_id="SAMEID0000000001"))
    with pytest.raises(InvalidTransition) as err:
        pg_storage.reserve(reservation([Slot(FRI, 1)], booking_id="SAMEID0000000001"))
    assert err.value.reason == "duplicate_id"
    assert pg_storage.get(OFFICE, first.id) == first
    assert pg_storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}


def test_duplicate_ids_racing(pg_storage: PostgresStorage) -> None:
    """Eight reservations with one id at once: one booking, seven duplicate_id, one place."""
    pg_storage.migrate()
    results = in_threads(
        8,
        lambda i: pg_storage.reserve(
            reservation([Slot(FRI, 50)], booking_id="RACEID0000000001", per_citizen=None)
        ),
    )
    assert sum(isinstance(r, Booking) for r in results) == 1, results
    refused = [r for r in results if not isinstance(r, Booking)]
    assert all(isinstance(r, InvalidTransition) and r.reason == "duplicate_id" for r in refused)
    assert pg_storage.booked_counts(OFFICE, "online", FRI, MON) == {FRI: 1}


# -- structured refusals --------------------------------------------------------------------------


def test_transitions_carry_reason_status_and_day(pg_storage: PostgresStorage) -> None:
    """As on the other storages: not_booked (status, day), past_day (day), not_today (day)."""
    b = pg_storage.reserve(reservation([Slot(FRI, 5)]))
    with pytest.raises(InvalidTransition) as not_today:
        pg_storage.check_in(OFFICE, b.id, today=TODAY)
    assert (not_today.value.reason, not_today.value.status, not_today.value.day) == (
        "not_today",
        None,
        FRI,
    )
    with pytest.raises(InvalidTransition) as past:
        pg_storage.cancel(OFFICE, b.id, not_before=MON)
    assert (past.value.reason, past.value.status, past.value.day) == ("past_day", None, FRI)
    pg_storage.check_in(OFFICE, b.id, today=FRI)
    acts: list[Callable[[], Booking]] = [
        lambda: pg_storage.cancel(OFFICE, b.id, not_before=TODAY),
        lambda: pg_storage.check_in(OFFICE, b.id, today=FRI),
        lambda: pg_storage.move(OFFICE, b.id, [Slot(MON, 5)], prefix="A"),
    ]
    for act in acts:
        with pytest.raises(InvalidTransition) as err:
            act()
        assert (err.value.reason, err.value.status, err.value.day) == (
            "not_booked",
            "checked_in",
            FRI,
        )


# -- prepare=False prepares nothing (pgbouncer in transaction mode) -------------------------------


def _exercise(storage: PostgresStorage) -> None:
    """Every kind of statement, more often than psycopg's automatic-prepare threshold (5)."""
    for i in range(7):
        b = storage.reserve(
            reservation([Slot(FRI, 50), Slot(MON, 50)], citizen=f"c{i}", key=f"k{i}")
        )
        storage.find_by_key(OFFICE, f"k{i}")
        storage.get(OFFICE, b.id)
        storage.bookings_on(OFFICE, FRI)
        storage.bookings_of(OFFICE, [f"c{i}"])
        storage.booked_counts(OFFICE, "online", FRI, TUE)
        storage.closures(OFFICE)
        storage.claim_secret(OFFICE, "fp", ["fp"])
        storage.move(OFFICE, b.id, [Slot(MON, 50), Slot(TUE, 50)], prefix="A")
        c = storage.reserve(reservation([Slot(WED, 50)], per_citizen=None))
        storage.cancel(OFFICE, c.id, not_before=TODAY)
        d = storage.reserve(reservation([Slot(TODAY, 50)], per_citizen=None))
        storage.check_in(OFFICE, d.id, today=TODAY)
        storage.mark_no_shows(OFFICE, TODAY)
        with pytest.raises(QuotaExhausted):
            storage.reserve(reservation([Slot(FRI, 0)], per_citizen=None))
    storage.close_day(OFFICE, TUE, "flood", {"online": ChannelMove("A", (Slot(WED, 50),))}, now=NOW)


def _prepared(conn: Any) -> int:
    row = conn.execute("SELECT count(*) FROM pg_prepared_statements", prepare=False).fetchone()
    return int(row[0])


@pytest.mark.parametrize("prepare", [False, True])
def test_prepare_flag_with_a_pool_of_ones_own(
    prepare: bool, postgres_conninfo: str, schema: str
) -> None:
    """On one shared connection: no server-side prepared statement with prepare=False (the
    default psycopg connection would auto-prepare after 5 runs); some with prepare=True."""
    with psycopg_pool.ConnectionPool(
        postgres_conninfo, min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        storage = PostgresStorage(pool, schema=schema, prepare=prepare)
        _exercise(storage)
        with pool.connection() as conn:
            assert conn.prepare_threshold == 5  # the pool's own setting, left alone
            assert (_prepared(conn) > 0) is prepare


def test_prepare_false_with_an_owned_pool(postgres_conninfo: str, schema: str) -> None:
    """The storage's own connections never prepare either, and say so (prepare_threshold)."""
    storage = PostgresStorage(
        postgres_conninfo, schema=schema, min_size=1, max_size=1, prepare=False
    )
    try:
        _exercise(storage)
        pool = storage._pool
        assert pool is not None
        with pool.connection() as conn:
            assert conn.prepare_threshold is None
            assert _prepared(conn) == 0
    finally:
        storage.close()


# -- the reservation loop is bounded ----------------------------------------------------------


def test_reserve_is_bounded_under_endless_cancellations(
    pg_storage: PostgresStorage, postgres_conninfo: str
) -> None:
    """Before every reservation another process cancels and rebooks a place (the epoch
    moves, the days stay full): each reservation is one write transaction of a bounded
    number of statements (chunks of 16 candidates), and finds the one free day."""
    n = 40
    slots = [Slot(FRI + timedelta(days=i), 1) for i in range(n)]
    other = PostgresStorage(postgres_conninfo, schema=pg_storage.schema)
    try:
        full = [other.reserve(reservation([s], per_citizen=None)) for s in slots[: n - 1]]
        prims = pg_storage.primitives
        real = prims.transaction
        seen: list[tuple[bool, int]] = []
        trips: list[int] = []

        @contextlib.contextmanager
        def counting(office_id: str, *, write: bool) -> Iterator[Any]:
            with real(office_id, write=write) as tx:
                yield tx
            seen.append((write, getattr(tx, "statements")))  # noqa: B009
            trips.append(getattr(tx, "round_trips"))  # noqa: B009

        prims.transaction = counting  # type: ignore[method-assign]
        for _ in range(3):  # the second and third use the skip pointer of the first
            victim = full.pop(0)
            other.cancel(OFFICE, victim.id, not_before=TODAY)
            full.append(other.reserve(reservation([Slot(victim.day, 1)], per_citizen=None)))
            got = pg_storage.reserve(reservation(slots, per_citizen=None))
            assert got.day == slots[-1].day
            pg_storage.cancel(OFFICE, got.id, not_before=TODAY)
        writes = [count for write, count in seen if write]
        assert len(writes) == 6, seen  # 3 reservations, 3 cancellations, nothing run again
        # BEGIN, the lock, the meta, the id and a first chunk read ahead, 3 chunks of
        # counters, the pointer, counters, booking, its event and the log's seq; with early
        # release its SET LOCAL and the barrier's statements, sent in round trips that are
        # there anyway.
        early = (1 + len(BARRIER)) if getattr(pg_storage.primitives, "early_release", 0) else 0
        assert max(writes) <= 3 + 2 + (n // 16 + 1) + 5 + early, writes
        # The reads ahead, a round trip per chunk at most, the writes with the COMMIT.
        assert max(trips) <= 1 + (n // 16 + 1) + 1, trips
        assert pg_storage.booked_counts(OFFICE, "online", FRI, FRI + timedelta(days=n)) == {
            s.day: 1 for s in slots[: n - 1]
        }
    finally:
        other.close()


def test_writes_sent_with_the_commit_fail_the_whole_transaction(
    pg_storage: PostgresStorage,
) -> None:
    """Result-less writes travel with the next statement or the COMMIT (one round trip):
    one that the server refuses (a counter below 0) still fails its transaction, nothing
    of it is kept, and the connection serves the next transaction."""
    from queue_quota.errors import StorageError
    from queue_quota.storage.primitives import CounterRow

    prims = pg_storage.primitives
    booked = pg_storage.reserve(reservation([Slot(FRI, 5)], per_citizen=None))

    def refused_write(flush_with_a_read: bool) -> None:
        with prims.transaction(OFFICE, write=True) as tx:
            tx.counters(["c:online"], FRI, MON)
            tx.put_meta({"~probe": "kept?"})
            tx.put_counters({("c:online", FRI): CounterRow(used=-1, last=9)})
            if flush_with_a_read:
                tx.counters(["c:online"], FRI, MON)

    for flush_with_a_read in (False, True):
        with pytest.raises(StorageError):
            refused_write(flush_with_a_read)
        with prims.transaction(OFFICE, write=False) as tx:
            assert tx.counters(["c:online"], FRI, MON) == {("c:online", FRI): CounterRow(1, 1)}
            assert "~probe" not in tx.meta("~")
    assert pg_storage.get(OFFICE, booked.id) == booked
