"""The `Scheduler`'s side of the no-show sanctions: the clerk's override (a mixin, so that
``scheduler.py`` keeps to booking). The rule itself is in the storage's transaction of each
booking (``storage/_sanctions.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._capabilities import require
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .calendar import WorkingCalendar
    from .office import Office
    from .storage.base import Storage

__all__ = ["SchedulerSanctions"]


class SchedulerSanctions:
    """Mixed into `Scheduler`."""

    _office: Office
    _storage: Storage
    _calendar: WorkingCalendar
    _now: Callable[[datetime | None], datetime]
    _refs: Callable[[str | None], tuple[str, ...]]

    def _sanctions(self) -> Any:
        """The storage, if it keeps the sanctions (every `TransactionalStorage` does)."""
        return require(self._storage, "sanctions")

    def lift_suspension(self, citizen_id: str, *, now: datetime | None = None) -> None:
        """Lift the citizen's suspension (the clerk's override): they may book online at once.

        The no-shows on days before today (the office's local date at ``now``) no longer
        count towards any `OnlineQuota.no_show_limit`; later ones do. The citizen is
        matched under every secret (their bookings made before a rotation count too), and
        only the keyed hash of the ID reaches the storage. An event ``suspension_lifted``
        (no booking, ``day`` today, no personal data) is written in the same transaction.
        Lifting when the citizen is not suspended does no harm.

        Raises:
            ConfigurationError: An empty ID, a naive ``now``, or a storage that keeps no
                sanctions.
        """
        if not isinstance(citizen_id, str):
            raise ConfigurationError("citizen_id must be a non-empty string")
        refs = self._refs(citizen_id)
        storage = self._sanctions()
        at = self._now(now)
        today = self._calendar.local_date(at)
        storage.lift_suspension(self._office.id, refs, today=today, now=at.astimezone(UTC))
