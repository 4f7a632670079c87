"""`WebhookSender` against a real HTTP server on 127.0.0.1, and `verify_signature`.

The server verifies every post as a receiver would (`verify_signature` over the raw body
and the headers) and answers 401 when it does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs
import httpx
import pytest

from queue_quota.errors import ConfigurationError
from queue_quota.events import Event
from queue_quota.notify._notification import Notification, notification_id
from queue_quota.notify._webhook import (
    InvalidSignature,
    WebhookError,
    WebhookSender,
    sign,
    verify_signature,
)

SECRET = "webhook-secret-for-the-tests-0123456789"
OLD = b"the-old-webhook-secret-987654321"
TOKEN = "tok-4f1c9a7e2b5d"  # a token in the URL's query string: never to be shown
TEXT_ID = "Nomor antrean A-007 Anda: Senin, 8 Juni 2020, 08.00–08.30 WIB"
TEXT_EN = "Your queue number A-007: Monday, 8 June 2020, 08:00–08:30 WIB"


def notification(attempt: int = 1) -> Notification:
    """The notification of a booking at Tegal on Monday 8 June 2020."""
    e = Event(
        seq=1,
        kind="booked",
        booking_id="ABCDEFGHJKMNPQRS",
        day=date(2020, 6, 8),
        at=datetime(2020, 6, 5, 2, 0, tzinfo=UTC),
        data={"channel": "online", "label": "A-007", "number": 7, "places": 1,
              "window": ["08:00", "08:30"]},
    )  # fmt: skip
    return Notification(
        id=notification_id("tegal", e),
        office_id="tegal",
        event=e,
        text={"id": TEXT_ID, "en": TEXT_EN},
        attempt=attempt,
    )


@attrs.frozen
class Post:
    """One post the server received."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    verified: bool


