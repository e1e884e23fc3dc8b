"""Strict YAML loading for glossary files.

PyYAML's ``safe_load`` is not strict enough for data that people edit by hand: it
silently keeps the last of two equal keys, expands anchors and aliases (so a small
file can blow up into gigabytes), and accepts merge keys and tags. This loader
composes the node graph with PyYAML and builds the Python values itself, so it can
refuse each of those with a line number, and remember the line of every value for
error messages.
"""

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32

Path = tuple[str | int, ...]

_TAG_PREFIX = "tag:yaml.org,2002:"
_SCALAR_TAGS = {
    f"{_TAG_PREFIX}{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp")
}
_SAFE_CONSTRUCTOR = SafeConstructor()
# libyaml's C parser is about ten times faster and reports the same marks; PyYAML
# wheels ship it, the pure-Python loader is the fallback.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line:
            where = f"{where}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}"
            if self.field
            else f"{where}: {self.message}"
        )


@dataclass
class Loaded:
    """One loaded file: its value, the line of every value, and its problems."""

    value: Any = None
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """Line of the value at ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def field_name(path: Path) -> str:
    """Render a value path as ``citations[0].url``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG_PREFIX) :] if tag.startswith(_TAG_PREFIX) else tag


def decode_text(raw: bytes, *, file: str | None) -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 bytes (a leading BOM is allowed) within the size cap."""
    if len(raw) > MAX_FILE_BYTES:
        return None, [
            Problem(
                f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,} bytes",
                file=file,
            )
        ]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Problem(
                f"file is not valid UTF-8 "
                f"(byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                file=file,
                line=line,
            )
        ]


_OPENERS = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSERS = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _too_deep(text: str) -> int | None:
    """The line where nesting passes ``MAX_DEPTH``, or None.

    The composer recurses once per level, and libyaml's overflows the C stack
    (a crash, not an exception) somewhere past ten thousand, so depth is checked
    on the token stream first. A cheap bound skips that for ordinary files:
    flow nesting needs a bracket per level, block nesting a longer indentation.
    """
    brackets = text.count("[") + text.count("{")
    indent = max(
        (len(line) - len(line.lstrip(" -?")) for line in text.splitlines()),
        default=0,
    )
    if brackets + indent + 1 <= MAX_DEPTH:
        return None
    depth = 0
    try:
        for token in yaml.scan(text, Loader=_LOADER):
            if isinstance(token, _OPENERS):
                depth += 1
                if depth > MAX_DEPTH:
                    return token.start_mark.line + 1
            elif isinstance(token, _CLOSERS):
                depth -= 1
    except yaml.YAMLError:
        return None  # malformed: the composer reports it with its line
    return None


def load_yaml(raw: bytes, *, file: str | None = None) -> Loaded:
    """Load one YAML document from bytes, strictly; collect problems, never raise."""
    result = Loaded()
    text, problems = decode_text(raw, file=file)
    if text is None:
        result.problems = problems
        return result
    if not text.strip():
        result.problems.append(Problem("file is empty", file=file))
        return result
    deep_line = _too_deep(text)
    if deep_line is not None:
        result.problems.append(
            Problem(
                f"nested more than {MAX_DEPTH} levels deep; a term document needs "
                "a handful",
                file=file,
                line=deep_line,
            )
        )
        return result
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        result.problems.append(
            Problem(f"malformed YAML: {message}", file=file, line=line)
        )
        return result
    except yaml.YAMLError as exc:
        result.problems.append(Problem(f"malformed YAML: {exc}", file=file))
        return result
    except RecursionError:
        result.problems.append(Problem("malformed YAML: nested too deeply", file=file))
        return result
    if root is None:
        result.problems.append(Problem("file is empty", file=file))
        return result
    builder = _Builder(file=file, loaded=result)
    result.value = builder.build(root, ())
    return result


class _Builder:
    """Turns a composed node graph into plain values, refusing what we do not allow."""

    def __init__(self, *, file: str | None, loaded: Loaded):
        self.file = file
        self.loaded = loaded
        self.seen: set[int] = set()

    def problem(
        self, message: str, node, path: Path, *, line: int | None = None
    ) -> None:
        self.loaded.problems.append(
            Problem(
                message,
                file=self.file,
                line=line or node.start_mark.line + 1,
                field=field_name(path) or None,
            )
        )

    def build(self, node, path: Path) -> Any:
        if id(node) in self.seen:
            # The composer hands back the anchored node itself for an alias. We do not
            # expand aliases at all: that is what makes "billion laughs" bombs harmless.
            self.problem(
                "YAML anchors and aliases (&name / *name) are not allowed",
                node,
                path,
                line=self.loaded.lines.get(path),
            )
            return None
        self.seen.add(id(node))
        self.loaded.lines.setdefault(path, node.start_mark.line + 1)
        if len(path) > MAX_DEPTH:
            self.problem(f"nested deeper than {MAX_DEPTH} levels", node, path)
            return None
        if isinstance(node, ScalarNode):
            return self.build_scalar(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != f"{_TAG_PREFIX}seq":
                self.problem(
                    f"YAML tag {_short_tag(node.tag)} is not allowed", node, path
                )
                return None
            return [
                self.build(item, (*path, index))
                for index, item in enumerate(node.value)
            ]
        if isinstance(node, MappingNode):
            if node.tag != f"{_TAG_PREFIX}map":
                self.problem(
                    f"YAML tag {_short_tag(node.tag)} is not allowed", node, path
                )
                return None
            return self.build_mapping(node, path)
        self.problem("unsupported YAML node", node, path)
        return None

    def build_scalar(self, node: ScalarNode, path: Path) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self.problem(f"YAML tag {_short_tag(node.tag)} is not allowed", node, path)
            return None
        constructor = _SAFE_CONSTRUCTOR.yaml_constructors[node.tag]
        try:
            return constructor(_SAFE_CONSTRUCTOR, node)
        except (ValueError, yaml.YAMLError) as exc:
            self.problem(f"cannot read value {node.value!r}: {exc}", node, path)
            return None

    def build_mapping(self, node: MappingNode, path: Path) -> dict:
        result: dict = {}
        first_line: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG_PREFIX}merge":
                self.problem("YAML merge keys (<<) are not allowed", key_node, path)
                continue
            if (
                not isinstance(key_node, ScalarNode)
                or key_node.tag != f"{_TAG_PREFIX}str"
            ):
                self.problem("mapping keys must be plain strings", key_node, path)
                continue
            key = key_node.value
            key_path = (*path, key)
            line = key_node.start_mark.line + 1
            if key in result:
                self.problem(
                    f"duplicate key {key!r} (first given on line {first_line[key]})",
                    key_node,
                    key_path,
                )
                continue
            first_line[key] = line
            # Errors about a key's value point at the key's line, where people look.
            self.loaded.lines[key_path] = line
            result[key] = self.build(value_node, key_path)
        return result
