"""YAML loading that a hostile file cannot turn into a memory bomb.

PyYAML's safe loader shares aliased nodes, so a "billion laughs" document parses cheaply and only
explodes when something walks it (``json.dumps``, a schema validator, a deep compare). We compose
the node graph first, measure how large it would be once every alias is expanded, and refuse the
document before constructing Python objects when that size is out of proportion.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # the C loader is ~10x faster on large files; fall back silently where libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the platform's PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_EXPANDED_NODES = 250_000


class UnsafeYamlError(ValueError):
    """The document is refused; the message says why and how to fix it."""


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


def _documents(text: str, source: str, limit: int) -> list[Any]:
    loader = _Loader(text)
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


def load(text: str, source: str = "<yaml>", limit: int = MAX_EXPANDED_NODES) -> Any:
    """Load a single-document YAML text (an empty document gives None)."""
    docs = _documents(text, source, limit)
    if len(docs) > 1:
        raise UnsafeYamlError(f"{source}: expected one YAML document, found {len(docs)} (separated by '---')")
    return docs[0] if docs else None


def load_all(text: str, source: str = "<yaml>", limit: int = MAX_EXPANDED_NODES) -> list[Any]:
    """Load every document of a multi-document YAML text (Kubernetes manifests)."""
    return [d for d in _documents(text, source, limit) if d is not None]


def compose(text: str, source: str = "<yaml>", limit: int = MAX_EXPANDED_NODES) -> yaml.Node | None:
    """The node tree of a single document, with line marks, for locating keys in feedback."""
    node = yaml.compose(text, Loader=_Loader)
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
