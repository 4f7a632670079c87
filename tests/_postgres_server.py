"""A throwaway PostgreSQL cluster for tests and benchmarks.

Pure functions first (no pytest needed, so benchmarks can import them)::

    cluster = start_cluster()          # initdb + pg_ctl start in a fresh temp dir
    ... psycopg.connect(cluster.conninfo) ...
    stop_cluster(cluster)              # pg_ctl stop + remove the directory

then the pytest fixtures ``postgres_conninfo`` (session) and ``pg_storage`` (a
`PostgresStorage` on a fresh schema per test).

``QUEUE_QUOTA_TEST_POSTGRES`` (a conninfo) points the tests at an existing server instead.
The server binaries come from ``QUEUE_QUOTA_PG_BINDIR``, ``/usr/lib/postgresql/<N>/bin``
(newest first) or ``pg_config --bindir``. When running as root, the cluster runs as the
``postgres`` OS user. Without binaries the fixtures skip, except under ``CI=true``, where a
missing server is a failure: CI never silently skips the PostgreSQL tests.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "ClusterError",
    "PostgresCluster",
    "find_bindir",
    "pg_storage",
    "postgres_conninfo",
    "start_cluster",
    "stop_cluster",
]

ENV_CONNINFO = "QUEUE_QUOTA_TEST_POSTGRES"
ENV_BINDIR = "QUEUE_QUOTA_PG_BINDIR"
OS_USER = "postgres"


class ClusterError(RuntimeError):
    """The throwaway cluster could not be created or started."""


@dataclass
class PostgresCluster:
    """A running throwaway cluster: its directories, port and how to connect."""

    bindir: Path
    basedir: Path
    port: int
    run_as: str | None = None
    _live: bool = field(default=False, repr=False)

    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        return self.basedir / "data"

    @property
    def socket_dir(self) -> Path:
        """Where the server's unix socket lives."""
        return self.basedir

    @property
    def logfile(self) -> Path:
        """The server log."""
        return self.basedir / "server.log"

    @property
    def conninfo(self) -> str:
        """Connect through the unix socket (fastest)."""
        return f"host={self.socket_dir} port={self.port} user=postgres dbname=postgres"

    @property
    def tcp_conninfo(self) -> str:
        """Connect through TCP on 127.0.0.1."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``pg_ctl -D <datadir> ARGS`` as the cluster's OS user."""
        return _run(self, [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args], check)

    def start(self) -> None:
        """Start (or restart after `crash`) the server and wait until it accepts connections."""
        opts = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.socket_dir}",
                "-c max_connections=200",
                "-c shared_buffers=64MB",
                "-c synchronous_commit=on",
                "-c fsync=on",
                "-c max_locks_per_transaction=256",
            ]
        )
        res = self.pg_ctl(
            "-w", "-t", "60", "-l", str(self.logfile), "-o", opts, "start", check=False
        )
        if res.returncode != 0:
            raise ClusterError(f"pg_ctl start failed: {res.stdout}{res.stderr}{self.log_tail()}")
        self._live = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode``: smart, fast or immediate)."""
        if self._live:
            self.pg_ctl("-w", "-t", "60", "-m", mode, "stop", check=False)
            self._live = False

    def crash(self) -> None:
        """Kill the postmaster with SIGKILL, like a power cut for the server process."""
        pidfile = self.datadir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)
        # Children notice the postmaster's death on their own; an immediate stop tidies up.
        self.pg_ctl("-m", "immediate", "stop", check=False)
        self._live = False

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server log, for error messages."""
        try:
            return "\n" + "\n".join(self.logfile.read_text().splitlines()[-lines:])
        except OSError:
            return ""


