"""What a PostgreSQL transaction read ahead (`PgTransaction.expect`), and when it still holds.

The engine names the reads it is about to make: bookings by idempotency key, by id, by a
citizen's refs (since a day), and a first chunk of counters; for a group-commit batch, those
of every reservation at once. `ReadAhead.plan` turns them into as few statements as it can
(one per kind: ``id = ANY(...)``, ``citizen_ref = ANY(...)``, ...), sent in one pipeline;
`ReadAhead.keep` splits the rows back into one answer per read.

Why an answer read ahead is the server's answer later in the transaction: a write
transaction holds the office's lock from its first statement, so no other writer can
change the office's rows meanwhile (a read transaction sees one snapshot); what *this*
transaction writes is applied to what was read ahead: a counter written is written into the
copy; a booking written drops every answer it could change (its id, its key, any citizen
read that includes its ref), which the next read then asks of the server again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ..models import Booking
from ._pg_support import to_booking
from .primitives import CounterRow

__all__ = ["ReadAhead", "by_refs", "counters_query"]

Params = Sequence[Any] | Mapping[str, Any]
Rows = dict[tuple[str, date], CounterRow]
#: One read to send: what it answers, the query's name and its parameters.
Wanted = tuple[Any, str, Params]


def counters_query(
    office: str, scopes: Sequence[str], start: date, end: date
) -> tuple[str, Params]:
    """The counters read (one scope needs no array)."""
    if len(scopes) == 1:
        return "COUNTERS_1", (office, scopes[0], start, end)
    return "COUNTERS", (office, list(scopes), start, end)


def by_refs(office: str, refs: Sequence[str], since: date | None) -> tuple[str, Params]:
    """The bookings-of-citizens read (one ref needs no array)."""
    if since is None:
        return "BY_REFS", (office, list(refs))
    if len(refs) == 1:
        return "BY_REF_SINCE", (office, refs[0], since)
    return "BY_REFS_SINCE", (office, list(refs), since)


class ReadAhead:
    """The answers read ahead in one transaction."""

    __slots__ = ("_bookings", "_counters")

    def __init__(self) -> None:
        # Bookings by the read they answer: ("id", id), ("key", key), ("refs", refs, since).
        self._bookings: dict[tuple[Any, ...], list[Booking]] = {}
        # Counters: their scopes, [start, end) and rows (kept equal to the store).
        self._counters: tuple[frozenset[str], date, date, Rows] | None = None

    # -- planning and keeping -------------------------------------------------------------

    def plan(
        self,
        office: str,
        *,
        keys: Sequence[str],
        ids: Sequence[str],
        refs: Sequence[tuple[tuple[str, ...], date | None]],
        counters: tuple[Sequence[str], date, date] | None,
    ) -> list[Wanted]:
        """The statements for the reads not answered yet (one per kind and ``since``)."""
        have = self._bookings
        wanted: list[Wanted] = []
        keys = [k for k in dict.fromkeys(keys) if ("key", k) not in have]
        if len(keys) == 1:
            wanted.append((("keys", tuple(keys)), "BY_KEY", (office, keys[0])))
        elif keys:
            wanted.append((("keys", tuple(keys)), "BY_KEYS", (office, keys)))
        ids = [i for i in dict.fromkeys(ids) if ("id", i) not in have]
        by_since: dict[date | None, list[tuple[str, ...]]] = {}
        for group, since in dict.fromkeys(refs):
            if group and ("refs", group, since) not in have:
                by_since.setdefault(since, []).append(group)
        if ids and len(by_since) == 1 and None not in by_since:
            # The usual case: the ids and the citizens' bookings since today, one read.
            ((since, groups),) = by_since.items()
            every = list(dict.fromkeys(r for g in groups for r in g))
            params: Params
            if len(ids) == 1 and len(every) == 1:
                name, params = "BY_ID_OR_REF", (office, ids[0], every[0], since)
            else:
                name, params = "BY_IDS_OR_REFS", (office, ids, every, since)
            wanted.append((("ids+refs", tuple(ids), tuple(groups), since), name, params))
            ids, by_since = [], {}
        if len(ids) == 1:
            wanted.append((("ids", tuple(ids)), "BY_ID", (office, ids[0])))
        elif ids:
            wanted.append((("ids", tuple(ids)), "BY_IDS", (office, ids)))
        for since, groups in by_since.items():
            every_ref = tuple(dict.fromkeys(r for g in groups for r in g))
            name, params = by_refs(office, every_ref, since)
            wanted.append((("refs", tuple(groups), since), name, params))
        if counters is not None:
            scopes, start, end = counters
            if scopes and start < end and self.counters(scopes, start, end) is None:
                name, params = counters_query(office, scopes, start, end)
                wanted.append((("counters", tuple(scopes), start, end), name, params))
        return wanted

    def keep(self, what: tuple[Any, ...], rows: list[Any]) -> None:
        """Keep the rows of one planned read, split into one answer per read."""
        kind = what[0]
        if kind == "counters":
            _, scopes, start, end = what
            found = {(s, d): CounterRow(used, last) for s, d, used, last in rows}
            self._counters = (frozenset(scopes), start, end, found)
            return
        found_bookings = [to_booking(r) for r in rows]
        have = self._bookings
        if kind in ("ids", "ids+refs"):
            for i in what[1]:
                have[("id", i)] = [b for b in found_bookings if b.id == i]
        if kind == "keys":
            for k in what[1]:
                have[("key", k)] = [b for b in found_bookings if b.idempotency_key == k]
        elif kind in ("refs", "ids+refs"):  # ("refs", groups, since) or (.., ids, groups, since)
            groups, since = what[-2], what[-1]
            for group in groups:
                members = set(group)
                # A row found by its id alone may be an older booking of the citizen.
                have[("refs", group, since)] = [
                    b
                    for b in found_bookings
                    if b.citizen_ref in members and (since is None or b.day >= since)
                ]

    # -- answering ------------------------------------------------------------------------

    def bookings(self, read: tuple[Any, ...]) -> list[Booking] | None:
        """The answer to ``read`` if it was read ahead and still holds."""
        found = self._bookings.get(read)
        return None if found is None else list(found)

    def counters(self, scopes: Sequence[str], start: date, end: date) -> Rows | None:
        """The rows of ``scopes`` in ``[start, end)`` if that was read ahead."""
        ahead = self._counters
        if ahead is None:
            return None
        have, lo, hi, rows = ahead
        if not (lo <= start and end <= hi and have.issuperset(scopes)):
            return None
        if lo == start and hi == end and len(have) == len(scopes):
            return dict(rows)
        want = set(scopes)
        return {k: v for k, v in rows.items() if k[0] in want and start <= k[1] < end}

    # -- this transaction's writes --------------------------------------------------------

    def wrote_counters(self, rows: Mapping[tuple[str, date], CounterRow]) -> None:
        """Counters written: the copy read ahead follows."""
        ahead = self._counters
        if ahead is None:
            return
        have, lo, hi, cached = ahead
        for key, row in rows.items():
            if key[0] in have and lo <= key[1] < hi:
                cached[key] = row

    def wrote_booking(self, booking: Booking) -> list[Booking] | None:
        """A booking written: drop every answer it could change; returns what was read
        ahead for its id (``[]``: absent), if that was."""
        have = self._bookings
        if not have:
            return None
        by_id = have.pop(("id", booking.id), None)
        if booking.idempotency_key is not None:
            have.pop(("key", booking.idempotency_key), None)
        ref = booking.citizen_ref
        if ref is not None:
            for read in [r for r in have if r[0] == "refs" and ref in r[1]]:
                del have[read]
        return by_id
