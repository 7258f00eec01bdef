"""The simple commands a bash script would run, found by parsing it with tree-sitter's bash grammar.

Student scripts (a deploy script, a runbook's code block, a switch procedure) would call real clouds
and clusters, so they are read, never run. The grammar does what a hand-written splitter gets wrong:
backslash continuations, comments, quotes, ``&&``/``||``/``|``/``;`` lists, ``$(...)`` and backticks
(the inner command is a command of its own), ``if``/``case``/loops, heredoc bodies (text, not
commands) and redirections (``2>&1 > out.txt`` are not arguments). Each word is unquoted the way bash
would (``"--to-tags=$TAG"`` is one word), expansions are kept as written, and a command knows the
function it is defined in, so calls through small wrappers (``run() { gcloud run "$@"; }``) can be
expanded to the command they run.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from functools import cache
from typing import Any

import tree_sitter
import tree_sitter_bash

# Words that run the rest of the command line as the command (``env`` also takes VAR=value pairs).
PRECOMMANDS = frozenset({"command", "exec", "time", "sudo", "env", "nohup"})
KEPT_AS_WRITTEN = frozenset(
    {"simple_expansion", "expansion", "command_substitution", "process_substitution", "arithmetic_expansion", "number"}
)
SKIPPED_CHILDREN = frozenset({"variable_assignment", "file_redirect", "heredoc_redirect", "herestring_redirect"})


@dataclass(frozen=True)
class Command:
    """One simple command: its words (unquoted), where it starts (0-based row, column), its function."""

    words: tuple[str, ...]
    position: tuple[int, int]
    function: str = ""  # the name of the shell function whose body holds the command, or ""

    @property
    def line(self) -> int:
        """1-based line of the command's first word."""
        return self.position[0] + 1

    @property
    def argv(self) -> tuple[str, ...]:
        """The words without precommands (``sudo``, ``env A=1``, ``command``, ``time`` ...)."""
        words = list(self.words)
        while words and words[0] in PRECOMMANDS:
            words.pop(0)
            while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
                words.pop(0)
        return tuple(words)


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def _text(node: Any) -> str:
    return node.text.decode("utf-8", "replace")


def _single(text: str) -> str | None:
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    return words[0] if len(words) == 1 else None


def word_value(node: Any) -> str:
    """What bash passes as the argument: quotes removed, escapes resolved, expansions as written."""
    text = _text(node)
    if node.type in KEPT_AS_WRITTEN:
        return text
    if node.type == "concatenation":
        return "".join(word_value(child) for child in node.children)
    if node.type == "raw_string":
        return text[1:-1]
    if node.type == "string":
        value = _single(text)
        return value if value is not None else text[1:-1]
    if node.type in ("word", "command_name"):
        if node.type == "command_name" and node.children:
            return word_value(node.children[0])
        value = _single(text)
        return value if value is not None else text
    return text


def _walk(node: Any, function: str = "") -> Any:
    if node.type == "function_definition":
        name = node.child_by_field_name("name")
        function = _text(name) if name is not None else function
    yield node, function
    for child in node.children:
        yield from _walk(child, function)


def commands(code: str, offset: tuple[int, int] = (0, 0)) -> list[Command]:
    """Every simple command in ``code`` in source order; ``offset`` places ``code`` inside a larger file."""
    tree = _parser().parse(code.encode("utf-8"))
    found = []
    for node, function in _walk(tree.root_node):
        if node.type != "command":
            continue
        words = tuple(word_value(child) for child in node.children if child.type not in SKIPPED_CHILDREN)
        if not words:
            continue
        row, column = node.start_point
        position = (offset[0] + row, (offset[1] if row == 0 else 0) + column)
        found.append(Command(words, position, function))
    return found


def expand_wrappers(found: list[Command], depth: int = 3) -> list[Command]:
    """Replace each call of a function whose body runs ``CMD ... "$@" ...`` by that command's words.

    ``gcloud_run() { gcloud run "$@" --region "$REGION"; }`` then ``gcloud_run deploy api`` is
    ``gcloud run deploy api --region $REGION``; wrappers of wrappers are followed ``depth`` levels.
    """
    wrappers: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for command in found:
        argv = command.argv
        if command.function and "$@" in argv and command.function not in wrappers:
            at = argv.index("$@")
            wrappers[command.function] = (argv[:at], argv[at + 1 :])
    if not wrappers:
        return found
    expanded = []
    for command in found:
        words = command.argv
        for _ in range(depth):
            if not words or words[0] not in wrappers:
                break
            before, after = wrappers[words[0]]
            words = (*before, *words[1:], *after)
        expanded.append(Command(words, command.position, command.function) if words != command.argv else command)
    return expanded
