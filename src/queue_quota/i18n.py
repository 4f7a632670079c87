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

The catalogues are plain dictionaries keyed by error code or message key
(``queue_quota._messages``): nothing to compile, and nothing depends on the operating
system's locale. An error whose code has no entry of its own is described by its nearest
ancestor's entry. Every message is in one language only: an error's English ``message``
never appears in another language's text.

Channels are named by their policies' ``title`` when the office is given
(``describe(err, "id", office=office)``, ``ticket_text(booking, "id", office=office)``,
``channel_text("priority", "id", office=office)``), else by their built-in names.

Holiday names are not translated here: they come from the office's calendar, in the
language the calendar was built with.
"""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING, Final

from ._messages import CATALOGUES, DAY_NAMES, LANGUAGES, MONTH_NAMES
from .errors import ConfigurationError, QueueQuotaError
from .models import Booking, BookingStatus

if TYPE_CHECKING:
    from .office import Office

__all__ = [
    "LANGUAGES",
    "channel_text",
    "channel_title",
    "describe",
    "format_date",
    "format_month",
    "format_time",
    "format_window",
    "normalize_language",
    "reason_text",
    "text",
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
    raise ConfigurationError(
        f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}",
        message_key="configuration_error.language",
        lang=repr(lang),
        languages=LANGUAGES,
    )


def text(key: str, lang: str = "id", /, **fields: object) -> str:
    """The catalogue's phrase ``key`` in ``lang``, with its fields filled in.

    Counts choose their plural form (``text("cli.closed.moved", "en", count=1)`` gives
    ``"1 booking moved. ..."``).

    Raises:
        ConfigurationError: An unknown language.
        KeyError: No such phrase, or a field missing.
    """
    return CATALOGUES[normalize_language(lang)][key].format(**fields)


def _text(lang: str, key: str, /, **fields: object) -> str:
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
        raise ConfigurationError(
            f"expected a date, got {d!r}", message_key="configuration_error.not_a_date"
        )
    return f"{DAY_NAMES[code][d.weekday()]}, {d.day} {MONTH_NAMES[code][d.month - 1]} {d.year}"


def format_month(year: int, month: int, lang: str = "id") -> str:
    """A month and year: ``"Desember 2020"``, ``"December 2020"``.

    Raises:
        ConfigurationError: ``month`` outside 1..12, or an unknown language.
    """
    code = normalize_language(lang)
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise ConfigurationError(
            f"month must be 1..12, got {month!r}",
            message_key="configuration_error.month",
            month=repr(month),
        )
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
    out = f"{t.hour:02d}{sep}{t.minute:02d}"
    return f"{out}{sep}{t.second:02d}" if t.second else out


_ZONE_NAMES: Final = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
                      "Asia/Jayapura": "WIT"}  # fmt: skip


def format_window(window: tuple[time, time], lang: str = "id", *, tz: str | None = None) -> str:
    """An arrival window: ``"08.00–08.30 WIB"`` in Indonesian, ``"08:00–08:30 WIB"`` in
    English; the zone's Indonesian abbreviation (WIB, WITA, WIT) when ``tz`` is one."""
    start, end = window
    text = f"{format_time(start, lang)}–{format_time(end, lang)}"
    zone = _ZONE_NAMES.get(tz or "")
    return f"{text} {zone}" if zone else text


def reason_text(reason: str, lang: str = "id") -> str:
    """Why a day is closed, for readers: ``"weekend"`` becomes ``"akhir pekan"``.

    Closure reasons and holiday names are shown as they are.
    """
    code = normalize_language(lang)
    return CATALOGUES[code].get(f"reason.{reason}", reason)


