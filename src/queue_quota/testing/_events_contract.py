"""The event rules of the storage contract (part of `StorageContract`): every change writes
its events in its own transaction, a failed change writes none, seqs are 1, 2, 3, ... per
office in commit order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from ..errors import InvalidTransition, QuotaExhausted
from ..events import Event
from ..models import Booking
from ..storage.base import Storage
from ..tickets import new_booking_id
from ._builders import (
    BASE_DAY,
    CREATED_AT,
    OFFICE,
    OTHER_OFFICE,
    close,
    day,
    reservation,
    slots,
)

__all__ = ["EventsContract"]

#: The ``now`` the contract passes to changes (a storage stores it as the event's ``at``).
AT = datetime(2030, 1, 7, 2, 15, 30, 250000, tzinfo=UTC)


def _log(storage: Storage, office: str = OFFICE) -> list[Event]:
    out: list[Event] = []
    while True:
        page: list[Event] = getattr(storage, "events")(office, after=len(out), limit=7)  # noqa: B009
        if not page:
            return out
        out.extend(page)


def _kinds(storage: Storage, office: str = OFFICE) -> list[tuple[str, str | None]]:
    return [(e.kind, e.booking_id) for e in _log(storage, office)]


def _window(b: Booking) -> list[str] | None:
    return None if b.window is None else [f"{b.window[0]:%H:%M}", f"{b.window[1]:%H:%M}"]


def _data(b: Booking) -> dict[str, Any]:
    return {
        "channel": b.channel,
        "label": b.label,
        "number": b.number,
        "places": b.places,
        "window": _window(b),
    }


class EventsContract:
    """Mixed into `StorageContract`; skipped for a storage that writes no events (one that
    implements `Storage` directly instead of on primitives)."""

    @pytest.fixture
    def events_storage(self, storage: Storage) -> Any:
        if not getattr(storage, "supports_events", False):
            pytest.skip(f"{type(storage).__name__} writes no events (supports_events is False)")
        return storage

    def test_events_start_empty_and_booking_writes_one(self, events_storage: Any) -> None:
        """A booking writes ``booked`` (seq 1) with its data, ``at`` its ``created_at``."""
        s = events_storage
        assert s.events(OFFICE, after=0, limit=10) == []
        b = s.reserve(reservation(slots(day(1))))
        assert s.events(OFFICE, after=0, limit=10) == [
            Event(seq=1, kind="booked", booking_id=b.id, day=day(1), at=CREATED_AT, data=_data(b))
        ]
        assert s.events(OFFICE, after=1, limit=10) == []

    def test_refused_and_repeated_requests_write_no_event(self, events_storage: Any) -> None:
        """A refusal, a key already used and a duplicate id change nothing: no event."""
        s = events_storage
        b = s.reserve(reservation(slots(day(1), capacity=1), key="k"))
        with pytest.raises(QuotaExhausted):
            s.reserve(reservation(slots(day(1), capacity=1)))
        assert s.reserve(reservation(slots(day(2)), key="k")) == b
        with pytest.raises(InvalidTransition):
            s.reserve(reservation(slots(day(2)), booking_id=b.id))
        assert _kinds(s) == [("booked", b.id)]

    def test_a_logged_refusal_writes_one_turned_away(self, events_storage: Any) -> None:
        """A full day refused with ``log_refusal`` writes one ``turned_away``; else none."""
        s = events_storage
        s.reserve(reservation(slots(day(1), capacity=1), channel="walk_in", prefix="B"))
        full = reservation(slots(day(1), capacity=1), channel="walk_in", prefix="B")
        with pytest.raises(QuotaExhausted):
            s.reserve(full)
        with pytest.raises(QuotaExhausted):
            s.reserve(attrs.evolve(full, booking_id=new_booking_id(), log_refusal=True, places=2))
        close(s, day(2), {}, reason="banjir")
        shut = reservation(slots(day(2)), channel="walk_in", prefix="B")
        with pytest.raises(QuotaExhausted):
            s.reserve(attrs.evolve(shut, log_refusal=True))
        log = _log(s)
        assert [(e.kind, e.booking_id) for e in log][1:] == [
            ("turned_away", None),
            ("day_closed", None),
        ]
        away = log[1]
        assert (away.day, away.at, dict(away.data)) == (
            BASE_DAY,
            CREATED_AT,
            {"channel": "walk_in", "places": 2},
        )

    def test_every_change_writes_its_event(self, events_storage: Any) -> None:
        """Cancel, check-in, move, no-show: one event each, in order; a failure: none."""
        s = events_storage
        a, b, c, d = (s.reserve(reservation(slots(day(0), day(1), capacity=2))) for _ in range(4))
        cancelled = s.cancel(OFFICE, a.id, not_before=day(0), now=AT)
        arrived = s.check_in(OFFICE, b.id, today=day(0), now=AT)
        with pytest.raises(InvalidTransition):
            s.cancel(OFFICE, a.id, not_before=day(0), now=AT)
        with pytest.raises(InvalidTransition):
            s.check_in(OFFICE, c.id, today=day(0), now=AT)  # c is on day 1
        moved = s.move(OFFICE, c.id, slots(day(2)), prefix="A", now=AT)
        with pytest.raises(QuotaExhausted):
            s.move(OFFICE, d.id, slots(day(1), capacity=0), prefix="A", now=AT)
        absent = s.mark_no_shows(OFFICE, day(1), now=AT)
        assert [x.id for x in absent] == [d.id]
        log = _log(s)
        assert [e.seq for e in log] == list(range(1, 9))
        assert [(e.kind, e.booking_id, e.day) for e in log] == [
            ("booked", a.id, day(0)),
            ("booked", b.id, day(0)),
            ("booked", c.id, day(1)),
            ("booked", d.id, day(1)),
            ("cancelled", a.id, day(0)),
            ("checked_in", b.id, day(0)),
            ("moved", c.id, day(2)),
            ("no_show", d.id, day(1)),
        ]
        assert [e.at for e in log[4:]] == [AT] * 4
        assert log[4].data == _data(cancelled)
        assert log[5].data == _data(arrived)
        assert log[6].data == {
            **_data(moved),
            "previous_day": day(1).isoformat(),
            "previous_number": c.number,
            "previous_label": c.label,
        }
        assert log[7].data == _data(absent[0])

    def test_close_day_writes_the_closure_then_each_move(self, events_storage: Any) -> None:
        """``day_closed``, then a ``moved`` per booking; a repeat or a failure: nothing."""
        s = events_storage
        on_day = [s.reserve(reservation(slots(day(1), capacity=3))) for _ in range(3)]
        with pytest.raises(QuotaExhausted):
            close(s, day(1), {"online": ("A", slots(day(2), capacity=2))})
        assert [k for k, _ in _kinds(s)] == ["booked"] * 3
        moved = close(s, day(1), {"online": ("A", slots(day(2), day(3), capacity=2))})
        assert close(s, day(1), {"online": ("A", slots(day(2), day(3), capacity=2))}) == []
        log = _log(s)[3:]
        assert [(e.kind, e.booking_id, e.day) for e in log] == [
            ("day_closed", None, day(1)),
            *[("moved", b.id, b.day) for b in moved],
        ]
        assert log[0].data == {"reason": "contract closure", "moved": 3}
        assert [e.data["previous_number"] for e in log[1:]] == [b.number for b in on_day]

    def test_reopen_day_writes_an_event_once(self, events_storage: Any) -> None:
        """Reopening a closed day lifts it (``day_reopened``); a day not closed: nothing."""
        s = events_storage
        assert s.reopen_day(OFFICE, day(1), now=AT) is False
        close(s, day(1), {}, reason="banjir")
        assert s.reopen_day(OFFICE, day(1), now=AT) is True
        assert s.reopen_day(OFFICE, day(1), now=AT) is False
        assert s.closures(OFFICE) == {}
        assert [(e.kind, e.day, e.data) for e in _log(s)] == [
            ("day_closed", day(1), {"reason": "banjir", "moved": 0}),
            ("day_reopened", day(1), {"reason": "banjir"}),
        ]
        b = s.reserve(reservation(slots(day(1))))
        assert b.day == day(1)

    def test_reminders_are_written_once_per_booking_and_day(self, events_storage: Any) -> None:
        """``remind`` writes a ``reminder`` for each booked booking of the day, once."""
        s = events_storage
        a, b = (s.reserve(reservation(slots(day(1), capacity=3))) for _ in range(2))
        s.cancel(OFFICE, b.id, not_before=day(0), now=AT)
        first = s.remind(OFFICE, day(1), now=AT)
        assert [(e.kind, e.booking_id, e.data) for e in first] == [("reminder", a.id, _data(a))]
        c = s.reserve(reservation(slots(day(1), capacity=3)))
        assert [e.booking_id for e in s.remind(OFFICE, day(1), now=AT)] == [c.id]
        assert s.remind(OFFICE, day(1), now=AT) == []
        kinds = ["booked", "booked", "cancelled", "reminder", "booked", "reminder"]
        assert [e.kind for e in _log(s)] == kinds

    def test_offices_have_their_own_log(self, events_storage: Any) -> None:
        """Each office's seqs start at 1; neither log shows the other's events."""
        s = events_storage
        a = s.reserve(reservation(slots(day(1))))
        b = s.reserve(reservation(slots(day(1)), office=OTHER_OFFICE))
        c = s.reserve(reservation(slots(day(1))))
        assert [(e.seq, e.booking_id) for e in _log(s)] == [(1, a.id), (2, c.id)]
        assert [(e.seq, e.booking_id) for e in _log(s, OTHER_OFFICE)] == [(1, b.id)]

    def test_the_log_survives_reopening(
        self, events_storage: Any, reopen: Callable[[], Storage]
    ) -> None:
        """Another handle reads the same log and appends after it."""
        s = events_storage
        a = s.reserve(reservation(slots(day(1))))
        other = reopen()
        assert _log(other) == _log(s)
        b = other.reserve(reservation(slots(day(1))))
        assert [(e.seq, e.booking_id) for e in _log(s)] == [(1, a.id), (2, b.id)]

    def test_state_values_are_read_by_prefix(self, events_storage: Any) -> None:
        """``state``/``put_state`` in a caller's transaction: prefix reads, deletes."""
        s = events_storage

        def write(tx: Any) -> None:
            tx.put_state({"n:a:cursor": "3", "n:a:dead:1": "x", "n:ab:cursor": "9"})

        s.run(OFFICE, write, write=True)
        s.run(OFFICE, lambda tx: tx.put_state({"n:a:dead:1": None}), write=True)
        got = s.run(OFFICE, lambda tx: tx.state("n:a:"), write=False)
        assert got == {"n:a:cursor": "3"}
        assert s.run(OTHER_OFFICE, lambda tx: tx.state("n:"), write=False) == {}

    def test_threads_write_one_gapless_log(
        self, events_storage: Any, reopen: Callable[[], Storage]
    ) -> None:
        """Eight threads on two handles: seqs 1..N, one event per acknowledged change."""
        handles = [events_storage, reopen()]
        acked: list[tuple[str, str]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def work(i: int) -> None:
            s = handles[i % 2]
            barrier.wait(timeout=60)
            for _ in range(5):
                try:
                    b = s.reserve(reservation(slots(day(1), day(2), capacity=12)))
                except QuotaExhausted:
                    continue
                with lock:
                    acked.append(("booked", b.id))
                if b.number % 3 == 0:
                    s.cancel(OFFICE, b.id, not_before=day(0), now=AT)
                    with lock:
                        acked.append(("cancelled", b.id))

        with ThreadPoolExecutor(max_workers=8) as pool:
            for future in [pool.submit(work, i) for i in range(8)]:
                future.result(timeout=300)
        log = _log(events_storage)
        assert [e.seq for e in log] == list(range(1, len(log) + 1))
        assert sorted((e.kind, e.booking_id or "") for e in log) == sorted(acked)
