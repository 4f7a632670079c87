"""Citizen-facing text: dates as readers write them, every error in both languages."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import string
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import attrs
import pytest

import queue_quota
import queue_quota as qq
from queue_quota import errors, i18n
from queue_quota._messages import CATALOGUES, DAY_NAMES, MONTH_NAMES, template_fields
from queue_quota.config import OfficeFileError
from queue_quota.errors import InvalidTransition
from queue_quota.i18n import describe
from queue_quota.models import Booking, BookingStatus
from queue_quota.policies import OnlineQuota, WalkInQuota

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
        (errors.IdempotencyConflict(channel="online"), ()),
        (errors.NotEligible(channel="online", claim="group"), ()),
        (errors.AlreadyBooked(channel=None, limit=2), ()),
        (errors.Suspended(channel="online", until=D2), (D2,)),
        (errors.BookingNotFound("x"), ()),
        (errors.InvalidTransition("x"), ()),
        (errors.InvalidTicket("x"), ()),
        (errors.ConfigurationError("tegal.toml: office.id: missing"), ()),
        (errors.UnknownChannel("no channel 'fax'"), ()),
        (errors.SecretMismatch("the storage was made with another secret"), ()),
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


def test_configuration_error_keeps_its_technical_message_in_english_only() -> None:
    """Operators see which file and key is wrong in either language; the English reason
    only in English (Indonesian says the details are in English)."""
    err = OfficeFileError("tegal.toml", "policy[1].capacity.weekdays.7", "expected a weekday")
    for lang in LANGS:
        assert "tegal.toml: policy[1].capacity.weekdays.7" in i18n.describe(err, lang)
    assert "expected a weekday" in i18n.describe(err, "en")
    assert i18n.describe(err, "id") == (
        "Konfigurasi tidak valid: tegal.toml: policy[1].capacity.weekdays.7: nilai ini tidak "
        "dapat dipakai (rincian teknis hanya tersedia dalam bahasa Inggris)."
    )


def test_past_day_closure_has_no_english_fragment_in_indonesian() -> None:
    """Issue 8 item 12: the Indonesian text of a configuration error is Indonesian only."""
    plain = errors.ConfigurationError("cannot close a past day (2020-06-03; today is 2020-06-04)")
    text = i18n.describe(plain, "id")
    assert "cannot" not in text
    assert "past day" not in text
    assert text == (
        "Konfigurasi atau masukan tidak valid (rincian teknis hanya tersedia dalam bahasa Inggris)."
    )
    assert "cannot close a past day" in i18n.describe(plain, "en")
    keyed = errors.ConfigurationError(
        "cannot close a past day (2020-06-03; today is 2020-06-04)",
        message_key="configuration_error.past_day",
        day=date(2020, 6, 3),
        today=date(2020, 6, 4),
    )
    assert i18n.describe(keyed, "id") == (
        "Hari yang sudah lewat tidak dapat ditutup (Rabu, 3 Juni 2020; hari ini Kamis, "
        "4 Juni 2020)."
    )
    assert i18n.describe(keyed, "en") == (
        "A past day cannot be closed (Wednesday, 3 June 2020; today is Thursday, 4 June 2020)."
    )


def test_closing_a_past_day_is_described_in_indonesian_only(office: qq.Office) -> None:
    """The real error of close_day, whatever its details: no English word in Indonesian."""
    sched = qq.Scheduler(office)
    with pytest.raises(qq.ConfigurationError) as info:
        sched.close_day(date(2020, 6, 3), "banjir", now=datetime(2020, 6, 4, 2, tzinfo=UTC))
    text = i18n.describe(info.value, "id")
    assert not _words(text) & (ENGLISH_ONLY | _words(info.value.message)) - INDONESIAN


def test_a_message_key_missing_a_field_falls_back_to_the_class() -> None:
    """A message key whose template needs a detail the error lacks is not half-filled."""
    err = errors.ConfigurationError("x", message_key="configuration_error.past_day")
    assert i18n.describe(err, "id") == i18n.describe(errors.ConfigurationError("x"), "id")


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


# -- one language per message (issue 8, item 12) ------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")

#: Common English words of error messages, whether or not the catalogue uses them.
_COMMON_ENGLISH_TEXT = """a an the is are was were be been has have had not no cannot can
    must may should of for to from with without at on in by or and but than then this that
    these those it its expected got missing unknown invalid already past day days place
    places closed full booking bookings ticket please only today tomorrow between after
    before need needs error file key value number numbers empty wrong data"""
COMMON_ENGLISH = frozenset(_COMMON_ENGLISH_TEXT.split())

#: Words both catalogues use on purpose: words Indonesian has taken as they are (KBBI:
#: "status", "valid", "data"; "online" and "walk-in" as the office's services are called),
#: month names written alike, and "ID".
SHARED_WORDS = frozenset(
    {"online", "walk-in", "status", "valid", "data", "id", "april", "september", "november"}
)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _literal_words(lang: str) -> set[str]:
    """Every word of a language's catalogue, outside the {fields} (plural forms count)."""
    out: set[str] = set()
    for template in CATALOGUES[lang].values():
        for literal, _, spec, _ in string.Formatter().parse(template):
            out |= _words(literal) | _words(spec or "")
    for names in (DAY_NAMES[lang], MONTH_NAMES[lang]):
        out |= _words(" ".join(names))
    return out


