"""The one error hierarchy of queue_quota.

Every error carries a stable ``code`` (a short snake_case string) that applications can
switch on and that never changes between releases::

    QueueQuotaError                      queue_quota_error
    ├── RefusalError                     (a request the office says "no" to)
    │   ├── QuotaExhausted               quota_exhausted
    │   ├── DayClosed                    day_closed
    │   ├── OutsideServiceHours          outside_service_hours
    │   ├── OutsideBookingWindow         outside_booking_window
    │   ├── AlreadyBooked                already_booked
    │   ├── NotEligible                  not_eligible
    │   ├── Suspended                    suspended
    │   └── IdempotencyConflict          idempotency_conflict
    ├── BookingNotFound                  booking_not_found   (also a LookupError)
    ├── InvalidTransition                invalid_transition
    ├── InvalidTicket                    invalid_ticket
    ├── ConfigurationError               configuration_error (also a ValueError)
    │   ├── UnknownChannel               unknown_channel
    │   └── SecretMismatch               secret_mismatch
    └── StorageError                     storage_error

Refusals are the answers a citizen sees ("the day is full, come back on ..."); the command
line exits with status 1 on them. ``ConfigurationError`` is bad input from the program or
an office file, raised before anything is written.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .office import Office

__all__ = [
    "AlreadyBooked",
    "BookingNotFound",
    "ConfigurationError",
    "DayClosed",
    "IdempotencyConflict",
    "InvalidTicket",
    "InvalidTransition",
    "NotEligible",
    "OutsideBookingWindow",
    "OutsideServiceHours",
    "QueueQuotaError",
    "QuotaExhausted",
    "RefusalError",
    "SecretMismatch",
    "StorageError",
    "Suspended",
    "UnknownChannel",
]


class QueueQuotaError(Exception):
    """Root of every error raised by queue_quota."""

    code: ClassVar[str] = "queue_quota_error"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return self.message

    @property
    def message_key(self) -> str | None:
        """The catalogue key that `describe` writes this error from, if it has one."""
        key = self.details.get("message_key")
        return key if isinstance(key, str) else None

    def describe(
        self, lang: str = "id", *, today: date | None = None, office: Office | None = None
    ) -> str:
        """The message a citizen should read, in ``lang`` (``"id"`` or ``"en"``).

        Same as `queue_quota.i18n.describe`: refusals say what to do next, with dates as
        their readers write them (``"Senin, 8 Juni 2020"``); ``today`` (the office's local
        date) lets a refusal about today say "today"; ``office`` names its channels by
        their titles.
        """
        from .i18n import describe  # the catalogues are loaded only when needed

        return describe(self, lang, today=today, office=office)


class RefusalError(QueueQuotaError):
    """A well-formed request that the office's rules refuse."""

    code: ClassVar[str] = "refused"


class QuotaExhausted(RefusalError):
    """No place left on the requested day, or on any day in the booking window.

    ``next_available`` is the next day with room on the same channel (``None`` if there is
    none in the window); ``alternatives`` maps other channels to their earliest day.
    """

    code: ClassVar[str] = "quota_exhausted"

    def __init__(
        self,
        message: str = "",
        *,
        channel: str | None = None,
        day: date | None = None,
        next_available: date | None = None,
        alternatives: dict[str, date] | None = None,
    ) -> None:
        super().__init__(message or "no place left", channel=channel, day=day)
        self.channel = channel
        self.day = day
        self.next_available = next_available
        self.alternatives: dict[str, date] = dict(alternatives or {})


class DayClosed(RefusalError):
    """The office is closed on that day (``reason`` says why)."""

    code: ClassVar[str] = "day_closed"

    def __init__(
        self,
        message: str = "",
        *,
        day: date | None = None,
        reason: str | None = None,
        next_available: date | None = None,
    ) -> None:
        super().__init__(message or "the office is closed", day=day, reason=reason)
        self.day = day
        self.reason = reason
        self.next_available = next_available


class OutsideServiceHours(RefusalError):
    """A walk-in outside the channel's opening hours."""

    code: ClassVar[str] = "outside_service_hours"

    def __init__(
        self,
        message: str = "",
        *,
        opens: Any = None,
        closes: Any = None,
        next_available: date | None = None,
        channel: str | None = None,
    ) -> None:
        super().__init__(
            message or "outside service hours", opens=opens, closes=closes, channel=channel
        )
        self.channel = channel
        self.opens = opens
        self.closes = closes
        self.next_available = next_available


