"""The documentation runs: every Python block of the docs and the README, as written.

Each page's ```` ```python ```` blocks form one script: they run in order, in one namespace,
in a fresh temporary working directory. Markers, as an HTML comment on the line before a
block:

* ``<!-- skip: why -->`` - the block is not run (only when it truly cannot be, and the
  comment says why);
* ``<!-- postgres -->`` - the page needs a PostgreSQL server: it runs with
  ``QUEUE_QUOTA_POSTGRES`` set to a fresh database on the test server (the
  ``postgres_conninfo`` fixture); the page skips where there is none, as those tests do.

Every page runs with ``QUEUE_QUOTA_SECRET`` set, as a deployment would, in a directory
holding a copy of ``examples/tegal.toml``.

Expected output is written in the block as ``# -> text`` comments (at the end of a line or
on lines of their own): one comment per printed line, in order; ``...`` matches anything.
A block with such comments must print exactly those lines.

Shell sessions of the command line run too: in a ```` ```console ```` block after
``<!-- cli -->``, each ``$ queue-quota ...`` line runs (in-process, in the page's temporary
directory, which holds a copy of ``examples/tegal.toml``) and must print the lines that
follow it, standard output and error together; ``# exit N`` at the end of the command line
is its expected exit status (default 0). The option tables of the CLI page must list
exactly the parser's options.

SQL quoted from the code is checked too: a ```` ```sql ```` block after
``<!-- quote: path/in/repo -->`` must appear in that file (whitespace aside; a line ``...``
elides text between parts, which must appear in order).

And the error-code table cannot drift: every ``code`` of ``queue_quota.errors`` has its row.
"""

from __future__ import annotations
import __future__

import argparse
import contextlib
import io
import re
import shlex
import shutil
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

import queue_quota.errors

ROOT = Path(__file__).resolve().parents[1]
#: What pages that read ``os.environ["QUEUE_QUOTA_SECRET"]`` (as deployments do) get.
DOCS_SECRET = "docs-secret-for-the-test-suite-only"
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]

_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)[^\n]*$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<name>skip|postgres|quote|cli)\s*:?\s*(?P<arg>.*?)\s*-->\s*$")
_EXPECT = re.compile(r"#\s?->\s?(?P<text>.*)$")
_SNIPPET = re.compile(r'^\s*-+8<-+\s+"(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"\s*$')
_SECTION = re.compile(r"^\s*#\s*-+8<-+\s*\[(?P<edge>start|end):(?P<name>[\w-]+)\]\s*$")


def snippet(path: str, section: str | None) -> str:
    """What ``--8<-- "path:section"`` includes (as pymdownx.snippets does): a file or a
    section of it, without the section markers."""
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    if section is not None:
        edges = {
            (m.group("edge"), m.group("name")): i
            for i, line in enumerate(lines)
            if (m := _SECTION.match(line))
        }
        start, end = edges.get(("start", section)), edges.get(("end", section))
        assert start is not None, f"{path}: no section {section!r}"
        assert end is not None, f"{path}: section {section!r} has no end"
        lines = lines[start + 1 : end]
    return "\n".join(line for line in lines if not _SECTION.match(line))


def expand(code: str) -> str:
    """``code`` with its snippet lines replaced by what they include."""
    out = []
    for line in code.splitlines():
        m = _SNIPPET.match(line)
        out.append(snippet(m.group("path"), m.group("section")) if m else line)
    return "\n".join(out) + "\n"


@attrs.frozen
class Block:
    """One fenced code block of a page."""

    page: Path
    lang: str
    line: int  # 1-based line of the first line of code
    code: str
    marker: str | None = None
    marker_arg: str = ""

    @property
    def where(self) -> str:
        """``docs/page.md:LINE`` for messages."""
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of ``page`` with the marker comment before each, if any."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or not m.group("lang"):
            i += 1
            continue
        indent, lang = len(m.group("indent")), m.group("lang")
        marker = arg = None
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0 and (mm := _MARKER.match(lines[j])):
            marker, arg = mm.group("name"), mm.group("arg")
        body: list[str] = []
        k = i + 1
        while k < len(lines) and lines[k].strip() != "```":
            body.append(lines[k][indent:])
            k += 1
        code = "\n".join(body) + "\n"
        if lang == "python":
            code = expand(code)
        found.append(Block(page, lang, i + 2, code, marker, arg or ""))
        i = k + 1
    return found


def python_pages() -> list[Path]:
    """Pages with at least one Python block to run."""
    return [p for p in PAGES if any(b.lang == "python" and b.marker != "skip" for b in blocks(p))]


def expected_output(code: str) -> list[str] | None:
    """The lines a block must print (its ``# ->`` comments), or ``None`` if it has none."""
    found = [m.group("text").rstrip() for line in code.splitlines() if (m := _EXPECT.search(line))]
    return found or None


def matches(pattern: str, line: str) -> bool:
    """Whether an output line matches an expected line (``...`` matches anything)."""
    first, *rest = pattern.split("...")
    # Spaces right after "..." (aligning a table column) are absorbed by the wildcard.
    regex = ".*".join([re.escape(first), *(re.escape(part.lstrip(" ")) for part in rest)])
    return re.fullmatch(regex, line) is not None


