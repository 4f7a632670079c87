"""`Office`: one service point with its calendar and its channels' policies."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import attrs

from ._suggest import closest, did_you_mean
from .calendar import WorkingCalendar
from .counters import Pool
from .errors import ConfigurationError, UnknownChannel
from .policies.base import QuotaPolicy

__all__ = ["Office"]

_OFFICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def _check_id(_: object, a: object, value: Any) -> None:
    if not isinstance(value, str) or not _OFFICE_ID.match(value):
        raise ConfigurationError(
            "office id must be 1-64 letters, digits, '.', '_', ':' or '-', "
            f"starting with a letter or digit, got {value!r}"
        )


def _check_calendar(_: object, a: object, value: Any) -> None:
    if not isinstance(value, WorkingCalendar):
        raise ConfigurationError(f"calendar must be a WorkingCalendar, got {type(value).__name__}")


def _check_policies(_: object, a: object, value: tuple[QuotaPolicy, ...]) -> None:
    if not value:
        raise ConfigurationError("an office needs at least one policy")
    channels: set[str] = set()
    prefixes: set[str] = set()
    for p in value:
        if not isinstance(p, QuotaPolicy):
            raise ConfigurationError(
                f"{type(p).__name__} does not implement the QuotaPolicy protocol"
            )
        if p.channel in channels:
            raise ConfigurationError(f"two policies share the channel {p.channel!r}")
        if p.prefix in prefixes:
            raise ConfigurationError(f"two policies share the label prefix {p.prefix!r}")
        channels.add(p.channel)
        prefixes.add(p.prefix)


def _to_tuple(value: Sequence[QuotaPolicy]) -> tuple[QuotaPolicy, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConfigurationError("policies must be a sequence of QuotaPolicy objects")
    return tuple(value)


def _to_pools(value: Sequence[Pool]) -> tuple[Pool, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConfigurationError("pools must be a sequence of Pool objects")
    return tuple(value)


@attrs.frozen
class Office:
    """An office: its id, its `WorkingCalendar`, and one policy per channel.

    The order of ``policies`` is the service order of a day's manifest (e.g. online
    registrants before walk-ins). ``pools`` are places shared by several channels (a
    booking takes a place of its channel's day and of every pool its channel is in);
    ``per_citizen`` limits a citizen's active bookings over every channel of the office.
    """

    id: str = attrs.field(validator=_check_id)
    calendar: WorkingCalendar = attrs.field(validator=_check_calendar)
    policies: tuple[QuotaPolicy, ...] = attrs.field(converter=_to_tuple, validator=_check_policies)
    pools: tuple[Pool, ...] = attrs.field(default=(), kw_only=True, converter=_to_pools)
    per_citizen: int | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        names: set[str] = set()
        for pool in self.pools:
            if not isinstance(pool, Pool):
                raise ConfigurationError(f"pools must be Pool objects, got {pool!r}")
            if pool.name in names:
                raise ConfigurationError(f"two pools share the name {pool.name!r}")
            names.add(pool.name)
            for channel in pool.channels:
                if channel not in self.channels:
                    raise ConfigurationError(
                        f"pool {pool.name!r} names channel {channel!r}, which the office "
                        f"does not have (channels: {', '.join(self.channels)})"
                    )
        if self.per_citizen is not None and (
            isinstance(self.per_citizen, bool)
            or not isinstance(self.per_citizen, int)
            or self.per_citizen < 1
        ):
            raise ConfigurationError(
                f"per_citizen must be None or an integer >= 1, got {self.per_citizen!r}"
            )

    def pools_of(self, channel: str) -> tuple[Pool, ...]:
        """The pools a channel's bookings also take a place from."""
        return tuple(p for p in self.pools if channel in p.channels)

    @property
    def channels(self) -> tuple[str, ...]:
        """The channel names, in service order."""
        return tuple(p.channel for p in self.policies)

    @property
    def walk_in_channels(self) -> tuple[str, ...]:
        """The channels that give numbers at the door, for today only, in service order.

        A policy says so with a ``walk_in`` attribute (the built-in `WalkInQuota` does);
        a custom policy without one counts as walk-in when its booking window is today
        only.
        """
        out = []
        probe = self.calendar.next_working_day(date(2000, 1, 3))
        for p in self.policies:
            flag = getattr(p, "walk_in", None)
            if flag is None:
                try:
                    flag = p.booking_window(probe, self.calendar) == (probe, probe)
                except Exception:  # a custom policy that cannot answer: not a walk-in
                    flag = False
            if flag:
                out.append(p.channel)
        return tuple(out)

    def policy(self, channel: str) -> QuotaPolicy:
        """The policy of ``channel``; `UnknownChannel` if the office has none."""
        for p in self.policies:
            if p.channel == channel:
                return p
        hint = did_you_mean(channel, self.channels)
        raise UnknownChannel(
            f"office {self.id!r} has no channel {channel!r}{hint}; "
            f"channels: {', '.join(self.channels)}",
            channel=channel if isinstance(channel, str) else repr(channel),
            channels=self.channels,
            suggestion=closest(channel, self.channels),
        )
