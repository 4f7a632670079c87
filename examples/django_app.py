"""queue_quota in a Django app: one file, ``settings.configure``, JSON views.

Run it (development server; in production any WSGI server, e.g. four gunicorn workers
sharing one SQLite file or one PostgreSQL database)::

    pip install 'queue-quota' django gunicorn
    export QUEUE_QUOTA_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    export QUEUE_QUOTA_STAFF_TOKEN="$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    export QUEUE_QUOTA_DB=sqlite:////var/lib/queue-quota/tegal.sqlite3   # or postgresql://...
    python examples/django_app.py runserver
    gunicorn --chdir examples django_app:application --workers 4

In a Django project, the pieces go to their usual places: the ``QUEUE_QUOTA_*`` settings to
``settings.py``, `QueueQuotaErrorMiddleware` to ``MIDDLEWARE``, the views to an app's
``views.py`` and `urlpatterns` to its ``urls.py``.

Tickets, booking ids and citizen IDs travel in request bodies only, never in a URL (Django
logs the path of every 4xx and 5xx answer; access logs, proxies and browsers keep URLs).

The guide: docs/how-to/django.md.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from datetime import date, time, timedelta
from functools import cache, wraps
from typing import Any

import django
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

import queue_quota as qq
from queue_quota.i18n import describe
from queue_quota.keys import secret_from_env
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import DEFAULT_URL, from_url

#: What the app logs: channels, labels, days and error codes; never a ticket, a booking
#: id or a citizen ID.
log = logging.getLogger("queue_quota.examples.django")

# --8<-- [start:settings]
#: The database URL's variable (the CLI's and the FastAPI example's too).
DB_ENV = "QUEUE_QUOTA_DB"
#: The clerks' bearer token (check-in, manifest); unset, those views are disabled.
STAFF_TOKEN_ENV = "QUEUE_QUOTA_STAFF_TOKEN"


def queue_quota_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``QUEUE_QUOTA_*`` settings from the environment (the database defaults to
    `DEFAULT_URL`, as in the CLI)."""
    return {
        "QUEUE_QUOTA_DB": environ.get(DB_ENV) or DEFAULT_URL,
        "QUEUE_QUOTA_SECRET": environ.get("QUEUE_QUOTA_SECRET", ""),
        "QUEUE_QUOTA_OLD_SECRETS": environ.get("QUEUE_QUOTA_OLD_SECRETS", ""),
        "QUEUE_QUOTA_OFFICE": environ.get("QUEUE_QUOTA_OFFICE", ""),
        "QUEUE_QUOTA_STAFF_TOKEN": environ.get(STAFF_TOKEN_ENV, ""),
    }


if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "django-insecure-example-only"),
        ALLOWED_HOSTS=os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(","),
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[f"{__name__}.QueueQuotaErrorMiddleware"],
        INSTALLED_APPS=[],
        USE_TZ=True,
        **queue_quota_settings(os.environ),
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
    "idempotency_conflict": 409,
    "not_eligible": 403,
    "suspended": 403,
    "booking_not_found": 404,
    "invalid_transition": 409,
    "invalid_ticket": 422,
    "configuration_error": 422,
    "unknown_channel": 422,
    "secret_mismatch": 500,
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
    """The process's one scheduler, made on first use from the ``QUEUE_QUOTA_*`` settings.

    Raises:
        ConfigurationError: No secret, a bad database URL or office file.
        SecretMismatch: The database was made with another secret (a 500, until fixed).
    """
    secret = secret_from_env(  # the current secret, then older ones while rotating
        {
            "QUEUE_QUOTA_SECRET": settings.QUEUE_QUOTA_SECRET,
            "QUEUE_QUOTA_OLD_SECRETS": getattr(settings, "QUEUE_QUOTA_OLD_SECRETS", ""),
        }
    )
    if secret is None:
        raise qq.ConfigurationError("set QUEUE_QUOTA_SECRET (at least 16 bytes)")
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
    storage = from_url(settings.QUEUE_QUOTA_DB)
    try:
        return qq.Scheduler(office, storage, secret=secret)
    except BaseException:
        storage.close()
        raise


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
        log.info("%s %s: %s", request.method, request.path, error.code)
        response = JsonResponse(body, status=http_status(error))
        if response.status_code == 503:
            response["Retry-After"] = "5"
        return response


# --8<-- [end:middleware]


# --8<-- [start:staff]
def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let a clerk's view run only with ``Authorization: Bearer <the staff token>``.

    401 without it or with another, 403 while no token is set. `hmac.compare_digest`
    takes as long whatever the first wrong character (no guessing from response times).
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        expected = settings.QUEUE_QUOTA_STAFF_TOKEN.encode()
        if not expected:
            message = f"staff endpoints are disabled: set {STAFF_TOKEN_ENV}"
            return JsonResponse({"code": "forbidden", "message": message}, status=403)
        if len(expected) < 16:
            raise ImproperlyConfigured(f"{STAFF_TOKEN_ENV} must be at least 16 bytes")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
            body = {"code": "unauthorized", "message": "a staff token is required"}
            response = JsonResponse(body, status=401)
            response["WWW-Authenticate"] = "Bearer"
            return response
        return view(request, *args, **kwargs)

    return guarded


