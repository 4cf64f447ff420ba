"""Matching a request's method and path to a spec operation.

Paths without parameters are found with one dict lookup; templated paths are
tried as precompiled regular expressions, literal segments first so that
`/things/search` wins over `/things/{id}`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from mockserver.spec.openapi import HTTP_METHODS

T = TypeVar("T")

ALL_METHODS = [method.upper() for method in HTTP_METHODS]

_PARAM = re.compile(r"\{([^}/]+)\}")


@dataclass
class Match(Generic[T]):
    target: T
    params: dict[str, str]


@dataclass
class Miss:
    """No operation answers; `allowed` lists the methods of a matching path, if any."""

    allowed: list[str]


class Router(Generic[T]):
    def __init__(self, suffixes: tuple[str, ...] = ()) -> None:
        self.suffixes = suffixes
        self.static: dict[str, dict[str, T]] = {}
        #: (pattern, literal weight, parameter names by group, methods); groups are p0, p1, ... since
        #: a parameter's name need not be a Python identifier (`{thing-id}`, `{a.b}`)
        self.dynamic: list[tuple[str, int, tuple[str, ...], dict[str, T]]] = []
        self.templates: dict[str, list[str]] = {}  # path template -> methods, for explaining misses
        #: the dynamic entries by how many slashes their paths have (a parameter matches no slash), each
        #: group one pattern of its templates in order, compiled when a path first needs it (compiling
        #: every template's pattern was a tenth of the start-up)
        self._by_slashes: dict[int, _Group[T]] = {}

    def add(self, method: str, template: str, target: T) -> None:
        self.templates.setdefault(template, []).append(method)
        if "{" not in template:
            self.static.setdefault(template, {})[method] = target
            return
        names = _PARAM.findall(template)
        groups = iter(range(len(names)))
        escaped = re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
        pattern = "^" + _PARAM.sub(lambda _: f"(?P<p{next(groups)}>[^/]+)", escaped) + "$"
        for existing, _, existing_names, methods in self.dynamic:
            if existing == pattern and existing_names == tuple(names):
                methods[method] = target
                return
        literal_weight = -len(_PARAM.sub("", template))
        self.dynamic.append((pattern, literal_weight, tuple(names), {method: target}))
        self.dynamic.sort(key=lambda entry: entry[1])
        self._by_slashes = {}

    def match(self, method: str, path: str) -> Match[T] | Miss:
        for candidate in self._candidates(path):
            methods, params = self._methods_for(candidate)
            if methods is None:
                continue
            lookup = "GET" if method == "HEAD" and "HEAD" not in methods else method
            if lookup in methods:
                return Match(methods[lookup], params)
            return Miss(allowed=self.allowed(methods))
        return Miss(allowed=[])

    def explain(self, method: str, path: str, miss: Miss) -> dict[str, str | None]:
        """Why no operation answered, and the operation the request came closest to."""
        if miss.allowed:
            return {"reason": f"{path} does not allow {method}; it allows {', '.join(miss.allowed)}", "nearest": None}
        nearest = max(self.templates, key=lambda template: _likeness(template, path), default=None)
        if nearest is None:
            return {"reason": "the spec has no operations", "nearest": None}
        methods = self.templates[nearest]
        wanted = method if method in methods else methods[0]
        return {
            "reason": f"no operation has the path {path}; the closest is {nearest} ({', '.join(methods)})",
            "nearest": f"{wanted} {nearest}",
        }

    @staticmethod
    def allowed(methods: dict[str, T]) -> list[str]:
        names = list(methods)
        if "GET" in names and "HEAD" not in names:
            names.insert(names.index("GET") + 1, "HEAD")
        return names

    def _candidates(self, path: str) -> list[str]:
        # The suffixed form is tried without its suffix first, so that
        # `/things/5.json` reads thing 5 rather than a thing named "5.json".
        stripped = [path[: -len(s)] for s in self.suffixes if path.endswith(s) and len(path) > len(s)]
        return stripped + [path]

    def _methods_for(self, path: str) -> tuple[dict[str, T] | None, dict[str, str]]:
        methods = self.static.get(path)
        if methods is not None:
            return methods, {}
        # only templates with as many segments can match: a path tries those, not every template
        slashes = path.count("/")
        group = self._by_slashes.get(slashes)
        if group is None:
            # each parameter's group, `[^/]+`, holds one slash of its own
            entries = [entry for entry in self.dynamic if entry[0].count("/") - len(entry[2]) == slashes]
            if not entries:  # kept only for what some template has: a path cannot grow this map
                return None, {}
            group = self._by_slashes[slashes] = _Group(
                [(pattern, names, methods) for pattern, _, names, methods in entries]
            )
        return group.match(path)


class _Group(Generic[T]):
    """Templates of one segment count as one pattern: `^(?:(t1)|(t2)|...)$`, the first that matches wins,
    as when each was tried in turn; one match in C instead of a Python loop over a pattern per template
    (4% of a request that reads one record)."""

    __slots__ = ("pattern", "alternatives")

    def __init__(self, entries: list[tuple[str, tuple[str, ...], dict[str, T]]]) -> None:
        parts = []
        #: the group number of each template's own group -> its parameters' names, its methods
        self.alternatives: dict[int, tuple[tuple[str, ...], dict[str, T]]] = {}
        number = 1
        for pattern, names, methods in entries:
            inner = _NAMED_GROUP.sub("(", pattern.removeprefix("^").removesuffix("$"))
            parts.append(f"({inner})")
            self.alternatives[number] = (names, methods)
            number += 1 + len(names)
        self.pattern = re.compile("^(?:" + "|".join(parts) + ")$")

    def match(self, path: str) -> tuple[dict[str, T] | None, dict[str, str]]:
        found = self.pattern.match(path)
        if found is None:
            return None, {}
        number = found.lastindex
        assert number is not None
        names, methods = self.alternatives[number]
        return methods, dict(zip(names, found.groups()[number : number + len(names)], strict=True))


#: a template parameter's group in its own pattern (`(?P<p0>[^/]+)`), made plain to join others
_NAMED_GROUP = re.compile(r"\(\?P<p\d+>")


def _likeness(template: str, path: str) -> float:
    """How close a path is to a template; a parameter takes the path's segment in its place."""
    wanted, given = template.strip("/").split("/"), path.strip("/").split("/")
    filled = [given[i] if _PARAM.fullmatch(part) and i < len(given) else part for i, part in enumerate(wanted)]
    return difflib.SequenceMatcher(None, "/".join(filled), "/".join(given)).ratio()