INDONESIAN = frozenset(_literal_words("id"))
#: Names of formats, the same in every language.
NAMES = frozenset({"toml", "utf", "transactionalstorage"})  # code names, as typed
ENGLISH = frozenset(_literal_words("en") | COMMON_ENGLISH | NAMES)
ENGLISH_ONLY = ENGLISH - INDONESIAN
INDONESIAN_ONLY = INDONESIAN - ENGLISH


def test_the_catalogues_share_only_the_known_loanwords() -> None:
    """No English word is in the Indonesian catalogue and no Indonesian word in the English
    one, except the few both languages write alike."""
    assert INDONESIAN & ENGLISH == SHARED_WORDS | NAMES


def _check_one_language(
    text: str, lang: str, *, also_english: Iterable[str] = (), err: Any = None
) -> None:
    """``text`` (in ``lang``) has no word of the other language.

    The identifiers an error carries (a file, a key path, a channel key) are shown as
    typed, and are not words of either language.
    """
    if err is not None:
        for name in sorted((v for v in err.details.values() if isinstance(v, str)), key=len)[::-1]:
            text = text.replace(name, " ")
    if lang == "id":
        leaked = _words(text) & (ENGLISH_ONLY | (set(also_english) - INDONESIAN))
    else:
        leaked = _words(text) & INDONESIAN_ONLY
    assert not leaked, f"{lang} text {text!r} has words of the other language: {leaked}"


_NUMBER_FIELDS = frozenset(
    {"count", "limit", "max_days", "min_bytes", "max_length", "minimum", "line", "column"}
)
_DATE_FIELDS = frozenset({"day", "today", "earliest", "latest", "start", "end"})


def _sample(name: str, lang: str, number: int) -> object:
    """A value for a template field, as the code that fills it would write it."""
    if name in _NUMBER_FIELDS:
        return number
    if name in _DATE_FIELDS:
        return i18n.format_date(D2, lang)
    if name in ("opens", "closes"):
        return i18n.format_time(time(7, 30), lang)
    if name == "channel":
        return i18n.channel_text("walk_in", lang)
    if name == "month":
        return i18n.format_month(2020, 6, lang)
    if name == "reason":
        return i18n.reason_text("weekend", lang)
    return "42"  # identifiers, values as typed, the English message: no words


@pytest.mark.parametrize("number", [1, 3])
@pytest.mark.parametrize("key", sorted(CATALOGUES["id"]))
def test_every_catalogue_phrase_is_in_one_language(key: str, number: int) -> None:
    """Each phrase, filled in as the code fills it, has no word of the other language."""
    for lang in LANGS:
        template = CATALOGUES[lang][key]
        fields = {name: _sample(name, lang, number) for name, _ in template_fields(template)}
        _check_one_language(template.format(**fields), lang)


def _error_classes() -> set[type[errors.QueueQuotaError]]:
    """Every error class of the package, including those defined outside errors.py."""
    for info in pkgutil.walk_packages(queue_quota.__path__, "queue_quota."):
        importlib.import_module(info.name)
    found: set[type[errors.QueueQuotaError]] = set()
    todo: list[type[errors.QueueQuotaError]] = [errors.QueueQuotaError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("queue_quota") and cls not in found:
            found.add(cls)
            todo.extend(cls.__subclasses__())
    return found


ENGLISH_MESSAGE = "cannot close a past day because the office is closed"


def _instance(cls: type[errors.QueueQuotaError], *args: Any, **kwargs: Any) -> Any:
    """An instance of ``cls``; a class whose constructor takes no message (one that makes
    its own from a key of its own) gets the message as a plain `QueueQuotaError` would."""
    if issubclass(cls, OfficeFileError) and len(args) < 3:
        args = ("tegal.toml", "policy[0].capacity", *args)
    try:
        return cls(*args, **kwargs)
    except (TypeError, KeyError):
        err = cls.__new__(cls)
        errors.QueueQuotaError.__init__(err, *args[:1], **kwargs)
        return err


def test_every_error_class_is_found() -> None:
    """The walk below sees the classes of errors.py and those of other modules."""
    classes = _error_classes()
    assert {getattr(errors, name) for name in errors.__all__} <= classes
    assert OfficeFileError in classes


ERROR_CLASSES = sorted(_error_classes(), key=lambda c: c.__qualname__)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=[c.__qualname__ for c in ERROR_CLASSES])
def test_every_error_class_describes_itself_in_one_language(
    cls: type[errors.QueueQuotaError],
) -> None:
    """An error of any class, with an English message, reads in Indonesian without one
    English word (the message is not shown), and in English without Indonesian."""
    err = _instance(cls, ENGLISH_MESSAGE)
    indonesian = i18n.describe(err, "id")
    assert ENGLISH_MESSAGE not in indonesian
    _check_one_language(indonesian, "id", also_english=_words(ENGLISH_MESSAGE), err=err)
    _check_one_language(i18n.describe(err, "en"), "en", err=err)


