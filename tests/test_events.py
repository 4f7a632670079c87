"""Events through the `Scheduler`: the log equals the changes, carries no personal data, and
a reader following its cursor never skips one while writer processes commit at once."""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import _workers as w
import queue_quota as qq
from _postgres_server import drop_schema, unique_schema
from conftest import SECRET, tegal_office, wib
from queue_quota.errors import ConfigurationError
from queue_quota.events import EVENT_KINDS
from queue_quota.storage import MemoryStorage, SQLiteStorage

NOW = wib(2020, 6, 3, 9)  # Wednesday
NIK = "3328011234560001"


def test_a_citizens_day_and_every_change_is_in_the_log(sched: qq.Scheduler) -> None:
    """Book, reschedule, cancel, check in, no-show, close and reopen a day: the log holds
    exactly these changes, in order, with seqs 1..N."""
    a = sched.book("online", NIK, now=NOW)
    b = sched.book("online", "3328011234560002", now=NOW)
    moved = sched.reschedule(a.id, now=NOW)
    sched.cancel(b.id, now=NOW)
    c = sched.book("online", "3328011234560003", now=NOW)
    sched.check_in(c.id, now=wib(2020, 6, 4, 8))
    d = sched.book("online", "3328011234560004", now=NOW, preferred_date=date(2020, 6, 4))
    assert sched.mark_no_shows(date(2020, 6, 4), now=wib(2020, 6, 5)) != []
    shut = sched.close_day(moved.day, "banjir", now=NOW)
    sched.reopen_day(moved.day, now=NOW)
    log = sched.events()
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert [(e.kind, e.booking_id) for e in log] == [
        ("booked", a.id),
        ("booked", b.id),
        ("moved", a.id),
        ("cancelled", b.id),
        ("booked", c.id),
        ("checked_in", c.id),
        ("booked", d.id),
        ("no_show", d.id),
        ("day_closed", None),
        *[("moved", x.id) for x in shut],
        ("day_reopened", None),
    ]
    assert [x.id for x in shut] == [a.id]
    assert {e.kind for e in log} <= set(EVENT_KINDS)
    assert log[2].data["previous_label"] == a.label
    assert log[2].day == moved.day
    assert log[4].at == NOW  # the request's time, in UTC
    assert all(e.at.utcoffset() is not None for e in log)


def test_events_carry_no_personal_data(sched: qq.Scheduler) -> None:
    """No citizen ID, citizen ref or ticket in any event (the booking id is the handle)."""
    b = sched.book("online", NIK, now=NOW)
    sched.reschedule(b.id, now=NOW)
    sched.cancel(b.id, now=NOW)
    text = repr(sched.events())
    for secret_thing in (NIK, b.ticket, b.citizen_ref, sched.citizen_ref(NIK)):
        assert secret_thing is not None
        assert secret_thing not in text


def test_events_page_by_cursor_and_refuse_bad_arguments(sched: qq.Scheduler) -> None:
    for i in range(5):
        sched.book("online", f"332801123456000{i}", now=NOW)
    seen: list[int] = []
    while page := sched.events(after=seen[-1] if seen else 0, limit=2):
        assert len(page) <= 2
        seen += [e.seq for e in page]
    assert seen == [1, 2, 3, 4, 5]
    for bad in ({"after": -1}, {"limit": 0}, {"limit": 1001}, {"after": True}, {"limit": "5"}):
        with pytest.raises(ConfigurationError):
            sched.events(**bad)  # type: ignore[arg-type]


def test_reopen_day_gives_its_places_back_at_once(sched: qq.Scheduler) -> None:
    """The skip pointer passed the closed day; reopening it must make it the earliest
    day again for every request, in the same transaction (the epoch moves)."""
    first = sched.book("online", NIK, now=NOW)
    sched.cancel(first.id, now=NOW)
    sched.close_day(first.day, "listrik padam", now=NOW)
    later = sched.book("online", "3328011234560002", now=NOW)
    assert later.day > first.day
    sched.reopen_day(first.day, now=NOW)
    assert sched.closures() == {}
    assert sched.book("online", "3328011234560003", now=NOW).day == first.day
    sched.reopen_day(first.day, now=NOW)  # not closed: nothing happens
    assert [e.kind for e in sched.events()].count("day_reopened") == 1
    with pytest.raises(ConfigurationError):
        sched.reopen_day(date(2020, 6, 1), now=NOW)


def test_close_day_on_a_holiday_is_allowed_and_idempotent(sched: qq.Scheduler) -> None:
    """1 June 2020 (Pancasila) is closed already; closing it at run time records it once."""
    holiday = date(2020, 6, 1)
    assert sched.close_day(holiday, "banjir", now=wib(2020, 5, 29)) == []
    assert sched.close_day(holiday, "banjir", now=wib(2020, 5, 29)) == []
    assert [(e.kind, e.day) for e in sched.events()] == [("day_closed", holiday)]


