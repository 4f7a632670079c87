"""The ``queue-quota`` command line (also ``python -m queue_quota``).

::

    queue-quota COMMAND [ARGS] [--office FILE] [--db URL] [--lang id|en] [--now ISO-8601]

Commands: ``demo``, ``calendar``, ``availability``, ``manifest`` (they only look);
``book``, ``walk-in``, ``bookings``; ``cancel``, ``check-in``, ``reschedule``;
``close-day``, ``mark-no-shows``, ``reopen-day``; ``events``, ``notify`` (the event log);
``waitlist``, ``join-waitlist``, ``leave-waitlist``, ``promote-waitlist`` (the waitlist);
``simulate`` (an office file against a demand, no database) and ``report`` (planning).
``queue-quota COMMAND --help`` explains each; the global
options may come before or after the command. docs/reference/cli.md is the full reference.

The package: `_parser` (argument types, global options, assembling the parser), one module
per group of commands (`_cmd_views`, `_cmd_booking`, `_cmd_desk`, `_cmd_days`,
`_cmd_events`, `_cmd_waitlist`, `_cmd_plan`), `_format`
(tables, tickets, records), `_context` (office, database, secret, scheduler, the citizen's
ID), `_keys` (the key file), `_text` (the command line's phrases in both languages) and
`_main` (running a command, exit statuses).

Choices made here:

* **Office.** ``--office FILE``, else ``$QUEUE_QUOTA_OFFICE``; neither is exit status 2
  naming them (no silent fallback to a built-in office; ``demo`` has its own).
* **Database.** ``--db``, else ``$QUEUE_QUOTA_DB``, else
  `queue_quota.storage.DEFAULT_URL`, parsed by `queue_quota.storage.parse_url` and
  opened by `queue_quota.storage.from_url`. Commands that only look (``calendar``,
  ``availability``, ``manifest``, ``bookings``, ``waitlist``) and those that change existing
  bookings (``cancel``, ``check-in``, ``reschedule``, ``mark-no-shows``, the waitlist's
  ``join-waitlist``, ``leave-waitlist``, ``promote-waitlist``) never create a database:
  a missing one is exit status 2. ``book``, ``walk-in`` and ``close-day`` create it.
  ``calendar`` without a database shows the office file's calendar, unless ``--db`` or
  ``$QUEUE_QUOTA_DB`` named one (then it must exist).
* **Secret.** ``$QUEUE_QUOTA_SECRET`` (UTF-8, at least 16 bytes), else, for SQLite, the
  key file (`queue_quota.cli._keys`): in ``$XDG_CONFIG_HOME/queue-quota/`` or
  ``~/.config/queue-quota/``, named after the database's file name and a hash of its
  absolute path, 32 random bytes, mode 0600, created race-free together with a new
  database only (an existing database whose key file is missing is exit status 2: a new
  key would invalidate its tickets). ``$QUEUE_QUOTA_KEY_FILE`` names another file. A key
  file beside the database (0.1) is refused with the command that moves it. PostgreSQL
  needs ``$QUEUE_QUOTA_SECRET``. A secret the database does not know (`SecretMismatch`) is
  exit status 2 naming where the secret came from.
* **Citizen IDs.** ``--citizen -`` reads the ID from standard input (a prompt without echo
  on a terminal), keeping it out of ``ps`` and the shell's history. No message ever shows
  an ID: any that would is masked (``***``), as is the secret.
* **Time.** ``--now`` (an aware ISO-8601 timestamp; a naive one is refused) replaces the
  clock, for replays and tests.
* **Language.** ``--lang id`` (default) or ``en`` for everything the command prints:
  tickets, refusals, tables, its own errors; channels by their titles, holidays named in
  that language when the calendar can (`queue_quota.calendar.WorkingCalendar.holiday_name`).
  ``--help`` and argparse's usage errors are English.
* **Output.** Results go to standard output; refusals and errors to standard error.
  Exit status 0: success; 1: a refusal, a booking that cannot be found, moved or checked
  in, or a bad ticket; 2: bad usage or configuration; 141 if the reader of the output went
  away (``... | head``).
* **Manifest formats.** ``--json`` and ``--csv`` carry ``id, channel, day, number, label,
  status, ticket, created_at`` (``created_at`` in UTC, ISO 8601; ``channel`` the raw key,
  for programs); never ``citizen_ref`` nor the idempotency key.
* **Waitlist.** ``join-waitlist`` prints the entry's ticket once, as ``book`` prints a
  booking's (the booking it becomes keeps it); ``waitlist`` and its ``--json`` never show
  tickets nor citizen refs.
"""

from __future__ import annotations

from ._context import ENV_DB, ENV_OFFICE, ENV_SECRET
from ._format import MANIFEST_FIELDS
from ._keys import ENV_KEY_FILE, KEY_BYTES, MIN_SECRET_BYTES, default_key_file, load_or_create_key
from ._main import (
    EXIT_BROKEN_PIPE,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    REFUSALS,
    main,
)
from ._parser import PROG, build_parser

__all__ = [
    "ENV_DB",
    "ENV_KEY_FILE",
    "ENV_OFFICE",
    "ENV_SECRET",
    "EXIT_BROKEN_PIPE",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "KEY_BYTES",
    "MANIFEST_FIELDS",
    "MIN_SECRET_BYTES",
    "PROG",
    "REFUSALS",
    "build_parser",
    "default_key_file",
    "load_or_create_key",
    "main",
]

#: Former private names, kept for the documentation tests and older callers.
_REFUSALS = REFUSALS
