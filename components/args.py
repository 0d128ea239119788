"""One way for a component to read its Args, however it was built.

In this program a component gets its frozen `...Args` dataclass. Served as a package
(provider/__main__.py), pulumi's component provider hands `__init__` the inputs as plain
dicts instead, keyed by the Python field names, nested types as nested dicts and lists as
lists (pulumi/provider/experimental/component.py, `ComponentProvider.map_input_properties`).
`read` turns either into the same dataclass, so the component's code has one shape to read.
"""
import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class ArgsError(ValueError):
    """An input the component cannot read: names the field path and what is wrong."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path


def read(cls: type[T], args: Any, path: str = "args") -> T:
    """`args` as a `cls` instance: as it is when it already is one, else built from a
    mapping of field name -> value (nested dataclasses, and lists of them, built too)."""
    if isinstance(args, cls):
        return args
    if not isinstance(args, Mapping):
        raise ArgsError(path, f"expected {cls.__name__} or a mapping, got {type(args).__name__}")
    values = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = args.get(field.name)
        if value is None:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise ArgsError(f"{path}.{field.name}", "is required")
            continue  # the dataclass's default
        values[field.name] = _value(field.type, value, f"{path}.{field.name}")
    unknown = sorted(set(args) - {f.name for f in dataclasses.fields(cls)})  # type: ignore[arg-type]
    if unknown:
        raise ArgsError(f"{path}.{unknown[0]}", f"is not a field of {cls.__name__}")
    return cls(**values)


def _value(annotation: Any, value: Any, path: str) -> Any:
    """A field's value: nested dataclasses built; everything else (Outputs too) as is."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):  # Optional[X]: X, None was handled above
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return _value(inner[0], value, path)
        return value
    if dataclasses.is_dataclass(annotation):
        return read(annotation, value, path)  # type: ignore[arg-type]
    if annotation is int and isinstance(value, float):
        # The schema says integer, but every number crosses the engine as a protobuf double
        # (google.protobuf.Value.number_value; pulumi/runtime/rpc.py deserializes it as the
        # float it is): a YAML program's `endMinutes: 1080` reaches the component as 1080.0.
        if not value.is_integer():
            raise ArgsError(path, f"{value!r} is not a whole number")
        return int(value)
    items = typing.get_args(annotation)  # list[X]: (X,); a plain type: ()
    if len(items) == 1 and dataclasses.is_dataclass(items[0]) and isinstance(value, (list, tuple)):
        return [read(items[0], v, f"{path}[{i}]") for i, v in enumerate(value)]  # type: ignore[arg-type]
    return value
