"""``.dockerignore`` matching as the Docker builder does it (moby's patternmatcher semantics).

Patterns are cleaned paths relative to the context root; ``*`` and ``?`` stay within one path
segment, ``**`` spans any number of them, ``!`` re-includes, and the last matching pattern wins. A
pattern that matches a folder excludes everything inside it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass


def _regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    exclude: bool


@dataclass(frozen=True)
class DockerIgnore:
    rules: tuple[Rule, ...]

    @classmethod
    def parse(cls, text: str) -> DockerIgnore:
        rules = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exclude = not line.startswith("!")
            pattern = line if exclude else line[1:].strip()
            pattern = posixpath.normpath(pattern.lstrip("/")) if pattern.strip("/") else "."
            rules.append(Rule(_regex(pattern), exclude))
        return cls(tuple(rules))

    def excludes(self, path: str) -> bool:
        """Whether ``path`` (relative to the context root) is left out of the build context."""
        parts = path.strip("/").split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for rule in self.rules:
            if any(rule.regex.match(c) for c in candidates):
                excluded = rule.exclude
        return excluded