@attrs.define
class Receiver:
    """The test server: what it received, and how it answers."""

    url: str = ""
    secrets: list[str | bytes] = attrs.field(factory=lambda: [SECRET])
    status: int = 204
    hang: bool = False  # wait for `release` instead of answering
    release: threading.Event = attrs.field(factory=threading.Event)
    posts: list[Post] = attrs.field(factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            verify_signature(
                receiver.secrets,
                body,
                timestamp=headers.get("webhook-timestamp", ""),
                signature=headers.get("webhook-signature", ""),
            )
            verified = True
        except InvalidSignature:
            verified = False
        receiver.posts.append(Post(self.path, headers, body, verified))
        if receiver.hang:
            receiver.release.wait(30)  # set by the fixture's teardown
            return  # the sender gave up long ago: no answer
        self.send_response(receiver.status if verified else 401)
        self.send_header("Location", "http://127.0.0.1:9/elsewhere")  # for 3xx answers
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A server on 127.0.0.1 (a free port) in a thread; its URL carries a token."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver(url=f"http://127.0.0.1:{server.server_port}/hook?token={TOKEN}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def assert_tells_nothing(text: str) -> None:
    """``text`` shows neither the secrets, nor the URL's token, nor the body."""
    for secret in (SECRET, OLD.decode(), TOKEN, "token=", "Nomor antrean", "A-007", "ABCDEFGH"):
        assert secret not in text, text


def test_a_delivery_verifies_on_the_receiving_side(receiver: Receiver) -> None:
    """The body is the notification's JSON, compact and sorted; the headers carry its id,
    the time and a signature that `verify_signature` accepts."""
    n = notification()
    before = int(time.time())
    with WebhookSender(receiver.url, SECRET, headers={"X-Office": "tegal"}) as send:
        send(n)
    after = int(time.time())
    (post,) = receiver.posts
    assert post.verified
    assert post.path == f"/hook?token={TOKEN}"
    assert json.loads(post.body) == n.as_json()
    assert post.body == json.dumps(
        n.as_json(), separators=(",", ":"), ensure_ascii=False, sort_keys=True
    ).encode("utf-8")
    assert "08.00–08.30".encode() in post.body  # UTF-8, not \u escapes
    assert post.headers["webhook-id"] == n.id
    assert post.headers["content-type"] == "application/json"
    assert post.headers["x-office"] == "tegal"
    assert before <= int(post.headers["webhook-timestamp"]) <= after
    verify_signature(
        SECRET,
        post.body,
        timestamp=post.headers["webhook-timestamp"],
        signature=post.headers["webhook-signature"],
    )


def test_a_retry_carries_the_same_id(receiver: Receiver) -> None:
    """Two deliveries of one event (a retry) have one ``Webhook-Id``."""
    with WebhookSender(receiver.url, SECRET) as send:
        send(notification(attempt=1))
        send(notification(attempt=2))
    first, second = receiver.posts
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == notification().id
    assert json.loads(second.body)["attempt"] == 2


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    """The format other languages' receivers implement."""
    body = b'{"id":"qqn_1"}'
    mac = hmac.new(SECRET.encode(), b"1591322400." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1591322400, body) == f"v1={mac}"
    assert sign(SECRET.encode(), 1591322400, body) == f"v1={mac}"


@pytest.fixture
def delivered(receiver: Receiver) -> Post:
    """One real delivery, as received."""
    with WebhookSender(receiver.url, SECRET) as send:
        send(notification())
    return receiver.posts[0]


def _check(post: Post, *, secret: str | bytes = SECRET, body: bytes | None = None,
           timestamp: str | None = None, signature: str | None = None,
           now: float | None = None) -> None:  # fmt: skip
    verify_signature(
        secret,
        post.body if body is None else body,
        timestamp=post.headers["webhook-timestamp"] if timestamp is None else timestamp,
        signature=post.headers["webhook-signature"] if signature is None else signature,
        now=now,
    )


def test_refusals(delivered: Post) -> None:
    """A tampered body, another secret, a replay, a timestamp from the future, a timestamp
    that is no number, and no ``v1=`` signature are each refused."""
    sent = int(delivered.headers["webhook-timestamp"])
    tampered = delivered.body.replace(b'"places":1', b'"places":9')
    assert tampered != delivered.body
    refused = [
        {"body": tampered},
        {"secret": "another-secret-of-enough-length"},
        {"now": sent + 301},  # replayed more than 5 minutes later
        {"now": sent - 301},  # stamped more than 5 minutes ahead
        {"timestamp": "soon"},
        {"timestamp": "1591322400.5"},
        {"timestamp": ""},
        {"timestamp": "１２３"},  # digits, but not ASCII ones
        {"signature": ""},
        {"signature": delivered.headers["webhook-signature"].replace("v1=", "v2=")},
        {"signature": delivered.headers["webhook-signature"][:-2]},
    ]
    for case in refused:
        with pytest.raises(InvalidSignature):
            _check(delivered, **case)  # type: ignore[arg-type]
    _check(delivered, now=sent + 300)  # the edges of the window still pass
    _check(delivered, now=sent - 300)


def test_a_header_may_hold_several_signatures(delivered: Post) -> None:
    """One valid ``v1=`` among others (a sender mid-rotation) is enough."""
    good = delivered.headers["webhook-signature"]
    _check(delivered, signature=f"v1={'0' * 64} {good} v2=whatever")


def test_a_rotated_receiver_accepts_the_old_secret(receiver: Receiver) -> None:
    """A receiver with ``[new, old]`` accepts senders still on the old secret and those on
    the new one; a receiver with the new secret alone refuses the old."""
    receiver.secrets = [SECRET, OLD]
    with WebhookSender(receiver.url, OLD) as old, WebhookSender(receiver.url, SECRET) as new:
        old(notification())
        new(notification())
        assert [p.verified for p in receiver.posts] == [True, True]
        receiver.secrets = [SECRET]
        with pytest.raises(WebhookError) as caught:
            old(notification())
    assert caught.value.status == 401
    assert_tells_nothing(str(caught.value))


@pytest.mark.parametrize("status", [307, 404, 500])
def test_an_answer_other_than_2xx_is_a_failure(receiver: Receiver, status: int) -> None:
    """Including a redirect (not followed: the body would go elsewhere)."""
    receiver.status = status
    with WebhookSender(receiver.url, SECRET) as send, pytest.raises(WebhookError) as caught:
        send(notification())
    assert caught.value.status == status
    assert f"HTTP {status}" in str(caught.value)
    assert len(receiver.posts) == 1
    assert_tells_nothing(f"{caught.value} {caught.value!r} {send!r}")


def test_a_server_that_hangs_is_a_failure_within_the_timeout(receiver: Receiver) -> None:
    """The sender gives up after its timeout; the server is released in teardown."""
    receiver.hang = True
    with WebhookSender(receiver.url, SECRET, timeout=0.3) as send:
        started = time.monotonic()
        with pytest.raises(WebhookError) as caught:
            send(notification())
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert caught.value.status is None
    assert "timed out" in str(caught.value)
    assert caught.value.__cause__ is None  # httpx's exception (its .request holds the URL)
    assert caught.value.__suppress_context__  # is not chained for a logger to print
    assert_tells_nothing(f"{caught.value} {caught.value!r}")


def test_a_refused_connection_is_a_failure() -> None:
    """A port bound but not listening refuses the connection (and no one can take it)."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook?token={TOKEN}"
        with WebhookSender(url, SECRET, timeout=2) as send, pytest.raises(WebhookError) as e:
            send(notification())
    assert e.value.status is None
    assert_tells_nothing(f"{e.value} {e.value!r}")


def test_repr_shows_scheme_host_and_path_only() -> None:
    """No secret, no query string, no user or password."""
    url = f"https://user:pw@Hooks.Example.org:8443/queue/hook?token={TOKEN}#frag"
    sender = WebhookSender(url, SECRET)
    assert repr(sender) == "WebhookSender('https://hooks.example.org:8443/queue/hook')"
    assert "pw" not in repr(sender)
    assert_tells_nothing(repr(sender))
    sender.close()


@pytest.mark.parametrize(
    ("url", "secret", "headers"),
    [
        ("http://127.0.0.1/hook", "fifteen-bytes!!", None),
        ("http://127.0.0.1/hook", b"", None),
        (f"ftp://127.0.0.1/hook?token={TOKEN}", SECRET, None),
        (f"127.0.0.1/hook?token={TOKEN}", SECRET, None),
        (f"http:///hook?token={TOKEN}", SECRET, None),
        (f"http://127.0.0.1:99999/hook?token={TOKEN}", SECRET, None),
        ("http://127.0.0.1/hook", SECRET, {"webhook-signature": "v1=forged"}),
    ],
)
def test_bad_configuration(url: str, secret: str | bytes, headers: dict[str, str] | None) -> None:
    """A short secret, a URL that is not http(s), a header that would replace the
    signature: `ConfigurationError`, whose message shows no URL."""
    with pytest.raises(ConfigurationError) as caught:
        WebhookSender(url, secret, headers=headers)
    assert "127.0.0.1" not in str(caught.value)
    assert_tells_nothing(str(caught.value))


def test_a_receiver_with_no_or_a_short_secret_is_misconfigured(delivered: Post) -> None:
    """An unset environment variable read as "" must not become a key anyone can sign with."""
    for secret in ("", [], ["short"], [SECRET, b""]):
        with pytest.raises(ConfigurationError):
            _check(delivered, secret=secret)  # type: ignore[arg-type]


def test_without_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx is an optional extra: its absence is named, with the command that installs it."""
    monkeypatch.setitem(sys.modules, "httpx", None)  # `import httpx` raises ImportError
    with pytest.raises(ConfigurationError, match=r"queue-quota\[notify\]"):
        WebhookSender("http://127.0.0.1/hook", SECRET)


def test_close_closes_only_the_client_the_sender_made(receiver: Receiver) -> None:
    """A given client stays open (and is the one used); the sender's own is closed."""
    with httpx.Client() as client:
        with WebhookSender(receiver.url, SECRET, client=client) as send:
            send(notification())
        assert not client.is_closed
        client.get(receiver.url.replace("/hook", "/still-open"))  # 501: no do_GET
    own = WebhookSender(receiver.url, SECRET)
    own.close()
    with pytest.raises(RuntimeError):  # httpx refuses to send on a closed client
        own(notification())
    assert [p.verified for p in receiver.posts] == [True]
