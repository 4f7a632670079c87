"""What a command needs (office, database, secret, scheduler), built on first use.

Each command says how it uses the database (``access``):

* ``"read"`` - never creates a database or a key file; a database that does not exist is
  exit status 2 (`CliError` ``err.no_database``);
* ``"write"`` - changes an existing database (cancel, check in, ...): same rule;
* ``"create"`` - may create the database, and then its key file (book, walk-in,
  close-day).

A key file is created only together with its database: an existing database whose key
file is missing is exit status 2, since a new key would make its tickets invalid.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import importlib.util
import os
import secrets
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final, TextIO
from urllib.parse import urlsplit

from ..config import load_office
from ..errors import ConfigurationError, SecretMismatch
from ..keys import ENV_OLD_SECRETS, ENV_SECRET, secret_from_env
from ..office import Office
from ..scheduler import Scheduler
from ..storage import DEFAULT_URL, Storage, StorageURL, from_url, parse_url
from . import _keys
from ._text import CliError, render

__all__ = ["ENV_DB", "ENV_OFFICE", "ENV_SECRET", "Context"]

ENV_OFFICE: Final = "QUEUE_QUOTA_OFFICE"
ENV_DB: Final = "QUEUE_QUOTA_DB"
_MASK: Final = "***"


class Context:
    """The run's options, and the office, storage and scheduler, built on first use."""

    def __init__(
        self, args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO | None = None
    ) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.stdin = stdin if stdin is not None else sys.stdin
        self.lang: str = args.lang
        self.now: datetime = args.now or datetime.now(UTC)
        self.command: str = getattr(args, "command_name", "")
        self.access: str = getattr(args, "access", "read")
        self._office: Office | None = None
        self._url: StorageURL | None = None
        self._storage: Storage | None = None
        self._scheduler: Scheduler | None = None
        self._secret_source = ENV_SECRET
        self._hidden: set[str] = set()

    # -- the office ------------------------------------------------------------------------

    def office(self) -> Office:
        """The office of ``--office`` or ``$QUEUE_QUOTA_OFFICE`` (no built-in fallback)."""
        if self._office is None:
            path = self.args.office or os.environ.get(ENV_OFFICE) or None
            if not path:
                raise CliError("err.no_office")
            self._office = load_office(path)
        return self._office

    def today(self) -> date:
        """The office's local date now."""
        return self.office().calendar.local_date(self.now)

    # -- the database ----------------------------------------------------------------------

    @property
    def url_named(self) -> bool:
        """Whether ``--db`` or ``$QUEUE_QUOTA_DB`` names the database (not the default)."""
        return bool(self.args.db or os.environ.get(ENV_DB))

    def url(self) -> StorageURL:
        """The parsed ``--db``, else ``$QUEUE_QUOTA_DB``, else `DEFAULT_URL`."""
        if self._url is None:
            text = self._url_text()
            self._url = parse_url(text)
            if self._url.kind == "postgresql":
                with contextlib.suppress(ValueError):
                    password = urlsplit(text.strip()).password
                    if password:
                        self._hidden.add(password)
        return self._url

    def _url_text(self) -> str:
        return str(self.args.db or os.environ.get(ENV_DB) or DEFAULT_URL)

    def db_name(self) -> str:
        """The database as messages name it (a PostgreSQL URL is never shown: it may hold
        a password)."""
        url = self.url()
        if url.kind == "sqlite":
            return str(url.path)
        return "PostgreSQL" if url.kind == "postgresql" else "memory://"

    def db_exists(self) -> bool:
        """Whether the database exists (an SQLite file; other kinds are assumed to)."""
        path = self.url().path
        return path is None or path.exists()

    def storage(self) -> Storage:
        """The storage, opened once; a missing database is refused unless the command
        may create it."""
        if self._storage is None:
            if self.access != "create" and not self.db_exists():
                raise CliError("err.no_database", db=self.db_name(), command=self.command)
            self._storage = self._open()
        return self._storage

    def storage_if_exists(self) -> Storage | None:
        """The storage if its database exists, else ``None`` (never creates one)."""
        if self._storage is None and not self.db_exists():
            return None
        return self.storage()

    def _open(self) -> Storage:
        if self.url().kind == "postgresql" and importlib.util.find_spec("psycopg") is None:
            raise CliError("err.postgres_extra")
        return from_url(self._url_text())

    # -- the secret ------------------------------------------------------------------------

    def secret_source(self) -> str:
        """Where the secret comes from: ``QUEUE_QUOTA_SECRET`` or the key file's path."""
        return self._secret_source

    def secret(self) -> bytes | list[bytes]:
        """``$QUEUE_QUOTA_SECRET`` (with ``$QUEUE_QUOTA_OLD_SECRETS`` while rotating), else
        the database's key file (created only together with a new database), else a random
        secret for a memory database."""
        raw = [os.environ.get(ENV_SECRET, ""), *os.environ.get(ENV_OLD_SECRETS, "").split(",")]
        self._hidden.update(v.strip() for v in raw if v.strip())
        try:
            from_env = secret_from_env()
        except ConfigurationError:
            raise CliError("err.short_secret", min=_keys.MIN_SECRET_BYTES) from None
        if from_env is not None:
            return from_env
        url = self.url()
        if url.kind == "memory":
            return secrets.token_bytes(_keys.KEY_BYTES)
        if url.kind != "sqlite" or url.path is None:
            raise CliError("err.postgres_secret", min=_keys.MIN_SECRET_BYTES)
        return self._key_file_secret(url.path)

    def _key_file_secret(self, database: Path) -> bytes:
        named = os.environ.get(_keys.ENV_KEY_FILE)
        path = Path(named) if named else _keys.default_key_file(database)
        self._secret_source = str(path)
        try:
            key = _keys.read_key(path)
        except FileNotFoundError:
            legacy = Path(f"{database}.key")
            if legacy.exists():
                raise CliError("err.legacy_key", old=legacy, new=path) from None
            if database.exists():
                raise CliError("err.no_key", db=database, key_file=path) from None
            if self.access != "create":
                raise CliError("err.no_database", db=database, command=self.command) from None
            key = _keys.load_or_create_key(path)
        if not _keys.key_is_private(path):
            self.warn(render(self.lang, "err.key_mode", path=path))
        return key

    # -- the scheduler ---------------------------------------------------------------------

    def scheduler(self) -> Scheduler:
        """The scheduler: office, secret (checked against the database's), storage."""
        if self._scheduler is None:
            office = self.office()
            if self.access != "create" and not self.db_exists():
                raise CliError("err.no_database", db=self.db_name(), command=self.command)
            secret = self.secret()  # before the storage: a new key file precedes its database
            storage = self.storage()
            try:
                self._scheduler = Scheduler(office, storage, secret=secret)
            except SecretMismatch:
                raise CliError(
                    "err.secret_mismatch", source=self.secret_source(), db=self.db_name()
                ) from None
        return self._scheduler

    def close(self) -> None:
        """Close the storage, if it was opened."""
        if self._storage is not None:
            storage, self._storage = self._storage, None
            storage.close()

    # -- the citizen -----------------------------------------------------------------------

    def citizen(self, value: str | None) -> str | None:
        """The citizen's ID: ``value``, or with ``-`` one line of standard input (a prompt
        without echo when it is a terminal). The ID is masked in every message."""
        if value is None:
            return None
        if value.strip() == "-":
            value = self._read_citizen()
        if value.strip():
            self._hidden.update({value.strip(), "".join(value.split()).upper()})
        return value

    def _read_citizen(self) -> str:
        stream = self.stdin
        if stream.isatty():
            text = getpass.getpass(render(self.lang, "prompt.citizen"), stream=self.err)
        else:
            text = stream.readline()
        text = text.strip()
        if not text:
            raise CliError("err.no_citizen")
        return text

    # -- output ----------------------------------------------------------------------------

    def text(self, key: str, **fields: object) -> str:
        """A phrase of the command line's catalogue, in the run's language."""
        return render(self.lang, key, **fields)

    def print(self, text: str = "") -> None:
        """A line on standard output."""
        self.out.write(text + "\n")

    def warn(self, message: str) -> None:
        """A warning on standard error."""
        self.error(self.text("warning", message=message))

    def error(self, message: str) -> None:
        """A message on standard error, with citizen IDs and the secret masked."""
        self.err.write(f"queue-quota: {self.mask(message)}\n")

    def refusal(self, message: str) -> None:
        """A refusal on standard error (the sentence a citizen reads), masked."""
        self.err.write(self.mask(message) + "\n")

    def mask(self, text: str) -> str:
        """``text`` with every citizen ID, secret and database password of this run
        replaced by ``***``."""
        for hidden in sorted(self._hidden, key=len, reverse=True):
            text = text.replace(hidden, _MASK)
        return text