@contextlib.contextmanager
def fresh_database(conninfo: str) -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    name = f"qq_docs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(conninfo, dbname=name)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def run_page(page: Path) -> int:
    """Run the page's Python blocks in order, as one module; return how many ran.

    The module is registered in ``sys.modules`` while it runs (libraries such as pydantic
    look classes' modules up there), and a ``from __future__`` import of one block holds
    for the blocks after it, as in a script.
    """
    slug = re.sub(r"\W", "_", str(page.relative_to(ROOT)))
    module = types.ModuleType(f"docs_{slug}")
    sys.modules[module.__name__] = module
    flags = 0
    ran = 0
    try:
        for block in blocks(page):
            if block.lang != "python":
                continue
            if block.marker == "skip":
                assert block.marker_arg, f"{block.where}: a skipped block must say why"
                continue
            # Leading newlines make tracebacks point at the page's own line numbers (for
            # blocks without included snippets).
            source = "\n" * (block.line - 1) + block.code
            code = compile(source, str(page), "exec", flags=flags, dont_inherit=True)
            flags |= code.co_flags & __future__.annotations.compiler_flag
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(code, module.__dict__)
            ran += 1
            want = expected_output(block.code)
            if want is not None:
                got = out.getvalue().splitlines()
                shown = (
                    f"{block.where}: printed\n" + "\n".join(got) + "\nexpected\n" + "\n".join(want)
                )
                assert len(got) == len(want), shown
                assert all(map(matches, want, got)), shown
    finally:
        del sys.modules[module.__name__]
    return ran


def _page_params() -> list[object]:
    """One parameter per page; pages needing PostgreSQL carry the ``postgres`` mark."""
    return [
        pytest.param(
            page,
            id=str(page.relative_to(ROOT)),
            marks=[pytest.mark.postgres] if needs_postgres(page) else [],
        )
        for page in python_pages()
    ]


def needs_postgres(page: Path) -> bool:
    """Whether a block of the page is marked ``<!-- postgres -->``."""
    return any(b.marker == "postgres" for b in blocks(page))


@pytest.mark.parametrize("page", _page_params())
def test_page_runs_as_written(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Every Python block of the page runs, in order, and prints what the page says."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", DOCS_SECRET)
    shutil.copy(ROOT / "examples" / "tegal.toml", tmp_path / "tegal.toml")
    if needs_postgres(page):
        conninfo = request.getfixturevalue("postgres_conninfo")
        with fresh_database(conninfo) as db:
            monkeypatch.setenv("QUEUE_QUOTA_POSTGRES", db)
            assert run_page(page) > 0
    else:
        assert run_page(page) > 0


def test_markers_are_known_and_skips_explained() -> None:
    """Every marker comment sits before a block and every skip says why."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        markers = len(re.findall(r"<!--\s*(?:skip|postgres|quote|cli)\b", text))
        attached = [b for b in blocks(page) if b.marker]
        assert markers == len(attached), f"{page}: a marker comment is not before a block"
        for b in attached:
            if b.marker == "skip":
                assert b.marker_arg, f"{b.where}: say why the block cannot run"


def _squash(text: str) -> str:
    return " ".join(text.split())


def quoted_blocks() -> list[Block]:
    """The blocks marked as quoted from a file of the repository."""
    return [b for p in PAGES for b in blocks(p) if b.marker == "quote"]


@pytest.mark.parametrize("block", quoted_blocks(), ids=lambda b: b.where)
def test_quoted_code_is_in_the_source(block: Block) -> None:
    """A quoted snippet appears in the file it is quoted from (parts in order)."""
    source = _squash((ROOT / block.marker_arg).read_text(encoding="utf-8"))
    parts = [
        _squash(part)
        for part in re.split(r"^\s*(?:--\s*)?\.\.\.\s*$", block.code, flags=re.M)
        if part.strip()
    ]
    assert parts, f"{block.where}: empty quote"
    position = 0
    for part in parts:
        found = source.find(part, position)
        assert found >= 0, f"{block.where}: not in {block.marker_arg}: {part[:120]}"
        position = found + len(part)


def _error_classes() -> list[type[queue_quota.errors.QueueQuotaError]]:
    return [getattr(queue_quota.errors, name) for name in queue_quota.errors.__all__]


def error_table() -> dict[str, dict[str, str]]:
    """The rows of the error-code table, by code: column name -> cell text."""
    lines = (DOCS / "reference" / "error-codes.md").read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("| Code"))
    header = [c.strip() for c in lines[header_at].strip("|").split("|")]
    rows: dict[str, dict[str, str]] = {}
    for line in lines[header_at + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def test_error_code_table_lists_every_code() -> None:
    """The error-code page has one row per error class, with its class and its parent."""
    table = error_table()
    classes = _error_classes()
    assert set(table) == {cls.code for cls in classes}
    for cls in classes:
        row = table[cls.code]
        assert row["Exception"] == cls.__name__, row
        assert row["Parent"] == cls.__mro__[1].__name__, row


def test_error_code_table_cli_exit_statuses_match_the_cli() -> None:
    """The CLI exit column is what `queue-quota` returns for each error."""
    from queue_quota import cli

    for code, row in error_table().items():
        cls = next(c for c in _error_classes() if c.code == code)
        refusal = issubclass(cls, cli._REFUSALS)  # the errors the CLI reports as refusals
        assert int(row["CLI exit"]) == (cli.EXIT_REFUSED if refusal else cli.EXIT_USAGE), row


def test_error_code_table_http_statuses_match_the_examples() -> None:
    """The HTTP status column is the mapping both web examples use."""
    from test_examples import load_example

    fastapi_app = load_example("fastapi_app")
    django_app = load_example("django_app")
    table = {code: int(row["HTTP"]) for code, row in error_table().items()}
    assert table == fastapi_app.HTTP_STATUS == django_app.HTTP_STATUS


# -- the command line ------------------------------------------------------------------------

_EXIT = re.compile(r"#\s*exit\s+(?P<status>\d+)\s*$")


def cli_blocks() -> list[Block]:
    """The console blocks marked to run."""
    return [b for p in PAGES for b in blocks(p) if b.marker == "cli"]


def cli_pages() -> list[Path]:
    """Pages with console blocks to run."""
    return sorted({b.page for b in cli_blocks()})


def run_cli(argv: list[str]) -> tuple[int, list[str]]:
    """``queue-quota ARGV`` in this process: its exit status and its output lines."""
    from queue_quota import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = cli.main(argv)
    return status, [line.rstrip() for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("page", cli_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_sessions_run_as_written(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ``$ queue-quota`` line prints what the page shows and exits as it says."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUEUE_QUOTA_SECRET", DOCS_SECRET)
    for name in ("QUEUE_QUOTA_DB", "QUEUE_QUOTA_OFFICE"):
        monkeypatch.delenv(name, raising=False)
    shutil.copy(ROOT / "examples" / "tegal.toml", tmp_path / "tegal.toml")
    ran = 0
    for block in cli_blocks():
        if block.page != page:
            continue
        commands: list[tuple[str, list[str]]] = []
        for line in block.code.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif commands:
                commands[-1][1].append(line.rstrip())
        assert commands, f"{block.where}: no command"
        for command, want in commands:
            argv = shlex.split(command, comments=True)
            assert argv[0] == "queue-quota", f"{block.where}: {command}"
            m = _EXIT.search(command)
            status, got = run_cli(argv[1:])
            shown = f"{block.where}: $ {command}\n" + "\n".join(got)
            assert status == (int(m.group("status")) if m else 0), shown
            assert len(got) == len(want), shown
            assert all(map(matches, want, got)), shown
            ran += 1
    assert ran > 0


def _documented_options(section: str) -> set[str]:
    """The first words of the first column of the section's tables (``--days``, ``DATE``)."""
    found = set()
    for line in section.splitlines():
        m = re.match(r"^\|\s*`(?P<cell>[^`]+)`", line)
        if m:
            found.add(m.group("cell").split()[0])
    return found


def _parser_options(parser: argparse.ArgumentParser) -> set[str]:
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        if action.option_strings:
            found.update(o for o in action.option_strings if o.startswith("--"))
        else:
            found.add(str(action.metavar or action.dest))
    return found


def test_cli_page_documents_every_command_and_option() -> None:
    """The CLI page has a section per command whose tables list exactly its options."""
    from queue_quota import cli

    parser = cli.build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    parts = re.split(r"^### `([\w-]+)`$", text, flags=re.M)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    assert set(sections) == set(commands.choices)
    global_section = text.split("## Global options", 1)[1].split("\n## ", 1)[0]
    global_options = _parser_options(parser)
    assert _documented_options(global_section) == global_options
    for name, sub in commands.choices.items():
        own = _parser_options(sub) - global_options
        assert _documented_options(sections[name]) == own, name


# -- the office file ---------------------------------------------------------------------------


def test_office_file_page_lists_exactly_the_accepted_keys() -> None:
    """Each table of the office-file page lists the keys `load_office` accepts, no more."""
    from queue_quota import config

    text = (DOCS / "reference" / "office-file.md").read_text(encoding="utf-8")
    parts = re.split(r"^#{2,3} (.+)$", text, flags=re.M)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    expected = {
        "`[office]` (required)": config.OFFICE_KEYS,
        "`[calendar]` (optional)": config.CALENDAR_KEYS,
        '`type = "online"`': config.ONLINE_KEYS,
        '`type = "walk_in"`': config.WALK_IN_KEYS,
    }
    for title, keys in expected.items():
        assert _documented_options(sections[title]) == set(keys), title
    capacity = sections["Capacity tables"].split("Each rule:")
    assert _documented_options(capacity[0]) == set(config.CAPACITY_KEYS)
    assert _documented_options(capacity[1]) == set(config.RULE_KEYS)
    headings = {title.split(" ")[0].strip("`") for title in sections}
    arrays = {"policy", "pool"}  # arrays of tables: [[policy]], [[pool]]
    assert {f"[{k}]" for k in config.ROOT_KEYS - arrays} | {f"[[{k}]]" for k in arrays} <= headings