def channel_text(channel: str | None, lang: str = "id", *, office: Office | None = None) -> str:
    """A channel's name for readers: ``"online"`` becomes ``"pendaftaran online"``.

    With ``office``, a channel whose policy has a ``title`` is named by it (see
    `channel_title`). Channels without a title or an entry in the catalogue are shown by
    their name.
    """
    code = normalize_language(lang)
    if not channel:
        return ""
    if office is not None:
        for policy in office.policies:
            if policy.channel == channel:
                return channel_title(policy, code)
    return CATALOGUES[code].get(f"channel.{channel}", channel)


def channel_title(policy: object, lang: str = "id") -> str:
    """A policy's channel name for readers: its ``title`` in ``lang`` if it has one
    (``OnlineQuota(..., title={"id": "Prioritas", "en": "Priority"})``), else
    `channel_text` of its channel.
    """
    code = normalize_language(lang)
    title = getattr(policy, "title", None)
    if isinstance(title, dict):
        found = title.get(code) or title.get("*")
        if found:
            return str(found)
    return channel_text(getattr(policy, "channel", None), code)


def describe(
    error: QueueQuotaError,
    lang: str = "id",
    *,
    today: date | None = None,
    office: Office | None = None,
) -> str:
    """The message a citizen should read for ``error``, wholly in ``lang``.

    Refusals say what to do next, with every date the error carries written out
    (``"Senin, 8 Juni 2020"``). An error that carries a message key
    (``details["message_key"]``, see [Errors](errors.md)) is written from that key and
    its fields; any other is described by its class. A message never mixes languages:
    the technical English text of a configuration error is shown in English only (in
    Indonesian a translated summary says that the details are in English, with the file
    and key of an office-file mistake). Storage errors never show driver details.

    Args:
        error: Any `QueueQuotaError`; an error of a class unknown to the catalogue is
            described by its nearest ancestor's entry.
        lang: ``"id"`` (default) or ``"en"``.
        today: The office's local date, if known: a refusal about today then says
            "today" (``"Kuota hari ini sudah penuh."``) instead of the date.
        office: The `Office` the error comes from, if known: channels are then named by
            their policies' ``title`` (``"Prioritas"``) instead of their built-in names.

    Raises:
        ConfigurationError: An unknown language.
        TypeError: ``error`` is not a `QueueQuotaError`.
    """
    code = normalize_language(lang)
    if not isinstance(error, QueueQuotaError):
        raise TypeError(f"describe() needs a QueueQuotaError, got {type(error).__name__}")
    from ._describe import render  # the renderers use the formatters above

    return render(error, code, today, office)


def ticket_text(
    booking: Booking, lang: str = "id", *, show_id: bool = False, office: Office | None = None
) -> str:
    """What is printed for the citizen: queue number, service, day and ticket.

    Never contains personal data (a booking holds none). With ``show_id``, the booking id
    is added (what ``queue-quota cancel`` takes); a status other than booked is shown.
    With ``office``, the service is named by its policy's ``title``. Lines are aligned::

        Nomor antrean : A-001
        Layanan       : pendaftaran online
        Hari layanan  : Jumat, 5 Juni 2020
        Tiket         : 7K3M-2QXR-9D0A-HV5T.E4W1-8NBC-Q6Z
    """
    code = normalize_language(lang)
    rows = [
        (_text(code, "ticket.label"), booking.label),
        (_text(code, "ticket.channel"), channel_text(booking.channel, code, office=office)),
        (_text(code, "ticket.day"), format_date(booking.day, code)),
    ]
    if booking.window is not None:
        tz = None if office is None else office.calendar.tz_name
        rows.append((_text(code, "ticket.window"), format_window(booking.window, code, tz=tz)))
    if booking.places > 1:
        rows.append((_text(code, "ticket.places"), str(booking.places)))
    rows.append((_text(code, "ticket.ticket"), booking.ticket))
    if show_id:
        rows.append((_text(code, "ticket.id"), booking.id))
    if booking.status is not BookingStatus.BOOKED:
        status = CATALOGUES[code].get(f"status.{booking.status.value}", booking.status.value)
        rows.append((_text(code, "ticket.status"), status))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}} : {value}" for name, value in rows)