# --8<-- [end:staff]


def booking_json(b: qq.Booking) -> dict[str, Any]:
    """The holder's view of a booking: no citizen reference, no idempotency key;
    ``previous_day`` and ``previous_label`` say where a booking just moved came from."""
    return {
        "id": b.id,
        "channel": b.channel,
        "day": b.day.isoformat(),
        "number": b.number,
        "label": b.label,
        "status": b.status.value,
        "ticket": b.ticket,
        "previous_day": b.previous_day.isoformat() if b.previous_day else None,
        "previous_label": b.previous_label,
    }


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise qq.ConfigurationError("the body must be JSON") from exc
    if not isinstance(data, dict):
        raise qq.ConfigurationError("the body must be a JSON object")
    return data


def _text(body: dict[str, Any], name: str, limit: int, *, required: bool) -> str | None:
    """A string field of the body; a bad one is named, never echoed (it may be personal)."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise qq.ConfigurationError(f"{name} must be a string of 1-{limit} characters")
    return value


def _ticket(request: HttpRequest) -> tuple[str, dict[str, Any]]:
    body = _body(request)
    ticket = _text(body, "ticket", 80, required=True)
    assert ticket is not None
    return ticket, body


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
    """Book a place. Send an ``Idempotency-Key`` header: a retry returns the same booking.

    The same key with another request (another citizen, channel or date) is a 409
    ``idempotency_conflict`` that tells nothing of the booking the key was used for.
    """
    body = _body(request)
    booking = get_scheduler().book(
        _text(body, "channel", 64, required=False) or "online",
        _text(body, "citizen_id", 32, required=False),
        idempotency_key=request.headers.get("Idempotency-Key"),
        preferred_date=_date(body.get("preferred_date"), "preferred_date"),
    )
    log.info("booked %s %s on %s", booking.channel, booking.label, booking.day)
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
            "bookable": d.bookable,
        }
        for d in found
    ]
    return JsonResponse(rows, safe=False)


@csrf_exempt
@require_POST
def lookup(request: HttpRequest) -> JsonResponse:
    """The booking a ticket stands for."""
    ticket, _ = _ticket(request)
    return JsonResponse(booking_json(get_scheduler().verify_ticket(ticket)))


@csrf_exempt
@require_POST
def cancel(request: HttpRequest) -> JsonResponse:
    """Cancel the booking of a ticket: the ticket, not the booking id, is the proof."""
    ticket, _ = _ticket(request)
    sched = get_scheduler()
    cancelled = sched.cancel(sched.verify_ticket(ticket).id)
    log.info("cancelled %s %s on %s", cancelled.channel, cancelled.label, cancelled.day)
    return JsonResponse(booking_json(cancelled))


@csrf_exempt
@require_POST
def reschedule(request: HttpRequest) -> JsonResponse:
    """Move the booking of a ticket (to ``preferred_date``, or the earliest other day)."""
    ticket, body = _ticket(request)
    preferred = _date(body.get("preferred_date"), "preferred_date")
    sched = get_scheduler()
    moved = sched.reschedule(sched.verify_ticket(ticket).id, preferred_date=preferred)
    log.info("moved %s %s to %s on %s", moved.channel, moved.previous_label, moved.label, moved.day)
    return JsonResponse(booking_json(moved))


@csrf_exempt
@require_POST
@staff_only
def check_in(request: HttpRequest) -> JsonResponse:
    """Counter staff: the citizen has arrived (on the booking's day only)."""
    ticket, _ = _ticket(request)
    arrived = get_scheduler().check_in(ticket)
    log.info("checked in %s %s on %s", arrived.channel, arrived.label, arrived.day)
    return JsonResponse(booking_json(arrived))


@require_GET
@staff_only
def manifest(request: HttpRequest, day: str) -> JsonResponse:
    """Counter staff: the day's bookings in service order (no tickets, no citizen refs)."""
    wanted = _date(day, "day")
    assert wanted is not None
    found = get_scheduler().manifest(
        wanted,
        request.GET.get("channel") or None,
        include_cancelled=request.GET.get("include_cancelled", "").lower() in ("1", "true"),
    )
    rows = [
        {
            "id": b.id,
            "channel": b.channel,
            "number": b.number,
            "label": b.label,
            "status": b.status.value,
        }
        for b in found
    ]
    return JsonResponse(rows, safe=False)


# --8<-- [start:urls]
urlpatterns = [
    path("bookings", book),
    path("availability/<str:channel>", availability),
    path("bookings/lookup", lookup),
    path("bookings/cancel", cancel),
    path("bookings/reschedule", reschedule),
    path("check-in", check_in),  # staff
    path("manifest/<str:day>", manifest),  # staff
]
# --8<-- [end:urls]

application = get_wsgi_application()

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
