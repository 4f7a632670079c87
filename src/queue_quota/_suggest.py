""" "Did you mean ...?": the closest known name to a mistyped one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(name: object, known: Iterable[str]) -> str | None:
    """The known name closest to ``name`` (``difflib``'s ratio >= 0.6), or ``None``."""
    if not isinstance(name, str):
        return None
    found = difflib.get_close_matches(name, list(known), n=1)
    return found[0] if found else None


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest known name, or ``""`` if none is close."""
    match = closest(name, known)
    return f" (did you mean {match!r}?)" if match else ""
