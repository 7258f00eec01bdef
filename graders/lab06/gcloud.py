"""The gcloud commands a shell script (or a runbook's code block) would run, found without running it.

The script is student code, and it would call the real cloud, so it is parsed (:mod:`graders.sdk.bash`),
not executed; calls through small wrapper functions (``gcloud_run() { gcloud run "$@" --region "$REGION"; }``)
are expanded to the gcloud call they make. shellcheck reports what does not parse.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from graders.sdk import bash

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
class GcloudCall:
    """``gcloud [alpha|beta] GROUP... COMMAND POSITIONALS --flags``, with flags gathered by name."""

    words: tuple[str, ...]  # every non-flag word after gcloud (command path, then positionals)
    flags: dict[str, list[str]] = field(hash=False)
    line: int  # 1-based
    text: str
    function: str = ""  # the shell function the call is made in

    def is_(self, *path: str) -> bool:
        return self.words[: len(path)] == path

    def positionals(self, *path: str) -> tuple[str, ...]:
        return self.words[len(path) :]

    def flag(self, name: str) -> list[str]:
        return self.flags.get(name, [])

    def has(self, name: str) -> bool:
        return name in self.flags


def parse_call(command: bash.Command) -> GcloudCall | None:
    """The gcloud call of a command, or None (another program, or a wrapper's own ``"$@"`` body)."""
    argv = command.argv
    if not argv or argv[0] != "gcloud" or "$@" in argv:
        return None
    words: list[str] = []
    flags: dict[str, list[str]] = {}
    args = list(argv[1:])
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
    return GcloudCall(tuple(words), flags, command.line, shlex.join(argv), command.function)


def gcloud_calls(text: str) -> list[GcloudCall]:
    """Every gcloud call of the script, wrapper calls expanded, in source order."""
    calls = (parse_call(command) for command in bash.expand_wrappers(bash.commands(text)))
    return [call for call in calls if call is not None]


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
