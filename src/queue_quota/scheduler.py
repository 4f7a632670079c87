"""`Scheduler`: the façade applications call.

It validates input, asks the office's policies where a request may go, and asks the
storage to reserve a place atomically. It never reads a count and then writes: the
check-then-act happens inside one storage operation.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import attrs

from ._availability import Room
from ._candidates import CandidateCache, needs_counters, sessions_of
from ._capabilities import offers, require
from ._days_api import SchedulerDays
from ._idempotency import citizen_refs, request_fingerprints, same_request
from ._inputs import Ask, check_day, check_places, check_time, quiet_not_found
from ._lifecycle_api import SchedulerLifecycle
from ._preview_api import SchedulerPreviews
from ._refusals import explain
from ._report_api import SchedulerReports
from ._sanctions_api import SchedulerSanctions
from ._waitlist_api import SchedulerWaitlist
from .calendar import WorkingCalendar
from .errors import (
    BookingNotFound,
    ConfigurationError,
    DayClosed,
    InvalidTransition,
    RefusalError,
    SecretMismatch,
    StorageError,
)
from .models import Booking, Candidate, Reservation
from .office import Office
from .policies.base import BookingRequest, QuotaPolicy
from .storage._lifecycle import StaleCalendar
from .storage.base import Storage
from .storage.memory import MemoryStorage
from .tickets import Keyring, looks_like_ticket, new_booking_id, normalise_booking_id

__all__ = ["Scheduler"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Scheduler(
    SchedulerDays,
    SchedulerLifecycle,
    SchedulerWaitlist,
    SchedulerSanctions,
    SchedulerReports,
    SchedulerPreviews,
):
    """Books, moves and cancels places for one `Office` on one `Storage`.

    Args:
        office: The office.
        storage: Where bookings live; a `MemoryStorage` by default. Several schedulers in
            several processes may share one persistent storage.
        secret: Key for tickets and citizen refs (bytes, at least 16), or a sequence of
            keys (rotation: the first signs tickets and hashes new citizen refs; every one
            still verifies tickets and matches citizens). ``None`` is allowed only with
            `MemoryStorage`: a random secret for this process.
        clock: Returns the current aware `datetime`; every method also takes ``now=``.

    Raises:
        ConfigurationError: Bad office, storage or secret.
        SecretMismatch: The storage remembers another secret (none of ``secret`` matches
            the fingerprint it holds); raised before anything else is read or written.
    """

    def __init__(
        self,
        office: Office,
        storage: Storage | None = None,
        *,
        secret: bytes | Sequence[bytes] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(office, Office):
            raise ConfigurationError(f"office must be an Office, got {type(office).__name__}")
        if storage is None:
            storage = MemoryStorage()
        if not isinstance(storage, Storage):
            raise ConfigurationError(
                f"{type(storage).__name__} does not implement the Storage protocol"
            )
        ephemeral = secret is None
        if secret is None:
            if storage.persistent:
                raise ConfigurationError(
                    "a persistent storage needs a secret (bytes, >= 16): tickets and citizen "
                    "refs must stay valid across restarts",
                    message_key="configuration_error.needs_secret",
                    min_bytes=16,
                )
            secret = secrets.token_bytes(32)
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock must be a callable returning an aware datetime")
        self._office = office
        self._storage = storage
        self._keys = Keyring(secret, office.id)
        self._signer = self._keys.primary
        if not ephemeral:
            self._claim_secret()
        self._clock = clock or _utcnow
        self._calendar = office.calendar
        self._order = {p.channel: i for i, p in enumerate(office.policies)}
        self._policies = {p.channel: p for p in office.policies}
        self._candidates = CandidateCache(office)
        self._limit_kw: dict[str, dict[str, Any]] = {}
        self._open_version: str | None = None
        if getattr(storage, "openings", None) is not None:
            self._sync_openings()
        self._room = Room(office, storage)
        self._events = offers(storage, "events")
        self._waits = offers(storage, "waitlist")
        if needs_counters(office) and not getattr(storage, "supports_counters", False):
            raise ConfigurationError(
                f"{type(storage).__name__} does not support sessions, pools, takes_unused or "
                "an office-wide per_citizen limit yet; use MemoryStorage or SQLiteStorage"
            )
        sanctioned = [p.channel for p in office.policies if getattr(p, "no_show_limit", None)]
        if sanctioned:
            require(storage, "sanctions", f", but channel {sanctioned[0]!r} sets no_show_limit")

    def __repr__(self) -> str:
        return f"<Scheduler office={self._office.id!r} storage={self._storage!r}>"

    @property
    def office(self) -> Office:
        """The office."""
        return self._office

    @property
    def storage(self) -> Storage:
        """The storage."""
        return self._storage

    def citizen_ref(self, citizen_id: str) -> str:
        """The keyed hash that stands for ``citizen_id`` in this office's new bookings."""
        return self._signer.citizen_ref(citizen_id)

    def _claim_secret(self) -> None:
        accepted = [s.fingerprint() for s in self._keys.signers]
        stored = self._storage.claim_secret(self._office.id, accepted[0], accepted)
        if stored is not None and stored not in accepted:
            raise SecretMismatch(
                f"the storage of office {self._office.id!r} was used with another secret: "
                "give the scheduler that secret (or, while rotating, a list that holds it)"
            )

    def today(self, *, now: datetime | None = None) -> date:
        """The office's local date now (or at ``now``)."""
        return self._calendar.local_date(self._now(now))

    # -- booking ---------------------------------------------------------------------------

    def book(
        self,
        channel: str,
        citizen_id: str | None = None,
        *,
        now: datetime | None = None,
        idempotency_key: str | None = None,
        preferred_date: date | None = None,
        preferred_time: time | None = None,
        places: int = 1,
        claims: Mapping[str, str] | None = None,
    ) -> Booking:
        """Give the citizen a place on ``channel``.

        Online: the earliest working day with room in the booking window, or exactly
        ``preferred_date``. Walk-in: today. A retried call with the same
        ``idempotency_key`` returns the same booking, before any other check. A key is
        bound to its first request (channel, citizen, preferred date and time, places): the
        same key with another request raises `IdempotencyConflict`, books nothing and
        reveals nothing of the first booking.

        With sessions, the booking takes the earliest session with room on the earliest
        day with room, or the session starting at ``preferred_time``. ``places`` takes that
        many units from the day, the session and every pool under one number (a
        household). ``claims`` are facts the application verified (``{"group":
        "lansia"}``), handed to the policies and never stored.

        Raises:
            QuotaExhausted: No room (with ``next_available`` and ``alternatives``).
            DayClosed, OutsideServiceHours, OutsideBookingWindow, AlreadyBooked: Refusals.
            IdempotencyConflict: The key was first used for another request.
            NotEligible: The channel requires a claim the request does not carry.
            ConfigurationError: Bad input (unknown channel, naive ``now``, ...).
        """
        if idempotency_key is not None and (
            not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= 200
        ):
            raise ConfigurationError(
                "idempotency_key must be a string of 1-200 characters",
                message_key="configuration_error.idempotency_key",
                max_length=200,
            )
        if preferred_date is not None:
            check_day("preferred_date", preferred_date)
        ask = Ask(preferred_date, check_time(preferred_time), check_places(places), claims)
        refs = self._refs(citizen_id)
        fingerprints = (
            request_fingerprints(self._keys, channel, refs, preferred_date, preferred_time, places)
            if idempotency_key is not None
            else ()
        )
        try:
            for attempt in range(3):
                version = self._open_version
                try:
                    booking = self._book(channel, refs, now, idempotency_key, ask, fingerprints)
                    break
                except StaleCalendar:  # another process opened or closed a day: rebuild
                    if attempt == 2:
                        raise StorageError("the office's openings kept changing") from None
                    self._sync_openings()
                except DayClosed:  # closed by this calendar: was the day opened since?
                    if attempt == 2 or version is None:
                        raise
                    self._sync_openings()  # (explaining the refusal may have read them)
                    if self._open_version == version:
                        raise
        except (RefusalError, ConfigurationError):
            # A key already used is answered with its booking before any refusal. The
            # storage checks the key first inside `reserve`, so only a request that was
            # refused before reaching the storage needs this extra read.
            if idempotency_key is not None:
                existing = self._storage.find_by_key(self._office.id, idempotency_key)
                if existing is not None:
                    return same_request(existing, channel, refs, fingerprints)
            raise
        if idempotency_key is not None and booking.idempotency_key == idempotency_key:
            # Either this call's new booking, or the one the key was first used for.
            return same_request(booking, channel, refs, fingerprints)
        return booking

    def _refs(self, citizen_id: str | None) -> tuple[str, ...]:
        return citizen_refs(self._keys, citizen_id)

    def _book(
        self,
        channel: str,
        refs: tuple[str, ...],
        now: datetime | None,
        idempotency_key: str | None,
        ask: Ask,
        fingerprints: tuple[str, ...],
    ) -> Booking:
        policy = self._policies.get(channel) or self._office.policy(channel)
        at = self._now(now)
        request = self._request(policy, refs, at, ask)
        citizen_ref = request.citizen_ref
        try:
            policy.admit(request, self._calendar)
            candidates, digest = self._candidates_for(policy, request)
            booking_id = new_booking_id()
            return self._storage.reserve(
                Reservation(
                    office_id=self._office.id,
                    channel=channel,
                    candidates=candidates,
                    candidates_key=digest,
                    places=ask.places,
                    booking_id=booking_id,
                    ticket=self._signer.issue(booking_id),
                    prefix=policy.prefix,
                    citizen_ref=citizen_ref,
                    today=request.today,
                    created_at=at.astimezone(UTC),
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprints[0] if idempotency_key is not None else None,
                    other_refs=refs[1:],
                    calendar_version=self._open_version,
                    **self._limits(policy),
                )
            )
        except RefusalError as exc:
            raise self._explain(policy, request, exc) from None

    def _request(
        self, policy: QuotaPolicy, refs: tuple[str, ...], at: datetime, ask: Ask
    ) -> BookingRequest:
        """The request the policies see (the citizen's newest ref, the local time); a
        channel that needs a citizen refuses an anonymous one."""
        if not refs and policy.requires_citizen:
            raise ConfigurationError(
                f"channel {policy.channel!r} needs a citizen_id",
                message_key="configuration_error.needs_citizen",
                channel=policy.channel,
            )
        local = self._calendar.local_time(at)
        return BookingRequest(
            channel=policy.channel,
            now=local,
            today=local.date(),
            citizen_ref=refs[0] if refs else None,
            preferred_date=ask.day,
            preferred_time=ask.time,
            places=ask.places,
            claims=dict(ask.claims or {}),
        )

    def bookings_of(
        self, citizen_id: str, *, include_past: bool = False, now: datetime | None = None
    ) -> list[Booking]:
        """A citizen's bookings (e.g. one who lost the ticket), by day then service order.

        The ID is hashed first, as always (with every secret, so bookings made before a
        rotation are found too); only the hash reaches the storage. By default only
        bookings for today or later; ``include_past=True`` for all.
        """
        refs = self._refs(citizen_id)
        since = None if include_past else self.today(now=now)
        found = self._storage.bookings_of(self._office.id, refs, since=since)
        return sorted(found, key=lambda b: (b.day, self._order.get(b.channel, 1 << 30), b.number))

    def reschedule(
        self,
        booking_id: str,
        *,
        now: datetime | None = None,
        preferred_date: date | None = None,
    ) -> Booking:
        """Move a booking to the earliest other day with room (or ``preferred_date``).

        Atomic: the old place is freed only together with taking the new one. The booking
        keeps its id and ticket and gets a number on its new day; the returned booking
        carries ``previous_day`` and ``previous_number``. ``booking_id`` may also be the
        ticket, as typed.

        Raises:
            InvalidTransition: The booking is not ``BOOKED`` or its day has passed.
            QuotaExhausted: No other day has room (the booking is unchanged).
        """
        at = self._now(now)
        if preferred_date is not None:
            check_day("preferred_date", preferred_date)
        current = self.get(booking_id)
        policy = self._office.policy(current.channel)
        local = self._calendar.local_time(at)
        request = BookingRequest(
            channel=current.channel,
            now=local,
            today=local.date(),
            citizen_ref=current.citizen_ref,
            preferred_date=preferred_date,
            places=current.places,
            moving=True,
        )
        if current.day < request.today:
            raise InvalidTransition(
                f"the booking's day ({current.day}) has passed", reason="past_day", day=current.day
            )
        if preferred_date == current.day:
            raise InvalidTransition(
                f"the booking is already on {preferred_date}", reason="same_day", day=current.day
            )
        try:
            policy.admit(request, self._calendar)
            candidates, _ = self._candidates_for(policy, request)
            moved = self._storage.move(
                self._office.id,
                current.id,
                [c for c in candidates if c.day != current.day],
                prefix=policy.prefix,
                **self._when(at, frees=True),
            )
        except RefusalError as exc:
            raise self._explain(policy, request, exc) from None
        if moved.previous_number is None:  # a storage that does not say where it came from
            moved = attrs.evolve(moved, previous_day=current.day, previous_number=current.number)
        return moved

    def cancel(self, booking_id: str, *, now: datetime | None = None) -> Booking:
        """Cancel a booking for today or later, freeing its place (its number is not reused).

        ``booking_id`` may also be the ticket, as typed (any case, spaces or dashes).

        Raises:
            BookingNotFound: Unknown id.
            InvalidTransition: Not ``BOOKED`` (already cancelled, checked in, ...) or past.
        """
        at = self._now(now)
        today = self._calendar.local_date(at)
        with quiet_not_found():
            return self._storage.cancel(
                self._office.id,
                self._resolve(booking_id),
                not_before=today,
                **self._when(at, frees=True),
            )

    def check_in(self, ticket_or_booking_id: str, *, now: datetime | None = None) -> Booking:
        """Mark the citizen as arrived, on the booking's day only.

        Accepts a ticket (verified) or a booking id, as typed (any case, spaces, dashes).

        Raises:
            InvalidTicket: A forged or malformed ticket.
            InvalidTransition: Not the booking's day, or not ``BOOKED`` (a second check-in).
        """
        at = self._now(now)
        today = self._calendar.local_date(at)
        booking_id = self._resolve(ticket_or_booking_id)
        with quiet_not_found():
            return self._storage.check_in(
                self._office.id, booking_id, today=today, **self._when(at)
            )

    def verify_ticket(self, ticket: str) -> Booking:
        """The booking a ticket stands for.

        Raises:
            InvalidTicket: Forged, altered, malformed, or from another office.
            BookingNotFound: Genuine but unknown to this storage.
        """
        with quiet_not_found():
            return self._storage.get(self._office.id, self._keys.verify(ticket))

    def get(self, booking_id: str) -> Booking:
        """The booking with that id or ticket, as typed (`BookingNotFound` if none).

        Raises:
            BookingNotFound: No such booking.
            InvalidTicket: Text that is a ticket but not a genuine one.
        """
        with quiet_not_found():
            return self._storage.get(self._office.id, self._resolve(booking_id))

    # -- internals -------------------------------------------------------------------------

    def _when(self, at: datetime, *, frees: bool = False) -> dict[str, Any]:
        """``now=`` for a storage that writes events (a 0.1 `Storage` takes none), and for
        an operation that ``frees`` places the waitlist's ``promoter=``."""
        if not self._events:
            return {}
        if frees and self._waits:
            return {"now": at.astimezone(UTC), "promoter": self._promotions(at)}
        return {"now": at.astimezone(UTC)}

    def _limits(self, policy: QuotaPolicy) -> dict[str, Any]:
        """What a `Reservation` on ``policy`` always carries: the per-citizen limits, the
        sanctions, and whether a full day's refusal is logged (walk-in channels)."""
        found = self._limit_kw.get(policy.channel)
        if found is not None:
            return found
        found = self._limit_kw[policy.channel] = {
            "per_citizen": policy.per_citizen,
            "office_per_citizen": self._office.per_citizen,
            "no_show_limit": getattr(policy, "no_show_limit", None),
            "no_show_window_days": getattr(policy, "no_show_window_days", 90),
            "suspension_days": getattr(policy, "suspension_days", 30),
            # A walk-in refused because the day is full is counted by `report`.
            "log_refusal": policy.channel in self._office.walk_in_channels,
        }
        return found

    def _now(self, now: datetime | None) -> datetime:
        at = self._clock() if now is None else now
        if not isinstance(at, datetime):
            raise ConfigurationError(
                f"now must be an aware datetime, got {at!r}",
                message_key="configuration_error.naive_now",
            )
        if at.tzinfo is None or at.utcoffset() is None:
            raise ConfigurationError(
                "now must be an aware datetime (naive datetimes are refused)",
                message_key="configuration_error.naive_now",
            )
        return at

    def _resolve(self, ticket_or_id: object) -> str:
        """The booking id of a ticket (verified) or of an id as typed."""
        if not isinstance(ticket_or_id, str) or not 0 < len(ticket_or_id) <= 80:
            raise BookingNotFound("not a booking id or ticket")
        text = ticket_or_id.strip()
        if looks_like_ticket(text):
            return self._keys.verify(text)
        booking_id = normalise_booking_id(text)
        if booking_id is None:
            # Never echo what was typed: it may be someone's ticket or ID.
            raise BookingNotFound("not a booking id or ticket")
        return booking_id

    def _explain(
        self, policy: QuotaPolicy, request: BookingRequest, exc: RefusalError
    ) -> RefusalError:
        calendar = self._effective_calendar()
        return explain(self._office, self._room, calendar, policy, request, exc, self._calendar)

    def _sync_openings(self) -> bool:
        """Read the days opened at run time (by any process) and, if they changed, build the
        calendar and the candidates anew (``True``)."""
        opened, version = self._storage.openings(self._office.id)  # type: ignore[attr-defined]
        if version == self._open_version:
            return False
        base = self._office.calendar
        self._calendar = base.with_openings(opened) if opened else base
        self._candidates = CandidateCache(self._office)
        self._open_version = version
        return True

    def _effective_calendar(self) -> WorkingCalendar:
        if self._open_version is not None:
            self._sync_openings()
        closures = self._storage.closures(self._office.id)
        return self._calendar.with_closures(closures) if closures else self._calendar

    def _candidates_for(
        self, policy: QuotaPolicy, request: BookingRequest
    ) -> tuple[tuple[Candidate, ...], str | None]:
        candidates, digest = self._candidates.get(policy, request, self._calendar)
        if request.places > 1 and not getattr(self._storage, "supports_counters", False):
            raise ConfigurationError(
                f"{type(self._storage).__name__} does not support bookings of several places"
            )
        if request.preferred_time is None:
            return candidates, digest
        chosen = tuple(
            c for c in candidates if c.window is not None and c.window[0] == request.preferred_time
        )
        if not chosen and not any(s.start == request.preferred_time for s in sessions_of(policy)):
            raise ConfigurationError(
                f"no session of {policy.channel} starts at {request.preferred_time:%H:%M}",
                message_key="configuration_error.no_session",
                channel=policy.channel,
                start=request.preferred_time,
            )
        return chosen, None
