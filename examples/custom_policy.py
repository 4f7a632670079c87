"""A custom quota policy: each day's online places open at a fixed hour the day before.

Many offices announce "pendaftaran online untuk besok dibuka pukul 08.00": at 08:00 on a
working day the next working day's places open, and nothing else can be booked.
`DailyReleaseQuota` implements that rule. It implements the `QuotaPolicy` protocol; it
subclasses nothing. A request before the release hour is refused with `NotYetOpen`, a
refusal of its own with a stable ``code``.

Run it: ``python examples/custom_policy.py``. The guide: docs/how-to/custom-policy.md.
"""

# --8<-- [start:imports]
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import attrs

import queue_quota as qq
from queue_quota.policies import BookingRequest, QuotaPolicy, WalkInQuota

# --8<-- [end:imports]

__all__ = ["DailyReleaseQuota", "NotYetOpen", "build_office", "main"]


# --8<-- [start:refusal]
class NotYetOpen(qq.RefusalError):
    """The places of the next working day are not released yet (``opens_at`` says when)."""

    code: ClassVar[str] = "not_yet_open"

    def __init__(self, message: str = "", *, day: date, opens_at: datetime) -> None:
        super().__init__(message or f"places for {day} open at {opens_at:%Y-%m-%d %H:%M}")
        self.day = day
        self.opens_at = opens_at


# --8<-- [end:refusal]


# --8<-- [start:policy]
def _capacity(value: int | qq.CapacityCalendar) -> qq.CapacityCalendar:
    return qq.CapacityCalendar.of(value)  # a number means the same every day


def _naive_time(_: object, attribute: attrs.Attribute[time], value: Any) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise qq.ConfigurationError(f"{attribute.name} must be a naive datetime.time (local)")


@attrs.frozen
class DailyReleaseQuota:
    """Online places for the next working day only, released at ``release_at`` (local time).

    The places of a working day D open at ``release_at`` on the working day before D, so on
    a Saturday the places of Monday are already open (they opened on Friday).

    Args:
        capacity: Places per day: a number or a `queue_quota.CapacityCalendar`.
        release_at: Local time at which the next working day's places open.
        channel: The channel's name.
        prefix: The label prefix.
        per_citizen: Active bookings one citizen may hold on the channel.
    """

    capacity: qq.CapacityCalendar = attrs.field(converter=_capacity)
    release_at: time = attrs.field(default=time(8, 0), kw_only=True, validator=_naive_time)
    channel: str = attrs.field(default="online", kw_only=True)
    prefix: str = attrs.field(default="A", kw_only=True)
    per_citizen: int | None = attrs.field(default=1, kw_only=True)

    @property
    def requires_citizen(self) -> bool:
        """Registrations name the citizen (the per-citizen limit needs it)."""
        return True

    def capacity_on(self, day: date) -> int:
        """Places on ``day``."""
        return self.capacity.capacity_on(day)

    def offered_day(self, today: date, calendar: qq.WorkingCalendar) -> date:
        """The one day a request made on ``today`` may take: the next working day."""
        return calendar.next_working_day(today, inclusive=False)

    def opens_at(self, day: date, calendar: qq.WorkingCalendar) -> datetime:
        """When the places of ``day`` open: ``release_at`` on the working day before it."""
        before = calendar.previous_working_day(day, inclusive=False)
        return datetime.combine(before, self.release_at, calendar.tz)

    def booking_window(self, today: date, calendar: qq.WorkingCalendar) -> tuple[date, date]:
        """The next working day, and nothing else."""
        day = self.offered_day(today, calendar)
        return day, day

    def admit(self, request: BookingRequest, calendar: qq.WorkingCalendar) -> None:
        """Refuse before the release hour, and any preferred date but the offered day."""
        day = self.offered_day(request.today, calendar)
        opens = self.opens_at(day, calendar)
        if request.now < opens:
            raise NotYetOpen(day=day, opens_at=opens)
        wanted = request.preferred_date
        if wanted is not None and wanted != day:
            raise qq.OutsideBookingWindow(
                f"only {day} can be booked now", day=wanted, earliest=day, latest=day
            )

    def candidate_days(
        self, request: BookingRequest, calendar: qq.WorkingCalendar
    ) -> Iterable[date]:
        """The offered day (a function of the day only, never of the hour or the citizen)."""
        return (self.offered_day(request.today, calendar),)


# --8<-- [end:policy]


# --8<-- [start:office]
def build_office(capacity: int = 20) -> qq.Office:
    """The Tegal office with a daily-release online channel and the usual walk-ins."""
    online: QuotaPolicy = DailyReleaseQuota(capacity=capacity, release_at=time(8, 0))
    return qq.Office(
        id="tegal-disdukcapil",
        calendar=qq.WorkingCalendar.indonesia(tz="Asia/Jakarta"),
        policies=[online, WalkInQuota(capacity=40, opens=time(7, 30), closes=time(12, 0))],
    )


# --8<-- [end:office]


def main() -> None:
    """Book around the release hour on Thursday 4 June 2020 and on the Saturday after."""
    wib = ZoneInfo("Asia/Jakarta")
    sched = qq.Scheduler(build_office())  # in memory
    try:
        sched.book("online", "3328011234560001", now=datetime(2020, 6, 4, 7, 59, tzinfo=wib))
    except NotYetOpen as refusal:
        print(f"07:59 Thursday: {refusal.code}, opens {refusal.opens_at:%A %H:%M}")
    b = sched.book("online", "3328011234560001", now=datetime(2020, 6, 4, 8, 0, tzinfo=wib))
    print(f"08:00 Thursday: {b.label} on {b.day:%A %d %B}")
    b = sched.book("online", "3328011234560002", now=datetime(2020, 6, 6, 10, 0, tzinfo=wib))
    print(f"10:00 Saturday: {b.label} on {b.day:%A %d %B}")


if __name__ == "__main__":
    main()
