"""`from_url`: the one parser of storage URLs (the CLI, the examples and users share it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .base import Storage

__all__ = ["DEFAULT_URL", "StorageURL", "from_url", "parse_url"]

#: The database every entry point uses when none is named: a file in the working folder.
DEFAULT_URL = "sqlite:///queue-quota.sqlite3"


class StorageURL:
    """A parsed storage URL: ``kind`` is ``"memory"``, ``"sqlite"`` or ``"postgresql"``.

    ``target`` is the SQLite file's path or the PostgreSQL conninfo (``None`` for memory).
    Its ``repr`` never shows a password.
    """

    __slots__ = ("kind", "target")

    def __init__(self, kind: str, target: str | None) -> None:
        self.kind = kind
        self.target = target

    @property
    def path(self) -> Path | None:
        """The SQLite database file, or ``None`` for other kinds."""
        return Path(self.target) if self.kind == "sqlite" and self.target else None

    def __repr__(self) -> str:
        if self.kind == "postgresql":
            return "StorageURL('postgresql', <conninfo>)"
        return f"StorageURL({self.kind!r}, {self.target!r})"


def parse_url(url: str) -> StorageURL:
    """Parse ``sqlite:///relative/path``, ``sqlite:////absolute/path``,
    ``postgresql://...`` (or ``postgres://...``) and ``memory://``.

    A bare path (no scheme) is an SQLite file.

    Raises:
        ConfigurationError: An empty URL, an unknown scheme, or a malformed SQLite URL.
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"a storage URL must be a string, got {type(url).__name__}")
    text = url.strip()
    if not text:
        raise ConfigurationError("empty storage URL")
    if text in ("memory://", "memory:"):
        return StorageURL("memory", None)
    if text.startswith("sqlite://"):
        rest = text[len("sqlite://") :]
        if not rest.startswith("/") or len(rest) < 2 or "?" in rest:
            raise ConfigurationError(
                "storage URL: expected sqlite:///relative/path or sqlite:////absolute/path, "
                f"got {_safe(text)!r}"
            )
        return StorageURL("sqlite", unquote(rest[1:]))
    if text.startswith(("postgresql://", "postgres://")):
        return StorageURL("postgresql", text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ConfigurationError(
            f"storage URL: unsupported scheme {scheme!r}; expected sqlite:///PATH, "
            "postgresql://... or memory://"
        )
    return StorageURL("sqlite", text)


def _safe(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def from_url(url: str, **options: Any) -> Storage:
    """The storage a URL names: `SQLiteStorage`, `PostgresStorage` or `MemoryStorage`.

    ``options`` are passed to the adapter (e.g. ``synchronous="NORMAL"`` for SQLite,
    ``schema="qq"`` for PostgreSQL).

    ``from_url("sqlite:///queue.sqlite3")`` is ``SQLiteStorage("queue.sqlite3")``.

    Raises:
        ConfigurationError: See `parse_url`.
    """
    parsed = parse_url(url)
    if parsed.kind == "memory":
        from .memory import MemoryStorage

        return MemoryStorage(**options)
    if parsed.kind == "sqlite":
        from .sqlite import SQLiteStorage

        assert parsed.target is not None
        return SQLiteStorage(parsed.target, **options)
    from .postgres import PostgresStorage

    assert parsed.target is not None
    return PostgresStorage(parsed.target, **options)
