"""The key file: where the secret of an SQLite database lives when ``QUEUE_QUOTA_SECRET``
is not set.

It lives in a per-user configuration folder, never beside the database, so that a backup
of the data is not also a backup of its key: ``$XDG_CONFIG_HOME/queue-quota/`` (when that
variable holds an absolute path, as the XDG specification asks), else
``~/.config/queue-quota/``. ``$QUEUE_QUOTA_KEY_FILE`` names another file.

Its name depends on the database: the database file's name, then the first 16 hex digits
of the SHA-256 of its absolute path (symbolic links resolved), e.g.
``queue-quota.sqlite3-3f0c9a1e5b7d2c48.key``. Two databases never share a key by accident,
and the same database reached by another relative path or a symbolic link finds its own.
A database moved to another path needs its key moved too (the command says which name
it looks for).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Final

from ..keys import MIN_SECRET_BYTES
from ._text import CliError

__all__ = [
    "ENV_KEY_FILE",
    "KEY_BYTES",
    "MIN_SECRET_BYTES",
    "config_dir",
    "default_key_file",
    "key_is_private",
    "load_or_create_key",
    "read_key",
]

ENV_KEY_FILE: Final = "QUEUE_QUOTA_KEY_FILE"
KEY_BYTES: Final = 32
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/queue-quota`` (an absolute path only), else
    ``~/.config/queue-quota``.

    Raises:
        CliError: Neither ``XDG_CONFIG_HOME`` nor a home folder is known.
    """
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "queue-quota"
    try:
        home = Path.home()
    except (RuntimeError, KeyError):
        raise CliError("err.no_home") from None
    return home / ".config" / "queue-quota"


def default_key_file(database: Path) -> Path:
    """The key file of the SQLite database ``database`` (see the module's docstring)."""
    resolved = Path(os.path.abspath(database.expanduser())).resolve()
    digest = hashlib.sha256(os.fsencode(resolved)).hexdigest()[:16]
    name = _UNSAFE.sub("_", resolved.name)[:64] or "database"
    return config_dir() / f"{name}-{digest}.key"


def _reason(exc: OSError) -> str:
    """An OS error in words no language owns: its errno name (``EACCES``)."""
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def read_key(path: Path) -> bytes:
    """The secret in the key file ``path``.

    Raises:
        FileNotFoundError: There is no such file.
        CliError: It cannot be read, or is too short.
    """
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise CliError("err.key_read", path=path, error=_reason(exc)) from None
    if len(key) < MIN_SECRET_BYTES:
        raise CliError("err.key_damaged", path=path, size=len(key), min=MIN_SECRET_BYTES)
    return key


def load_or_create_key(path: Path) -> bytes:
    """The secret in the key file ``path``, creating it (32 random bytes, mode 0600, its
    folder 0700) if it does not exist.

    Safe when several processes race: the key is written to a temporary file created with
    ``O_CREAT | O_EXCL`` (mode 0600) and published with ``link()``, which fails if the name
    already exists; every process then reads the one file that won. A key file is never
    seen half-written.

    Raises:
        CliError: The key file cannot be read or created, or is too short (a
            `ConfigurationError`).
    """
    try:
        return read_key(path)
    except FileNotFoundError:
        pass
    try:
        os.makedirs(path.parent, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CliError("err.key_create", path=path, error=_reason(exc)) from None
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
    return read_key(path)


def _create_exclusive(path: Path) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise CliError("err.key_create", path=path, error=_reason(exc)) from None
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(KEY_BYTES))
        f.flush()
        os.fsync(f.fileno())


def key_is_private(path: Path) -> bool:
    """Whether only its owner may read the key file (always true off POSIX)."""
    if os.name != "posix":
        return True
    return not path.stat().st_mode & 0o077
