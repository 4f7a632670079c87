"""What a storage must offer for a part of the `Scheduler`: events, waitlists, sanctions.

Every `TransactionalStorage` offers all three; a storage that implements the 0.1
`Storage` protocol directly offers none, and is told so clearly.
"""

from __future__ import annotations

from typing import Any

from .errors import ConfigurationError

__all__ = ["require"]

#: feature -> (the storage's flag, what it lacks, the message key)
_FEATURES = {
    "events": ("supports_events", "does not write events", "configuration_error.no_events"),
    "waitlist": ("supports_waitlist", "keeps no waitlist", "configuration_error.no_waitlist"),
    "sanctions": (
        "supports_sanctions",
        "keeps no no-show sanctions",
        "configuration_error.no_sanctions",
    ),
}


def offers(storage: object, feature: str) -> bool:
    """Whether ``storage`` offers ``feature`` (``"events"``, ``"waitlist"``, ``"sanctions"``)."""
    return bool(getattr(storage, _FEATURES[feature][0], False))


def require(storage: object, feature: str, because: str = "") -> Any:
    """``storage``, if it offers ``feature``; else a `ConfigurationError` that says so
    (``because``: why the caller needs it, appended to the message)."""
    if offers(storage, feature):
        return storage
    _, lacks, key = _FEATURES[feature]
    name = type(storage).__name__
    raise ConfigurationError(
        f"{name} {lacks}{because}; use a storage built on TransactionalStorage (memory, "
        "SQLite, PostgreSQL, or your own primitives)",
        message_key=key,
        storage=name,
    )
