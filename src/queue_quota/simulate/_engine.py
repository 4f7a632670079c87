"""The simulation loop: drawn citizens meet the office's real `Scheduler`, day by day.

Only the public `Scheduler` API is used (``book``, ``join_waitlist``, ``waitlist``,
``get``, ``cancel``, ``check_in``, ``mark_no_shows``, ``availability``,
``next_available``), on a `MemoryStorage`, every call at an explicit ``now=`` of the
simulated day. A day runs in this order (local office time):

* 00:01 the previous day's bookings still ``booked`` are marked ``no_show``;
* 06:00 the cancellations due that day;
* from then on, online registrations (first tries and retries) and walk-ins, in order
  of their time of arrival (a walk-in given a number is checked in at once);
* 22:00 cancellations of bookings made that day that are cancelled the same day;
* 22:30 waitlist entries that were given a place (or expired) are noticed;
* 23:00 those booked for the day who come are checked in;
* 23:30 the day's counters are read (``availability``, ``next_available``, waitlists).

Booking ids and tickets are random; nothing here depends on them but as handles.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from ..errors import BookingNotFound, ConfigurationError, InvalidTransition, RefusalError
from ..models import Booking
from ..office import Office
from ..scheduler import Scheduler
from ..storage.memory import MemoryStorage
from ._draws import Arrival, Draws, thin
from ._stats import summarise
from .demand import Demand
from .results import DayRow, Simulation

__all__ = ["run"]

#: Tickets and citizen refs need a key; a fixed one keeps runs alike (nothing leaves).
_SECRET = b"queue-quota-simulation-only-key!"
_CANCEL_AT = 6 * 3600
_LATE_CANCEL_AT = 22 * 3600
_PROMOTIONS_AT = 22 * 3600 + 1800
_SERVICE_AT = 23 * 3600
_READ_AT = 23 * 3600 + 1800


class _Person:
    """An online citizen and what became of them."""

    __slots__ = (
        "arrival",
        "booking",
        "cancelled",
        "citizen_id",
        "first_index",
        "tries_left",
        "wait",
    )

    def __init__(self, arrival: Arrival, first_index: int, tries: int) -> None:
        self.arrival = arrival
        self.citizen_id = f"33{arrival.number:014d}"  # NIK-like, distinct
        self.first_index = first_index
        self.tries_left = tries
        self.booking: Booking | None = None
        self.cancelled = False
        self.wait: int | None = None


class _Day:
    """The counters of one day while it runs (`DayRow` once the run is over)."""

    def __init__(self, day: date, is_open: bool, channels: Sequence[str]) -> None:
        self.day = day
        self.open = is_open
        self.arrivals = self.retries = 0
        self.promoted = self.waitlisted = self.gave_up = 0
        self.no_shows = self.cancellations = 0
        self.walk_ins = self.served = self.turned_away = 0
        self.requests: Counter[str] = Counter(dict.fromkeys(channels, 0))
        self.refused: Counter[str] = Counter(dict.fromkeys(channels, 0))
        self.booked: Counter[str] = Counter(dict.fromkeys(channels, 0))
        self.checked_in: Counter[str] = Counter(dict.fromkeys(channels, 0))
        self.booked_sessions: dict[str, Counter[str]] = defaultdict(Counter)
        # read at the end of the day
        self.capacity: dict[str, int] = {}
        self.booked_for_day: dict[str, int] = {}
        self.capacity_sessions: dict[str, dict[str, int]] = {}
        self.booked_for_day_sessions: dict[str, dict[str, int]] = {}
        self.next_available: dict[str, date | None] = {}
        self.waitlist = self.backlog = 0
        self.window_full = False
        self.quoted_wait: int | None = None


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _session_key(booking: Booking) -> str | None:
    return None if booking.window is None else f"{booking.window[0]:%H:%M}"


class Engine:
    """One run of one office (`run` builds it)."""

    def __init__(self, office: Office, demand: Demand, start: date, days: int) -> None:
        self.office = office
        self.demand = demand
        self.start = start
        self.days = days
        self.calendar = office.calendar
        self.tz = office.calendar.tz
        self.sched = Scheduler(office, MemoryStorage(), secret=_SECRET, clock=self._clock)
        self._now = datetime.combine(start, time(0), self.tz)
        self.channels = office.channels
        walk = office.walk_in_channels
        self.online = tuple(c for c in self.channels if c not in walk)
        self.general = self._general(walk)
        self.walk_in = self._walk_in(walk)
        claims = demand.priority_claims
        self.priority = tuple(
            c
            for c in self.online
            if c != self.general and getattr(office.policy(c), "requires_claim", None) in claims
        )
        self.sessions = {
            c: tuple(f"{s.start:%H:%M}" for s in getattr(office.policy(c), "sessions", ()))
            for c in self.channels
        }
        self.hours = self._walk_in_hours()
        self.people: list[_Person] = []
        self.rows: list[_Day] = []
        self.due: dict[date, list[_Person]] = defaultdict(list)
        self.cancels: dict[date, list[_Person]] = defaultdict(list)
        self.late_cancels: dict[date, list[_Person]] = defaultdict(list)
        self.retries: dict[int, list[_Person]] = defaultdict(list)
        self.entries: dict[str, _Person] = {}
        self.ahead: Counter[date] = Counter()  # online places booked, by day
        self.walk_in_citizens = 0

    # -- setup -----------------------------------------------------------------------------

    def _clock(self) -> datetime:
        return self._now

    def _general(self, walk: tuple[str, ...]) -> str | None:
        name = self.demand.online_channel
        if name is None:
            plain = [
                c
                for c in self.online
                if getattr(self.office.policy(c), "requires_claim", None) is None
            ]
            return plain[0] if plain else (self.online[0] if self.online else None)
        self.office.policy(name)  # UnknownChannel
        if name in walk:
            raise ConfigurationError(
                f"online_channel {name!r} is a walk-in channel of office {self.office.id!r}",
                message_key="configuration_error.simulate_channel",
                channel=name,
            )
        return name

    def _walk_in(self, walk: tuple[str, ...]) -> str | None:
        name = self.demand.walk_in_channel
        if name is None:
            return walk[0] if walk else None
        self.office.policy(name)  # UnknownChannel
        if name not in walk:
            raise ConfigurationError(
                f"walk_in_channel {name!r} is not a walk-in channel of office {self.office.id!r}",
                message_key="configuration_error.simulate_channel",
                channel=name,
            )
        return name

    def _walk_in_hours(self) -> tuple[int, int]:
        if self.walk_in is None:
            return 0, 86399
        policy = self.office.policy(self.walk_in)
        opens = getattr(policy, "opens", time(0))
        closes = getattr(policy, "closes", time(23, 59, 59))
        return _seconds(opens), _seconds(closes)

    def _at(self, day: date, second: int) -> datetime:
        self._now = datetime.combine(day, time(0), self.tz) + timedelta(seconds=second)
        return self._now

    # -- the run ---------------------------------------------------------------------------

    def run(self, draws: Draws, seed: int) -> Simulation:
        """Simulate every day, then build the rows and the summary."""
        for i in range(self.days):
            day = self.start + timedelta(days=i)
            row = _Day(day, self.calendar.is_working_day(day), self.channels)
            self.rows.append(row)
            if i > 0:
                self._mark_no_shows(i - 1, day)
            self._day(i, row, draws)
        self._mark_no_shows(self.days - 1, self.start + timedelta(days=self.days))
        return self._result(seed)

    def _mark_no_shows(self, index: int, today: date) -> None:
        row = self.rows[index]
        if row.open:
            row.no_shows = len(self.sched.mark_no_shows(row.day, now=self._at(today, 60)))

    def _day(self, i: int, row: _Day, draws: Draws) -> None:
        day = row.day
        arrivals: Sequence[Arrival] = draws.online[i]
        if not row.open and not draws.online_exact:
            arrivals = thin(arrivals, self.demand.closed_day_share, not self.demand.poisson)
        walk_ins = draws.walk_ins[i] if (row.open or draws.walk_in_exact) else ()
        # (second, order, kind, person): a stable, id-free order of the day's events
        events: list[tuple[int, int, int, _Person | None]] = []
        for person in self.cancels.pop(day, ()):
            events.append((_CANCEL_AT, len(events), 0, person))
        for arrival in arrivals:
            person = _Person(arrival, i, self.demand.retry_days)
            self.people.append(person)
            row.arrivals += 1
            events.append((arrival.second, len(events), 1, person))
        for person in self.retries.pop(i, ()):
            row.retries += 1
            events.append((person.arrival.second, len(events), 1, person))
        first, last = self.hours
        for fraction in walk_ins:
            events.append((first + int(fraction * (last - first)), len(events), 2, None))
        events.sort(key=lambda e: (e[0], e[1]))
        for second, _, kind, who in events:
            at = self._at(day, second)
            if kind == 0 and who is not None:
                self._cancel(row, who, at)
            elif kind == 1 and who is not None:
                self._register(i, row, who, at)
            else:
                self._walk_in_arrives(row, at)
        for person in self.late_cancels.pop(day, ()):
            self._cancel(row, person, self._at(day, _LATE_CANCEL_AT))
        if self.entries:
            self._promotions(i, row, self._at(day, _PROMOTIONS_AT))
        at = self._at(day, _SERVICE_AT)
        for person in self.due.pop(day, ()):
            if not person.cancelled and person.arrival.shows and person.booking is not None:
                self.sched.check_in(person.booking.id, now=at)
                row.checked_in[person.booking.channel] += 1
        self._read(row, self._at(day, _READ_AT))

    # -- citizens --------------------------------------------------------------------------

    def _register(self, i: int, row: _Day, person: _Person, at: datetime) -> None:
        if self.general is None:
            return self._refused(i, row, person, at)
        tried = (*self.priority, self.general) if person.arrival.priority else (self.general,)
        claims = self.demand.priority_claims if person.arrival.priority else None
        for channel in tried:
            row.requests[channel] += 1
            try:
                booking = self.sched.book(channel, person.citizen_id, now=at, claims=claims)
            except RefusalError:
                row.refused[channel] += 1
                continue
            row.booked[channel] += 1
            key = _session_key(booking)
            if key is not None:
                row.booked_sessions[channel][key] += 1
            self._given(person, booking, row.day, same_day_cancel=True)
            return None
        if self.demand.waitlist:
            try:
                entry = self.sched.join_waitlist(
                    self.general, person.citizen_id, now=at, claims=claims
                )
            except (RefusalError, InvalidTransition):
                pass
            else:
                self.entries[entry.id] = person
                row.waitlisted += 1
                return None
        return self._refused(i, row, person, at)

    def _refused(self, i: int, row: _Day, person: _Person, at: datetime) -> None:
        if person.tries_left > 0:
            person.tries_left -= 1
            self.retries[i + 1].append(person)
        else:
            row.gave_up += 1

    def _given(
        self, person: _Person, booking: Booking, today: date, *, same_day_cancel: bool
    ) -> None:
        person.booking = booking
        first = self.start + timedelta(days=person.first_index)
        person.wait = self.calendar.count_working_days(
            first + timedelta(days=1), booking.day + timedelta(days=1)
        )
        self.ahead[booking.day] += booking.places
        self.due[booking.day].append(person)
        if not person.arrival.cancels:
            return
        cancel_day = max(booking.day - timedelta(days=self.demand.cancel_days_before), today)
        if cancel_day == today and not same_day_cancel:
            cancel_day = today + timedelta(days=1)
        if cancel_day > booking.day:
            return  # noticed too late to cancel: they simply come (or not)
        (self.late_cancels if cancel_day == today else self.cancels)[cancel_day].append(person)

    def _cancel(self, row: _Day, person: _Person, at: datetime) -> None:
        booking = person.booking
        if booking is None or person.cancelled:
            return
        self.sched.cancel(booking.id, now=at)
        person.cancelled = True
        row.cancellations += 1
        self.ahead[booking.day] -= booking.places

    def _promotions(self, i: int, row: _Day, at: datetime) -> None:
        waiting = {e.id for c in self.online for e in self.sched.waitlist(c, now=at)}
        for entry_id in [e for e in self.entries if e not in waiting]:
            person = self.entries.pop(entry_id)
            try:
                booking = self.sched.get(entry_id)
            except BookingNotFound:  # expired: nobody freed a place in time
                row.gave_up += 1
                continue
            row.promoted += 1
            self._given(person, booking, row.day, same_day_cancel=False)

    def _walk_in_arrives(self, row: _Day, at: datetime) -> None:
        row.walk_ins += 1
        channel = self.walk_in
        if channel is None:
            row.turned_away += 1
            return
        row.requests[channel] += 1
        citizen: str | None = None
        if self.office.policy(channel).requires_citizen:
            self.walk_in_citizens += 1
            citizen = f"34{self.walk_in_citizens:014d}"
        try:
            booking = self.sched.book(channel, citizen, now=at)
        except RefusalError:
            row.refused[channel] += 1
            row.turned_away += 1
            return
        row.booked[channel] += 1
        row.served += 1
        key = _session_key(booking)
        if key is not None:
            row.booked_sessions[channel][key] += 1
        self.sched.check_in(booking.id, now=at)
        row.checked_in[channel] += 1

    # -- reading the day -------------------------------------------------------------------

    def _read(self, row: _Day, at: datetime) -> None:
        day = row.day
        after = day + timedelta(days=1)
        for channel in self.channels:
            (avail,) = self.sched.availability(channel, day, after, now=at)
            row.capacity[channel] = avail.capacity
            row.booked_for_day[channel] = avail.booked
            keys = self.sessions[channel]
            if keys:
                found = {f"{s.start:%H:%M}": s for s in avail.sessions}
                row.capacity_sessions[channel] = {
                    k: found[k].capacity if k in found else 0 for k in keys
                }
                row.booked_for_day_sessions[channel] = {
                    k: found[k].booked if k in found else 0 for k in keys
                }
        row.next_available = {c: self.sched.next_available(c, now=at) for c in self.online}
        if self.demand.waitlist:
            row.waitlist = sum(len(self.sched.waitlist(c, now=at)) for c in self.online)
        row.backlog = sum(n for d, n in self.ahead.items() if d > day)
        if self.general is not None:
            first_free = row.next_available[self.general]
            row.window_full = first_free is None
            if first_free is not None:
                row.quoted_wait = self.calendar.count_working_days(
                    after, first_free + timedelta(days=1)
                )

    # -- the result ------------------------------------------------------------------------

    def _result(self, seed: int) -> Simulation:
        waits_by_day: dict[int, list[int]] = defaultdict(list)
        waits: list[int] = []
        for person in self.people:
            if person.wait is not None and not person.arrival.cancels:
                waits.append(person.wait)
                waits_by_day[person.first_index].append(person.wait)
        rows = tuple(self._row(d, waits_by_day.get(i, [])) for i, d in enumerate(self.rows))
        still = len(self.entries) + sum(len(v) for v in self.retries.values())
        summary = summarise(
            rows,
            waits,
            online_registrants=len(self.people),
            online_given_place=sum(1 for p in self.people if p.booking is not None),
            online_still_waiting=still,
            channels=self.channels,
        )
        return Simulation(
            office_id=self.office.id,
            start=self.start,
            days=self.days,
            seed=seed,
            channels=self.channels,
            online_channels=self.online,
            general_channel=self.general,
            walk_in_channel=self.walk_in,
            sessions=self.sessions,
            rows=rows,
            summary=summary,
            waits=tuple(waits),
        )

    def _row(self, d: _Day, waits: list[int]) -> DayRow:
        return DayRow(
            day=d.day,
            open=d.open,
            online_arrivals=d.arrivals,
            online_retries=d.retries,
            requests=dict(d.requests),
            refused=dict(d.refused),
            booked=dict(d.booked),
            booked_sessions={
                c: {k: d.booked_sessions[c][k] for k in keys}
                for c, keys in self.sessions.items()
                if keys
            },
            promoted=d.promoted,
            waitlisted=d.waitlisted,
            gave_up=d.gave_up,
            capacity=d.capacity,
            capacity_sessions=d.capacity_sessions,
            booked_for_day=d.booked_for_day,
            booked_for_day_sessions=d.booked_for_day_sessions,
            checked_in=dict(d.checked_in),
            no_shows=d.no_shows,
            cancellations=d.cancellations,
            walk_ins=d.walk_ins,
            walk_ins_served=d.served,
            walk_ins_turned_away=d.turned_away,
            waitlist=d.waitlist,
            backlog=d.backlog,
            next_available=d.next_available,
            window_full=d.window_full,
            quoted_wait=d.quoted_wait,
            wait_mean=sum(waits) / len(waits) if waits else None,
            wait_max=max(waits) if waits else None,
        )


def run(
    office: Office, demand: Demand, start: date, days: int, draws: Draws, seed: int
) -> Simulation:
    """Simulate ``office`` against the drawn ``demand``."""
    return Engine(office, demand, start, days).run(draws, seed)
