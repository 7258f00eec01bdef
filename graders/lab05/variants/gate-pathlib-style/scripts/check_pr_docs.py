#!/usr/bin/env python3
"""PR docs gate: model, prompt or serving changes need docs/model-card.md and a runbook in the same change set.

    git diff --name-status --find-renames origin/main...HEAD | python scripts/check_pr_docs.py
    python scripts/check_pr_docs.py --changed-files changed.txt
    python scripts/check_pr_docs.py src/copilot/rag/prompts.py docs/model-card.md

Exit 0: may merge. Exit 1: documentation missing. Exit 2: the change list could not be read.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

GUARDED = {
    PurePosixPath("src/copilot/vision"): "model",
    PurePosixPath("mlops"): "model",
    PurePosixPath("src/copilot/rag"): "prompt",
    PurePosixPath("src/copilot/api"): "serving",
}
MODEL_CARD = PurePosixPath("docs/model-card.md")
RUNBOOKS = PurePosixPath("docs/runbooks")
GIT_STATUSES = set("ACDMRTUXB")


class Unreadable(Exception):
    pass


def entries_from(argv: list[str]) -> list[str]:
    if argv[:1] == ["--changed-files"]:
        if len(argv) != 2:
            raise Unreadable("--changed-files takes exactly one FILE")
        if argv[1] == "-":
            return sys.stdin.read().splitlines()
        try:
            return Path(argv[1]).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise Unreadable(f"cannot read {argv[1]}: {exc}") from None
    if argv:
        return argv
    return sys.stdin.read().splitlines()


def read_change(line: str) -> list[tuple[str, PurePosixPath]]:
    """(status, path) pairs for one entry; a rename or copy yields its old path too."""
    if "\t" not in line:
        return [("M", PurePosixPath(line.strip()))]
    status, *paths = line.rstrip("\n").split("\t")
    kind, score = status[:1], status[1:]
    if kind not in GIT_STATUSES or not (score == "" or score.isdigit()):
        raise Unreadable(f"{status!r} is not a git status in {line!r}")
    wanted = 2 if kind in "RC" else 1
    if len(paths) != wanted or not all(paths):
        raise Unreadable(f"status {status} needs {wanted} path(s): {line!r}")
    if kind == "R":
        return [("D", PurePosixPath(paths[0])), ("A", PurePosixPath(paths[1]))]
    return [(kind, PurePosixPath(p)) for p in paths[-1:]]


def guarded(path: PurePosixPath) -> str | None:
    return next((kind for folder, kind in GUARDED.items() if path.is_relative_to(folder)), None)


def main(argv: list[str]) -> int:
    try:
        changes = [c for line in entries_from(argv) if line.strip() for c in read_change(line)]
    except Unreadable as exc:
        print(f"PR docs gate: cannot use this change list ({exc})", file=sys.stderr)
        return 2
    code_changes = [(path, guarded(path)) for _, path in changes if guarded(path)]
    kept = {path for status, path in changes if status != "D"}
    card = MODEL_CARD in kept
    runbooks = sorted(str(p) for p in kept if p.is_relative_to(RUNBOOKS) and p.suffix == ".md")
    if not code_changes:
        print(f"PR docs gate: ok, {len(changes)} change(s), no model, prompt or serving code among them.")
        return 0
    listing = "\n".join(f"  {path} ({kind})" for path, kind in code_changes)
    if card and runbooks:
        print(f"PR docs gate: ok. Guarded code changed:\n{listing}\nwith {MODEL_CARD} and {', '.join(runbooks)}.")
        return 0
    needed = [str(MODEL_CARD)] * (not card) + [f"a runbook under {RUNBOOKS}/"] * (not runbooks)
    print(f"PR docs gate: blocked. Guarded code changed:\n{listing}\nbut this change set does not update "
          f"{' or '.join(needed)}.")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
