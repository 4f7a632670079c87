"""The waitlist's rules, written once above the primitives (see "The waitlist").

Entries live in the office's ``state``: ``wait:<seq>`` holds an entry (joining order is
the order of the names), ``wref:<citizen ref>:<id>`` what the per-citizen limit reads;
the office meta ``~waiting`` counts them, so that a release with nobody waiting costs
nothing more. Every pass runs inside the office's write transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from ..errors import BookingNotFound, InvalidTransition
from ..models import Booking, Candidate, Reservation
from ..waitlist import WaitlistEntry
from ._log import Change, about, emit, event_time
from ._retry import retrying
from ._search import CLOSURE, book_new, find
from .primitives import Primitives, Transaction

__all__ = [
    "WAITING",
    "Promoter",
    "WaitlistOps",
    "closed_days",
    "entries",
    "held_entries",
    "join",
    "leave",
    "promote",
]

WAIT = "wait:"
WREF = "wref:"
#: Office meta: how many entries wait, and the last entry seq.
WAITING = "~waiting"
WSEQ = "~wseq"


class Promoter(Protocol):
    """What a promotion pass asks of the scheduler: the candidates ``book`` would use now."""

    @property
    def today(self) -> date:
        """The office's local date now."""

    def candidates(self, channel: str) -> Sequence[Candidate]:
        """The channel's candidates now, in order of preference."""

    def prefix(self, channel: str) -> str:
        """The channel's label prefix."""


def closed_days(tx: Transaction) -> set[date]:
    """The office's days closed at run time."""
    return {date.fromisoformat(k[len(CLOSURE) :]) for k in tx.meta(CLOSURE)}


def waiting(meta: dict[str, str]) -> int:
    """How many entries wait (from the transaction's ``"~"`` meta)."""
    return int(meta.get(WAITING, "0"))


def entry_data(entry: WaitlistEntry, **extra: Any) -> dict[str, Any]:
    """The ``data`` of an event about an entry (no personal data)."""
    window = entry.preferred_time
    out: dict[str, Any] = {
        "channel": entry.channel,
        "places": entry.places,
        "until": entry.until.isoformat(),
        "time": None if window is None else window.isoformat("minutes"),
    }
    out.update(extra)
    return out


def entries(
    tx: Transaction, channel: str | None = None, today: date | None = None
) -> list[tuple[str, WaitlistEntry]]:
    """The entries (with their state names) in joining order, each with its position in its
    channel's line; with ``today``, only those that have not expired."""
    positions: dict[str, int] = {}
    out: list[tuple[str, WaitlistEntry]] = []
    for name, text in sorted(tx.state(WAIT).items()):
        entry = WaitlistEntry.load(text)
        if channel is not None and entry.channel != channel:
            continue
        if today is not None and entry.until < today:
            continue
        position = positions.get(entry.channel, 0) + 1
        positions[entry.channel] = position
        out.append((name, attrs.evolve(entry, position=position)))
    return out


def held_entries(tx: Transaction, refs: Sequence[str], today: date) -> list[str]:
    """The channels of the live entries of a citizen (any of ``refs``)."""
    held: list[str] = []
    for ref in refs:
        for value in tx.state(f"{WREF}{ref}:").values():
            channel, _, until = value.rpartition(" ")
            if date.fromisoformat(until) >= today:
                held.append(channel)
    return held


def fitting(
    entry: WaitlistEntry, candidates: Sequence[Candidate], days: Collection[date] | None
) -> list[Candidate]:
    """The candidates an entry accepts (up to ``until``, in its window), on ``days``."""
    wanted = entry.preferred_time
    return [
        c
        for c in candidates
        if c.day <= entry.until
        and (days is None or c.day in days)
        and (wanted is None or (c.window is not None and c.window[0] == wanted))
    ]


def _count(tx: Transaction, meta: dict[str, str], delta: int) -> None:
    meta[WAITING] = str(waiting(meta) + delta)
    tx.put_meta({WAITING: meta[WAITING]})


def _drop(tx: Transaction, meta: dict[str, str], name: str, entry: WaitlistEntry) -> None:
    gone: dict[str, str | None] = {name: None}
    if entry.citizen_ref is not None:
        gone[f"{WREF}{entry.citizen_ref}:{entry.id}"] = None
    tx.put_state(gone)
    _count(tx, meta, -1)


def join(
    tx: Transaction,
    meta: dict[str, str],
    closed: set[date],
    r: Reservation,
    entry: WaitlistEntry,
) -> tuple[WaitlistEntry, Change]:
    """Add ``entry`` at the end of its line (refused when the channel has room for it now);
    ``r`` carries its candidates. Limits are the caller's to check first."""
    room = find(
        tx,
        r.channel,
        fitting(entry, r.all_candidates(), None),
        entry.places,
        meta=meta,
        closed=closed,
        digest=None,
    )
    if room is not None:
        day = room[0].day
        raise InvalidTransition(
            f"there is room on {day}: book it instead of joining the waitlist",
            reason="has_room",
            day=day,
        )
    if tx.bookings(booking_id=entry.id) or any(e.id == entry.id for _, e in entries(tx)):
        raise InvalidTransition("an entry with that id already exists", reason="duplicate_id")
    seq = int(meta.get(WSEQ, "0")) + 1
    meta[WSEQ] = str(seq)
    tx.put_meta({WSEQ: meta[WSEQ]})
    written: dict[str, str | None] = {f"{WAIT}{seq:010d}": entry.dump()}
    if entry.citizen_ref is not None:
        written[f"{WREF}{entry.citizen_ref}:{entry.id}"] = f"{entry.channel} {entry.until}"
    tx.put_state(written)
    _count(tx, meta, 1)
    position = len(entries(tx, entry.channel, r.today))
    placed = WaitlistEntry.load(entry.dump(), position)
    return placed, ("waitlisted", entry.id, None, entry_data(placed, position=position))


