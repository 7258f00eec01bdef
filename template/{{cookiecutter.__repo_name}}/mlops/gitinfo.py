"""The git commit a run or a release was made from (audit records cite it)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Commit:
    sha: str
    dirty: bool  # tracked files differ from the commit: the record cites code that is not in git


def head(root: Path) -> Commit | None:
    """HEAD of the repository at ``root``; None outside a git repository (or without git)."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        sha = subprocess.run(
            [git, "rev-parse", "--verify", "HEAD"], cwd=root, capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
        status = subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return Commit(sha, bool(status.strip()))
