"""No-show sanctions on the online channel, written once inside the booking's transaction
(every storage built on `TransactionalStorage` keeps them the same way).

`check_suspension` refuses a citizen with too many recent no-shows (`Suspended`);
`Sanctions.lift_suspension` is the clerk's override: a mark ``lift:<citizen ref>`` in the
office's state, holding the ISO day of the lift, after which only the no-shows of that
day or later count. The marks are read only when the no-shows reach the limit, so a
citizen below it costs the booking no extra read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from ..errors import Suspended
from ..models import BookingStatus, Reservation
from ._log import emit, event_time
from ._retry import retrying
from .primitives import Primitives, Transaction

__all__ = ["LIFTED", "Sanctions", "check_suspension"]

#: State name prefix of the lift marks: ``lift:<citizen ref>`` -> ISO day of the lift.
LIFTED = "lift:"


def _lifted(tx: Transaction, refs: Sequence[str]) -> date | None:
    """The latest lift day marked under any of the citizen's refs."""
    days: list[date] = []
    for ref in refs:
        name = LIFTED + ref
        value = tx.state(name).get(name)
        if value is not None:
            days.append(date.fromisoformat(value))
    return max(days, default=None)


def check_suspension(tx: Transaction, r: Reservation) -> None:
    """Raise `Suspended` if the citizen of ``r`` has ``r.no_show_limit`` no-shows on days
    of the window (``r.no_show_window_days`` calendar days before ``r.today``) not before
    their last lift, and ``r.today`` is before the latest of them + ``r.suspension_days``.

    Counts the bookings of every ref (older secrets too), on every channel.
    """
    limit, refs, today = r.no_show_limit, r.citizen_refs, r.today
    if limit is None or not refs:
        return
    since = today - timedelta(days=r.no_show_window_days)
    missed = [
        b.day
        for b in tx.bookings(refs=list(dict.fromkeys(refs)), since=since)
        if b.status is BookingStatus.NO_SHOW and b.day < today
    ]
    if len(missed) < limit:
        return  # the common case: no read of the lift marks
    lifted = _lifted(tx, refs)
    if lifted is not None:
        missed = [d for d in missed if d >= lifted]
        if len(missed) < limit:
            return
    until = max(missed) + timedelta(days=r.suspension_days)
    if today < until:
        raise Suspended(
            f"online registrations are suspended until {until} after {len(missed)} no-shows",
            channel=r.channel,
            until=until,
        )


class Sanctions:
    """The clerk's side of the no-show sanctions (mixed into `TransactionalStorage`)."""

    _p: Primitives

    #: Keeps `OnlineQuota.no_show_limit` and offers `lift_suspension`.
    supports_sanctions = True

    @retrying
    def lift_suspension(
        self,
        office_id: str,
        refs: Sequence[str],
        *,
        today: date,
        now: datetime | None = None,
    ) -> None:
        """From ``today`` on, only the no-shows on ``today`` or later count for the citizen
        of ``refs`` (every ref under every secret); an event ``suspension_lifted`` (no
        booking, ``day`` today, no personal data) in the same transaction.

        A lift never moves an earlier lift's day back.
        """
        with self._p.transaction(office_id, write=True) as tx:
            marks: dict[str, str | None] = {}
            for ref in dict.fromkeys(refs):
                name = LIFTED + ref
                before = tx.state(name).get(name)
                if before is None or date.fromisoformat(before) < today:
                    marks[name] = today.isoformat()
            if marks:
                tx.put_state(marks)
            emit(tx, tx.meta("~"), [("suspension_lifted", None, today, {})], event_time(now))
