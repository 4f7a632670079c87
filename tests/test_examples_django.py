"""The Django example (examples/django_app.py), called with Django's test client.

The same treatment as the FastAPI example: tickets in POST bodies, never in a URL or a log
line; idempotency keys bound to their request; the clerks' views behind a bearer token;
the storage from `queue_quota.storage.from_url`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import queue_quota as qq
from queue_quota.storage import DEFAULT_URL, MemoryStorage, SQLiteStorage
from queue_quota.testing import FrozenClock
from test_examples import FRIDAY_MORNING, SECRET, THURSDAY, WIB, load_example, small_office

STAFF_TOKEN = "staff-token-for-the-tests-only"
STAFF = {"HTTP_AUTHORIZATION": f"Bearer {STAFF_TOKEN}"}
CITIZEN_A = "3328011234560001"
CITIZEN_B = "3328011234560002"
JSON = "application/json"


@pytest.fixture
def clock() -> FrozenClock:
    """Thursday 4 June 2020, 09:00 in Tegal."""
    return FrozenClock(THURSDAY)


@pytest.fixture
def sched(tmp_path: Path, clock: FrozenClock) -> Iterator[qq.Scheduler]:
    """A scheduler on an SQLite file, reading the frozen clock."""
    storage = SQLiteStorage(tmp_path / "web.sqlite3")
    yield qq.Scheduler(small_office(), storage, secret=SECRET, clock=clock)
    storage.close()


@pytest.fixture
def client(sched: qq.Scheduler, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A django.test.Client of the Django example serving ``sched``, staff token set."""
    from django.test import Client, override_settings

    django_app = load_example("django_app")
    monkeypatch.setattr(django_app, "get_scheduler", lambda: sched)
    with override_settings(QUEUE_QUOTA_STAFF_TOKEN=STAFF_TOKEN):
        yield Client(HTTP_HOST="localhost")


def book(client: Any, citizen: str | None = CITIZEN_A, **extra: Any) -> dict[str, Any]:
    """POST /bookings (online unless ``channel=``); the booking, as JSON."""
    headers = {"HTTP_IDEMPOTENCY_KEY": extra.pop("key")} if "key" in extra else {}
    made = client.post("/bookings", {"citizen_id": citizen, **extra}, JSON, **headers)
    assert made.status_code == 201, made.content
    answer: dict[str, Any] = made.json()
    return answer


def test_books_and_a_retried_key_returns_the_same_booking(client: Any) -> None:
    """POST /bookings twice with one Idempotency-Key header: the same booking."""
    first = book(client, key="web-1")
    again = book(client, key="web-1")
    assert first == again
    assert (first["day"], first["label"], first["previous_day"]) == ("2020-06-05", "A-001", None)
    assert CITIZEN_A not in str(first)


def test_citizen_b_reusing_a_key_gets_409_learns_nothing_and_cannot_cancel(client: Any) -> None:
    """Issue 8 item 1, in Django: 409 ``idempotency_conflict``, nothing of A's booking."""
    a = book(client, CITIZEN_A, key="shared-key")
    for body in ({"citizen_id": CITIZEN_B}, {"channel": "walk_in"}):
        refused = client.post("/bookings", body, JSON, HTTP_IDEMPOTENCY_KEY="shared-key")
        assert refused.status_code == 409
        assert set(refused.json()) == {"code", "message"}
        assert refused.json()["code"] == "idempotency_conflict"
        text = refused.content.decode()
        for secret in (a["id"], a["ticket"], a["label"], a["day"], "5 Juni"):
            assert secret not in text
    by_id = client.post("/bookings/cancel", {"ticket": a["id"]}, JSON)
    assert (by_id.status_code, by_id.json()["code"]) == (422, "invalid_ticket")
    assert client.post("/bookings/lookup", {"ticket": a["ticket"]}, JSON).json()["status"] == (
        "booked"
    )


def test_full_day_is_409_with_the_code_and_an_indonesian_message(
    client: Any, clock: FrozenClock
) -> None:
    """The third walk-in of a 2-a-day office gets 409 with the code and the message."""
    clock.set(FRIDAY_MORNING)
    for _ in range(2):
        book(client, None, channel="walk_in")
    refused = client.post("/bookings", {"channel": "walk_in"}, JSON)
    assert refused.status_code == 409
    assert refused.json()["code"] == "quota_exhausted"
    assert refused.json()["message"].startswith("Kuota hari ini sudah penuh.")
    assert refused.json()["next_available"] == "2020-06-08"


