"""Idempotency keys bound to their first request.

A key is stored with a keyed hash of the request it was first used for (channel, citizen
ref, preferred date, preferred time, places), one per secret so that a rotation keeps
matching. A retry is answered with the booking only if it is the same request; anything
else is `IdempotencyConflict`, which reveals nothing of the first booking.
"""

from __future__ import annotations

from datetime import date, time

from .errors import IdempotencyConflict
from .models import Booking
from .tickets import Keyring

__all__ = ["citizen_refs", "request_fingerprints", "same_request"]


def citizen_refs(keys: Keyring, citizen_id: str | None) -> tuple[str, ...]:
    """The citizen's refs, one per secret (``()`` for an anonymous request)."""
    return () if citizen_id is None else keys.citizen_refs(citizen_id)


def request_fingerprints(
    keys: Keyring,
    channel: object,
    refs: tuple[str, ...],
    preferred_date: date | None,
    preferred_time: time | None = None,
    places: object = 1,
) -> tuple[str, ...]:
    """What binds an idempotency key to its request, once per secret (rotation)."""
    out = []
    for i, signer in enumerate(keys.signers):
        ref = refs[i] if refs else None
        parts = (channel, ref, preferred_date, preferred_time, places)
        out.append(signer.request_fingerprint(parts))
    return tuple(dict.fromkeys(out))


def same_request(
    existing: Booking, channel: str, refs: tuple[str, ...], fingerprints: tuple[str, ...]
) -> Booking:
    """``existing`` if it was made by this request, else `IdempotencyConflict`."""
    same = existing.channel == channel and (
        existing.citizen_ref in refs if refs else existing.citizen_ref is None
    )
    if same and existing.request_fingerprint is not None:
        same = existing.request_fingerprint in fingerprints
    if not same:
        raise IdempotencyConflict(
            "the idempotency key was already used for a different request; "
            "use a new key for a new request",
            channel=channel,
        )
    return existing
