"""The office secret from the environment, for every entry point alike.

``QUEUE_QUOTA_SECRET`` holds the secret that signs new tickets and hashes new citizen refs;
``QUEUE_QUOTA_OLD_SECRETS`` (optional) holds older secrets, separated by commas, that still
verify tickets and match citizens during a rotation (see "Rotate the secret")::

    export QUEUE_QUOTA_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    export QUEUE_QUOTA_OLD_SECRETS="the-previous-secret"

The command line and the FastAPI and Django examples all read them with `secret_from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .errors import ConfigurationError

__all__ = ["ENV_OLD_SECRETS", "ENV_SECRET", "MIN_SECRET_BYTES", "secret_from_env"]

ENV_SECRET = "QUEUE_QUOTA_SECRET"
ENV_OLD_SECRETS = "QUEUE_QUOTA_OLD_SECRETS"
MIN_SECRET_BYTES = 16


def secret_from_env(environ: Mapping[str, str] | None = None) -> list[bytes] | None:
    """The secrets named by the environment, the current one first; ``None`` if unset.

    Pass the result as ``Scheduler(..., secret=...)``.

    Raises:
        ConfigurationError: A secret shorter than 16 bytes, or old secrets without a
            current one. The message names the variable, never the value.
    """
    env = os.environ if environ is None else environ
    current = env.get(ENV_SECRET, "").strip()
    old = [s.strip() for s in env.get(ENV_OLD_SECRETS, "").split(",") if s.strip()]
    if not current:
        if old:
            raise ConfigurationError(f"{ENV_OLD_SECRETS} is set but {ENV_SECRET} is not")
        return None
    found = [current.encode("utf-8"), *(s.encode("utf-8") for s in old)]
    for i, value in enumerate(found):
        if len(value) < MIN_SECRET_BYTES:
            where = ENV_SECRET if i == 0 else f"{ENV_OLD_SECRETS} (secret {i})"
            raise ConfigurationError(f"{where} must be at least {MIN_SECRET_BYTES} bytes")
    return found