class OutsideBookingWindow(RefusalError):
    """A requested day before the earliest bookable day or beyond the horizon."""

    code: ClassVar[str] = "outside_booking_window"

    def __init__(
        self,
        message: str = "",
        *,
        day: date | None = None,
        earliest: date | None = None,
        latest: date | None = None,
    ) -> None:
        super().__init__(
            message or "outside the booking window", day=day, earliest=earliest, latest=latest
        )
        self.day = day
        self.earliest = earliest
        self.latest = latest


class AlreadyBooked(RefusalError):
    """The citizen already holds the allowed number of active bookings on the channel."""

    code: ClassVar[str] = "already_booked"

    def __init__(self, message: str = "", *, channel: str | None = None, limit: int = 1) -> None:
        super().__init__(message or "already booked", channel=channel, limit=limit)
        self.channel = channel
        self.limit = limit


class NotEligible(RefusalError):
    """The channel is reserved for citizens with a claim the request does not carry.

    ``claim`` names it (e.g. ``"group"`` for a priority counter for the elderly and the
    disabled); claims are facts the application has verified, passed as
    ``book(..., claims={...})``.
    """

    code: ClassVar[str] = "not_eligible"

    def __init__(
        self, message: str = "", *, channel: str | None = None, claim: str | None = None
    ) -> None:
        super().__init__(message or "not eligible for this channel", channel=channel, claim=claim)
        self.channel = channel
        self.claim = claim


class Suspended(RefusalError):
    """The citizen's online registrations are suspended after too many no-shows.

    ``until`` is the first day they may book online again (the day of the latest no-show
    counted plus the policy's ``suspension_days``); walk-ins are never refused for it. A
    clerk can lift the suspension (`Scheduler.lift_suspension`).
    """

    code: ClassVar[str] = "suspended"

    def __init__(
        self, message: str = "", *, channel: str | None = None, until: date | None = None
    ) -> None:
        super().__init__(
            message or "online registrations are suspended after too many no-shows",
            channel=channel,
            until=until,
        )
        self.channel = channel
        self.until = until


class IdempotencyConflict(RefusalError):
    """The idempotency key was first used for a different request.

    A key is bound to its first request (channel, citizen, preferred date and time,
    places). Nothing is booked, and nothing of the first booking (id, ticket, day) is
    revealed: the error carries only the ``channel`` asked for.
    """

    code: ClassVar[str] = "idempotency_conflict"

    def __init__(self, message: str = "", *, channel: str | None = None) -> None:
        super().__init__(
            message or "the idempotency key was used for a different request", channel=channel
        )
        self.channel = channel


class BookingNotFound(QueueQuotaError, LookupError):
    """No booking with that id (or ticket) exists in this office."""

    code: ClassVar[str] = "booking_not_found"


class InvalidTransition(QueueQuotaError):
    """The booking's status or day does not allow the operation (e.g. a second check-in).

    ``reason`` says why, as a stable string:

    * ``"not_booked"``: the booking is no longer ``booked`` (``status`` says what it is:
      ``"cancelled"``, ``"checked_in"``, ``"no_show"``);
    * ``"not_today"``: a check-in on another day than the booking's ``day``;
    * ``"past_day"``: the booking's ``day`` has passed;
    * ``"same_day"``: a reschedule to the day the booking is already on;
    * ``"duplicate_id"``: a new booking with an id that exists already.
    """

    code: ClassVar[str] = "invalid_transition"

    def __init__(
        self,
        message: str = "",
        *,
        reason: str | None = None,
        status: str | None = None,
        day: date | None = None,
    ) -> None:
        super().__init__(message or "invalid transition", reason=reason, status=status, day=day)
        self.reason = reason
        self.status = None if status is None else str(status)
        self.day = day


class InvalidTicket(QueueQuotaError):
    """A ticket that is malformed, forged, altered, or issued by another office."""

    code: ClassVar[str] = "invalid_ticket"


class ConfigurationError(QueueQuotaError, ValueError):
    """Bad configuration or bad input, refused before anything is written."""

    code: ClassVar[str] = "configuration_error"


class UnknownChannel(ConfigurationError):
    """The office has no policy for that channel."""

    code: ClassVar[str] = "unknown_channel"


class SecretMismatch(ConfigurationError):
    """The storage was made with another secret than any of the scheduler's.

    A persistent storage remembers a fingerprint of the secret (a keyed hash, never the
    secret itself). With another secret, genuine tickets would look forged and citizens
    would not be matched to their bookings, so the scheduler refuses to start.
    """

    code: ClassVar[str] = "secret_mismatch"


class StorageError(QueueQuotaError):
    """The storage failed (driver error, lost connection, corrupt data).

    The original driver exception is chained as ``__cause__``.
    """

    code: ClassVar[str] = "storage_error"
