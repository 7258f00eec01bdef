"""Reading the lab's Markdown deliverables: Mermaid blocks, tables and the repository paths they name."""

from __future__ import annotations

import re

from graders.sdk import Submission

MERMAID = re.compile(r"^```mermaid[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A repository path: folders and a name with an extension, or a folder ending in "/"; no URLs or URIs.
PATH = re.compile(
    r"(?<![\w:/.@<-])((?:[A-Za-z0-9_.-]+/)+[A-Za-z0-9_.*-]*|[A-Za-z0-9_-]+\.(?:py|ya?ml|json|md|lock|dvc|toml|csv))(?![\w/])"
)
# Run-time state that is never committed (named in docs, checked nowhere).
RUNTIME = ("var/", "mlruns/", "/tmp/")
COMMAND = re.compile(r"\b(python3? -m [\w.]+|python3? [\w/.-]+\.py|dvc (repro|add|commit|push|pull|status)\b)")


def mermaid_blocks(text: str) -> list[str]:
    return MERMAID.findall(text)


def paths(text: str) -> list[str]:
    """Repository paths named in ``text`` (deduplicated, in order)."""
    found: list[str] = []
    for match in PATH.finditer(text):
        path = match.group(1).rstrip(".")
        if path.startswith(RUNTIME) or "://" in text[max(0, match.start() - 8) : match.start() + 3]:
            continue
        if path not in found:
            found.append(path)
    return found


def exists(submission: Submission, path: str) -> bool:
    if "*" in path:
        return bool(submission.glob(path))
    return submission.exists(path.rstrip("/"))


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.lstrip().startswith("|") and not re.match(r"^\s*\|[\s:|-]+\|\s*$", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows
