"""Citizen-facing text in Indonesian (``"id"``, the default) and English (``"en"``).

`describe` turns any `QueueQuotaError` into the sentence a citizen should read, with dates
as readers write them::

    >>> from datetime import date
    >>> from queue_quota.errors import QuotaExhausted
    >>> err = QuotaExhausted(channel="walk_in", day=date(2020, 6, 5),
    ...                      next_available=date(2020, 6, 8))
    >>> describe(err, "id", today=date(2020, 6, 5))
    'Kuota hari ini sudah penuh. Silakan datang kembali pada Senin, 8 Juni 2020.'
    >>> format_date(date(2020, 6, 8), "en")
    'Monday, 8 June 2020'

The catalogues are plain dictionaries keyed by error code (``queue_quota._messages``):
nothing to compile, and nothing depends on the operating system's locale. An error whose
code has no entry of its own is described by its nearest ancestor's entry.

Holiday names are not translated here: they come from the office's calendar, in the
language the calendar was built with.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Final

from ._messages import CATALOGUES, DAY_NAMES, LANGUAGES, MONTH_NAMES
from .errors import (
    AlreadyBooked,
    ConfigurationError,
    DayClosed,
    InvalidTransition,
    OutsideBookingWindow,
    OutsideServiceHours,
    QueueQuotaError,
    QuotaExhausted,
)
from .models import Booking, BookingStatus

__all__ = [
    "LANGUAGES",
    "channel_text",
    "channel_title",
    "describe",
    "format_date",
    "format_month",
    "format_time",
    "normalize_language",
    "reason_text",
    "ticket_text",
]

_ALIASES: Final = {"in": "id", "ind": "id", "eng": "en"}


def normalize_language(lang: str) -> str:
    """The catalogue code for ``lang``: ``"id"`` or ``"en"``.

    Accepts region variants and the old code for Indonesian (``"id_ID"``, ``"en-US"``,
    ``"in"``), in any case.

    Raises:
        ConfigurationError: No catalogue for that language.
    """
    if isinstance(lang, str):
        code = lang.strip().lower().replace("-", "_").split("_")[0]
        code = _ALIASES.get(code, code)
        if code in CATALOGUES:
            return code
    raise ConfigurationError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")


def _text(lang: str, key: str, **fields: object) -> str:
    return CATALOGUES[lang][key].format(**fields)


def format_date(d: date, lang: str = "id") -> str:
    """A day as its readers write it: ``"Senin, 8 Juni 2020"``, ``"Monday, 8 June 2020"``.

    Args:
        d: The day (a ``datetime`` is read as its date).
        lang: ``"id"`` or ``"en"``.

    Raises:
        ConfigurationError: ``d`` is not a date, or an unknown language.
    """
    code = normalize_language(lang)
    if not isinstance(d, date):
        raise ConfigurationError(f"expected a date, got {d!r}")
    return f"{DAY_NAMES[code][d.weekday()]}, {d.day} {MONTH_NAMES[code][d.month - 1]} {d.year}"


def format_month(year: int, month: int, lang: str = "id") -> str:
    """A month and year: ``"Desember 2020"``, ``"December 2020"``.

    Raises:
        ConfigurationError: ``month`` outside 1..12, or an unknown language.
    """
    code = normalize_language(lang)
    if not 1 <= month <= 12:
        raise ConfigurationError(f"month must be 1..12, got {month!r}")
    return f"{MONTH_NAMES[code][month - 1]} {year}"


def format_time(t: object, lang: str = "id") -> str:
    """A local time of day: ``"07.30"`` in Indonesian, ``"07:30"`` in English.

    Seconds are shown only when they are not zero. Anything but a ``datetime.time`` is
    shown as ``str(t)``.
    """
    code = normalize_language(lang)
    if not isinstance(t, time):
        return str(t)
    sep = "." if code == "id" else ":"
    text = f"{t.hour:02d}{sep}{t.minute:02d}"
    return f"{text}{sep}{t.second:02d}" if t.second else text


def reason_text(reason: str, lang: str = "id") -> str:
    """Why a day is closed, for readers: ``"weekend"`` becomes ``"akhir pekan"``.

    Closure reasons and holiday names are shown as they are.
    """
    code = normalize_language(lang)
    return CATALOGUES[code].get(f"reason.{reason}", reason)


def channel_text(channel: str | None, lang: str = "id") -> str:
    """A channel's name for readers: ``"online"`` becomes ``"pendaftaran online"``.

    Channels without an entry in the catalogue are shown by their name.
    """
    code = normalize_language(lang)
    if not channel:
        return ""
    return CATALOGUES[code].get(f"channel.{channel}", channel)


def channel_title(policy: object, lang: str = "id") -> str:
    """A policy's channel name for readers: its ``title`` in ``lang`` if it has one
    (``OnlineQuota(..., title={"id": "Prioritas", "en": "Priority"})``), else
    `channel_text` of its channel.
    """
    code = normalize_language(lang)
    title = getattr(policy, "title", None)
    if isinstance(title, dict):
        text = title.get(code) or title.get("*")
        if text:
            return str(text)
    return channel_text(getattr(policy, "channel", None), code)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _options(lang: str, options: list[str]) -> str:
    if len(options) <= 1:
        return "".join(options)
    return f"{', '.join(options[:-1])}, {_text(lang, 'or')} {options[-1]}"


def _alternative(lang: str, channel: str, day: date) -> str:
    when = format_date(day, lang)
    key = f"alternative.{channel}"
    if key in CATALOGUES[lang]:
        return _text(lang, key, day=when)
    return _text(lang, "alternative.other", channel=channel, day=when)


def _quota_exhausted(err: QueueQuotaError, lang: str, today: date | None) -> str:
    assert isinstance(err, QuotaExhausted)
    channel = channel_text(err.channel, lang)
    same_day = err.day is not None and err.day == today
    if same_day:
        head = _text(lang, "quota_exhausted.today")
    elif err.day is not None:
        head = _text(lang, "quota_exhausted.day", channel=channel, day=format_date(err.day, lang))
    else:
        head = _text(lang, "quota_exhausted.window", channel=channel)
    options: list[str] = []
    if err.next_available is not None:
        key = "quota_exhausted.come_back" if same_day else "quota_exhausted.other_day"
        options.append(_text(lang, key, day=format_date(err.next_available, lang)))
    for other, day in sorted(err.alternatives.items(), key=lambda item: (item[1], item[0])):
        options.append(_alternative(lang, other, day))
    if options:
        tail = _text(lang, "suggest", options=_options(lang, options))
    else:
        tail = _text(lang, "quota_exhausted.none")
    return _squash(f"{head} {tail}")


def _day_closed(err: QueueQuotaError, lang: str, today: date | None) -> str:
    assert isinstance(err, DayClosed)
    if err.day is None:
        head = _text(lang, "day_closed.no_day")
    elif err.reason:
        head = _text(
            lang, "day_closed", day=format_date(err.day, lang), reason=reason_text(err.reason, lang)
        )
    else:
        head = _text(lang, "day_closed.no_reason", day=format_date(err.day, lang))
    if err.next_available is None:
        return head
    return f"{head} {_text(lang, 'day_closed.next', day=format_date(err.next_available, lang))}"


def _outside_service_hours(err: QueueQuotaError, lang: str, today: date | None) -> str:
    assert isinstance(err, OutsideServiceHours)
    opens = format_time(err.opens, lang)
    head = _text(
        lang,
        "outside_service_hours",
        channel=channel_text(err.channel or "walk_in", lang),
        opens=opens,
        closes=format_time(err.closes, lang),
    )
    head = head[0].upper() + head[1:]
    nxt = err.next_available
    if nxt is None:
        return head
    if nxt == today:
        return f"{head} {_text(lang, 'outside_service_hours.today', opens=opens)}"
    tail = _text(lang, "outside_service_hours.next", day=format_date(nxt, lang), opens=opens)
    return f"{head} {tail}"


def _outside_booking_window(err: QueueQuotaError, lang: str, today: date | None) -> str:
    assert isinstance(err, OutsideBookingWindow)
    if err.day is None:
        head = _text(lang, "outside_booking_window.no_day")
    else:
        head = _text(lang, "outside_booking_window", day=format_date(err.day, lang))
    if err.earliest is None or err.latest is None:
        return head
    tail = _text(
        lang,
        "outside_booking_window.range",
        earliest=format_date(err.earliest, lang),
        latest=format_date(err.latest, lang),
    )
    return f"{head} {tail}"


def _already_booked(err: QueueQuotaError, lang: str, today: date | None) -> str:
    assert isinstance(err, AlreadyBooked)
    return _squash(
        _text(lang, "already_booked", limit=err.limit, channel=channel_text(err.channel, lang))
    )


def _invalid_transition(err: QueueQuotaError, lang: str, today: date | None) -> str:
    assert isinstance(err, InvalidTransition)
    key: str | None = None
    if err.reason == "not_booked" and err.status in ("cancelled", "checked_in", "no_show"):
        key = f"invalid_transition.{err.status}"
    elif err.reason in ("not_today", "past_day", "same_day") and err.day is not None:
        key = f"invalid_transition.{err.reason}"
    if key is None:
        return _text(lang, "invalid_transition")
    day = None if err.day is None else format_date(err.day, lang)
    return _text(lang, key, day=day)


def _with_message(code: str) -> Callable[[QueueQuotaError, str, date | None], str]:
    def render(err: QueueQuotaError, lang: str, today: date | None) -> str:
        return _text(lang, code, message=err.message)

    return render


def _plain(code: str) -> Callable[[QueueQuotaError, str, date | None], str]:
    def render(err: QueueQuotaError, lang: str, today: date | None) -> str:
        return _text(lang, code)

    return render


_RENDERERS: Final[dict[str, Callable[[QueueQuotaError, str, date | None], str]]] = {
    "queue_quota_error": _plain("queue_quota_error"),
    "refused": _plain("refused"),
    "quota_exhausted": _quota_exhausted,
    "day_closed": _day_closed,
    "outside_service_hours": _outside_service_hours,
    "outside_booking_window": _outside_booking_window,
    "already_booked": _already_booked,
    "booking_not_found": _plain("booking_not_found"),
    "invalid_transition": _invalid_transition,
    "invalid_ticket": _plain("invalid_ticket"),
    "configuration_error": _with_message("configuration_error"),
    "unknown_channel": _with_message("unknown_channel"),
    "storage_error": _plain("storage_error"),
}


def describe(error: QueueQuotaError, lang: str = "id", *, today: date | None = None) -> str:
    """The message a citizen should read for ``error``, in ``lang``.

    Refusals say what to do next, with every date the error carries written out
    (``"Senin, 8 Juni 2020"``). Configuration errors keep their technical message (they
    are read by operators); storage errors never show driver details.

    Args:
        error: Any `QueueQuotaError`; an error of a class unknown to the catalogue is
            described by its nearest ancestor's entry.
        lang: ``"id"`` (default) or ``"en"``.
        today: The office's local date, if known: a refusal about today then says
            "today" (``"Kuota hari ini sudah penuh."``) instead of the date.

    Raises:
        ConfigurationError: An unknown language.
        TypeError: ``error`` is not a `QueueQuotaError`.
    """
    code = normalize_language(lang)
    if not isinstance(error, QueueQuotaError):
        raise TypeError(f"describe() needs a QueueQuotaError, got {type(error).__name__}")
    for cls in type(error).__mro__:
        if isinstance(cls, type) and issubclass(cls, QueueQuotaError):
            renderer = _RENDERERS.get(cls.code)
            if renderer is not None:
                return renderer(error, code, today)
    return _text(code, "queue_quota_error")  # pragma: no cover - the root is always found


def ticket_text(booking: Booking, lang: str = "id", *, show_id: bool = False) -> str:
    """What is printed for the citizen: queue number, service, day and ticket.

    Never contains personal data (a booking holds none). With ``show_id``, the booking id
    is added (what ``queue-quota cancel`` takes); a status other than booked is shown.
    Lines are aligned::

        Nomor antrean : A-001
        Layanan       : pendaftaran online
        Hari layanan  : Jumat, 5 Juni 2020
        Tiket         : 7K3M-2QXR-9D0A-HV5T.E4W1-8NBC-Q6Z
    """
    code = normalize_language(lang)
    rows = [
        (_text(code, "ticket.label"), booking.label),
        (_text(code, "ticket.channel"), channel_text(booking.channel, code)),
        (_text(code, "ticket.day"), format_date(booking.day, code)),
        (_text(code, "ticket.ticket"), booking.ticket),
    ]
    if show_id:
        rows.append((_text(code, "ticket.id"), booking.id))
    if booking.status is not BookingStatus.BOOKED:
        status = CATALOGUES[code].get(f"status.{booking.status.value}", booking.status.value)
        rows.append((_text(code, "ticket.status"), status))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}} : {value}" for name, value in rows)