def leave(tx: Transaction, meta: dict[str, str], entry_id: str) -> tuple[WaitlistEntry, Change]:
    """Remove the entry ``entry_id`` from its line."""
    for name, entry in entries(tx):
        if entry.id == entry_id:
            _drop(tx, meta, name, entry)
            return entry, ("waitlist_left", entry.id, None, entry_data(entry))
    raise BookingNotFound("no such waitlist entry in this office")


def promote(
    tx: Transaction,
    office_id: str,
    meta: dict[str, str],
    closed: set[date] | None,
    promoter: Promoter | None,
    at: datetime,
    days: Collection[date] | None = None,
) -> tuple[list[Booking], list[Change]]:
    """The promotion pass: every entry, in joining order, that fits a place on ``days``
    (``None``: any candidate day) becomes a booking; expired entries are removed.
    ``closed`` is the office's closed days (read here when ``None``)."""
    if promoter is None or waiting(meta) <= 0:
        return [], []
    if closed is None:
        closed = closed_days(tx)
    today = promoter.today
    done: list[Booking] = []
    changes: list[Change] = []
    offered: dict[str, Sequence[Candidate]] = {}
    for name, entry in entries(tx):
        if entry.until < today:
            _drop(tx, meta, name, entry)
            changes.append(("waitlist_expired", entry.id, None, entry_data(entry)))
            continue
        channel = entry.channel
        if channel not in offered:
            offered[channel] = promoter.candidates(channel)
        candidates = fitting(entry, offered[channel], days)
        if not candidates:
            continue
        found = find(tx, channel, candidates, entry.places, meta=meta, closed=closed, digest=None)
        if found is None:
            continue
        booking = book_new(tx, _reservation(entry, office_id, promoter, at), *found)
        _drop(tx, meta, name, entry)
        done.append(booking)
        changes.append(about("promoted", booking))
    return done, changes


def _reservation(
    entry: WaitlistEntry, office_id: str, promoter: Promoter, at: datetime
) -> Reservation:
    return Reservation(
        office_id=office_id,
        channel=entry.channel,
        booking_id=entry.id,
        ticket=entry.ticket,
        prefix=promoter.prefix(entry.channel),
        citizen_ref=entry.citizen_ref,
        per_citizen=None,
        today=promoter.today,
        created_at=at,
        places=entry.places,
    )


class WaitlistOps:
    """The waitlist operations of `TransactionalStorage` (one transaction each)."""

    _p: Primitives
    #: Keeps waitlists: ``join_waitlist``, ``promote_waitlist``, promotion on release.
    supports_waitlist = True

    if TYPE_CHECKING:

        @staticmethod
        def _check_limits(tx: Transaction, r: Reservation, meta: dict[str, str]) -> None: ...

    @retrying
    def join_waitlist(
        self, r: Reservation, entry: WaitlistEntry, *, now: datetime | None = None
    ) -> WaitlistEntry:
        """Put ``entry`` at the end of its channel's line (event ``waitlisted``), after the
        limits of ``r`` (an entry holds a place); refused when there is room now."""
        with self._p.transaction(r.office_id, write=True) as tx:
            meta = tx.meta("~")
            self._check_limits(tx, r, meta)
            placed, change = join(tx, meta, closed_days(tx), r, entry)
            emit(tx, meta, [change], event_time(now))
            return placed

    @retrying
    def waitlist(self, office_id: str, channel: str | None = None) -> list[WaitlistEntry]:
        """The entries of ``channel`` (every channel: ``None``) in joining order."""
        with self._p.transaction(office_id, write=False) as tx:
            return [e for _, e in entries(tx, channel)]

    @retrying
    def leave_waitlist(
        self, office_id: str, entry_id: str, *, now: datetime | None = None
    ) -> WaitlistEntry:
        """Remove an entry (event ``waitlist_left``); `BookingNotFound` if there is none."""
        with self._p.transaction(office_id, write=True) as tx:
            meta = tx.meta("~")
            entry, change = leave(tx, meta, entry_id)
            emit(tx, meta, [change], event_time(now))
            return entry

    @retrying
    def promote_waitlist(
        self, office_id: str, promoter: Promoter, *, now: datetime | None = None
    ) -> list[Booking]:
        """The promotion pass over every candidate day, and the removal of expired entries."""
        with self._p.transaction(office_id, write=True) as tx:
            meta = tx.meta("~")
            done, changes = promote(tx, office_id, meta, None, promoter, event_time(now))
            emit(tx, meta, changes, event_time(now))
            return done
