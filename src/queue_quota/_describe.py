"""The renderers behind `queue_quota.i18n.describe`: one error in, one sentence out.

An error is written, in this order of preference:

1. from its message key (``details["message_key"]``, a key of the catalogue) and the
   fields in ``details``: dates, times and channels are written for readers, counts
   choose their plural form;
2. by the renderer of its class's code (or of its nearest ancestor's), from the error's
   attributes (``day``, ``next_available``, ``channel``, ...);
3. never from its English ``message`` in another language than English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Final

from ._messages import CATALOGUES
from .errors import (
    AlreadyBooked,
    DayClosed,
    InvalidTransition,
    OutsideBookingWindow,
    OutsideServiceHours,
    QueueQuotaError,
    QuotaExhausted,
    Suspended,
)
from .i18n import channel_text, format_date, format_time, reason_text

if TYPE_CHECKING:
    from .office import Office

__all__ = ["MESSAGE_KEY", "render"]

#: The entry of ``QueueQuotaError.details`` that names the error's catalogue message.
MESSAGE_KEY: Final = "message_key"

#: Fields that name a channel (written by its title; ``channels`` lists several).
_CHANNEL_FIELDS: Final = frozenset({"channel"})


class _Context:
    """What a renderer needs: the language, today's date and the office (for titles)."""

    __slots__ = ("lang", "office", "today")

    def __init__(self, lang: str, today: date | None, office: Office | None) -> None:
        self.lang = lang
        self.today = today
        self.office = office

    def text(self, name: str, /, **fields: object) -> str:
        return CATALOGUES[self.lang][name].format(**fields)

    def date(self, d: date) -> str:
        return format_date(d, self.lang)

    def channel(self, name: str | None) -> str:
        return channel_text(name, self.lang, office=self.office)

    def titled(self, name: str) -> bool:
        """Whether the office gives ``name`` a title of its own."""
        if self.office is None:
            return False
        return any(p.channel == name and getattr(p, "title", None) for p in self.office.policies)

    def quoted(self, name: object) -> str:
        """An identifier as typed (a channel key, a file key), in quotes."""
        return f'"{name}"'

    def channel_list(self, names: object) -> str:
        """Channel keys with their names for readers: ``"online" (pendaftaran online)``."""
        if isinstance(names, str) or not hasattr(names, "__iter__"):
            return self.quoted(names)
        shown = []
        for name in names:
            title = self.channel(str(name))
            shown.append(self.quoted(name) if title == name else f"{self.quoted(name)} ({title})")
        return ", ".join(shown)

    def field(self, name: str, value: object) -> object:
        """A detail of an error, written for readers in this language."""
        if name in _CHANNEL_FIELDS and isinstance(value, str):
            return self.channel(value)
        if name == "channels":
            return self.channel_list(value)
        if isinstance(value, datetime):
            return f"{self.date(value.date())} {format_time(value.time(), self.lang)}"
        if isinstance(value, date):
            return self.date(value)
        if isinstance(value, time):
            return format_time(value, self.lang)
        if isinstance(value, list | tuple | set | frozenset):
            items = sorted(value) if isinstance(value, set | frozenset) else value
            return ", ".join(self.quoted(item) for item in items)
        return value

    def did_you_mean(self, details: Mapping[str, Any]) -> str:
        suggestion = details.get("suggestion")
        if not suggestion:
            return ""
        return self.text("did_you_mean", suggestion=self.quoted(suggestion))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _keyed(err: QueueQuotaError, ctx: _Context) -> str | None:
    """The error's own catalogue message, or ``None`` if it has none (or lacks a field)."""
    key = err.details.get(MESSAGE_KEY)
    if not isinstance(key, str) or key not in CATALOGUES[ctx.lang]:
        return None
    fields = {
        name: ctx.field(name, value) for name, value in err.details.items() if name != MESSAGE_KEY
    }
    fields.setdefault("message", err.message)
    fields["did_you_mean"] = ctx.did_you_mean(err.details)
    try:
        return ctx.text(key, **fields)
    except (KeyError, IndexError, ValueError):  # a detail the message needs is missing
        return None


