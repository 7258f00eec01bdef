#!/usr/bin/env python3
"""Pull request docs gate: a change to model, prompt or serving code must update the model card and a runbook.

The plant's change control audits every change to what the Copilot answers and how it is served, so the
pull request itself has to carry the evidence: when a change set touches guarded code, the same change
set must update ``docs/model-card.md`` and at least one runbook under ``docs/runbooks/``.

Usage (CI runs the first form; see the ``pr-docs-gate`` job in .github/workflows/main.yml)::

    git diff --name-status --find-renames origin/main...HEAD > changed.txt
    python scripts/check_pr_docs.py --changed-files changed.txt
    git diff --name-status origin/main...HEAD | python scripts/check_pr_docs.py
    python scripts/check_pr_docs.py src/copilot/rag/prompts.py docs/model-card.md

Each entry is a repository path or a ``git diff --name-status`` line: ``M<TAB>path``, ``D<TAB>path``,
``R100<TAB>old<TAB>new`` (a rename counts as a change to both paths). Entries come from the PATH
arguments, from ``--changed-files FILE`` (``-`` reads standard input), or from standard input when
neither is given.

Exit status: 0 the change set may merge, 1 documentation is missing, 2 the input is unusable (or the
gate itself failed: it never passes a change set it could not read). Standard library only, so it runs
on a bare CI runner before anything is installed.
"""

from __future__ import annotations

import argparse
import codecs
import os
import re
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

MODEL_CARD = "docs/model-card.md"
RUNBOOK_DIR = "docs/runbooks/"
# What counts as model, prompt or serving code: path prefixes inside the repository.
GUARDED_PATHS: dict[str, tuple[str, ...]] = {
    "model": ("src/copilot/vision/", "mlops/"),
    "prompt": ("src/copilot/rag/",),
    "serving": ("src/copilot/api/",),
}
EXIT_OK, EXIT_DOCS_MISSING, EXIT_UNUSABLE = 0, 1, 2
# A `git diff --name-status` status: a letter, and a similarity score for renames and copies.
STATUS = re.compile(r"^[ACDMRTUXB][0-9]{0,3}$")


class ChangeListError(ValueError):
    """The change list cannot be read; the message names the line and what is wrong with it."""


@dataclass(frozen=True)
class Change:
    """One changed file: its status letter, its path and, for renames and copies, the path it came from."""

    status: str
    path: str
    old_path: str | None = None

    @property
    def touched(self) -> tuple[str, ...]:
        """Every path this change affects: a rename removes the old path as much as it adds the new one."""
        if self.old_path and self.status == "R":
            return (self.old_path, self.path)
        return (self.path,)

    @property
    def present_after(self) -> bool:
        """Whether the file exists once the change is merged (a deleted document is not an update)."""
        return self.status != "D"


@dataclass
class Verdict:
    """The gate's decision and the facts behind it, kept separate from how they are printed."""

    total: int
    guarded: list[tuple[str, str]] = field(default_factory=list)
    model_card_updated: bool = False
    runbooks_updated: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        if not self.guarded:
            return []
        missing = []
        if not self.model_card_updated:
            missing.append(f"{MODEL_CARD} was not updated")
        if not self.runbooks_updated:
            missing.append(f"no runbook under {RUNBOOK_DIR} was updated")
        return missing

    @property
    def ok(self) -> bool:
        return not self.missing


