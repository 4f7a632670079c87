"""The citizen-facing text of an event, in every language of `queue_quota.i18n`."""

from __future__ import annotations

from datetime import date, time

from ..events import Event
from ..i18n import format_date, format_window, reason_text, text
from ..office import Office

__all__ = ["LANGUAGES", "notification_text"]

#: The languages every notification carries.
LANGUAGES = ("id", "en")


def _window(event: Event, lang: str, tz: str) -> str:
    raw = event.data.get("window")
    if not raw:
        return ""
    start, end = (time.fromisoformat(t) for t in raw)
    return ", " + format_window((start, end), lang, tz=tz)


def notification_text(event: Event, office: Office) -> dict[str, str]:
    """``{"id": "Nomor antrean A-007 Anda: Senin, 8 Juni 2020, 08.00–08.30 WIB", "en":
    ...}`` for ``event`` (no personal data: only what the event carries)."""
    tz = office.calendar.tz_name
    out: dict[str, str] = {}
    data = event.data
    for lang in LANGUAGES:
        previous = data.get("previous_day")
        until = data.get("until")
        fields = {
            "label": data.get("label", ""),
            "day": "" if event.day is None else format_date(event.day, lang),
            "window": _window(event, lang, tz),
            "previous_label": data.get("previous_label", ""),
            "previous_day": format_date(date.fromisoformat(previous), lang) if previous else "",
            "reason": reason_text(str(data.get("reason", "")), lang),
            "position": data.get("position", ""),
            "until": format_date(date.fromisoformat(until), lang) if until else "",
        }
        out[lang] = text(f"notify.{event.kind}", lang, **fields)
    return out
