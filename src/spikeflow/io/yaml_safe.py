"""Reading config files safely: bounded work, YAML 1.2 numbers, one-sentence errors.

Every study or run config spikeflow reads goes through :func:`load_config_file` (and every config
mapping it is handed, e.g. by Snakemake, through :func:`check_tree`). The reader differs from
``yaml.safe_load`` in these ways:

* **Bounded work.** Anchors and aliases are allowed (``base: &b {...}``, ``other: *b``,
  ``<<: *b``), but the document, with every alias counted as if it were written out, may hold at
  most :data:`MAX_NODES` values (keys, values and list items); a "billion laughs" file is refused
  while it is read, after at most that much work. An alias to a node that contains it (a cycle)
  is refused. Mappings and lists may nest at most :data:`MAX_DEPTH` deep (20,000 nested brackets
  are one sentence, not a ``RecursionError``), and a file may be at most :data:`MAX_FILE_BYTES`.
* **Text.** The file is decoded as UTF-8 (a leading byte-order mark is allowed); other bytes are
  refused naming the line and column.
* **Numbers as users write them (YAML 1.2 core schema).** ``1e9``, ``1.5e-3``, ``-2E+3`` are
  floats (YAML 1.1, which PyYAML follows, reads ``1e9`` and ``-2E+3`` as strings); ``.inf`` and
  ``.nan`` are floats (the config validation then refuses them); ``010`` is ten (not octal eight),
  ``0o17``/``0x1f`` are octal/hex; ``1_000`` is one thousand. Only ``true``/``false`` are booleans
  (``yes``, ``no``, ``on``, ``off`` stay strings), and dates and ``1:30`` stay strings.
* **Keys.** Every mapping key is a string, and a key appears once per mapping (later copies are
  not silently dropped).
* **Errors.** Every problem is a :class:`ConfigFileError` whose message is one sentence naming the
  file and, where there is one, the line and column.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

#: Most values (mapping keys, mapping values, list items, scalars) a config may hold, each alias
#: counted in full. A study config holds a few hundred; a 10,000-value sweep list fits.
MAX_NODES = 200_000
#: Deepest nesting of mappings and lists in a config (spikeflow's own configs nest 6 deep).
MAX_DEPTH = 64
#: Largest config file read, in bytes.
MAX_FILE_BYTES = 16 * 1024 * 1024

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


class ConfigFileError(ValueError):
    """A config file (or config mapping) spikeflow refuses to read, with a one-sentence reason."""


class _Refused(yaml.YAMLError):
    """Raised inside the loader; turned into a ConfigFileError naming the file."""

    def __init__(self, message: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema (plus ``_`` digit separators and PyYAML's merge key ``<<``)."""


_Resolver.yaml_implicit_resolvers = {}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])
_Resolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class _Constructor(yaml.constructor.SafeConstructor):
    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = self.construct_scalar(node).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        if text.startswith("0x"):
            return sign * int(text[2:], 16)
        if text.startswith("0o"):
            return sign * int(text[2:], 8)
        try:
            return sign * int(text, 10)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            raise _Refused(f"the integer {text[:12]}... has {len(text)} digits, too many", node.start_mark) from None

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = self.construct_scalar(node).replace("_", "").lower()
        if text.lstrip("+-") == ".inf":
            return -math.inf if text.startswith("-") else math.inf
        if text == ".nan":
            return math.nan
        return float(text)


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", None)  # dates stay strings (never resolved)


