"""One strict loader: YAML text -> frozen dataclasses (policy, scenarios, planner settings).

:func:`read_yaml` parses YAML safely and refuses what a settings file never needs: duplicate
keys (the last would silently win), nesting deeper than :data:`MAX_DEPTH` levels and more
than :data:`MAX_NODES` nodes once aliases are expanded (an "alias bomb" of a few kilobytes
would otherwise expand to billions of values). Both bounds are enforced while the document
is composed, before anything is expanded. :func:`build` maps the result onto a dataclass,
rejecting unknown or missing keys, wrong types, NaN, infinities and out-of-range numbers.
Every message is one line that names the file and the key path (``quotas.rules[2].ratio``)
and shows at most :data:`MAX_SHOWN` characters of an offending value.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import stat
import reprlib
import types
import typing
from typing import Any, Literal

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import DsrError, FileSystemError, PolicyError
from .i18n import _

#: Deepest nesting of lists and mappings a settings file may use (levels).
MAX_DEPTH = 50
#: Most nodes (scalars, lists, mappings) a settings file may hold, aliases expanded.
MAX_NODES = 100_000
#: Most characters of a value (or key) shown in a message; longer ones end in "…".
MAX_SHOWN = 80

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 8, 8, 8, 8
_REPR.maxstring = _REPR.maxlong = _REPR.maxother = 4 * MAX_SHOWN  # then clipped


#: Characters a message never shows raw, escaped as ``\\u202E``: the invisible characters
#: registers refuse (:data:`dsr_analysis.tabular.FORBIDDEN_CHARACTERS`, the same set; a test
#: checks it). Raw, a bidirectional control would reorder the message as it is displayed.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                        "\u200b-\u200d\u2060\ufeff\u2028\u2029\ufffd]")


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` with invisible characters escaped (``\\u200B``), cut to ``limit``
    characters, the last one "…" when something was cut."""
    text = _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04X}", text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def show(value: Any) -> str:
    """repr of ``value`` for a message, at most :data:`MAX_SHOWN` characters (never expands
    a large structure in full)."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        text = f"<{type(value).__name__}>"
    return clip(text)


class _Refused(yaml.MarkedYAMLError):
    """A document refused by :class:`_StrictLoader` (too deep, too many nodes, a duplicate key,
    a value that cannot be built)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that bounds nesting and alias expansion while composing, remembers the key
    path of every node for messages, and refuses a mapping with the same key twice."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str | int | None] = []  # key path of the node being composed
        self._paths: dict[int, str] = {}  # id(node) -> key path (first occurrence)
        self._sizes: dict[int, int] = {}  # id(node) -> node count with aliases expanded
        self._nodes = 0  # nodes so far, aliases expanded

    def path(self, node: Node | None = None) -> str:
        """Key path of ``node`` (default: of the node being composed), e.g. ``rules[2].ratio``."""
        if node is not None:
            return self._paths.get(id(node), "")
        text = ""
        for part in self._path:
            if isinstance(part, int):
                text += f"[{part}]"
            elif part is not None:
                text += f".{part}" if text else part
        return text

    # Scanner: a flow collection ``[[[[…`` is refused before the scanner's look-ahead for
    # simple keys (quadratic in the depth) runs away.
    def fetch_flow_collection_start(self, TokenClass: type) -> None:  # noqa: N803 - PyYAML's name
        if self.flow_level >= MAX_DEPTH:
            raise _Refused(None, None, _("nesting deeper than {depth} levels").format(
                depth=MAX_DEPTH), self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    # Composer: depth, node count (aliases expanded) and key paths.
    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if parent is None:
            part: str | int | None = None
        elif isinstance(index, int):
            part = index
        elif isinstance(index, ScalarNode):
            part = clip(index.value)
        else:  # composing a mapping's key (index None), or a key that is not a scalar
            part = None if index is None else "?"
        self._path.append(part)
        try:
            return self._compose_counted(parent, index)
        except yaml.YAMLError as exc:
            if not hasattr(exc, "key_path"):
                exc.key_path = self.path()
            raise
        finally:
            self._path.pop()

    def _compose_counted(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if len(self._path) > MAX_DEPTH:
            raise _Refused(None, None, _("nesting deeper than {depth} levels").format(
                depth=MAX_DEPTH), event.start_mark)
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise _Refused(None, None, _("alias *{anchor} refers to the node that "
                                             "contains it (a recursive structure)").format(
                                                 anchor=clip(str(event.anchor))),
                               event.start_mark)
            self._count(size, event)
            return node
        self._count(1, event)
        node = super().compose_node(parent, index)
        if isinstance(node, SequenceNode):
            size = 1 + sum(self._sizes[id(v)] for v in node.value)
        elif isinstance(node, MappingNode):
            size = 1 + sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
        else:
            size = 1
        self._sizes[id(node)] = size
        self._paths.setdefault(id(node), self.path())
        return node

    def _count(self, size: int, event: Any) -> None:
        self._nodes += size
        if self._nodes > MAX_NODES:
            message = (_("more than {n} nodes (YAML aliases expanded); a settings file needs "
                         "far fewer") if isinstance(event, AliasEvent) else
                       _("more than {n} nodes; a settings file needs far fewer"))
            raise _Refused(None, None, message.format(n=MAX_NODES), event.start_mark)

    # Constructor: a value that cannot be built (a date 2023-02-30, an integer of 5000
    # digits) is an error naming the node, not a traceback.
    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError as exc:
            if not hasattr(exc, "key_path"):
                exc.key_path = self.path(node)
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            what = show(node.value) if isinstance(node, ScalarNode) else node.tag
            refused = _Refused(None, None, _("cannot read {value} ({reason})").format(
                value=what, reason=clip(str(exc))), node.start_mark)
            refused.key_path = self.path(node)
            raise refused from exc


def _construct_mapping(loader: _StrictLoader, node: MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, Node] = {}
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # ``<<: *defaults``; keys given may override
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:  # a list or mapping used as a key
            raise _Refused(None, None, _("a key must be text or a number"),
                           key_node.start_mark) from None
        if first is not None:
            where = loader.path(node)
            full = f"{where}.{clip(str(key))}" if where else clip(str(key))
            exc = _Refused(None, None, _("duplicate key {key} (first at line {line}); the last "
                                         "would silently win").format(
                                             key=show(key), line=first.start_mark.line + 1),
                           key_node.start_mark)
            exc.key_path = full
            raise exc
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_DECIMAL = re.compile(r"0|-?[1-9][0-9]*")


def _construct_int(loader: _StrictLoader, node: ScalarNode) -> int:
    """An integer written in decimal digits. YAML 1.1's other spellings of integers are
    refused: 017 is 15, 0x1F 31, 1_000 1000 and 1:30 90, so that ``rule: 010`` would give
    the text '8' and ``yearly_cap: 010`` the number 8."""
    if not _DECIMAL.fullmatch(node.value):
        raise _Refused(None, None, _("the number {value} is not written in decimal digits "
                                     "(YAML reads 017 as 15, 0x1F as 31, 1_000 as 1000, 1:30 "
                                     "as 90): write the number in digits, or in quotes if it "
                                     "is text").format(value=show(node.value)),
                       node.start_mark)
    return loader.construct_yaml_int(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _yaml_message(exc: yaml.YAMLError, file: str) -> str:
    """One line for a YAML error: file, key path, line and column, what is wrong."""
    path = getattr(exc, "key_path", "")
    where = _("key '{key}': ").format(key=clip(path)) if path else ""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        at = (_("line {line}, column {column}: ").format(line=mark.line + 1,
                                                         column=mark.column + 1)
              if mark else "")
        if isinstance(exc, _Refused):  # its values are clipped already
            return _("{file}: {detail}").format(file=file, detail=f"{where}{at}{exc.problem}")
        what = "; ".join(clip(t, 2 * MAX_SHOWN) for t in (exc.problem, exc.context) if t)
        return _("{file}: {detail}").format(
            file=file, detail=where + at + _("not valid YAML: {problem}").format(problem=what))
    if isinstance(exc, yaml.reader.ReaderError):
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return _("{file}: not valid YAML: character {position} (#x{code}): {reason}").format(
            file=file, position=exc.position + 1, code=f"{char:04x}", reason=clip(str(exc.reason)))
    return _("{file}: not valid YAML: {problem}").format(  # pragma: no cover
        file=file, problem=clip(' '.join(str(exc).split())))


def read_regular(path: str | os.PathLike, what: str, error: type[DsrError] = PolicyError) -> bytes:
    """The bytes of a settings file, refused without reading it when it is not a regular file
    (a FIFO would block, a device never ends): :class:`FileSystemError` (exit 3) for that, a
    directory or an unreadable file; ``error`` when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(_("{path}: cannot read {what} (No such file or directory)").format(
            path=path, what=what)) from None
    except OSError as exc:
        raise FileSystemError(_("{path}: cannot read {what} ({reason})").format(
            path=path, what=what, reason=exc.strerror)) from None
    if stat.S_ISDIR(st.st_mode):
        raise FileSystemError(_("{path}: is a directory, not a {what}").format(
            path=path, what=what))
    if not stat.S_ISREG(st.st_mode):
        raise FileSystemError(_("{path}: not a regular file (a FIFO, socket or device): "
                                "refused without reading it").format(path=path))
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise FileSystemError(_("{path}: cannot read {what} ({reason})").format(
            path=path, what=what, reason=exc.strerror)) from None


def read_yaml(text: str | bytes, file: str, error: type[DsrError] = PolicyError) -> Any:
    """Parse YAML (UTF-8) strictly (see the module docstring); ``error`` names the file,
    the key and the problem in one line."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(_("{file}: not valid UTF-8 (byte {byte})").format(
                file=file, byte=exc.start + 1)) from None
    try:
        loader = _StrictLoader(text)  # the reader checks the characters here
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise error(_yaml_message(exc, file)) from exc


def build(cls: type, data: Any, file: str, where: str = "", error: type[DsrError] = PolicyError) -> Any:
    """Build the frozen dataclass ``cls`` from a mapping, strictly: an unknown key, a missing
    key, a wrong type or an out-of-range number raises ``error`` naming ``file`` and the key
    path (``quotas.rules[2].ratio``)."""
    if not isinstance(data, dict):
        place = _("key '{key}'").format(key=where) if where else _("top level")
        raise error(_("{file}: {place}: expected a mapping, got {value}").format(
            file=file, place=place, value=show(data)))
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = sorted((k for k in data if k not in fields), key=str)
    if unknown:
        name = clip(str(unknown[0]))
        key = f"{where}.{name}" if where else name
        raise error(_("{file}: unknown key '{key}' (allowed: {allowed})").format(
            file=file, key=key, allowed=", ".join(fields)))
    kwargs = {}
    for name, f in fields.items():
        key = f"{where}.{name}" if where else name
        if name not in data:
            if f.default is not dataclasses.MISSING:
                continue
            raise error(_("{file}: missing key '{key}'").format(file=file, key=key))
        kwargs[name] = convert(hints[name], data[name], file, key, f.metadata.get("range"), error)
    return cls(**kwargs)


def check_number(value: Any, file: str, key: str, error: type[DsrError] = PolicyError,
                 whole: bool = False) -> None:
    """Refuse anything but a finite number (a bool, text, NaN, an infinity; with ``whole``
    a fraction) for ``key``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(_("{file}: key '{key}': expected a number, got {value}").format(
            file=file, key=key, value=show(value)))
    if isinstance(value, float) and math.isnan(value):
        raise error(_("{file}: key '{key}': {value} is not a number").format(
            file=file, key=key, value=repr(value)))
    if isinstance(value, float) and math.isinf(value):
        raise error(_("{file}: key '{key}': {value} is not a finite number").format(
            file=file, key=key, value=repr(value)))
    if whole and isinstance(value, float) and not value.is_integer():
        raise error(_("{file}: key '{key}': expected a whole number, got {value}").format(
            file=file, key=key, value=show(value)))


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
        if isinstance(value, bool) or value not in args:  # True == 1 must not pass for 1
            raise error(_("{file}: key '{key}': {value} is not one of {allowed}").format(
                file=file, key=key, value=show(value), allowed=", ".join(map(str, args))))
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise error(_("{file}: key '{key}': expected a list, got {value}").format(
                file=file, key=key, value=show(value)))
        return tuple(convert(args[0], v, file, f"{key}[{i}]", rng, error) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise error(_("{file}: key '{key}': expected a mapping, got {value}").format(
                file=file, key=key, value=show(value)))
        return {str(k): convert(args[1], v, file, f"{key}.{clip(str(k))}", rng, error)
                for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise error(_("{file}: key '{key}': expected true or false, got {value}").format(
                file=file, key=key, value=show(value)))
        return value
    if tp in (int, float):
        check_number(value, file, key, error, whole=tp is int)
        lo, hi = rng or (None, None)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise error(_("{file}: key '{key}': {value} is out of range [{low}, {high}]").format(
                file=file, key=key, value=show(value), low=lo, high=hi))
        try:
            return tp(value)
        except OverflowError:  # an int too large for a float
            raise error(_("{file}: key '{key}': {value} is too large").format(
                file=file, key=key, value=show(value))) from None
    if tp is str:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise error(_("{file}: key '{key}': expected text, got {value}").format(
                file=file, key=key, value=show(value)))
        return str(value)
    raise TypeError(f"unsupported policy type {tp}")  # pragma: no cover
