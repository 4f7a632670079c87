"""queue_quota in a FastAPI app: one Scheduler per process, refusals as HTTP answers.

Run it (four worker processes sharing one SQLite file; the same with a PostgreSQL URL)::

    pip install 'queue-quota' fastapi uvicorn
    export QUEUE_QUOTA_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    export QUEUE_QUOTA_DB=/var/lib/queue-quota/tegal.sqlite3   # or postgresql://...
    export QUEUE_QUOTA_OFFICE=examples/tegal.toml              # optional: an office file
    uvicorn --app-dir examples fastapi_app:app --workers 4

Then::

    curl -X POST localhost:8000/bookings -H 'Idempotency-Key: 7f9c2c1e' \\
         -H 'Content-Type: application/json' \\
         -d '{"channel": "online", "citizen_id": "3328011234560001"}'

The guide: docs/how-to/fastapi.md.
"""

# --8<-- [start:imports]
from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, time, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import queue_quota as qq
from queue_quota.i18n import describe
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import SQLiteStorage, Storage

# --8<-- [end:imports]

__all__ = ["HTTP_STATUS", "app", "create_app", "http_status", "scheduler_from_env"]

# --8<-- [start:status]
#: The HTTP status of each error code. 409: the office's current state says no (the day
#: is full, the citizen holds a booking, the booking is not in a state that allows it);
#: 422: the request as made can't be served (closed day, outside hours or window, bad
#: input); 404: no such booking; 503: the storage failed (try again).
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
def scheduler_from_env() -> qq.Scheduler:
    """The process's scheduler, from ``QUEUE_QUOTA_*`` environment variables."""
    secret = os.environ.get("QUEUE_QUOTA_SECRET", "")
    if len(secret.encode()) < 16:
        raise qq.ConfigurationError("set QUEUE_QUOTA_SECRET (at least 16 bytes)")
    db = os.environ.get("QUEUE_QUOTA_DB", "queue.sqlite3")
    storage: Storage
    if db.startswith(("postgresql://", "postgres://")):
        from queue_quota.storage import PostgresStorage

        storage = PostgresStorage(db)
    else:
        storage = SQLiteStorage(db)
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
    return qq.Scheduler(office, storage, secret=secret.encode())


# --8<-- [end:scheduler]


# -- request and response bodies ---------------------------------------------------------


# --8<-- [start:bodies]
class BookingIn(BaseModel):
    """A request for a place. The citizen ID travels in the body, never in a URL."""

    channel: str = "online"
    citizen_id: str | None = Field(default=None, max_length=32)
    preferred_date: date | None = None


class TicketIn(BaseModel):
    """A ticket as shown at the counter (typed, scanned from a QR code, ...)."""

    ticket: str = Field(max_length=80)


class BookingOut(BaseModel):
    """A booking as the citizen sees it: no citizen reference, no idempotency key."""

    id: str
    channel: str
    day: date
    number: int
    label: str
    status: str
    ticket: str

    @classmethod
    def of(cls, b: qq.Booking) -> BookingOut:
        """The public view of a booking."""
        return cls(
            id=b.id,
            channel=b.channel,
            day=b.day,
            number=b.number,
            label=b.label,
            status=b.status.value,
            ticket=b.ticket,
        )


class DayOut(BaseModel):
    """Room on one day."""

    day: date
    capacity: int
    booked: int
    remaining: int
    closed_reason: str | None


# --8<-- [end:bodies]


# -- the app -----------------------------------------------------------------------------


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


def create_app(scheduler: qq.Scheduler | None = None) -> FastAPI:
    """The API, serving ``scheduler`` (by default one built from the environment at startup).

    Endpoints are plain ``def`` functions: the scheduler blocks on its storage, so FastAPI
    runs them in its thread pool (`SQLiteStorage` keeps one connection per thread,
    `PostgresStorage` a connection pool).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
        headers = {"Retry-After": "5"} if status == 503 else None
        return JSONResponse(body, status_code=status, headers=headers)

    @app.post("/bookings", status_code=201)
    def book(
        body: BookingIn,
        sched: Sched,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> BookingOut:
        """Book a place. Send an ``Idempotency-Key`` header: a retry returns the same booking."""
        booking = sched.book(
            body.channel,
            body.citizen_id,
            idempotency_key=idempotency_key,
            preferred_date=body.preferred_date,
        )
        return BookingOut.of(booking)

    @app.get("/availability/{channel}")
    def availability(
        channel: str, sched: Sched, start: date | None = None, days: int = 14
    ) -> list[DayOut]:
        """Room per day on a channel, from ``start`` (default: today) for ``days`` days."""
        first = start or sched.today()
        found = sched.availability(channel, first, first + timedelta(days=max(0, min(days, 90))))
        return [DayOut(**{k: getattr(d, k) for k in DayOut.model_fields}) for d in found]

    @app.get("/tickets/{ticket}")
    def show(ticket: str, sched: Sched) -> BookingOut:
        """The booking a ticket stands for."""
        return BookingOut.of(sched.verify_ticket(ticket))

    @app.post("/tickets/{ticket}/cancel")
    def cancel(ticket: str, sched: Sched) -> BookingOut:
        """Cancel the booking of a ticket (only its holder has the ticket)."""
        return BookingOut.of(sched.cancel(sched.verify_ticket(ticket).id))

    @app.post("/check-in")
    def check_in(body: TicketIn, sched: Sched) -> BookingOut:
        """Counter staff: the citizen has arrived (on the booking's day only)."""
        return BookingOut.of(sched.check_in(body.ticket))

    return app


# --8<-- [end:app]


app = create_app()
