"""Parsing: argument types, the global options, and the parser of every command.

Each group of commands registers its own subcommands (``register(add)`` in its module);
this module only assembles them. Help texts are in English, as argparse's own messages.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Final, Protocol

from .. import i18n
from ..storage import DEFAULT_URL
from ._context import ENV_DB, ENV_OFFICE

if TYPE_CHECKING:
    from ._context import Context

__all__ = [
    "PROG",
    "AddCommand",
    "Handler",
    "aware_timestamp",
    "build_parser",
    "day_count",
    "iso_date",
    "year_month",
]

PROG: Final = "queue-quota"

#: A command: runs with the context and the parsed arguments, returns the exit status.
Handler = Callable[["Context", argparse.Namespace], int]


class AddCommand(Protocol):
    """Adds one subcommand and returns its parser (for its own arguments)."""

    def __call__(
        self,
        name: str,
        handler: Handler,
        *,
        access: str,
        summary: str,
        description: str,
        examples: Sequence[str],
    ) -> argparse.ArgumentParser: ...


# -- argument types ---------------------------------------------------------------------------


def aware_timestamp(text: str) -> datetime:
    """An ISO-8601 timestamp with an offset (a naive one is refused)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO-8601 timestamp: {text!r} (e.g. 2020-06-04T09:00:00+07:00)"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone offset; write e.g. 2020-06-04T09:00:00+07:00"
        )
    return value


def iso_date(text: str) -> date:
    """``YYYY-MM-DD``."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        try:
            return date.fromisoformat(text.strip())
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a valid date: {text!r} ({exc})") from None
    raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}")


def clock_time(text: str) -> time:
    """``HH:MM`` (or ``HH.MM``), a local time of day."""
    found = re.fullmatch(r"(\d{1,2})[:.](\d{2})", text.strip())
    if found and int(found[1]) < 24 and int(found[2]) < 60:
        return time(int(found[1]), int(found[2]))
    raise argparse.ArgumentTypeError(f"not a time HH:MM: {text!r}")


def claim(text: str) -> tuple[str, str]:
    """``NAME=VALUE``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"not a claim NAME=VALUE: {text!r}")
    return name.strip(), value.strip()


def year_month(text: str) -> tuple[int, int]:
    """``YYYY-MM``."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise argparse.ArgumentTypeError(f"not a month YYYY-MM: {text!r}")
    return int(match[1]), int(match[2])


def day_count(text: str) -> int:
    """A number of days, 1 to 366."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 366:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to 366, got {text!r}")
    return value


# -- the parser -------------------------------------------------------------------------------

_DESCRIPTION = """\
Daily quotas instead of physical queues: book, move and check in citizens of a
civil-registration office (online and walk-in quotas per working day).
"""

_EPILOG = f"""\
examples:
  queue-quota demo
  queue-quota --office tegal.toml calendar --month 2020-12
  queue-quota --office tegal.toml availability --channel online --from 2020-06-04
  queue-quota --office tegal.toml book --channel online --citizen -
  queue-quota --office tegal.toml walk-in --lang en
  queue-quota --office tegal.toml manifest 2020-06-05 --csv > manifest.csv

environment:
  {ENV_OFFICE}    office file used when --office is not given (one of them
                        is required, except by demo)
  {ENV_DB}        database URL used when --db is not given
                        (default: {DEFAULT_URL})
  QUEUE_QUOTA_SECRET    secret for tickets and citizen refs (at least 16 bytes);
                        without it, an SQLite database's key file is kept in
                        $XDG_CONFIG_HOME/queue-quota/ (else ~/.config/queue-quota/),
                        created with a new database (required for PostgreSQL)
  QUEUE_QUOTA_KEY_FILE  another key file instead

exit status: 0 success, 1 refused (full, closed, outside hours, not found, ...),
2 bad usage or configuration (a missing office, database or secret, a wrong secret).
"""


def _global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """The options every command takes; with ``suppress``, without defaults (so that an
    option given before the command is not overwritten by the subcommand's parser)."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("global options")
    group.add_argument(
        "--office",
        metavar="FILE",
        default=default(None),
        help=f"office file (TOML); default: ${ENV_OFFICE} (one of them is required)",
    )
    group.add_argument(
        "--db",
        metavar="URL",
        default=default(None),
        help=f"sqlite:///PATH, postgresql://... or memory://; default: ${ENV_DB} or {DEFAULT_URL}",
    )
    group.add_argument(
        "--lang",
        choices=i18n.LANGUAGES,
        default=default("id"),
        help="language of everything the command prints: id (Indonesian, default) or en",
    )
    group.add_argument(
        "--now",
        metavar="ISO-8601",
        type=aware_timestamp,
        default=default(None),
        help="act as if it were this moment (with offset, e.g. 2020-06-04T09:00:00+07:00)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``queue-quota`` (exposed for documentation tools)."""
    from . import (
        _cmd_booking,
        _cmd_days,
        _cmd_desk,
        _cmd_events,
        _cmd_plan,
        _cmd_views,
        _cmd_waitlist,
    )

    parser = argparse.ArgumentParser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_global_options(suppress=False)],
    )
    commands: Any = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    parent = _global_options(suppress=True)

    def add(
        name: str,
        handler: Handler,
        *,
        access: str,
        summary: str,
        description: str,
        examples: Sequence[str],
    ) -> argparse.ArgumentParser:
        epilog = "examples:\n" + "\n".join(f"  {PROG} {line}" for line in examples)
        sub: argparse.ArgumentParser = commands.add_parser(
            name,
            parents=[parent],
            help=summary,
            description=description,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler, access=access, command_name=name)
        return sub

    modules = (
        _cmd_views,
        _cmd_booking,
        _cmd_desk,
        _cmd_days,
        _cmd_events,
        _cmd_waitlist,
        _cmd_plan,
    )
    for module in modules:
        module.register(add)
    return parser