def _unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual paths (``"caf\\303\\251.md"``)."""
    if len(path) >= 2 and path.startswith('"') and path.endswith('"'):
        raw = path[1:-1].encode("ascii", "backslashreplace")
        try:
            return codecs.escape_decode(raw)[0].decode("utf-8")  # type: ignore[attr-defined,no-any-return]
        except (ValueError, UnicodeDecodeError) as exc:
            raise ChangeListError(f"cannot decode the quoted path {path}: {exc}") from None
    return path


def _clean_path(path: str, number: int) -> str:
    text = _unquote(path.strip())
    if not text:
        raise ChangeListError(f"line {number}: empty path")
    text = text.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    if text.startswith("/") or re.match(r"^[A-Za-z]:/", text):
        raise ChangeListError(f"line {number}: {path!r} is an absolute path; give paths relative to the repository")
    return text


def parse_line(line: str, number: int = 1) -> Change | None:
    """One entry of the change list: a plain path or a ``git diff --name-status`` line (None when blank)."""
    # TODO(lab05): parse a plain path or a name-status line; a rename (R100) carries two paths
    raise NotImplementedError(
        "lab05: parse a plain path or a name-status line; a rename (R100) carries two paths"
    )


def parse_changes(lines: Iterable[str]) -> list[Change]:
    """Every change in the list, in order; blank lines are skipped, anything unreadable raises ChangeListError."""
    changes = []
    for number, line in enumerate(lines, start=1):
        change = parse_line(line, number)
        if change is not None:
            changes.append(change)
    return changes


def guarded_kind(path: str) -> str | None:
    """``model``, ``prompt`` or ``serving`` when ``path`` is guarded code, else None."""
    for kind, prefixes in GUARDED_PATHS.items():
        if path.startswith(prefixes):
            return kind
    return None


def evaluate(changes: Sequence[Change]) -> Verdict:
    """Decide whether the change set documents its model, prompt and serving changes."""
    # TODO(lab05): find the guarded paths touched, and whether the model card and a runbook were updated
    raise NotImplementedError(
        "lab05: find the guarded paths touched, and whether the model card and a runbook were updated"
    )


def render(verdict: Verdict) -> str:
    """The explanation printed for the pull request's author and the auditor."""
    if verdict.total == 0:
        return "PR docs gate: passed. The change set is empty: nothing to check."
    if not verdict.guarded:
        return (
            f"PR docs gate: passed. None of the {verdict.total} changed file(s) is model, prompt or serving code "
            f"({', '.join(sorted(GUARDED_PATHS))} paths: "
            f"{', '.join(p for prefixes in GUARDED_PATHS.values() for p in prefixes)})."
        )
    touched = "\n".join(f"  - {path} ({kind} code)" for path, kind in verdict.guarded)
    if verdict.ok:
        docs = "\n".join(f"  - {doc}" for doc in [MODEL_CARD, *verdict.runbooks_updated])
        return (
            "PR docs gate: passed. This change set touches model, prompt or serving code:\n"
            f"{touched}\nand updates the documentation that change control requires:\n{docs}"
        )
    missing = "\n".join(f"  - {item}" for item in verdict.missing)
    return (
        "PR docs gate: FAILED. This change set touches model, prompt or serving code:\n"
        f"{touched}\n"
        "Change control requires the same pull request to update the model card and a runbook, but:\n"
        f"{missing}\n"
        f"Update {MODEL_CARD} (what changed, evaluation results, limitations) and the runbook that operators "
        f"follow for this change (a file under {RUNBOOK_DIR}: deploy, rollback, alerts), then push again."
    )


def read_entries(paths: Sequence[str], changed_files: str | None, stdin: BinaryIO) -> list[str]:
    """The raw entries from the arguments, the ``--changed-files`` file or standard input."""
    entries = list(paths)
    source: bytes | None = None
    if changed_files == "-" or (changed_files is None and not paths):
        if changed_files is None and stdin.isatty():
            raise ChangeListError("no change list given: pass paths, --changed-files FILE, or pipe git diff into it")
        source = stdin.read()
        name = "standard input"
    elif changed_files is not None:
        try:
            with open(changed_files, "rb") as handle:
                source = handle.read()
        except OSError as exc:
            raise ChangeListError(f"cannot read {changed_files}: {exc.strerror or exc}") from None
        name = changed_files
    if source is not None:
        if b"\0" in source:
            raise ChangeListError(f"{name} is NUL-separated (git diff -z) or binary; use newline-separated output")
        try:
            entries.extend(source.decode("utf-8-sig").splitlines())
        except UnicodeDecodeError as exc:
            raise ChangeListError(f"{name} is not UTF-8 text (byte {exc.start})") from None
    return entries


def _annotate(verdict: Verdict) -> None:
    """Surface a failure on the pull request's checks page when running in GitHub Actions."""
    if os.environ.get("GITHUB_ACTIONS") == "true" and not verdict.ok:
        print(f"::error title=PR docs gate::{'; '.join(verdict.missing)} (guarded code changed)")


def main(argv: Sequence[str] | None = None, stdin: BinaryIO | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("paths", nargs="*", metavar="PATH", help="changed paths or name-status lines")
    parser.add_argument(
        "--changed-files", metavar="FILE", help="file with one change per line (git diff --name-status); '-': stdin"
    )
    args = parser.parse_args(argv)
    try:
        entries = read_entries(args.paths, args.changed_files, stdin or sys.stdin.buffer)
        verdict = evaluate(parse_changes(entries))
    except ChangeListError as exc:
        print(f"PR docs gate: unusable change list: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as exc:  # fail closed: a gate that crashed has not checked anything
        print(f"PR docs gate: internal error ({type(exc).__name__}: {exc}); failing closed", file=sys.stderr)
        if os.environ.get("CHECK_PR_DOCS_DEBUG"):
            traceback.print_exc()
        return EXIT_UNUSABLE
    print(render(verdict))
    _annotate(verdict)
    return EXIT_OK if verdict.ok else EXIT_DOCS_MISSING


if __name__ == "__main__":
    sys.exit(main())
