"""queue_quota: daily quotas instead of physical queues.

A citizen registers online and is given a queue number and the day they will be served;
each day takes at most N online registrants and M walk-ins; weekends, holidays and cuti
bersama are skipped; no day is ever overbooked, whatever the number of processes.
"""

from .calendar import WorkingCalendar
from .capacity import CapacityCalendar
from .counters import Pool, Session
from .errors import (
    AlreadyBooked,
    BookingNotFound,
    ConfigurationError,
    DayClosed,
    IdempotencyConflict,
    InvalidTicket,
    InvalidTransition,
    NotEligible,
    OutsideBookingWindow,
    OutsideServiceHours,
    QueueQuotaError,
    QuotaExhausted,
    RefusalError,
    SecretMismatch,
    StorageError,
    Suspended,
    UnknownChannel,
)
from .models import Booking, BookingStatus, DayAvailability, SessionAvailability
from .office import Office
from .preview import OfficePreview, OverCapacity
from .report import Report, ReportRow
from .scheduler import Scheduler
from .waitlist import WaitlistEntry

__version__ = "0.1.0.dev0"

__all__ = [
    "AlreadyBooked",
    "Booking",
    "BookingNotFound",
    "BookingStatus",
    "CapacityCalendar",
    "ConfigurationError",
    "DayAvailability",
    "DayClosed",
    "IdempotencyConflict",
    "InvalidTicket",
    "InvalidTransition",
    "NotEligible",
    "Office",
    "OfficePreview",
    "OutsideBookingWindow",
    "OutsideServiceHours",
    "OverCapacity",
    "Pool",
    "QueueQuotaError",
    "QuotaExhausted",
    "RefusalError",
    "Report",
    "ReportRow",
    "Scheduler",
    "SecretMismatch",
    "Session",
    "SessionAvailability",
    "StorageError",
    "Suspended",
    "UnknownChannel",
    "WaitlistEntry",
    "WorkingCalendar",
    "__version__",
]
