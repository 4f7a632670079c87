"""Running ``queue-quota`` in-process for the tests/test_cli_*.py files."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from queue_quota import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "tegal.toml"
NOW = "2020-06-04T09:00:00+07:00"  # Thursday morning in Tegal
FRIDAY = "2020-06-05T08:00:00+07:00"
NIK = "3328011234560001"
ENV = (
    "QUEUE_QUOTA_OFFICE",
    "QUEUE_QUOTA_DB",
    "QUEUE_QUOTA_SECRET",
    "QUEUE_QUOTA_OLD_SECRETS",
    "QUEUE_QUOTA_KEY_FILE",
)


@dataclass
class Result:
    """Exit status and captured output of one run."""

    code: int
    out: str
    err: str

    @property
    def ticket(self) -> str:
        """The ticket printed (the first one)."""
        return _field(self.out, ("Tiket", "Ticket"))

    @property
    def booking_id(self) -> str:
        """The booking id printed (the first one)."""
        return _field(self.out, ("ID pendaftaran", "Booking ID"))


def _field(out: str, names: tuple[str, ...]) -> str:
    for line in out.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() in names:
            return value.strip()
    raise AssertionError(f"no {names[0]} in:\n{out}")


class FakeStdin(io.StringIO):
    """Standard input that may claim to be a terminal."""

    def __init__(self, text: str, *, tty: bool = False) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class Runner:
    """Runs ``main`` in-process against one SQLite database at a fixed time, with the
    Tegal office file unless told otherwise."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp = tmp_path
        self.db = tmp_path / "x.sqlite3"
        self.config = tmp_path / "config"
        self.capsys = capsys

    @property
    def key_dir(self) -> Path:
        """Where key files go (``$XDG_CONFIG_HOME/queue-quota``)."""
        return self.config / "queue-quota"

    @property
    def key_file(self) -> Path:
        """The key file of ``self.db``."""
        return cli.default_key_file(self.db)

    def __call__(
        self,
        *args: str,
        now: str | None = NOW,
        office: Path | None = EXAMPLE,
        db: str | None = "",
        stdin: str | FakeStdin | None = None,
    ) -> Result:
        argv = list(args)
        if db is not None:
            argv += ["--db", db or f"sqlite:///{self.db}"]
        if office is not None:
            argv += ["--office", str(office)]
        if now is not None:
            argv += ["--now", now]
        if isinstance(stdin, str):
            stdin = FakeStdin(stdin)
        self.capsys.readouterr()
        code = cli.main(argv, stdin=stdin)
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def book(self, citizen: str = NIK, *args: str, now: str = NOW) -> Result:
        """``book --channel online --citizen -`` with ``citizen`` on standard input."""
        r = self("book", "--channel", "online", "--citizen", "-", *args, now=now, stdin=citizen)
        assert r.code == 0, r.err
        return r


def make_runner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    """A runner with no QUEUE_QUOTA_* variables and its own configuration folder."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    runner = Runner(tmp_path, capsys)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(runner.config))
    return runner
