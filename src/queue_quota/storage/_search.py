"""The search over candidates and the take of several counters, inside one transaction.

Written once for every storage built on primitives (see "The capacity model").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta

import attrs

from ..errors import InvalidTransition, StorageError
from ..models import (
    Booking,
    BookingStatus,
    Candidate,
    Reservation,
    Slot,
    channel_scope,
    make_label,
)
from .primitives import CounterRow, Transaction

__all__ = [
    "CHUNK",
    "CLOSURE",
    "EPOCH",
    "SECRET",
    "as_candidates",
    "book_new",
    "bump_epoch",
    "candidates_digest",
    "charges_of",
    "duplicate_id",
    "find",
    "first_read",
    "release",
    "take",
]

#: Candidates whose counters are read in one `Transaction.counters` call.
CHUNK = 16
#: Meta names: the office's release epoch, and a channel's skip pointer.
EPOCH = "~epoch"
_HINT = "~hint:"
CLOSURE = "closure:"
#: Meta name of the office secret's fingerprint.
SECRET = "~secret"
_ONE = timedelta(days=1)


def as_candidates(channel: str, items: Sequence[Slot | Candidate]) -> Sequence[Candidate]:
    """Candidates as given, with 0.1 `Slot`s turned into the channel's own counter."""
    if all(isinstance(c, Candidate) for c in items):
        return items  # type: ignore[return-value]
    return tuple(c if isinstance(c, Candidate) else Candidate.of_slot(channel, c) for c in items)


def candidates_digest(candidates: Sequence[Candidate]) -> str:
    """What identifies a candidate list for the skip pointer (days, windows, capacities)."""
    h = hashlib.blake2b(digest_size=12)
    for c in candidates:
        h.update(
            repr((c.day.toordinal(), c.window, [(x.scope, x.capacity) for x in c.charges])).encode()
        )
    return h.hexdigest()


def charges_of(booking: Booking) -> tuple[str, ...]:
    """The counters a booking holds places in (0.1 bookings: the channel's own)."""
    return booking.charges or (channel_scope(booking.channel),)


_PLANS: dict[tuple[str, int], tuple[list[str], date, date]] = {}


def _plan(chunk: Sequence[Candidate], digest: str | None, i: int) -> tuple[list[str], date, date]:
    """The scopes and the day range to read for a chunk (kept per candidate list)."""
    key = (digest, i) if digest is not None else None
    if key is not None:
        found = _PLANS.get(key)
        if found is not None:
            return found
    plan = (
        sorted({ch.scope for c in chunk for ch in c.charges}),
        min(c.day for c in chunk),
        max(c.day for c in chunk) + _ONE,
    )
    if key is not None:
        if len(_PLANS) > 4096:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def _dead(c: Candidate, rows: dict[tuple[str, date], CounterRow], closed: set[date]) -> bool:
    """Closed, or a counter full even for one place: no request can take it until a release."""
    if c.day in closed:
        return True
    for ch in c.charges:
        row = rows.get((ch.scope, c.day))
        if ch.capacity <= 0 or (row is not None and row.used >= ch.capacity):
            return True
    return False


def _fits(c: Candidate, rows: dict[tuple[str, date], CounterRow], places: int) -> bool:
    for ch in c.charges:
        row = rows.get((ch.scope, c.day))
        used = 0 if row is None else row.used
        if used + places > ch.capacity:
            return False
    return True


def find(
    tx: Transaction,
    channel: str,
    candidates: Sequence[Candidate],
    places: int,
    *,
    meta: dict[str, str],
    closed: set[date],
    digest: str | None,
    exclude: date | None = None,
) -> tuple[Candidate, dict[tuple[str, date], CounterRow]] | None:
    """The first candidate with room for ``places`` in every counter, and the rows read;
    ``None`` if none fits (the pointer advanced past dead candidates is still written:
    commit the transaction before refusing, so the next request skips them too).

    ``meta`` is the office's ``"~"`` meta (epoch and pointers), ``closed`` its closed days.
    With a ``digest`` (and no ``exclude``: a move never uses the pointer) the search starts
    at the channel's skip pointer when it is from this epoch and this candidate list, and
    the pointer is advanced past dead candidates (written into ``meta`` and the store).
    """
    epoch = meta.get(EPOCH, "0")
    start = 0
    name = _HINT + channel
    if digest is not None and exclude is None:
        hint = meta.get(name, "")
        h_digest, _, rest = hint.partition(":")
        h_epoch, _, h_index = rest.partition(":")
        if h_digest == digest and h_epoch == epoch and h_index.isdigit():
            start = int(h_index)
    first_alive: int | None = None
    i = start
    n = len(candidates)
    while i < n:
        chunk = candidates[i : i + CHUNK]
        scopes, lo, hi = _plan(chunk, digest, i)
        rows = tx.counters(scopes, lo, hi) if scopes else {}
        for j, c in enumerate(chunk):
            if c.day == exclude:
                continue
            if first_alive is None and not _dead(c, rows, closed):
                first_alive = i + j
            if c.day not in closed and _fits(c, rows, places):
                _remember(tx, meta, name, digest, epoch, first_alive, exclude)
                return c, rows
        i += CHUNK
    _remember(tx, meta, name, digest, epoch, n if first_alive is None else first_alive, exclude)
    return None


