"""One strict loader: YAML text -> frozen dataclasses (policy, scenarios, planner settings).

:func:`read_yaml` parses YAML safely and refuses duplicate keys (the last would silently
win); :func:`build` maps the result onto a dataclass, rejecting unknown or missing keys,
wrong types, NaN and out-of-range numbers with a message that names the file and the key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal

import yaml

from .errors import DsrError, PolicyError


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_mapping)


def read_yaml(text: str | bytes, file: str, error: type[DsrError] = PolicyError) -> Any:
    """Parse YAML (UTF-8) strictly; ``error`` names the file and the problem."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise error(f"{file}: not valid YAML: {exc}") from exc


def build(cls: type, data: Any, file: str, where: str = "", error: type[DsrError] = PolicyError) -> Any:
    """Build the frozen dataclass ``cls`` from a mapping, strictly: an unknown key, a missing
    key, a wrong type or an out-of-range number raises ``error`` naming ``file`` and the key
    path (``quotas.rules[2].ratio``)."""
    if not isinstance(data, dict):
        raise error(f"{file}: {where or 'top level'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise error(f"{file}: unknown key '{key}' (allowed: {', '.join(fields)})")
    kwargs = {}
    for name, f in fields.items():
        key = f"{where}.{name}" if where else name
        if name not in data:
            if f.default is not dataclasses.MISSING:
                continue
            raise error(f"{file}: missing key '{key}'")
        kwargs[name] = convert(hints[name], data[name], file, key, f.metadata.get("range"), error)
    return cls(**kwargs)


def convert(tp: Any, value: Any, file: str, key: str, rng: tuple | None,
            error: type[DsrError] = PolicyError) -> Any:
    """One value of type ``tp`` (see :func:`build`)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return tuple(value) if isinstance(value, list) else value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)][0]
        return convert(inner, value, file, key, rng, error)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, file, key, error)
    if origin is Literal:
        if value not in args:
            raise error(
                f"{file}: key '{key}': {value!r} is not one of {', '.join(map(str, args))}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise error(f"{file}: key '{key}': expected a list, got {value!r}")
        return tuple(convert(args[0], v, file, f"{key}[{i}]", rng, error) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise error(f"{file}: key '{key}': expected a mapping, got {value!r}")
        return {str(k): convert(args[1], v, file, f"{key}.{k}", rng, error) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise error(f"{file}: key '{key}': expected true or false, got {value!r}")
        return value
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise error(f"{file}: key '{key}': expected a number, got {value!r}")
        if tp is int and not float(value).is_integer():
            raise error(f"{file}: key '{key}': expected a whole number, got {value!r}")
        lo, hi = rng or (None, None)
        if value != value:  # NaN passes every comparison
            raise error(f"{file}: key '{key}': {value!r} is not a number")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise error(
                f"{file}: key '{key}': {value!r} is out of range [{lo}, {hi}]")
        return tp(value)
    if tp is str:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise error(f"{file}: key '{key}': expected text, got {value!r}")
        return str(value)
    raise TypeError(f"unsupported policy type {tp}")  # pragma: no cover


