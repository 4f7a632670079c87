"""The no-show sanctions of the storage contract (part of `StorageContract`): a reservation
with ``no_show_limit`` is refused with `Suspended` inside its own transaction, counting the
no-shows of every ref and channel in the window, and a lift counts only later ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from ..errors import AlreadyBooked, Suspended
from ..models import Booking, Reservation
from ..storage.base import Storage
from ._builders import OFFICE, OTHER_OFFICE, day, reservation, slots

__all__ = ["SanctionsContract"]

_AT = datetime(2030, 1, 20, 3, 0, tzinfo=UTC)


def _ask(today: int, *, citizen: str = "c1", **more: Any) -> Reservation:
    """An online reservation made on ``day(today)`` for the next three days: suspended
    after 2 no-shows in 10 days, for 5 days (``more`` overrides any field)."""
    r = reservation(
        slots(*(day(today + i) for i in range(1, 4))), citizen=citizen, today=day(today)
    )
    rule: dict[str, Any] = {"no_show_limit": 2, "no_show_window_days": 10, "suspension_days": 5}
    return attrs.evolve(r, **(rule | more))


def _missed(s: Storage, on: int, *, citizen: str = "c1", channel: str = "online") -> Booking:
    """A booking of ``citizen`` for ``day(on)``, marked as a no-show."""
    b = s.reserve(reservation(slots(day(on)), citizen=citizen, channel=channel, today=day(on)))
    s.mark_no_shows(OFFICE, day(on))
    return b


class SanctionsContract:
    """Mixed into `StorageContract`; skipped for a storage without ``supports_sanctions``
    (one that implements `Storage` directly instead of on primitives)."""

    @pytest.fixture
    def sanctions_storage(self, storage: Storage) -> Any:
        if not getattr(storage, "supports_sanctions", False):
            pytest.skip(f"{type(storage).__name__} keeps no sanctions (supports_sanctions)")
        return storage

    def test_no_shows_at_the_limit_suspend_until_the_latest_plus_days(
        self, sanctions_storage: Any
    ) -> None:
        """Two no-shows: refused until the latest + 5 days, then booked; one: booked."""
        s = sanctions_storage
        _missed(s, 1)
        first = s.reserve(_ask(2))
        assert first.day == day(3)
        s.cancel(OFFICE, first.id, not_before=day(2))
        _missed(s, 3)
        with pytest.raises(Suspended) as refused:
            s.reserve(_ask(4))
        assert (refused.value.until, refused.value.channel) == (day(8), "online")
        with pytest.raises(Suspended):
            s.reserve(_ask(7))
        assert s.reserve(_ask(8)).day == day(9)

    def test_suspension_comes_before_the_citizen_limit_and_writes_nothing(
        self, sanctions_storage: Any
    ) -> None:
        """A suspended citizen who also holds a booking is told `Suspended`; no event."""
        s = sanctions_storage
        _missed(s, 1)
        _missed(s, 2)
        s.reserve(reservation(slots(day(5)), citizen="c1", today=day(3)))
        seen = len(s.events(OFFICE, after=0, limit=100))
        with pytest.raises(Suspended):
            s.reserve(_ask(3, per_citizen=1))
        with pytest.raises(AlreadyBooked):
            s.reserve(attrs.evolve(_ask(3, per_citizen=1), no_show_limit=None))
        assert len(s.events(OFFICE, after=0, limit=100)) == seen

    def test_every_ref_and_channel_count_within_the_window(self, sanctions_storage: Any) -> None:
        """No-shows under an older ref and on another channel count; older ones do not."""
        s = sanctions_storage
        _missed(s, 1, citizen="old", channel="walk_in")
        _missed(s, 2, citizen="c1")
        with pytest.raises(Suspended):
            s.reserve(_ask(3, other_refs=("old",)))
        assert s.reserve(_ask(3)).citizen_ref == "c1"  # without the old ref: one no-show
        long = {"suspension_days": 30, "other_refs": ("old", "c1")}
        with pytest.raises(Suspended):  # day(1) and day(2) are both in the 10 days
            s.reserve(_ask(11, citizen="c2", **long))
        assert s.reserve(_ask(12, citizen="c2", **long)).day == day(13)  # day(1) is not

    def test_a_lift_counts_only_later_no_shows_and_writes_an_event(
        self, sanctions_storage: Any
    ) -> None:
        """After a lift the citizen books at once; two later no-shows suspend again."""
        s = sanctions_storage
        _missed(s, 1)
        _missed(s, 2)
        before = len(s.events(OFFICE, after=0, limit=100))
        s.lift_suspension(OFFICE, ["c1", "old"], today=day(3), now=_AT)
        log = s.events(OFFICE, after=before, limit=100)
        assert [(e.kind, e.booking_id, e.day, e.at, dict(e.data)) for e in log] == [
            ("suspension_lifted", None, day(3), _AT, {})
        ]
        b = s.reserve(_ask(3, other_refs=("old",)))
        assert b.day == day(4)
        s.mark_no_shows(OFFICE, day(4))
        assert s.reserve(_ask(5)).day == day(6)
        s.mark_no_shows(OFFICE, day(6))
        with pytest.raises(Suspended) as refused:
            s.reserve(_ask(7, citizen="old", other_refs=("c1",)))
        assert refused.value.until == day(11)
        s.lift_suspension(OFFICE, ["c1"], today=day(2), now=_AT)  # never moves a lift back
        with pytest.raises(Suspended):
            s.reserve(_ask(7))

    def test_a_lift_is_per_office_and_survives_reopening(
        self, sanctions_storage: Any, reopen: Callable[[], Storage]
    ) -> None:
        """Another handle sees the lift; another office's log and marks are untouched."""
        s = sanctions_storage
        _missed(s, 1)
        _missed(s, 2)
        s.lift_suspension(OTHER_OFFICE, ["c1"], today=day(3), now=_AT)
        with pytest.raises(Suspended):
            s.reserve(_ask(3))
        s.lift_suspension(OFFICE, ["c1"], today=day(3), now=_AT)
        assert reopen().reserve(_ask(3)).day == day(4)
        kinds = [e.kind for e in s.events(OTHER_OFFICE, after=0, limit=10)]
        assert kinds == ["suspension_lifted"]
