"""The Tegal scenario: ``make demo`` / ``queue-quota demo`` / ``python -m queue_quota.demo``.

Disdukcapil Kota Tegal, June 2020: at most 20 online registrants and 40 walk-ins are
served a day; weekends, holidays and cuti bersama are skipped. On Thursday 4 June 2020 a
few hundred citizens register online, and walk-ins arrive every working morning. The
bookings go into an SQLite database (the embedded default) and the result is printed as a
day-by-day table.
"""

from __future__ import annotations

import random
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from ._demo_capacity import run_capacity_demo
from ._demo_events import run_events_demo
from .calendar import WorkingCalendar
from .errors import AlreadyBooked, IdempotencyConflict, OutsideServiceHours, QuotaExhausted
from .models import Booking
from .office import Office
from .policies import OnlineQuota, WalkInQuota
from .scheduler import Scheduler
from .storage import SQLiteStorage

__all__ = ["main", "run_demo", "tegal_office"]

WIB = ZoneInfo("Asia/Jakarta")
START = date(2020, 6, 4)  # Thursday
ONLINE_FLOOD = 420
SIMULATED_DAYS = 58
DEMO_SECRET = b"tegal-demo-secret-not-for-production"


def tegal_office() -> Office:
    """The Tegal office: 20 online a day (from the next working day, 60 days ahead), 40
    walk-ins between 07:30 and 12:00; closed for maintenance on 10 June 2020 and open on
    Saturday 13 June 2020 to catch up."""
    calendar = WorkingCalendar.indonesia(
        tz="Asia/Jakarta",
        closures={date(2020, 6, 10): "system maintenance"},
        openings=[date(2020, 6, 13)],
    )
    return Office(
        id="tegal-disdukcapil",
        calendar=calendar,
        policies=[
            OnlineQuota(capacity=20, lead_days=1, horizon_days=60),
            WalkInQuota(capacity=40, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


def _at(day: date, minutes_after_midnight: int) -> datetime:
    return datetime.combine(day, time(0), WIB) + timedelta(minutes=minutes_after_midnight)


def _events(rng: random.Random, calendar: WorkingCalendar) -> list[tuple[datetime, str, str]]:
    """Online registrations (a flood on 4 June, a trickle after) and walk-ins, in time order."""
    events: list[tuple[datetime, str, str]] = []
    for i in range(ONLINE_FLOOD):
        events.append((_at(START, rng.randint(8 * 60, 21 * 60)), "online", f"3328{i:012d}"))
    serial = ONLINE_FLOOD
    d = START
    while d < START + timedelta(days=SIMULATED_DAYS):
        if calendar.is_working_day(d):
            if d > START:
                for _ in range(rng.randint(10, 20)):
                    minute = rng.randint(7 * 60, 22 * 60)
                    events.append((_at(d, minute), "online", f"3328{serial:012d}"))
                    serial += 1
            for j in range(rng.randint(40, 58)):
                minute = rng.randint(7 * 60 + 30, 12 * 60 + 40)
                events.append((_at(d, minute), "walk_in", f"w{j}"))
        d += timedelta(days=1)
    events.sort()
    return events


def run_demo(db_path: Path, out: TextIO | None = None, *, seed: int = 2020) -> int:
    """Run the scenario against an SQLite file and print the report (to ``out``, by
    default standard output); returns 0."""
    out = sys.stdout if out is None else out
    office = tegal_office()
    storage = SQLiteStorage(db_path, synchronous="NORMAL")
    sched = Scheduler(office, storage, secret=DEMO_SECRET)
    cal = office.calendar
    write: Callable[[str], object] = out.write

    turned_away: Counter[tuple[date, str]] = Counter()
    online_booked = online_refused = 0
    first: Booking | None = None
    first_who = ""
    for when, channel, who in _events(random.Random(seed), cal):
        try:
            if channel == "online":
                b = sched.book("online", who, now=when, idempotency_key=f"web-{who}")
                online_booked += 1
                if first is None:
                    first, first_who = b, who
            else:
                sched.book("walk_in", now=when)
        except OutsideServiceHours:
            turned_away[(when.date(), "after 12:00")] += 1
        except QuotaExhausted:
            if channel == "online":
                online_refused += 1
            else:
                turned_away[(when.date(), "full")] += 1

    online_days = sched.availability("online", START, START + timedelta(days=150))
    last_day = START + timedelta(days=SIMULATED_DAYS)
    later = [d for d in online_days if d.day > last_day and d.booked]
    walk_days = {d.day: d for d in sched.availability("walk_in", START, last_day)}
    write("queue_quota demo - Disdukcapil Kota Tegal (Asia/Jakarta, WIB)\n")
    write(
        f"  {ONLINE_FLOOD} citizens register online on Thursday 4 June 2020, then 10-20 more\n"
        "  each working day; 20 are served a day, from the next working day, up to 60 days\n"
        "  ahead. 40-58 walk-ins arrive each working morning: 40 numbers a day, 07:30-12:00.\n"
        "  Closed 10 June for maintenance; open Saturday 13 June to catch up.\n"
        f"  Storage: SQLite ({db_path.name}, WAL, one BEGIN IMMEDIATE transaction a booking;\n"
        "  bookings waiting at once in several threads would share one).\n\n"
    )
    write(f"{'date':<17}{'online':>7}{'walk-in':>9}  {'walk-ins turned away':<25}closed because\n")
    write("-" * 92 + "\n")
    for day in online_days:
        if day.day > last_day:
            break
        label = f"{day.day:%a %d %b %Y}"
        if day.closed_reason is not None:
            write(f"{label:<17}{'-':>7}{'-':>9}  {'':<25}{day.closed_reason}\n")
            continue
        walk = walk_days.get(day.day)
        walked = f"{walk.booked:>6}/40" if walk is not None and walk.booked else f"{'':>9}"
        away = ", ".join(
            f"{n} {why}" for (d, why), n in sorted(turned_away.items()) if d == day.day
        )
        note = "special opening" if day.day in cal.openings else ""
        write(f"{label:<17}{day.booked:>4}/20{walked}  {away:<25}{note}\n".rstrip() + "\n")

    if later:
        write(
            f"... and {sum(d.booked for d in later)} online bookings already given for "
            f"{later[0].day:%d %b} .. {later[-1].day:%d %b %Y}\n"
        )
    over = [d for d in online_days if d.booked > 20]
    over += [d for d in walk_days.values() if d.booked > 40]
    write(
        f"\nOnline: {online_booked} booked, {online_refused} refused because the 60-day window "
        f"was full.\nDays over quota: {len(over)}.\n"
    )
    write("\nWhat a citizen sees\n")
    if first is not None:
        b = sched.get(first.id)
        write(
            f"  The first online registrant: {b.label}, served on {b.day:%A %d %B %Y};\n"
            f"    ticket {b.ticket} (signed; no personal data in it).\n"
        )
        retry_at = _at(START, 22 * 60)
        again = sched.book("online", first_who, now=retry_at, idempotency_key=f"web-{first_who}")
        write(f"  The same request retried with its idempotency key: {again.label} again.\n")
        try:
            sched.book("online", first_who, now=retry_at)
        except AlreadyBooked as exc:
            write(f"  The same citizen registering a second time: refused ({exc.code}).\n")
        try:
            sched.book(
                "online", "3328999999999999", now=retry_at, idempotency_key=f"web-{first_who}"
            )
        except IdempotencyConflict as exc:
            write(
                f"  Another citizen sending that key: refused ({exc.code}); "
                "nothing of the first booking shown.\n"
            )
        (found,) = sched.bookings_of(first_who, now=retry_at)
        write(
            f"  The citizen lost the ticket: found by ID, {found.label} on "
            f"{found.day:%A %d %B %Y}.\n"
        )
    probe_day = START + timedelta(days=1)
    try:
        sched.book("walk_in", now=_at(probe_day, 11 * 60 + 59))
    except QuotaExhausted as exc:
        back, online = exc.next_available, exc.alternatives.get("online")
        write(
            f"  A walk-in at 11:59 on {probe_day:%A %d %B}: full"
            + (f"; come back on {back:%A %d %B %Y}" if back else "")
            + (f", or register online for {online:%A %d %B %Y}" if online else "")
            + ".\n"
        )
    if later:
        run_events_demo(sched, later[0].day, _at(last_day, 15 * 60), write)
    run_capacity_demo(storage, DEMO_SECRET, write)
    storage.close()
    return 0


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run the demo in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="queue-quota-demo-") as tmp:
        return run_demo(Path(tmp) / "queue.sqlite3", out)


if __name__ == "__main__":
    raise SystemExit(main())
