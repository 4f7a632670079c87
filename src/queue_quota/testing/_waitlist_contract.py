"""The waitlist rules of the storage contract (part of `StorageContract`): a freed place
goes to the first entry in joining order that fits, in the transaction that freed it; an
entry holds a place for the per-citizen limit; expired entries leave with an event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import attrs
import pytest

from ..errors import AlreadyBooked, BookingNotFound, InvalidTransition
from ..models import BookingStatus, Candidate, Slot
from ..storage.base import Storage
from ..tickets import new_booking_id
from ..waitlist import WaitlistEntry
from ._builders import BASE_DAY, CREATED_AT, OFFICE, OTHER_OFFICE, close, day, reservation, slots
from ._events_contract import AT, _log

__all__ = ["WaitlistContract"]


@attrs.define
class _Promoter:
    """The candidates a scheduler would offer: fixed slots per channel."""

    offered: Mapping[str, Sequence[Slot]]
    today: date = BASE_DAY

    def candidates(self, channel: str) -> Sequence[Candidate]:
        return tuple(Candidate.of_slot(channel, s) for s in self.offered.get(channel, ()))

    def prefix(self, channel: str) -> str:
        return "A" if channel == "online" else "B"


def _entry(
    *, channel: str = "online", until: date | None = None, places: int = 1, citizen: str | None
) -> WaitlistEntry:
    entry_id = new_booking_id()
    return WaitlistEntry(
        id=entry_id,
        channel=channel,
        position=0,
        ticket=f"ticket-of-{entry_id}",
        until=until or day(3),
        places=places,
        joined_at=CREATED_AT,
        citizen_ref=citizen,
    )


def _join(s: Any, where: Sequence[Slot], entry: WaitlistEntry, **kw: Any) -> WaitlistEntry:
    r = attrs.evolve(
        reservation(where, citizen=entry.citizen_ref, **kw),
        booking_id=entry.id,
        ticket=entry.ticket,
        places=entry.places,
    )
    placed: WaitlistEntry = s.join_waitlist(r, entry, now=AT)
    return placed


def _full(s: Any, *days: date, capacity: int = 1) -> list[Any]:
    """Fill ``days`` (capacity each) with one booking a place."""
    return [
        s.reserve(reservation(slots(d, capacity=capacity))) for d in days for _ in range(capacity)
    ]


class WaitlistContract:
    """Mixed into `StorageContract`; skipped for a storage that keeps no waitlist."""

    @pytest.fixture
    def wait_storage(self, storage: Storage) -> Any:
        if not getattr(storage, "supports_waitlist", False):
            pytest.skip(f"{type(storage).__name__} keeps no waitlist (supports_waitlist is False)")
        return storage

    def test_join_a_full_channel_writes_the_entry_and_its_event(self, wait_storage: Any) -> None:
        """Joining a full channel gives positions 1, 2 and a ``waitlisted`` event each."""
        s = wait_storage
        _full(s, day(1))
        first = _join(s, slots(day(1), capacity=1), _entry(citizen="ref-a"))
        second = _join(s, slots(day(1), capacity=1), _entry(citizen="ref-b"))
        assert (first.position, second.position) == (1, 2)
        assert [e.id for e in s.waitlist(OFFICE, "online")] == [first.id, second.id]
        assert [(e.kind, e.booking_id) for e in _log(s)[-2:]] == [
            ("waitlisted", first.id),
            ("waitlisted", second.id),
        ]
        assert s.waitlist(OTHER_OFFICE, "online") == []

    def test_join_with_room_is_refused_and_writes_nothing(self, wait_storage: Any) -> None:
        """A channel with room refuses the entry (``has_room``, the day): nothing written."""
        s = wait_storage
        _full(s, day(1))
        with pytest.raises(InvalidTransition) as refused:
            _join(s, slots(day(1), day(2), capacity=1), _entry(citizen="ref-a"))
        assert (refused.value.reason, refused.value.day) == ("has_room", day(2))
        assert s.waitlist(OFFICE, None) == []
        assert [e.kind for e in _log(s)] == ["booked"]

    def test_a_cancel_promotes_the_first_in_line_in_its_transaction(
        self, wait_storage: Any
    ) -> None:
        """The freed place goes to the first entry: the booking has the entry's id and ticket."""
        s = wait_storage
        held = _full(s, day(1))
        first = _join(s, slots(day(1), capacity=1), _entry(citizen="ref-a"))
        second = _join(s, slots(day(1), capacity=1), _entry(citizen="ref-b"))
        promoter = _Promoter({"online": slots(day(1), capacity=1)})
        s.cancel(OFFICE, held[0].id, not_before=BASE_DAY, now=AT, promoter=promoter)
        got = s.get(OFFICE, first.id)
        assert (got.status, got.day, got.ticket, got.citizen_ref) == (
            BookingStatus.BOOKED,
            day(1),
            first.ticket,
            "ref-a",
        )
        assert got.number == 2  # numbers are never reused
        assert [e.id for e in s.waitlist(OFFICE, "online")] == [second.id]
        assert [(e.kind, e.booking_id) for e in _log(s)[-2:]] == [
            ("cancelled", held[0].id),
            ("promoted", first.id),
        ]
        assert s.booked_counts(OFFICE, "online", day(1), day(2)) == {day(1): 1}

    def test_an_entry_that_does_not_fit_keeps_its_place(self, wait_storage: Any) -> None:
        """A household of two waits while a single place goes to the next entry."""
        s = wait_storage
        held = _full(s, day(1), capacity=2)
        where = slots(day(1), capacity=2)
        pair = _join(s, where, _entry(places=2, citizen="ref-a"))
        single = _join(s, where, _entry(citizen="ref-b"))
        promoter = _Promoter({"online": where})
        s.cancel(OFFICE, held[0].id, not_before=BASE_DAY, now=AT, promoter=promoter)
        assert s.get(OFFICE, single.id).status is BookingStatus.BOOKED
        assert [(e.id, e.position) for e in s.waitlist(OFFICE, "online")] == [(pair.id, 1)]
        s.cancel(OFFICE, held[1].id, not_before=BASE_DAY, now=AT, promoter=promoter)
        assert [e.id for e in s.waitlist(OFFICE, "online")] == [pair.id]  # one place free
        s.cancel(OFFICE, single.id, not_before=BASE_DAY, now=AT, promoter=promoter)
        assert s.waitlist(OFFICE, "online") == []
        assert s.get(OFFICE, pair.id).places == 2
        assert s.booked_counts(OFFICE, "online", day(1), day(2)) == {day(1): 2}

    def test_a_failed_cancel_promotes_nobody(self, wait_storage: Any) -> None:
        """Cancelling a cancelled booking frees nothing and promotes nobody."""
        s = wait_storage
        held = _full(s, day(1))
        entry = _join(s, slots(day(1), capacity=1), _entry(citizen="ref-a"))
        promoter = _Promoter({"online": slots(day(1), capacity=1)})
        s.cancel(OFFICE, held[0].id, not_before=BASE_DAY, now=AT, promoter=promoter)
        again = _join(s, slots(day(1), capacity=1), _entry(citizen="ref-b"))
        with pytest.raises(InvalidTransition):
            s.cancel(OFFICE, held[0].id, not_before=BASE_DAY, now=AT, promoter=promoter)
        assert s.get(OFFICE, entry.id).status is BookingStatus.BOOKED
        assert [e.id for e in s.waitlist(OFFICE, "online")] == [again.id]

    def test_an_entry_holds_a_place_for_the_citizens_limit(self, wait_storage: Any) -> None:
        """With ``per_citizen=1`` a citizen waiting cannot book, nor join again."""
        s = wait_storage
        _full(s, day(1))
        _join(s, slots(day(1), capacity=1), _entry(citizen="ref-a"), per_citizen=1)
        with pytest.raises(AlreadyBooked):
            s.reserve(reservation(slots(day(2)), citizen="ref-a", per_citizen=1))
        with pytest.raises(AlreadyBooked):
            _join(s, slots(day(1), capacity=1), _entry(citizen="ref-a"), per_citizen=1)
        s.reserve(reservation(slots(day(2)), citizen="ref-b", per_citizen=1))

    def test_leaving_removes_the_entry_and_writes_an_event(self, wait_storage: Any) -> None:
        """``leave_waitlist`` removes it (``waitlist_left``); an unknown id is not found."""
        s = wait_storage
        _full(s, day(1))
        entry = _join(s, slots(day(1), capacity=1), _entry(citizen="ref-a"))
        left = s.leave_waitlist(OFFICE, entry.id, now=AT)
        assert left.id == entry.id
        assert s.waitlist(OFFICE, None) == []
        assert _log(s)[-1].kind == "waitlist_left"
        with pytest.raises(BookingNotFound):
            s.leave_waitlist(OFFICE, entry.id, now=AT)
        s.reserve(reservation(slots(day(2)), citizen="ref-a", per_citizen=1))

    def test_expired_entries_leave_at_the_next_pass(self, wait_storage: Any) -> None:
        """An entry past ``until`` is removed (``waitlist_expired``), never promoted."""
        s = wait_storage
        held = _full(s, day(1), day(2))
        late = _join(s, slots(day(1), day(2), capacity=1), _entry(until=day(1), citizen="a"))
        keen = _join(s, slots(day(1), day(2), capacity=1), _entry(citizen="ref-b"))
        promoter = _Promoter({"online": slots(day(2), capacity=1)}, today=day(2))
        s.cancel(OFFICE, held[1].id, not_before=BASE_DAY, now=AT, promoter=promoter)
        assert s.get(OFFICE, keen.id).day == day(2)
        with pytest.raises(BookingNotFound):
            s.get(OFFICE, late.id)
        assert [(e.kind, e.booking_id) for e in _log(s)[-3:]] == [
            ("cancelled", held[1].id),
            ("waitlist_expired", late.id),
            ("promoted", keen.id),
        ]

    def test_promote_waitlist_fills_room_that_appeared(self, wait_storage: Any) -> None:
        """More capacity (a new office file) is given to the line by ``promote_waitlist``."""
        s = wait_storage
        _full(s, day(1))
        entries = [_join(s, slots(day(1), capacity=1), _entry(citizen=f"r{i}")) for i in range(3)]
        done = s.promote_waitlist(OFFICE, _Promoter({"online": slots(day(1), capacity=3)}), now=AT)
        assert [b.id for b in done] == [e.id for e in entries[:2]]
        assert [b.number for b in done] == [2, 3]
        assert [e.id for e in s.waitlist(OFFICE, "online")] == [entries[2].id]
        assert s.promote_waitlist(OFFICE, _Promoter({"online": slots(day(1))}), now=AT) == []

    def test_a_reopened_day_goes_to_the_line(self, wait_storage: Any) -> None:
        """Reopening a closed day promotes the entries that fit it, in the same transaction."""
        s = wait_storage
        _full(s, day(2))
        close(s, day(1), {})
        entry = _join(s, slots(day(1), day(2), capacity=1), _entry(citizen="ref-a"))
        promoter = _Promoter({"online": slots(day(1), day(2), capacity=1)})
        assert s.reopen_day(OFFICE, day(1), now=AT, promoter=promoter)
        assert s.get(OFFICE, entry.id).day == day(1)
        assert [e.kind for e in _log(s)[-2:]] == ["day_reopened", "promoted"]

    def test_a_promotion_never_exceeds_any_counter(self, wait_storage: Any) -> None:
        """Many entries, one freed place: exactly one promoted, the day at its capacity."""
        s = wait_storage
        held = _full(s, day(1), capacity=2)
        where = slots(day(1), capacity=2)
        entries = [_join(s, where, _entry(citizen=f"r{i}")) for i in range(5)]
        s.cancel(
            OFFICE, held[0].id, not_before=BASE_DAY, now=AT, promoter=_Promoter({"online": where})
        )
        assert s.booked_counts(OFFICE, "online", day(1), day(2)) == {day(1): 2}
        assert len(s.waitlist(OFFICE, "online")) == 4
        promoted = [b for b in s.bookings_on(OFFICE, day(1)) if b.id in {e.id for e in entries}]
        assert [b.id for b in promoted] == [entries[0].id]
