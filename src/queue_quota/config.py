"""Office definition files: a TOML file in, an `Office` out.

The layout (``examples/tegal.toml``; JSON Schema in ``queue_quota/schema/office.schema.json``,
see `schema`)::

    [office]
    id = "tegal-disdukcapil"
    timezone = "Asia/Jakarta"               # IANA zone: WIB, WITA, WIT, ...

    [calendar]                              # optional: Mon-Fri, no holidays without it
    country = "ID"                          # holidays from the `holidays` package
    categories = ["public", "government"]   # government = cuti bersama (default: public)
    language = "id"                         # holiday names (default: the country's own)
    subdiv = "..."                          # optional, for regional holidays
    weekmask = "1111100"                    # or "Mon Tue Wed Thu Fri"
    closures = { "2020-06-10" = "system maintenance" }
    openings = [2020-06-13]

    [[policy]]
    type = "online"                         # or "walk_in", or a registered custom type
    capacity = 20                           # or { default = 20, weekdays = { 4 = 10 },
                                            #      dates = { "2020-06-12" = 5 },
                                            #      rules = [{ rrule = "FREQ=MONTHLY;BYDAY=-1FR",
                                            #                 capacity = 10 }] }
    lead_days = 1
    horizon_days = 60
    per_citizen = 1                         # or "unlimited"
    channel = "online"
    prefix = "A"
    title = { id = "Pendaftaran online", en = "Online registration" }   # or one text

    [[policy]]
    type = "walk_in"
    capacity = 40
    opens = 07:30:00                        # TOML local times (or "07:30")
    closes = 12:00:00

``title`` is the channel's name for readers (tickets, tables, messages): one text for
every language, or a table of ``id``/``en`` texts.

Weekdays in a capacity table are ``0`` (Monday) .. ``6`` (Sunday) or names (``"fri"``,
``"friday"``, ``"jumat"``). Dates are TOML dates or ``"YYYY-MM-DD"`` strings; table keys
are always strings. Without ``language`` the holiday names are in the country's own
language (Indonesian for ``"ID"``).

**Every mistake** is an `OfficeFileError` (a `ConfigurationError`, so also a
``ValueError``) whose message reads ``"<file>: <key path>: <what was expected>"``, e.g.
``tegal.toml: policy[1].capacity.weekdays.7: expected a weekday, 0 (Monday) .. 6
(Sunday) or a name such as "fri", got "7"``. Key paths are dotted TOML keys; the
``[[policy]]`` tables are numbered from 0 in file order (``policy[1]`` is the second).
Unknown keys are errors (with a "did you mean" when a known key is close), as are wrong
types, bad dates and times, unknown time zones, countries, categories and languages, and
invalid TOML (with its line and column). A missing or unreadable file is one too.

**Custom policy types.** `register_policy_type` ``("weekly", factory)`` makes
``type = "weekly"`` build ``factory(**options)``, where ``options`` are the table's other
keys, as TOML gives them, except ``capacity``, which is always turned into a
`CapacityCalendar` first. Keys the factory does not accept are reported as unknown keys.
Packages can also declare factories as entry points in the group
``"queue_quota.policies"`` (the entry point's name is the type); they are looked up only
when a file names a type that is not registered, and never imported otherwise::

    [project.entry-points."queue_quota.policies"]
    weekly = "my_office.policies:WeeklyQuota"
"""

from __future__ import annotations

import inspect
import json
import os
import re
import threading
import tomllib
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, time
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Final, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rruleset, rrulestr

from ._messages import LANGUAGES
from ._suggest import closest, did_you_mean
from ._weekmask import parse_weekmask
from .calendar import WorkingCalendar
from .capacity import CapacityCalendar
from .errors import ConfigurationError
from .office import Office
from .policies import OnlineQuota, QuotaPolicy, WalkInQuota
from .policies import _validate as validate_policy

