"""The `Scheduler`'s waitlist methods (a mixin, so that ``scheduler.py`` keeps to booking).
See "The waitlist": a freed place goes to the first entry that fits, in the transaction
that freed it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import attrs

from ._capabilities import require
from ._inputs import Ask, check_day, check_places, check_time, quiet_not_found
from .errors import BookingNotFound, ConfigurationError, OutsideBookingWindow, RefusalError
from .models import Booking, Candidate, Reservation
from .policies.base import BookingRequest, QuotaPolicy
from .tickets import new_booking_id
from .waitlist import WaitlistEntry

if TYPE_CHECKING:
    from ._candidates import CandidateCache
    from .calendar import WorkingCalendar
    from .office import Office
    from .storage.base import Storage
    from .tickets import TicketSigner

__all__ = ["Promotions", "SchedulerWaitlist"]


class Promotions:
    """What the storage's promotion pass asks: the candidates `book` would use at ``at``."""

    def __init__(
        self,
        policies: Mapping[str, QuotaPolicy],
        cache: CandidateCache,
        calendar: WorkingCalendar,
        at: datetime,
    ) -> None:
        self._policies = policies
        self._cache = cache
        self._calendar = calendar
        self._local = calendar.local_time(at)
        self.today: date = self._local.date()

    def candidates(self, channel: str) -> Sequence[Candidate]:
        """The channel's candidates now (none for a channel the office no longer has)."""
        policy = self._policies.get(channel)
        if policy is None:
            return ()
        request = BookingRequest(channel=channel, now=self._local, today=self.today)
        return self._cache.get(policy, request, self._calendar)[0]

    def prefix(self, channel: str) -> str:
        """The channel's label prefix."""
        policy = self._policies.get(channel)
        return "" if policy is None else policy.prefix


