"""The ``queue-quota`` command line (also ``python -m queue_quota``).

::

    queue-quota COMMAND [ARGS] [--office FILE] [--db URL] [--lang id|en] [--now ISO-8601]

Commands: ``demo``, ``calendar``, ``availability``, ``book``, ``walk-in``, ``cancel``,
``check-in``, ``close-day``, ``mark-no-shows``, ``manifest``; ``queue-quota COMMAND --help``
explains each.
The global options may come before or after the command.

Choices made here:

* **Office.** ``--office FILE``, else the file named by ``$QUEUE_QUOTA_OFFICE``, else the
  built-in Tegal office of the design document (`queue_quota.demo.tegal_office`), so that
  the tool can be tried at once. Production deployments name their file.
* **Database.** ``--db``, else ``$QUEUE_QUOTA_DB``, else ``sqlite:///queue-quota.sqlite3``.
  ``sqlite:///relative/path`` and ``sqlite:////absolute/path`` (SQLAlchemy's convention);
  a value without ``://`` is taken as an SQLite file path; ``postgresql://...`` (or
  ``postgres://...``) uses `queue_quota.storage.PostgresStorage`. ``calendar`` reads a
  database only if it exists already (it never creates one).
* **Secret.** ``$QUEUE_QUOTA_SECRET`` (UTF-8, at least 16 bytes), else, for SQLite, the
  key file ``<database>.key`` beside the database: 32 random bytes, mode 0600, created on
  first use. It is written to a temporary file (``mkstemp``: ``O_CREAT | O_EXCL``, 0600)
  and published with ``link()``, which fails if the name exists: a key file is never seen
  half-written, and processes racing to create it all end up using the one that won.
  PostgreSQL has no such file: without ``$QUEUE_QUOTA_SECRET`` the tool exits with 2
  (every app server must share the secret). Commands that need no secret (``calendar``,
  ``demo``) never create the key file.
* **Time.** ``--now`` (an aware ISO-8601 timestamp; a naive one is refused) replaces the
  clock, for replays and tests.
* **Language.** ``--lang id`` (default) or ``en`` for everything a citizen reads: tickets,
  refusals, tables. Holiday names are shown in that language when the ``holidays``
  package has them (English: ``en_US``).
* **Output.** Results go to standard output; refusals and errors to standard error.
  Exit status 0: success; 1: a refusal (day full, closed, outside hours or booking window,
  already booked) or a booking that cannot be found, moved or checked in, or a bad ticket;
  2: bad usage or configuration (arguments, office file, database URL or connection,
  secret); 141 if the reader of the output went away (``... | head``). Raw citizen IDs
  are never printed (bookings only hold a keyed hash).
* **Manifest formats.** ``--json`` writes one object ``{"office_id", "day", "channel",
  "bookings": [...]}``; ``--csv`` writes a header and one row per booking. Both carry
  ``id, channel, day, number, label, status, ticket, created_at`` (``created_at`` in UTC,
  ISO 8601). Neither carries ``citizen_ref``: counter staff identify people by their
  ticket, and a pseudonymous identifier copied into exports and spreadsheets is personal
  data that no one at the counter needs. The ``idempotency_key`` (chosen by the calling
  application) is left out for the same reason.
* **cancel** accepts a booking id or a ticket.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import importlib
import io
import json
import os
import re
import secrets
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TextIO
from urllib.parse import unquote

from . import i18n
from ._messages import CATALOGUES
from .calendar import WEEKEND, WorkingCalendar
from .config import load_office
from .errors import (
    BookingNotFound,
    ConfigurationError,
    DayClosed,
    InvalidTicket,
    InvalidTransition,
    QueueQuotaError,
    RefusalError,
    StorageError,
)
from .models import Booking
from .office import Office
from .policies import WalkInQuota
from .scheduler import Scheduler
from .storage import SQLiteStorage, Storage

__all__ = ["build_parser", "load_or_create_key", "main"]

PROG: Final = "queue-quota"
DEFAULT_DB: Final = "sqlite:///queue-quota.sqlite3"
ENV_OFFICE: Final = "QUEUE_QUOTA_OFFICE"
ENV_DB: Final = "QUEUE_QUOTA_DB"
ENV_SECRET: Final = "QUEUE_QUOTA_SECRET"
KEY_BYTES: Final = 32
MIN_SECRET_BYTES: Final = 16

EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
EXIT_BROKEN_PIPE: Final = 141  # what a shell reports for SIGPIPE; never confused with 1

_REFUSALS: Final = (RefusalError, InvalidTransition, BookingNotFound, InvalidTicket)
_MANIFEST_FIELDS: Final = (
    "id",
    "channel",
    "day",
    "number",
    "label",
    "status",
    "ticket",
    "created_at",
)
_HOLIDAY_LANGUAGES: Final = {"id": ("id",), "en": ("en_US", "en_GB", "en")}


# -- argument types ---------------------------------------------------------------------------


def _aware_timestamp(text: str) -> datetime:
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


def _iso_date(text: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        try:
            return date.fromisoformat(text.strip())
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a valid date: {text!r} ({exc})") from None
    raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}")


def _year_month(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise argparse.ArgumentTypeError(f"not a month YYYY-MM: {text!r}")
    return int(match[1]), int(match[2])


def _day_count(text: str) -> int:
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

_EPILOG = """\
examples:
  queue-quota demo
  queue-quota --office examples/tegal.toml calendar --month 2020-12
  queue-quota availability --channel online --from 2020-06-04 --days 10
  queue-quota book --channel online --citizen 3328011234560001
  queue-quota walk-in --lang en
  queue-quota manifest 2020-06-05 --csv > manifest.csv

environment:
  QUEUE_QUOTA_OFFICE  office file used when --office is not given
                      (default: the built-in Tegal office)
  QUEUE_QUOTA_DB      database URL used when --db is not given
                      (default: sqlite:///queue-quota.sqlite3)
  QUEUE_QUOTA_SECRET  secret for tickets and citizen refs (at least 16 bytes);
                      without it, a key file <database>.key is created beside an
                      SQLite database (required for PostgreSQL)

exit status: 0 success, 1 refused (full, closed, outside hours, ...), 2 bad usage
or configuration.
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
        help=f"office file (TOML); default: ${ENV_OFFICE} or the built-in Tegal office",
    )
    group.add_argument(
        "--db",
        metavar="URL",
        default=default(None),
        help=f"sqlite:///PATH or postgresql://...; default: ${ENV_DB} or {DEFAULT_DB}",
    )
    group.add_argument(
        "--lang",
        choices=i18n.LANGUAGES,
        default=default("id"),
        help="language of what citizens read: id (Indonesian, default) or en",
    )
    group.add_argument(
        "--now",
        metavar="ISO-8601",
        type=_aware_timestamp,
        default=default(None),
        help="act as if it were this moment (with offset, e.g. 2020-06-04T09:00:00+07:00)",
    )
    return parent


def _command(
    commands: Any,
    parent: argparse.ArgumentParser,
    name: str,
    handler: Callable[[_Context, argparse.Namespace], int],
    summary: str,
    description: str,
    examples: Sequence[str],
) -> argparse.ArgumentParser:
    epilog = "examples:\n" + "\n".join(f"  {PROG} {line}" for line in examples)
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        parents=[parent],
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``queue-quota`` (exposed for documentation tools)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_global_options(suppress=False)],
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    parent = _global_options(suppress=True)

    _command(
        commands,
        parent,
        "demo",
        _cmd_demo,
        "run the Tegal scenario and print a day-by-day report",
        "Run the Tegal scenario of the design document (June 2020: 420 online\n"
        "registrations, walk-ins every morning) against a temporary SQLite database\n"
        "and print what happened day by day. Ignores --office, --db and --now.",
        ["demo"],
    )

    p = _command(
        commands,
        parent,
        "calendar",
        _cmd_calendar,
        "list the closed days of a month, with the reasons",
        "List every day of a month on which the office is closed (weekends, public\n"
        "holidays, cuti bersama, closures in the office file and days closed with\n"
        "close-day), with the reason, and the special openings.",
        ["calendar --month 2020-12", "--office examples/tegal.toml calendar --month 2020-06"],
    )
    p.add_argument(
        "--month",
        metavar="YYYY-MM",
        type=_year_month,
        help="the month (default: the current month at the office)",
    )

    p = _command(
        commands,
        parent,
        "availability",
        _cmd_availability,
        "show capacity, bookings and places left per day",
        "Show, for each day, the capacity of a channel, how many places are booked, how\n"
        "many remain, and why the day is closed if it is.",
        [
            "availability",
            "availability --channel walk_in --from 2020-06-04 --days 7",
        ],
    )
    p.add_argument(
        "--channel", metavar="C", help="the channel (default: the office's first channel)"
    )
    p.add_argument(
        "--from",
        dest="start",
        metavar="DATE",
        type=_iso_date,
        help="first day, YYYY-MM-DD (default: today at the office)",
    )
    p.add_argument(
        "--days", metavar="N", type=_day_count, default=14, help="number of days (default: 14)"
    )

    p = _command(
        commands,
        parent,
        "book",
        _cmd_book,
        "book a place for a citizen and print the ticket",
        "Book a place on a channel: the earliest working day with room, or exactly\n"
        "--date. Prints the queue number, the day and the signed ticket. A retry with the\n"
        "same --key returns the same booking. Exit status 1 if refused (the message\n"
        "says which day is still free).",
        [
            "book --channel online --citizen 3328011234560001",
            "book --channel online --citizen 3328011234560001 --date 2020-06-08",
            "book --channel online --citizen 3328011234560001 --key web-4711",
        ],
    )
    p.add_argument("--channel", metavar="C", required=True, help="the channel, e.g. online")
    p.add_argument(
        "--citizen", metavar="ID", help="the citizen's ID (NIK); only a keyed hash is stored"
    )
    p.add_argument("--key", metavar="K", help="idempotency key: a retry returns the same booking")
    p.add_argument("--date", metavar="D", type=_iso_date, help="the day wanted, YYYY-MM-DD")

    p = _command(
        commands,
        parent,
        "walk-in",
        _cmd_walk_in,
        "give a walk-in number for today",
        "Give the next walk-in number for today, within the opening hours. When the day\n"
        "is full, says when to come back and the earliest online day (exit status 1).",
        ["walk-in", "walk-in --citizen 3328011234560001 --lang en"],
    )
    p.add_argument("--citizen", metavar="ID", help="the citizen's ID (optional)")
    p.add_argument(
        "--channel", metavar="C", help="the walk-in channel (default: the office's walk-in policy)"
    )

    p = _command(
        commands,
        parent,
        "cancel",
        _cmd_cancel,
        "cancel a booking and free its place",
        "Cancel a booking for today or later; its place becomes free (its number is not\n"
        "given to anyone else).",
        ["cancel 7K3M2QXR9D0AHV5T", "cancel 7K3M-2QXR-9D0A-HV5T.E4W1-8NBC-Q6Z"],
    )
    p.add_argument("booking", metavar="ID", help="the booking id, or its ticket")

    p = _command(
        commands,
        parent,
        "check-in",
        _cmd_check_in,
        "check a citizen in with their ticket",
        "Mark the citizen as arrived, on the booking's day only. The ticket's signature\n"
        "is verified (exit status 1 for a forged or altered ticket).",
        ["check-in 7K3M-2QXR-9D0A-HV5T.E4W1-8NBC-Q6Z"],
    )
    p.add_argument("ticket", metavar="TICKET", help="the ticket (or a booking id)")

    p = _command(
        commands,
        parent,
        "close-day",
        _cmd_close_day,
        "close a day and move its bookings",
        "Close a day for every process sharing the database and move its bookings, in\n"
        "their order, to the next days with room. Prints the moved bookings: notify\n"
        "these citizens of their new number and day.",
        ['close-day 2020-06-12 --reason "banjir (flood)"'],
    )
    p.add_argument("day", metavar="DATE", type=_iso_date, help="the day to close, YYYY-MM-DD")
    p.add_argument("--reason", metavar="TEXT", required=True, help="why (shown to citizens)")

    p = _command(
        commands,
        parent,
        "mark-no-shows",
        _cmd_mark_no_shows,
        "mark who did not come on a past day",
        "Mark every booking of a day that has ended (before today at the office) that is\n"
        "still booked as a no-show, freeing its place in the day's count. Checked-in and\n"
        "cancelled bookings are left alone. Prints the labels marked, one a line, or\n"
        '"none"; running it again prints "none". A day that has not ended is exit status 2.',
        ["mark-no-shows 2020-06-05"],
    )
    p.add_argument("day", metavar="DATE", type=_iso_date, help="the day that has ended, YYYY-MM-DD")

    p = _command(
        commands,
        parent,
        "manifest",
        _cmd_manifest,
        "list the bookings of a day in service order",
        "List the bookings of a day in service order (the office's channel order, then\n"
        "number), as a table, JSON or CSV. No personal data is included.",
        [
            "manifest 2020-06-05",
            "manifest 2020-06-05 --channel online --json",
            "manifest 2020-06-05 --csv > manifest.csv",
        ],
    )
    p.add_argument("day", metavar="DATE", type=_iso_date, help="the day, YYYY-MM-DD")
    p.add_argument("--channel", metavar="C", help="only this channel")
    p.add_argument(
        "--all", action="store_true", help="include cancelled bookings (default: active only)"
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="write JSON")
    fmt.add_argument("--csv", action="store_true", help="write CSV")
    return parser


# -- running a command ------------------------------------------------------------------------


def load_or_create_key(path: Path) -> bytes:
    """The secret in the key file ``path``, creating it (32 random bytes, mode 0600) if
    it does not exist.

    Safe when several processes race: the key is written to a temporary file created
    with ``O_CREAT | O_EXCL`` (mode 0600) and published with ``link()``, which fails if
    the name already exists; every process then reads the one file that won.

    Raises:
        ConfigurationError: The key file cannot be read or created, or is too short.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the key file {path}: {exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process published its key first: use that one
        except OSError:
            _create_exclusive(path)  # a file system without hard links
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return _read_key(path)


def _create_exclusive(path: Path) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise ConfigurationError(f"cannot create the key file {path}: {exc}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(KEY_BYTES))
        f.flush()
        os.fsync(f.fileno())


def _read_key(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigurationError(f"cannot read the key file {path}: {exc}") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"the key file {path} holds {len(key)} bytes, fewer than {MIN_SECRET_BYTES}: "
            "it is damaged (restore it from a backup; tickets depend on it)"
        )
    return key


def _parse_db(url: str) -> tuple[str, str]:
    """``("sqlite", path)`` or ``("postgresql", url)``."""
    text = url.strip()
    if text.startswith("sqlite://"):
        rest = text[len("sqlite://") :]
        if not rest.startswith("/") or len(rest) < 2 or "?" in rest:
            raise ConfigurationError(
                f"--db {url!r}: expected sqlite:///relative/path or sqlite:////absolute/path"
            )
        return "sqlite", unquote(rest[1:])
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql", text
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ConfigurationError(
            f"--db: unsupported scheme {scheme!r}; expected sqlite:///PATH or postgresql://..."
        )
    if not text:
        raise ConfigurationError("--db: empty database URL")
    return "sqlite", text


class _Context:
    """What a command needs, built on first use, and closed at the end."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.lang: str = args.lang
        self.now: datetime = args.now or datetime.now(UTC)
        self._office: Office | None = None
        self._storage: Storage | None = None
        self._scheduler: Scheduler | None = None
        self._db: tuple[str, str] | None = None

    # -- lazily built ----------------------------------------------------------------------

    def office(self) -> Office:
        if self._office is None:
            path = self.args.office or os.environ.get(ENV_OFFICE) or None
            if path:
                self._office = load_office(path)
            else:
                from .demo import tegal_office

                self._office = tegal_office()
        return self._office

    def today(self) -> date:
        return self.office().calendar.local_date(self.now)

    def db(self) -> tuple[str, str]:
        if self._db is None:
            self._db = _parse_db(self.args.db or os.environ.get(ENV_DB) or DEFAULT_DB)
        return self._db

    def secret(self) -> bytes:
        env = os.environ.get(ENV_SECRET)
        if env:
            secret = env.encode("utf-8")
            if len(secret) < MIN_SECRET_BYTES:
                raise ConfigurationError(
                    f"${ENV_SECRET} must be at least {MIN_SECRET_BYTES} bytes long"
                )
            return secret
        kind, where = self.db()
        if kind != "sqlite":
            raise ConfigurationError(
                f"a PostgreSQL database needs ${ENV_SECRET} (at least {MIN_SECRET_BYTES} "
                "bytes, the same on every app server): tickets and citizen refs are signed "
                "with it"
            )
        path = Path(f"{where}.key")
        key = load_or_create_key(path)
        if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
            self.err.write(
                f"{PROG}: warning: the key file {path} can be read by other users; "
                f"run: chmod 600 {path}\n"
            )
        return key

    def storage(self, *, create: bool = True) -> Storage | None:
        if self._storage is None:
            kind, where = self.db()
            if kind == "sqlite":
                if not create and not Path(where).exists():
                    return None
                self._storage = SQLiteStorage(where)
            else:
                try:
                    module = importlib.import_module("queue_quota.storage.postgres")
                except ImportError as exc:
                    raise ConfigurationError(
                        "PostgreSQL needs the postgres extra: pip install 'queue-quota[postgres]'"
                        f" ({exc})"
                    ) from None
                self._storage = module.PostgresStorage(where)
        return self._storage

    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            office = self.office()
            secret = self.secret()
            storage = self.storage()
            self._scheduler = Scheduler(office, storage, secret=secret)
        return self._scheduler

    def close(self) -> None:
        if self._storage is not None:
            self._storage.close()
            self._storage = None

    # -- output ----------------------------------------------------------------------------

    def text(self, key: str, **fields: object) -> str:
        return CATALOGUES[self.lang][key].format(**fields)

    def date(self, d: date) -> str:
        return i18n.format_date(d, self.lang)

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> str:
    """An aligned text table: a header, a rule, the rows (columns in ``right`` right-aligned)."""
    body = [list(r) for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    right_cols = set(right)

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right_cols else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, body)])


def _reason(ctx: _Context, calendar: WorkingCalendar, day: date, reason: str) -> str:
    """A closed day's reason in the chosen language (holiday names translated if the
    holidays package has them in that language)."""
    if reason == WEEKEND or reason == "no capacity":
        return i18n.reason_text(reason, ctx.lang)
    if reason != calendar.holiday_name(day):
        return reason
    translated = _holiday_name(calendar, day, ctx.lang)
    return translated or reason


def _holiday_name(calendar: WorkingCalendar, day: date, lang: str) -> str | None:
    h = calendar.holidays
    country = getattr(h, "country", None)
    supported = tuple(getattr(h, "supported_languages", ()))
    target = next((code for code in _HOLIDAY_LANGUAGES[lang] if code in supported), None)
    if country is None or target is None or getattr(h, "language", None) == target:
        return None
    categories = tuple(sorted(getattr(h, "categories", ("public",))))
    names = _holiday_names(country, getattr(h, "subdiv", None), categories, target, day.year)
    return names.get(day)


@functools.lru_cache(maxsize=16)
def _holiday_names(
    country: str, subdiv: str | None, categories: tuple[str, ...], language: str, year: int
) -> dict[date, str]:
    """A country's holidays of one year, named in ``language`` (empty if unavailable)."""
    import holidays as holidays_package

    try:
        found = holidays_package.country_holidays(
            country, subdiv=subdiv, categories=categories, language=language, years=year
        )
        return {d: str(name) for d, name in found.items()}
    except Exception:  # a translation is a nicety: fall back to the calendar's own names
        return {}


# -- commands ---------------------------------------------------------------------------------


def _cmd_demo(ctx: _Context, args: argparse.Namespace) -> int:
    from .demo import run_demo

    with tempfile.TemporaryDirectory(prefix="queue-quota-demo-") as tmp:
        return run_demo(Path(tmp) / "queue.sqlite3", ctx.out)


def _cmd_calendar(ctx: _Context, args: argparse.Namespace) -> int:
    office = ctx.office()
    year, month = args.month or (ctx.today().year, ctx.today().month)
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    storage = ctx.storage(create=False)
    calendar = office.calendar
    if storage is not None:
        closures = storage.closures(office.id)
        if closures:
            calendar = calendar.with_closures(closures)
    title = ctx.text(
        "cli.calendar.title", office=office.id, month=i18n.format_month(year, month, ctx.lang)
    )
    ctx.print(title)
    ctx.print()
    rows = [
        (ctx.date(d), _reason(ctx, calendar, d, why)) for d, why in calendar.closed_days(start, end)
    ]
    if rows:
        ctx.print(_table([ctx.text("col.date"), ctx.text("col.reason")], rows))
    else:
        ctx.print(ctx.text("cli.calendar.none"))
    openings = sorted(
        d for d in calendar.openings if start <= d < end and calendar.is_working_day(d)
    )
    if openings:
        ctx.print()
        ctx.print(ctx.text("cli.calendar.openings", days="; ".join(map(ctx.date, openings))))
    return EXIT_OK


def _cmd_availability(ctx: _Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    office = sched.office
    channel = args.channel or office.channels[0]
    office.policy(channel)
    start = args.start or ctx.today()
    days = sched.availability(channel, start, start + timedelta(days=args.days))
    calendar = (
        office.calendar.with_closures(sched.closures()) if sched.closures() else office.calendar
    )
    ctx.print(
        ctx.text(
            "cli.availability.title", channel=i18n.channel_text(channel, ctx.lang), office=office.id
        )
    )
    ctx.print()
    headers = [
        ctx.text("col.date"),
        ctx.text("col.capacity"),
        ctx.text("col.booked"),
        ctx.text("col.remaining"),
        ctx.text("col.reason"),
    ]
    rows = [
        (
            ctx.date(a.day),
            str(a.capacity),
            str(a.booked),
            str(a.remaining),
            _reason(ctx, calendar, a.day, a.closed_reason) if a.closed_reason else "",
        )
        for a in days
    ]
    ctx.print(_table(headers, rows, right=(1, 2, 3)))
    return EXIT_OK


def _print_booking(ctx: _Context, booking: Booking) -> None:
    ctx.print(i18n.ticket_text(booking, ctx.lang, show_id=True))


def _cmd_book(ctx: _Context, args: argparse.Namespace) -> int:
    booking = ctx.scheduler().book(
        args.channel,
        args.citizen,
        now=ctx.now,
        idempotency_key=args.key,
        preferred_date=args.date,
    )
    _print_booking(ctx, booking)
    return EXIT_OK


def _walk_in_channel(office: Office) -> str:
    for policy in office.policies:
        if isinstance(policy, WalkInQuota):
            return policy.channel
    if "walk_in" in office.channels:
        return "walk_in"
    raise ConfigurationError(
        f"office {office.id!r} has no walk-in policy; name the channel with --channel "
        f"(channels: {', '.join(office.channels)})"
    )


def _cmd_walk_in(ctx: _Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    channel = args.channel or _walk_in_channel(sched.office)
    booking = sched.book(channel, args.citizen, now=ctx.now)
    _print_booking(ctx, booking)
    return EXIT_OK


def _booking_id(sched: Scheduler, text: str) -> str:
    """A booking id from an id or a ticket."""
    return sched.verify_ticket(text).id if "." in text else text.strip()


def _cmd_cancel(ctx: _Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    booking = sched.cancel(_booking_id(sched, args.booking), now=ctx.now)
    ctx.print(ctx.text("cli.cancelled", label=booking.label, day=ctx.date(booking.day)))
    return EXIT_OK


def _cmd_check_in(ctx: _Context, args: argparse.Namespace) -> int:
    booking = ctx.scheduler().check_in(args.ticket, now=ctx.now)
    ctx.print(ctx.text("cli.checked_in", label=booking.label, day=ctx.date(booking.day)))
    return EXIT_OK


def _cmd_close_day(ctx: _Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    before = {b.id: b.label for b in sched.manifest(args.day)}
    moved = sched.close_day(args.day, args.reason, now=ctx.now)
    ctx.print(ctx.text("cli.closed", day=ctx.date(args.day), reason=args.reason.strip()))
    if not moved:
        ctx.print(ctx.text("cli.closed.none"))
        return EXIT_OK
    ctx.print(ctx.text("cli.closed.moved", count=len(moved)))
    ctx.print()
    headers = [
        ctx.text("col.id"),
        ctx.text("col.old_label"),
        ctx.text("col.new_label"),
        ctx.text("col.new_day"),
    ]
    rows = [(b.id, before.get(b.id, "?"), b.label, ctx.date(b.day)) for b in moved]
    ctx.print(_table(headers, rows))
    return EXIT_OK


def _cmd_mark_no_shows(ctx: _Context, args: argparse.Namespace) -> int:
    marked = ctx.scheduler().mark_no_shows(args.day, now=ctx.now)
    for b in marked:
        ctx.print(b.label)
    if not marked:
        ctx.print("none")
    return EXIT_OK


def _record(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "channel": booking.channel,
        "day": booking.day.isoformat(),
        "number": booking.number,
        "label": booking.label,
        "status": booking.status.value,
        "ticket": booking.ticket,
        "created_at": booking.created_at.astimezone(UTC).isoformat(),
    }


def _cmd_manifest(ctx: _Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    bookings = sched.manifest(args.day, args.channel, include_cancelled=args.all)
    if args.json:
        document = {
            "office_id": sched.office.id,
            "day": args.day.isoformat(),
            "channel": args.channel,
            "bookings": [_record(b) for b in bookings],
        }
        ctx.out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    if args.csv:
        writer = csv.DictWriter(ctx.out, fieldnames=_MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(_record(b) for b in bookings)
        return EXIT_OK
    ctx.print(ctx.text("cli.manifest.title", office=sched.office.id, day=ctx.date(args.day)))
    ctx.print()
    if not bookings:
        ctx.print(ctx.text("cli.manifest.none"))
        return EXIT_OK
    headers = [
        ctx.text("col.label"),
        ctx.text("col.channel"),
        ctx.text("col.status"),
        ctx.text("col.id"),
    ]
    rows = [
        (
            b.label,
            i18n.channel_text(b.channel, ctx.lang),
            ctx.text(f"status.{b.status.value}"),
            b.id,
        )
        for b in bookings
    ]
    ctx.print(_table(headers, rows))
    return EXIT_OK


# -- entry point ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``queue-quota`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Returns:
        0 on success, 1 on a refusal, 2 on bad usage or configuration.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    ctx = _Context(args, sys.stdout, sys.stderr)
    try:
        handler: Callable[[_Context, argparse.Namespace], int] = args.handler
        return handler(ctx, args)
    except _REFUSALS as exc:
        message = i18n.describe(_localized(ctx, exc), ctx.lang, today=_today_or_none(ctx))
        ctx.err.write(message + "\n")
        return EXIT_REFUSED
    except StorageError as exc:
        ctx.err.write(f"{PROG}: {i18n.describe(exc, ctx.lang)}\n{PROG}: {exc}\n")
        return EXIT_USAGE
    except QueueQuotaError as exc:  # ConfigurationError and anything else not a refusal
        ctx.err.write(f"{PROG}: {i18n.describe(exc, ctx.lang)}\n")
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (queue-quota manifest --csv | head)
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return 130
    finally:
        with contextlib.suppress(QueueQuotaError):  # closing never changes the result
            ctx.close()


def _localized(ctx: _Context, exc: QueueQuotaError) -> QueueQuotaError:
    """``exc``, with a holiday's name in a `DayClosed` in the chosen language if known."""
    if not isinstance(exc, DayClosed) or exc.day is None or not exc.reason:
        return exc
    try:
        reason = _reason(ctx, ctx.office().calendar, exc.day, exc.reason)
    except QueueQuotaError:  # pragma: no cover - the office was loaded before a refusal
        return exc
    if reason == exc.reason:
        return exc
    return DayClosed(exc.message, day=exc.day, reason=reason, next_available=exc.next_available)


def _today_or_none(ctx: _Context) -> date | None:
    try:
        return ctx.today()
    except QueueQuotaError:  # pragma: no cover - the office was loaded before a refusal
        return None