__all__ = [
    "ENTRY_POINT_GROUP",
    "OfficeFileError",
    "PolicyFactory",
    "load_office",
    "loads_office",
    "office_from_dict",
    "policy_types",
    "register_policy_type",
    "schema",
    "unregister_policy_type",
]

#: A callable building a policy from the keys of its ``[[policy]]`` table.
PolicyFactory: TypeAlias = Callable[..., QuotaPolicy]

#: The entry point group searched for policy types that are not registered.
ENTRY_POINT_GROUP: Final = "queue_quota.policies"

BUILTIN_TYPES: Final = ("online", "walk_in")

# The keys each table may hold (the JSON Schema lists the same: a test checks it).
ROOT_KEYS: Final = frozenset({"office", "calendar", "policy"})
OFFICE_KEYS: Final = frozenset({"id", "timezone"})
CALENDAR_KEYS: Final = frozenset(
    {"country", "subdiv", "categories", "language", "weekmask", "closures", "openings"}
)
CAPACITY_KEYS: Final = frozenset({"default", "weekdays", "dates", "rules"})
RULE_KEYS: Final = frozenset({"rrule", "capacity"})
ONLINE_KEYS: Final = frozenset(
    {"type", "capacity", "lead_days", "horizon_days", "per_citizen", "channel", "prefix", "title"}
)
WALK_IN_KEYS: Final = frozenset(
    {"type", "capacity", "opens", "closes", "channel", "prefix", "per_citizen", "title"}
)

_TYPE_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_BARE_KEY: Final = re.compile(r"^[A-Za-z0-9_-]+$")
_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME: Final = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")
_TOML_WHERE: Final = re.compile(r"at line (\d+), column (\d+)")
_UNLIMITED: Final = "unlimited"
_TITLE_EXAMPLE: Final = '{ id = "Prioritas", en = "Priority" }'
_RRULE_START: Final = datetime(1970, 1, 1)
_WEEKDAY_NAMES: Final = {
    name: i
    for i, names in enumerate(
        (
            ("mon", "monday", "senin"),
            ("tue", "tuesday", "selasa"),
            ("wed", "wednesday", "rabu"),
            ("thu", "thursday", "kamis"),
            ("fri", "friday", "jumat"),
            ("sat", "saturday", "sabtu"),
            ("sun", "sunday", "minggu"),
        )
    )
    for name in names
}


class OfficeFileError(ConfigurationError):
    """A mistake in an office file: names the file, the key and what was expected.

    Attributes:
        source: The file's path as given (or the ``source`` of `loads_office`).
        key: The dotted key path, e.g. ``"policy[1].capacity.weekdays.7"``; ``None`` for
            a mistake about the whole file (missing, unreadable, invalid TOML).
        reason: What is wrong, without the file and key.

    ``details`` holds ``source`` and ``key``, and for the common mistakes a
    ``message_key`` with its fields, so that `queue_quota.i18n.describe` can say what is
    wrong in Indonesian too.
    """

    def __init__(
        self,
        source: str,
        key: str | None,
        reason: str,
        *,
        message_key: str | None = None,
        **fields: Any,
    ) -> None:
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {reason}")
        self.details.update(source=source, key=key)
        if message_key is not None:
            self.details.update(fields, message_key=message_key)
        self.source = source
        self.key = key
        self.reason = reason


# -- the registry of policy types ------------------------------------------------------------

_registry: dict[str, PolicyFactory] = {}
_registry_lock = threading.Lock()
_entry_points: dict[str, metadata.EntryPoint] | None = None


