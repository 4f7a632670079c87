"""The writes a PostgreSQL transaction held back, sent as one statement where that is safe.

A booking's writes (its counters, the booking, its events, the log's ``seq``, a skip
pointer) wait for the ``COMMIT`` (``_pg_tx``). Sent one statement each they cost the client
a statement apiece (and arrays to dump); `WriteMerger.statements` turns them into **one**
statement: multi-row ``VALUES`` inserts joined by data-modifying ``WITH`` clauses.

When is that the same as running them in order? The clauses of one statement run on one
snapshot and must not touch one row twice. So only writes that read nothing and touch
distinct rows are merged: inserts and upserts of counters, new bookings, events, meta and
state. An upsert of a row written earlier in the same batch keeps only its last value
(what running both in order leaves). A batch holding anything else (an ``UPDATE`` of a
booking, a delete, a closure, two new bookings or events with one key) is sent as it
was, one statement each, in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._pg_sql import COLUMNS

__all__ = ["MERGED_PARTS", "WriteMerger"]

Params = Sequence[Any]

#: Per mergeable write: its ``INSERT ... VALUES`` head, one row's placeholders, its tail.
MERGED_PARTS: dict[str, tuple[str, str, str]] = {
    "PUT_COUNTERS": (
        "INSERT INTO {s}.qq_counter (office_id, scope, day, used, last) VALUES ",
        "(%s, %s, %s::date, %s::int4, %s::int4)",
        " ON CONFLICT (office_id, scope, day) DO UPDATE"
        " SET used = excluded.used, last = excluded.last",
    ),
    "INSERT_NEW": (
        "INSERT INTO {s}.qq_booking (" + COLUMNS + ") VALUES ",
        "(%s, %s, %s, %s::date, %s::int4, %s, %s, %s, %s::timestamptz, %s, %s, %s, %s::int4,"
        " %s::text[], %s::time, %s::time)",
        "",
    ),
    "PUT_EVENTS": (
        "INSERT INTO {s}.qq_event (office_id, seq, kind, booking_id, day, at, data) VALUES ",
        "(%s, %s::int8, %s, %s, %s::date, %s::timestamptz, %s::jsonb)",
        "",
    ),
    "PUT_META": (
        "INSERT INTO {s}.qq_office_meta (office_id, name, value) VALUES ",
        "(%s, %s, %s)",
        " ON CONFLICT (office_id, name) DO UPDATE SET value = excluded.value",
    ),
    "PUT_STATE": (
        "INSERT INTO {s}.qq_state (office_id, name, value) VALUES ",
        "(%s, %s, %s)",
        " ON CONFLICT (office_id, name) DO UPDATE SET value = excluded.value",
    ),
}
_ORDER = tuple(MERGED_PARTS)
_UPSERTS = frozenset({"PUT_COUNTERS", "PUT_META", "PUT_STATE"})


def _rows(name: str, params: Params) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """The (key, row parameters) of one held-back write."""
    if name == "PUT_COUNTERS":
        office, scopes, days, used, last = params
        return [
            ((s, d), (office, s, d, u, n))
            for s, d, u, n in zip(scopes, days, used, last, strict=True)
        ]
    if name == "PUT_EVENTS":
        office, *columns = params
        return [((row[0],), (office, *row)) for row in zip(*columns, strict=True)]
    if name == "INSERT_NEW":
        return [((params[0],), tuple(params))]
    return [((params[1],), tuple(params))]  # PUT_META, PUT_STATE: (office, name, value)


class WriteMerger:
    """Builds (and keeps, per shape) the merged statement of a batch of held-back writes.

    Args:
        queries: The transaction's statements by name (for a batch sent as it was).
        parts: `MERGED_PARTS` with the schema filled in, as bytes.
    """

    __slots__ = ("_parts", "_q", "_shapes")

    def __init__(self, queries: Mapping[str, bytes], parts: Mapping[str, tuple[bytes, ...]]):
        self._q = queries
        self._parts = parts
        self._shapes: dict[tuple[tuple[str, int], ...], bytes] = {}

    def statements(self, pending: Sequence[tuple[str, Params]]) -> list[tuple[bytes, Params]]:
        """The statements to send for ``pending`` (name, parameters), in order."""
        merged = self._merge(pending)
        if merged is not None:
            return [merged]
        q = self._q
        return [(q[name], params) for name, params in pending]

    def _merge(self, pending: Sequence[tuple[str, Params]]) -> tuple[bytes, Params] | None:
        by_kind: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
        for name, params in pending:
            if name not in self._parts:
                return None
            rows = by_kind.setdefault(name, {})
            for key, row in _rows(name, params):
                if key in rows and name not in _UPSERTS:
                    return None  # a second insert of one key: let the server refuse it
                rows.pop(key, None)  # the last value, in the order written
                rows[key] = row
        shape = tuple((name, len(by_kind[name])) for name in _ORDER if name in by_kind)
        if not shape:
            return None
        sql = self._shapes.get(shape)
        if sql is None:
            if len(self._shapes) > 256:  # bounded: odd shapes (big moves) come and go
                self._shapes.clear()
            sql = self._shapes[shape] = self._build(shape)
        values: list[Any] = []
        for name, _ in shape:
            for row in by_kind[name].values():
                values.extend(row)
        return sql, values

    def _build(self, shape: tuple[tuple[str, int], ...]) -> bytes:
        clauses = []
        for name, n in shape:
            head, row, tail = self._parts[name]
            clauses.append(head + b", ".join([row] * n) + tail)
        if len(clauses) == 1:
            return clauses[0]
        ctes = b", ".join(b"w%d AS (%s)" % (i, c) for i, c in enumerate(clauses[:-1]))
        return b"WITH " + ctes + b" " + clauses[-1]
