"""Weekmasks: which days of the week are working days, and arithmetic over them.

A weekmask is kept as seven booleans, Monday first. Arithmetic works on proleptic
Gregorian ordinals (``date.toordinal()``: 1 is Monday 0001-01-01), so the weekday of an
ordinal ``o`` is ``(o - 1) % 7`` and its *residue* ``o % 7`` is what the tables below are
indexed by (residue 1 is a Monday, residue 0 a Sunday).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .errors import ConfigurationError

__all__ = ["WEEKDAY_NAMES", "WeekArithmetic", "format_weekmask", "parse_weekmask"]

WEEKDAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_NAME_INDEX: Final = {name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)}


def parse_weekmask(value: object) -> tuple[bool, ...]:
    """Parse a weekmask into seven booleans, Monday first.

    Accepted forms (as numpy's ``busdaycalendar`` accepts them): seven ``0``/``1``
    characters (``"1111100"``), weekday abbreviations separated by spaces or commas, or
    run together (``"Mon Tue Wed Thu Fri"``, ``"MonTueWed"``), or a sequence of seven
    ``0``/``1`` integers or booleans.

    Raises:
        ConfigurationError: the value is malformed or selects no day at all.
    """
    bits: tuple[bool, ...]
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 7 and set(text) <= {"0", "1"}:
            bits = tuple(ch == "1" for ch in text)
        else:
            bits = _parse_names(value)
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        if len(value) != 7 or any(
            not isinstance(v, int) or v not in (0, 1)  # bool is an int: True/False allowed
            for v in value
        ):
            raise ConfigurationError(
                f"weekmask must have seven 0/1 values (Monday first), got {value!r}"
            )
        bits = tuple(bool(v) for v in value)
    else:
        raise ConfigurationError(
            f"weekmask must be a string like '1111100' or 'Mon Tue Wed Thu Fri', got {value!r}"
        )
    if not any(bits):
        raise ConfigurationError(f"weekmask {value!r} has no working day")
    return bits


def _parse_names(value: str) -> tuple[bool, ...]:
    text = value.replace(",", " ").lower()
    names: list[str] = []
    for chunk in text.split():
        if len(chunk) % 3:
            raise _bad_weekmask(value)
        names.extend(chunk[i : i + 3] for i in range(0, len(chunk), 3))
    bits = [False] * 7
    for name in names:
        index = _NAME_INDEX.get(name)
        if index is None or bits[index]:
            raise _bad_weekmask(value)
        bits[index] = True
    return tuple(bits)


def _bad_weekmask(value: str) -> ConfigurationError:
    return ConfigurationError(
        f"weekmask must be seven 0/1 characters (Monday first) or weekday names like "
        f"'Mon Tue Wed Thu Fri' without repeats, got {value!r}"
    )


def format_weekmask(bits: Sequence[bool]) -> str:
    """The canonical ``"1111100"`` form of a parsed weekmask."""
    return "".join("1" if b else "0" for b in bits)


class WeekArithmetic:
    """Counting and stepping over the days a weekmask allows, in O(1), without holidays.

    ``cum(o)`` is the number of weekmask days among the ordinals ``[0, o)``; ``inv(w)`` is
    the weekmask day ``o`` with ``cum(o) == w``. Both are plain arithmetic on whole weeks
    plus a seven-entry table.
    """

    __slots__ = ("before", "bit", "per_week", "position")

    def __init__(self, bits: Sequence[bool]) -> None:
        #: ``bit[r]``: whether residue ``r`` (``o % 7``) is a weekmask day.
        self.bit: tuple[bool, ...] = tuple(bits[(r + 6) % 7] for r in range(7))
        #: Weekmask days in one week.
        self.per_week: int = sum(self.bit)
        #: ``before[r]``: weekmask days among residues ``0 .. r - 1``.
        self.before: tuple[int, ...] = tuple(sum(self.bit[:r]) for r in range(7))
        #: ``position[j]``: the residue of the ``j``-th weekmask day of a week.
        self.position: tuple[int, ...] = tuple(r for r in range(7) if self.bit[r])

    def cum(self, o: int) -> int:
        """Weekmask days in ``[0, o)``."""
        q, r = divmod(o, 7)
        return q * self.per_week + self.before[r]

    def inv(self, w: int) -> int:
        """The weekmask day ``o`` such that ``cum(o) == w``."""
        q, j = divmod(w, self.per_week)
        return q * 7 + self.position[j]
