"""Running a command: parse, dispatch, and turn every outcome into an exit status and one
message in the run's language."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Sequence
from datetime import date
from typing import Final, TextIO

from .. import i18n
from ..errors import (
    BookingNotFound,
    DayClosed,
    InvalidTicket,
    InvalidTransition,
    QueueQuotaError,
    RefusalError,
    SecretMismatch,
    StorageError,
)
from ..office import Office
from . import _format as fmt
from ._context import Context
from ._parser import Handler, build_parser
from ._text import CliError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "REFUSALS",
    "main",
]

EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
EXIT_BROKEN_PIPE: Final = 141  # what a shell reports for SIGPIPE; never confused with 1
EXIT_INTERRUPTED: Final = 130

#: The errors reported as refusals (exit status 1); every other error is exit status 2.
REFUSALS: Final = (RefusalError, InvalidTransition, BookingNotFound, InvalidTicket)


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    """Run ``queue-quota`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Args:
        argv: The arguments, without the program's name.
        stdin: Where ``--citizen -`` reads from (default: ``sys.stdin``).

    Returns:
        0 on success, 1 on a refusal, 2 on bad usage or configuration, 141 if the reader
        of the output went away.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    ctx = Context(args, sys.stdout, sys.stderr, stdin)
    try:
        handler: Handler = args.handler
        return handler(ctx, args)
    except REFUSALS as exc:
        ctx.refusal(
            i18n.describe(
                _localized(ctx, exc), ctx.lang, today=_today_or_none(ctx), office=_office(ctx)
            )
        )
        return EXIT_REFUSED
    except CliError as exc:
        ctx.error(exc.render(ctx.lang))
        return EXIT_USAGE
    except SecretMismatch:  # raised after the scheduler was built (a rotated database)
        source, db = ctx.secret_source(), ctx.db_name()
        ctx.error(ctx.text("err.secret_mismatch", source=source, db=db))
        return EXIT_USAGE
    except StorageError as exc:
        ctx.error(i18n.describe(exc, ctx.lang))
        if ctx.lang == "en":  # driver details are English: not in an Indonesian run
            ctx.error(f"technical detail from the database: {exc.message}")
        return EXIT_USAGE
    except QueueQuotaError as exc:  # configuration errors and anything else not a refusal
        ctx.error(i18n.describe(exc, ctx.lang, office=_office(ctx)))
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (queue-quota manifest --csv | head)
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (KeyboardInterrupt, EOFError):
        return EXIT_INTERRUPTED
    finally:
        with contextlib.suppress(QueueQuotaError):  # closing never changes the result
            ctx.close()


def _localized(ctx: Context, exc: QueueQuotaError) -> QueueQuotaError:
    """``exc``, with a holiday's name in a `DayClosed` in the run's language if known."""
    if not isinstance(exc, DayClosed) or exc.day is None or not exc.reason:
        return exc
    try:
        reason = fmt.closed_reason(ctx.office().calendar, exc.day, exc.reason, ctx.lang)
    except QueueQuotaError:  # pragma: no cover - the office was loaded before a refusal
        return exc
    if reason == exc.reason:
        return exc
    return DayClosed(exc.message, day=exc.day, reason=reason, next_available=exc.next_available)


def _office(ctx: Context) -> Office | None:
    """The run's office for channel titles, if it could be loaded."""
    try:
        return ctx.office()
    except QueueQuotaError:
        return None


def _today_or_none(ctx: Context) -> date | None:
    try:
        return ctx.today()
    except QueueQuotaError:  # pragma: no cover - the office was loaded before a refusal
        return None
