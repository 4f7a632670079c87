"""What reservations are about to read, told to an adapter that reads ahead.

An adapter's `Transaction` may offer ``expect(keys=, booking_ids=, refs=, counters=)`` (see
`queue_quota.storage.primitives`): a hint, so that a networked store can fetch in one round
trip what the reservations would otherwise ask for one read at a time. The answers must be
the ones the reads would get; an adapter without ``expect`` loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Candidate, Reservation
from ._search import candidates_digest, first_read
from .primitives import Transaction

__all__ = ["expect_reads"]


def expect_reads(
    tx: Transaction,
    reservations: Sequence[Reservation],
    candidates: Sequence[Candidate] | None = None,
    digest: str | None = None,
) -> None:
    """Tell ``tx`` (if it reads ahead) what `_reserve_in` will read for ``reservations``:
    their keys, their ids, their citizens' bookings (when a limit counts them) and the
    first chunk of counters the first one's search will most likely read (over
    ``candidates`` and their ``digest``, when the caller has them already)."""
    expect = getattr(tx, "expect", None)
    if expect is None or not reservations:
        return
    first = reservations[0]
    if candidates is None or digest is None:
        candidates = first.all_candidates()
        digest = first.candidates_key or candidates_digest(candidates)
    expect(
        keys=[r.idempotency_key for r in reservations if r.idempotency_key is not None],
        booking_ids=[r.booking_id for r in reservations],
        refs=[
            (r.citizen_refs, r.today)
            for r in reservations
            if r.citizen_refs and (r.per_citizen is not None or r.office_per_citizen is not None)
        ],
        counters=first_read(first.channel, candidates, digest),
    )
