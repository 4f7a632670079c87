"""`Notifier` in one process: delivery in order, texts, retries with backoff, dead letters and
their replay, the lease of a consumer, restarts, reminders once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

import queue_quota as qq
from conftest import SECRET, wib
from queue_quota.errors import ConfigurationError
from queue_quota.notify import Notification, Notifier
from queue_quota.policies import OnlineQuota
from queue_quota.storage import SQLiteStorage

NOW = wib(2020, 6, 5, 9)  # Friday; the first online day is Monday 8 June 2020


def office() -> qq.Office:
    sessions = (qq.Session(time(8), time(8, 30), 10), qq.Session(time(8, 30), time(9), 10))
    return qq.Office(
        "tegal", qq.WorkingCalendar.indonesia(), [OnlineQuota(20, lead_days=1, sessions=sessions)]
    )


@pytest.fixture(params=["memory", "sqlite"])
def sched(request: pytest.FixtureRequest, tmp_path: Path) -> qq.Scheduler:
    if request.param == "memory":
        return qq.Scheduler(office())
    return qq.Scheduler(office(), SQLiteStorage(tmp_path / "n.sqlite3"), secret=SECRET)


class Flaky:
    """A ``send`` that fails for the seqs it is told to, a given number of times."""

    def __init__(self, failures: dict[int, int] | None = None) -> None:
        self.failures = dict(failures or {})
        self.sent: list[Notification] = []
        self.calls: list[tuple[int, int]] = []

    def __call__(self, n: Notification) -> None:
        self.calls.append((n.event.seq, n.attempt))
        left = self.failures.get(n.event.seq, 0)
        if left:
            self.failures[n.event.seq] = left - 1
            raise ConnectionError("the gateway said no")
        self.sent.append(n)


def test_texts_follow_the_seed_wording(sched: qq.Scheduler) -> None:
    """The citizen's message, written by hand from the seed, in both languages."""
    for i in range(7):
        sched.book("online", f"33280112345600{i:02d}", now=NOW)
    send = Flaky()
    assert Notifier(sched, send, consumer="wa").run_once(now=NOW) == 7
    assert send.sent[6].text == {
        "id": "Nomor antrean A-007 Anda: Senin, 8 Juni 2020, 08.00–08.30 WIB",
        "en": "Your queue number A-007: Monday, 8 June 2020, 08:00–08:30 WIB",
    }
    assert [n.event.seq for n in send.sent] == [1, 2, 3, 4, 5, 6, 7]
    assert len({n.id for n in send.sent}) == 7


def test_a_failing_event_waits_holding_back_only_its_booking(sched: qq.Scheduler) -> None:
    """seq 1 (booking a) fails twice: a's later event waits behind it, b's do not; after
    the backoff both of a's go, in order; each retry has a later attempt number."""
    a = sched.book("online", "3328011234560001", now=NOW)  # seq 1
    b = sched.book("online", "3328011234560002", now=NOW)  # seq 2
    sched.cancel(a.id, now=NOW)  # seq 3
    sched.cancel(b.id, now=NOW)  # seq 4
    send = Flaky({1: 2})
    n = Notifier(sched, send, consumer="wa", base_delay=10, max_delay=60, seed=1)
    assert n.run_once(now=NOW) == 2
    assert [x.event.seq for x in send.sent] == [2, 4]
    assert n.cursor() == 0
    assert n.run_once(now=NOW + timedelta(seconds=4)) == 0  # not due yet (>= 5 s)
    assert n.run_once(now=NOW + timedelta(seconds=11)) == 0  # second failure
    assert n.run_once(now=NOW + timedelta(seconds=40)) == 2
    assert [x.event.seq for x in send.sent] == [2, 4, 1, 3]
    assert [att for seq, att in send.calls if seq == 1] == [1, 2, 3]
    assert n.cursor() == 4
    assert n.run_once(now=NOW + timedelta(hours=1)) == 0


