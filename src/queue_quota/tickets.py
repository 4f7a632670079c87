"""Signed tickets and keyed citizen references.

A **ticket** is what the citizen carries (printed, in a QR code, or typed at a kiosk): the
booking id (80 random bits in Crockford base32) and a 64-bit HMAC-SHA256 tag over the
office id and booking id (in hex, whose digits are Crockford digits too), e.g.
``"7K3M-2QXR-9D0A-HV5T.E4C1-8BBC-96D0-F2AA"``. It carries no personal data and
no day, so it stays valid when the booking is moved; it cannot be forged or altered without
the office secret. Typing is forgiving: case, dashes, spaces, ``I``/``L`` for ``1`` and
``O`` for ``0`` are accepted.

A **citizen ref** is a keyed hash (HMAC-SHA256) of the citizen's ID: bookings of one
citizen can be matched without the ID ever being stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from collections.abc import Sequence

from .errors import ConfigurationError, InvalidTicket

__all__ = ["Keyring", "TicketSigner", "new_booking_id", "normalise_booking_id"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
_DECODE.update({"I": 1, "L": 1, "O": 0})
_ID_BYTES = 10  # 80 random bits -> 16 characters
_ID_CHARS = 16
_TAG_BYTES = 8  # 64 bits of HMAC-SHA256 (truncated per RFC 2104 section 5), in hex
_TAG_CHARS = 16
_MIN_SECRET = 16
_RANDOM_BATCH = 256


_B32_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


class _IdPool(threading.local):
    """Booking ids made in batches: one OS random call and one base32 pass per 256 ids."""

    def __init__(self) -> None:
        self.pid = 0
        self.ids: list[str] = []

    def take(self) -> str:
        if not self.ids or self.pid != os.getpid():
            raw = base64.b32encode(os.urandom(_ID_BYTES * _RANDOM_BATCH))
            text = raw.translate(_B32_TO_CROCKFORD).decode("ascii")
            self.ids = [text[i : i + _ID_CHARS] for i in range(0, len(text), _ID_CHARS)]
            self.pid = os.getpid()
        return self.ids.pop()


_pool = _IdPool()


def new_booking_id() -> str:
    """A fresh random booking id: 16 Crockford base32 characters (80 bits from the OS CSPRNG)."""
    return _pool.take()


def _group(s: str) -> str:
    return f"{s[0:4]}-{s[4:8]}-{s[8:12]}-{s[12:16]}"


def _normalise(text: str) -> str:
    out = []
    for ch in text.upper():
        if ch in "- \t":
            continue
        if ch not in _DECODE:
            raise InvalidTicket("the ticket contains characters that are not allowed")
        out.append(_ALPHABET[_DECODE[ch]])
    return "".join(out)


def normalise_booking_id(text: str) -> str | None:
    """A booking id as typed (any case, spaces, dashes, I/L/O) in its stored form.

    ``None`` if it cannot be a booking id.
    """
    try:
        flat = _normalise(text)
    except InvalidTicket:
        return None
    return flat if len(flat) == _ID_CHARS else None


def looks_like_ticket(text: str) -> bool:
    """Whether typed text is a ticket rather than a bare booking id."""
    if "." in text:
        return True
    return sum(1 for ch in text if ch not in "- \t") > _ID_CHARS


class TicketSigner:
    """Issues and verifies tickets and citizen refs with one office secret."""

    __slots__ = ("_citizen_key", "_fingerprint_key", "_office", "_request_key", "_ticket_key")

    def __init__(self, secret: bytes, office_id: str) -> None:
        if not isinstance(secret, bytes | bytearray) or len(secret) < _MIN_SECRET:
            raise ConfigurationError(
                f"secret must be bytes of length >= {_MIN_SECRET}",
                message_key="configuration_error.short_secret",
                min_bytes=_MIN_SECRET,
            )
        # Separate keys per purpose, so a citizen ref can never be replayed as a tag.
        self._ticket_key = hmac.new(bytes(secret), b"queue_quota/ticket", hashlib.sha256).digest()
        self._citizen_key = hmac.new(bytes(secret), b"queue_quota/citizen", hashlib.sha256).digest()
        self._request_key = hmac.new(bytes(secret), b"queue_quota/request", hashlib.sha256).digest()
        self._fingerprint_key = hmac.new(
            bytes(secret), b"queue_quota/fingerprint", hashlib.sha256
        ).digest()
        self._office = office_id.encode() + b"\x00"

    def __repr__(self) -> str:
        return f"<TicketSigner office={self._office[:-1].decode()!r}>"

    def _tag(self, booking_id: str) -> str:
        mac = hmac.digest(self._ticket_key, self._office + booking_id.encode(), "sha256")
        # Hex digits are Crockford base32 digits too, so the whole ticket reads alike.
        return mac[:_TAG_BYTES].hex().upper()

    def issue(self, booking_id: str) -> str:
        """The ticket for a booking id."""
        return f"{_group(booking_id)}.{_group(self._tag(booking_id))}"

    def verify(self, ticket: str) -> str:
        """The booking id a ticket was issued for; `InvalidTicket` if forged or malformed."""
        if not isinstance(ticket, str) or len(ticket) > 80:
            raise InvalidTicket("not a ticket")
        head, sep, tail = ticket.strip().partition(".")
        if not sep:
            flat = _normalise(head)
            head, tail = flat[:_ID_CHARS], flat[_ID_CHARS:]
        booking_id, tag = _normalise(head), _normalise(tail)
        if len(booking_id) != _ID_CHARS or len(tag) != _TAG_CHARS:
            raise InvalidTicket("the ticket has the wrong length")
        if not hmac.compare_digest(tag, self._tag(booking_id)):
            raise InvalidTicket("the ticket's signature does not match")
        return booking_id

    def fingerprint(self) -> str:
        """A keyed hash that identifies the secret (for this office) without revealing it."""
        return hmac.digest(self._fingerprint_key, self._office, "sha256")[:16].hex()

    def request_fingerprint(self, parts: tuple[object, ...]) -> str:
        """A keyed hash of a request's parts (channel, citizen ref, preferred date, ...)."""
        text = "\x1f".join("" if p is None else str(p) for p in parts)
        return hmac.digest(self._request_key, self._office + text.encode(), "sha256")[:16].hex()

    def citizen_ref(self, citizen_id: str) -> str:
        """The keyed hash that stands for a citizen ID (32 hex characters)."""
        if not isinstance(citizen_id, str) or not citizen_id.strip():
            raise ConfigurationError("citizen_id must be a non-empty string")
        normal = "".join(citizen_id.split()).upper()
        return hmac.digest(self._citizen_key, normal.encode(), "sha256")[:16].hex()


