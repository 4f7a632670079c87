"""Running one storage operation (one transaction) again when the adapter asks to."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import StorageError
from .primitives import CommitInDoubt, RetryTransaction

__all__ = ["ATTEMPTS", "retrying"]

#: How many times one operation is run when its transaction asks to be run again.
ATTEMPTS = 6

F = TypeVar("F", bound=Callable[..., Any])


def retrying(method: F) -> F:
    """Run the operation (one transaction) again when the adapter says `RetryTransaction`;
    a `CommitInDoubt` is a `StorageError` (a booking's is settled by `reserve` itself)."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(ATTEMPTS):
            try:
                return method(self, *args, **kwargs)
            except RetryTransaction as exc:
                if attempt == ATTEMPTS - 1:
                    raise StorageError(f"the storage kept failing: {exc}") from exc
            except CommitInDoubt as exc:
                raise StorageError(
                    "the connection was lost while committing: the change may or may not "
                    "have been made"
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    return run  # type: ignore[return-value]
