"""No-show sanctions on the online channel: `Suspended`, walk-ins, the window, the lift."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import queue_quota as qq
from queue_quota.config import loads_office
from queue_quota.i18n import describe
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage, TransactionalStorage
from queue_quota.testing import FrozenClock

WIB = ZoneInfo("Asia/Jakarta")
SECRET = b"sanctions-test-secret-0123456789"
OLD_SECRET = b"sanctions-old-secret-0123456789a"
NIK = "3328011234560001"
OTHER = "3328014506900002"


def at(month: int, day: int, hour: int = 9) -> datetime:
    """A Jakarta wall time in 2020."""
    return datetime(2020, month, day, hour, 0, tzinfo=WIB)


def office(limit: int | None = 2, window: int = 90, days: int = 30) -> qq.Office:
    """Monday to Friday, no holidays: online (suspended after ``limit``) and walk-ins."""
    return qq.Office(
        id="sanctions-office",
        calendar=qq.WorkingCalendar(weekmask="1111100", tz="Asia/Jakarta"),
        policies=[
            OnlineQuota(
                capacity=5,
                per_citizen=None,
                no_show_limit=limit,
                no_show_window_days=window,
                suspension_days=days,
            ),
            WalkInQuota(capacity=5, opens=time(7, 30), closes=time(12)),
        ],
    )


class _SpyTx:
    """A transaction that records the state prefixes it reads."""

    def __init__(self, tx: Any, reads: list[str]) -> None:
        self._tx = tx
        self._reads = reads

    def state(self, prefix: str) -> dict[str, str]:
        self._reads.append(prefix)
        found: dict[str, str] = self._tx.state(prefix)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class _SpyPrimitives:
    """Primitives whose transactions record their state reads."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.reads: list[str] = []

    @contextlib.contextmanager
    def transaction(self, office_id: str, *, write: bool) -> Iterator[Any]:
        with self._inner.transaction(office_id, write=write) as tx:
            yield _SpyTx(tx, self.reads)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


Make = Callable[..., qq.Scheduler]


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TransactionalStorage]:
    """One store per test, behind primitives that record their state reads."""
    inner = MemoryStorage() if request.param == "memory" else SQLiteStorage(tmp_path / "q.db")
    yield TransactionalStorage(_SpyPrimitives(inner.primitives))
    inner.close()


@pytest.fixture
def make(storage: TransactionalStorage) -> Make:
    """Schedulers on the test's store, on a frozen clock (9:00 WIB, Monday 1 June 2020)."""
    clock = FrozenClock(at(6, 1))

    def build(the_office: qq.Office | None = None, secret: Any = SECRET) -> qq.Scheduler:
        return qq.Scheduler(the_office or office(), storage, secret=secret, clock=clock)

    build.clock = clock  # type: ignore[attr-defined]
    return build


def miss(sched: qq.Scheduler, day: date, booked_on: datetime, citizen: str = NIK) -> None:
    """``citizen`` books ``day`` online on ``booked_on`` and does not come."""
    sched.book("online", citizen, preferred_date=day, now=booked_on)
    sched.mark_no_shows(day, now=datetime.combine(day + timedelta(days=1), time(8), WIB))


def refused(sched: qq.Scheduler, now: datetime, citizen: str = NIK) -> qq.Suspended:
    """The `Suspended` of an online request made at ``now``."""
    with pytest.raises(qq.Suspended) as caught:
        sched.book("online", citizen, now=now)
    return caught.value


def test_the_limit_suspends_until_the_latest_no_show_plus_the_days(make: Make) -> None:
    """Two no-shows (2 and 4 June): refused with until 4 June + 30 days = 4 July 2020."""
    sched = make()
    miss(sched, date(2020, 6, 2), at(6, 1))
    assert sched.book("online", NIK, now=at(6, 3)).day == date(2020, 6, 4)  # one: booked
    sched.mark_no_shows(date(2020, 6, 4), now=at(6, 5))
    err = refused(sched, at(6, 5))
    assert err.code == "suspended"
    assert err.until == date(2020, 7, 4)
    assert describe(err, "id", office=sched.office) == (
        "Pendaftaran online Anda ditangguhkan karena Anda tidak hadir pada hari layanan yang "
        "telah dijadwalkan. Anda dapat mendaftar online lagi mulai Sabtu, 4 Juli 2020. Anda "
        "tetap dapat datang langsung tanpa mendaftar."
    )
    assert "from Saturday, 4 July 2020" in describe(err, "en")
    assert sched.book("online", OTHER, now=at(6, 5)).day == date(2020, 6, 8)  # others book


