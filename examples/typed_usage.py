"""A typed example of the public API, checked by ``mypy --strict`` in ``make check``.

Run it: ``python examples/typed_usage.py``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import queue_quota as qq
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import MemoryStorage

WIB = ZoneInfo("Asia/Jakarta")


def build_scheduler() -> qq.Scheduler:
    """The Tegal office on an in-memory store."""
    office = qq.Office(
        id="tegal-disdukcapil",
        calendar=qq.WorkingCalendar.indonesia(tz="Asia/Jakarta"),
        policies=[
            OnlineQuota(capacity=qq.CapacityCalendar(20, weekdays={4: 10}), horizon_days=30),
            WalkInQuota(capacity=40, opens=time(7, 30), closes=time(12, 0)),
        ],
    )
    return qq.Scheduler(office, storage=MemoryStorage())


def main() -> None:
    """Book, look at availability, handle a refusal by its code."""
    sched = build_scheduler()
    now = datetime(2020, 6, 4, 9, 0, tzinfo=WIB)
    booking: qq.Booking = sched.book("online", "3328011234560001", now=now)
    days: list[qq.DayAvailability] = sched.availability(
        "online", booking.day, booking.day + timedelta(days=7)
    )
    open_days: list[date] = [d.day for d in days if d.remaining > 0]
    try:
        sched.book("online", "3328011234560001", now=now)
    except qq.QueueQuotaError as exc:
        code: str = exc.code
        print(booking.label, booking.day, len(open_days), code)


if __name__ == "__main__":
    main()
