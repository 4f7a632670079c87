"""The command line's configuration: office, database, secret and key file, citizen IDs."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from _cli import EXAMPLE, NIK, FakeStdin, Runner, make_runner
from queue_quota import cli
from queue_quota.cli import _text
from queue_quota.errors import ConfigurationError
from queue_quota.scheduler import Scheduler
from queue_quota.storage import DEFAULT_URL, parse_url

SECRET = "a-long-enough-secret-for-tests"


@pytest.fixture
def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    return make_runner(tmp_path, capsys, monkeypatch)


# -- commands that must not create anything ----------------------------------------------------

READ_OR_CHANGE = [
    ["availability"],
    ["manifest", "2020-06-05"],
    ["manifest", "2020-06-05", "--json"],
    ["bookings", "--citizen", "-"],
    ["cancel", "0000000000000000"],
    ["check-in", "0000000000000000"],
    ["reschedule", "0000000000000000"],
    ["mark-no-shows", "2020-06-03"],
]


@pytest.mark.parametrize("argv", READ_OR_CHANGE, ids=lambda a: " ".join(a))
def test_missing_database_is_exit_2_and_nothing_is_created(run: Runner, argv: list[str]) -> None:
    """Commands that read or change bookings never create a database nor a key file."""
    r = run(*argv, stdin=NIK)
    assert r.code == 2, r.err
    assert str(run.db) in r.err
    assert "--db" in r.err
    assert "QUEUE_QUOTA_DB" in r.err
    assert argv[0] in r.err
    assert not run.db.exists()
    assert not run.config.exists()  # no key file, not even its folder
    assert list(run.tmp.iterdir()) == []


def test_existing_database_without_key_file_is_exit_2_and_no_key_is_made(run: Runner) -> None:
    """A key file is created only with its database: a new key would invalidate tickets."""
    run.book()
    run.key_file.unlink()
    for argv in (["manifest", "2020-06-05"], ["book", "--channel", "online", "--citizen", "-"]):
        r = run(*argv, stdin="3328011234560002")
        assert r.code == 2
        assert str(run.key_file) in r.err
        assert "QUEUE_QUOTA_SECRET" in r.err
        assert not run.key_file.exists()


def test_calendar_without_a_database_shows_the_office_file_and_creates_nothing(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """calendar reads the default database only if it exists; a named one must exist."""
    monkeypatch.chdir(run.tmp)
    r = run("calendar", "--month", "2020-06", db=None)
    assert r.code == 0, r.err
    assert "system maintenance" in r.out
    assert sorted(p.name for p in run.tmp.iterdir()) == []
    named = run("calendar", "--month", "2020-06")
    assert named.code == 2
    assert str(run.db) in named.err
    assert not run.db.exists()


# -- the office -------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["availability"], ["book", "--channel", "online"], ["calendar"]])
def test_no_office_is_exit_2_naming_the_option(run: Runner, argv: list[str]) -> None:
    """Without --office or QUEUE_QUOTA_OFFICE there is no silent built-in office."""
    r = run(*argv, office=None)
    assert r.code == 2
    assert "--office" in r.err
    assert "QUEUE_QUOTA_OFFICE" in r.err
    assert r.out == ""
    assert not run.db.exists()
    en = run(*argv, "--lang", "en", office=None)
    assert en.err.strip() == (
        "queue-quota: no office file: give --office FILE or set QUEUE_QUOTA_OFFICE"
    )


def test_office_from_environment(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """QUEUE_QUOTA_OFFICE names the office file when --office is not given."""
    other = run.tmp / "other.toml"
    other.write_text(EXAMPLE.read_text().replace('"tegal-disdukcapil"', '"brebes"'))
    monkeypatch.setenv("QUEUE_QUOTA_OFFICE", str(other))
    r = run("calendar", "--month", "2020-06", office=None, db=None)
    assert r.code == 0, r.err
    assert "brebes" in r.out


def test_demo_keeps_its_own_office(run: Runner) -> None:
    """demo needs no office file."""
    r = run("demo", office=None, now=None, db=None)
    assert r.code == 0, r.err
    assert "Tegal" in r.out


# -- the database URL ---------------------------------------------------------------------------


def test_default_database_is_the_storage_default(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --db or QUEUE_QUOTA_DB the CLI uses storage.DEFAULT_URL."""
    monkeypatch.chdir(run.tmp)
    r = run("book", "--channel", "online", "--citizen", "-", db=None, stdin=NIK)
    assert r.code == 0, r.err
    default = parse_url(DEFAULT_URL).path
    assert default is not None
    assert [p.name for p in run.tmp.iterdir() if p.name != "config"] == [default.name]