def register_policy_type(name: str, factory: PolicyFactory, *, replace: bool = False) -> None:
    """Make ``type = name`` in an office file build ``factory(**options)``.

    Args:
        name: The type's name: a lower-case identifier (``"weekly"``). ``"online"`` and
            ``"walk_in"`` are built in and cannot be replaced.
        factory: A callable (typically the policy class) taking the table's keys, except
            ``type``, as keyword arguments; ``capacity`` arrives as a `CapacityCalendar`.
            It must return an object implementing `QuotaPolicy`.
        replace: Allow replacing a type registered before.

    Raises:
        ConfigurationError: A malformed or built-in name, a factory that is not callable,
            or a name already registered (unless ``replace``).
    """
    if not isinstance(name, str) or not _TYPE_NAME.match(name):
        raise ConfigurationError(
            f"a policy type name must be a lower-case identifier, got {name!r}"
        )
    if name in BUILTIN_TYPES:
        raise ConfigurationError(f"{name!r} is a built-in policy type and cannot be replaced")
    if not callable(factory):
        raise ConfigurationError(f"the factory of policy type {name!r} must be callable")
    with _registry_lock:
        if name in _registry and not replace and _registry[name] is not factory:
            raise ConfigurationError(
                f"policy type {name!r} is already registered (pass replace=True to replace it)"
            )
        _registry[name] = factory


def unregister_policy_type(name: str) -> None:
    """Forget a registered policy type (nothing happens if it is not registered).

    A type provided by an entry point will be found again the next time a file names it.
    """
    with _registry_lock:
        _registry.pop(name, None)


def _discover() -> dict[str, metadata.EntryPoint]:
    global _entry_points
    with _registry_lock:
        if _entry_points is None:
            found = metadata.entry_points(group=ENTRY_POINT_GROUP)
            _entry_points = {ep.name: ep for ep in found if ep.name not in BUILTIN_TYPES}
        return _entry_points


def policy_types() -> tuple[str, ...]:
    """Every policy type a file may name: the built-ins, then registered and entry point
    types, sorted (looks the entry points up, without importing them)."""
    with _registry_lock:
        registered = set(_registry)
    return BUILTIN_TYPES + tuple(sorted(registered | set(_discover())))


def _factory(name: str) -> PolicyFactory | None:
    """The factory of a registered type, loading it from its entry point if need be."""
    with _registry_lock:
        factory = _registry.get(name)
    if factory is not None:
        return factory
    ep = _discover().get(name)
    if ep is None:
        return None
    try:
        loaded = ep.load()
    except Exception as exc:  # any import-time failure of a plug-in
        raise ConfigurationError(
            f"cannot load policy type {name!r} from entry point {ep.value!r}: {exc}"
        ) from exc
    if not callable(loaded):
        raise ConfigurationError(
            f"entry point {ep.value!r} of policy type {name!r} is not callable"
        )
    with _registry_lock:
        return _registry.setdefault(name, loaded)


# -- reading values --------------------------------------------------------------------------


def _show(value: object) -> str:
    """A value as it would be written in TOML (for "got ..." in messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return f"the date-time {value.isoformat()}"
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _got(value: object) -> str:
    """A value as written in TOML, in no language (the ``got`` field of message keys)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[...]"
    if isinstance(value, dict):
        return "{...}"
    return _show(value)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    part = key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)
    return f"{path}.{part}" if path else part


def _one_of(names: Collection[str]) -> str:
    return ", ".join(sorted(names))


