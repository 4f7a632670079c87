"""The demo's third part: a flooded day closed, and the citizens told, from the event log;
then a waitlist given a cancelled place."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from .notify import Notification, Notifier
from .scheduler import Scheduler

__all__ = ["run_events_demo"]


def run_events_demo(
    sched: Scheduler, day: date, now: datetime, write: Callable[[str], object]
) -> None:
    """Close ``day`` (it has bookings), then deliver the whole log once, as a notifier
    process would, and show what the moved citizens are sent."""
    moved = sched.close_day(day, "banjir", now=now)
    sent: list[Notification] = []
    notifier = Notifier(sched, sent.append, consumer="whatsapp", remind_at=time(16))
    delivered = 0
    while handled := notifier.run_once(now=now):  # batches of 100
        delivered += handled
    kinds = Counter(n.event.kind for n in sent)
    write(
        f"\nEvents and notifications\n"
        f"  A flood closes {day:%A %d %B}: {len(moved)} bookings moved in one transaction, "
        "each change\n  written to the event log in that same transaction.\n"
        f"  A notifier delivered the log: {delivered} messages "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}).\n"
    )
    for n in [m for m in sent if m.event.kind == "moved"][:1]:
        write(f"    id: {n.text['id']}\n    en: {n.text['en']}\n")
    again = notifier.run_once(now=now + timedelta(minutes=1))
    write(f"  Run again (or restarted): {again} sent; its cursor is kept in the database.\n")
    _waitlist(sched, notifier, sent, day, now + timedelta(minutes=2), write)


def _waitlist(
    sched: Scheduler,
    notifier: Notifier,
    sent: list[Notification],
    after: date,
    now: datetime,
    write: Callable[[str], object],
) -> None:
    """A citizen waits for a full day; a cancel gives them its place in its transaction."""
    days = sched.availability("online", after + timedelta(days=1), after + timedelta(days=30))
    full = next(d.day for d in days if d.capacity and not d.remaining)
    entry = sched.join_waitlist("online", "3328019999990001", now=now, until=full)
    leaving = sched.manifest(full, "online")[0]
    sched.cancel(leaving.id, now=now)
    got = sched.get(entry.ticket)
    before = len(sent)
    notifier.run_once(now=now)
    told = [n for n in sent[before:] if n.event.kind == "promoted"]
    write(
        f"  {full:%A %d %B} is full; a citizen joins its waitlist (position {entry.position}).\n"
        f"  {leaving.label} cancels: in the same transaction the place goes to the first in "
        f"line,\n  who keeps the ticket they were given: {got.label} on {got.day:%A %d %B}.\n"
    )
    for n in told[:1]:
        write(f"    id: {n.text['id']}\n    en: {n.text['en']}\n")
