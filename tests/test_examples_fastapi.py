"""The FastAPI example (examples/fastapi_app.py), called over HTTP with its TestClient.

Every endpoint, the status of every error code, idempotency keys bound to their request,
the clerks' bearer token, and no ticket, booking id or citizen ID in a URL or a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

import queue_quota as qq
import queue_quota.errors
from queue_quota.storage import DEFAULT_URL, MemoryStorage, SQLiteStorage, parse_url
from queue_quota.testing import FrozenClock
from test_examples import FRIDAY_MORNING, ROOT, SECRET, THURSDAY, WIB, load_example, small_office

STAFF_TOKEN = "staff-token-for-the-tests-only"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
CITIZEN_A = "3328011234560001"
CITIZEN_B = "3328011234560002"


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
def urls() -> list[str]:
    """Every URL the test client requested (filled by the ``api`` fixture)."""
    return []


@pytest.fixture
def api(sched: qq.Scheduler, urls: list[str]) -> Iterator[Any]:
    """A TestClient of the FastAPI example serving ``sched``, with the staff token set."""
    from fastapi.testclient import TestClient

    fastapi_app = load_example("fastapi_app")
    with TestClient(fastapi_app.create_app(sched, staff_token=STAFF_TOKEN)) as client:
        client.event_hooks["request"].append(lambda request: urls.append(str(request.url)))
        yield client


def book(api: Any, citizen: str | None = CITIZEN_A, **extra: Any) -> dict[str, Any]:
    """POST /bookings on the online channel (or ``channel=``); the booking, as JSON."""
    headers = {"Idempotency-Key": extra.pop("key")} if "key" in extra else {}
    made = api.post("/bookings", json={"citizen_id": citizen, **extra}, headers=headers)
    assert made.status_code == 201, made.text
    answer: dict[str, Any] = made.json()
    return answer


# -- booking -------------------------------------------------------------------------------


def test_books_and_a_retried_key_returns_the_same_booking(api: Any) -> None:
    """POST /bookings twice with one Idempotency-Key: one booking, answered twice."""
    body = {"channel": "online", "citizen_id": CITIZEN_A}
    first = api.post("/bookings", json=body, headers={"Idempotency-Key": "web-1"})
    again = api.post("/bookings", json=body, headers={"Idempotency-Key": "web-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["day"] == "2020-06-05"
    assert first.json()["label"] == "A-001"
    assert (first.json()["previous_day"], first.json()["previous_label"]) == (None, None)
    assert "citizen_ref" not in first.json()
    assert CITIZEN_A not in first.text


def test_second_registration_is_409_already_booked(api: Any) -> None:
    """A second registration of one citizen with a new key is a 409 ``already_booked``."""
    book(api, key="a")
    refused = api.post(
        "/bookings", json={"citizen_id": CITIZEN_A}, headers={"Idempotency-Key": "b"}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "already_booked"


def test_citizen_b_reusing_a_key_gets_409_learns_nothing_and_cannot_cancel(api: Any) -> None:
    """Issue 8 item 1: another citizen (or channel) with A's key is ``idempotency_conflict``.

    The answer carries no id, ticket, label or day of A's booking; B cannot cancel it with
    anything B could know (the booking id is not a ticket); A's booking is untouched.
    """
    a = book(api, CITIZEN_A, key="shared-key")
    stolen = api.post(
        "/bookings", json={"citizen_id": CITIZEN_B}, headers={"Idempotency-Key": "shared-key"}
    )
    walk_in = api.post(
        "/bookings", json={"channel": "walk_in"}, headers={"Idempotency-Key": "shared-key"}
    )
    for refused in (stolen, walk_in):
        assert refused.status_code == 409, refused.text
        assert set(refused.json()) == {"code", "message"}
        assert refused.json()["code"] == "idempotency_conflict"
        for secret in (a["id"], a["ticket"], a["ticket"].split(".")[0], a["label"], a["day"]):
            assert secret not in refused.text
        assert "5 Juni" not in refused.text
    by_id = api.post("/bookings/cancel", json={"ticket": a["id"]})
    assert (by_id.status_code, by_id.json()["code"]) == (422, "invalid_ticket")
    still = api.post("/bookings/lookup", json={"ticket": a["ticket"]}).json()
    assert (still["status"], still["label"]) == ("booked", "A-001")
    assert (
        api.get("/availability/online", params={"start": "2020-06-05", "days": 1}).json()[0][
            "booked"
        ]
        == 1
    )


def test_full_day_is_409_with_the_code_and_an_indonesian_message(
    api: Any, clock: FrozenClock
) -> None:
    """The third walk-in of a 2-a-day office gets 409, the code and when to come back."""
    clock.set(FRIDAY_MORNING)
    for _ in range(2):
        assert api.post("/bookings", json={"channel": "walk_in"}).status_code == 201
    refused = api.post("/bookings", json={"channel": "walk_in"})
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "quota_exhausted"
    assert body["message"].startswith("Kuota hari ini sudah penuh. Silakan datang kembali pada")
    assert "Senin, 8 Juni 2020" in body["message"]
    assert body["next_available"] == "2020-06-08"
    assert body["alternatives"] == {"online": "2020-06-08"}
    english = api.post("/bookings", json={"channel": "walk_in"}, headers={"Accept-Language": "en"})
    assert english.json()["message"].startswith("Today's quota is full.")


def test_closed_day_window_and_bad_input_are_422(api: Any, clock: FrozenClock) -> None:
    """A Saturday walk-in, a date beyond the horizon, an unknown channel: 422 and a code."""
    clock.set(datetime(2020, 6, 6, 9, 0, tzinfo=WIB))
    closed = api.post("/bookings", json={"channel": "walk_in"})
    assert closed.status_code == 422
    assert closed.json()["code"] == "day_closed"
    assert closed.json()["message"].startswith("Kantor tutup pada Sabtu, 6 Juni 2020")
    far = api.post("/bookings", json={"citizen_id": CITIZEN_A, "preferred_date": "2021-01-04"})
    assert (far.status_code, far.json()["code"]) == (422, "outside_booking_window")
    unknown = api.post("/bookings", json={"channel": "drive_through"})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_channel")


def test_outside_service_hours_is_422(api: Any, clock: FrozenClock) -> None:
    """A walk-in at 06:00 on a working day: 422 ``outside_service_hours``, come back today."""
    clock.set(datetime(2020, 6, 5, 6, 0, tzinfo=WIB))
    early = api.post("/bookings", json={"channel": "walk_in"})
    assert (early.status_code, early.json()["code"]) == (422, "outside_service_hours")
    assert early.json()["next_available"] == "2020-06-05"


def test_a_malformed_body_is_422_and_never_echoed(api: Any) -> None:
    """Pydantic's errors would repeat the input (a citizen ID, a ticket): only fields here."""
    too_long = "3328011234560001" * 6
    bad = api.post("/bookings", json={"citizen_id": too_long})
    assert (bad.status_code, bad.json()) == (
        422,
        {"code": "configuration_error", "message": "invalid request: citizen_id"},
    )
    ticket = api.post("/bookings/lookup", json={"ticket": too_long})
    assert ticket.status_code == 422
    assert too_long not in ticket.text
    assert "3328011234560001" not in ticket.text
    missing = api.post("/bookings/cancel", json={})
    assert missing.json() == {"code": "configuration_error", "message": "invalid request: ticket"}


