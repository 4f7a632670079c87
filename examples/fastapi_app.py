"""queue_quota in a FastAPI app: one Scheduler per process, refusals as HTTP answers.

Run it (four worker processes sharing one SQLite file; the same with a PostgreSQL URL)::

    pip install 'queue-quota' fastapi uvicorn
    export QUEUE_QUOTA_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    export QUEUE_QUOTA_STAFF_TOKEN="$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    export QUEUE_QUOTA_DB=sqlite:////var/lib/queue-quota/tegal.sqlite3   # or postgresql://...
    export QUEUE_QUOTA_OFFICE=examples/tegal.toml              # optional: an office file
    uvicorn --app-dir examples fastapi_app:app --workers 4

Then::

    curl -X POST localhost:8000/bookings -H 'Idempotency-Key: 7f9c2c1e' \\
         -H 'Content-Type: application/json' \\
         -d '{"channel": "online", "citizen_id": "3328011234560001"}'

Tickets, booking ids and citizen IDs travel in request bodies only, never in a URL (URLs
end up in access logs, proxies and browser histories), and the app logs none of them.

The guide: docs/how-to/fastapi.md.
"""

# --8<-- [start:imports]
from __future__ import annotations

import hmac
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, time, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

import queue_quota as qq
from queue_quota.i18n import describe
from queue_quota.keys import secret_from_env
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import DEFAULT_URL, from_url

#: What the app logs: channels, labels, days and error codes; never a ticket, a booking
#: id or a citizen ID.
log = logging.getLogger("queue_quota.examples.fastapi")
# --8<-- [end:imports]

__all__ = [
    "DB_ENV",
    "HTTP_STATUS",
    "STAFF_TOKEN_ENV",
    "app",
    "create_app",
    "http_status",
    "scheduler_from_env",
]

# --8<-- [start:status]
#: The HTTP status of each error code. 409: the office's current state says no (the day
#: is full, the citizen holds a booking, the booking is not in a state that allows it, the
#: idempotency key belongs to another request); 422: the request as made can't be served
#: (closed day, outside hours or window, bad input); 403: this citizen may not use the
#: channel (no claim, or suspended after no-shows); 404: no such booking; 500: the server
#: is misconfigured (its secret is not the storage's); 503: the storage failed (try again).
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
    """The status of ``error``: its own code's, else its nearest ancestor's.

    A refusal of a custom policy (a `RefusalError` subclass with its own code) is thus a
    422 like any other refusal, until you give its code a row.
    """
    for cls in type(error).__mro__:
        status = HTTP_STATUS.get(getattr(cls, "code", ""))
        if status is not None:
            return status
    return 500


# --8<-- [end:status]


# --8<-- [start:scheduler]
#: The database URL's variable (the CLI's too); unset, `DEFAULT_URL`, the CLI's default.
DB_ENV = "QUEUE_QUOTA_DB"
#: The clerks' bearer token (check-in, manifest); unset, those endpoints are disabled.
STAFF_TOKEN_ENV = "QUEUE_QUOTA_STAFF_TOKEN"


def scheduler_from_env() -> qq.Scheduler:
    """The process's scheduler, from ``QUEUE_QUOTA_*`` environment variables.

    Raises:
        ConfigurationError: No secret, a bad database URL or office file.
        SecretMismatch: The database was made with another secret.
    """
    secret = secret_from_env()  # QUEUE_QUOTA_SECRET (+ QUEUE_QUOTA_OLD_SECRETS when rotating)
    if secret is None:
        raise qq.ConfigurationError("set QUEUE_QUOTA_SECRET (at least 16 bytes)")
    office_file = os.environ.get("QUEUE_QUOTA_OFFICE")
    if office_file:
        from queue_quota.config import load_office

        office = load_office(office_file)
    else:
        office = qq.Office(
            id="tegal-disdukcapil",
            calendar=qq.WorkingCalendar.indonesia(tz="Asia/Jakarta"),
            policies=[
                OnlineQuota(capacity=20, lead_days=1, horizon_days=60),
                WalkInQuota(capacity=40, opens=time(7, 30), closes=time(12, 0)),
            ],
        )
    storage = from_url(os.environ.get(DB_ENV) or DEFAULT_URL)
    try:
        return qq.Scheduler(office, storage, secret=secret)
    except BaseException:
        storage.close()
        raise


# --8<-- [end:scheduler]


# -- request and response bodies ---------------------------------------------------------


