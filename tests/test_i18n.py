"""Citizen-facing text: dates as readers write them, every error in both languages."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

import queue_quota as qq
from queue_quota import errors, i18n
from queue_quota._messages import CATALOGUES
from queue_quota.errors import InvalidTransition
from queue_quota.i18n import describe
from queue_quota.models import Booking, BookingStatus

LANGS = ("id", "en")


@pytest.mark.parametrize(
    ("day", "lang", "expected"),
    [
        (date(2020, 6, 8), "id", "Senin, 8 Juni 2020"),
        (date(2020, 6, 4), "id", "Kamis, 4 Juni 2020"),
        (date(2020, 6, 5), "id", "Jumat, 5 Juni 2020"),
        (date(2020, 6, 8), "en", "Monday, 8 June 2020"),
        (date(2020, 12, 25), "id", "Jumat, 25 Desember 2020"),
        (date(2021, 8, 17), "id", "Selasa, 17 Agustus 2021"),
        (date(2024, 2, 29), "en", "Thursday, 29 February 2024"),
    ],
)
def test_format_date_golden(day: date, lang: str, expected: str) -> None:
    """format_date writes dates as Indonesian and English readers do."""
    assert i18n.format_date(day, lang) == expected


def test_indonesian_day_and_month_names() -> None:
    """Every weekday and month has its Indonesian name, independent of the OS locale."""
    week = [i18n.format_date(date(2020, 6, d), "id").split(",")[0] for d in range(8, 15)]
    assert week == ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
    months = [i18n.format_month(2020, m, "id").split()[0] for m in range(1, 13)]
    assert months == [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ]


def test_format_time() -> None:
    """Indonesian writes 07.30, English 07:30; seconds only when not zero."""
    assert i18n.format_time(time(7, 30), "id") == "07.30"
    assert i18n.format_time(time(12, 0), "en") == "12:00"
    assert i18n.format_time(time(7, 30, 15), "en") == "07:30:15"


@pytest.mark.parametrize(
    ("given", "code"), [("id", "id"), ("id_ID", "id"), ("in", "id"), ("EN-us", "en")]
)
def test_normalize_language(given: str, code: str) -> None:
    """Region variants and the old code for Indonesian are accepted."""
    assert i18n.normalize_language(given) == code


def test_unknown_language_is_a_configuration_error() -> None:
    """A language without a catalogue is refused, not silently replaced."""
    with pytest.raises(qq.ConfigurationError, match="language"):
        i18n.format_date(date(2020, 6, 8), "fr")


def test_catalogues_have_the_same_keys() -> None:
    """Every language has every message (no half-translated catalogue)."""
    assert set(CATALOGUES["id"]) == set(CATALOGUES["en"])


# -- describe ------------------------------------------------------------------------------

D1, D2, D3 = date(2020, 6, 4), date(2020, 6, 8), date(2020, 6, 5)


def _examples() -> list[tuple[errors.QueueQuotaError, tuple[date, ...]]]:
    """One instance of every error class, with the dates its message must mention."""
    return [
        (errors.QueueQuotaError("boom"), ()),
        (errors.RefusalError("no"), ()),
        (
            errors.QuotaExhausted(
                channel="online", day=D3, next_available=D2, alternatives={"walk_in": D1}
            ),
            (D3, D2, D1),
        ),
        (errors.DayClosed(day=D2, reason="weekend", next_available=D3), (D2, D3)),
        (
            errors.OutsideServiceHours(opens=time(7, 30), closes=time(12), next_available=D3),
            (D3,),
        ),
        (errors.OutsideBookingWindow(day=D1, earliest=D3, latest=D2), (D1, D3, D2)),
        (errors.AlreadyBooked(channel="online", limit=1), ()),
        (errors.BookingNotFound("x"), ()),
        (errors.InvalidTransition("x"), ()),
        (errors.InvalidTicket("x"), ()),
        (errors.ConfigurationError("tegal.toml: office.id: missing"), ()),
        (errors.UnknownChannel("no channel 'fax'"), ()),
        (errors.StorageError("disk I/O error"), ()),
    ]


def test_examples_cover_every_error_class() -> None:
    """The examples below include every error class that errors.py exports."""
    classes = {getattr(errors, name) for name in errors.__all__}
    assert {type(err) for err, _ in _examples()} == classes


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("err", "dates"), _examples(), ids=[type(e).__name__ for e, _ in _examples()]
)
def test_describe_every_error(
    err: errors.QueueQuotaError, dates: tuple[date, ...], lang: str
) -> None:
    """describe() gives a specific, non-empty text that mentions each date of the error."""
    text = i18n.describe(err, lang)
    assert text.strip()
    for d in dates:
        assert i18n.format_date(d, lang) in text
    if type(err) not in (errors.QueueQuotaError, errors.RefusalError):
        assert text != i18n.describe(errors.QueueQuotaError(), lang)


def test_walk_in_full_today_golden() -> None:
    """The walk-in refusal of the design reads as a counter clerk would say it."""
    err = errors.QuotaExhausted(
        channel="walk_in", day=D1, next_available=D2, alternatives={"online": D3}
    )
    assert i18n.describe(err, "id", today=D1) == (
        "Kuota hari ini sudah penuh. Silakan datang kembali pada Senin, 8 Juni 2020, "
        "atau daftar online untuk Jumat, 5 Juni 2020."
    )
    assert i18n.describe(err, "en", today=D1) == (
        "Today's quota is full. Please come back on Monday, 8 June 2020, "
        "or register online for Friday, 5 June 2020."
    )


def test_full_preferred_date_golden() -> None:
    """A full preferred date names the date and the next day with room."""
    err = errors.QuotaExhausted(channel="online", day=D3, next_available=D2)
    assert i18n.describe(err, "id", today=D1) == (
        "Kuota pendaftaran online untuk Jumat, 5 Juni 2020 sudah penuh. "
        "Silakan memilih Senin, 8 Juni 2020."
    )


def test_window_full_without_any_day() -> None:
    """A booking window full to the end says so, without inventing a date."""
    text = i18n.describe(errors.QuotaExhausted(channel="online"), "en")
    assert text == (
        "The online registration quota is full for the whole booking period. "
        "No other day is available yet."
    )


def test_outside_hours_today_and_closed_reason_translated() -> None:
    """Before opening: come back today at the opening time; "weekend" is translated."""
    early = errors.OutsideServiceHours(opens=time(7, 30), closes=time(12), next_available=D1)
    assert i18n.describe(early, "id", today=D1) == (
        "Nomor antrean walk-in hanya diberikan pukul 07.30–12.00. "
        "Silakan datang kembali hari ini mulai pukul 07.30."
    )
    closed = errors.DayClosed(day=date(2020, 6, 6), reason="weekend", next_available=D2)
    assert "(akhir pekan)" in i18n.describe(closed, "id")


def test_configuration_error_keeps_its_technical_message() -> None:
    """Operators see which file and key is wrong, in either language."""
    err = errors.ConfigurationError("tegal.toml: policy[1].capacity.weekdays.7: expected ...")
    for lang in LANGS:
        assert "policy[1].capacity.weekdays.7" in i18n.describe(err, lang)


def test_storage_error_hides_driver_details() -> None:
    """A citizen never reads a driver's message."""
    assert "disk" not in i18n.describe(errors.StorageError("disk I/O error"), "id")


