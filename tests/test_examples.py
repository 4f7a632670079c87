"""The examples of the how-to guides work: web apps, a custom policy, a custom storage.

``examples/`` is not a package: `load_example` imports a file from it by path, once.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import queue_quota as qq
from queue_quota.config import loads_office, register_policy_type, unregister_policy_type
from queue_quota.policies import OnlineQuota, QuotaPolicy, WalkInQuota
from queue_quota.storage import MemoryStorage, SQLiteStorage, Storage
from queue_quota.testing import FrozenClock, PolicyContract, SchedulerMachine, StorageContract

ROOT = Path(__file__).resolve().parents[1]
WIB = ZoneInfo("Asia/Jakarta")
SECRET = b"examples-test-secret-0123456789"
THURSDAY = datetime(2020, 6, 4, 9, 0, tzinfo=WIB)
FRIDAY_MORNING = datetime(2020, 6, 5, 8, 0, tzinfo=WIB)


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (once per process) as the module ``<name>``."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def small_office() -> qq.Office:
    """Tegal's calendar, with 2 walk-in numbers a day so that days fill quickly."""
    return qq.Office(
        id="tegal-disdukcapil",
        calendar=qq.WorkingCalendar.indonesia(tz="Asia/Jakarta"),
        policies=[
            OnlineQuota(capacity=20, lead_days=1, horizon_days=60),
            WalkInQuota(capacity=2, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


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


# -- FastAPI -------------------------------------------------------------------------------


@pytest.fixture
def api(sched: qq.Scheduler) -> Iterator[Any]:
    """A TestClient of the FastAPI example serving ``sched``."""
    from fastapi.testclient import TestClient

    fastapi_app = load_example("fastapi_app")
    with TestClient(fastapi_app.create_app(sched)) as client:
        yield client


def test_fastapi_books_and_a_retried_key_returns_the_same_booking(api: Any) -> None:
    """POST /bookings twice with one Idempotency-Key: one booking, answered twice."""
    body = {"channel": "online", "citizen_id": "3328011234560001"}
    first = api.post("/bookings", json=body, headers={"Idempotency-Key": "web-1"})
    again = api.post("/bookings", json=body, headers={"Idempotency-Key": "web-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["day"] == "2020-06-05"
    assert first.json()["label"] == "A-001"
    assert "citizen_ref" not in first.json()
    assert "3328011234560001" not in first.text


def test_fastapi_second_registration_is_409_already_booked(api: Any) -> None:
    """A second registration of one citizen with a new key is a 409 ``already_booked``."""
    body = {"channel": "online", "citizen_id": "3328011234560001"}
    assert api.post("/bookings", json=body, headers={"Idempotency-Key": "a"}).status_code == 201
    refused = api.post("/bookings", json=body, headers={"Idempotency-Key": "b"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "already_booked"


def test_fastapi_full_day_is_409_with_the_code_and_an_indonesian_message(
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


def test_fastapi_closed_day_and_bad_input_are_422(api: Any, clock: FrozenClock) -> None:
    """A walk-in on Saturday and an unknown channel are 422, with their codes."""
    clock.set(datetime(2020, 6, 6, 9, 0, tzinfo=WIB))
    closed = api.post("/bookings", json={"channel": "walk_in"})
    assert closed.status_code == 422
    assert closed.json()["code"] == "day_closed"
    assert closed.json()["message"].startswith("Kantor tutup pada Sabtu, 6 Juni 2020")
    unknown = api.post("/bookings", json={"channel": "drive_through"})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_channel")


def test_fastapi_ticket_check_in_and_cancel(api: Any, clock: FrozenClock) -> None:
    """A ticket shows its booking, checks in once on its day, and a forged one is refused."""
    made = api.post("/bookings", json={"channel": "online", "citizen_id": "3328011234560001"})
    ticket = made.json()["ticket"]
    assert api.get(f"/tickets/{ticket}").json()["id"] == made.json()["id"]
    early = api.post("/check-in", json={"ticket": ticket})
    assert (early.status_code, early.json()["code"]) == (409, "invalid_transition")
    clock.set(FRIDAY_MORNING)
    arrived = api.post("/check-in", json={"ticket": ticket})
    assert (arrived.status_code, arrived.json()["status"]) == (200, "checked_in")
    forged = api.get(f"/tickets/{ticket[:-1]}{'1' if ticket[-1] == '0' else '0'}")
    assert (forged.status_code, forged.json()["code"]) == (422, "invalid_ticket")
    other = api.post("/bookings", json={"channel": "online", "citizen_id": "3328011234560002"})
    cancelled = api.post(f"/tickets/{other.json()['ticket']}/cancel")
    assert cancelled.json()["status"] == "cancelled"


def test_fastapi_availability_lists_closed_days(api: Any) -> None:
    """GET /availability shows room per day and why a day is closed."""
    days = api.get("/availability/online", params={"start": "2020-06-05", "days": 3}).json()
    assert [(d["day"], d["remaining"], d["closed_reason"]) for d in days] == [
        ("2020-06-05", 20, None),
        ("2020-06-06", 0, "weekend"),
        ("2020-06-07", 0, "weekend"),
    ]


def test_fastapi_app_builds_its_scheduler_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a scheduler, startup builds one from QUEUE_QUOTA_*, and refuses no secret."""
    from fastapi.testclient import TestClient

    fastapi_app = load_example("fastapi_app")
    monkeypatch.setenv("QUEUE_QUOTA_DB", str(tmp_path / "env.sqlite3"))
    monkeypatch.setenv("QUEUE_QUOTA_OFFICE", str(ROOT / "examples" / "tegal.toml"))
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", SECRET.decode())
    with TestClient(fastapi_app.create_app()) as client:
        assert client.get("/availability/walk_in").status_code == 200
        assert client.app.state.scheduler.office.id == "tegal-disdukcapil"
    assert (tmp_path / "env.sqlite3").exists()
    monkeypatch.delenv("QUEUE_QUOTA_SECRET")
    with pytest.raises(qq.ConfigurationError), TestClient(fastapi_app.create_app()):
        pass


def test_http_status_of_a_custom_refusal_is_its_ancestors() -> None:
    """A custom policy's refusal maps through the MRO to the status of ``refused``."""
    fastapi_app = load_example("fastapi_app")
    custom_policy = load_example("custom_policy")
    refusal = custom_policy.NotYetOpen(day=date(2020, 6, 5), opens_at=THURSDAY)
    assert fastapi_app.http_status(refusal) == fastapi_app.HTTP_STATUS["refused"] == 422
    assert fastapi_app.http_status(qq.StorageError("down")) == 503


# -- Django --------------------------------------------------------------------------------


@pytest.fixture
def django_client(sched: qq.Scheduler, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A django.test.Client of the Django example serving ``sched``."""
    from django.test import Client

    django_app = load_example("django_app")
    monkeypatch.setattr(django_app, "get_scheduler", lambda: sched)
    return Client(HTTP_HOST="localhost")


def test_django_books_and_a_retried_key_returns_the_same_booking(django_client: Any) -> None:
    """POST /bookings twice with one Idempotency-Key header: the same booking."""
    body = {"channel": "online", "citizen_id": "3328011234560001"}
    first = django_client.post(
        "/bookings", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="web-1"
    )
    again = django_client.post(
        "/bookings", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="web-1"
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert (first.json()["day"], first.json()["label"]) == ("2020-06-05", "A-001")
    assert b"3328011234560001" not in first.content


def test_django_full_day_is_409_with_the_code_and_an_indonesian_message(
    django_client: Any, clock: FrozenClock
) -> None:
    """The third walk-in of a 2-a-day office gets 409 with the code and the message."""
    clock.set(FRIDAY_MORNING)
    for _ in range(2):
        made = django_client.post("/bookings", {"channel": "walk_in"}, "application/json")
        assert made.status_code == 201
    refused = django_client.post("/bookings", {"channel": "walk_in"}, "application/json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "quota_exhausted"
    assert refused.json()["message"].startswith("Kuota hari ini sudah penuh.")
    assert refused.json()["next_available"] == "2020-06-08"


def test_django_bad_input_is_422_and_check_in_works_once(
    django_client: Any, clock: FrozenClock
) -> None:
    """Malformed JSON is a 422 configuration_error; a ticket checks in once, on its day."""
    bad = django_client.post("/bookings", "{not json", content_type="application/json")
    assert (bad.status_code, bad.json()["code"]) == (422, "configuration_error")
    made = django_client.post(
        "/bookings", {"citizen_id": "3328011234560001"}, content_type="application/json"
    )
    ticket = made.json()["ticket"]
    clock.set(FRIDAY_MORNING)
    arrived = django_client.post("/check-in", {"ticket": ticket}, "application/json")
    assert arrived.json()["status"] == "checked_in"
    again = django_client.post("/check-in", {"ticket": ticket}, "application/json")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert django_client.get(f"/tickets/{ticket}").json()["status"] == "checked_in"


def test_django_scheduler_comes_from_settings(tmp_path: Path) -> None:
    """`get_scheduler` builds one scheduler per process from the QUEUE_QUOTA_* settings."""
    from django.test import override_settings

    django_app = load_example("django_app")
    django_app.get_scheduler.cache_clear()
    settings = {"QUEUE_QUOTA_DB": str(tmp_path / "django.sqlite3")}
    try:
        with override_settings(**settings, QUEUE_QUOTA_SECRET=SECRET.decode()):
            made = django_app.get_scheduler()
            made.storage.close()
            assert django_app.get_scheduler() is made
            assert isinstance(made.storage, SQLiteStorage)
            assert made.office.id == "tegal-disdukcapil"
        django_app.get_scheduler.cache_clear()
        no_secret = override_settings(**settings, QUEUE_QUOTA_SECRET="")
        with no_secret, pytest.raises(qq.ConfigurationError):
            django_app.get_scheduler()
    finally:
        django_app.get_scheduler.cache_clear()


# -- a custom policy -----------------------------------------------------------------------


class TestDailyReleaseQuotaContract(PolicyContract):
    """The example policy passes the policy contract every QuotaPolicy must pass."""

    @pytest.fixture
    def policy(self) -> QuotaPolicy:
        """The example's policy, releasing 5 places a day at 08:00."""
        policy: QuotaPolicy = load_example("custom_policy").DailyReleaseQuota(capacity=5)
        return policy


def test_daily_release_refuses_before_the_hour_and_books_the_next_working_day() -> None:
    """07:59 is refused with when it opens; 08:00 books Friday; Saturday books Monday."""
    custom_policy = load_example("custom_policy")
    sched = qq.Scheduler(custom_policy.build_office(capacity=1))
    with pytest.raises(custom_policy.NotYetOpen) as refused:
        sched.book("online", "3328011234560001", now=datetime(2020, 6, 4, 7, 59, tzinfo=WIB))
    assert refused.value.code == "not_yet_open"
    assert refused.value.opens_at == datetime(2020, 6, 4, 8, 0, tzinfo=WIB)
    friday = sched.book("online", "3328011234560001", now=datetime(2020, 6, 4, 8, 0, tzinfo=WIB))
    assert (friday.day, friday.label) == (date(2020, 6, 5), "A-001")
    with pytest.raises(qq.QuotaExhausted):  # one place a day: Friday is gone
        sched.book("online", "3328011234560002", now=datetime(2020, 6, 4, 9, 0, tzinfo=WIB))
    monday = sched.book("online", "3328011234560002", now=datetime(2020, 6, 6, 10, tzinfo=WIB))
    assert monday.day == date(2020, 6, 8)


def test_daily_release_skips_holidays_and_refuses_other_dates() -> None:
    """On Friday 29 May 2020 the offered day is Tuesday (Monday is Pancasila Day)."""
    custom_policy = load_example("custom_policy")
    sched = qq.Scheduler(custom_policy.build_office())
    at = datetime(2020, 5, 29, 8, 0, tzinfo=WIB)
    assert sched.book("online", "3328011234560001", now=at).day == date(2020, 6, 2)
    with pytest.raises(qq.OutsideBookingWindow):
        sched.book("online", "3328011234560002", now=at, preferred_date=date(2020, 6, 3))


def test_daily_release_can_be_named_in_an_office_file() -> None:
    """Registered as a policy type, the policy is built from an office file's table."""
    custom_policy = load_example("custom_policy")
    register_policy_type("daily_release", custom_policy.DailyReleaseQuota, replace=True)
    try:
        office = loads_office(
            '[office]\nid = "tegal"\ntimezone = "Asia/Jakarta"\n\n'
            '[[policy]]\ntype = "daily_release"\ncapacity = 20\nrelease_at = 07:00:00\n',
            source="tegal.toml",
        )
    finally:
        unregister_policy_type("daily_release")
    (policy,) = office.policies
    assert isinstance(policy, custom_policy.DailyReleaseQuota)
    assert (policy.release_at, policy.capacity_on(date(2020, 6, 5))) == (time(7), 20)


def test_custom_policy_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """``python examples/custom_policy.py`` prints the refusal and the two bookings."""
    load_example("custom_policy").main()
    assert capsys.readouterr().out.splitlines() == [
        "07:59 Thursday: not_yet_open, opens Thursday 08:00",
        "08:00 Thursday: A-001 on Friday 05 June",
        "10:00 Saturday: A-001 on Monday 08 June",
    ]


# -- a custom storage ----------------------------------------------------------------------


def _instrumented(inner: Storage) -> Storage:
    storage: Storage = load_example("custom_storage").InstrumentedStorage(inner)
    return storage


class TestInstrumentedSQLiteContract(StorageContract):
    """The wrapper around SQLite passes the storage contract."""

    @pytest.fixture
    def storage_factory(self, tmp_path: Path) -> Any:
        """Handles on one SQLite file, each wrapped."""
        return lambda: _instrumented(SQLiteStorage(tmp_path / "contract.sqlite3"))


class TestInstrumentedMemoryContract(StorageContract):
    """The wrapper around one MemoryStorage passes the storage contract."""

    @pytest.fixture
    def storage_factory(self) -> Any:
        """Handles on one in-memory store, each wrapped."""
        shared = MemoryStorage()
        return lambda: _instrumented(shared)


TestInstrumentedSQLiteMachine = SchedulerMachine.with_storage(
    lambda machine: _instrumented(SQLiteStorage(machine.workdir / "machine.sqlite3")),
    name="InstrumentedSQLiteMachine",
).TestCase


def test_instrumented_storage_counts_calls_and_errors() -> None:
    """The wrapper counts each forwarded call, and refusals by code."""
    custom_storage = load_example("custom_storage")
    storage = custom_storage.InstrumentedStorage(MemoryStorage())
    sched = qq.Scheduler(small_office(), storage)
    for _ in range(3):
        with contextlib.suppress(qq.QuotaExhausted):
            sched.book("walk_in", now=FRIDAY_MORNING)
    assert storage.calls["reserve"] == 3
    assert storage.errors == {"reserve:quota_exhausted": 1}
    assert storage.seconds["reserve"] > 0
    with pytest.raises(qq.ConfigurationError):
        custom_storage.InstrumentedStorage(object())


def test_custom_storage_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """``python examples/custom_storage.py`` prints what it measured."""
    load_example("custom_storage").main()
    assert capsys.readouterr().out.splitlines() == [
        "reserve calls: 4",
        "errors: {'reserve:quota_exhausted': 1}",
    ]
