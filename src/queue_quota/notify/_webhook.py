"""`WebhookSender`, a ``send`` that posts each notification signed, and `verify_signature`,
which checks such a post where it is received. See "Notify citizens (webhooks)"."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from ._notification import Notification

if TYPE_CHECKING:
    import httpx

__all__ = ["InvalidSignature", "WebhookError", "WebhookSender", "sign", "verify_signature"]

#: The shortest secret accepted by the sender and by the receiver, in bytes (a str as UTF-8).
MIN_SECRET_BYTES: Final = 16
_OWN_HEADERS: Final = ("content-type", "webhook-id", "webhook-timestamp", "webhook-signature")


class WebhookError(Exception):
    """A delivery failed: an answer other than 2xx, a timeout or a connection error.

    The message names the status or the kind of failure, never the URL, the secret or the
    body. ``status`` is the HTTP status, or ``None`` when no answer came.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InvalidSignature(Exception):
    """A post that `verify_signature` refuses: a bad or missing timestamp, one outside the
    replay window, or no signature made with a known secret."""


def _key(secret: bytes | str) -> bytes:
    """The HMAC key of ``secret``; `ConfigurationError` if it is too short (an unset
    environment variable read as ``""`` must not become a key anyone can sign with)."""
    if not isinstance(secret, bytes | str):
        raise ConfigurationError("a webhook secret must be bytes or str")
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigurationError(f"a webhook secret must be at least {MIN_SECRET_BYTES} bytes")
    return key


def _digest(key: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes | str, timestamp: int, body: bytes) -> str:
    """The ``Webhook-Signature`` of ``body`` sent at ``timestamp`` (unix seconds):
    ``"v1="`` and the hex HMAC-SHA256 of ``f"{timestamp}."`` and the body."""
    return "v1=" + _digest(_key(secret), str(int(timestamp)), body)


def verify_signature(
    secret: bytes | str | Sequence[bytes | str],
    body: bytes,
    *,
    timestamp: str,
    signature: str,
    now: float | None = None,
    tolerance: int = 300,
) -> None:
    """Check a post's ``Webhook-Timestamp`` and ``Webhook-Signature`` headers against its
    raw ``body``; raise `InvalidSignature` if they do not hold.

    ``secret``: one secret, or several during a rotation (new first); a signature made with
    any of them passes (each at least 16 bytes, else `ConfigurationError`). The header may
    hold several space-separated signatures: one valid ``v1=`` is enough. The timestamp
    must be within ``tolerance`` seconds of ``now`` (default: the current time) either way,
    so a recorded post replayed later is refused.
    """
    keys = [_key(s) for s in ([secret] if isinstance(secret, bytes | str) else secret)]
    if not keys:
        raise ConfigurationError("verify_signature needs at least one secret")
    text = timestamp.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        raise InvalidSignature("the timestamp is not a number of seconds")
    current = time.time() if now is None else now
    if abs(current - int(text)) > tolerance:
        raise InvalidSignature("the timestamp is outside the replay window")
    given = [s[3:].encode("utf-8", "replace") for s in signature.split() if s.startswith("v1=")]
    for key in keys:
        expected = _digest(key, text, body).encode("ascii")
        if any(hmac.compare_digest(expected, candidate) for candidate in given):
            return
    raise InvalidSignature("no valid signature")


class WebhookSender:
    """A ``send`` for `queue_quota.notify.Notifier`: posts each notification to ``url``.

    The body is ``notification.as_json()`` as compact UTF-8 JSON with sorted keys; the
    headers ``Content-Type``, ``Webhook-Id`` (the notification's idempotency id),
    ``Webhook-Timestamp`` (unix seconds) and ``Webhook-Signature`` (see `sign`), and
    ``headers``. A 2xx answer is a delivery; anything else raises `WebhookError`, which
    the notifier retries. Redirects are not followed and the answer's body is not read.

    Args:
        url: An ``http`` or ``https`` URL (it may carry a token; it is never shown).
        secret: The shared secret, at least 16 bytes.
        timeout: Seconds allowed to connect, to send, and between bytes of the answer.
        client: An ``httpx.Client`` to post with (left open by `close`); by default the
            sender makes its own.
        headers: More headers for every post (the four above cannot be replaced).
    """

    def __init__(
        self,
        url: str,
        secret: bytes | str,
        *,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        try:
            import httpx
        except ImportError:
            raise ConfigurationError(
                "WebhookSender needs httpx: pip install 'queue-quota[notify]'"
            ) from None
        self._httpx = httpx
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ConfigurationError("the webhook URL is not a valid URL") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("the webhook URL must be an http:// or https:// URL")
        self._key = _key(secret)
        extra = dict(headers or {})
        if any(name.lower() in _OWN_HEADERS for name in extra):
            raise ConfigurationError("headers cannot replace the webhook's own headers")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        where = host if port is None else f"{host}:{port}"
        self._shown = f"{parts.scheme.lower()}://{where}{parts.path}"
        self._url = url
        self._timeout = timeout
        self._headers = extra
        self._own_client = client is None
        self._client = httpx.Client(timeout=timeout) if client is None else client

    def __call__(self, notification: Notification) -> None:
        """Post ``notification``; raise `WebhookError` unless the answer is 2xx."""
        body = json.dumps(
            notification.as_json(), separators=(",", ":"), ensure_ascii=False, sort_keys=True
        ).encode("utf-8")
        timestamp = int(time.time())
        headers = {
            **self._headers,
            "Content-Type": "application/json",
            "Webhook-Id": notification.id,
            "Webhook-Timestamp": str(timestamp),
            "Webhook-Signature": sign(self._key, timestamp, body),
        }
        httpx = self._httpx  # imported by __init__ (an optional dependency)
        try:
            with self._client.stream(
                "POST", self._url, content=body, headers=headers, timeout=self._timeout
            ) as answer:
                status = answer.status_code
        except httpx.HTTPError as exc:  # no URL, secret or body: only what went wrong
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
            raise WebhookError(f"webhook delivery {kind} ({type(exc).__name__})") from None
        if not 200 <= status < 300:
            raise WebhookError(f"webhook answered HTTP {status}", status=status)

    def close(self) -> None:
        """Close the HTTP client the sender made (a client it was given stays open)."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WebhookSender({self._shown!r})"