def _options(ctx: _Context, options: list[str]) -> str:
    if len(options) <= 1:
        return "".join(options)
    return f"{', '.join(options[:-1])}, {ctx.text('or')} {options[-1]}"


def _alternative(ctx: _Context, channel: str, day: date) -> str:
    when = ctx.date(day)
    key = f"alternative.{channel}"
    if key in CATALOGUES[ctx.lang] and not ctx.titled(channel):
        return ctx.text(key, day=when)
    return ctx.text("alternative.other", channel=ctx.channel(channel), day=when)


def _quota_exhausted(err: QueueQuotaError, ctx: _Context) -> str:
    assert isinstance(err, QuotaExhausted)
    channel = ctx.channel(err.channel)
    same_day = err.day is not None and err.day == ctx.today
    if same_day:
        head = ctx.text("quota_exhausted.today")
    elif err.day is not None:
        head = ctx.text("quota_exhausted.day", channel=channel, day=ctx.date(err.day))
    else:
        head = ctx.text("quota_exhausted.window", channel=channel)
    options: list[str] = []
    if err.next_available is not None:
        key = "quota_exhausted.come_back" if same_day else "quota_exhausted.other_day"
        options.append(ctx.text(key, day=ctx.date(err.next_available)))
    for other, day in sorted(err.alternatives.items(), key=lambda item: (item[1], item[0])):
        options.append(_alternative(ctx, other, day))
    if options:
        tail = ctx.text("suggest", options=_options(ctx, options))
    else:
        tail = ctx.text("quota_exhausted.none")
    return _squash(f"{head} {tail}")


def _day_closed(err: QueueQuotaError, ctx: _Context) -> str:
    assert isinstance(err, DayClosed)
    if err.day is None:
        head = ctx.text("day_closed.no_day")
    elif err.reason:
        reason = reason_text(err.reason, ctx.lang)
        head = ctx.text("day_closed", day=ctx.date(err.day), reason=reason)
    else:
        head = ctx.text("day_closed.no_reason", day=ctx.date(err.day))
    if err.next_available is None:
        return head
    return f"{head} {ctx.text('day_closed.next', day=ctx.date(err.next_available))}"


def _outside_service_hours(err: QueueQuotaError, ctx: _Context) -> str:
    assert isinstance(err, OutsideServiceHours)
    opens = format_time(err.opens, ctx.lang)
    head = ctx.text(
        "outside_service_hours",
        channel=ctx.channel(err.channel or "walk_in"),
        opens=opens,
        closes=format_time(err.closes, ctx.lang),
    )
    head = head[0].upper() + head[1:]
    nxt = err.next_available
    if nxt is None:
        return head
    if nxt == ctx.today:
        return f"{head} {ctx.text('outside_service_hours.today', opens=opens)}"
    return f"{head} {ctx.text('outside_service_hours.next', day=ctx.date(nxt), opens=opens)}"


def _outside_booking_window(err: QueueQuotaError, ctx: _Context) -> str:
    assert isinstance(err, OutsideBookingWindow)
    if err.day is None:
        head = ctx.text("outside_booking_window.no_day")
    else:
        head = ctx.text("outside_booking_window", day=ctx.date(err.day))
    if err.earliest is None or err.latest is None:
        return head
    tail = ctx.text(
        "outside_booking_window.range",
        earliest=ctx.date(err.earliest),
        latest=ctx.date(err.latest),
    )
    return f"{head} {tail}"


def _already_booked(err: QueueQuotaError, ctx: _Context) -> str:
    assert isinstance(err, AlreadyBooked)
    if err.channel is None:  # the office-wide limit
        return _squash(ctx.text("already_booked.office", limit=err.limit))
    return _squash(ctx.text("already_booked", limit=err.limit, channel=ctx.channel(err.channel)))