# --8<-- [start:bodies]
class BookingIn(BaseModel):
    """A request for a place. The citizen ID travels in the body, never in a URL."""

    channel: str = Field(default="online", max_length=64)
    citizen_id: str | None = Field(default=None, max_length=32)
    preferred_date: date | None = None


class TicketIn(BaseModel):
    """A ticket as shown at the counter (typed, scanned from a QR code, ...)."""

    ticket: str = Field(max_length=80)


class RescheduleIn(TicketIn):
    """Move the booking of a ticket: to the earliest other day, or ``preferred_date``."""

    preferred_date: date | None = None


class BookingOut(BaseModel):
    """A booking as its holder sees it: no citizen reference, no idempotency key.

    ``previous_day`` and ``previous_label`` say where a booking just moved came from.
    """

    id: str
    channel: str
    day: date
    number: int
    label: str
    status: str
    ticket: str
    previous_day: date | None = None
    previous_label: str | None = None

    @classmethod
    def of(cls, b: qq.Booking) -> BookingOut:
        """The holder's view of a booking."""
        return cls(
            id=b.id,
            channel=b.channel,
            day=b.day,
            number=b.number,
            label=b.label,
            status=b.status.value,
            ticket=b.ticket,
            previous_day=b.previous_day,
            previous_label=b.previous_label,
        )


class ManifestRow(BaseModel):
    """A line of the clerk's list: no ticket (the citizen's proof), no citizen reference."""

    id: str
    channel: str
    number: int
    label: str
    status: str


class DayOut(BaseModel):
    """Room on one day; ``bookable``: a request on the channel now could take it."""

    day: date
    capacity: int
    booked: int
    remaining: int
    closed_reason: str | None
    bookable: bool


# --8<-- [end:bodies]


# -- the app -----------------------------------------------------------------------------


# --8<-- [start:staff]
class StaffOnly(Exception):
    """A clerk's endpoint called without the staff token (401), or while disabled (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_bearer = HTTPBearer(auto_error=False, description=f"the token in ${STAFF_TOKEN_ENV}")


def require_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let the request through only with ``Authorization: Bearer <the staff token>``.

    `hmac.compare_digest` takes as long whatever the first wrong character, so the token
    cannot be guessed character by character from response times.
    """
    expected: bytes | None = request.app.state.staff_token
    if expected is None:
        raise StaffOnly(403, f"staff endpoints are disabled: set {STAFF_TOKEN_ENV}")
    given = credentials.credentials.encode() if credentials is not None else b""
    if not hmac.compare_digest(given, expected):
        raise StaffOnly(401, "a staff token is required")


def staff_token_from(value: str | None) -> bytes | None:
    """The staff token (``None``: disabled); shorter than 16 bytes is a mistake."""
    if not value:
        return None
    token = value.encode()
    if len(token) < 16:
        raise qq.ConfigurationError(f"{STAFF_TOKEN_ENV} must be at least 16 bytes")
    return token


# --8<-- [end:staff]


# --8<-- [start:app]
def get_scheduler(request: Request) -> qq.Scheduler:
    """The app's scheduler (one per process, made at startup)."""
    sched = request.app.state.scheduler
    assert isinstance(sched, qq.Scheduler)
    return sched


def language(request: Request) -> str:
    """``"en"`` if the client prefers English, else Indonesian."""
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "id"


Sched = Annotated[qq.Scheduler, Depends(get_scheduler)]
Staff = [Depends(require_staff)]