class _Reader:
    """Typed access to parsed TOML, raising `OfficeFileError` with the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(
        self, key: str | None, reason: str, message_key: str | None = None, **fields: Any
    ) -> OfficeFileError:
        if message_key is not None:
            message_key = f"office_file.{message_key}"
        return OfficeFileError(self.source, key, reason, message_key=message_key, **fields)

    def table(self, value: object, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_show(value)}", "table")
        return value

    def keys(
        self,
        table: Mapping[str, Any],
        key: str,
        allowed: Collection[str],
        required: Collection[str] = (),
        *,
        what: str = "",
    ) -> None:
        for name in table:
            if name not in allowed:
                raise self.fail(
                    _join(key, name),
                    f"unknown key{what}{did_you_mean(name, allowed)}; "
                    f"expected one of: {_one_of(allowed)}",
                    "unknown_key",
                    suggestion=closest(name, allowed),
                    allowed=frozenset(allowed),
                )
        for name in sorted(required):
            if name not in table:
                raise self.fail(_join(key, name), "missing (this key is required)", "missing_key")

    def string(self, value: object, key: str, what: str = "a string") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected {what}, got {_show(value)}")
        return value.strip()

    def integer(self, value: object, key: str, *, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(
                key,
                f"expected an integer >= {minimum}, got {_show(value)}",
                "integer",
                minimum=minimum,
                got=_got(value),
            )
        return value

    def day(self, value: object, key: str) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and _ISO_DATE.match(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError as exc:
                raise self.fail(key, f"expected a valid date, got {_show(value)} ({exc})") from None
        raise self.fail(key, f'expected a date (2020-06-13 or "2020-06-13"), got {_show(value)}')

    def day_key(self, name: str, key: str) -> date:
        """A table key that must be a date ("2020-06-10")."""
        if _ISO_DATE.match(name):
            try:
                return date.fromisoformat(name)
            except ValueError as exc:
                raise self.fail(
                    key, f"expected a valid date as the key, got {_show(name)} ({exc})"
                ) from None
        raise self.fail(key, f'expected a date "YYYY-MM-DD" as the key, got {_show(name)}')

    def clock(self, value: object, key: str) -> time:
        if isinstance(value, time):
            if value.tzinfo is not None:
                raise self.fail(key, f"expected a local time without offset, got {_show(value)}")
            return value
        if isinstance(value, str) and _ISO_TIME.match(value.strip()):
            try:
                return time.fromisoformat(value.strip())
            except ValueError as exc:
                raise self.fail(key, f"expected a valid time, got {_show(value)} ({exc})") from None
        raise self.fail(key, f'expected a local time (07:30:00 or "07:30"), got {_show(value)}')

    def string_list(self, value: object, key: str, what: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"expected a non-empty array of {what}, got {_show(value)}")
        return tuple(self.string(item, _join(key, i), what[:-1]) for i, item in enumerate(value))


# -- sections --------------------------------------------------------------------------------


def _zone(r: _Reader, value: object, key: str) -> str:
    name = r.string(value, key, 'an IANA time zone name such as "Asia/Jakarta"')
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise r.fail(
            key, f'expected an IANA time zone name such as "Asia/Jakarta", got {_show(name)}'
        ) from None
    return name


def _calendar(r: _Reader, value: object, tz: str) -> WorkingCalendar:
    key = "calendar"
    table = r.table(value, key)
    r.keys(table, key, CALENDAR_KEYS)

    weekmask: str | list[int] = "1111100"
    if "weekmask" in table:
        weekmask = table["weekmask"]
        try:
            parse_weekmask(weekmask)
        except ConfigurationError as exc:
            raise r.fail("calendar.weekmask", str(exc)) from None

    closures: dict[date, str] = {}
    if "closures" in table:
        raw = r.table(table["closures"], "calendar.closures")
        for name, reason in raw.items():
            where = _join("calendar.closures", name)
            closures[r.day_key(name, where)] = r.string(reason, where, "the reason (a string)")

    openings: list[date] = []
    if "openings" in table:
        raw_openings = table["openings"]
        if not isinstance(raw_openings, list):
            raise r.fail(
                "calendar.openings", f"expected an array of dates, got {_show(raw_openings)}"
            )
        openings = [
            r.day(item, _join("calendar.openings", i)) for i, item in enumerate(raw_openings)
        ]

    if "country" not in table:
        for name in ("categories", "language", "subdiv"):
            if name in table:
                raise r.fail(_join(key, name), "needs calendar.country (the holidays' country)")
        try:
            return WorkingCalendar(weekmask=weekmask, closures=closures, openings=openings, tz=tz)
        except ConfigurationError as exc:
            raise r.fail(key, str(exc)) from None

    import holidays as holidays_package  # slow to import: only when a country is named

    country = r.string(table["country"], "calendar.country", 'a country code such as "ID"')
    code = country.upper()
    entity = getattr(holidays_package, code, None)
    if entity is None or code not in holidays_package.list_supported_countries():
        raise r.fail(
            "calendar.country",
            f'expected a country code known to the holidays package, such as "ID", '
            f"got {_show(country)}",
        )
    categories: tuple[str, ...] = ("public",)
    if "categories" in table:
        categories = r.string_list(table["categories"], "calendar.categories", "category names")
        supported = tuple(getattr(entity, "supported_categories", ("public",)))
        for i, category in enumerate(categories):
            if category not in supported:
                raise r.fail(
                    _join("calendar.categories", i),
                    f"expected a category of {code}: {_one_of(supported)}; got {_show(category)}",
                )
    language: str = getattr(entity, "default_language", None) or ""
    if "language" in table:
        language = r.string(table["language"], "calendar.language", "a language code")
        languages = tuple(getattr(entity, "supported_languages", ()))
        if language not in languages:
            raise r.fail(
                "calendar.language",
                f"expected a language of {code}'s holiday names: {_one_of(languages)}; "
                f"got {_show(language)}",
            )
    subdiv: str | None = None
    if "subdiv" in table:
        subdiv = r.string(table["subdiv"], "calendar.subdiv", "a subdivision code")
        subdivisions = tuple(getattr(entity, "subdivisions", ()))
        if subdiv not in subdivisions:
            known = _one_of(subdivisions) if subdivisions else "none"
            raise r.fail(
                "calendar.subdiv",
                f"expected a subdivision of {code} ({known}); got {_show(subdiv)}",
            )
    try:
        return WorkingCalendar.from_country(
            code,
            categories=categories,
            subdiv=subdiv,
            language=language or None,
            tz=tz,
            weekmask=weekmask,
            closures=closures,
            openings=openings,
        )
    except ConfigurationError as exc:
        raise r.fail(key, str(exc)) from None


def _weekday(r: _Reader, name: str, key: str) -> int:
    text = name.strip().lower()
    if text.isdigit() and len(text) == 1 and int(text) <= 6:
        return int(text)
    if text in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[text]
    raise r.fail(
        key,
        f'expected a weekday, 0 (Monday) .. 6 (Sunday) or a name such as "fri", got {_show(name)}',
    )


def _rule(r: _Reader, value: object, key: str) -> tuple[rrule | rruleset, int]:
    table = r.table(value, key)
    r.keys(table, key, RULE_KEYS, RULE_KEYS)
    text = r.string(table["rrule"], _join(key, "rrule"), 'an RFC 5545 rule such as "FREQ=WEEKLY"')
    try:
        if "DTSTART" in text.upper():
            parsed = rrulestr(text)
        else:
            parsed = rrulestr(text, dtstart=_RRULE_START)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise r.fail(
            _join(key, "rrule"),
            f'expected an RFC 5545 rule such as "FREQ=MONTHLY;BYDAY=-1FR", got {_show(text)} '
            f"({exc})",
        ) from None
    if not isinstance(parsed, rrule | rruleset):  # pragma: no cover - rrulestr's contract
        raise r.fail(_join(key, "rrule"), f"expected a recurrence rule, got {_show(text)}")
    return parsed, r.integer(table["capacity"], _join(key, "capacity"))


def _capacity(r: _Reader, value: object, key: str) -> CapacityCalendar:
    if isinstance(value, int) and not isinstance(value, bool):
        return CapacityCalendar(r.integer(value, key))
    if not isinstance(value, dict):
        raise r.fail(
            key,
            "expected an integer >= 0 or a table { default = 20, weekdays = { 4 = 10 }, "
            f'dates = {{ "2020-06-12" = 5 }} }}, got {_show(value)}',
        )
    r.keys(value, key, CAPACITY_KEYS, ("default",))
    default = r.integer(value["default"], _join(key, "default"))
    weekdays: dict[int, int] = {}
    if "weekdays" in value:
        where = _join(key, "weekdays")
        seen: dict[int, str] = {}
        for name, places in r.table(value["weekdays"], where).items():
            item = _join(where, name)
            weekday = _weekday(r, name, item)
            if weekday in seen:
                raise r.fail(item, f"the same weekday as {_join(where, seen[weekday])}")
            seen[weekday] = name
            weekdays[weekday] = r.integer(places, item)
    dates: dict[date, int] = {}
    if "dates" in value:
        where = _join(key, "dates")
        for name, places in r.table(value["dates"], where).items():
            item = _join(where, name)
            dates[r.day_key(name, item)] = r.integer(places, item)
    rules: list[tuple[rrule | rruleset, int]] = []
    if "rules" in value:
        where = _join(key, "rules")
        raw = value["rules"]
        if not isinstance(raw, list):
            raise r.fail(where, f"expected an array of tables, got {_show(raw)}")
        rules = [_rule(r, item, _join(where, i)) for i, item in enumerate(raw)]
    try:
        return CapacityCalendar(default, weekdays=weekdays, dates=dates, rules=rules)
    except ConfigurationError as exc:  # pragma: no cover - every value is checked above
        raise r.fail(key, str(exc)) from None


def _per_citizen(r: _Reader, value: object, key: str) -> int | None:
    if value == _UNLIMITED:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise r.fail(key, f'expected an integer >= 1 or "unlimited", got {_show(value)}')
    return value


def _title(r: _Reader, value: object, key: str) -> str | dict[str, str]:
    """A channel's display name: one text, or a table of texts by language."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if not isinstance(value, dict) or not value:
        raise r.fail(
            key,
            f"expected a non-empty string or a table of texts by language such as "
            f"{_TITLE_EXAMPLE}, got {_show(value)}",
            "title",
            example=_TITLE_EXAMPLE,
            got=_got(value),
        )
    out: dict[str, str] = {}
    for lang, text in value.items():
        where = _join(key, lang)
        if lang not in LANGUAGES:
            raise r.fail(
                where,
                f"unknown language{did_you_mean(lang, LANGUAGES)}; expected one of: "
                f"{', '.join(LANGUAGES)}",
                "title_language",
                suggestion=closest(lang, LANGUAGES),
                allowed=LANGUAGES,
            )
        if not isinstance(text, str) or not text.strip():
            raise r.fail(
                where,
                f"expected the channel's name in this language (a non-empty string), "
                f"got {_show(text)}",
                "title",
                example=_TITLE_EXAMPLE,
                got=_got(text),
            )
        out[lang] = text.strip()
    return out