# -- the ticket holder's endpoints ---------------------------------------------------------


def test_lookup_reschedule_and_cancel_by_ticket_in_the_body(api: Any) -> None:
    """The ticket goes in a POST body; any case, dashes or spaces; the move says where from."""
    a = book(api)
    typed = a["ticket"].lower().replace("-", " ")
    assert api.post("/bookings/lookup", json={"ticket": typed}).json() == a
    moved = api.post(
        "/bookings/reschedule", json={"ticket": a["ticket"], "preferred_date": "2020-06-09"}
    )
    assert moved.status_code == 200, moved.text
    assert {k: moved.json()[k] for k in ("id", "day", "label", "ticket", "status")} == {
        "id": a["id"],
        "day": "2020-06-09",
        "label": "A-001",
        "ticket": a["ticket"],
        "status": "booked",
    }
    assert (moved.json()["previous_day"], moved.json()["previous_label"]) == ("2020-06-05", "A-001")
    same_day = api.post(
        "/bookings/reschedule", json={"ticket": a["ticket"], "preferred_date": "2020-06-09"}
    )
    assert (same_day.status_code, same_day.json()["code"]) == (409, "invalid_transition")
    cancelled = api.post("/bookings/cancel", json={"ticket": a["ticket"]})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    again = api.post("/bookings/cancel", json={"ticket": a["ticket"]})
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")