def create_app(scheduler: qq.Scheduler | None = None, *, staff_token: str | None = None) -> FastAPI:
    """The API, serving ``scheduler`` (by default one built from the environment at startup).

    ``staff_token`` guards the clerks' endpoints (by default ``$QUEUE_QUOTA_STAFF_TOKEN``;
    without one they answer 403). Endpoints are plain ``def`` functions: the scheduler
    blocks on its storage, so FastAPI runs them in its thread pool (`SQLiteStorage` keeps
    one connection per thread, `PostgresStorage` a connection pool).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        token = staff_token if staff_token is not None else os.environ.get(STAFF_TOKEN_ENV)
        app.state.staff_token = staff_token_from(token)
        sched = scheduler if scheduler is not None else scheduler_from_env()
        app.state.scheduler = sched
        yield
        if scheduler is None:  # ours: release its connections
            sched.storage.close()

    app = FastAPI(title="queue_quota", lifespan=lifespan)

    @app.exception_handler(qq.QueueQuotaError)
    async def refused(request: Request, error: qq.QueueQuotaError) -> JSONResponse:
        """Every error of the library as JSON: a stable code and a sentence for people."""
        lang = language(request)
        today = get_scheduler(request).today()
        body: dict[str, Any] = {"code": error.code, "message": describe(error, lang, today=today)}
        next_available = getattr(error, "next_available", None)
        if isinstance(next_available, date):
            body["next_available"] = next_available.isoformat()
        if isinstance(error, qq.QuotaExhausted):
            body["alternatives"] = {c: d.isoformat() for c, d in error.alternatives.items()}
        status = http_status(error)
        log.info("%s %s: %s", request.method, request.url.path, error.code)
        headers = {"Retry-After": "5"} if status == 503 else None
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(StaffOnly)
    async def staff_only(request: Request, error: StaffOnly) -> JSONResponse:
        """401 (with ``WWW-Authenticate``) or 403, in the same shape as the library's."""
        code = "unauthorized" if error.status == 401 else "forbidden"
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        body = {"code": code, "message": error.message}
        return JSONResponse(body, status_code=error.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        """A malformed body: 422 ``configuration_error`` naming the fields, never echoing
        what was sent (it may be a citizen ID or a ticket)."""
        fields = sorted({".".join(str(p) for p in e["loc"][1:]) or "body" for e in error.errors()})
        message = "invalid request: " + ", ".join(fields)
        return JSONResponse({"code": "configuration_error", "message": message}, status_code=422)

    @app.post("/bookings", status_code=201)
    def book(
        body: BookingIn,
        sched: Sched,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> BookingOut:
        """Book a place. Send an ``Idempotency-Key`` header: a retry returns the same booking.

        The same key with another request (another citizen, channel or date) is a 409
        ``idempotency_conflict`` that tells nothing of the booking the key was used for.
        """
        booking = sched.book(
            body.channel,
            body.citizen_id,
            idempotency_key=idempotency_key,
            preferred_date=body.preferred_date,
        )
        log.info("booked %s %s on %s", booking.channel, booking.label, booking.day)
        return BookingOut.of(booking)

    @app.get("/availability/{channel}")
    def availability(
        channel: str, sched: Sched, start: date | None = None, days: int = 14
    ) -> list[DayOut]:
        """Room per day on a channel, from ``start`` (default: today) for ``days`` days."""
        first = start or sched.today()
        last = first + timedelta(days=max(0, min(days, 90)))
        found = sched.availability(channel, first, last)
        return [DayOut(**{k: getattr(d, k) for k in DayOut.model_fields}) for d in found]

    @app.post("/bookings/lookup")
    def lookup(body: TicketIn, sched: Sched) -> BookingOut:
        """The booking a ticket stands for."""
        return BookingOut.of(sched.verify_ticket(body.ticket))

    @app.post("/bookings/cancel")
    def cancel(body: TicketIn, sched: Sched) -> BookingOut:
        """Cancel the booking of a ticket: the ticket, not the booking id, is the proof."""
        cancelled = sched.cancel(sched.verify_ticket(body.ticket).id)
        log.info("cancelled %s %s on %s", cancelled.channel, cancelled.label, cancelled.day)
        return BookingOut.of(cancelled)

    @app.post("/bookings/reschedule")
    def reschedule(body: RescheduleIn, sched: Sched) -> BookingOut:
        """Move the booking of a ticket; the answer says its previous day and label."""
        booking = sched.verify_ticket(body.ticket)
        moved = sched.reschedule(booking.id, preferred_date=body.preferred_date)
        log.info(
            "moved %s %s to %s on %s", moved.channel, moved.previous_label, moved.label, moved.day
        )
        return BookingOut.of(moved)

    @app.post("/check-in", dependencies=Staff)
    def check_in(body: TicketIn, sched: Sched) -> BookingOut:
        """Counter staff: the citizen has arrived (on the booking's day only)."""
        arrived = sched.check_in(body.ticket)
        log.info("checked in %s %s on %s", arrived.channel, arrived.label, arrived.day)
        return BookingOut.of(arrived)

    @app.get("/manifest/{day}", dependencies=Staff)
    def manifest(
        day: date, sched: Sched, channel: str | None = None, include_cancelled: bool = False
    ) -> list[ManifestRow]:
        """Counter staff: the day's bookings in service order (no tickets)."""
        found = sched.manifest(day, channel, include_cancelled=include_cancelled)
        return [
            ManifestRow(
                id=b.id, channel=b.channel, number=b.number, label=b.label, status=b.status.value
            )
            for b in found
        ]

    return app


# --8<-- [end:app]


app = create_app()