def test_walk_ins_of_a_suspended_citizen_are_never_refused(make: Make) -> None:
    """The rule is the online channel's: the same citizen gets a walk-in number."""
    sched = make()
    miss(sched, date(2020, 6, 2), at(6, 1))
    miss(sched, date(2020, 6, 4), at(6, 3))
    refused(sched, at(6, 5, 8))
    assert sched.book("walk_in", NIK, now=at(6, 5, 8)).day == date(2020, 6, 5)
    assert not hasattr(WalkInQuota(capacity=1), "no_show_limit")


def test_walk_in_no_shows_count_towards_the_online_limit(make: Make) -> None:
    """No-shows on any channel of the office count; the suspension beats `AlreadyBooked`."""
    sched = make(office(limit=2, days=10))
    held = sched.book("online", NIK, preferred_date=date(2020, 6, 12), now=at(6, 1, 8))
    for d in (1, 2):
        sched.book("walk_in", NIK, now=at(6, d, 8))
        sched.mark_no_shows(date(2020, 6, d), now=at(6, d + 1, 8))
    assert refused(sched, at(6, 3)).until == date(2020, 6, 12)
    assert sched.get(held.id).status is qq.BookingStatus.BOOKED


def test_no_shows_outside_the_window_do_not_count(make: Make) -> None:
    """Window 10 days: on 12 June both no-shows (2 and 4 June) count; on 13 June one does."""
    sched = make(office(limit=2, window=10, days=30))
    miss(sched, date(2020, 6, 2), at(6, 1))
    miss(sched, date(2020, 6, 4), at(6, 3))
    assert refused(sched, at(6, 12)).until == date(2020, 7, 4)
    assert sched.book("online", NIK, now=at(6, 13)).day == date(2020, 6, 15)


def test_the_suspension_ends_on_until(make: Make) -> None:
    """Refused through the last minute of 3 July; booked on 4 July (the first day again)."""
    sched = make(office(limit=2, days=30))
    miss(sched, date(2020, 6, 2), at(6, 1))
    miss(sched, date(2020, 6, 4), at(6, 3))
    make.clock.set(datetime(2020, 7, 3, 23, 59, tzinfo=WIB))  # type: ignore[attr-defined]
    with pytest.raises(qq.Suspended):
        sched.book("online", NIK)
    make.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert sched.book("online", NIK).day == date(2020, 7, 6)


def test_lift_suspension_lets_the_citizen_book_at_once(make: Make) -> None:
    """The clerk lifts: booked at once; an event without personal data; later no-shows
    count again."""
    sched = make()
    miss(sched, date(2020, 6, 2), at(6, 1))
    miss(sched, date(2020, 6, 4), at(6, 3))
    refused(sched, at(6, 5))
    seen = sched.events()[-1].seq
    sched.lift_suspension(f" {NIK[:8]} {NIK[8:]} ", now=at(6, 5, 10))  # as a clerk types it
    lifted = sched.events(after=seen)
    assert [(e.kind, e.booking_id, e.day, dict(e.data)) for e in lifted] == [
        ("suspension_lifted", None, date(2020, 6, 5), {})
    ]
    assert NIK not in repr(lifted)
    assert sched.citizen_ref(NIK) not in repr(lifted)
    again = sched.book("online", NIK, now=at(6, 5, 10))
    assert again.day == date(2020, 6, 8)
    sched.mark_no_shows(again.day, now=at(6, 9))
    assert sched.book("online", NIK, now=at(6, 9)).day == date(2020, 6, 10)  # one since
    sched.mark_no_shows(date(2020, 6, 10), now=at(6, 11))
    assert refused(sched, at(6, 11)).until == date(2020, 7, 10)


def test_lifting_an_unsuspended_citizen_does_no_harm(make: Make) -> None:
    """A lift for a citizen without no-shows writes its event and changes no booking."""
    sched = make()
    sched.lift_suspension(OTHER, now=at(6, 1))
    assert [e.kind for e in sched.events()] == ["suspension_lifted"]
    assert sched.book("online", OTHER, now=at(6, 1)).day == date(2020, 6, 2)


def test_below_the_limit_the_booking_reads_no_lift_mark(
    make: Make, storage: TransactionalStorage
) -> None:
    """The cheap path: one no-show of two reads no state; at the limit the mark is read."""
    sched = make()
    reads: list[str] = storage.primitives.reads  # type: ignore[attr-defined]
    miss(sched, date(2020, 6, 2), at(6, 1))
    reads.clear()
    sched.book("online", NIK, now=at(6, 3))
    sched.book("online", OTHER, now=at(6, 3))
    assert not [r for r in reads if r.startswith("lift:")]
    sched.mark_no_shows(date(2020, 6, 4), now=at(6, 5))
    refused(sched, at(6, 5))
    assert [r for r in reads if r.startswith("lift:")] == [f"lift:{sched.citizen_ref(NIK)}"]


def test_a_rotated_secret_still_counts_the_older_refs(make: Make) -> None:
    """No-shows made under the old secret count after a rotation; a lift covers both refs."""
    old = make(secret=OLD_SECRET)
    miss(old, date(2020, 6, 2), at(6, 1))
    miss(old, date(2020, 6, 4), at(6, 3))
    rotated = make(secret=[SECRET, OLD_SECRET])
    assert refused(rotated, at(6, 5)).until == date(2020, 7, 4)
    rotated.lift_suspension(NIK, now=at(6, 5))
    booked = rotated.book("online", NIK, now=at(6, 5))
    assert booked.citizen_ref == rotated.citizen_ref(NIK) != old.citizen_ref(NIK)


def test_without_a_limit_no_shows_change_nothing(make: Make) -> None:
    """``no_show_limit=None`` (the default): any number of no-shows, still booked."""
    sched = make(office(limit=None))
    for d in (2, 3, 4):
        miss(sched, date(2020, 6, d), at(6, d - 1))
    assert sched.book("online", NIK, now=at(6, 5)).day == date(2020, 6, 8)


def test_an_office_file_with_the_keys_suspends() -> None:
    """``no_show_limit`` and friends in an office file: the loaded office suspends."""
    loaded = loads_office(
        """
[office]
id = "tegal-disdukcapil"
timezone = "Asia/Jakarta"

[calendar]
weekmask = "1111100"

[[policy]]
type = "online"
capacity = 5
per_citizen = "unlimited"
no_show_limit = 1
no_show_window_days = 30
suspension_days = 7
"""
    )
    sched = qq.Scheduler(loaded)
    miss(sched, date(2020, 6, 2), at(6, 1))
    assert refused(sched, at(6, 3)).until == date(2020, 6, 9)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("no_show_limit", 0),
        ("no_show_limit", True),
        ("no_show_window_days", 0),
        ("suspension_days", 0),
        ("suspension_days", 1.5),
    ],
)
def test_the_policy_refuses_bad_sanction_values(field: str, value: object) -> None:
    """The limit is None or >= 1; the window and the suspension are whole days >= 1."""
    with pytest.raises(qq.ConfigurationError, match=field):
        OnlineQuota(capacity=1, **{field: value})


def test_lift_suspension_refuses_bad_input_and_storages_without_sanctions(make: Make) -> None:
    """An empty or missing ID, a naive time, or a storage that keeps no sanctions."""
    sched = make()
    with pytest.raises(qq.ConfigurationError):
        sched.lift_suspension("  ")
    with pytest.raises(qq.ConfigurationError):
        sched.lift_suspension(None)  # type: ignore[arg-type]
    with pytest.raises(qq.ConfigurationError):
        sched.lift_suspension(NIK, now=datetime(2020, 6, 5, 9))

    class NoSanctions(MemoryStorage):
        supports_sanctions = False

    plain = qq.Scheduler(office(limit=None), NoSanctions())
    with pytest.raises(qq.ConfigurationError) as caught:
        plain.lift_suspension(NIK)
    assert caught.value.message_key == "configuration_error.no_sanctions"
    assert "NoSanctions" in describe(caught.value, "id")


def test_a_storage_without_sanctions_is_refused_for_a_sanctioning_office() -> None:
    """An office with ``no_show_limit`` on a storage that cannot keep it: refused at once."""
    storage = MemoryStorage()
    setattr(storage, "supports_sanctions", False)  # noqa: B010 - as a third-party storage
    office = qq.Office(
        id="sanctions",
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[OnlineQuota(capacity=2, no_show_limit=1)],
    )
    with pytest.raises(qq.ConfigurationError) as refused:
        qq.Scheduler(office, storage)
    assert refused.value.details["message_key"] == "configuration_error.no_sanctions"
