"""A griffe extension: the ``__init__`` signature of ``attrs`` classes, for the API reference.

Griffe re-creates ``__init__`` for dataclasses but not for ``@attrs.frozen`` /
``@attrs.define`` classes, so their ``Args:`` sections would name parameters that the
signature lacks. This builds the signature from the annotated fields, as attrs does:
``attrs.field(default=..., kw_only=...)``, a class-wide ``kw_only=True``, and, for a field
with a ``converter=``, the converter's parameter type (what callers may pass).
"""

from __future__ import annotations

from typing import Any

from griffe import (
    Attribute,
    Class,
    Expr,
    ExprCall,
    ExprKeyword,
    Extension,
    Function,
    Module,
    Parameter,
    ParameterKind,
    Parameters,
)

_DECORATORS = {
    "attrs.frozen",
    "attrs.define",
    "attrs.mutable",
    "attr.frozen",
    "attr.define",
    "attr.mutable",
}
_FIELD = {"attrs.field", "attr.field", "attr.ib"}


def _call_args(expr: object) -> dict[str, Any]:
    if not isinstance(expr, ExprCall):
        return {}
    return {a.name: a.value for a in expr.arguments if isinstance(a, ExprKeyword)}


def _decorator(cls: Class) -> Expr | str | None:
    for dec in cls.decorators:
        value = dec.value
        path = value.function.canonical_path if isinstance(value, ExprCall) else None
        if path is None and isinstance(value, Expr):
            path = value.canonical_path
        if path in _DECORATORS:
            return value
    return None


def _converter_annotation(cls: Class, converter: object) -> Any:
    module = cls.module
    name = str(converter)
    target = module.members.get(name)
    if isinstance(target, Function) and len(target.parameters) > 0:
        return target.parameters[0].annotation
    return None


def _parameters(cls: Class, class_kw_only: bool) -> list[Parameter]:
    params: list[Parameter] = []
    for member in cls.members.values():
        if not isinstance(member, Attribute) or member.annotation is None:
            continue
        if "property" in member.labels or (
            "class-attribute" in member.labels and "instance-attribute" not in member.labels
        ):
            continue
        value = member.value
        is_field = isinstance(value, ExprCall) and value.function.canonical_path in _FIELD
        args = _call_args(value) if is_field else {}
        if str(args.get("init", "True")) == "False":
            continue
        if is_field:
            default = args.get("default")
            if "factory" in args:
                default = ExprCall(function=args["factory"], arguments=[])
        else:
            default = value
        annotation = member.annotation
        if "converter" in args:
            annotation = _converter_annotation(cls, args["converter"]) or annotation
        kw_only = class_kw_only or str(args.get("kw_only", "False")) == "True"
        params.append(
            Parameter(
                member.name.lstrip("_"),
                annotation=annotation,
                kind=ParameterKind.keyword_only if kw_only else ParameterKind.positional_or_keyword,
                default=default,
            )
        )
    positional = [p for p in params if p.kind is not ParameterKind.keyword_only]
    keyword = [p for p in params if p.kind is ParameterKind.keyword_only]
    return positional + keyword


def _apply(obj: Module | Class, seen: set[str]) -> None:
    if obj.path in seen:
        return
    seen.add(obj.path)
    if isinstance(obj, Class) and "__init__" not in obj.members:
        dec = _decorator(obj)
        if dec is not None:
            kw_only = str(_call_args(dec).get("kw_only", "False")) == "True"
            init = Function(
                "__init__",
                lineno=0,
                endlineno=0,
                parent=obj,
                parameters=Parameters(
                    Parameter("self", kind=ParameterKind.positional_or_keyword),
                    *_parameters(obj, kw_only),
                ),
                returns="None",
            )
            obj.set_member("__init__", init)
    for member in list(obj.members.values()):
        if not member.is_alias and (member.is_module or member.is_class):
            _apply(member, seen)  # type: ignore[arg-type]


class AttrsInit(Extension):
    """Give every attrs class the ``__init__`` signature attrs generates for it."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        """Handle a loaded package."""
        _apply(pkg, set())