def test_database_url_goes_through_parse_url(run: Runner) -> None:
    """memory:// works (nothing written); an unknown scheme is parse_url's error."""
    r = run("book", "--channel", "online", "--citizen", "-", db="memory://", stdin=NIK)
    assert r.code == 0, r.err
    assert "A-001" in r.out
    assert list(run.tmp.iterdir()) == []
    bad = run("availability", "--lang", "en", db="mysql://localhost/x")
    assert bad.code == 2
    assert "unsupported scheme 'mysql'" in bad.err
    assert not hasattr(cli, "_parse_db")


def test_postgresql_without_secret_exits_2(run: Runner) -> None:
    """A PostgreSQL URL without QUEUE_QUOTA_SECRET is refused before connecting."""
    r = run("book", "--channel", "online", "--citizen", NIK, db="postgresql://u:pw@h/db")
    assert r.code == 2
    assert "QUEUE_QUOTA_SECRET" in r.err
    assert "pw" not in r.err


# -- the key file --------------------------------------------------------------------------------


def test_key_file_lives_in_the_config_folder_0600(run: Runner) -> None:
    """The key file is created in $XDG_CONFIG_HOME/queue-quota, 0600, never beside the db."""
    ticket = run.book().ticket
    (key_file,) = run.key_dir.iterdir()
    assert key_file == run.key_file
    assert key_file.name.startswith("x.sqlite3-")
    assert key_file.suffix == ".key"
    assert len(key_file.read_bytes()) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(run.key_dir.stat().st_mode) == 0o700
    assert sorted(p.name for p in run.tmp.iterdir()) == ["config", "x.sqlite3"]
    key = key_file.read_bytes()
    assert run("check-in", ticket, now="2020-06-05T08:00:00+07:00").code == 0
    assert key_file.read_bytes() == key


