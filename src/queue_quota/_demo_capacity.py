"""The demo's second part: arrival windows, reserved priority places, a household and
unused online places for the people at the door, on the same SQLite storage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from .calendar import WorkingCalendar
from .counters import Pool, Session
from .errors import NotEligible, QuotaExhausted
from .i18n import format_window
from .office import Office
from .policies import OnlineQuota, WalkInQuota
from .scheduler import Scheduler
from .storage.base import Storage

__all__ = ["capacity_office", "run_capacity_demo"]

WIB = ZoneInfo("Asia/Jakarta")
THURSDAY = datetime(2020, 6, 4, 9, 0, tzinfo=WIB)
FRIDAY = date(2020, 6, 5)


def capacity_office() -> Office:
    """30 places a day under one pool: online at most 25 (in two arrival windows), priority
    (the elderly, the disabled, pregnant women: a verified claim) may take any place left,
    so 5 are always theirs; walk-ins 10, taking unused online places from 10:00."""
    return Office(
        "tegal-loket",
        WorkingCalendar.indonesia(tz="Asia/Jakarta"),
        [
            OnlineQuota(
                25,
                max_places=4,
                sessions=[Session(time(8), time(10), 15), Session(time(10), time(12), 15)],
            ),
            OnlineQuota(
                30, channel="priority", prefix="P", requires_claim="group",
                title={"id": "Prioritas", "en": "Priority"},
            ),
            WalkInQuota(
                10, opens=time(7, 30), closes=time(12), takes_unused={"online": time(10)}
            ),
        ],
        pools=[Pool("loket", 30, ["online", "priority"])],
    )  # fmt: skip


def run_capacity_demo(storage: Storage, secret: bytes, write: Callable[[str], object]) -> None:
    """Book the scenario and print what each counter holds on Friday 5 June 2020."""
    sched = Scheduler(capacity_office(), storage, secret=secret)
    family = sched.book("online", "3328011111110001", now=THURSDAY, places=3)
    online = [sched.book("online", f"33280122{i:08d}", now=THURSDAY) for i in range(23)]
    priority = [
        sched.book("priority", f"33280133{i:08d}", now=THURSDAY, claims={"group": "lansia"})
        for i in range(6)
    ]
    write("\nArrival windows, reserved places, a household (a second office, same storage)\n")
    write("  Online 25 a day in two windows of 15, priority 30, both under one pool of 30.\n")
    write(
        f"  A household of {family.places}: one number, {family.label}, "
        f"{format_window(family.window or (time(0), time(0)), 'en', tz='Asia/Jakarta')}.\n"
    )
    on_friday = [b for b in online if b.day == FRIDAY]
    later = [b for b in online if b.day != FRIDAY]
    write(
        f"  Online: {len(on_friday)} more on Friday, then {len(later)} went to "
        f"{later[0].day:%A %d %B} (Friday's 25 online places are taken).\n"
        if later
        else f"  Online: {len(on_friday)} more on Friday.\n"
    )
    p_friday = sum(1 for b in priority if b.day == FRIDAY)
    write(f"  Priority: {p_friday} on Friday (the 5 reserved places), the 6th on Monday.\n")
    try:
        sched.book("priority", "3328014444440001", now=THURSDAY)
    except NotEligible as exc:
        write(f"  Priority without the verified claim: refused ({exc.code}).\n")
    (day,) = sched.availability("online", FRIDAY, date(2020, 6, 6), now=THURSDAY)
    rows = ", ".join(
        f"{format_window((s.start, s.end), 'en')} {s.booked}/{s.capacity}" for s in day.sessions
    )
    write(f"  Friday online by window: {rows}; room left {day.remaining}.\n")
    monday = date(2020, 6, 8)
    (left,) = sched.availability("online", monday, date(2020, 6, 9), now=THURSDAY)
    at_ten = datetime(2020, 6, 8, 10, 0, tzinfo=WIB)
    served = 0
    try:
        while True:
            sched.book("walk_in", now=at_ten)
            served += 1
    except QuotaExhausted:
        pass
    write(
        f"  Walk-ins on Monday from 10:00: {served} numbers, their own 10 and the "
        f"{served - 10} online places nobody booked (online had {left.booked} of 25).\n"
    )