def test_a_storage_without_events_is_refused_clearly() -> None:
    """A 0.1-style storage (the protocol, not the engine) books, but has no log."""

    class Legacy:
        persistent = False

        def __init__(self) -> None:
            self._inner = MemoryStorage()

        def __getattr__(self, name: str) -> Any:
            if name in ("supports_events", "supports_counters"):
                raise AttributeError(name)
            return getattr(self._inner, name)

    sched = qq.Scheduler(tegal_office(), Legacy())  # type: ignore[arg-type]
    b = sched.book("online", NIK, now=NOW)
    sched.cancel(b.id, now=NOW)
    with pytest.raises(ConfigurationError) as caught:
        sched.events()
    assert caught.value.code == "configuration_error"


def test_the_event_check_finds_a_lost_or_invented_event() -> None:
    """`_workers.event_mismatch` reads what it claims (used by the crash tests)."""
    storage = MemoryStorage()
    sched = qq.Scheduler(tegal_office(), storage)
    b = sched.book("online", NIK, now=NOW)
    sched.cancel(b.id, now=NOW)
    snap = w.snapshot({"kind": "memory", "storage": storage})
    assert w.event_mismatch(snap) == 0
    lost = dict(snap, events=snap["events"][:1])
    assert w.event_mismatch(lost) == 1  # seqs 1..1 are fine; the replay says booked
    invented = dict(snap, events=[*snap["events"], (sched.office.id, 3, "moved", "X", None, 1)])
    assert w.event_mismatch(invented) == 1


# -- a reader following its cursor while writer processes commit -----------------------------

WRITERS = 4
OPS = 60


def _writer(args: tuple[dict[str, Any], int]) -> list[tuple[str, str]]:
    """Book, cancel and reschedule on a few hot days; the acknowledged changes."""
    spec, seed = args
    rng = random.Random(seed)
    sched = w.make_scheduler(spec, capacity=25, horizon_days=10)
    mine: list[str] = []
    acked: list[tuple[str, str]] = []
    now = wib(2020, 6, 3, 9)
    try:
        for i in range(OPS):
            roll = rng.random()
            try:
                if mine and roll < 0.25:
                    bid = mine.pop(rng.randrange(len(mine)))
                    sched.cancel(bid, now=now)
                    acked.append(("cancelled", bid))
                elif mine and roll < 0.4:
                    moved = sched.reschedule(mine[-1], now=now)
                    acked.append(("moved", moved.id))
                else:
                    b = sched.book("online", f"{seed:02d}{i:014d}", now=now)
                    mine.append(b.id)
                    acked.append(("booked", b.id))
            except qq.QuotaExhausted:
                continue
    finally:
        sched.storage.close()
    return acked


def _follow(spec: dict[str, Any]) -> None:
    """Writers in processes; this process reads the log after its cursor all the while,
    and must see seqs cursor+1, cursor+2, ... in every page, never a gap."""
    reader = w.make_scheduler(spec, capacity=25, horizon_days=10)
    ctx = multiprocessing.get_context("spawn")
    seen: list[tuple[int, str, str | None]] = []
    pages = 0
    try:
        with ctx.Pool(WRITERS) as pool:
            pending = pool.map_async(_writer, [(spec, s) for s in range(WRITERS)])
            done = False
            while not done:
                done = pending.ready()  # one more full read after the writers finished
                while page := reader.events(after=seen[-1][0] if seen else 0, limit=13):
                    pages += 1
                    start = seen[-1][0] + 1 if seen else 1
                    got = [e.seq for e in page]
                    assert got == list(range(start, start + len(page))), (start, got)
                    seen += [(e.seq, e.kind, e.booking_id) for e in page]
            results = pending.get(timeout=300)
        acked = Counter(a for r in results for a in r)
        logged = Counter((kind, bid) for _, kind, bid in seen if bid is not None)
        assert logged == acked  # one event per acknowledged change, none for the refused
        assert w.event_mismatch(w.snapshot(spec)) == 0
        assert pages > WRITERS  # the reader really read while the writers wrote
        assert sum(acked.values()) > WRITERS * OPS // 2
    finally:
        reader.storage.close()


@pytest.mark.slow
def test_cursor_reader_never_skips_with_writer_processes_on_sqlite(tmp_path: Path) -> None:
    spec = {"kind": "sqlite", "path": str(tmp_path / "log.sqlite3")}
    SQLiteStorage(spec["path"]).close()
    _follow(spec)


@pytest.fixture
def pg_spec(postgres_conninfo: str) -> Iterator[dict[str, Any]]:
    schema = unique_schema()
    yield {
        "kind": "postgres",
        "conninfo": postgres_conninfo,
        "schema": schema,
        "options": {"min_size": 1, "max_size": 2},
    }
    drop_schema(postgres_conninfo, schema)


@pytest.mark.slow
@pytest.mark.postgres
def test_cursor_reader_never_skips_with_writer_processes_on_postgres(
    pg_spec: dict[str, Any],
) -> None:
    w.open_storage(pg_spec).close()
    _follow(pg_spec)


def test_secret_is_needed_for_sqlite(tmp_path: Path) -> None:
    """(The log lives in the same file: a reader needs the office's secret like anyone.)"""
    storage = SQLiteStorage(tmp_path / "q.sqlite3")
    qq.Scheduler(tegal_office(), storage, secret=SECRET).book("online", NIK, now=NOW)
    with pytest.raises(qq.SecretMismatch):
        qq.Scheduler(tegal_office(), storage, secret=b"another-secret-0123456789")
    storage.close()
