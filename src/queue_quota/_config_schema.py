"""The shipped JSON Schema as the one structural check of office files.

`check` runs ``jsonschema`` (Draft 2020-12) over the file, its dates and times written as
the strings a TOML-to-JSON conversion gives, and turns the first mistake (in file order;
in a table, unknown keys before missing ones before values) into an `OfficeFileError`
naming the key path and what was expected. What a mistake "expected" is said by the
schema's own ``x-expected`` annotations (the innermost one around the mistake), with
``x-message`` naming its catalogue key (``office_file.<x-message>``) for other languages.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, time
from importlib import resources
from typing import Any, Final

import jsonschema  # type: ignore[import-untyped]

from ._config_errors import Fail, OfficeFileError, got, join, show

__all__ = ["check", "keys_of", "load_schema", "plain"]

_RANK: Final = {"additionalProperties": 0, "required": 1}
_BRANCHES: Final = ("oneOf", "anyOf")
_NOUNS: Final = {
    "object": "a table",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


@functools.cache
def _schema_text() -> str:
    return (
        resources.files("queue_quota")
        .joinpath("schema", "office.schema.json")
        .read_text(encoding="utf-8")
    )


def load_schema() -> dict[str, Any]:
    """A fresh copy of the shipped schema."""
    loaded: dict[str, Any] = json.loads(_schema_text())
    return loaded


@functools.cache
def _validator() -> Any:
    return jsonschema.Draft202012Validator(load_schema())


def keys_of(*pointer: str | int) -> frozenset[str]:
    """The keys the schema allows in the table at ``pointer`` (``"$defs", "online"``)."""
    node: Any = _validator().schema
    for part in pointer:
        node = node[part]
    return frozenset(node["properties"])


def plain(value: object) -> object:
    """``value`` as JSON would hold it: dates and times as ISO strings, tuples as lists,
    keys as strings; anything else unchanged (the schema refuses it by its type)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, date | time):  # datetime is a date: "2020-06-13T08:00:00"
        return value.isoformat()
    return value


def _original(data: object, path: Iterable[object]) -> object:
    """The value at ``path`` in the data as given (keys compared as strings)."""
    node = data
    for part in path:
        if isinstance(node, Mapping):
            node = next((v for k, v in node.items() if str(k) == part), None)
        elif isinstance(node, list | tuple) and isinstance(part, int):
            node = node[part]
        else:  # pragma: no cover - the path comes from the same data
            return None
    return node


def _position(data: object, path: Sequence[object]) -> tuple[int, ...]:
    """Where ``path`` is in the file: the index of each key or item in its parent."""
    out: list[int] = []
    node = data
    for part in path:
        if isinstance(node, Mapping):
            keys = [str(k) for k in node]
            out.append(keys.index(str(part)) if str(part) in keys else len(keys))
            node = _original(node, [part])
        else:
            out.append(part if isinstance(part, int) else 0)
            node = _original(node, [part])
    return tuple(out)


def _resolve(node: Any, root: Mapping[str, Any]) -> Any:
    ref = node["$ref"]
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def _chain(error: Any, root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The schemas from the root down to the one holding the failed keyword."""
    node: Any = root
    chain = [node]
    for part in list(error.absolute_schema_path)[:-1]:
        while isinstance(node, Mapping) and part not in node and "$ref" in node:
            node = _resolve(node, root)
            chain.append(node)
        node = node[part]
        if isinstance(node, Mapping):
            chain.append(node)
    while isinstance(node, Mapping) and error.validator not in node and "$ref" in node:
        node = _resolve(node, root)
        chain.append(node)
    return chain


def _path(error: Any) -> list[object]:
    """The instance path of an error; a failed key name (``propertyNames``) included."""
    path = list(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        path.append(error.instance)
    return path


def _key(path: Sequence[object]) -> str:
    key = ""
    for part in path:
        key = join(key, part if isinstance(part, int) else str(part))
    return key


def _leaf(error: Any, data: object) -> Any:
    """The error that says most: inside ``oneOf``/``anyOf``, the branches whose type the
    value has; the alternatives themselves when none or several are left."""
    while error.validator in _BRANCHES and error.context:
        branches: dict[object, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        typed = [
            errs
            for errs in branches.values()
            if not any(e.validator == "type" and not e.relative_path for e in errs)
        ]
        if len(typed) != 1:
            return error
        error = min(typed[0], key=lambda e: _order(e, data))
    return error


def _order(error: Any, data: object) -> tuple[tuple[int, ...], int]:
    return _position(data, _path(error)), _RANK.get(error.validator, 2)


def _reason(error: Any, data: object, fail: Fail) -> OfficeFileError:
    root = _validator().schema
    path = _path(error)
    key = _key(path)
    value = _original(data, path)
    schema_here = _chain(error, root)[-1]
    if error.validator == "additionalProperties" and error.validator_value is False:
        allowed = list(schema_here.get("properties", {}))
        extra = next(k for k in error.instance if k not in allowed)
        noun = schema_here.get("x-unknown", "key")
        what = ""
        if len(path) == 2 and path[0] == "policy" and isinstance(value, Mapping):
            what = f" for type {show(value.get('type'))}"
        return fail.unknown(join(key, extra), extra, allowed, noun=noun, what=what)
    if error.validator == "required":
        missing = sorted(k for k in error.validator_value if k not in error.instance)[0]
        return fail(join(key, missing), "missing (this key is required)", "missing_key")
    for node in reversed(_chain(error, root)):
        if "x-expected" in node:
            fields: dict[str, Any] = {"got": got(value)}
            if "minimum" in node:
                fields["minimum"] = node["minimum"]
            if "x-example" in node:
                fields["example"] = node["x-example"]
            reason = f"expected {node['x-expected']}, got {show(value)}"
            return fail(key or None, reason, node.get("x-message"), **fields)
    return fail(key or None, _generic(error, value))  # pragma: no cover - every leaf is said


def _generic(error: Any, value: object) -> str:  # pragma: no cover - a schema without x-expected
    if error.validator == "type":
        return f"expected {_NOUNS.get(str(error.validator_value), 'a value')}, got {show(value)}"
    return f"{error.message}"


def check(data: object, fail: Fail) -> dict[str, Any]:
    """``data`` as the schema saw it (`plain`), or the `OfficeFileError` of the first
    mistake the schema finds in it."""
    seen = plain(data)
    errors = list(_validator().iter_errors(seen))
    if not errors:
        assert isinstance(seen, dict)
        return seen
    first = min(errors, key=lambda e: _order(e, data))
    raise _reason(_leaf(first, data), data, fail)
