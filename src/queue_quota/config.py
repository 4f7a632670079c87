"""Office definition files: a TOML file in, an `Office` out.

The layout (``examples/tegal.toml``, ``examples/loket.toml``; the JSON Schema in
``queue_quota/schema/office.schema.json``, see `schema`)::

    [office]
    id = "tegal-disdukcapil"
    timezone = "Asia/Jakarta"               # IANA zone: WIB, WITA, WIT, ...
    per_citizen = 2                         # optional: over all channels (or "unlimited")

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
    capacity = 25                           # or { default = 20, weekdays = { 4 = 10 },
                                            #      dates = { "2020-06-12" = 5 },
                                            #      rules = [{ rrule = "FREQ=MONTHLY;BYDAY=-1FR",
                                            #                 capacity = 10 }] }
    lead_days = 1
    horizon_days = 60
    per_citizen = 1                         # or "unlimited"
    channel = "online"
    prefix = "A"
    title = { id = "Pendaftaran online", en = "Online registration" }   # or one text
    max_places = 4                          # a household of at most 4
    requires_claim = "group"                # book(..., claims={"group": ...}) or NotEligible
    sessions = [                            # arrival windows, none overlapping
        { start = 08:00:00, end = 10:00:00, capacity = 15 },
        { start = 10:00:00, end = 12:00:00, capacity = 15 },
    ]

    [[policy]]
    type = "walk_in"
    capacity = 40
    opens = 07:30:00                        # TOML local times (or "07:30")
    closes = 12:00:00
    takes_unused = { online = 10:00:00 }    # from 10:00, online places nobody booked today

    [[pool]]                                # places shared by channels, in one atomic step
    name = "loket"
    capacity = 30                           # a number or a capacity table
    channels = ["online", "priority"]

**Every mistake** is an `OfficeFileError` (a `ConfigurationError`, so also a
``ValueError``) whose message reads ``"<file>: <key path>: <what was expected>"``, e.g.
``tegal.toml: policy[1].capacity.weekdays.7: expected a weekday, 0 (Monday) .. 6
(Sunday) or a name such as "fri", got "7"``. Key paths are dotted TOML keys; arrays of
tables are numbered from 0 in file order (``policy[1]`` is the second). The structure is
checked by the shipped JSON Schema (with ``jsonschema``, Draft 2020-12), whose
``x-expected`` annotations say what each key expects; then what a schema cannot say: known
time zones, countries, categories and languages, real dates and rules, ``opens`` before
``closes``, sessions within the opening hours, not overlapping and never larger than their
day, pools and ``takes_unused`` naming channels of the office.

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

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from . import _config_values as values
from ._config_errors import Fail, OfficeFileError, got, join, show
from ._config_policies import check_takes_unused, policy
from ._config_registry import (
    ENTRY_POINT_GROUP,
    PolicyFactory,
    policy_types,
    register_policy_type,
    unregister_policy_type,
)
from ._config_schema import check, keys_of, load_schema
from ._suggest import closest, did_you_mean
from .calendar import WorkingCalendar
from .counters import Pool
from .errors import ConfigurationError
from .office import Office
from .policies import QuotaPolicy

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

# The keys each table may hold, read from the JSON Schema (its only list of them).
ROOT_KEYS: Final = keys_of()
OFFICE_KEYS: Final = keys_of("properties", "office")
CALENDAR_KEYS: Final = keys_of("properties", "calendar")
POOL_KEYS: Final = keys_of("properties", "pool", "items")
CAPACITY_KEYS: Final = keys_of("$defs", "capacity", "oneOf", 1)
RULE_KEYS: Final = keys_of("$defs", "capacity", "oneOf", 1, "properties", "rules", "items")
SESSION_KEYS: Final = keys_of("$defs", "session")
ONLINE_KEYS: Final = keys_of("$defs", "online")
WALK_IN_KEYS: Final = keys_of("$defs", "walkIn")

_TOML_WHERE: Final = re.compile(r"at line (\d+), column (\d+)")


def _duplicates(fail: Fail, policies: list[QuotaPolicy]) -> None:
    """Each policy has a channel and a label prefix of its own."""
    for attr in ("channel", "prefix"):
        seen: dict[str, int] = {}
        for i, made in enumerate(policies):
            name = getattr(made, attr)
            if name in seen:
                raise fail(
                    join(join("policy", i), attr),
                    f"expected a {attr} of its own: {show(name)} is already the {attr} of "
                    f"policy[{seen[name]}]",
                    "duplicate",
                    got=got(name),
                    other=f"policy[{seen[name]}]",
                )
            seen[name] = i


def _pools(fail: Fail, tables: list[Mapping[str, Any]], channels: tuple[str, ...]) -> list[Pool]:
    """The ``[[pool]]`` tables: names of their own, channels of the office."""
    out: list[Pool] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        key = join("pool", i)
        name = table["name"]
        if name in seen:
            raise fail(
                join(key, "name"),
                f"expected a name of its own: {show(name)} is already the name of "
                f"pool[{seen[name]}]",
                "duplicate",
                got=got(name),
                other=f"pool[{seen[name]}]",
            )
        seen[name] = i
        for j, channel in enumerate(table["channels"]):
            if channel not in channels:
                raise fail(
                    join(join(key, "channels"), j),
                    f"unknown channel {show(channel)}{did_you_mean(channel, channels)}; "
                    f"expected a channel of the office: {', '.join(channels)}",
                    "unknown_channel",
                    got=got(channel),
                    suggestion=closest(channel, channels),
                    allowed=channels,
                )
        capacity = values.capacity(fail, table["capacity"], join(key, "capacity"))
        out.append(Pool(name, capacity, table["channels"]))
    return out


def office_from_dict(data: Mapping[str, Any], *, source: str = "<dict>") -> Office:
    """Build an `Office` from an already parsed office definition (same layout as TOML).

    Useful for definitions kept in JSON or a database. Dates and times may be
    ``datetime.date``/``datetime.time`` objects or ISO strings.

    Raises:
        OfficeFileError: Any mistake, naming ``source`` and the key.
    """
    fail = Fail(source)
    if not isinstance(data, Mapping):
        raise fail(None, f"expected a table of sections, got {show(data)}")
    plain = check(data, fail)
    office = plain["office"]
    tz = values.zone(fail, office["timezone"], "office.timezone")
    # Without a [calendar] table: Monday to Friday, no holidays.
    calendar = (
        values.calendar(fail, plain["calendar"], tz)
        if "calendar" in plain
        else WorkingCalendar(tz=tz)
    )
    given = list(data["policy"])
    policies = [
        policy(fail, given[i], table, join("policy", i)) for i, table in enumerate(plain["policy"])
    ]
    _duplicates(fail, policies)
    check_takes_unused(fail, policies)
    pools = _pools(fail, plain.get("pool", []), tuple(p.channel for p in policies))
    per_citizen = values.per_citizen(office.get("per_citizen", "unlimited"))
    try:
        return Office(
            id=office["id"], calendar=calendar, policies=policies, pools=pools,
            per_citizen=per_citizen,
        )  # fmt: skip
    except ConfigurationError as exc:  # pragma: no cover - every value is checked above
        raise fail("office", str(exc)) from None


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

    `load_office` validates every file with it first (with ``jsonschema``); editors and CI
    can use it too (after converting TOML to JSON). `load_office` then checks what a schema
    cannot: known time zones, countries, categories and languages, real dates, sessions
    within the opening hours, channels named by pools and ``takes_unused``, ...
    """
    return load_schema()
