"""The reference model of `SchedulerMachine`: plain dicts of what the scheduler acknowledged.

It is deliberately naive and independent of the code under test: working days come from
the weekmask and a set of holidays, windows are walked day by day, and every counter (a
channel's day, a session, a pool) is recounted from the acknowledged bookings every time
it is needed. No `WorkingCalendar`, policy, candidate or storage code is used to compute
an expectation; the counter names (``"c:online"``, ``"s:online@08:00"``, ``"p:loket"``)
are written out here from the documented scheme.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, time, timedelta

import attrs

__all__ = ["Acked", "ChannelSpec", "Model", "Place", "Waiting"]

BOOKED = "booked"
CHECKED_IN = "checked_in"
CANCELLED = "cancelled"
NO_SHOW = "no_show"
ACTIVE = frozenset({BOOKED, CHECKED_IN})
ONE_DAY = timedelta(days=1)

Window = tuple[time, time]


@attrs.frozen
class ChannelSpec:
    """What the model knows of one channel (from the machine's attributes, not the office).

    Attributes:
        name: The channel.
        prefix: Its label prefix.
        capacity: Places a day.
        same_day: Walk-in (today only) rather than online (the booking window).
        per_citizen: Active bookings a citizen may hold on it from today on.
        sessions: ``(start, end, capacity)`` arrival windows, in order.
        pools: Names of the pools it is in.
        claim: The claim a request must carry.
        takes_unused: ``(channel, local time)``: from that time, a request on this
            (same-day) channel may also take the places ``channel`` left unused today.
        no_show_limit: No-shows (any channel) in the window after which a citizen's
            requests on it are refused with `Suspended` (``None``: never).
        no_show_window_days: The calendar days before today whose no-shows count.
        suspension_days: Days from the latest counted no-show to the first day again.
    """

    name: str
    prefix: str
    capacity: Callable[[date], int]
    same_day: bool = False
    per_citizen: int | None = None
    sessions: tuple[tuple[time, time, int], ...] = ()
    pools: tuple[str, ...] = ()
    claim: str | None = None
    takes_unused: tuple[tuple[str, time], ...] = ()
    no_show_limit: int | None = None
    no_show_window_days: int = 90
    suspension_days: int = 30


@attrs.frozen
class Place:
    """Where a booking may go: a day, a window (or none) and the counters it charges."""

    day: date
    window: Window | None
    charges: tuple[tuple[str, int], ...]  # (scope, capacity)

    @property
    def scopes(self) -> tuple[str, ...]:
        """The counters charged."""
        return tuple(s for s, _ in self.charges)


@attrs.define
class Acked:
    """One booking the scheduler acknowledged, as the model remembers it."""

    id: str
    channel: str
    day: date
    number: int
    status: str
    ticket: str
    citizen: str | None
    key: str | None
    preferred: date | None = None  # the preferred date the key's request asked for
    places: int = 1
    window: Window | None = None
    scopes: tuple[str, ...] = ()
    preferred_time: time | None = None  # the preferred time the key's request asked for


@attrs.frozen
class Waiting:
    """One entry of a waitlist, as the model remembers it (in joining order)."""

    id: str
    ticket: str
    channel: str
    citizen: str | None
    places: int
    until: date
    at: time | None = None  # the one arrival window it accepts


@attrs.define
class Model:
    """What the scheduler has acknowledged, and what it should answer next.

    Attributes:
        weekmask: Seven ``0``/``1`` characters, Monday first.
        holidays: Closed dates of the office's calendar.
        specs: The channels, in service order.
        pools: Pool name -> capacity a day.
        office_per_citizen: Active bookings a citizen may hold over every channel.
        lead_days: Working days between today and the first online day.
        horizon_days: Calendar days from today to the last online day.
        bookings: Acknowledged bookings by id (in the order acknowledged).
        keys: Idempotency key -> booking id.
        closures: Days closed at run time -> the first reason.
        issued: ``(channel, day)`` -> every number ever given on that day.
        lifts: Citizen -> the day a clerk last lifted their suspension.
        line: The waitlists' entries, in joining order.
        opened: Days the calendar closes that were opened at run time.
    """

    weekmask: str
    holidays: frozenset[date]
    specs: tuple[ChannelSpec, ...]
    lead_days: int
    horizon_days: int
    pools: Mapping[str, int] = attrs.field(factory=dict)
    office_per_citizen: int | None = None
    bookings: dict[str, Acked] = attrs.field(factory=dict)
    keys: dict[str, str] = attrs.field(factory=dict)
    closures: dict[date, str] = attrs.field(factory=dict)
    issued: dict[tuple[str, date], set[int]] = attrs.field(factory=dict)
    lifts: dict[str, date] = attrs.field(factory=dict)
    line: list[Waiting] = attrs.field(factory=list)
    opened: set[date] = attrs.field(factory=set)

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels in service order."""
        return tuple(s.name for s in self.specs)

    def spec(self, channel: str) -> ChannelSpec:
        """The channel's spec."""
        return next(s for s in self.specs if s.name == channel)

    # -- days ------------------------------------------------------------------------------

    def working(self, d: date) -> bool:
        """Open by the office's own calendar (weekmask and holidays), or opened at run time."""
        return (self.weekmask[d.weekday()] == "1" and d not in self.holidays) or d in self.opened

    def open(self, d: date) -> bool:
        """Open by the calendar and not closed at run time."""
        return self.working(d) and d not in self.closures

    def next_open_after(self, d: date) -> date:
        """The first open day after ``d``."""
        d += ONE_DAY
        while not self.open(d):
            d += ONE_DAY
        return d

    def online_window(self, today: date) -> tuple[date, date]:
        """First and last online day: the ``lead_days``-th working day after today (today
        not counted; 0: today if it is a working day), walked day by day."""
        d = today
        if self.lead_days == 0:
            while not self.working(d):
                d += ONE_DAY
        seen = 0
        while seen < self.lead_days:
            d += ONE_DAY
            if self.working(d):
                seen += 1
        return d, today + timedelta(days=self.horizon_days)

    def window_days(self, channel: str, today: date) -> list[date]:
        """The open days a request on ``channel`` made ``today`` may take, in order."""
        if self.spec(channel).same_day:
            days = [today]
        else:
            first, last = self.online_window(today)
            days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        return [d for d in days if self.open(d) and self.places_on(channel, d)]

    def places_on(self, channel: str, d: date) -> list[Place]:
        """Where a booking on ``channel`` may go on ``d`` (room aside): by session order;
        none if the channel, a pool or every session has no capacity that day."""
        spec = self.spec(channel)
        cap = spec.capacity(d)
        pooled = [(f"p:{p}", self.pools[p]) for p in spec.pools]
        if cap <= 0 or any(c <= 0 for _, c in pooled):
            return []
        base = ((f"c:{channel}", cap), *pooled)
        if not spec.sessions:
            return [Place(d, None, base)]
        return [
            Place(d, (start, end), (*base, (f"s:{channel}@{start:%H:%M}", s_cap)))
            for start, end, s_cap in spec.sessions
            if s_cap > 0
        ]

    def unused_places(self, channel: str, today: date, now: time) -> list[Place]:
        """The places a same-day request at ``now`` may take from the channels whose unused
        places it may take (each from its time on): today, no window, charging that
        channel's day (at its capacity) and its pools, not the request's own channel."""
        out = []
        for other, since in self.spec(channel).takes_unused:
            if now < since:
                continue
            spec = self.spec(other)
            cap = spec.capacity(today)
            pooled = tuple((f"p:{p}", self.pools[p]) for p in spec.pools)
            if cap > 0 and all(c > 0 for _, c in pooled):
                out.append(Place(today, None, ((f"c:{other}", cap), *pooled)))
        return out

    def same_day_places(self, channel: str, today: date, now: time) -> list[Place]:
        """Every place a same-day request at ``now`` may take, in order: the channel's own,
        then the unused places of others."""
        return self.places_on(channel, today) + self.unused_places(channel, today, now)

    def candidates(self, channel: str, today: date, at: time | None = None) -> list[Place]:
        """Every place a request made ``today`` may take, in order (only the session
        starting ``at``, if given)."""
        return [
            p
            for d in self.window_days(channel, today)
            for p in self.places_on(channel, d)
            if at is None or (p.window is not None and p.window[0] == at)
        ]

    # -- counts ----------------------------------------------------------------------------

    def on_day(self, d: date, channel: str | None = None) -> list[Acked]:
        """The acknowledged bookings on ``d`` (any status), in service order: channel, then
        window, then number."""
        found = [b for b in self.bookings.values() if b.day == d and channel in (None, b.channel)]
        return sorted(
            found,
            key=lambda b: (
                self.channels.index(b.channel),
                b.window[0] if b.window else time.min,
                b.number,
            ),
        )

    def used(self, scope: str, d: date) -> int:
        """Places the active bookings of ``d`` hold in the counter ``scope``."""
        return sum(
            b.places
            for b in self.bookings.values()
            if b.day == d and b.status in ACTIVE and scope in b.scopes
        )

    def active(self, channel: str, d: date) -> int:
        """Places taken on ``d`` on ``channel`` (booked or checked in)."""
        return self.used(f"c:{channel}", d)

    def fits(self, place: Place, places: int = 1) -> bool:
        """Whether ``place`` is open and every counter it charges has room for ``places``."""
        return self.open(place.day) and all(
            self.used(scope, place.day) + places <= cap for scope, cap in place.charges
        )

    def first_fit(self, candidates: Iterable[Place], places: int = 1) -> Place | None:
        """The first candidate with room for ``places`` in every counter."""
        return next((p for p in candidates if self.fits(p, places)), None)

    def has_room(self, channel: str, d: date) -> bool:
        """Whether ``d`` is open and has room for one more on ``channel`` somewhere."""
        return self.first_fit(self.places_on(channel, d)) is not None

    def first_room(self, channel: str, days: Iterable[date]) -> date | None:
        """The first of ``days`` with room for one more on ``channel``."""
        return next((d for d in days if self.has_room(channel, d)), None)

    def remaining(self, channel: str, d: date) -> tuple[int, list[tuple[int, int, int]]]:
        """What availability should say on an open day: the channel's remaining places
        (net of its pools and sessions) and per session (capacity, booked, remaining)."""
        spec = self.spec(channel)
        left = spec.capacity(d) - self.active(channel, d)
        for p in spec.pools:
            left = min(left, self.pools[p] - self.used(f"p:{p}", d))
        left = max(0, left)
        rows = []
        for start, _, s_cap in spec.sessions:
            booked = self.used(f"s:{channel}@{start:%H:%M}", d)
            rows.append((s_cap, booked, max(0, min(s_cap - booked, left))))
        if rows:
            left = min(left, sum(r[2] for r in rows))
        return left, rows

    def scopes(self) -> set[tuple[str, int]]:
        """Every counter of the office, with its constant capacity where it has one
        (channels: ``-1``, their capacity depends on the day)."""
        out: set[tuple[str, int]] = {(f"p:{p}", c) for p, c in self.pools.items()}
        for spec in self.specs:
            out.add((f"c:{spec.name}", -1))
            out |= {(f"s:{spec.name}@{s:%H:%M}", c) for s, _, c in spec.sessions}
        return out

    def held(self, citizen: str, channel: str, today: date) -> int:
        """Active bookings of ``citizen`` on ``channel`` from ``today`` on."""
        return sum(
            1
            for b in self.bookings.values()
            if b.citizen == citizen and b.channel == channel
            and b.status in ACTIVE and b.day >= today
        ) + sum(
            1 for e in self.line
            if e.citizen == citizen and e.channel == channel and e.until >= today
        )  # fmt: skip

    def held_in_office(self, citizen: str, today: date) -> int:
        """Active bookings of ``citizen`` on every channel from ``today`` on."""
        return sum(
            1
            for b in self.bookings.values()
            if b.citizen == citizen and b.status in ACTIVE and b.day >= today
        ) + sum(1 for e in self.line if e.citizen == citizen and e.until >= today)

    def limits_reached(self, citizen: str | None, channel: str, today: date) -> set[str | None]:
        """Which limits a new booking of ``citizen`` on ``channel`` would break: the
        channel's own (its name) and the office's (``None``); none for an anonymous one."""
        if citizen is None:
            return set()
        out: set[str | None] = set()
        limit = self.spec(channel).per_citizen
        if limit is not None and self.held(citizen, channel, today) >= limit:
            out.add(channel)
        office = self.office_per_citizen
        if office is not None and self.held_in_office(citizen, today) >= office:
            out.add(None)
        return out

    def suspended_until(self, citizen: str | None, channel: str, today: date) -> date | None:
        """The first day ``citizen`` may book on ``channel`` again, if they are suspended
        today: their no-shows on days of the window before today, not before their last
        lift, reach the channel's limit, and today is before the latest + the days."""
        spec = self.spec(channel)
        if citizen is None or spec.no_show_limit is None:
            return None
        start = today - timedelta(days=spec.no_show_window_days)
        lifted = self.lifts.get(citizen, date.min)
        missed = [
            b.day
            for b in self.bookings.values()
            if b.citizen == citizen and b.status == NO_SHOW and max(start, lifted) <= b.day < today
        ]
        if len(missed) < spec.no_show_limit:
            return None
        until = max(missed) + timedelta(days=spec.suspension_days)
        return until if today < until else None

    def next_number(self, channel: str, d: date) -> int:
        """The number the next booking on (channel, d) must get: never one given before."""
        return max(self.issued.get((channel, d), ()), default=0) + 1

    # -- changes ---------------------------------------------------------------------------

    def copy(self) -> Model:
        """An independent copy (to try a change before knowing whether it happened)."""
        return attrs.evolve(
            self,
            bookings={k: attrs.evolve(v) for k, v in self.bookings.items()},
            keys=dict(self.keys),
            closures=dict(self.closures),
            issued={k: set(v) for k, v in self.issued.items()},
            lifts=dict(self.lifts),
            line=list(self.line),
            opened=set(self.opened),
        )

    def add(self, booking: Acked) -> None:
        """Record a new acknowledged booking."""
        self.bookings[booking.id] = booking
        self.issued.setdefault((booking.channel, booking.day), set()).add(booking.number)
        if booking.key is not None:
            self.keys[booking.key] = booking.id

    def move(self, booking: Acked, place: Place, number: int) -> None:
        """Record that ``booking`` now sits in ``place`` with ``number``."""
        booking.day, booking.number = place.day, number
        booking.window, booking.scopes = place.window, place.scopes
        self.issued.setdefault((booking.channel, place.day), set()).add(number)

    def close(self, d: date, reason: str, horizon: int = 366) -> list[tuple[str, date, int]]:
        """Close ``d`` and move its booked bookings; returns (id, day, number) per move.

        Channel by channel in service order, each in number order, to the first place
        after ``d`` (up to ``horizon`` days, sessions in order) with room for its places.

        Raises:
            LookupError: A booking finds no room (the model is then unusable).
        """
        if d in self.closures:
            return []
        self.closures[d] = reason
        self.opened.discard(d)  # closing a day opened at run time undoes the opening
        moved: list[tuple[str, date, int]] = []
        for channel in self.channels:
            booked = [b for b in self.bookings.values() if b.day == d and b.channel == channel]
            for b in sorted((b for b in booked if b.status == BOOKED), key=lambda b: b.number):
                later = (d + timedelta(days=i + 1) for i in range(horizon))
                target = self.first_fit(
                    (p for day in later for p in self.places_on(channel, day)), b.places
                )
                if target is None:
                    raise LookupError(f"no room for {b.id} within {horizon} days of {d}")
                number = self.next_number(channel, target.day)
                self.move(b, target, number)
                moved.append((b.id, target.day, number))
        return moved