def test_subclass_uses_its_ancestors_message() -> None:
    """An application's own refusal class is described by its nearest known ancestor."""

    class TooEarly(errors.DayClosed):
        """An application-specific refusal."""

    text = i18n.describe(TooEarly(day=D2, reason="renovasi"), "id")
    assert text == "Kantor tutup pada Senin, 8 Juni 2020 (renovasi)."


def test_describe_refuses_other_exceptions() -> None:
    """describe() is for queue_quota errors only."""
    with pytest.raises(TypeError):
        i18n.describe(ValueError("x"), "id")  # type: ignore[arg-type]


# -- tickets -------------------------------------------------------------------------------


def _booking(status: BookingStatus = BookingStatus.BOOKED) -> Booking:
    return Booking(
        id="P1XTYF822XG1B4JA",
        office_id="tegal-disdukcapil",
        channel="online",
        day=D3,
        number=7,
        label="A-007",
        status=status,
        citizen_ref="0123456789abcdef0123456789abcdef",
        created_at=datetime(2020, 6, 4, 2, tzinfo=UTC),
        ticket="P1XT-YF82-2XG1-B4JA.F1EG-GSCH-5CAY-66AP",
    )


def test_ticket_text() -> None:
    """The ticket shows number, service, day and code, aligned, and no citizen ref."""
    text = i18n.ticket_text(_booking(), "id")
    assert text.splitlines() == [
        "Nomor antrean : A-007",
        "Layanan       : pendaftaran online",
        "Hari layanan  : Jumat, 5 Juni 2020",
        "Tiket         : P1XT-YF82-2XG1-B4JA.F1EG-GSCH-5CAY-66AP",
    ]
    assert "0123456789abcdef" not in text


def test_ticket_text_in_english_with_id_and_status() -> None:
    """show_id adds the booking id; a status other than booked is shown."""
    text = i18n.ticket_text(_booking(BookingStatus.CHECKED_IN), "en", show_id=True)
    assert "Served on" in text
    assert "Friday, 5 June 2020" in text
    assert "Booking ID   : P1XTYF822XG1B4JA" in text
    assert "checked in" in text


@pytest.mark.parametrize(
    ("error", "lang", "expected"),
    [
        (InvalidTransition("x", reason="not_booked", status="cancelled"), "id", "sudah dibatalkan"),
        (InvalidTransition("x", reason="not_booked", status="checked_in"), "en", "checked in"),
        (
            InvalidTransition("x", reason="not_today", day=date(2020, 6, 8)),
            "id",
            "Tiket ini untuk Senin, 8 Juni 2020, bukan untuk hari ini.",
        ),
        (
            InvalidTransition("x", reason="past_day", day=date(2020, 6, 8)),
            "en",
            "The day of this booking (Monday, 8 June 2020) has passed.",
        ),
        (InvalidTransition("x"), "en", "cannot be processed"),
    ],
)
def test_invalid_transition_messages_say_why(
    error: InvalidTransition, lang: str, expected: str
) -> None:
    """A refused transition is explained by its reason, with the day written out."""
    assert expected in describe(error, lang)


def test_error_objects_describe_themselves() -> None:
    """Every error can give its citizen message itself, the same as i18n.describe."""
    err = qq.QuotaExhausted(
        channel="walk_in",
        day=date(2020, 6, 5),
        next_available=date(2020, 6, 8),
        alternatives={"online": date(2020, 6, 9)},
    )
    assert err.describe("id", today=date(2020, 6, 5)) == describe(err, "id", today=date(2020, 6, 5))
    assert "Senin, 8 Juni 2020" in err.describe()
    assert "Monday, 8 June 2020" in err.describe("en")
