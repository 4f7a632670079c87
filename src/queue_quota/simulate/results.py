"""What a simulation returns: `DayRow` per day, a `Summary`, the `Simulation`, a `Comparison`.

Every count is of citizens (each books one place), as the office's real scheduler answered
them. ``as_rows()`` flattens the rows for CSV and JSON with stable field names (below).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

__all__ = ["Comparison", "DayRow", "Simulation", "Summary"]


@attrs.frozen(kw_only=True)
class DayRow:
    """One simulated calendar day. Per-channel values are dicts keyed by channel name;
    per-session values are dicts keyed by channel, then by the session's start
    (``"08:00"``), for every session the channel's policy declares.

    Attributes:
        day: The day.
        open: Whether it is a working day of the office's calendar.
        online_arrivals: Online registrants who tried for the first time that day (the
            first day's surge included).
        online_retries: Attempts that day by citizens refused on an earlier day.
        requests: ``book`` calls per channel (a priority citizen refused on the priority
            channel asks the general one too: two requests).
        refused: Of those, the refused ones, per channel (``booked == requests -
            refused``).
        booked: Places given that day by ``book``, per channel (walk-ins included).
        booked_sessions: The same per session.
        promoted: Waitlist entries given a place that day (not counted in ``booked``).
        waitlisted: Citizens who joined a waitlist that day.
        gave_up: Citizens who stopped trying that day (refused with no retry left, or a
            waitlist entry that expired).
        capacity: Places the channel offers on this day (0 when closed).
        capacity_sessions: The same per session.
        booked_for_day: Places booked for this day at its end, per channel (checked in or
            not yet marked no-show; cancelled places are free again).
        booked_for_day_sessions: The same per session.
        checked_in: Citizens served that day, per channel.
        no_shows: Bookings of this day marked ``no_show`` once it had ended.
        cancellations: Bookings cancelled that day (for this or a later day).
        walk_ins: Walk-ins who came to the door.
        walk_ins_served: Of those, given a number (``walk_ins == served + turned_away``).
        walk_ins_turned_away: Of those, refused (full, closed, outside the hours).
        waitlist: Entries waiting at the end of the day, over the online channels.
        backlog: Online places booked for later days at the end of the day.
        next_available: Per online channel, the first day with room at the end of the
            day (``None``: the booking window is full).
        window_full: The general online channel had no room in its window at the end of
            the day.
        quoted_wait: Working days from this day to the general channel's first day with
            room at its end (what a citizen registering then would wait; ``None`` if full).
        wait_mean: Mean wait, in working days, of those who first tried this day and were
            given a place (at any later time; ``None`` if none).
        wait_max: Their longest wait (``None`` if none).
    """

    day: date
    open: bool
    online_arrivals: int = 0
    online_retries: int = 0
    requests: dict[str, int] = attrs.field(factory=dict)
    refused: dict[str, int] = attrs.field(factory=dict)
    booked: dict[str, int] = attrs.field(factory=dict)
    booked_sessions: dict[str, dict[str, int]] = attrs.field(factory=dict)
    promoted: int = 0
    waitlisted: int = 0
    gave_up: int = 0
    capacity: dict[str, int] = attrs.field(factory=dict)
    capacity_sessions: dict[str, dict[str, int]] = attrs.field(factory=dict)
    booked_for_day: dict[str, int] = attrs.field(factory=dict)
    booked_for_day_sessions: dict[str, dict[str, int]] = attrs.field(factory=dict)
    checked_in: dict[str, int] = attrs.field(factory=dict)
    no_shows: int = 0
    cancellations: int = 0
    walk_ins: int = 0
    walk_ins_served: int = 0
    walk_ins_turned_away: int = 0
    waitlist: int = 0
    backlog: int = 0
    next_available: dict[str, date | None] = attrs.field(factory=dict)
    window_full: bool = False
    quoted_wait: int | None = None
    wait_mean: float | None = None
    wait_max: int | None = None


#: The per-day fields that are one number, in `as_rows` order after ``day`` and ``open``.
_SCALARS = (
    "online_arrivals",
    "online_retries",
    "promoted",
    "waitlisted",
    "gave_up",
    "no_shows",
    "cancellations",
    "walk_ins",
    "walk_ins_served",
    "walk_ins_turned_away",
    "waitlist",
    "backlog",
    "window_full",
    "quoted_wait",
    "wait_mean",
    "wait_max",
)
_PER_CHANNEL = ("requests", "refused", "booked", "capacity", "booked_for_day", "checked_in")
_PER_SESSION = (
    ("booked", "booked_sessions"),
    ("capacity", "capacity_sessions"),
    ("booked_for_day", "booked_for_day_sessions"),
)


@attrs.frozen(kw_only=True)
class Summary:
    """The simulation in a few numbers.

    Waits are in **working days** of the office's calendar from the day a citizen first
    tried to the day they were given (the working days after the first, up to and
    including the second: registering on Monday for Tuesday is 1, on Saturday for Monday
    is 1), over every online citizen given a place who did not cancel (no-shows
    included: they were given that day). Percentiles are nearest-rank: ``wait_p90 = 5``
    means 90 % were given a day at most 5 working days ahead.

    Attributes:
        online_registrants: Online citizens simulated (each counted once).
        online_given_place: Of those, given a place (at once, after retrying, or from the
            waitlist).
        online_gave_up: Of those, who gave up (no retry left, or an expired entry).
        online_still_waiting: Of those, still on a waitlist or retrying at the end.
        wait_p50: Median wait (``None`` if nobody was given a place).
        wait_p90: 90th percentile of the wait.
        wait_max: Longest wait.
        wait_mean: Mean wait.
        walk_ins: Walk-ins who came.
        walk_ins_turned_away: Of those, refused.
        walk_in_turned_away_share: ``walk_ins_turned_away / walk_ins`` (``None``: nobody came).
        no_shows: Bookings marked ``no_show`` on the simulated days.
        cancellations: Bookings cancelled on the simulated days.
        utilisation: Per channel: places booked for the simulated days (at each day's end)
            / places offered on them (``None`` for a channel that offered none).
        days_window_full: Days at whose end the general online channel had no room in
            its booking window.
        service_days: Working days simulated.
    """

    online_registrants: int
    online_given_place: int
    online_gave_up: int
    online_still_waiting: int
    wait_p50: int | None
    wait_p90: int | None
    wait_max: int | None
    wait_mean: float | None
    walk_ins: int
    walk_ins_turned_away: int
    walk_in_turned_away_share: float | None
    no_shows: int
    cancellations: int
    utilisation: dict[str, float | None]
    days_window_full: int
    service_days: int

    def as_dict(self) -> dict[str, int | float | None]:
        """The summary flat: every field by name, ``utilisation`` as ``utilisation.<channel>``."""
        out: dict[str, int | float | None] = {}
        for a in attrs.fields(Summary):
            value = getattr(self, a.name)
            if isinstance(value, Mapping):
                out.update({f"{a.name}.{k}": v for k, v in value.items()})
            else:
                out[a.name] = value
        return out


def _flat_value(value: Any) -> object:
    return value.isoformat() if isinstance(value, date) else value


@attrs.frozen(kw_only=True)
class Simulation:
    """One office run against one demand.

    Attributes:
        office_id: The office simulated.
        start: The first simulated day.
        days: How many calendar days were simulated.
        seed: The seed of the demand draws.
        channels: The office's channels, in service order.
        online_channels: Those that are not walk-in channels.
        general_channel: The channel every online citizen tries (``None``: no online
            channel).
        walk_in_channel: The channel walk-ins ask for (``None``: walk-ins are turned away).
        sessions: Per channel, the starts (``"08:00"``) of its sessions.
        rows: One `DayRow` per calendar day, in order.
        summary: The `Summary`.
        waits: Every wait counted in the summary, in working days, by order of first try.
    """

    office_id: str
    start: date
    days: int
    seed: int
    channels: tuple[str, ...]
    online_channels: tuple[str, ...]
    general_channel: str | None
    walk_in_channel: str | None
    sessions: dict[str, tuple[str, ...]]
    rows: tuple[DayRow, ...]
    summary: Summary
    waits: tuple[int, ...] = ()

    def as_rows(self) -> list[dict[str, object]]:
        """The rows flat, one dict per day, every dict with the same keys in this order:

        * ``day`` (ISO text), ``open``;
        * ``online_demand`` (``online_arrivals + online_retries``), ``online_capacity``
          and ``online_booked_for_day`` (summed over the online channels): capacity
          against demand per day, at a glance;
        * every one-number field of `DayRow`, by its name: ``online_arrivals``,
          ``online_retries``, ``promoted``, ``waitlisted``, ``gave_up``, ``no_shows``,
          ``cancellations``, ``walk_ins``, ``walk_ins_served``, ``walk_ins_turned_away``,
          ``waitlist``, ``backlog``, ``window_full``, ``quoted_wait``, ``wait_mean``,
          ``wait_max``;
        * per channel ``C`` (service order): ``requests.C``, ``refused.C``, ``booked.C``,
          ``capacity.C``, ``booked_for_day.C``, ``checked_in.C``; then per session start
          ``HH:MM`` of ``C``: ``booked.C.HH:MM``, ``capacity.C.HH:MM``,
          ``booked_for_day.C.HH:MM``;
        * per online channel ``C``: ``next_available.C`` (ISO text or ``None``).

        Values are ``int``, ``float``, ``bool``, ``str`` or ``None`` (JSON as is; CSV
        writes ``None`` as an empty cell).
        """
        online = self.online_channels
        out: list[dict[str, object]] = []
        for row in self.rows:
            flat: dict[str, object] = {"day": row.day.isoformat(), "open": row.open}
            flat["online_demand"] = row.online_arrivals + row.online_retries
            flat["online_capacity"] = sum(row.capacity.get(c, 0) for c in online)
            flat["online_booked_for_day"] = sum(row.booked_for_day.get(c, 0) for c in online)
            for name in _SCALARS:
                flat[name] = getattr(row, name)
            for channel in self.channels:
                for name in _PER_CHANNEL:
                    flat[f"{name}.{channel}"] = getattr(row, name).get(channel, 0)
                for start in self.sessions.get(channel, ()):
                    for name, attribute in _PER_SESSION:
                        per = getattr(row, attribute).get(channel, {})
                        flat[f"{name}.{channel}.{start}"] = per.get(start, 0)
            for channel in online:
                flat[f"next_available.{channel}"] = _flat_value(row.next_available.get(channel))
            out.append(flat)
        return out


@attrs.frozen(kw_only=True)
class Comparison:
    """Two offices on the same demand: the same citizens on the same days.

    Attributes:
        a: The first office's simulation.
        b: The second office's simulation.
        difference: ``b - a`` for every number of `Summary.as_dict` (``None`` where one
            side has no number, e.g. a channel only one office has).
    """

    a: Simulation
    b: Simulation
    difference: dict[str, int | float | None]