def _suspended(err: QueueQuotaError, ctx: _Context) -> str:
    assert isinstance(err, Suspended)
    if err.until is None:
        head = ctx.text("suspended.no_day")
    else:
        head = ctx.text("suspended", until=ctx.date(err.until))
    office = ctx.office
    if office is not None and not any(getattr(p, "walk_in", False) for p in office.policies):
        return _squash(head)  # no walk-in channel to send the citizen to
    return _squash(f"{head} {ctx.text('suspended.walk_in')}")


def _not_eligible(err: QueueQuotaError, ctx: _Context) -> str:
    return _squash(ctx.text("not_eligible", channel=ctx.channel(err.details.get("channel"))))


def _invalid_transition(err: QueueQuotaError, ctx: _Context) -> str:
    assert isinstance(err, InvalidTransition)
    key: str | None = None
    if err.reason == "not_booked" and err.status in ("cancelled", "checked_in", "no_show"):
        key = f"invalid_transition.{err.status}"
    elif err.reason in ("not_today", "past_day", "same_day", "has_room") and err.day is not None:
        key = f"invalid_transition.{err.reason}"
    if key is None:
        return ctx.text("invalid_transition")
    day = None if err.day is None else ctx.date(err.day)
    return ctx.text(key, day=day)


def _configuration_error(err: QueueQuotaError, ctx: _Context) -> str:
    """A generic summary: the English message only in English; in another language the
    file and key of an office-file mistake, and that the details are in English."""
    source, key = err.details.get("source"), err.details.get("key")
    if source and key:
        return ctx.text("configuration_error.file", source=source, key=key, message=err.message)
    if source:
        return ctx.text("configuration_error.file_only", source=source, message=err.message)
    return ctx.text("configuration_error", message=err.message)


def _unknown_channel(err: QueueQuotaError, ctx: _Context) -> str:
    details = err.details
    if not details.get("channel") or not details.get("channels"):
        return ctx.text("unknown_channel.plain", message=err.message)
    return _squash(
        ctx.text(
            "unknown_channel",
            channel=ctx.quoted(details["channel"]),
            channels=ctx.channel_list(details["channels"]),
            did_you_mean=ctx.did_you_mean(details),
        )
    )


def _plain(code: str) -> Callable[[QueueQuotaError, _Context], str]:
    def render(err: QueueQuotaError, ctx: _Context) -> str:
        return ctx.text(code)

    return render


_RENDERERS: Final[dict[str, Callable[[QueueQuotaError, _Context], str]]] = {
    "queue_quota_error": _plain("queue_quota_error"),
    "refused": _plain("refused"),
    "quota_exhausted": _quota_exhausted,
    "day_closed": _day_closed,
    "outside_service_hours": _outside_service_hours,
    "outside_booking_window": _outside_booking_window,
    "already_booked": _already_booked,
    "idempotency_conflict": _plain("idempotency_conflict"),
    "not_eligible": _not_eligible,
    "suspended": _suspended,
    "booking_not_found": _plain("booking_not_found"),
    "invalid_transition": _invalid_transition,
    "invalid_ticket": _plain("invalid_ticket"),
    "configuration_error": _configuration_error,
    "unknown_channel": _unknown_channel,
    "secret_mismatch": _plain("secret_mismatch"),
    "storage_error": _plain("storage_error"),
}


def render(error: QueueQuotaError, lang: str, today: date | None, office: Office | None) -> str:
    """``error`` in ``lang`` (a catalogue code): by its message key, else by its class."""
    ctx = _Context(lang, today, office)
    keyed = _keyed(error, ctx)
    if keyed is not None:
        return keyed
    for cls in type(error).__mro__:
        if isinstance(cls, type) and issubclass(cls, QueueQuotaError):
            renderer = _RENDERERS.get(cls.code)
            if renderer is not None:
                return renderer(error, ctx)
    return ctx.text("queue_quota_error")  # pragma: no cover - the root is always found
