"""Parsing YAML: PyYAML's safe loader, refusing a repeated key.

Its own module so that a start whose documents all come from the start-up cache (`mockserver.spec.cache`)
never imports PyYAML (17 ms of CPU here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

from mockserver.errors import SpecError

#: libyaml's safe loader when PyYAML has it: eight times faster on the specs, same data
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping that names a key twice: YAML keeps the last one silently, which hides the first."""


class UniqueKeyLoader(_BASE):  # type: ignore[valid-type,misc]
    """The safe loader, refusing a mapping that repeats a key.

    Keys are compared and kept as written, so `400` and `"400"` are the same
    key, the string "400" (and `on:` is "on", not true): in JSON, which an
    OpenAPI document is, every key is a string. Keys a merge (`<<`) brings in
    may be overridden, which is what merging is for.
    """

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        try:
            keys = [key.value for key, _ in node.value]
            repeated = len(set(keys)) != len(keys)  # the common case, checked at C speed
        except TypeError:  # a key that is itself a mapping or list: the constructor refuses it below
            repeated = False
        if repeated:
            seen: dict[str, ScalarNode] = {}
            for key_node, _ in node.value:
                first = seen.setdefault(key_node.value, key_node)
                if first is not key_node and key_node.tag != _MERGE:
                    raise DuplicateKey(
                        problem=f"duplicate key {key_node.value!r} (first at line {first.start_mark.line + 1})",
                        problem_mark=key_node.start_mark,
                    )
        self.flatten_mapping(node)  # merged keys too become strings (the constructor's own call is then a no-op)
        for key_node, _ in node.value:
            if key_node.tag != _STR and isinstance(key_node, ScalarNode):
                key_node.tag = _STR  # the text as written, as a JSON key
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def parse(path: Path, text: bytes) -> Any:
    """The document YAML (or JSON) `text` holds; a SpecError at its line when it is not one."""
    try:
        return yaml.load(text.decode("utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 - a safe loader
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text: {exc}", file=path) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        raise SpecError(reason, file=path, line=mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise SpecError(str(exc), file=path) from exc
