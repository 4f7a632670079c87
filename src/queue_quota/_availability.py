"""How much room a channel has per day, counting its sessions and the pools it shares.

Advisory reads (availability tables, "come back on ..."): the take itself re-checks every
counter inside the storage's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import attrs

from ._candidates import session_scope, sessions_of
from .calendar import WorkingCalendar
from .errors import ConfigurationError, RefusalError
from .models import DayAvailability, SessionAvailability
from .office import Office
from .policies.base import BookingRequest, QuotaPolicy
from .storage.base import Storage

__all__ = ["DayRoom", "Room", "bookable_days"]

_ONE = timedelta(days=1)


@attrs.frozen
class DayRoom:
    """A channel's capacity, use and room on one open day (``remaining`` counts pools)."""

    capacity: int
    booked: int
    remaining: int
    sessions: tuple[SessionAvailability, ...] = ()


class Room:
    """Reads counters of one office to say how much room a channel has."""

    def __init__(self, office: Office, storage: Storage) -> None:
        self._office = office
        self._storage = storage

    def use(self, scope: str, start: date, end: date) -> dict[date, int]:
        """Places used per day of one counter (``"c:online"``, ``"p:loket"``, ...)."""
        if scope.startswith("c:"):
            return self._storage.booked_counts(self._office.id, scope[2:], start, end)
        reader = getattr(self._storage, "counter_use", None)
        return {} if reader is None else reader(self._office.id, scope, start, end)

    def days(self, policy: QuotaPolicy, start: date, end: date) -> dict[date, DayRoom]:
        """Every day of ``[start, end)`` with a capacity (closures are the caller's)."""
        channel = policy.channel
        booked = self.use(f"c:{channel}", start, end)
        pools = [(p, self.use(p.scope, start, end)) for p in self._office.pools_of(channel)]
        sessions = [
            (s, self.use(session_scope(channel, s), start, end)) for s in sessions_of(policy)
        ]
        out: dict[date, DayRoom] = {}
        d = start
        while d < end:
            cap = policy.capacity_on(d)
            used = booked.get(d, 0)
            left = cap - used
            for pool, p_used in pools:
                left = min(left, pool.capacity_on(d) - p_used.get(d, 0))
            left = max(0, left)
            rows: list[SessionAvailability] = []
            if sessions:
                in_sessions = 0
                for s, s_used in sessions:
                    s_cap = s.capacity_on(d)
                    s_booked = s_used.get(d, 0)
                    s_left = max(0, min(s_cap - s_booked, left))
                    in_sessions += s_left
                    rows.append(SessionAvailability(s.start, s.end, s_cap, s_booked, s_left))
                left = min(left, in_sessions)
            out[d] = DayRoom(cap, used, left, tuple(rows))
            d += _ONE
        return out

    def table(
        self,
        policy: QuotaPolicy,
        calendar: WorkingCalendar,
        start: date,
        end: date,
        bookable: frozenset[date],
    ) -> list[DayAvailability]:
        """One `DayAvailability` per calendar day of ``[start, end)``."""
        room = self.days(policy, start, end)
        out: list[DayAvailability] = []
        d = start
        while d < end:
            r = room[d]
            reason = calendar.closure_reason(d)
            if reason is None and r.capacity == 0:
                reason = "no capacity"
            if reason is not None:
                out.append(DayAvailability(d, 0, r.booked, 0, reason))
            else:
                out.append(
                    DayAvailability(
                        d,
                        r.capacity,
                        r.booked,
                        r.remaining,
                        None,
                        bookable=r.remaining > 0 and d in bookable,
                        sessions=r.sessions,
                    )
                )
            d += _ONE
        return out

    def first_with_room(
        self, policy: QuotaPolicy, calendar: WorkingCalendar, start: date, last: date
    ) -> date | None:
        """The first working day of ``[start, last]`` with room for one more."""
        if last < start:
            return None
        end = last + _ONE
        room = self.days(policy, start, end)
        for d in calendar.working_days(start, end):
            if room[d].remaining > 0:
                return d
        return None


def bookable_days(
    policy: QuotaPolicy, calendar: WorkingCalendar, request: BookingRequest, days: Iterable[date]
) -> frozenset[date]:
    """Which of the candidate ``days`` a request like ``request`` may take, room aside: open
    and admitted by the policy (its window, its hours) for that preferred day."""
    try:
        policy.admit(request, calendar)
    except (RefusalError, ConfigurationError):
        return frozenset()
    out = set()
    for day in days:
        if calendar.closure_reason(day) is not None:
            continue
        try:
            policy.admit(attrs.evolve(request, preferred_date=day), calendar)
        except (RefusalError, ConfigurationError):
            continue
        out.add(day)
    return frozenset(out)
