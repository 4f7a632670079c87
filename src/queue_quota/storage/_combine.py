"""Group commit for the threads of one process (see "The crowd day").

Flat combining, one combiner per office: a thread that finds no transaction of the office
running becomes the leader; it takes every reservation queued by then (its own first, in
arrival order), runs them in ONE write transaction (one lock hold, one commit, one flush)
and hands each waiter its own answer. Threads arriving meanwhile queue for the next
leader. A reservation refused inside the batch wrote nothing but what a refusal writes
anyway (a skip pointer, a ``turned_away`` event); one whose run raised (a duplicate id
after its take) aborts the batch, which is then run again one reservation per transaction;
after a commit in doubt each booking is first looked up by its id, as `reserve` does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import InvalidTransition, StorageError
from ..models import Booking, Reservation
from ._expect import expect_reads
from .primitives import CommitInDoubt, Primitives, RetryTransaction, Transaction

__all__ = ["Combiner", "GroupCommit", "Waiter"]


class Waiter:
    """One waiting reservation and, once its batch ran, its answer.

    ``gate`` is a lock held from the start: the thread waits by acquiring it, and is let
    through exactly once, by the leader that ran its batch (``done``) or that handed it
    the lead (``lead``).
    """

    __slots__ = ("done", "error", "gate", "lead", "reservation", "result")

    def __init__(self, reservation: Reservation) -> None:
        self.reservation = reservation
        self.done = False
        self.lead = False
        self.result: Booking | None = None
        self.error: BaseException | None = None
        self.gate = threading.Lock()
        self.gate.acquire()

    def answer(self) -> Booking:
        """The booking, or the refusal raised."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class Combiner:
    """The queue and the leader of one office in one process.

    No thundering herd: a finished leader lets through exactly the threads of its batch,
    and hands the lead to the first thread queued meanwhile (if any), which then runs
    everything queued by then.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Waiter] = []
        self._busy = False
        #: How many batches ran and how many reservations they held (for measurements).
        self.batches = 0
        self.combined = 0

    def submit(self, slot: Waiter, run: Callable[[list[Waiter]], Any]) -> Booking:
        """Queue ``slot``; lead a batch with ``run(batch)`` if no one else is running one."""
        with self._lock:
            self._queue.append(slot)
            follow = self._busy
            self._busy = True
        if follow:
            try:
                slot.gate.acquire()  # until our batch ran, or the lead is ours
            except BaseException:
                self._abandon(slot)
                raise
            if slot.done:
                return slot.answer()
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            run(batch)
        except BaseException as exc:  # every slot of the batch learns it
            for s in batch:
                if not s.done and s.result is None and s.error is None:
                    s.error = exc
            raise
        finally:
            self._finish(slot, batch)
        return slot.answer()

    def _finish(self, leader: Waiter, batch: list[Waiter]) -> None:
        """Answer the batch's threads, and hand the lead on (or end being busy)."""
        for s in batch:
            s.done = True
        with self._lock:
            self.batches += 1
            self.combined += len(batch)
            nxt = self._queue[0] if self._queue else None
            if nxt is None:
                self._busy = False
            else:
                nxt.lead = True
        for s in batch:
            if s is not leader:
                s.gate.release()
        if nxt is not None:
            nxt.gate.release()

    def _abandon(self, slot: Waiter) -> None:
        """A waiting thread was interrupted: take its reservation out of the queue if it
        has not run; if the lead had just been handed to it, hand the lead on."""
        with self._lock:
            if slot.done or slot not in self._queue:
                return  # its batch is running or ran: nothing to undo
            self._queue.remove(slot)
            if not slot.lead:
                return
            nxt = self._queue[0] if self._queue else None
            if nxt is None:
                self._busy = False
            else:
                nxt.lead = True
        if nxt is not None:
            nxt.gate.release()


class GroupCommit:
    """`TransactionalStorage.reserve`, with the reservations of one office waiting in this
    process run in one transaction when grouping is on."""

    _p: Primitives
    _group: bool
    _combiners: dict[str, Combiner]
    _combiners_lock: threading.Lock

    if TYPE_CHECKING:

        def _reserve_alone(self, reservation: Reservation) -> Booking: ...
        def _find_id(self, office_id: str, booking_id: str) -> Booking | None: ...
        def _reserve_in(self, tx: Transaction, r: Reservation) -> Booking | Exception: ...

    def reserve(self, reservation: Reservation) -> Booking:
        if self._group:
            return self._combiner(reservation.office_id).submit(Waiter(reservation), self._batch)
        return self._reserve_alone(reservation)

    def _combiner(self, office_id: str) -> Combiner:
        found = self._combiners.get(office_id)
        if found is None:
            with self._combiners_lock:
                found = self._combiners.setdefault(office_id, Combiner())
        return found

    def _batch(self, batch: list[Waiter]) -> None:
        """Run the queued reservations of one office in one transaction (group commit);
        if that cannot be done cleanly, each in its own, as without grouping."""
        doubt = False  # the batch's commit may have landed: look each booking up first
        if len(batch) > 1:
            office_id = batch[0].reservation.office_id
            try:
                with self._p.transaction(office_id, write=True) as tx:
                    expect_reads(tx, [s.reservation for s in batch])  # one round trip
                    outcomes = [self._reserve_in(tx, s.reservation) for s in batch]
            except CommitInDoubt:
                doubt = True
            except (RetryTransaction, InvalidTransition, StorageError):
                pass  # rolled back, nothing of the batch happened: one by one
            else:
                for s, outcome in zip(batch, outcomes, strict=True):
                    if isinstance(outcome, Booking):
                        s.result = outcome
                    else:
                        s.error = outcome
                return
        for s in batch:
            r = s.reservation
            try:
                found = self._find_id(r.office_id, r.booking_id) if doubt else None
                s.result = found if found is not None else self._reserve_alone(r)
            except Exception as exc:
                s.error = exc
