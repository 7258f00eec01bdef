"""YAML loading that a hostile file cannot turn into a memory bomb.

PyYAML's safe loader shares aliased nodes, so a "billion laughs" document parses cheaply and only
explodes when something walks it (``json.dumps``, a schema validator, a deep compare). We compose
the node graph first, measure how large it would be once every alias is expanded, and refuse the
document before constructing Python objects when that size is out of proportion. This module is
the one place that picks PyYAML's loader and turns its errors into feedback naming file and line.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # the C loader is ~10x faster on large files; fall back silently where libyaml is absent
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on the platform's PyYAML build
    from yaml import SafeLoader  # type: ignore[assignment]

MAX_EXPANDED_NODES = 250_000


class UnsafeYamlError(ValueError):
    """The document is refused; the message says why and how to fix it."""


# What load, load_all and compose raise for a document they cannot read; see ``explain``.
ERRORS = (UnsafeYamlError, yaml.YAMLError, RecursionError)
SYNTAX_FIX = "fix the syntax (indentation, quotes, a missing ':')"


def explain(exc: BaseException, source: str, what: str = "valid YAML", fix: str = SYNTAX_FIX) -> tuple[str, int | None]:
    """Student-facing message and 1-based line (None when unknown) for one of ``ERRORS``."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "syntax error"
        return f"{source}{':' + str(line) if line else ''} is not {what} ({problem}); {fix}", line
    if isinstance(exc, RecursionError):
        return f"{source} is nested too deeply to be read", None
    if isinstance(exc, UnsafeYamlError):
        return str(exc), None
    return f"{source} is not valid YAML: {exc}", None


class _Cycle(Exception):
    pass


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int], limit: int) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise _Cycle
    active.add(key)
    size = 1
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    for child in children:
        size += _expanded_size(child, memo, active, limit)
        if size > limit:
            break
    active.discard(key)
    memo[key] = size
    return size


def _check_node(node: yaml.Node, source: str, limit: int) -> None:
    try:
        size = _expanded_size(node, {}, set(), limit)
    except _Cycle:
        raise UnsafeYamlError(
            f"{source}: refused: an alias refers to a node that contains it (a recursive structure); "
            "remove the self-referencing anchor"
        ) from None
    if size > limit:
        raise UnsafeYamlError(
            f"{source}: refused: its anchors and aliases expand to more than {limit:,} nodes "
            "(a 'billion laughs' pattern); write the repeated content out or use fewer nested aliases"
        )


def _documents(text: str, source: str, limit: int, loader_class: type[Any]) -> list[Any]:
    loader = loader_class(text)
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node guarantees a node
                break
            _check_node(node, source, limit)
            docs.append(loader.construct_document(node))
        return docs
    finally:
        loader.dispose()


def load(text: str, source: str = "<yaml>", limit: int = MAX_EXPANDED_NODES, loader: type[Any] = SafeLoader) -> Any:
    """Load a single-document YAML text (an empty document gives None); ``loader`` may add tags."""
    docs = _documents(text, source, limit, loader)
    if len(docs) > 1:
        raise UnsafeYamlError(f"{source}: expected one YAML document, found {len(docs)} (separated by '---')")
    return docs[0] if docs else None


def load_all(text: str, source: str = "<yaml>", limit: int = MAX_EXPANDED_NODES) -> list[Any]:
    """Load every document of a multi-document YAML text (Kubernetes manifests)."""
    return [d for d in _documents(text, source, limit, SafeLoader) if d is not None]


def compose(text: str, source: str = "<yaml>", limit: int = MAX_EXPANDED_NODES) -> yaml.Node | None:
    """The node tree of a single document, with line marks, for locating keys in feedback."""
    node = yaml.compose(text, Loader=SafeLoader)
    if node is not None:
        _check_node(node, source, limit)
    return node


def line_of(node: yaml.Node | None, path: list[str | int]) -> int | None:
    """1-based line of the value at ``path`` (mapping keys and sequence indexes), or the nearest parent."""
    best: int | None = node.start_mark.line + 1 if node is not None else None
    current = node
    for part in path:
        nxt = None
        if isinstance(current, yaml.MappingNode) and isinstance(part, str):
            for k, v in current.value:
                if isinstance(k, yaml.ScalarNode) and k.value == part:
                    best = k.start_mark.line + 1
                    nxt = v
                    break
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(current.value):
            nxt = current.value[part]
            best = nxt.start_mark.line + 1
        if nxt is None:
            return best
        current = nxt
    return best
