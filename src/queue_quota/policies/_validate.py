"""Shared validation of policy parameters."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigurationError

_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,4}$")


def channel_name(_: object, attribute: object, value: Any) -> None:
    """attrs validator: a channel is a short lower-case identifier."""
    if not isinstance(value, str) or not _CHANNEL.match(value):
        raise ConfigurationError(
            f"channel must be a lower-case identifier of at most 32 characters, got {value!r}"
        )


def prefix(_: object, attribute: object, value: Any) -> None:
    """attrs validator: a label prefix is 1-4 upper-case letters or digits."""
    if not isinstance(value, str) or not _PREFIX.match(value):
        raise ConfigurationError(f"prefix must be 1-4 upper-case letters or digits, got {value!r}")


def non_negative_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int >= 0 (not a bool), else raise ConfigurationError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int >= 1 (not a bool), else raise ConfigurationError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def optional_limit(name: str, value: object) -> int | None:
    """Return ``value`` if it is ``None`` or an int >= 1, else raise ConfigurationError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{name} must be None or an integer >= 1, got {value!r}")
    return value


def title(value: Any) -> dict[str, str] | None:
    """attrs converter: a channel's display name, one text or ``{language: text}``.

    ``"Prioritas"`` is used in every language; ``{"id": "Prioritas", "en": "Priority"}``
    per language. Returns a plain dict (or ``None``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise ConfigurationError("title must be a non-empty text or a {language: text} table")
        return {"*": value.strip()}
    if isinstance(value, dict) or hasattr(value, "items"):
        out: dict[str, str] = {}
        for lang, text in value.items():
            if not isinstance(lang, str) or not isinstance(text, str) or not text.strip():
                raise ConfigurationError(
                    f"title must map language codes to non-empty texts, got {value!r}"
                )
            out[lang.strip().lower()] = text.strip()
        if not out:
            raise ConfigurationError("title must not be empty")
        return out
    raise ConfigurationError(f"title must be a text or a {{language: text}} table, got {value!r}")
