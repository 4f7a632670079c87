"""The command line's event-log commands: ``events``, ``reopen-day``, ``notify``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from _cli import NIK, Runner, make_runner
from queue_quota.notify import verify_signature

SECRET = "webhook-secret-0123456789"


@pytest.fixture
def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    return make_runner(tmp_path, capsys, monkeypatch)


def test_events_lists_changes_with_messages_and_json(run: Runner) -> None:
    booking_id = run.book().booking_id
    assert run("cancel", booking_id).code == 0
    table = run("events", "--lang", "en")
    assert table.code == 0
    assert "booked" in table.out
    assert "The booking with queue number A-001 for Friday, 5 June 2020 is cancelled" in table.out
    lines = run("events", "--json", "--after", "1").out.splitlines()
    (record,) = [json.loads(line) for line in lines]
    assert (record["seq"], record["kind"], record["booking_id"]) == (2, "cancelled", booking_id)
    assert record["text"]["id"].startswith("Pendaftaran dengan nomor antrean A-001")
    assert NIK not in table.out + "\n".join(lines)
    assert "Tidak ada peristiwa baru." in run("events", "--after", "2").out
    assert run("events", "--limit", "0").code == 2


def test_reopen_day_lifts_a_closure(run: Runner) -> None:
    assert run("close-day", "2020-06-05", "--reason", "banjir").code == 0
    r = run("reopen-day", "2020-06-05", "--lang", "en")
    assert (r.code, r.out.strip()) == (0, "The office is open again on Friday, 5 June 2020.")
    again = run("reopen-day", "2020-06-05", "--lang", "en")
    assert again.out.strip() == "Friday, 5 June 2020 is not closed; nothing changed."
    assert run("reopen-day", "2020-06-01").code == 2  # a past day


@pytest.fixture
def hook() -> Iterator[tuple[list[dict[str, Any]], str]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            verify_signature(
                SECRET,
                body,
                timestamp=self.headers["Webhook-Timestamp"],
                signature=self.headers["Webhook-Signature"],
            )
            got.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield got, f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_notify_once_posts_signed_events(
    run: Runner, hook: tuple[list[dict[str, Any]], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    got, url = hook
    run.book()
    assert run("notify", "--webhook", url, "--once").code == 2  # no webhook secret
    monkeypatch.setenv("QUEUE_QUOTA_WEBHOOK_SECRET", SECRET)
    r = run("notify", "--webhook", url, "--once", "--lang", "en")
    assert (r.code, r.out.strip()) == (0, "1 notifications handled.")
    assert [d["kind"] for d in got] == ["booked"]
    assert run("notify", "--webhook", url, "--once").out.strip() == "0 notifikasi ditangani."
    assert SECRET not in r.out + r.err
