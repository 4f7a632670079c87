"""`TransactionalStorage`: every booking rule, written once, above storage primitives.

An adapter provides `queue_quota.storage.primitives.Primitives` (transactions over
counters, bookings and a little meta); this class turns them into the whole `Storage`
protocol. Each method is one transaction, so the checks and the writes can never be
interleaved with another writer's (see "The capacity model").
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

import attrs

from ..errors import (
    AlreadyBooked,
    BookingNotFound,
    InvalidTransition,
    QuotaExhausted,
    RefusalError,
    StorageError,
)
from ..models import Booking, BookingStatus, Candidate, Reservation, Slot, make_label
from ._combine import Combiner, GroupCommit
from ._expect import expect_reads
from ._lifecycle import OPENING, Lifecycle, StaleCalendar, bump_openings, check_openings
from ._log import Change, about, emit, moved
from ._log import event_time as _at
from ._retry import ATTEMPTS, retrying
from ._sanctions import Sanctions, check_suspension
from ._search import (
    CLOSURE,
    SECRET,
    as_candidates,
    book_new,
    candidates_digest,
    duplicate_id,
    find,
    release,
    take,
)
from ._waitlist import Promoter, WaitlistOps, closed_days, held_entries, promote, waiting
from .base import ChannelMove
from .primitives import CommitInDoubt, Primitives, RetryTransaction, Transaction

__all__ = ["TransactionalStorage"]

_ONE = timedelta(days=1)


def _closed(tx: Transaction) -> tuple[set[date], dict[str, str]]:
    return closed_days(tx), tx.meta("~")


def _not_booked(b: Booking, verb: str) -> InvalidTransition:
    return InvalidTransition(
        f"cannot {verb} a booking that is {b.status.value}",
        reason="not_booked",
        status=b.status.value,
        day=b.day,
    )


class TransactionalStorage(GroupCommit, WaitlistOps, Sanctions, Lifecycle):
    """A complete `Storage` over an adapter's `Primitives`.

    Args:
        primitives: The adapter (transactions over counters, bookings and meta).
        group_commit: Let the reservations of one office waiting in this process share
            one transaction, its lock hold and its flush (see "The crowd day").

    Example:
        ```python
        storage = TransactionalStorage(MyPrimitives())
        sched = Scheduler(office, storage, secret=...)
        ```
    """

    #: Takes several counters (sessions, pools), several places and office-wide limits.
    supports_counters = True

    def __init__(self, primitives: Primitives, *, group_commit: bool = False) -> None:
        self._p = primitives
        #: Reservations of one office waiting in this process share a transaction.
        self._group = bool(group_commit)
        self._combiners: dict[str, Combiner] = {}
        self._combiners_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._p!r}>"

    @property
    def primitives(self) -> Primitives:
        """The adapter underneath."""
        return self._p

    @property
    def persistent(self) -> bool:
        """Whether data outlives the process."""
        return self._p.persistent

    def migrate(self) -> None:
        """Create or upgrade the adapter's schema."""
        self._p.migrate()

    def close(self) -> None:
        """Release the adapter's connections and files."""
        self._p.close()

    # -- reads ---------------------------------------------------------------------------

    @retrying
    def find_by_key(self, office_id: str, idempotency_key: str) -> Booking | None:
        with self._p.transaction(office_id, write=False) as tx:
            found = tx.bookings(key=idempotency_key)
        return found[0] if found else None

    @retrying
    def get(self, office_id: str, booking_id: str) -> Booking:
        with self._p.transaction(office_id, write=False) as tx:
            return self._get(tx, office_id, booking_id)

    @retrying
    def closures(self, office_id: str) -> dict[date, str]:
        with self._p.transaction(office_id, write=False) as tx:
            found = tx.meta(CLOSURE)
        return {date.fromisoformat(k[len(CLOSURE) :]): v for k, v in found.items()}

    def booked_counts(
        self, office_id: str, channel: str, start: date, end: date
    ) -> dict[date, int]:
        return self.counter_use(office_id, f"c:{channel}", start, end)

    @retrying
    def counter_use(self, office_id: str, scope: str, start: date, end: date) -> dict[date, int]:
        """Places used per day in ``[start, end)`` of any counter (``"p:loket"``, ...)."""
        with self._p.transaction(office_id, write=False) as tx:
            rows = tx.counters([scope], start, end)
        return {d: row.used for (_, d), row in rows.items() if row.used}

    @retrying
    def bookings_on(
        self,
        office_id: str,
        day: date,
        channel: str | None = None,
        *,
        include_cancelled: bool = False,
    ) -> list[Booking]:
        with self._p.transaction(office_id, write=False) as tx:
            found = tx.bookings(day=day)
        found = [
            b
            for b in found
            if (channel is None or b.channel == channel)
            and (include_cancelled or b.status is not BookingStatus.CANCELLED)
        ]
        found.sort(key=lambda b: (b.channel, b.number))
        return found

    @retrying
    def bookings_of(
        self, office_id: str, citizen_refs: Sequence[str], *, since: date | None = None
    ) -> list[Booking]:
        if not citizen_refs:
            return []
        with self._p.transaction(office_id, write=False) as tx:
            found = tx.bookings(refs=list(dict.fromkeys(citizen_refs)), since=since)
        found.sort(key=lambda b: (b.day, b.channel, b.number))
        return found

    # -- writes --------------------------------------------------------------------------

    @retrying
    def claim_secret(self, office_id: str, fingerprint: str, accepted: Sequence[str]) -> str | None:
        with self._p.transaction(office_id, write=True) as tx:
            stored = tx.meta(SECRET).get(SECRET)
            if (stored is None or stored in accepted) and stored != fingerprint:
                tx.put_meta({SECRET: fingerprint})
            return stored

    def _reserve_alone(self, reservation: Reservation) -> Booking:
        for attempt in range(ATTEMPTS):
            try:
                return self._reserve(reservation)
            except RetryTransaction as exc:
                if attempt == ATTEMPTS - 1:
                    raise StorageError(f"the storage kept failing: {exc}") from exc
            except CommitInDoubt:
                # Did the booking commit? Its id says so, in a new transaction.
                found = self._find_id(reservation.office_id, reservation.booking_id)
                if found is not None:
                    return found
        raise StorageError("the storage kept failing")

    @retrying
    def _find_id(self, office_id: str, booking_id: str) -> Booking | None:
        # A write transaction that writes nothing: it waits for the office's writers, so a
        # commit still landing on the server is seen rather than missed (and the booking
        # then retried as a duplicate); its own commit being in doubt changes nothing.
        found: list[Booking] = []
        try:
            with self._p.transaction(office_id, write=True) as tx:
                found = tx.bookings(booking_id=booking_id)
        except CommitInDoubt:
            pass
        return found[0] if found else None

    def _reserve(self, reservation: Reservation) -> Booking:
        with self._p.transaction(reservation.office_id, write=True) as tx:
            outcome = self._reserve_in(tx, reservation)
        if isinstance(outcome, Booking):
            return outcome
        raise outcome  # a refusal, after the commit (the skip pointer may have advanced)

    def _reserve_in(self, tx: Transaction, r: Reservation) -> Booking | Exception:
        """One reservation inside ``tx``: the booking, or the refusal to raise once ``tx``
        has committed (a refusal writes nothing but a skip pointer or a ``turned_away``
        event). Raises only when ``tx`` must be rolled back."""
        candidates = r.all_candidates()
        digest = r.candidates_key or candidates_digest(candidates)
        expect_reads(tx, (r,), candidates, digest)  # for an adapter that reads ahead
        if r.idempotency_key is not None:
            existing = tx.bookings(key=r.idempotency_key)
            if existing:
                return existing[0]
        closed, meta = _closed(tx)
        try:
            check_openings(meta, r.calendar_version)
            self._check_limits(tx, r, meta)
        except (RefusalError, StaleCalendar) as refused:
            return refused
        found = find(tx, r.channel, candidates, r.places, meta=meta, closed=closed, digest=digest)
        if found is not None:
            booking = book_new(tx, r, *found)
            emit(tx, meta, [about("booked", booking)], r.created_at)
            return booking
        if tx.bookings(booking_id=r.booking_id):
            return duplicate_id()
        if r.log_refusal and any(c.day not in closed for c in candidates):
            # Full (not closed): turned away, counted by `Scheduler.report`.
            data = {"channel": r.channel, "places": r.places}
            emit(tx, meta, [("turned_away", None, r.today, data)], r.created_at)
        return QuotaExhausted(channel=r.channel)

    @retrying
    def cancel(
        self,
        office_id: str,
        booking_id: str,
        *,
        not_before: date,
        now: datetime | None = None,
        promoter: Promoter | None = None,
    ) -> Booking:
        with self._p.transaction(office_id, write=True) as tx:
            b = self._get(tx, office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise _not_booked(b, "cancel")
            if b.day < not_before:
                raise InvalidTransition(
                    f"cannot cancel a booking for a past day ({b.day})",
                    reason="past_day",
                    day=b.day,
                )
            meta = tx.meta("~")
            release(tx, b, meta)
            new = attrs.evolve(b, status=BookingStatus.CANCELLED)
            tx.put_booking(new, new=False)
            at = _at(now)
            _, promoted = promote(tx, office_id, meta, None, promoter, at, (b.day,))
            emit(tx, meta, [about("cancelled", new), *promoted], at)
            return new

    @retrying
    def check_in(
        self, office_id: str, booking_id: str, *, today: date, now: datetime | None = None
    ) -> Booking:
        with self._p.transaction(office_id, write=True) as tx:
            b = self._get(tx, office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise _not_booked(b, "check in")
            if b.day != today:
                raise InvalidTransition(
                    f"the booking is for {b.day}, not today ({today})",
                    reason="not_today",
                    day=b.day,
                )
            new = attrs.evolve(b, status=BookingStatus.CHECKED_IN)
            tx.put_booking(new, new=False)
            emit(tx, tx.meta("~"), [about("checked_in", new)], _at(now))
            return new

    @retrying
    def move(
        self,
        office_id: str,
        booking_id: str,
        slots: Sequence[Slot | Candidate],
        *,
        prefix: str,
        now: datetime | None = None,
        promoter: Promoter | None = None,
    ) -> Booking:
        with self._p.transaction(office_id, write=True) as tx:
            b = self._get(tx, office_id, booking_id)
            if b.status is not BookingStatus.BOOKED:
                raise _not_booked(b, "move")
            closed, meta = _closed(tx)
            new = self._move(tx, b, as_candidates(b.channel, slots), prefix, closed, meta)
            at = _at(now)
            _, promoted = promote(tx, office_id, meta, closed, promoter, at, (b.day,))
            emit(tx, meta, [moved(new, b), *promoted], at)
            return new

    class _DryRun(Exception):
        """Raised at the end of a dry run's transaction, so that the adapter rolls it back
        (as after any failure: nothing it wrote remains); carries the result."""

        def __init__(self, result: list[Booking]) -> None:
            super().__init__("dry run")
            self.result = result

    @retrying
    def close_day(
        self,
        office_id: str,
        day: date,
        reason: str,
        moves: Mapping[str, ChannelMove],
        *,
        now: datetime,
        promoter: Promoter | None = None,
        dry_run: bool = False,
    ) -> list[Booking]:
        """Close ``day`` and move its bookings (see `Storage.close_day`).

        With ``dry_run``, the same transaction runs to its end and is then rolled back:
        the result is exactly what closing would return, and nothing is written (no
        closure, no counter, no event, no ``seq`` used).
        """
        try:
            with self._p.transaction(office_id, write=True) as tx:
                closed, meta = _closed(tx)
                if day in closed:
                    return []
                tx.put_meta({f"{CLOSURE}{day.isoformat()}": reason})
                opened = f"{OPENING}{day.isoformat()}"
                if opened in tx.meta(OPENING):  # closing a day opened at run time undoes it
                    tx.put_meta({opened: None})
                    bump_openings(tx, meta)
                closed.add(day)
                on_day = [b for b in tx.bookings(day=day) if b.status is BookingStatus.BOOKED]
                done: list[Booking] = []
                changes: list[Change] = []
                for channel, how in moves.items():
                    these = sorted(
                        (b for b in on_day if b.channel == channel), key=lambda b: b.number
                    )
                    candidates = as_candidates(channel, how.slots)
                    for b in these:
                        new = self._move(tx, b, candidates, how.prefix, closed, meta)
                        done.append(new)
                        changes.append(moved(new, b))
                closing = ("day_closed", None, day, {"reason": reason, "moved": len(done)})
                at = _at(now)
                _, promoted = promote(tx, office_id, meta, closed, promoter, at)
                emit(tx, meta, [closing, *changes, *promoted], at)
                if dry_run:  # inside the transaction: the adapter rolls it all back
                    raise self._DryRun(done)
                return done
        except self._DryRun as rolled_back:
            return rolled_back.result

    @retrying
    def mark_no_shows(
        self, office_id: str, day: date, *, now: datetime | None = None
    ) -> list[Booking]:
        with self._p.transaction(office_id, write=True) as tx:
            waiting = sorted(
                (b for b in tx.bookings(day=day) if b.status is BookingStatus.BOOKED),
                key=lambda b: (b.channel, b.number),
            )
            meta = tx.meta("~") if waiting else {}
            marked: list[Booking] = []
            for b in waiting:
                release(tx, b, meta)
                new = attrs.evolve(b, status=BookingStatus.NO_SHOW)
                tx.put_booking(new, new=False)
                marked.append(new)
            emit(tx, meta, [about("no_show", b) for b in marked], _at(now))
            return marked

    # -- rules ---------------------------------------------------------------------------

    @staticmethod
    def _get(tx: Transaction, office_id: str, booking_id: str) -> Booking:
        found = tx.bookings(booking_id=booking_id)
        if not found:
            raise BookingNotFound(f"no such booking in office {office_id!r}")
        return found[0]

    @staticmethod
    def _check_limits(tx: Transaction, r: Reservation, meta: dict[str, str]) -> None:
        refs = r.citizen_refs
        if r.no_show_limit is not None and refs:
            check_suspension(tx, r)  # before the limits: a suspended citizen is told so
        if not refs or (r.per_citizen is None and r.office_per_citizen is None):
            return
        held = [b.channel for b in tx.bookings(refs=list(refs), since=r.today) if b.is_active]
        if waiting(meta):  # an entry on a waitlist holds a place too
            held += held_entries(tx, refs, r.today)
        if r.per_citizen is not None:
            on_channel = held.count(r.channel)
            if on_channel >= r.per_citizen:
                raise AlreadyBooked(channel=r.channel, limit=r.per_citizen)
        if r.office_per_citizen is not None and len(held) >= r.office_per_citizen:
            raise AlreadyBooked(channel=None, limit=r.office_per_citizen)

    @staticmethod
    def _move(
        tx: Transaction,
        b: Booking,
        candidates: Sequence[Candidate],
        prefix: str,
        closed: set[date],
        meta: dict[str, str],
    ) -> Booking:
        found = find(
            tx,
            b.channel,
            candidates,
            b.places,
            meta=meta,
            closed=closed,
            digest=None,
            exclude=b.day,
        )
        if found is None:
            raise QuotaExhausted(channel=b.channel)
        cand, rows = found
        number, charges = take(tx, b.channel, cand, rows, b.places)
        release(tx, b, meta)
        new = attrs.evolve(
            b,
            day=cand.day,
            number=number,
            label=make_label(prefix, number),
            window=cand.window,
            charges=charges,
        )
        tx.put_booking(new, new=False)
        return attrs.evolve(new, previous_day=b.day, previous_number=b.number)
