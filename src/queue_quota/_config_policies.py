"""``[[policy]]`` tables to policies: the built-in types with their sessions, and the
registered ones; what the schema cannot say about sessions is checked here."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Final

from . import _config_values as values
from ._config_errors import Fail, got, join, show
from ._config_registry import PolicyFactory, factory_of, policy_types
from ._suggest import closest, did_you_mean
from .capacity import CapacityCalendar
from .counters import Session
from .errors import ConfigurationError
from .policies import OnlineQuota, QuotaPolicy, WalkInQuota

__all__ = ["check_takes_unused", "policy"]

_OPTIONS: Final = ("channel", "prefix", "lead_days", "horizon_days", "requires_claim")
_LIMITS: Final = ("max_places", "no_show_limit", "no_show_window_days", "suspension_days")


def _window(s: Session) -> str:
    return f"{s.start:%H:%M}-{s.end:%H:%M}"


def _sample_days(*calendars: CapacityCalendar) -> list[date]:
    """Days on which capacities may differ: one of each weekday, every date override, and
    the days the rules name this year and the next."""
    days = {date(2001, 1, d) for d in range(1, 8)}  # Monday 1 January 2001 .. Sunday 7
    first = datetime(date.today().year, 1, 1)
    for cal in calendars:
        days.update(cal.dates)
        for rule, _ in cal.rules:
            try:
                found = rule.between(first, first.replace(year=first.year + 2), inc=True)
            except TypeError:  # an aware rule: its days are checked when asked for
                continue
            days.update(d.date() for d in found)
    return sorted(days)


def _sessions(fail: Fail, raw: list[Mapping[str, Any]], key: str) -> list[Session]:
    out: list[Session] = []
    for i, table in enumerate(raw):
        where = join(key, i)
        start = values.clock(fail, table["start"], join(where, "start"))
        end = values.clock(fail, table["end"], join(where, "end"))
        if start >= end:
            raise fail(
                join(where, "end"),
                f"expected a time after start ({start:%H:%M}), got {end.isoformat()}",
                "session_end",
                start=start,
                end=end,
            )
        cap = values.capacity(fail, table["capacity"], join(where, "capacity"))
        out.append(Session(start, end, cap))
    for i, s in enumerate(out):
        for j, other in enumerate(out[:i]):
            if s.start < other.end and other.start < s.end:
                raise fail(
                    join(key, i),
                    f"expected a session that does not overlap {join(key, j)} "
                    f"({_window(other)}), got {_window(s)}",
                    "session_overlap",
                    start=s.start,
                    end=s.end,
                    other_start=other.start,
                    other_end=other.end,
                )
    return out


def _check_sessions(
    fail: Fail, sessions: list[Session], day: CapacityCalendar, key: str, hours: Any
) -> None:
    """Each session within the opening hours (walk-ins) and never larger than the day."""
    for i, s in enumerate(sessions):
        where = join(key, i)
        if hours is not None and (s.start < hours[0] or s.end > hours[1]):
            raise fail(
                where,
                f"expected a session within the opening hours ({hours[0]:%H:%M}-"
                f"{hours[1]:%H:%M}, opens .. closes), got {_window(s)}",
                "session_hours",
                start=s.start,
                end=s.end,
                opens=hours[0],
                closes=hours[1],
            )
        for d in _sample_days(s.capacity, day):
            if s.capacity_on(d) > day.capacity_on(d):
                on = d.isoformat() if d in s.capacity.dates or d in day.dates else f"{d:%A}s"
                raise fail(
                    join(where, "capacity"),
                    f"expected at most the channel's places on a day ({day.capacity_on(d)} on "
                    f"{on}), got {s.capacity_on(d)}: a session cannot hold more than its day",
                    "session_too_large",
                    limit=day.capacity_on(d),
                    places=s.capacity_on(d),
                )


def _builtin(fail: Fail, table: Mapping[str, Any], key: str) -> QuotaPolicy:
    walk_in = table["type"] == "walk_in"
    options: dict[str, Any] = {n: table[n] for n in _OPTIONS + _LIMITS if n in table}
    if "title" in table:
        options["title"] = values.title(table["title"])
    if "per_citizen" in table:
        options["per_citizen"] = values.per_citizen(table["per_citizen"])
    day = values.capacity(fail, table["capacity"], join(key, "capacity"))
    sessions = _sessions(fail, table.get("sessions", []), join(key, "sessions"))
    hours = None
    if walk_in:
        for name in ("opens", "closes"):
            if name in table:
                options[name] = values.clock(fail, table[name], join(key, name))
        hours = (options.get("opens", time(0)), options.get("closes", time(23, 59, 59)))
        if hours[0] >= hours[1]:
            raise fail(
                join(key, "closes"),
                f"expected a time after opens ({hours[0].isoformat()}), got {hours[1].isoformat()}",
            )
        own, where = options.get("channel", "walk_in"), join(key, "takes_unused")
        options["takes_unused"] = {}
        for channel, at in table.get("takes_unused", {}).items():
            if channel == own:
                raise fail(
                    join(where, channel),
                    f"expected another channel than the walk-in's own ({show(own)}): walk-ins "
                    "take the places other channels left unused",
                    "takes_unused_self",
                )
            options["takes_unused"][channel] = values.clock(fail, at, join(where, channel))
    _check_sessions(fail, sessions, day, join(key, "sessions"), hours)
    try:
        if walk_in:
            return WalkInQuota(day, sessions=sessions, **options)
        return OnlineQuota(day, sessions=sessions, **options)
    except ConfigurationError as exc:  # pragma: no cover - every value is checked above
        raise fail(key, str(exc)) from None


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
    fail: Fail,
    type_name: str,
    factory: PolicyFactory,
    table: Mapping[str, Any],
    checked: Mapping[str, Any],
    key: str,
) -> QuotaPolicy:
    """A registered type: its factory gets the table's keys as given, ``capacity`` as a
    `CapacityCalendar`."""
    options = {name: value for name, value in table.items() if name != "type"}
    accepted = _accepted(factory)
    what = f" for type {show(type_name)}"
    if accepted is not None:
        names, required, var_keyword = accepted
        if not var_keyword:
            for name in options:
                if name not in names:
                    raise fail.unknown(join(key, name), name, names, what=what)
        for name in sorted(required - set(options)):
            raise fail(join(key, name), f"missing (type {show(type_name)} requires it)")
    if "capacity" in options:
        options["capacity"] = values.capacity(fail, checked["capacity"], join(key, "capacity"))
    try:
        made = factory(**options)
    except (ConfigurationError, ValueError, TypeError) as exc:
        raise fail(key, f"type {show(type_name)}: {exc}") from None
    if not isinstance(made, QuotaPolicy):
        raise fail(
            join(key, "type"),
            f"the factory of type {show(type_name)} returned a {type(made).__name__}, "
            "which does not implement QuotaPolicy",
        )
    return made


def policy(fail: Fail, table: Mapping[str, Any], checked: Mapping[str, Any], key: str) -> Any:
    """The policy of one ``[[policy]]`` table (``table`` as given, ``checked`` as the schema
    saw it)."""
    type_name = checked["type"]
    if type_name in ("online", "walk_in"):
        return _builtin(fail, checked, key)
    type_key = join(key, "type")
    try:
        factory = factory_of(type_name)
    except ConfigurationError as exc:
        raise fail(type_key, str(exc)) from None
    if factory is None:
        known = policy_types()
        raise fail(
            type_key,
            f"unknown policy type {show(type_name)}{did_you_mean(type_name, known)}; "
            f"expected one of: {', '.join(known)} "
            "(register others with queue_quota.config.register_policy_type)",
            "unknown_type",
            got=got(type_name),
            suggestion=closest(type_name, known),
            allowed=known,
        )
    return _custom(fail, type_name, factory, table, checked, key)


def check_takes_unused(fail: Fail, policies: list[QuotaPolicy]) -> None:
    """``takes_unused`` names another channel of the office (not the walk-in's own: see
    `_builtin`), from a time before closing."""
    channels = tuple(p.channel for p in policies)
    for i, made in enumerate(policies):
        where = join(join("policy", i), "takes_unused")
        for name, at in getattr(made, "takes_unused", {}).items():
            key = join(where, name)
            others = tuple(c for c in channels if c != made.channel)
            if name not in channels:
                raise fail(
                    key,
                    f"unknown channel {show(name)}{did_you_mean(name, others)}; expected "
                    f"another channel of the office: {', '.join(others)}",
                    "unknown_channel",
                    got=got(name),
                    suggestion=closest(name, others),
                    allowed=others,
                )
            closes = getattr(made, "closes", None)
            if isinstance(closes, time) and at > closes:
                raise fail(
                    key,
                    f"expected a time before closes ({closes:%H:%M}), got {at.isoformat()}",
                )
