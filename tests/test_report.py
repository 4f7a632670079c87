"""`Scheduler.report`: a scripted week on every storage, checked against figures worked
out by hand (the code under test computes none of them)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.errors import ConfigurationError, DayClosed, OutsideServiceHours, QuotaExhausted
from queue_quota.notify import notification_text
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.report import FIELDS
from queue_quota.storage import MemoryStorage, SQLiteStorage

MON, TUE, WED, THU, FRI, SAT, SUN = (date(2020, 6, d) for d in range(1, 8))
NEXT_MON = date(2020, 6, 8)


def small_office() -> qq.Office:
    """3 online places a day, 2 walk-in numbers from 07:30 to 12:00; Indonesian calendar
    (Monday 1 June 2020 is Hari Lahir Pancasila)."""
    return qq.Office(
        id="report-office",
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[
            OnlineQuota(capacity=3, lead_days=1, horizon_days=60),
            WalkInQuota(capacity=2, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[qq.storage.Storage]:
    """Each storage: memory, SQLite, PostgreSQL."""
    if request.param == "memory":
        yield MemoryStorage()
    elif request.param == "sqlite":
        s = SQLiteStorage(tmp_path / "report.sqlite3")
        yield s
        s.close()
    else:
        yield request.getfixturevalue("pg_storage")


def nik(i: int) -> str:
    return f"33280112345600{i:02d}"


def walk_in(sched: qq.Scheduler, at: Any, places: int = 1) -> qq.Booking | None:
    """A walk-in at ``at``: the booking, or ``None`` when turned away (the day full)."""
    try:
        return sched.book("walk_in", now=at, places=places)
    except QuotaExhausted:
        return None


def scripted_week(storage: qq.storage.Storage) -> qq.Scheduler:
    """The week of 1-7 June 2020, told in the order it happens."""
    sched = qq.Scheduler(small_office(), storage, secret=SECRET)
    fri_before = wib(2020, 5, 29, 9)
    a1, a2, a3 = (
        sched.book("online", nik(i), now=fri_before, preferred_date=TUE) for i in (1, 2, 3)
    )
    b1, b2 = (sched.book("online", nik(i), now=fri_before, preferred_date=WED) for i in (4, 5))
    c1, c2 = (sched.book("online", nik(i), now=fri_before, preferred_date=THU) for i in (6, 7))
    d1 = sched.book("online", nik(8), now=fri_before, preferred_date=FRI)
    sched.cancel(a3.id, now=fri_before)
    # Friday 29 May, before the range: two walk-ins served, one turned away.
    assert [walk_in(sched, fri_before) is None for _ in range(3)] == [False, False, True]

    # Monday 1 June, a holiday: a walk-in is refused before the storage (not counted);
    # Thursday is closed for a flood, its two bookings move to Friday.
    with pytest.raises(DayClosed):
        sched.book("walk_in", now=wib(2020, 6, 1, 9))
    moved = sched.close_day(THU, "banjir", now=wib(2020, 6, 1, 9))
    assert [(b.id, b.day) for b in moved] == [(c1.id, FRI), (c2.id, FRI)]

    # Tuesday: too early (not counted), two walk-ins, then three places turned away.
    with pytest.raises(OutsideServiceHours):
        sched.book("walk_in", now=wib(2020, 6, 2, 7))
    w1 = sched.book("walk_in", now=wib(2020, 6, 2, 8))
    w2 = sched.book("walk_in", now=wib(2020, 6, 2, 8, 5))
    assert walk_in(sched, wib(2020, 6, 2, 8, 30)) is None
    assert walk_in(sched, wib(2020, 6, 2, 9), places=2) is None
    sched.check_in(a1.id, now=wib(2020, 6, 2, 8))
    sched.check_in(w1.id, now=wib(2020, 6, 2, 8, 10))

    # Wednesday: Tuesday's no-shows marked (a2, w2); a walk-in cancels, one is served;
    # a walk-in after closing time is not counted.
    absent = sched.mark_no_shows(TUE, now=wib(2020, 6, 3, 7))
    assert {b.id for b in absent} == {a2.id, w2.id}
    sched.check_in(b1.id, now=wib(2020, 6, 3, 8))
    sched.check_in(b2.id, now=wib(2020, 6, 3, 8))
    w5 = sched.book("walk_in", now=wib(2020, 6, 3, 8))
    w6 = sched.book("walk_in", now=wib(2020, 6, 3, 8, 10))
    sched.cancel(w5.id, now=wib(2020, 6, 3, 8, 20))
    sched.check_in(w6.id, now=wib(2020, 6, 3, 8, 30))
    with pytest.raises(OutsideServiceHours):
        sched.book("walk_in", now=wib(2020, 6, 3, 13))

    # Thursday, closed at run time: the walk-in reaches the storage, is refused as a
    # closed day, and is not counted as turned away.
    assert sched.mark_no_shows(WED, now=wib(2020, 6, 4, 9)) == []
    with pytest.raises(DayClosed):
        sched.book("walk_in", now=wib(2020, 6, 4, 9))

    # Friday (today for the report): d1 and c1 arrive, c2 not yet; two walk-ins take the
    # day, a third is turned away; a retried walk-in (same key) is answered, not counted.
    sched.check_in(d1.id, now=wib(2020, 6, 5, 8))
    sched.check_in(c1.id, now=wib(2020, 6, 5, 8, 5))
    w7 = sched.book("walk_in", now=wib(2020, 6, 5, 8), idempotency_key="kiosk-7")
    assert sched.book("walk_in", now=wib(2020, 6, 5, 8, 1), idempotency_key="kiosk-7") == w7
    assert walk_in(sched, wib(2020, 6, 5, 8, 10)) is not None
    assert walk_in(sched, wib(2020, 6, 5, 8, 20)) is None
    return sched


REPORT_AT = wib(2020, 6, 5, 14)

# Worked out by hand from the script above: (day, channel) -> figures.
# capacity, closed_reason, booked, checked_in, no_shows, pending, cancelled, held,
# turned_away, ended, no_show_rate, utilisation, turned_away_share
EXPECTED: dict[tuple[date, str], tuple[Any, ...]] = {
    (MON, "online"): (0, "Hari Lahir Pancasila", 0, 0, 0, 0, 0, 0, None, True, None, None, None),
    (MON, "walk_in"): (0, "Hari Lahir Pancasila", 0, 0, 0, 0, 0, 0, 0, True, None, None, None),
    (TUE, "online"): (3, None, 2, 1, 1, 0, 1, 1, None, True, 1 / 2, 1 / 3, None),
    (TUE, "walk_in"): (2, None, 2, 1, 1, 0, 0, 1, 3, True, 1 / 2, 1 / 2, 3 / 5),
    (WED, "online"): (3, None, 2, 2, 0, 0, 0, 2, None, True, 0.0, 2 / 3, None),
    (WED, "walk_in"): (2, None, 1, 1, 0, 0, 1, 1, 0, True, 0.0, 1 / 2, 0.0),
    (THU, "online"): (0, "banjir", 0, 0, 0, 0, 0, 0, None, True, None, None, None),
    (THU, "walk_in"): (0, "banjir", 0, 0, 0, 0, 0, 0, 0, True, None, None, None),
    (FRI, "online"): (3, None, 3, 2, 0, 1, 0, 3, None, False, None, 1.0, None),
    (FRI, "walk_in"): (2, None, 2, 0, 0, 2, 0, 2, 1, False, None, 1.0, 1 / 3),
    (SAT, "online"): (0, "weekend", 0, 0, 0, 0, 0, 0, None, False, None, None, None),
    (SAT, "walk_in"): (0, "weekend", 0, 0, 0, 0, 0, 0, 0, False, None, None, None),
    (SUN, "online"): (0, "weekend", 0, 0, 0, 0, 0, 0, None, False, None, None, None),
    (SUN, "walk_in"): (0, "weekend", 0, 0, 0, 0, 0, 0, 0, False, None, None, None),
}
# Totals: online over Tue, Wed, Fri; the no-show rate over the ended days (Mon-Thu).
EXPECTED_TOTALS = {
    "online": (9, None, 7, 5, 1, 1, 1, 6, None, True, 1 / 4, 6 / 9, None),
    "walk_in": (6, None, 5, 2, 1, 2, 1, 4, 4, True, 1 / 3, 4 / 6, 4 / 10),
}
COLUMNS = FIELDS[2:]


def figures(row: qq.ReportRow) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in COLUMNS)


def test_the_scripted_week_gives_the_figures_worked_out_by_hand(
    storage: qq.storage.Storage,
) -> None:
    """Every day and channel, and the totals, equal the golden figures."""
    sched = scripted_week(storage)
    report = sched.report(MON, NEXT_MON, now=REPORT_AT)
    assert (report.office_id, report.start, report.end) == ("report-office", MON, NEXT_MON)
    assert report.today == FRI
    assert report.channels == ("online", "walk_in")
    assert [(r.day, r.channel) for r in report.rows] == list(EXPECTED)
    for row in report.rows:
        assert row.day is not None
        assert figures(row) == pytest.approx(EXPECTED[(row.day, row.channel)]), row
        assert report.row(row.day, row.channel) is row
    for channel, expected in EXPECTED_TOTALS.items():
        total = report.totals[channel]
        assert (total.day, total.channel) == (None, channel)
        assert figures(total) == pytest.approx(expected), total


def test_turned_away_comes_from_events_without_personal_data(
    storage: qq.storage.Storage,
) -> None:
    """One ``turned_away`` event per refusal for a full day (channel and places only),
    none for a refusal before the storage, a closed day or a repeated key."""
    sched = scripted_week(storage)
    away = [e for e in sched.events(limit=1000) if e.kind == "turned_away"]
    assert [(e.booking_id, e.day, dict(e.data)) for e in away] == [
        (None, date(2020, 5, 29), {"channel": "walk_in", "places": 1}),
        (None, TUE, {"channel": "walk_in", "places": 1}),
        (None, TUE, {"channel": "walk_in", "places": 2}),
        (None, FRI, {"channel": "walk_in", "places": 1}),
    ]
    assert away[1].at == wib(2020, 6, 2, 8, 30)
    text = notification_text(away[1], sched.office)
    assert (
        text["en"] == "The walk-in quota of Tuesday, 2 June 2020 is full: a citizen was turned away"
    )


def test_a_day_before_the_range_is_left_out(storage: qq.storage.Storage) -> None:
    """Friday 29 May's walk-ins (2 served, 1 turned away) appear only in their own range."""
    sched = scripted_week(storage)
    report = sched.report(date(2020, 5, 29), date(2020, 5, 30), now=REPORT_AT)
    row = report.row(date(2020, 5, 29), "walk_in")
    assert (row.booked, row.pending, row.turned_away, row.ended) == (2, 2, 1, True)
    assert row.turned_away_share == pytest.approx(1 / 3)
    assert row.no_show_rate is None  # nobody checked in or marked: nothing to count
    assert report.row(date(2020, 5, 29), "online").booked == 0


def test_as_rows_is_flat_and_parses_back_from_csv_and_json(tmp_path: Path) -> None:
    """``as_rows`` has the columns of FIELDS; totals follow on request; CSV and JSON
    hold the same values."""
    sched = scripted_week(MemoryStorage())
    report = sched.report(MON, NEXT_MON, now=REPORT_AT)
    rows = report.as_rows()
    assert len(rows) == 14
    assert all(tuple(r) == FIELDS for r in rows)
    assert rows[2] == {
        "day": "2020-06-02",
        "channel": "online",
        "capacity": 3,
        "closed_reason": None,
        "booked": 2,
        "checked_in": 1,
        "no_shows": 1,
        "pending": 0,
        "cancelled": 1,
        "held": 1,
        "turned_away": None,
        "ended": True,
        "no_show_rate": 0.5,
        "utilisation": pytest.approx(1 / 3),
        "turned_away_share": None,
    }
    with_totals = report.as_rows(totals=True)
    assert with_totals[:14] == rows
    assert [(r["day"], r["channel"], r["turned_away"]) for r in with_totals[14:]] == [
        (None, "online", None),
        (None, "walk_in", 4),
    ]
    assert json.loads(json.dumps(with_totals)) == with_totals
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(with_totals)
    back = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["day"] for r in back[:3]] == ["2020-06-01", "2020-06-01", "2020-06-02"]
    assert back[3]["turned_away"] == "3"
    assert float(back[3]["turned_away_share"]) == pytest.approx(0.6)


def test_an_empty_range_and_bad_ranges() -> None:
    """``start == end`` is an empty report; a reversed or too long range is refused."""
    sched = qq.Scheduler(small_office())
    empty = sched.report(MON, MON, now=REPORT_AT)
    assert (empty.rows, empty.as_rows(totals=True)[0]["booked"]) == ((), 0)
    for start, end in ((TUE, MON), (MON, MON + timedelta(days=3701))):
        with pytest.raises(ConfigurationError) as caught:
            sched.report(start, end, now=REPORT_AT)
        assert caught.value.message_key == "configuration_error.date_range"
    longest = sched.report(MON, MON + timedelta(days=3700), now=REPORT_AT)
    assert len(longest.rows) == 3700 * 2
    with pytest.raises(KeyError):
        empty.row(MON, "online")


def test_online_only_refusals_write_no_event() -> None:
    """A full online day is refused without a ``turned_away`` event (that citizen is
    offered another day); only walk-in channels log their refusals."""
    sched = qq.Scheduler(small_office())
    for i in range(3):
        sched.book("online", nik(i), now=wib(2020, 6, 1, 9), preferred_date=TUE)
    with pytest.raises(QuotaExhausted):
        sched.book("online", nik(9), now=wib(2020, 6, 1, 9), preferred_date=TUE)
    assert "turned_away" not in {e.kind for e in sched.events()}


def test_a_storage_without_events_is_refused_clearly() -> None:
    """With a walk-in channel, a storage that writes no events cannot count the walk-ins
    turned away: ConfigurationError, naming the storage."""

    class Legacy:
        def __init__(self) -> None:
            self._inner = MemoryStorage()

        def __getattr__(self, name: str) -> Any:
            if name in ("supports_events", "supports_counters"):
                raise AttributeError(name)
            return getattr(self._inner, name)

    sched = qq.Scheduler(small_office(), Legacy())  # type: ignore[arg-type]
    sched.book("online", nik(1), now=wib(2020, 6, 1, 9), preferred_date=TUE)
    with pytest.raises(ConfigurationError) as caught:
        sched.report(MON, NEXT_MON, now=REPORT_AT)
    assert caught.value.message_key == "configuration_error.no_events"
    assert "Legacy" in str(caught.value)
    online_only = qq.Office(
        id="online-only",
        calendar=qq.WorkingCalendar.indonesia(),
        policies=[OnlineQuota(capacity=3, lead_days=1, horizon_days=60)],
    )
    sched = qq.Scheduler(online_only, Legacy())  # type: ignore[arg-type]
    sched.book("online", nik(1), now=wib(2020, 6, 1, 9), preferred_date=TUE)
    assert sched.report(TUE, WED, now=REPORT_AT).row(TUE, "online").pending == 1
