"""`Notifier`: the office's event log delivered at least once, in order per booking.

Design: "Events and notifications" in the documentation. The consumer's state (cursor,
lease, retries, done marks, dead letters) is kept in the storage's state values under
``n:<consumer>:``, each change in a write transaction that first checks the lease.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import attrs

from ..errors import ConfigurationError
from ..events import Event
from ..scheduler import Scheduler
from ._notification import Notification, notification_id
from ._text import notification_text

__all__ = ["DeadLetter", "Notifier"]


@attrs.frozen
class DeadLetter:
    """An event whose delivery failed ``attempts`` times; `Notifier.replay` sends it again.

    ``error`` is the last failure's exception type and message (at most 200 characters)."""

    event: Event
    attempts: int
    error: str
    at: datetime


class _LeaseLost(Exception):
    """Another notifier of the consumer took over (this one was too slow)."""


def _key(seq: int) -> str:
    return f"{seq:012d}"


def _check_name(consumer: object) -> str:
    if not isinstance(consumer, str) or not consumer or len(consumer) > 64 or ":" in consumer:
        raise ConfigurationError(
            "consumer must be a name of 1-64 characters without ':'",
            message_key="configuration_error.consumer",
        )
    return consumer


class Notifier:
    """Calls ``send(notification)`` for every event of the scheduler's office.

    Args:
        scheduler: Whose office's events to deliver (its storage keeps the state).
        send: Delivers one `Notification`; raising any exception means "failed, retry".
            `queue_quota.notify.WebhookSender` is one.
        consumer: The name of this delivery stream (``"whatsapp"``): its cursor, lease,
            retries and dead letters are kept under it. Two notifiers with one name do not
            both send: the one that holds the lease does.
        remind_at: Local time on the working day before a booking's day from which a
            ``reminder`` event is written (once per booking and day) and delivered.
        max_attempts: Failures after which an event goes to the dead-letter list.
        base_delay: Backoff, in seconds: ``base_delay * 2**(attempt-1)``, at most
            ``max_delay``, times a random factor in [0.5, 1] (jitter).
        max_delay: The longest pause between two attempts, in seconds.
        lease_seconds: How long a silent notifier keeps the consumer before another may
            take over (renewed with every delivery recorded).
        batch: How many events after the cursor one `run_once` looks at.
        clock: The current aware datetime (default: the system clock, UTC).
        seed: Seeds the jitter (tests).
    """

    def __init__(
        self,
        scheduler: Scheduler,
        send: Callable[[Notification], object],
        *,
        consumer: str,
        remind_at: time | None = None,
        max_attempts: int = 8,
        base_delay: float = 2.0,
        max_delay: float = 600.0,
        lease_seconds: float = 60.0,
        batch: int = 100,
        clock: Callable[[], datetime] | None = None,
        seed: int | None = None,
    ) -> None:
        storage = scheduler.storage
        if not hasattr(storage, "run") or not getattr(storage, "supports_events", False):
            raise ConfigurationError(
                f"{type(storage).__name__} keeps no events: a Notifier needs a storage "
                "built on TransactionalStorage",
                message_key="configuration_error.no_events",
                storage=type(storage).__name__,
            )
        if not callable(send):
            raise ConfigurationError("send must be callable")
        if remind_at is not None and (not isinstance(remind_at, time) or remind_at.tzinfo):
            raise ConfigurationError("remind_at must be a naive datetime.time (local time)")
        if not 1 <= max_attempts <= 100 or not 1 <= batch <= 1000:
            raise ConfigurationError("need 1 <= max_attempts <= 100 and 1 <= batch <= 1000")
        self._sched = scheduler
        self._storage: Any = storage
        self._office = scheduler.office.id
        self._send = send
        self._name = f"n:{_check_name(consumer)}:"
        self._remind_at = remind_at
        self._max = max_attempts
        self._delays = (base_delay, max_delay)
        self._lease = timedelta(seconds=lease_seconds)
        self._batch = batch
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.Random(seed)
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    def __repr__(self) -> str:
        return f"<Notifier office={self._office!r} consumer={self._name[2:-1]!r}>"

    # -- public ------------------------------------------------------------------------

    def run_once(self, *, now: datetime | None = None) -> int:
        """Write the reminders that are due, then deliver what is due; returns how many
        events were handled (delivered, or moved to the dead-letter list). ``0`` also
        when another notifier of the consumer holds the lease."""
        at = (now or self._clock()).astimezone(UTC)
        self._remind(at)
        if not self._take_lease(at):
            return 0
        try:
            return self._deliver(at)
        except _LeaseLost:
            return 0

    def run_forever(self, *, interval: float = 2.0, stop: threading.Event | None = None) -> None:
        """`run_once` until ``stop`` is set, pausing ``interval`` seconds when idle."""
        stop = stop or threading.Event()
        while not stop.is_set():
            if self.run_once() == 0:
                stop.wait(interval)

    def cursor(self) -> int:
        """Every event with ``seq`` at or below this is delivered or dead-lettered."""
        return int(self._read("cursor").get(self._name + "cursor", "0"))

    def dead_letters(self) -> list[DeadLetter]:
        """The events that went to the dead-letter list, by ``seq``."""
        out = []
        for name, value in sorted(self._read("dead:").items()):
            rec = json.loads(value)
            event = self._event(int(name.rpartition(":")[2]))
            if event is not None:
                at = datetime.fromisoformat(rec["at"])
                out.append(DeadLetter(event, rec["attempts"], rec["error"], at))
        return out

    def replay(self, seq: int | None = None) -> int:
        """Send dead letters again (one ``seq``, or all) on the next `run_once`, with
        ``max_attempts`` attempts afresh; returns how many were put back."""
        at = datetime(1970, 1, 1, tzinfo=UTC)  # due at once, whatever the clock says

        def work(tx: Any) -> int:
            dead = tx.state(self._name + "dead:")
            chosen = [n for n in dead if seq is None or n.endswith(":" + _key(seq))]
            retry = json.dumps({"attempts": 0, "due": at.isoformat(), "error": ""})
            tx.put_state({n: None for n in chosen})
            tx.put_state({n.replace(":dead:", ":try:"): retry for n in chosen})
            return len(chosen)

        count: int = self._storage.run(self._office, work, write=True)
        return count

    # -- delivery ----------------------------------------------------------------------

    def _deliver(self, at: datetime) -> int:
        state = self._read("")
        cursor = int(state.get(self._name + "cursor", "0"))
        tries = {
            int(n.rpartition(":")[2]): json.loads(v)
            for n, v in state.items()
            if n.startswith(self._name + "try:")
        }
        done = {int(n.rpartition(":")[2]) for n in state if n.startswith(self._name + "done:")}
        window = self._storage.events(self._office, after=cursor, limit=self._batch)
        # Replayed dead letters sit below the cursor: fetched one by one, sent first.
        replays = [e for s in sorted(tries) if s <= cursor if (e := self._event(s))]
        blocked: set[str] = set()
        handled = 0
        for event in [*replays, *window]:
            group = event.booking_id or ""
            if event.seq in done:
                continue
            pending = tries.get(event.seq)
            if group in blocked or (pending and datetime.fromisoformat(pending["due"]) > at):
                blocked.add(group)  # later events of this booking wait for this one
                continue
            attempts = (pending or {}).get("attempts", 0) + 1
            outcome = self._attempt(event, attempts)
            if outcome is None:
                # Beyond the cursor a done mark (the cursor passes it later); a replayed
                # dead letter below the cursor needs none.
                self._record(event.seq, {"done": "1"} if event.seq > cursor else {}, at)
                done.add(event.seq)
                handled += 1
            elif attempts >= self._max:
                rec = {"attempts": attempts, "error": outcome, "at": at.isoformat()}
                self._record(event.seq, {"dead": json.dumps(rec)}, at)
                done.add(event.seq)
                handled += 1
            else:
                base, cap = self._delays
                delay = min(cap, base * 2 ** (attempts - 1)) * self._rng.uniform(0.5, 1.0)
                due = (at + timedelta(seconds=delay)).isoformat()
                rec = {"attempts": attempts, "due": due, "error": outcome}
                self._record(event.seq, {"try": json.dumps(rec)}, at)
                blocked.add(group)
        self._advance(at)
        return handled

    def _attempt(self, event: Event, attempt: int) -> str | None:
        """Send; ``None`` on success, else what went wrong (type and message, short)."""
        note = Notification(
            id=notification_id(self._office, event),
            office_id=self._office,
            event=event,
            text=notification_text(event, self._sched.office),
            attempt=attempt,
        )
        try:
            self._send(note)
        except Exception as exc:  # any failure of the user's send: retry later
            return f"{type(exc).__name__}: {exc}"[:200]
        return None

    # -- state -------------------------------------------------------------------------

    def _read(self, suffix: str) -> dict[str, str]:
        name = self._name + suffix
        found: dict[str, str] = self._storage.run(
            self._office, lambda tx: tx.state(name), write=False
        )
        return found

    def _event(self, seq: int) -> Event | None:
        found = self._storage.events(self._office, after=seq - 1, limit=1)
        return found[0] if found and found[0].seq == seq else None

    def _lease_value(self, at: datetime) -> str:
        return f"{self._owner}|{(at + self._lease).isoformat()}"

    def _take_lease(self, at: datetime) -> bool:
        name = self._name + "lease"

        def work(tx: Any) -> bool:
            held = tx.state(name).get(name)
            if held is not None:
                owner, _, until = held.partition("|")
                if owner != self._owner and datetime.fromisoformat(until) > at:
                    return False
            tx.put_state({name: self._lease_value(at)})
            return True

        taken: bool = self._storage.run(self._office, work, write=True)
        return taken

    def _record(self, seq: int, what: dict[str, str], at: datetime) -> None:
        """One outcome of ``seq``, if this notifier still holds the lease."""
        lease = self._name + "lease"
        names = {kind: f"{self._name}{kind}:{_key(seq)}" for kind in ("try", "done", "dead")}

        def work(tx: Any) -> None:
            held = tx.state(lease).get(lease, "")
            if held.partition("|")[0] != self._owner:
                raise _LeaseLost
            changes: dict[str, str | None] = {n: None for n in names.values()}
            changes.update({names[kind]: value for kind, value in what.items()})
            changes[lease] = self._lease_value(at)
            tx.put_state(changes)

        self._storage.run(self._office, work, write=True)

    def _advance(self, at: datetime) -> None:
        """Move the cursor over the events done or dead-lettered just after it."""

        def work(tx: Any) -> None:
            state = tx.state(self._name)
            if state.get(self._name + "lease", "").partition("|")[0] != self._owner:
                raise _LeaseLost
            cursor = int(state.get(self._name + "cursor", "0"))
            start = cursor
            changes: dict[str, str | None] = {}
            while True:
                key = _key(cursor + 1)
                done, dead = f"{self._name}done:{key}", f"{self._name}dead:{key}"
                if done in state:
                    changes[done] = None
                elif dead not in state:
                    break
                cursor += 1
            if cursor != start:
                changes[self._name + "cursor"] = str(cursor)
                tx.put_state(changes)

        self._storage.run(self._office, work, write=True)

    # -- reminders ---------------------------------------------------------------------

    def _remind(self, at: datetime) -> None:
        if self._remind_at is None:
            return
        calendar = self._sched.office.calendar
        local = calendar.local_time(at)
        if local.time() < self._remind_at:
            return
        effective = self._sched._effective_calendar()  # run-time closures included
        day = effective.next_working_day(local.date() + timedelta(days=1))
        self._storage.remind(self._office, day, now=at)