class _Loader(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Constructor, _Resolver
):
    """PyYAML's pure-Python safe loader with a bounded composer (the C one cannot be bounded)."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        self._depth = 0
        self._nodes = 0  # expanded size of the document so far
        self._size: dict[int, int] = {}  # id(node) -> expanded size, once the node is complete

    def _count(self, n: int, mark: yaml.Mark) -> None:
        self._nodes += n
        if self._nodes > MAX_NODES:
            raise _Refused(
                f"it expands to more than {MAX_NODES:,} values (aliases counted in full), "
                "far more than any study needs; write out what the aliases stand for, or split the study",
                mark,
            )

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                if id(node) not in self._size:  # PyYAML registers an anchor before its children
                    raise _Refused(f"the alias *{event.anchor} refers to a node that contains it", event.start_mark)
                self._count(self._size[id(node)], event.start_mark)
            return super().compose_node(parent, index)  # an undefined alias: PyYAML's error
        start = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"it nests lists and mappings more than {MAX_DEPTH} deep", start)
        before = self._nodes
        self._count(1, start)
        node = super().compose_node(parent, index)
        self._size[id(node)] = self._nodes - before
        self._depth -= 1
        return node

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: set[str] = set()
        for key, _ in node.value:
            if key.tag == _MERGE:
                continue
            if not isinstance(key, ScalarNode) or key.tag != _STR:
                if isinstance(key, ScalarNode):
                    what = f"the key {key.value} is not a string"
                else:
                    what = f"a {'list' if isinstance(key, SequenceNode) else 'mapping'} is used as a key"
                raise _Refused(f"{what}; every key must be a name (quote it if it is one)", key.start_mark)
            if key.value in seen:
                raise _Refused(f"the key '{key.value}' appears twice in the same mapping", key.start_mark)
            seen.add(key.value)
        return node


def _at(mark: yaml.Mark | None) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def load_config_text(text: str, name: str = "<config>") -> Any:
    """Parse YAML text with the bounded YAML 1.2 loader; ``name`` names it in errors."""
    loader = None
    try:
        loader = _Loader(text)
        return loader.get_single_data()
    except _Refused as err:
        raise ConfigFileError(f"config file {name} is refused{_at(err.mark)}: {err.message}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "unreadable YAML"
        if isinstance(err, ComposerError) and "single document" in (err.context or ""):
            problem = "it holds several YAML documents (--- lines); a config is one document"
        problem = " ".join(str(problem).split())
        raise ConfigFileError(f"config file {name} is not valid YAML{_at(mark)}: {problem}") from None
    except yaml.reader.ReaderError as err:  # a control character
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        raise ConfigFileError(
            f"config file {name} is not valid YAML at line {line}, column {column}: "
            f"it holds the control character #x{err.character:04x}"
        ) from None
    except yaml.YAMLError as err:
        problem = " ".join(str(err).split())
        raise ConfigFileError(f"config file {name} is not valid YAML: {problem}") from None
    except RecursionError:  # not expected with the depth bound, but never a traceback
        raise ConfigFileError(f"config file {name} is refused: it nests too deep") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a config file into a dict of string keys, or raise :class:`ConfigFileError`."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigFileError(f"config file {name} does not exist") from None
    except IsADirectoryError:
        raise ConfigFileError(f"config file {name} is a directory, not a file") from None
    except OSError as err:
        raise ConfigFileError(f"config file {name} cannot be read ({err.strerror or err})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigFileError(f"config file {name} is larger than {MAX_FILE_BYTES // 2**20} MiB, far more than any study needs")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise ConfigFileError(
            f"config file {name} is not UTF-8 text: byte 0x{data[err.start]:02x} at line {line}, column {column} "
            "is not UTF-8 (save the file as UTF-8)"
        ) from None
    result = load_config_text(text, name)
    if result is None:
        raise ConfigFileError(f"config file {name} is empty; a config is a mapping of keys (e.g. `model: pd14`)")
    if not isinstance(result, dict):
        kind = {list: "a list", str: "a single string", int: "a number", float: "a number", bool: "a boolean"}.get(
            type(result), type(result).__name__
        )
        raise ConfigFileError(f"config file {name} holds {kind}, not a mapping of keys (e.g. `model: pd14`)")
    return result


def check_tree(data: Any, name: str = "config") -> None:
    """Refuse a config mapping read by someone else's YAML loader (Snakemake's) that is too big
    (shared references counted in full), too deep (or cyclic), or has a key that is not a string.

    Work is bounded by :data:`MAX_NODES`; nothing is copied.
    """
    budget = [MAX_NODES]
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise ConfigFileError(
                f"{name} expands to more than {MAX_NODES:,} values (YAML aliases counted in full), "
                "far more than any study needs"
            )
        if len(path) > MAX_DEPTH:
            raise ConfigFileError(f"{name} nests lists and mappings more than {MAX_DEPTH} deep (at '{'.'.join(path[:3])}...')")
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    where = f"under '{'.'.join(path)}'" if path else "at the top level"
                    raise ConfigFileError(f"{name} has the key {key!r} {where}, which is not a string; every key must be a name")
                stack.append((value, path + (key,)))
        elif isinstance(node, (list, tuple)):
            stack.extend((item, path + (str(i),)) for i, item in enumerate(node))


class _Dumper(yaml.SafeDumper):
    """Quotes every string that YAML 1.1 *or* 1.2 would read as something else (``1e5``, ``yes``),
    so what spikeflow writes reads back the same with this loader and with Snakemake's."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        tag = super().resolve(kind, value, implicit)
        if kind is ScalarNode and implicit[0] and tag == _STR:
            table = _Resolver.yaml_implicit_resolvers
            for other, regexp in table.get(value[:1], []) + table.get(None, []):
                if regexp.match(value):
                    return other
        return tag


def dump_config_text(data: Any) -> str:
    """YAML text of a config (key order kept) that both YAML 1.1 and 1.2 readers read back as it was."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False)
