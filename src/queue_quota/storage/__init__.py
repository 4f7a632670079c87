"""Storage adapters: the `Storage` protocol, memory, SQLite (default) and PostgreSQL.

``PostgresStorage`` needs the ``postgres`` extra (``pip install 'queue-quota[postgres]'``);
its driver is imported only when the class is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._engine import TransactionalStorage
from ._url import DEFAULT_URL, StorageURL, from_url, parse_url
from .base import ChannelMove, Storage
from .memory import MemoryStorage
from .primitives import CommitInDoubt, CounterRow, Primitives, RetryTransaction, Transaction
from .sqlite import SQLiteStorage

if TYPE_CHECKING:
    from .postgres import PostgresStorage

__all__ = [
    "DEFAULT_URL",
    "ChannelMove",
    "CommitInDoubt",
    "CounterRow",
    "MemoryStorage",
    "PostgresStorage",
    "Primitives",
    "RetryTransaction",
    "SQLiteStorage",
    "Storage",
    "StorageURL",
    "Transaction",
    "TransactionalStorage",
    "from_url",
    "parse_url",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresStorage":
        from .postgres import PostgresStorage

        return PostgresStorage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