def find_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are, or ``None``."""
    if os.environ.get(ENV_BINDIR):  # explicit: that directory or nothing
        given = Path(os.environ[ENV_BINDIR])
        return given if (given / "initdb").is_file() and (given / "pg_ctl").is_file() else None
    candidates: list[Path] = []
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    candidates.extend(versions)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cluster: PostgresCluster, cmd: list[str], check: bool) -> subprocess.CompletedProcess[str]:
    if cluster.run_as is not None:
        cmd = ["runuser", "-u", cluster.run_as, "--", *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    res = subprocess.run(
        cmd, cwd=cluster.basedir, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if check and res.returncode != 0:
        raise ClusterError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stdout}{res.stderr}")
    return res


_LIVE: list[PostgresCluster] = []


def start_cluster(*, bindir: Path | str | None = None, port: int | None = None) -> PostgresCluster:
    """Create and start a throwaway cluster in a new temporary directory.

    Args:
        bindir: Server binaries (default: `find_bindir`).
        port: TCP port on 127.0.0.1 (default: a free one).

    Returns:
        The running cluster; `stop_cluster` stops and removes it (also done at exit).

    Raises:
        ClusterError: No binaries, or initdb / start failed.
    """
    found = Path(bindir) if bindir is not None else find_bindir()
    if found is None:
        raise ClusterError(f"no PostgreSQL server binaries found (set {ENV_BINDIR})")
    run_as: str | None = None
    base = Path(tempfile.mkdtemp(prefix="qq-pg-"))
    try:
        os.chmod(base, 0o755)
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam(OS_USER)
            except KeyError as exc:
                raise ClusterError(f"running as root but there is no {OS_USER!r} user") from exc
            run_as = OS_USER
            os.chown(base, pw.pw_uid, pw.pw_gid)
            # Every parent must be traversable by the server's OS user.
            for parent in base.parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    raise ClusterError(f"{parent} is not searchable by {OS_USER!r}")
        cluster = PostgresCluster(
            bindir=found, basedir=base, port=port or _free_port(), run_as=run_as
        )
        _run(
            cluster,
            [
                str(found / "initdb"),
                "-D",
                str(cluster.datadir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
        )
        _LIVE.append(cluster)
        for attempt in range(3):
            try:
                cluster.start()
                break
            except ClusterError:
                if port is not None or attempt == 2:
                    raise
                cluster.port = _free_port()  # somebody took the port meanwhile
    except BaseException:
        if _LIVE and _LIVE[-1].basedir == base:
            _LIVE.pop().stop("immediate")
        shutil.rmtree(base, ignore_errors=True)
        raise
    return cluster


def stop_cluster(cluster: PostgresCluster, *, remove: bool = True) -> None:
    """Stop the cluster and (by default) delete its directory."""
    try:
        cluster.stop("fast")
    finally:
        if cluster in _LIVE:
            _LIVE.remove(cluster)
        if remove:
            shutil.rmtree(cluster.basedir, ignore_errors=True)


@atexit.register
def _stop_all() -> None:
    for cluster in list(_LIVE):
        with contextlib.suppress(Exception):
            stop_cluster(cluster)


# -- pytest fixtures (pytest is imported lazily so benchmarks need not have it) -------------

_SAFE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail under ``CI=true``: CI never silently skips the PostgreSQL tests."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


_SHARED: PostgresCluster | None = None


def _session_conninfo() -> Iterator[str]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'queue-quota[postgres]')")
    given = os.environ.get(ENV_CONNINFO)
    if given:
        yield given
        return
    global _SHARED
    if _SHARED is None:
        # One cluster per test process, however many modules import the fixture; it is
        # stopped and removed at exit (see `_stop_all`).
        try:
            _SHARED = start_cluster()
        except (ClusterError, OSError, subprocess.SubprocessError) as exc:
            _unavailable(f"cannot start a throwaway PostgreSQL: {exc}")
    yield _SHARED.conninfo


def drop_schema(conninfo: str, schema: str) -> None:
    """Drop a test schema and everything in it."""
    import psycopg
    from psycopg import sql

    if not _SAFE.match(schema):
        raise ValueError(schema)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def unique_schema() -> str:
    """A fresh schema name for one test."""
    return f"qq_test_{uuid.uuid4().hex[:12]}"


def _make_fixtures() -> tuple[Any, Any]:
    try:
        import pytest
    except ImportError:  # pragma: no cover - benchmarks without pytest
        return None, None

    @pytest.fixture(scope="session")
    def postgres_conninfo() -> Iterator[str]:
        """A conninfo for a PostgreSQL server (throwaway unless QUEUE_QUOTA_TEST_POSTGRES)."""
        yield from _session_conninfo()

    @pytest.fixture
    def pg_storage(postgres_conninfo: str) -> Iterator[Any]:
        """A `PostgresStorage` on a fresh schema, dropped after the test."""
        from queue_quota.storage.postgres import PostgresStorage

        schema = unique_schema()
        storage = PostgresStorage(postgres_conninfo, schema=schema, max_size=20)
        try:
            yield storage
        finally:
            storage.close()
            drop_schema(postgres_conninfo, schema)

    return postgres_conninfo, pg_storage


postgres_conninfo, pg_storage = _make_fixtures()
