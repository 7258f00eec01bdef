"""The gcloud commands a shell script (or a runbook's code block) would run, found without running it.

The script is student code, and it would call the real cloud, so it is read, not executed: lines are
joined at backslash continuations, comments dropped, each line split with ``shlex`` into simple
commands at ``;``, ``&&``, ``||``, ``|`` and ``$(...)``, and calls through small wrapper functions
(``gcloud_run() { gcloud run "$@" --region "$REGION"; }``) are expanded to the gcloud call they make.
Anything that cannot be split (an unbalanced quote) is skipped; shellcheck reports it separately.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

SEPARATORS = frozenset({";", ";;", "&&", "||", "|", "&", "(", ")", "()", "{", "}", "|&", "$(", "`"})
PREFIX_WORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "time", "command", "exec", "{"})
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
FUNCTION = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*\(\s*\)")
# gcloud flags that take no value (so the next word is a positional, not the flag's value).
BOOLEAN_FLAGS = frozenset(
    {
        "--no-traffic",
        "--quiet",
        "-q",
        "--async",
        "--to-latest",
        "--clear-tags",
        "--allow-unauthenticated",
        "--no-allow-unauthenticated",
        "--cpu-boost",
        "--no-cpu-throttling",
        "--cpu-throttling",
        "--help",
        "--condition=None",
    }
)


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    line: int  # 1-based line of the command's first word


@dataclass(frozen=True)
class GcloudCall:
    """``gcloud [alpha|beta] GROUP... COMMAND POSITIONALS --flags``, with flags gathered by name."""

    words: tuple[str, ...]  # every non-flag word after gcloud (command path, then positionals)
    flags: dict[str, list[str]] = field(hash=False)
    line: int
    text: str

    def is_(self, *path: str) -> bool:
        return self.words[: len(path)] == path

    def positionals(self, *path: str) -> tuple[str, ...]:
        return self.words[len(path) :]

    def flag(self, name: str) -> list[str]:
        return self.flags.get(name, [])

    def has(self, name: str) -> bool:
        return name in self.flags


def strip_comment(line: str) -> str:
    """The line without its comment: a ``#`` that starts a word, outside quotes."""
    quote: str | None = None
    escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t;&|("):
            return line[:i]
    return line


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with backslash-newline continuations joined and comments removed."""
    joined: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = strip_comment(raw) if not pending or not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        joined.append((start, " ".join(pending)))
        pending = []
    if pending:
        joined.append((start, " ".join(pending)))
    return joined


def _inner_substitutions(word: str) -> list[str]:
    """The texts inside ``$( ... )`` of a word (balanced parentheses)."""
    found = []
    index = word.find("$(")
    while index != -1:
        depth, j = 0, index + 1
        while j < len(word):
            if word[j] == "(":
                depth += 1
            elif word[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        found.append(word[index + 2 : j])
        index = word.find("$(", j)
    return found


REDIRECT = re.compile(r"^[0-9]*[<>]")


def split_commands(text: str, line: int) -> list[Command]:
    text = re.sub(r"([0-9]*)>&([0-9])", r"\1>/dev/fd/\2", text)  # 2>&1 is a redirection, not a background job
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return []
    commands: list[Command] = []
    current: list[str] = []

    def flush() -> None:
        words = [w for w in current if not REDIRECT.match(w)]
        current.clear()
        while words and (words[0] in PREFIX_WORDS or ASSIGNMENT.match(words[0]) or words[0] in ("local", "export")):
            words.pop(0)
        if words:
            commands.append(Command(tuple(words), line))

    for token in tokens:
        if token == "()":  # `name() {`: a function definition, not a call of `name`
            current.clear()
            continue
        if token in SEPARATORS or set(token) <= set(";&|()"):
            flush()
            continue
        for inner in _inner_substitutions(token):
            commands.extend(split_commands(inner, line))
        current.append(token)
    flush()
    return commands


def commands(text: str) -> list[Command]:
    found = []
    for line, joined in logical_lines(text):
        found.extend(split_commands(joined, line))
    return expand_wrappers(found, text)


def function_at(text: str) -> dict[int, str]:
    """Line number -> the name of the shell function defined most recently at or before it."""
    current = ""
    names = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = FUNCTION.match(line)
        if match:
            current = match.group(1)
        elif re.match(r"^\S", line) and not line.startswith(("}", "#")):
            current = ""  # top-level code ends the function's reach
        names[number] = current
    return names


def expand_wrappers(found: list[Command], text: str) -> list[Command]:
    """Replace calls of ``f() { gcloud ... "$@" ...; }`` wrappers by the gcloud call they make."""
    owner = function_at(text)
    wrappers: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for command in found:
        if command.words[0] == "gcloud" and "$@" in command.words:
            name = owner.get(command.line, "")
            if name:
                at = command.words.index("$@")
                wrappers[name] = (command.words[:at], command.words[at + 1 :])
    if not wrappers:
        return found
    expanded = []
    for command in found:
        words = command.words
        for _ in range(3):  # wrappers of wrappers
            if words and words[0] in wrappers:
                before, after = wrappers[words[0]]
                words = (*before, *words[1:], *after)
        expanded.append(Command(words, command.line))
    return expanded


def gcloud_calls(text: str) -> list[GcloudCall]:
    calls = []
    for command in commands(text):
        if command.words[0] != "gcloud" or "$@" in command.words:
            continue
        words: list[str] = []
        flags: dict[str, list[str]] = {}
        args = list(command.words[1:])
        i = 0
        while i < len(args):
            arg = args[i]
            if arg.startswith("-") and len(arg) > 1:
                name, eq, value = arg.partition("=")
                if eq:
                    flags.setdefault(name, []).append(value)
                elif arg not in BOOLEAN_FLAGS and i + 1 < len(args) and not args[i + 1].startswith("-"):
                    flags.setdefault(name, []).append(args[i + 1])
                    i += 1
                else:
                    flags.setdefault(name, []).append("")
            else:
                words.append(arg)
            i += 1
        if words and words[0] in ("alpha", "beta"):
            words.pop(0)
        calls.append(GcloudCall(tuple(words), flags, command.line, shlex.join(command.words)))
    return calls


def traffic_assignments(call: GcloudCall) -> list[tuple[str, str, str]]:
    """(flag, target, percent) of an update-traffic call: --to-revisions/--to-tags entries, --to-latest."""
    found = []
    for flag in ("--to-revisions", "--to-tags"):
        for value in call.flag(flag):
            for entry in value.split(","):
                target, _, percent = entry.partition("=")
                found.append((flag, target.strip(), percent.strip()))
    if call.has("--to-latest"):
        found.append(("--to-latest", "LATEST", "100"))
    return found