class SchedulerWaitlist:
    """Mixed into `Scheduler`."""

    _office: Office
    _storage: Storage
    _calendar: WorkingCalendar
    _policies: dict[str, QuotaPolicy]
    _candidates: CandidateCache
    _signer: TicketSigner
    _now: Callable[[datetime | None], datetime]

    if TYPE_CHECKING:

        def _refs(self, citizen_id: str | None) -> tuple[str, ...]: ...
        def _resolve(self, ticket_or_id: object) -> str: ...
        def _explain(
            self, policy: QuotaPolicy, request: BookingRequest, exc: RefusalError
        ) -> RefusalError: ...
        def _candidates_for(
            self, policy: QuotaPolicy, request: BookingRequest
        ) -> tuple[tuple[Candidate, ...], str | None]: ...
        def _limits(self, policy: QuotaPolicy) -> dict[str, Any]: ...
        def _request(
            self, policy: QuotaPolicy, refs: tuple[str, ...], at: datetime, ask: Ask
        ) -> BookingRequest: ...

    def _waitlists(self) -> Any:
        """The storage, if it keeps waitlists (every `TransactionalStorage` does)."""
        return require(self._storage, "waitlist")

    def _promotions(self, at: datetime) -> Promotions:
        return Promotions(self._policies, self._candidates, self._calendar, at)

    def join_waitlist(
        self,
        channel: str,
        citizen_id: str | None = None,
        *,
        now: datetime | None = None,
        until: date | None = None,
        places: int = 1,
        preferred_time: time | None = None,
        claims: Mapping[str, str] | None = None,
    ) -> WaitlistEntry:
        """Put the citizen at the end of ``channel``'s line, to be given the first place
        that fits (freed by a cancel, a move, a reopened day) in joining order.

        The entry becomes a `Booking` with the entry's ``id`` and ``ticket`` in the
        transaction that frees the place (an event ``promoted``; joining writes
        ``waitlisted``). It fits a place on one of the channel's candidate days at that
        moment, on or before ``until`` (default: the last day of the booking window now),
        in the arrival window starting at ``preferred_time`` if given, with room for
        ``places``. The per-citizen limits count an entry as holding a place. It expires
        after ``until`` (event ``waitlist_expired``).

        Raises:
            InvalidTransition: The channel has room for the request now (``reason`` is
                ``"has_room"``, ``day`` the day): book instead.
            OutsideBookingWindow: ``until`` is before the earliest day the channel gives.
            AlreadyBooked, NotEligible: As for `book`.
            ConfigurationError: Bad input (``until`` before today, an unknown session, a
                storage without waitlists).
        """
        storage = self._waitlists()
        policy = self._policies.get(channel) or self._office.policy(channel)
        if until is not None:
            check_day("until", until)
        ask_time, ask_places = check_time(preferred_time), check_places(places)
        refs = self._refs(citizen_id)
        at = self._now(now)
        request = self._request(policy, refs, at, Ask(None, ask_time, ask_places, claims))
        if until is not None and until < request.today:
            raise ConfigurationError(
                f"until ({until}) is before today ({request.today})",
                message_key="configuration_error.past_until",
                day=until,
                today=request.today,
            )
        try:
            policy.admit(request, self._calendar)
            candidates, _ = self._candidates_for(policy, request)
            last = max((c.day for c in candidates), default=request.today)
            first = min((c.day for c in candidates), default=request.today)
            room = max((min(ch.capacity for ch in c.charges) for c in candidates), default=0)
            if candidates and ask_places > room:  # no day could ever hold them
                raise ConfigurationError(
                    f"{ask_places} places on one number exceed what any day of {channel!r} "
                    f"gives ({room})",
                    message_key="configuration_error.places_never_fit",
                    channel=channel,
                    places=ask_places,
                    limit=room,
                )
            if until is not None and until < first:  # it could never be given a place
                raise OutsideBookingWindow(
                    f"until ({until}) is before the earliest day that can be given ({first})",
                    day=until,
                    earliest=first,
                    latest=last,
                )
            entry_id = new_booking_id()
            entry = WaitlistEntry(
                id=entry_id,
                channel=channel,
                position=0,
                ticket=self._signer.issue(entry_id),
                until=last if until is None else until,
                places=ask_places,
                preferred_time=ask_time,
                joined_at=at.astimezone(UTC),
                citizen_ref=request.citizen_ref,
            )
            r = Reservation(
                office_id=self._office.id,
                channel=channel,
                candidates=candidates,
                places=ask_places,
                booking_id=entry_id,
                ticket=entry.ticket,
                prefix=policy.prefix,
                citizen_ref=request.citizen_ref,
                today=request.today,
                created_at=entry.joined_at,
                other_refs=refs[1:],
                **self._limits(policy),
            )
            placed: WaitlistEntry = storage.join_waitlist(r, entry, now=entry.joined_at)
        except RefusalError as exc:
            raise self._explain(policy, request, exc) from None
        return placed

    def waitlist(self, channel: str, *, now: datetime | None = None) -> list[WaitlistEntry]:
        """The entries waiting for ``channel`` in joining order (``position`` 1, 2, ...);
        entries whose ``until`` has passed are not shown."""
        self._office.policy(channel)
        today = self._calendar.local_date(self._now(now))
        found: list[WaitlistEntry] = self._waitlists().waitlist(self._office.id, channel)
        return _renumbered(e for e in found if e.until >= today)

    def waitlist_entry(self, ticket_or_id: str, *, now: datetime | None = None) -> WaitlistEntry:
        """The waiting entry of a ticket or id, as typed, with its position now.

        Raises:
            BookingNotFound: No such entry waiting (it may have become a booking: `get`).
            InvalidTicket: Text that is a ticket but not a genuine one.
        """
        entry_id = self._resolve(ticket_or_id)
        storage = self._waitlists()
        today = self._calendar.local_date(self._now(now))
        every: list[WaitlistEntry] = storage.waitlist(self._office.id, None)
        for mine in every:
            if mine.id == entry_id and mine.until >= today:
                same = [e for e in every if e.channel == mine.channel and e.until >= today]
                return next(e for e in _renumbered(same) if e.id == entry_id)
        raise BookingNotFound("no such waitlist entry")

    def leave_waitlist(self, entry_id: str, *, now: datetime | None = None) -> WaitlistEntry:
        """Take an entry (its id or ticket, as typed) off its line (event ``waitlist_left``).

        Raises:
            BookingNotFound: No such entry waiting.
        """
        resolved = self._resolve(entry_id)
        at = self._now(now)
        with quiet_not_found():
            left: WaitlistEntry = self._waitlists().leave_waitlist(
                self._office.id, resolved, now=at.astimezone(UTC)
            )
        return left

    def promote_waitlist(self, *, now: datetime | None = None) -> list[Booking]:
        """Give room that appeared without a release (a higher capacity in a new office
        file, a day opened) to the waitlists, in joining order; remove expired entries.

        Run it after deploying a new office file. Returns the new bookings.
        """
        at = self._now(now)
        done: list[Booking] = self._waitlists().promote_waitlist(
            self._office.id, self._promotions(at), now=at.astimezone(UTC)
        )
        return done


def _renumbered(entries: Iterable[WaitlistEntry]) -> list[WaitlistEntry]:
    """Positions 1, 2, ... per channel, in the given (joining) order."""
    seen: dict[str, int] = {}
    out: list[WaitlistEntry] = []
    for e in entries:
        seen[e.channel] = seen.get(e.channel, 0) + 1
        out.append(attrs.evolve(e, position=seen[e.channel]))
    return out
