"""`queue_quota.keys.secret_from_env`: the secrets every entry point reads."""

from __future__ import annotations

import pytest

import queue_quota as qq
from queue_quota.keys import secret_from_env

NEW = "the-new-secret-0123456789"
OLD = "the-old-secret-0123456789"


def test_current_then_old_secrets() -> None:
    """The current secret comes first, then the old ones in order; blanks are ignored."""
    env = {"QUEUE_QUOTA_SECRET": NEW, "QUEUE_QUOTA_OLD_SECRETS": f" {OLD} , ,older-secret-0123456"}
    assert secret_from_env(env) == [NEW.encode(), OLD.encode(), b"older-secret-0123456"]
    assert secret_from_env({"QUEUE_QUOTA_SECRET": NEW}) == [NEW.encode()]
    assert secret_from_env({}) is None


@pytest.mark.parametrize(
    "env",
    [
        {"QUEUE_QUOTA_SECRET": "short"},
        {"QUEUE_QUOTA_SECRET": NEW, "QUEUE_QUOTA_OLD_SECRETS": "short"},
        {"QUEUE_QUOTA_OLD_SECRETS": OLD},
    ],
)
def test_bad_secrets_are_refused_without_their_value(env: dict[str, str]) -> None:
    """A short secret, or old secrets without a current one: named, never shown."""
    with pytest.raises(qq.ConfigurationError) as caught:
        secret_from_env(env)
    text = str(caught.value)
    assert "QUEUE_QUOTA_" in text
    for value in env.values():
        assert value not in text