#: Where a channel's next search will start, per candidate list, as the last search in
#: this process left its pointer: a guess of the counters it reads first (`first_read`).
_STARTS: dict[tuple[str, str], int] = {}  # by (the pointer's meta name, digest)


def first_read(
    channel: str, candidates: Sequence[Candidate], digest: str
) -> tuple[list[str], date, date] | None:
    """The scopes and days a `find` of ``channel`` over ``candidates`` will most likely read
    first (a guess for `Transaction` adapters that read ahead: a wrong one costs a read)."""
    start = _STARTS.get((_HINT + channel, digest), 0)
    if start >= len(candidates):
        return None
    return _plan(candidates[start : start + CHUNK], digest, start)


def _remember(
    tx: Transaction,
    meta: dict[str, str],
    name: str,
    digest: str | None,
    epoch: str,
    first_alive: int | None,
    exclude: date | None,
) -> None:
    if digest is None or exclude is not None or first_alive is None:
        return
    if len(_STARTS) > 4096:
        _STARTS.clear()
    _STARTS[(name, digest)] = first_alive
    value = f"{digest}:{epoch}:{first_alive}"
    if meta.get(name) != value:
        meta[name] = value
        tx.put_meta({name: value})


def take(
    tx: Transaction,
    channel: str,
    candidate: Candidate,
    rows: dict[tuple[str, date], CounterRow],
    places: int,
) -> tuple[int, tuple[str, ...]]:
    """Add ``places`` to every counter of ``candidate`` and the next number of the channel's
    day; returns the number and the scopes charged."""
    day = candidate.day
    changed: dict[tuple[str, date], CounterRow] = {}
    for ch in candidate.charges:
        key = (ch.scope, day)
        row = changed.get(key) or rows.get(key) or CounterRow()
        changed[key] = attrs.evolve(row, used=row.used + places)
    seq = (channel_scope(channel), day)
    found = changed.get(seq) or rows.get(seq)
    if found is None:  # a walk-in taking online's unused places: its queue's row, unused
        found = tx.counters([seq[0]], day, day + _ONE).get(seq, CounterRow())
    row = found
    number = row.last + 1
    changed[seq] = attrs.evolve(row, last=number)
    tx.put_counters(changed)
    return number, _interned(tuple(ch.scope for ch in candidate.charges))


_SCOPES: dict[tuple[str, ...], tuple[str, ...]] = {}


def _interned(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """One shared tuple per set of charged scopes (a memory storage keeps one per booking:
    sharing saves about 60 bytes each)."""
    found = _SCOPES.get(scopes)
    if found is None:
        if len(_SCOPES) > 4096:
            _SCOPES.clear()
        found = _SCOPES[scopes] = scopes
    return found


def duplicate_id() -> InvalidTransition:
    """The refusal of a new booking whose id exists already."""
    return InvalidTransition("a booking with that id already exists", reason="duplicate_id")


def book_new(
    tx: Transaction,
    r: Reservation,
    cand: Candidate,
    rows: dict[tuple[str, date], CounterRow],
) -> Booking:
    """Take ``r.places`` on ``cand`` (found with room by `find`) and insert the new booking."""
    number, charges = take(tx, r.channel, cand, rows, r.places)
    booking = Booking(
        id=r.booking_id,
        office_id=r.office_id,
        channel=r.channel,
        day=cand.day,
        number=number,
        label=make_label(r.prefix, number),
        status=BookingStatus.BOOKED,
        citizen_ref=r.citizen_ref,
        created_at=r.created_at,
        ticket=r.ticket,
        idempotency_key=r.idempotency_key,
        request_fingerprint=r.fingerprint,
        places=r.places,
        window=cand.window,
        charges=charges,
    )
    try:
        tx.put_booking(booking, new=True)
    except KeyError:
        raise duplicate_id() from None
    return booking


def release(tx: Transaction, booking: Booking, meta: dict[str, str]) -> None:
    """Give back a booking's places in every counter it charged, and bump the epoch."""
    day = booking.day
    scopes = charges_of(booking)
    rows = tx.counters(list(scopes), day, day + _ONE)
    changed: dict[tuple[str, date], CounterRow] = {}
    for scope in scopes:
        row = rows.get((scope, day))
        if row is None or row.used < booking.places:
            raise StorageError(
                f"counter {scope} on {day} holds fewer places than booking {booking.label} "
                "took: the storage is inconsistent"
            )
        changed[(scope, day)] = attrs.evolve(row, used=row.used - booking.places)
    tx.put_counters(changed)
    bump_epoch(tx, meta)


def bump_epoch(tx: Transaction, meta: dict[str, str]) -> None:
    """Invalidate every skip pointer of the office (room may have appeared anywhere)."""
    epoch = str(int(meta.get(EPOCH, "0")) + 1)
    meta[EPOCH] = epoch
    tx.put_meta({EPOCH: epoch})
