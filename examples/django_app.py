"""queue_quota in a Django app: one file, ``settings.configure``, JSON views.

Run it (development server; in production any WSGI server, e.g. four gunicorn workers
sharing one SQLite file or one PostgreSQL database)::

    pip install 'queue-quota' django gunicorn
    export QUEUE_QUOTA_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    export QUEUE_QUOTA_DB=/var/lib/queue-quota/tegal.sqlite3   # or postgresql://...
    python examples/django_app.py runserver
    gunicorn --chdir examples django_app:application --workers 4

In a Django project, the pieces go to their usual places: the ``QUEUE_QUOTA_*`` settings to
``settings.py``, `QueueQuotaErrorMiddleware` to ``MIDDLEWARE``, the views to an app's
``views.py`` and `urlpatterns` to its ``urls.py``.

The guide: docs/how-to/django.md.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date, time, timedelta
from functools import cache
from typing import Any

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

import queue_quota as qq
from queue_quota.i18n import describe
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import SQLiteStorage, Storage

# --8<-- [start:settings]
if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "django-insecure-example-only"),
        ALLOWED_HOSTS=os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(","),
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[f"{__name__}.QueueQuotaErrorMiddleware"],
        INSTALLED_APPS=[],
        USE_TZ=True,
        QUEUE_QUOTA_DB=os.environ.get("QUEUE_QUOTA_DB", "queue.sqlite3"),
        QUEUE_QUOTA_SECRET=os.environ.get("QUEUE_QUOTA_SECRET", ""),
        QUEUE_QUOTA_OFFICE=os.environ.get("QUEUE_QUOTA_OFFICE", ""),
    )
    django.setup()
# --8<-- [end:settings]

# --8<-- [start:status]
#: The HTTP status of each error code (the same table as the FastAPI example and the
#: error-code reference; a test checks all three agree).
HTTP_STATUS: dict[str, int] = {
    "queue_quota_error": 500,
    "refused": 422,
    "quota_exhausted": 409,
    "day_closed": 422,
    "outside_service_hours": 422,
    "outside_booking_window": 422,
    "already_booked": 409,
    "booking_not_found": 404,
    "invalid_transition": 409,
    "invalid_ticket": 422,
    "configuration_error": 422,
    "unknown_channel": 422,
    "storage_error": 503,
}


def http_status(error: qq.QueueQuotaError) -> int:
    """The status of ``error``: its own code's, else its nearest ancestor's."""
    for cls in type(error).__mro__:
        status = HTTP_STATUS.get(getattr(cls, "code", ""))
        if status is not None:
            return status
    return 500


# --8<-- [end:status]


# --8<-- [start:scheduler]
@cache
def get_scheduler() -> qq.Scheduler:
    """The process's one scheduler, made on first use from the ``QUEUE_QUOTA_*`` settings."""
    secret = settings.QUEUE_QUOTA_SECRET.encode()
    if len(secret) < 16:
        raise qq.ConfigurationError("set QUEUE_QUOTA_SECRET (at least 16 bytes)")
    db: str = settings.QUEUE_QUOTA_DB
    storage: Storage
    if db.startswith(("postgresql://", "postgres://")):
        from queue_quota.storage import PostgresStorage

        storage = PostgresStorage(db)
    else:
        storage = SQLiteStorage(db)
    if settings.QUEUE_QUOTA_OFFICE:
        from queue_quota.config import load_office

        office = load_office(settings.QUEUE_QUOTA_OFFICE)
    else:
        office = qq.Office(
            id="tegal-disdukcapil",
            calendar=qq.WorkingCalendar.indonesia(tz="Asia/Jakarta"),
            policies=[
                OnlineQuota(capacity=20, lead_days=1, horizon_days=60),
                WalkInQuota(capacity=40, opens=time(7, 30), closes=time(12, 0)),
            ],
        )
    return qq.Scheduler(office, storage, secret=secret)


# --8<-- [end:scheduler]


def language(request: HttpRequest) -> str:
    """``"en"`` if the client prefers English, else Indonesian."""
    accept = request.headers.get("Accept-Language", "")
    return "en" if accept.lower().startswith("en") else "id"