def test_bad_input_is_422_and_never_echoed(client: Any) -> None:
    """Malformed JSON, a wrong field type, an overlong ID: 422, naming the field only."""
    bad = client.post("/bookings", "{not json", content_type=JSON)
    assert (bad.status_code, bad.json()["code"]) == (422, "configuration_error")
    too_long = CITIZEN_A * 3
    long_id = client.post("/bookings", {"citizen_id": too_long}, JSON)
    assert (long_id.status_code, long_id.json()["code"]) == (422, "configuration_error")
    assert CITIZEN_A not in long_id.content.decode()
    no_ticket = client.post("/bookings/lookup", {"ticket": 7}, JSON, HTTP_ACCEPT_LANGUAGE="en")
    assert (no_ticket.status_code, no_ticket.json()["code"]) == (422, "configuration_error")
    assert "ticket must be a string" in no_ticket.json()["message"]


def test_lookup_reschedule_and_cancel_by_ticket_in_the_body(client: Any) -> None:
    """The ticket holder's views: the move says where from; a second cancel is 409."""
    a = book(client)
    assert client.post("/bookings/lookup", {"ticket": a["ticket"].lower()}, JSON).json() == a
    moved = client.post(
        "/bookings/reschedule", {"ticket": a["ticket"], "preferred_date": "2020-06-09"}, JSON
    )
    assert moved.status_code == 200
    assert (moved.json()["day"], moved.json()["id"], moved.json()["ticket"]) == (
        "2020-06-09",
        a["id"],
        a["ticket"],
    )
    assert (moved.json()["previous_day"], moved.json()["previous_label"]) == ("2020-06-05", "A-001")
    cancelled = client.post("/bookings/cancel", {"ticket": a["ticket"]}, JSON)
    assert cancelled.json()["status"] == "cancelled"
    again = client.post("/bookings/cancel", {"ticket": a["ticket"]}, JSON)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    elsewhere = qq.Scheduler(small_office(), MemoryStorage(), secret=SECRET)
    foreign = elsewhere.book("online", CITIZEN_B, now=THURSDAY).ticket
    unknown = client.post("/bookings/lookup", {"ticket": foreign}, JSON)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "booking_not_found")


def test_check_in_and_manifest_need_the_staff_token(client: Any, clock: FrozenClock) -> None:
    """401 without the token (or with another), then a check-in once, on its day; the
    manifest lists the day in service order without tickets."""
    a = book(client)
    clock.set(FRIDAY_MORNING)
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}):
        refused = client.post("/check-in", {"ticket": a["ticket"]}, JSON, **headers)
        assert (refused.status_code, refused.json()["code"]) == (401, "unauthorized")
        assert refused["WWW-Authenticate"] == "Bearer"
        assert client.get("/manifest/2020-06-05", **headers).status_code == 401
    arrived = client.post("/check-in", {"ticket": a["ticket"]}, JSON, **STAFF)
    assert arrived.json()["status"] == "checked_in"
    again = client.post("/check-in", {"ticket": a["ticket"]}, JSON, **STAFF)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    rows = client.get("/manifest/2020-06-05", **STAFF)
    assert rows.json() == [
        {"id": a["id"], "channel": "online", "number": 1, "label": "A-001", "status": "checked_in"}
    ]
    assert a["ticket"] not in rows.content.decode()
    bad_day = client.get("/manifest/tomorrow", **STAFF)
    assert (bad_day.status_code, bad_day.json()["code"]) == (422, "configuration_error")


def test_staff_views_are_disabled_without_a_token(client: Any) -> None:
    """No token set: 403 for everyone, whatever they send."""
    from django.test import override_settings

    with override_settings(QUEUE_QUOTA_STAFF_TOKEN=""):
        disabled = client.get("/manifest/2020-06-05", HTTP_AUTHORIZATION="Bearer ")
        assert (disabled.status_code, disabled.json()["code"]) == (403, "forbidden")


