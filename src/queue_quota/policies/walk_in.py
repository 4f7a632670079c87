"""`WalkInQuota`: people who come to the office without registering, served today."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from typing import TYPE_CHECKING, Any

import attrs

from ..capacity import CapacityCalendar
from ..counters import Session, check_sessions
from ..errors import ConfigurationError, DayClosed, OutsideServiceHours
from . import _shared, _validate
from .base import BookingRequest

if TYPE_CHECKING:
    from ..calendar import WorkingCalendar

__all__ = ["WalkInQuota"]


def _capacity(value: int | CapacityCalendar) -> CapacityCalendar:
    return CapacityCalendar.of(value)


def _naive_time(_: object, a: attrs.Attribute[time], v: Any) -> None:
    if not isinstance(v, time) or v.tzinfo is not None:
        raise ConfigurationError(
            f"{a.name} must be a naive datetime.time (local office time), got {v!r}"
        )


def _per_citizen(_: object, a: object, v: Any) -> None:
    _validate.optional_limit("per_citizen", v)


def _max_places(_: object, a: object, v: Any) -> None:
    _validate.optional_limit("max_places", v)


@attrs.frozen
class WalkInQuota:
    """Walk-ins: at most ``capacity`` manual numbers a day, today only, in opening hours.

    Refusals come in this order: `DayClosed`, `OutsideServiceHours`, `QuotaExhausted`. A
    refusal because the day is full says when to come back (``next_available``, the next
    working day with walk-in room) and the earliest day on every other channel
    (``alternatives``). ``citizen_id`` is optional (an anonymous walk-in).

    Args:
        capacity: Numbers per day: a number or a `CapacityCalendar`.
        opens: Local time from which numbers are given.
        closes: Local time after which none are given (inclusive).
        channel: The channel's name.
        prefix: The label prefix (``"B"`` gives ``"B-012"``).
        per_citizen: Active walk-in numbers one named citizen may hold (``None``: no limit).
        title: The channel's name for readers, in tickets, tables and messages: one
            text, or ``{"id": "Loket", "en": "Counter"}`` (default: the built-in name of
            the channel, or its key).
        sessions: Arrival windows within the opening hours (`Session`).
        requires_claim: A claim the request must carry, else `NotEligible`.
        max_places: The most places one number may take (``None``: any).
        takes_unused: ``{"online": time(10)}``: from 10:00 local time today, walk-ins may
            also take the places the online channel left unbooked today.
    """

    capacity: CapacityCalendar = attrs.field(converter=_capacity)
    opens: time = attrs.field(default=time(0), kw_only=True, validator=_naive_time)
    closes: time = attrs.field(default=time(23, 59, 59), kw_only=True, validator=_naive_time)
    channel: str = attrs.field(default="walk_in", kw_only=True, validator=_validate.channel_name)
    prefix: str = attrs.field(default="B", kw_only=True, validator=_validate.prefix)
    per_citizen: int | None = attrs.field(default=None, kw_only=True, validator=_per_citizen)
    title: dict[str, str] | None = attrs.field(
        default=None, kw_only=True, converter=_validate.title, eq=False
    )
    sessions: tuple[Session, ...] = attrs.field(default=(), kw_only=True, converter=check_sessions)
    requires_claim: str | None = attrs.field(default=None, kw_only=True)
    max_places: int | None = attrs.field(default=None, kw_only=True, validator=_max_places)
    takes_unused: dict[str, time] = attrs.field(
        factory=dict, kw_only=True, converter=_shared.takes_unused, eq=False
    )

    def __attrs_post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ConfigurationError(
                f"opens ({self.opens}) must be earlier than closes ({self.closes})"
            )
        for s in self.sessions:
            if s.start < self.opens or s.end > self.closes:
                raise ConfigurationError(
                    f"session {s.start:%H:%M}-{s.end:%H:%M} is outside the opening hours "
                    f"{self.opens:%H:%M}-{self.closes:%H:%M}"
                )
        if self.channel in self.takes_unused:
            raise ConfigurationError("takes_unused names the walk-in channel itself")

    @property
    def walk_in(self) -> bool:
        """Whether the channel gives numbers at the door, for today (the CLI's ``walk-in``)."""
        return True

    @property
    def requires_citizen(self) -> bool:
        """Walk-ins may be anonymous."""
        return False

    def capacity_on(self, day: date) -> int:
        """Numbers on ``day``."""
        return self.capacity.capacity_on(day)

    def booking_window(self, today: date, calendar: WorkingCalendar) -> tuple[date, date]:
        """Today only."""
        return today, today

    def admit(self, request: BookingRequest, calendar: WorkingCalendar) -> None:
        """Refuse on a closed day, then outside opening hours, then without the required
        claim or with too many places."""
        today = request.today
        reason = calendar.closure_reason(today)
        if reason is not None:
            raise DayClosed(
                f"the office is closed today ({today}): {reason}",
                day=today,
                reason=reason,
                next_available=calendar.next_working_day(today, inclusive=False),
            )
        if request.preferred_date is not None and request.preferred_date != today:
            raise ConfigurationError(
                "walk-ins are served today only; preferred_date must be today",
                message_key="configuration_error.today_only",
                channel=self.channel,
            )
        local = request.now.time().replace(tzinfo=None)
        if not self.opens <= local <= self.closes:
            come_back = (
                today if local < self.opens else calendar.next_working_day(today, inclusive=False)
            )
            raise OutsideServiceHours(
                f"walk-in numbers are given from {self.opens:%H:%M} to {self.closes:%H:%M}",
                opens=self.opens,
                closes=self.closes,
                next_available=come_back,
                channel=self.channel,
            )
        _shared.check_claim_and_places(self, request)

    def candidate_days(self, request: BookingRequest, calendar: WorkingCalendar) -> Iterable[date]:
        """Today."""
        return (request.today,)