# --8<-- [start:middleware]
class QueueQuotaErrorMiddleware:
    """Turn every `QueueQuotaError` a view raises into JSON: a code and a sentence."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, error: Exception) -> HttpResponse | None:
        """The JSON answer for a library error; ``None`` lets Django handle anything else."""
        if not isinstance(error, qq.QueueQuotaError):
            return None
        try:
            today: date | None = get_scheduler().today()
        except qq.QueueQuotaError:  # no scheduler (e.g. no secret): describe without "today"
            today = None
        body: dict[str, Any] = {
            "code": error.code,
            "message": describe(error, language(request), today=today),
        }
        next_available = getattr(error, "next_available", None)
        if isinstance(next_available, date):
            body["next_available"] = next_available.isoformat()
        if isinstance(error, qq.QuotaExhausted):
            body["alternatives"] = {c: d.isoformat() for c, d in error.alternatives.items()}
        response = JsonResponse(body, status=http_status(error))
        if response.status_code == 503:
            response["Retry-After"] = "5"
        return response


# --8<-- [end:middleware]


def booking_json(b: qq.Booking) -> dict[str, Any]:
    """The public view of a booking: no citizen reference, no idempotency key."""
    return {
        "id": b.id,
        "channel": b.channel,
        "day": b.day.isoformat(),
        "number": b.number,
        "label": b.label,
        "status": b.status.value,
        "ticket": b.ticket,
    }


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise qq.ConfigurationError("the body must be JSON") from exc
    if not isinstance(data, dict):
        raise qq.ConfigurationError("the body must be a JSON object")
    return data


def _date(value: object, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise qq.ConfigurationError(f"{name} must be a date (YYYY-MM-DD)") from exc


# --8<-- [start:book]
@csrf_exempt  # a JSON API for non-browser clients; put your API authentication here
@require_POST
def book(request: HttpRequest) -> JsonResponse:
    """Book a place. Send an ``Idempotency-Key`` header: a retry returns the same booking."""
    body = _body(request)
    booking = get_scheduler().book(
        str(body.get("channel", "online")),
        body.get("citizen_id"),
        idempotency_key=request.headers.get("Idempotency-Key"),
        preferred_date=_date(body.get("preferred_date"), "preferred_date"),
    )
    return JsonResponse(booking_json(booking), status=201)


# --8<-- [end:book]


@require_GET
def availability(request: HttpRequest, channel: str) -> JsonResponse:
    """Room per day on a channel, from ``?start=`` (default: today) for ``?days=`` days."""
    sched = get_scheduler()
    first = _date(request.GET.get("start"), "start") or sched.today()
    try:
        days = max(0, min(int(request.GET.get("days", "14")), 90))
    except ValueError as exc:
        raise qq.ConfigurationError("days must be a number") from exc
    found = sched.availability(channel, first, first + timedelta(days=days))
    rows = [
        {
            "day": d.day.isoformat(),
            "capacity": d.capacity,
            "booked": d.booked,
            "remaining": d.remaining,
            "closed_reason": d.closed_reason,
        }
        for d in found
    ]
    return JsonResponse(rows, safe=False)


@require_GET
def show(request: HttpRequest, ticket: str) -> JsonResponse:
    """The booking a ticket stands for."""
    return JsonResponse(booking_json(get_scheduler().verify_ticket(ticket)))


@csrf_exempt
@require_POST
def cancel(request: HttpRequest, ticket: str) -> JsonResponse:
    """Cancel the booking of a ticket (only its holder has the ticket)."""
    sched = get_scheduler()
    return JsonResponse(booking_json(sched.cancel(sched.verify_ticket(ticket).id)))


@csrf_exempt
@require_POST
def check_in(request: HttpRequest) -> JsonResponse:
    """Counter staff: the citizen has arrived (on the booking's day only)."""
    ticket = _body(request).get("ticket")
    if not isinstance(ticket, str):
        raise qq.ConfigurationError("ticket is required")
    return JsonResponse(booking_json(get_scheduler().check_in(ticket)))


# --8<-- [start:urls]
urlpatterns = [
    path("bookings", book),
    path("availability/<str:channel>", availability),
    path("tickets/<str:ticket>", show),
    path("tickets/<str:ticket>/cancel", cancel),
    path("check-in", check_in),
]
# --8<-- [end:urls]

application = get_wsgi_application()

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
