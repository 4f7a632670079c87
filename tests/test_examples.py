"""The examples of the how-to guides work: web apps and a custom policy.

``examples/`` is not a package: `load_example` imports a file from it by path, once. The web
examples have their own files: test_examples_fastapi.py and test_examples_django.py, and so
has the custom storage: test_custom_storage_example.py.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, datetime, time
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

import queue_quota as qq
from queue_quota.config import loads_office, register_policy_type, unregister_policy_type
from queue_quota.policies import OnlineQuota, QuotaPolicy, WalkInQuota
from queue_quota.testing import PolicyContract

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


# -- the two web examples agree -------------------------------------------------------------
# Their own tests: tests/test_examples_fastapi.py (over HTTP) and tests/test_examples_django.py.


def test_both_web_examples_map_every_error_code_to_the_same_status() -> None:
    """One table in both examples, with an explicit row for every code of the library."""
    import queue_quota.errors

    fastapi_app = load_example("fastapi_app")
    django_app = load_example("django_app")
    assert fastapi_app.HTTP_STATUS == django_app.HTTP_STATUS
    codes = {getattr(queue_quota.errors, name).code for name in queue_quota.errors.__all__}
    assert set(fastapi_app.HTTP_STATUS) == codes
    assert fastapi_app.HTTP_STATUS["idempotency_conflict"] == 409


def test_both_web_examples_read_the_same_variables_as_the_cli() -> None:
    """The database URL from ``QUEUE_QUOTA_DB`` (the CLI's), the staff token from one name."""
    fastapi_app = load_example("fastapi_app")
    django_app = load_example("django_app")
    assert fastapi_app.DB_ENV == django_app.DB_ENV == "QUEUE_QUOTA_DB"
    assert fastapi_app.STAFF_TOKEN_ENV == django_app.STAFF_TOKEN_ENV == "QUEUE_QUOTA_STAFF_TOKEN"


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
# examples/custom_storage.py (a dict-backed adapter under TransactionalStorage) has its own
# file: tests/test_custom_storage_example.py (the contract suite, the state machine, rollback).
