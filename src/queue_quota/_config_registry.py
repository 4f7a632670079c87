"""The registry of policy types office files may name: registered factories, then entry
points of the group ``queue_quota.policies`` (looked up only when a file names a type that
is not registered, and never imported otherwise)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from importlib import metadata
from typing import Final, TypeAlias

from .errors import ConfigurationError
from .policies import QuotaPolicy

__all__ = [
    "BUILTIN_TYPES",
    "ENTRY_POINT_GROUP",
    "PolicyFactory",
    "factory_of",
    "policy_types",
    "register_policy_type",
    "unregister_policy_type",
]

#: A callable building a policy from the keys of its ``[[policy]]`` table.
PolicyFactory: TypeAlias = Callable[..., QuotaPolicy]

#: The entry point group searched for policy types that are not registered.
ENTRY_POINT_GROUP: Final = "queue_quota.policies"

BUILTIN_TYPES: Final = ("online", "walk_in")

_TYPE_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

_registry: dict[str, PolicyFactory] = {}
_registry_lock = threading.Lock()
_entry_points: dict[str, metadata.EntryPoint] | None = None


def register_policy_type(name: str, factory: PolicyFactory, *, replace: bool = False) -> None:
    """Make ``type = name`` in an office file build ``factory(**options)``.

    Args:
        name: The type's name: a lower-case identifier (``"weekly"``). ``"online"`` and
            ``"walk_in"`` are built in and cannot be replaced.
        factory: A callable (typically the policy class) taking the table's keys, except
            ``type``, as keyword arguments; ``capacity`` arrives as a `CapacityCalendar`.
            It must return an object implementing `QuotaPolicy`.
        replace: Allow replacing a type registered before.

    Raises:
        ConfigurationError: A malformed or built-in name, a factory that is not callable,
            or a name already registered (unless ``replace``).
    """
    if not isinstance(name, str) or not _TYPE_NAME.match(name):
        raise ConfigurationError(
            f"a policy type name must be a lower-case identifier, got {name!r}"
        )
    if name in BUILTIN_TYPES:
        raise ConfigurationError(f"{name!r} is a built-in policy type and cannot be replaced")
    if not callable(factory):
        raise ConfigurationError(f"the factory of policy type {name!r} must be callable")
    with _registry_lock:
        if name in _registry and not replace and _registry[name] is not factory:
            raise ConfigurationError(
                f"policy type {name!r} is already registered (pass replace=True to replace it)"
            )
        _registry[name] = factory


def unregister_policy_type(name: str) -> None:
    """Forget a registered policy type (nothing happens if it is not registered).

    A type provided by an entry point will be found again the next time a file names it.
    """
    with _registry_lock:
        _registry.pop(name, None)


def _discover() -> dict[str, metadata.EntryPoint]:
    global _entry_points
    with _registry_lock:
        if _entry_points is None:
            found = metadata.entry_points(group=ENTRY_POINT_GROUP)
            _entry_points = {ep.name: ep for ep in found if ep.name not in BUILTIN_TYPES}
        return _entry_points


def policy_types() -> tuple[str, ...]:
    """Every policy type a file may name: the built-ins, then registered and entry point
    types, sorted (looks the entry points up, without importing them)."""
    with _registry_lock:
        registered = set(_registry)
    return BUILTIN_TYPES + tuple(sorted(registered | set(_discover())))


def factory_of(name: str) -> PolicyFactory | None:
    """The factory of a registered type, loading it from its entry point if need be."""
    with _registry_lock:
        factory = _registry.get(name)
    if factory is not None:
        return factory
    ep = _discover().get(name)
    if ep is None:
        return None
    try:
        loaded = ep.load()
    except Exception as exc:  # any import-time failure of a plug-in
        raise ConfigurationError(
            f"cannot load policy type {name!r} from entry point {ep.value!r}: {exc}"
        ) from exc
    if not callable(loaded):
        raise ConfigurationError(
            f"entry point {ep.value!r} of policy type {name!r} is not callable"
        )
    with _registry_lock:
        return _registry.setdefault(name, loaded)