def test_key_file_depends_on_the_database(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two databases get two keys; one database by another path or a symlink gets its own."""
    a, b = run.tmp / "a" / "q.sqlite3", run.tmp / "b" / "q.sqlite3"
    assert cli.default_key_file(a) != cli.default_key_file(b)
    a.parent.mkdir()
    monkeypatch.chdir(a.parent)
    assert cli.default_key_file(Path("q.sqlite3")) == cli.default_key_file(a)
    link = run.tmp / "link.sqlite3"
    link.symlink_to(a)
    assert cli.default_key_file(link) == cli.default_key_file(a)


def test_key_folder_without_xdg_is_dot_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without XDG_CONFIG_HOME (or with a relative one) the folder is ~/.config/queue-quota."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    expected = tmp_path / ".config" / "queue-quota"
    assert cli.default_key_file(tmp_path / "db.sqlite3").parent == expected
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    assert cli.default_key_file(tmp_path / "db.sqlite3").parent == expected


def test_key_file_from_environment(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """QUEUE_QUOTA_KEY_FILE names the key file."""
    chosen = run.tmp / "keys" / "office.key"
    monkeypatch.setenv("QUEUE_QUOTA_KEY_FILE", str(chosen))
    run.book()
    assert len(chosen.read_bytes()) == 32
    assert not run.config.exists()


def test_legacy_key_beside_the_database_is_refused_with_the_move(run: Runner) -> None:
    """A 0.1 key file <db>.key is not used: the message says how to move it."""
    run.book()
    legacy = Path(f"{run.db}.key")
    run.key_file.rename(legacy)
    r = run("manifest", "2020-06-05")
    assert r.code == 2
    assert f"mv {legacy} {run.key_file}" in r.err
    assert not run.key_file.exists()


def test_key_file_readable_by_others_gives_a_warning(run: Runner) -> None:
    """A key file others can read still works, with a warning to chmod it."""
    run.book()
    run.key_file.chmod(0o644)
    r = run("walk-in")
    assert r.code == 0, r.err
    assert f"chmod 600 {run.key_file}" in r.err


def test_key_file_creation_race_agrees(tmp_path: Path) -> None:
    """Threads racing to create the key file all get the same key, and no temp file remains."""
    path = tmp_path / "keys" / "db.sqlite3.key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: cli.load_or_create_key(path), range(32)))
    assert keys == {path.read_bytes()}
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_damaged_key_file_exits_2(run: Runner) -> None:
    """A truncated key file is a configuration error, never silently replaced."""
    run.key_dir.mkdir(parents=True)
    run.key_file.write_bytes(b"short")
    r = run("book", "--channel", "online", "--citizen", NIK)
    assert r.code == 2
    assert str(run.key_file) in r.err
    with pytest.raises(ConfigurationError):
        cli.load_or_create_key(run.key_file)


# -- the secret ----------------------------------------------------------------------------------


def test_secret_from_environment(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """QUEUE_QUOTA_SECRET replaces the key file; a short one exits 2."""
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", SECRET)
    run.book()
    assert not run.config.exists()
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", "short")
    r = run("book", "--channel", "online", "--citizen", "99")
    assert r.code == 2
    assert "QUEUE_QUOTA_SECRET" in r.err
    assert "short" not in r.err


def test_wrong_secret_is_exit_2_naming_the_variable(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another QUEUE_QUOTA_SECRET than the database's: exit 2, not "invalid ticket"."""
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", SECRET)
    ticket = run.book().ticket
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", "another-secret-of-enough-length")
    for argv in (["check-in", ticket], ["manifest", "2020-06-05"], ["walk-in"]):
        r = run(*argv, "--lang", "en", now="2020-06-05T08:00:00+07:00")
        assert r.code == 2, argv
        assert "the secret from QUEUE_QUOTA_SECRET does not match the database" in r.err
        assert "invalid" not in r.err.lower()
        assert "another-secret" not in r.err


def test_rotation_with_old_secrets(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """QUEUE_QUOTA_OLD_SECRETS keeps old tickets valid; then the old secret alone is refused."""
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", SECRET)
    ticket = run.book().ticket
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", "the-new-secret-of-enough-length")
    monkeypatch.setenv("QUEUE_QUOTA_OLD_SECRETS", SECRET)
    r = run("check-in", ticket, "--lang", "en", now="2020-06-05T08:00:00+07:00")
    assert r.code == 0, r.err
    again = run("book", "--channel", "online", "--citizen", "99")
    assert again.code == 0, again.err
    monkeypatch.delenv("QUEUE_QUOTA_OLD_SECRETS")
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", SECRET)
    refused = run("manifest", "2020-06-05", "--lang", "en")
    assert refused.code == 2
    assert SECRET not in refused.err
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", "the-new-secret-of-enough-length")
    monkeypatch.setenv("QUEUE_QUOTA_OLD_SECRETS", "short")
    bad = run("manifest", "2020-06-05", "--lang", "en")
    assert bad.code == 2
    assert "short" not in bad.err


def test_wrong_key_file_is_exit_2_naming_the_file(run: Runner) -> None:
    """A key file replaced by another key: exit 2 naming the key file."""
    ticket = run.book().ticket
    run.key_file.write_bytes(b"k" * 32)
    r = run("check-in", ticket, now="2020-06-05T08:00:00+07:00")
    assert r.code == 2
    assert str(run.key_file) in r.err
    assert "Tiket tidak valid" not in r.err


# -- citizen IDs ---------------------------------------------------------------------------------


def test_citizen_from_standard_input(run: Runner) -> None:
    """--citizen - reads the ID from standard input; the same citizen is matched."""
    run.book()
    r = run("book", "--channel", "online", "--citizen", "-", stdin=f"  {NIK}\n")
    assert r.code == 1
    assert "sudah memiliki 1 nomor antrean" in r.err
    assert NIK not in r.out + r.err


def test_citizen_prompt_on_a_terminal_does_not_echo(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the ID is asked with getpass (no echo), the prompt on stderr."""
    asked: list[str] = []

    def fake_getpass(prompt: str = "", stream: object = None) -> str:
        asked.append(prompt)
        assert stream is not None
        return NIK

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    r = run("book", "--channel", "online", "--citizen", "-", stdin=FakeStdin("", tty=True))
    assert r.code == 0, r.err
    assert asked == ["NIK (tidak ditampilkan): "]
    assert NIK not in r.out + r.err


def test_empty_standard_input_is_exit_2(run: Runner) -> None:
    """--citizen - with nothing to read is a usage error."""
    r = run("book", "--channel", "online", "--citizen", "-", stdin="")
    assert r.code == 2
    assert "--citizen -" in r.err
    assert not run.db.exists()


def test_a_raw_citizen_id_is_never_printed(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error message that would show the ID shows *** instead."""

    def leaky(self: Scheduler, channel: str, citizen_id: str | None = None, **kw: object) -> None:
        raise ConfigurationError(f"citizen {citizen_id} is odd")

    monkeypatch.setattr(Scheduler, "book", leaky)
    r = run("book", "--channel", "online", "--citizen", "-", "--lang", "en", stdin=NIK)
    assert r.code == 2
    assert NIK not in r.err
    assert "citizen *** is odd" in r.err


# -- one language per run ------------------------------------------------------------------------


def test_both_catalogues_have_the_same_phrases() -> None:
    """Every phrase of the command line exists in Indonesian and English, same fields."""
    import string

    id_, en = _text.CATALOGUE["id"], _text.CATALOGUE["en"]
    assert set(id_) == set(en)
    for key in id_:
        fields = {f for _, f, _, _ in string.Formatter().parse(id_[key]) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(en[key]) if f}, key


@pytest.mark.parametrize(
    "argv",
    [
        ["availability"],
        ["calendar", "--office-missing"],
        ["walk-in", "--secret-short"],
    ],
    ids=["no-database", "no-office", "short-secret"],
)
def test_configuration_errors_speak_indonesian(
    run: Runner, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """The command line's own errors in an Indonesian run have no English words."""
    office: Path | None = EXAMPLE
    if "--office-missing" in argv:
        argv, office = argv[:1], None
    if "--secret-short" in argv:
        argv = argv[:1]
        monkeypatch.setenv("QUEUE_QUOTA_SECRET", "short")
    r = run(*argv, office=office)
    assert r.code == 2
    words = set(r.err.lower().replace(":", " ").replace(";", " ").split())
    assert not words & {"the", "is", "does", "not", "must", "no", "give", "set", "exist"}, r.err


def test_a_database_password_is_never_printed(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """A storage error that quotes the PostgreSQL URL shows *** for its password."""
    from queue_quota.cli import _context
    from queue_quota.errors import StorageError

    def failing(url: str) -> None:
        raise StorageError(f"cannot connect to {url}")

    monkeypatch.setattr(_context, "from_url", failing)
    monkeypatch.setattr(_context.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", SECRET)
    r = run("manifest", "2020-06-05", "--lang", "en", db="postgresql://clerk:hunter2@db/qq")
    assert r.code == 2
    assert "hunter2" not in r.err
    assert "clerk:***@db" in r.err