def test_no_ticket_id_or_citizen_id_in_a_url_or_a_log_line(
    client: Any, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Django logs the path of every 4xx answer: paths hold no ticket, id or citizen ID;
    the app's own lines neither. Routes take a channel or a day, nothing else."""
    django_app = load_example("django_app")
    routes = [str(p.pattern) for p in django_app.urlpatterns]
    assert {part for r in routes for part in r.split("/") if "<" in part} == {
        "<str:channel>",
        "<str:day>",
    }
    caplog.set_level(logging.DEBUG)
    a = book(client, CITIZEN_A, key="k-a")
    client.post("/bookings", {"citizen_id": CITIZEN_B}, JSON, HTTP_IDEMPOTENCY_KEY="k-a")
    client.post("/bookings/reschedule", {"ticket": a["ticket"]}, JSON)
    client.post("/check-in", {"ticket": a["ticket"]}, JSON, **STAFF)  # 409: not today
    client.post("/bookings/cancel", {"ticket": a["ticket"]}, JSON)
    client.post("/bookings/cancel", {"ticket": a["ticket"]}, JSON)  # 409
    clock.set(FRIDAY_MORNING)
    client.get("/manifest/2020-06-05", **STAFF)
    logged = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("Conflict: /bookings/cancel") for line in logged)  # Django's
    assert any("cancelled online" in line for line in logged)  # the app's
    for line in logged:
        for secret in (CITIZEN_A, CITIZEN_B, a["ticket"], a["id"], "k-a"):
            assert secret.lower() not in line.lower(), line


def test_every_error_code_has_its_own_status(
    client: Any, sched: qq.Scheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each code of `queue_quota.errors` is answered with the status of its own row."""
    import queue_quota.errors

    django_app = load_example("django_app")
    for name in queue_quota.errors.__all__:
        error = getattr(queue_quota.errors, name)()

        def raises(*args: object, _error: Exception = error, **kwargs: object) -> qq.Booking:
            raise _error

        monkeypatch.setattr(sched, "book", raises)
        answer = client.post("/bookings", {}, JSON)
        assert (answer.status_code, answer.json()["code"]) == (
            django_app.HTTP_STATUS[error.code],
            error.code,
        )


def test_scheduler_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`get_scheduler` builds one scheduler per process from the QUEUE_QUOTA_* settings,
    the database through `from_url`; another secret is `SecretMismatch`."""
    from django.test import override_settings

    django_app = load_example("django_app")
    django_app.get_scheduler.cache_clear()
    monkeypatch.chdir(tmp_path)
    db = {"QUEUE_QUOTA_DB": "sqlite:///django.sqlite3"}
    try:
        with override_settings(**db, QUEUE_QUOTA_SECRET=SECRET.decode()):
            made = django_app.get_scheduler()
            made.storage.close()
            assert django_app.get_scheduler() is made
            assert isinstance(made.storage, SQLiteStorage)
            assert made.office.id == "tegal-disdukcapil"
        assert (tmp_path / "django.sqlite3").exists()
        django_app.get_scheduler.cache_clear()
        with override_settings(**db, QUEUE_QUOTA_SECRET=""), pytest.raises(qq.ConfigurationError):
            django_app.get_scheduler()
        other = override_settings(**db, QUEUE_QUOTA_SECRET="another-secret-0123456789")
        with other, pytest.raises(qq.SecretMismatch):
            django_app.get_scheduler()
        memory = override_settings(QUEUE_QUOTA_DB="memory://", QUEUE_QUOTA_SECRET=SECRET.decode())
        with memory:
            assert isinstance(django_app.get_scheduler().storage, MemoryStorage)
    finally:
        django_app.get_scheduler.cache_clear()


def test_settings_come_from_the_environment_with_the_clis_default() -> None:
    """``QUEUE_QUOTA_DB`` (the CLI's variable), else `DEFAULT_URL`; the staff token too."""
    django_app = load_example("django_app")
    assert django_app.queue_quota_settings({})["QUEUE_QUOTA_DB"] == DEFAULT_URL
    environ = {"QUEUE_QUOTA_DB": "memory://", "QUEUE_QUOTA_STAFF_TOKEN": STAFF_TOKEN}
    found = django_app.queue_quota_settings(environ)
    assert (found["QUEUE_QUOTA_DB"], found["QUEUE_QUOTA_STAFF_TOKEN"]) == ("memory://", STAFF_TOKEN)


def test_a_closed_day_is_422(client: Any, clock: FrozenClock) -> None:
    """A Saturday walk-in: 422 ``day_closed``."""
    clock.set(datetime(2020, 6, 6, 9, 0, tzinfo=WIB))
    closed = client.post("/bookings", {"channel": "walk_in"}, JSON)
    assert (closed.status_code, closed.json()["code"]) == (422, "day_closed")
