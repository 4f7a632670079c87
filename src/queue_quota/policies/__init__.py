"""Quota policies: the `QuotaPolicy` protocol and the built-in channels."""

from .base import BookingRequest, QuotaPolicy
from .online import OnlineQuota
from .walk_in import WalkInQuota

__all__ = ["BookingRequest", "OnlineQuota", "QuotaPolicy", "WalkInQuota"]
