"""Rules the built-in policies share: claims, places, the walk-in's unused-places table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from ..errors import ConfigurationError, NotEligible
from .base import BookingRequest


def check_claim_and_places(policy: Any, request: BookingRequest) -> None:
    """`NotEligible` without ``policy.requires_claim``; `ConfigurationError` for more
    ``places`` than ``policy.max_places``."""
    claim = policy.requires_claim
    if claim is not None and not request.moving and not request.claims.get(claim):
        raise NotEligible(
            f"the {policy.channel} channel is for citizens with the claim {claim!r}",
            channel=policy.channel,
            claim=claim,
        )
    limit = policy.max_places
    if limit is not None and request.places > limit:
        raise ConfigurationError(
            f"at most {limit} places per booking on {policy.channel}, asked for {request.places}",
            message_key="configuration_error.too_many_places",
            channel=policy.channel,
            limit=limit,
            places=request.places,
        )


def takes_unused(value: Any) -> dict[str, time]:
    """attrs converter: ``{channel: local time}`` from which unused places may be taken."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"takes_unused must map channels to times, got {value!r}")
    out: dict[str, time] = {}
    for channel, at in value.items():
        if not isinstance(channel, str) or not isinstance(at, time) or at.tzinfo is not None:
            raise ConfigurationError(
                f"takes_unused must map channel names to naive times, got {channel!r}: {at!r}"
            )
        out[channel] = at
    return out