class Keyring:
    """The office's secrets: the first signs and hashes new data, every one verifies.

    Rotation: give ``[new, old]``; tickets signed with ``old`` still verify and citizens
    hashed with ``old`` are still matched, while everything new uses ``new``.
    """

    __slots__ = ("primary", "signers")

    def __init__(self, secrets: bytes | Sequence[bytes], office_id: str) -> None:
        items: list[object]
        if isinstance(secrets, bytes | bytearray):
            items = [secrets]
        elif isinstance(secrets, str) or not isinstance(secrets, Sequence) or not secrets:
            raise ConfigurationError(
                f"secret must be bytes of length >= {_MIN_SECRET}, or a non-empty sequence of them"
            )
        else:
            items = list(secrets)
        unique: list[bytes] = []
        for item in items:
            if not isinstance(item, bytes | bytearray) or len(item) < _MIN_SECRET:
                raise ConfigurationError(f"every secret must be bytes of length >= {_MIN_SECRET}")
            if bytes(item) not in unique:
                unique.append(bytes(item))
        self.signers = tuple(TicketSigner(s, office_id) for s in unique)
        self.primary = self.signers[0]

    def __repr__(self) -> str:
        return f"<Keyring secrets={len(self.signers)}>"

    def verify(self, ticket: str) -> str:
        """The booking id of a ticket signed with any of the secrets."""
        error: InvalidTicket | None = None
        for signer in self.signers:
            try:
                return signer.verify(ticket)
            except InvalidTicket as exc:
                if error is None:
                    error = exc
        assert error is not None
        raise error

    def citizen_refs(self, citizen_id: str) -> tuple[str, ...]:
        """The citizen's ref under every secret, in the order of `signers` (the primary's
        first; the secrets are distinct, so are the refs)."""
        return tuple(s.citizen_ref(citizen_id) for s in self.signers)