def test_dead_letters_are_listed_and_replayed(sched: qq.Scheduler) -> None:
    a = sched.book("online", "3328011234560001", now=NOW)
    sched.book("online", "3328011234560002", now=NOW)
    send = Flaky({1: 3})
    n = Notifier(sched, send, consumer="wa", max_attempts=3, base_delay=1, max_delay=1)
    at = NOW
    for _ in range(4):
        n.run_once(now=at)
        at += timedelta(seconds=2)
    dead = n.dead_letters()
    assert [(d.event.booking_id, d.attempts) for d in dead] == [(a.id, 3)]
    assert dead[0].error == "ConnectionError: the gateway said no"
    assert n.cursor() == 2  # a dead letter no longer holds the log back
    assert n.replay() == 1
    assert n.dead_letters() == []
    assert n.run_once(now=at) == 1
    assert [x.event.seq for x in send.sent] == [2, 1]
    assert n.run_once(now=at + timedelta(hours=1)) == 0


def test_a_restarted_notifier_resumes_and_a_second_one_waits(sched: qq.Scheduler) -> None:
    """Delivered events are not sent again by the next process; while one notifier of a
    consumer holds the lease another sends nothing; after the lease ran out it takes over.
    Another consumer has its own cursor."""
    for i in range(3):
        sched.book("online", f"33280112345600{i:02d}", now=NOW)
    first, second, other = Flaky(), Flaky(), Flaky()
    assert Notifier(sched, first, consumer="wa", lease_seconds=30).run_once(now=NOW) == 3
    sched.book("online", "3328011234560099", now=NOW)
    assert Notifier(sched, second, consumer="wa").run_once(now=NOW + timedelta(seconds=5)) == 0
    assert Notifier(sched, second, consumer="wa").run_once(now=NOW + timedelta(seconds=31)) == 1
    assert [x.event.seq for x in second.sent] == [4]
    assert Notifier(sched, other, consumer="sms").run_once(now=NOW) == 4


def test_reminders_are_written_once_at_remind_at(sched: qq.Scheduler) -> None:
    """From 16.00 on Friday, the bookings of Monday each get one reminder, whichever
    notifier (restarts, several consumers) writes it; a cancelled booking gets none."""
    a = sched.book("online", "3328011234560001", now=NOW)
    b = sched.book("online", "3328011234560002", now=NOW)
    sched.cancel(b.id, now=NOW)
    send = Flaky()
    Notifier(sched, send, consumer="wa", remind_at=time(16)).run_once(now=wib(2020, 6, 5, 15))
    assert [x.event.kind for x in send.sent] == ["booked", "booked", "cancelled"]
    for _ in range(2):
        Notifier(sched, send, consumer="wa", remind_at=time(16)).run_once(now=wib(2020, 6, 5, 17))
    Notifier(sched, Flaky(), consumer="sms", remind_at=time(16)).run_once(now=wib(2020, 6, 6, 9))
    reminders = [x for x in send.sent if x.event.kind == "reminder"]
    assert [x.event.booking_id for x in reminders] == [a.id]
    assert reminders[0].text["id"].startswith("Pengingat, nomor antrean A-001 Anda: Senin")


def test_bad_arguments_are_refused(sched: qq.Scheduler) -> None:
    for consumer in ("", "a:b", "x" * 65):
        with pytest.raises(ConfigurationError):
            Notifier(sched, print, consumer=consumer)
    with pytest.raises(ConfigurationError):
        Notifier(sched, print, consumer="wa", remind_at=time(16, tzinfo=UTC))
    with pytest.raises(ConfigurationError):
        Notifier(sched, print, consumer="wa", max_attempts=0)


def test_notification_ids_are_stable_across_deliveries(sched: qq.Scheduler) -> None:
    sched.book("online", "3328011234560001", now=NOW)
    one, two = Flaky(), Flaky()
    Notifier(sched, one, consumer="a").run_once(now=NOW)
    Notifier(sched, two, consumer="b").run_once(now=NOW)
    assert one.sent[0].id == two.sent[0].id
    assert one.sent[0].as_json()["text"] == one.sent[0].text
    assert datetime.fromisoformat(one.sent[0].as_json()["at"]) == NOW