def _channel_and_prefix(r: _Reader, table: Mapping[str, Any], key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "title" in table:
        out["title"] = _title(r, table["title"], _join(key, "title"))
    checks = (("channel", validate_policy.channel_name), ("prefix", validate_policy.prefix))
    for name, check in checks:
        if name in table:
            value = table[name]
            try:
                check(None, None, value)
            except ConfigurationError as exc:
                raise r.fail(_join(key, name), str(exc)) from None
            out[name] = value
    return out


def _online(r: _Reader, table: Mapping[str, Any], key: str) -> QuotaPolicy:
    r.keys(table, key, ONLINE_KEYS, ("capacity",), what=' for type "online"')
    options = _channel_and_prefix(r, table, key)
    for name in ("lead_days", "horizon_days"):
        if name in table:
            options[name] = r.integer(table[name], _join(key, name))
    if "per_citizen" in table:
        options["per_citizen"] = _per_citizen(r, table["per_citizen"], _join(key, "per_citizen"))
    capacity = _capacity(r, table["capacity"], _join(key, "capacity"))
    try:
        return OnlineQuota(capacity, **options)
    except ConfigurationError as exc:  # pragma: no cover - every value is checked above
        raise r.fail(key, str(exc)) from None


def _walk_in(r: _Reader, table: Mapping[str, Any], key: str) -> QuotaPolicy:
    r.keys(table, key, WALK_IN_KEYS, ("capacity",), what=' for type "walk_in"')
    options = _channel_and_prefix(r, table, key)
    for name in ("opens", "closes"):
        if name in table:
            options[name] = r.clock(table[name], _join(key, name))
    opens = options.get("opens", time(0))
    closes = options.get("closes", time(23, 59, 59))
    if opens >= closes:
        raise r.fail(
            _join(key, "closes"),
            f"expected a time after opens ({opens.isoformat()}), got {closes.isoformat()}",
        )
    if "per_citizen" in table:
        options["per_citizen"] = _per_citizen(r, table["per_citizen"], _join(key, "per_citizen"))
    capacity = _capacity(r, table["capacity"], _join(key, "capacity"))
    try:
        return WalkInQuota(capacity, **options)
    except ConfigurationError as exc:  # pragma: no cover - every value is checked above
        raise r.fail(key, str(exc)) from None


_BUILTINS: Final[dict[str, Callable[[_Reader, Mapping[str, Any], str], QuotaPolicy]]] = {
    "online": _online,
    "walk_in": _walk_in,
}


def _accepted(factory: PolicyFactory) -> tuple[set[str], set[str], bool] | None:
    """The keyword names a factory accepts, those it requires, and whether it takes
    ``**kwargs``; ``None`` if its signature cannot be read."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    names: set[str] = set()
    required: set[str] = set()
    var_keyword = False
    for p in signature.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_keyword = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            names.add(p.name)
            if p.default is p.empty:
                required.add(p.name)
    return names, required, var_keyword


def _custom(
    r: _Reader, type_name: str, factory: PolicyFactory, table: Mapping[str, Any], key: str
) -> QuotaPolicy:
    options = {name: value for name, value in table.items() if name != "type"}
    accepted = _accepted(factory)
    if accepted is not None:
        names, required, var_keyword = accepted
        if not var_keyword:
            r.keys(options, key, names, what=f" for type {_show(type_name)}")
        for name in sorted(required - set(options)):
            raise r.fail(_join(key, name), f"missing (type {_show(type_name)} requires it)")
    if "capacity" in options:
        options["capacity"] = _capacity(r, options["capacity"], _join(key, "capacity"))
    try:
        policy = factory(**options)
    except (ConfigurationError, ValueError, TypeError) as exc:
        raise r.fail(key, f"type {_show(type_name)}: {exc}") from None
    if not isinstance(policy, QuotaPolicy):
        raise r.fail(
            _join(key, "type"),
            f"the factory of type {_show(type_name)} returned a {type(policy).__name__}, "
            "which does not implement QuotaPolicy",
        )
    return policy


def _policy(r: _Reader, value: object, key: str) -> QuotaPolicy:
    table = r.table(value, key)
    type_key = _join(key, "type")
    if "type" not in table:
        raise r.fail(type_key, 'missing; expected "online", "walk_in" or a registered type')
    type_name = r.string(table["type"], type_key, "a policy type name")
    builtin = _BUILTINS.get(type_name)
    if builtin is not None:
        return builtin(r, table, key)
    try:
        factory = _factory(type_name)
    except ConfigurationError as exc:
        raise r.fail(type_key, str(exc)) from None
    if factory is None:
        known = policy_types()
        raise r.fail(
            type_key,
            f"unknown policy type {_show(type_name)}{did_you_mean(type_name, known)}; "
            f"expected one of: {', '.join(known)} "
            "(register others with queue_quota.config.register_policy_type)",
            "unknown_type",
            got=_got(type_name),
            suggestion=closest(type_name, known),
            allowed=known,
        )
    return _custom(r, type_name, factory, table, key)


def office_from_dict(data: Mapping[str, Any], *, source: str = "<dict>") -> Office:
    """Build an `Office` from an already parsed office definition (same layout as TOML).

    Useful for definitions kept in JSON or a database. Dates and times may be
    ``datetime.date``/``datetime.time`` objects or ISO strings.

    Raises:
        OfficeFileError: Any mistake, naming ``source`` and the key.
    """
    r = _Reader(source)
    if not isinstance(data, Mapping):
        raise r.fail(None, f"expected a table of sections, got {_show(data)}")
    root = dict(data)
    r.keys(root, "", ROOT_KEYS, ("office", "policy"))

    office = r.table(root["office"], "office")
    r.keys(office, "office", OFFICE_KEYS, OFFICE_KEYS)
    office_id = r.string(office["id"], "office.id", "an office id (a string)")
    tz = _zone(r, office["timezone"], "office.timezone")

    # Without a [calendar] table: Monday to Friday, no holidays.
    calendar = _calendar(r, root["calendar"], tz) if "calendar" in root else WorkingCalendar(tz=tz)

    entries = root["policy"]
    if not isinstance(entries, list):
        raise r.fail(
            "policy", f"expected an array of tables ([[policy]] ...), got {_show(entries)}"
        )
    if not entries:
        raise r.fail("policy", "expected at least one [[policy]] table")
    policies: list[QuotaPolicy] = []
    channels: dict[str, int] = {}
    prefixes: dict[str, int] = {}
    for i, entry in enumerate(entries):
        key = _join("policy", i)
        policy = _policy(r, entry, key)
        for seen, attr in ((channels, "channel"), (prefixes, "prefix")):
            name = getattr(policy, attr)
            if name in seen:
                raise r.fail(
                    _join(key, attr),
                    f"expected a {attr} of its own: {_show(name)} is already the {attr} of "
                    f"policy[{seen[name]}]",
                    "duplicate",
                    got=_got(name),
                    other=f"policy[{seen[name]}]",
                )
            seen[name] = i
        policies.append(policy)
    try:
        return Office(id=office_id, calendar=calendar, policies=policies)
    except ConfigurationError as exc:
        raise r.fail("office.id" if "office id" in str(exc) else "office", str(exc)) from None


def loads_office(text: str, *, source: str = "<string>") -> Office:
    """Build an `Office` from the text of an office file.

    Args:
        text: TOML text.
        source: What to call the text in error messages (a file name, a URL, ...).

    Raises:
        OfficeFileError: Invalid TOML (with line and column) or any mistake in it.
    """
    if not isinstance(text, str):
        raise OfficeFileError(source, None, f"expected TOML text, got {type(text).__name__}")
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_WHERE.search(str(exc))
        raise OfficeFileError(
            source,
            None,
            f"invalid TOML: {exc}",
            message_key="office_file.invalid_toml" if where else None,
            line=int(where[1]) if where else None,
            column=int(where[2]) if where else None,
        ) from None
    return office_from_dict(data, source=source)


def load_office(path: str | os.PathLike[str]) -> Office:
    """Build an `Office` from an office file (TOML, UTF-8).

    Args:
        path: The file.

    Raises:
        OfficeFileError: The file is missing or unreadable, is not UTF-8 TOML, or has a
            mistake; the message names the file, the key and what was expected.
    """
    try:
        source = os.fspath(path)
    except TypeError:
        raise ConfigurationError(f"an office file path must be a path, got {path!r}") from None
    if isinstance(source, bytes):
        source = os.fsdecode(source)
    try:
        raw = Path(source).read_bytes()
    except FileNotFoundError:
        raise OfficeFileError(
            source, None, "no such file", message_key="office_file.no_such_file"
        ) from None
    except IsADirectoryError:
        raise OfficeFileError(
            source,
            None,
            "is a directory, not an office file",
            message_key="office_file.unreadable",
        ) from None
    except OSError as exc:
        raise OfficeFileError(
            source,
            None,
            f"cannot read the file ({exc.strerror or exc})",
            message_key="office_file.unreadable",
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OfficeFileError(
            source,
            None,
            f"expected UTF-8 text, got a byte that is not UTF-8 at offset {exc.start}",
            message_key="office_file.not_utf8",
        ) from None
    return loads_office(text, source=source)


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of office files, as a dictionary.

    Editors and CI can validate office files with it (after converting TOML to JSON);
    `load_office` checks more than the schema can (known time zones, countries, ...).
    """
    text = (
        resources.files("queue_quota")
        .joinpath("schema", "office.schema.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded
