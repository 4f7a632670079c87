"""`OfficeFileError` and how office-file values and key paths are written in messages."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import date, datetime, time
from typing import Any, Final

from ._suggest import closest, did_you_mean
from .errors import ConfigurationError

__all__ = ["Fail", "OfficeFileError", "got", "join", "one_of", "show"]

_BARE_KEY: Final = re.compile(r"^[A-Za-z0-9_-]+$")


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


def show(value: object) -> str:
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
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def got(value: object) -> str:
    """A value as written in TOML, in no language (the ``got`` field of message keys)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[...]"
    if isinstance(value, dict):
        return "{...}"
    return show(value)


def join(path: str, key: str | int) -> str:
    """``path`` and one more key: ``policy[1]``, ``calendar.closures."a b"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    part = key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)
    return f"{path}.{part}" if path else part


def one_of(names: Collection[str]) -> str:
    """Names sorted and joined for "expected one of: ..."."""
    return ", ".join(sorted(names))


class Fail:
    """Makes the `OfficeFileError`s of one source."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __call__(
        self, key: str | None, reason: str, message_key: str | None = None, **fields: Any
    ) -> OfficeFileError:
        """The error at ``key``; ``message_key`` is a catalogue key under ``office_file.``."""
        if message_key is not None:
            message_key = f"office_file.{message_key}"
        return OfficeFileError(self.source, key, reason, message_key=message_key, **fields)

    def unknown(
        self, key: str, name: str, allowed: Collection[str], *, noun: str = "key", what: str = ""
    ) -> OfficeFileError:
        """An unknown key ``name`` at ``key``, with "did you mean"; ``noun="language"`` for a
        language of a title (``allowed`` kept in its order), ``what`` says where."""
        if noun == "language":
            known = tuple(allowed)
            return self(
                key,
                f"unknown language{did_you_mean(name, known)}; expected one of: {', '.join(known)}",
                "title_language",
                suggestion=closest(name, known),
                allowed=known,
            )
        return self(
            key,
            f"unknown {noun}{what}{did_you_mean(name, allowed)}; expected one of: "
            f"{one_of(allowed)}",
            "unknown_key",
            suggestion=closest(name, allowed),
            allowed=frozenset(allowed),
        )