def test_a_forged_ticket_is_422_and_an_unknown_one_404(api: Any) -> None:
    """A changed tag is ``invalid_ticket``; a genuine ticket of another storage is not found."""
    ticket = book(api)["ticket"]
    forged = f"{ticket[:-1]}{'1' if ticket[-1] == '0' else '0'}"
    for endpoint in ("/bookings/lookup", "/bookings/cancel", "/bookings/reschedule"):
        answer = api.post(endpoint, json={"ticket": forged})
        assert (answer.status_code, answer.json()["code"]) == (422, "invalid_ticket"), endpoint
    elsewhere = qq.Scheduler(small_office(), MemoryStorage(), secret=SECRET)
    foreign = elsewhere.book("online", CITIZEN_B, now=THURSDAY).ticket
    unknown = api.post("/bookings/lookup", json={"ticket": foreign})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "booking_not_found")


def test_reschedule_to_a_closed_day_is_422_and_keeps_the_booking(
    api: Any, sched: qq.Scheduler
) -> None:
    """A day closed at run time: 422 ``day_closed``, and the booking stays where it was."""
    a = book(api)
    sched.close_day(date(2020, 6, 9), "maintenance")
    closed = api.post(
        "/bookings/reschedule", json={"ticket": a["ticket"], "preferred_date": "2020-06-09"}
    )
    assert (closed.status_code, closed.json()["code"]) == (422, "day_closed")
    assert api.post("/bookings/lookup", json={"ticket": a["ticket"]}).json()["day"] == "2020-06-05"


def test_availability_lists_closed_days_and_what_is_bookable(api: Any) -> None:
    """GET /availability: room per day, why a day is closed, and whether it can be taken now.

    On Thursday, today is not bookable online (``lead_days=1``); Friday is.
    """
    days = api.get("/availability/online", params={"start": "2020-06-04", "days": 4}).json()
    assert [(d["day"], d["remaining"], d["closed_reason"], d["bookable"]) for d in days] == [
        ("2020-06-04", 20, None, False),
        ("2020-06-05", 20, None, True),
        ("2020-06-06", 0, "weekend", False),
        ("2020-06-07", 0, "weekend", False),
    ]


# -- the clerks' endpoints -----------------------------------------------------------------


def test_check_in_needs_the_staff_token(api: Any, clock: FrozenClock) -> None:
    """Without the bearer token (or with another) a check-in is a 401; with it, once a day."""
    ticket = book(api)["ticket"]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": STAFF_TOKEN}):
        refused = api.post("/check-in", json={"ticket": ticket}, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json()["code"] == "unauthorized"
    early = api.post("/check-in", json={"ticket": ticket}, headers=STAFF)
    assert (early.status_code, early.json()["code"]) == (409, "invalid_transition")
    clock.set(FRIDAY_MORNING)
    arrived = api.post("/check-in", json={"ticket": ticket}, headers=STAFF)
    assert (arrived.status_code, arrived.json()["status"]) == (200, "checked_in")
    again = api.post("/check-in", json={"ticket": ticket}, headers=STAFF)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")


def test_manifest_is_the_clerks_list_without_tickets(api: Any, clock: FrozenClock) -> None:
    """GET /manifest/DAY: staff only, service order, no ticket and no citizen reference."""
    a = book(api, CITIZEN_A)
    b = book(api, CITIZEN_B)
    clock.set(FRIDAY_MORNING)
    walk_in = book(api, None, channel="walk_in")
    api.post("/bookings/cancel", json={"ticket": b["ticket"]})
    assert api.get("/manifest/2020-06-05").status_code == 401
    rows = api.get("/manifest/2020-06-05", headers=STAFF)
    assert rows.status_code == 200
    assert rows.json() == [
        {"id": a["id"], "channel": "online", "number": 1, "label": "A-001", "status": "booked"},
        {
            "id": walk_in["id"],
            "channel": "walk_in",
            "number": 1,
            "label": "B-001",
            "status": "booked",
        },
    ]
    assert a["ticket"] not in rows.text
    every = api.get(
        "/manifest/2020-06-05",
        params={"channel": "online", "include_cancelled": "true"},
        headers=STAFF,
    ).json()
    assert [(r["label"], r["status"]) for r in every] == [
        ("A-001", "booked"),
        ("A-002", "cancelled"),
    ]
    unknown = api.get("/manifest/2020-06-05", params={"channel": "vip"}, headers=STAFF)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_channel")


def test_staff_endpoints_are_disabled_without_a_token(sched: qq.Scheduler) -> None:
    """No token configured: 403 for everyone (fail closed); a short token is refused."""
    from fastapi.testclient import TestClient

    fastapi_app = load_example("fastapi_app")
    with TestClient(fastapi_app.create_app(sched, staff_token="")) as client:
        disabled = client.get("/manifest/2020-06-05", headers={"Authorization": "Bearer "})
        assert (disabled.status_code, disabled.json()["code"]) == (403, "forbidden")
        assert client.post("/check-in", json={"ticket": "x"}, headers=STAFF).status_code == 403
    with (
        pytest.raises(qq.ConfigurationError),
        TestClient(fastapi_app.create_app(sched, staff_token="short")),
    ):
        pass


# -- privacy: URLs and logs ----------------------------------------------------------------


def test_no_route_takes_a_ticket_id_or_citizen_in_its_path() -> None:
    """Path parameters are a channel or a day, nothing else."""
    fastapi_app = load_example("fastapi_app")
    params = {
        name
        for route in fastapi_app.create_app().routes
        for name in getattr(route, "param_convertors", {})
    }
    assert params == {"channel", "day"}


def test_tickets_ids_and_citizen_ids_never_reach_a_url_or_a_log_line(
    api: Any, urls: list[str], clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Every endpoint, successes and refusals: the request URLs and every log record
    (the app's, and httpx's request lines, as an access log would show) hold none."""
    caplog.set_level(logging.DEBUG)
    a = book(api, CITIZEN_A, key="k-a")
    b = book(api, CITIZEN_B)
    api.post("/bookings", json={"citizen_id": CITIZEN_B}, headers={"Idempotency-Key": "k-a"})
    api.post("/bookings/lookup", json={"ticket": a["ticket"]})
    api.post("/bookings/reschedule", json={"ticket": a["ticket"]})
    api.post("/bookings/cancel", json={"ticket": b["ticket"]})
    api.post("/bookings/cancel", json={"ticket": b["ticket"]})  # 409
    api.post("/check-in", json={"ticket": a["ticket"]}, headers=STAFF)  # 409: not today
    clock.set(FRIDAY_MORNING)
    api.get("/manifest/2020-06-05", headers=STAFF)
    api.get("/availability/online")
    secrets = [CITIZEN_A, CITIZEN_B, a["ticket"], a["id"], b["ticket"], b["id"], "k-a"]
    assert len(urls) == 10
    logged = [record.getMessage() for record in caplog.records]
    assert any("/bookings/cancel" in line for line in logged)  # httpx logs the URLs
    assert any("booked online A-001" in line for line in logged)  # the app logs its work
    for text in urls + logged:
        for secret in secrets:
            assert secret.lower() not in text.lower(), text


# -- errors and their statuses -------------------------------------------------------------


def _every_error() -> list[qq.QueueQuotaError]:
    return [getattr(queue_quota.errors, name)() for name in queue_quota.errors.__all__]


@pytest.mark.parametrize("error", _every_error(), ids=lambda e: e.code)
def test_every_error_code_has_its_status_over_http(
    api: Any, sched: qq.Scheduler, monkeypatch: pytest.MonkeyPatch, error: qq.QueueQuotaError
) -> None:
    """Whatever the library raises is JSON with its code and the status of its own row."""
    fastapi_app = load_example("fastapi_app")

    def raises(*args: object, **kwargs: object) -> qq.Booking:
        raise error

    monkeypatch.setattr(sched, "book", raises)
    answer = api.post("/bookings", json={})
    assert error.code in fastapi_app.HTTP_STATUS  # an explicit row, not an ancestor's
    assert answer.status_code == fastapi_app.HTTP_STATUS[error.code]
    assert answer.json()["code"] == error.code
    assert answer.json()["message"]
    assert (answer.headers.get("Retry-After") == "5") == (answer.status_code == 503)


def test_http_status_of_a_custom_refusal_is_its_ancestors() -> None:
    """A custom policy's refusal maps through the MRO to the status of ``refused``."""
    fastapi_app = load_example("fastapi_app")
    custom_policy = load_example("custom_policy")
    refusal = custom_policy.NotYetOpen(day=date(2020, 6, 5), opens_at=THURSDAY)
    assert fastapi_app.http_status(refusal) == fastapi_app.HTTP_STATUS["refused"] == 422
    assert fastapi_app.http_status(qq.StorageError("down")) == 503
    assert fastapi_app.http_status(qq.IdempotencyConflict()) == 409


# -- configuration from the environment ------------------------------------------------------


def test_app_builds_its_scheduler_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a scheduler, startup builds one from QUEUE_QUOTA_*, and refuses no secret."""
    from fastapi.testclient import TestClient

    fastapi_app = load_example("fastapi_app")
    monkeypatch.setenv("QUEUE_QUOTA_DB", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    monkeypatch.setenv("QUEUE_QUOTA_OFFICE", str(ROOT / "examples" / "tegal.toml"))
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", SECRET.decode())
    monkeypatch.setenv("QUEUE_QUOTA_STAFF_TOKEN", STAFF_TOKEN)
    with TestClient(fastapi_app.create_app()) as client:
        assert client.get("/availability/walk_in").status_code == 200
        assert client.get("/manifest/2020-06-05", headers=STAFF).status_code == 200
        assert client.app.state.scheduler.office.id == "tegal-disdukcapil"
    assert (tmp_path / "env.sqlite3").exists()
    monkeypatch.delenv("QUEUE_QUOTA_SECRET")
    with pytest.raises(qq.ConfigurationError), TestClient(fastapi_app.create_app()):
        pass


@pytest.mark.parametrize(
    ("url", "kind"),
    [("sqlite:///relative.sqlite3", SQLiteStorage), ("memory://", MemoryStorage), ("", None)],
)
def test_the_database_url_goes_through_from_url(
    url: str, kind: type | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``QUEUE_QUOTA_DB`` is parsed by `queue_quota.storage.from_url` (``sqlite:///path`` is
    a relative file, not a file named ``sqlite:``); unset, it is the CLI's `DEFAULT_URL`."""
    fastapi_app = load_example("fastapi_app")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", SECRET.decode())
    monkeypatch.delenv("QUEUE_QUOTA_OFFICE", raising=False)
    if url:
        monkeypatch.setenv(fastapi_app.DB_ENV, url)
    else:
        monkeypatch.delenv(fastapi_app.DB_ENV, raising=False)
    made = fastapi_app.scheduler_from_env()
    made.storage.close()
    if kind is not None:
        assert isinstance(made.storage, kind)
    if url.startswith("sqlite"):
        assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".sqlite3") == [
            "relative.sqlite3"
        ]
    if not url:
        default = parse_url(DEFAULT_URL).path
        assert default is not None
        assert (tmp_path / default).exists()


def test_a_wrong_secret_refuses_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database remembers its secret's fingerprint: another secret is `SecretMismatch`."""
    from fastapi.testclient import TestClient

    fastapi_app = load_example("fastapi_app")
    monkeypatch.setenv("QUEUE_QUOTA_DB", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", SECRET.decode())
    with TestClient(fastapi_app.create_app()) as client:
        assert client.get("/availability/online").status_code == 200
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", "another-secret-0123456789")
    with pytest.raises(qq.SecretMismatch), TestClient(fastapi_app.create_app()):
        pass