# Every place in the package that makes an error: its class, message and details, as
# written in the source. Details that are not literals get a value by their name.
_SAMPLE_DETAILS: dict[str, object] = {
    "day": D2,
    "until": D3,
    "today": D1,
    "earliest": D3,
    "latest": D2,
    "start": D1,
    "end": D2,
    "next_available": D2,
    "opens": time(7, 30),
    "closes": time(12),
    "channel": "walk_in",
    "channels": ("online", "walk_in"),
    "alternatives": {"online": D3},
    "limit": 2,
    "minimum": 0,
}
SRC = Path(queue_quota.__file__).parent


def _literal(node: ast.expr | None) -> tuple[object, str]:
    """A value for an argument, and its English words if it is a (formatted) string."""
    if isinstance(node, ast.Constant):
        return node.value, node.value if isinstance(node.value, str) else ""
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else "0" for v in node.values]
        return "".join(str(p) for p in parts), "".join(str(p) for p in parts)
    return "0", ""


def _error_sites() -> list[tuple[str, Any, str]]:
    """(where, the error, its English text) for every error made in the package."""
    classes = {cls.__name__: cls for cls in _error_classes()}
    sites: list[tuple[str, Any, str]] = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            # config.py reports office-file mistakes with _Reader.fail(key, reason, ...)
            is_fail = (
                path.name == "config.py" and isinstance(func, ast.Attribute) and func.attr == "fail"
            )
            if is_fail:
                cls: type[errors.QueueQuotaError] = OfficeFileError
            elif isinstance(func, ast.Name) and func.id in classes:
                cls = classes[func.id]
            else:
                continue
            values = [_literal(arg) for arg in node.args if not isinstance(arg, ast.Starred)]
            kwargs: dict[str, object] = {}
            english = " ".join(words for _, words in values)
            for kw in node.keywords:
                if kw.arg is None:
                    continue
                value, words = _literal(kw.value)
                if kw.arg == "message_key" and not isinstance(kw.value, ast.Constant):
                    continue  # a key passed on (OfficeFileError's own constructor)
                if not isinstance(kw.value, ast.Constant):
                    value = _SAMPLE_DETAILS.get(kw.arg, value)
                kwargs[kw.arg] = value
                english += f" {words}" if kw.arg not in ("message_key", "reason") else ""
            args = [value for value, _ in values]
            if is_fail:
                if len(args) > 2 and isinstance(args[2], str):
                    kwargs["message_key"] = f"office_file.{args[2]}"
                args = ["tegal.toml", *args[:2]]
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            sites.append((where, _instance(cls, *args, **kwargs), english))
    return sites


def test_the_package_makes_errors_in_many_places() -> None:
    """The walk finds the errors of every layer (a guard against a walk that finds none)."""
    places = {where.split(":")[0] for where, _, _ in _error_sites()}
    assert {"scheduler.py", "config.py", "office.py", "calendar.py", "tickets.py"} <= places
    assert len(_error_sites()) > 100


@pytest.mark.parametrize("lang", LANGS)
def test_every_error_made_anywhere_reads_in_one_language(lang: str) -> None:
    """Each error the package makes, with its own English message: the Indonesian text has
    no English word of the message or the catalogue, the English text no Indonesian."""
    for where, err, english in _error_sites():
        text = i18n.describe(err, lang)
        assert text.strip(), where
        try:
            _check_one_language(text, lang, also_english=_words(english), err=err)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from None


def test_every_message_key_used_in_the_package_is_in_every_catalogue() -> None:
    """A message key named in the code has its phrase in each language."""
    for where, err, _ in _error_sites():
        key = err.details.get("message_key")
        if key is not None:
            for lang in LANGS:
                assert key in CATALOGUES[lang], f"{where}: {key} missing in {lang}"


# -- plurals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (1, "You already hold 1 active queue number for online registration. Cancel it first"),
        (2, "You already hold 2 active queue numbers for online registration. Cancel one first"),
    ],
)
def test_already_booked_counts_in_proper_english(limit: int, expected: str) -> None:
    """No "number(s)": one number, two numbers."""
    assert i18n.describe(errors.AlreadyBooked(channel="online", limit=limit), "en").startswith(
        expected
    )


def test_counts_choose_their_plural_everywhere() -> None:
    """Every English phrase that counts says "1 day" and "3 days", never "(s)"."""
    for key, template in CATALOGUES["en"].items():
        assert "(s)" not in template, key
    assert i18n.text("cli.closed.moved", "en", count=1).startswith("1 booking moved.")
    assert i18n.text("cli.closed.moved", "en", count=3).startswith("3 bookings moved.")
    # the catalogue entries format the same way when used directly, as the CLI does
    assert CATALOGUES["en"]["cli.closed.moved"].format(count=3).startswith("3 bookings moved")
    assert i18n.text("cli.closed.moved", "id", count=3).startswith("3 pendaftaran")
    for days, expected in ((1, "at most 1 day."), (3, "at most 3 days.")):
        err = errors.ConfigurationError(
            "x", message_key="configuration_error.date_range", start=D1, end=D2, max_days=days
        )
        assert i18n.describe(err, "en").endswith(expected)


# -- did you mean (unknown channel) --------------------------------------------------------


def test_unknown_channel_says_did_you_mean(office: qq.Office) -> None:
    """A mistyped channel is answered with the closest one, in both languages."""
    with pytest.raises(qq.UnknownChannel) as info:
        office.policy("onlin")
    err = info.value
    assert "did you mean 'online'?" in str(err)
    assert i18n.describe(err, "id") == (
        'Layanan "onlin" tidak dikenal. Maksud Anda "online"? Layanan yang tersedia: '
        '"online" (pendaftaran online), "walk_in" (walk-in).'
    )
    assert 'Did you mean "online"?' in i18n.describe(err, "en")
    with pytest.raises(qq.UnknownChannel) as far:
        office.policy("fax")
    assert "did you mean" not in str(far.value)
    assert "Maksud" not in i18n.describe(far.value, "id")
    assert i18n.describe(far.value, "en").startswith('Unknown service "fax". Services: ')


# -- channel titles (issue 8, item 13) -----------------------------------------------------


def _titled_office() -> qq.Office:
    return qq.Office(
        id="tegal-disdukcapil",
        calendar=qq.WorkingCalendar(),
        policies=[
            OnlineQuota(
                5, channel="priority", prefix="P", title={"id": "Prioritas", "en": "Priority"}
            ),
            OnlineQuota(20),
            WalkInQuota(40, opens=time(7, 30), closes=time(12), title="Loket"),
        ],
    )


def test_refusals_name_channels_by_their_titles() -> None:
    """With the office, every message that names a channel uses its title."""
    office = _titled_office()
    full = errors.QuotaExhausted(
        channel="priority", day=D3, next_available=D2, alternatives={"walk_in": D1}
    )
    assert i18n.describe(full, "id", office=office) == (
        "Kuota Prioritas untuk Jumat, 5 Juni 2020 sudah penuh. Silakan memilih Senin, "
        "8 Juni 2020, atau gunakan layanan Loket untuk Kamis, 4 Juni 2020."
    )
    assert i18n.describe(full, "en", office=office).startswith(
        "The Priority quota for Friday, 5 June 2020 is full."
    )
    hours = errors.OutsideServiceHours(opens=time(7, 30), closes=time(12), channel="walk_in")
    assert i18n.describe(hours, "id", office=office).startswith("Nomor antrean Loket hanya")
    assert i18n.describe(hours, "en", office=office).startswith("Loket numbers are only")
    booked = errors.AlreadyBooked(channel="priority", limit=1)
    assert "for Priority." in i18n.describe(booked, "en", office=office)
    # an untitled channel keeps its built-in phrase; without the office, nothing changes
    online = errors.QuotaExhausted(channel="walk_in", day=D1, alternatives={"online": D3})
    assert "daftar online untuk" in i18n.describe(online, "id", office=office)
    assert "Kuota Prioritas" not in i18n.describe(full, "id")
    assert "Kuota priority untuk" in i18n.describe(full, "id")


def test_ticket_and_channel_text_use_titles() -> None:
    """The ticket's service line and channel_text use the title when the office is given."""
    office = _titled_office()
    booking = attrs.evolve(_booking(), channel="priority", label="P-007")
    assert "Layanan       : Prioritas" in i18n.ticket_text(booking, "id", office=office)
    assert "Service      : Priority" in i18n.ticket_text(booking, "en", office=office)
    assert "Layanan       : priority" in i18n.ticket_text(booking, "id")
    assert i18n.channel_text("walk_in", "en", office=office) == "Loket"
    assert i18n.channel_text("online", "id", office=office) == "pendaftaran online"
    assert i18n.channel_text("online", "id") == "pendaftaran online"
