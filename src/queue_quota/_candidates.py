"""From a policy's candidate days to candidates with every counter they charge.

A candidate charges the channel's day (``c:<channel>``), the session if the channel has
sessions (``s:<channel>@HH:MM``) and every pool the channel is in (``p:<pool>``), each at
the capacity the policy, the session or the pool gives that day. A walk-in that may take
the places another channel left unused today gets one more candidate per such channel,
charging that channel's day and pools instead of its own (see "The capacity model").
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import date, time

from .calendar import WorkingCalendar
from .counters import Pool, Session
from .models import Candidate, Charge, channel_scope
from .office import Office
from .policies.base import BookingRequest, QuotaPolicy
from .storage._search import candidates_digest

__all__ = [
    "CandidateCache",
    "build",
    "needs_counters",
    "session_scope",
    "sessions_of",
    "unused",
    "unused_from",
]


def sessions_of(policy: QuotaPolicy) -> tuple[Session, ...]:
    """The policy's sessions (``()`` for a policy without arrival windows)."""
    found = getattr(policy, "sessions", ())
    return tuple(found) if found else ()


def unused_from(policy: QuotaPolicy) -> dict[str, time]:
    """``{channel: local time}`` from which the policy takes that channel's unused places."""
    found = getattr(policy, "takes_unused", None)
    return dict(found) if found else {}


def session_scope(channel: str, session: Session) -> str:
    """The counter of one session: ``"s:online@08:00"``."""
    return f"s:{channel}@{session.key}"


def needs_counters(office: Office) -> bool:
    """Whether the office uses more than one counter per booking (or an office limit)."""
    return bool(
        office.pools
        or office.per_citizen is not None
        or any(sessions_of(p) or unused_from(p) for p in office.policies)
    )


def _pool_charges(pools: Sequence[Pool], day: date) -> tuple[Charge, ...] | None:
    out = []
    for pool in pools:
        cap = pool.capacity_on(day)
        if cap <= 0:
            return None
        out.append(Charge(pool.scope, cap))
    return tuple(out)


def build(office: Office, policy: QuotaPolicy, days: Iterable[date]) -> tuple[Candidate, ...]:
    """The candidates of ``days`` in order: by day, then session."""
    channel = policy.channel
    scope = channel_scope(channel)
    pools = office.pools_of(channel)
    sessions = sessions_of(policy)
    out: list[Candidate] = []
    for day in days:
        cap = policy.capacity_on(day)
        if cap <= 0:
            continue
        pooled = _pool_charges(pools, day) if pools else ()
        if pooled is None:
            continue
        base = (Charge(scope, cap), *pooled)
        if not sessions:
            out.append(Candidate(day, base))
            continue
        for s in sessions:
            s_cap = s.capacity_on(day)
            if s_cap > 0:
                charges = (*base, Charge(session_scope(channel, s), s_cap))
                out.append(Candidate(day, charges, s.window))
    return tuple(out)


def unused(office: Office, policy: QuotaPolicy, today: date, now: time) -> tuple[Candidate, ...]:
    """Today's candidates taking other channels' unused places, for those open at ``now``."""
    out: list[Candidate] = []
    for channel, start in unused_from(policy).items():
        if now < start:
            continue
        other = office.policy(channel)
        cap = other.capacity_on(today)
        pooled = _pool_charges(office.pools_of(channel), today)
        if cap > 0 and pooled is not None:
            out.append(Candidate(today, (Charge(channel_scope(channel), cap), *pooled)))
    return tuple(out)


class CandidateCache:
    """The candidates of a request, cached per (channel, today, what changes in the day).

    A policy's candidate days depend only on (channel, today) (the protocol says so);
    within a day, the windows that have ended and the unused-places candidates that have
    opened only change a few times, so they are part of the key. Each cached tuple keeps
    the digest the storage's skip pointer is keyed by.
    """

    def __init__(self, office: Office, size: int = 512) -> None:
        self._office = office
        self._size = size
        self._cache: dict[object, tuple[tuple[Candidate, ...], str]] = {}
        self._ends: dict[object, tuple[time, ...]] = {}  # today's windows' ends, per entry
        self._lock = threading.Lock()

    def get(
        self, policy: QuotaPolicy, request: BookingRequest, calendar: WorkingCalendar
    ) -> tuple[tuple[Candidate, ...], str | None]:
        """The request's candidates (its preferred date's only, if it has one) and their
        digest (``None`` for a preferred date: those are not worth a skip pointer)."""
        if request.preferred_date is not None:
            found = build(self._office, policy, (request.preferred_date,))
            return self._trim(found, request), None
        now = request.now.time().replace(tzinfo=None)
        unused_at = unused_from(policy)
        opened = tuple(sorted(c for c, at in unused_at.items() if now >= at)) if unused_at else ()
        base_key = (policy.channel, request.today, opened)
        base = self._cache.get(base_key)
        if base is None:
            days = policy.candidate_days(request, calendar)
            found = build(self._office, policy, days)
            found += unused(self._office, policy, request.today, now)
            base = self._put(base_key, found)
        ends = self._ends.get(base_key)
        if ends is None:
            ends = self._ends[base_key] = tuple(
                c.window[1] for c in base[0] if c.day == request.today and c.window
            )
        ended = sum(1 for end in ends if end <= now) if ends else 0
        if not ended:
            return base
        key = (*base_key, ended)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._put(key, self._trim(base[0], request))
        return hit

    @staticmethod
    def _trim(found: tuple[Candidate, ...], request: BookingRequest) -> tuple[Candidate, ...]:
        """Without today's windows that have ended."""
        now = request.now.time().replace(tzinfo=None)
        return tuple(
            c for c in found if not (c.day == request.today and c.window and c.window[1] <= now)
        )

    def _put(self, key: object, found: tuple[Candidate, ...]) -> tuple[tuple[Candidate, ...], str]:
        entry = (found, candidates_digest(found))
        with self._lock:
            if len(self._cache) >= self._size:
                self._cache.clear()
                self._ends.clear()
            self._cache[key] = entry
        return entry
