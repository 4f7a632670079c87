"""Output formatting of the command line: tables, tickets, records for JSON and CSV.

Channels are shown by their title in the run's language (`queue_quota.i18n.channel_title`),
never by their raw key, except in JSON and CSV, which are for programs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, time
from typing import Any, Final

from .. import i18n
from ..calendar import WEEKEND, WorkingCalendar
from ..models import Booking
from ..office import Office
from ._text import render

__all__ = [
    "MANIFEST_FIELDS",
    "channel_name",
    "closed_reason",
    "counter_name",
    "format_date",
    "moved_line",
    "record",
    "table",
    "ticket",
]

#: The fields of a booking in ``manifest --json`` and ``--csv``, in order.
MANIFEST_FIELDS: Final = (
    "id",
    "channel",
    "day",
    "number",
    "label",
    "status",
    "ticket",
    "created_at",
    "places",
    "window_start",
    "window_end",
)


def format_window(window: tuple[time, time], lang: str, *, tz: str | None = None) -> str:
    """An arrival window as readers write it: ``"08.00–08.30 WIB"``."""
    return i18n.format_window(window, lang, tz=tz)


def format_date(d: date, lang: str) -> str:
    """``"Senin, 8 Juni 2020"``."""
    return i18n.format_date(d, lang)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> str:
    """An aligned text table: a header, a rule, the rows (columns in ``right`` right-aligned)."""
    body = [list(r) for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    right_cols = set(right)

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right_cols else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, body)])


def channel_name(office: Office, channel: str | None, lang: str) -> str:
    """The channel's title in ``lang`` (its key's usual name if the office lacks it)."""
    return i18n.channel_text(channel, lang, office=office)


def counter_name(office: Office, counter: str, lang: str) -> str:
    """A counter as readers name it: ``"c:online"`` is the channel's title,
    ``"s:online@08:00"`` "pendaftaran online, sesi 08.00", ``"p:loket"`` "kuota bersama
    loket" (any other name as it is)."""
    kind, name = counter[:2], counter[2:]
    if kind == "c:":
        return channel_name(office, name, lang)
    if kind == "s:":
        channel, _, start = name.partition("@")
        try:
            at = i18n.format_time(time.fromisoformat(start), lang)
        except ValueError:
            at = start
        return render(lang, "counter.session", channel=channel_name(office, channel, lang), at=at)
    if kind == "p:":
        return render(lang, "counter.pool", name=name)
    return counter


def closed_reason(calendar: WorkingCalendar, day: date, reason: str, lang: str) -> str:
    """Why a day is closed, in ``lang``: "akhir pekan", a holiday's name in that language
    when the calendar can name it so (`WorkingCalendar.holiday_name`), or the reason given
    by whoever closed the day, as written."""
    if reason in (WEEKEND, "no capacity"):
        return i18n.reason_text(reason, lang)
    own = calendar.holiday_name(day)
    if own is None or reason != own:
        return reason
    return calendar.holiday_name(day, lang) or reason


def ticket(office: Office, booking: Booking, lang: str) -> str:
    """What the citizen is given, with the booking id (what ``cancel`` takes)."""
    return i18n.ticket_text(booking, lang, show_id=True, office=office)


def moved_line(booking: Booking, lang: str) -> str | None:
    """``"Nomor lama A-007, Selasa, ... -> nomor baru A-003, Kamis, ..."``, or ``None``
    for a booking that was not just moved."""
    label, day = booking.previous_label, booking.previous_day
    if label is None or day is None:
        return None
    return render(
        lang,
        "moved",
        old_label=label,
        old_day=format_date(day, lang),
        new_label=booking.label,
        new_day=format_date(booking.day, lang),
    )


def record(booking: Booking) -> dict[str, Any]:
    """A booking for JSON and CSV: `MANIFEST_FIELDS` only (no citizen ref, no key)."""
    return {
        "id": booking.id,
        "channel": booking.channel,
        "day": booking.day.isoformat(),
        "number": booking.number,
        "label": booking.label,
        "status": booking.status.value,
        "ticket": booking.ticket,
        "created_at": booking.created_at.astimezone(UTC).isoformat(),
        "places": booking.places,
        "window_start": None if booking.window is None else f"{booking.window[0]:%H:%M}",
        "window_end": None if booking.window is None else f"{booking.window[1]:%H:%M}",
    }
