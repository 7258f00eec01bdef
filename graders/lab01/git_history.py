"""Whether a commit a release record cites is in the submission's git history.

Read-only git plumbing on the submission (``rev-parse``, ``cat-file``); the submission's own git
configuration cannot run code here (no hooks, no aliases run by these commands).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graders.sdk import find_tool, run_tool

GIT_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class History:
    git: bool  # git is installed
    repository: bool  # the submission is (inside) a git work tree
    shallow: bool  # a shallow clone: older commits may be missing

    def why_unverifiable(self) -> str | None:
        if not self.git:
            return "git is not installed where the grader runs, so the commit could not be verified"
        if not self.repository:
            return (
                "this submission is not a git repository, so the commit could not be verified; "
                "grade a clone of your repository (`git clone`), not a copy of its files"
            )
        return None


def _git(root: Path, *args: str) -> tuple[int, str]:
    git = find_tool("git")
    if git is None:
        return 127, ""
    result = run_tool([git, "-c", "core.hooksPath=/dev/null", *args], cwd=root, timeout=GIT_TIMEOUT_S)
    return result.returncode, result.stdout.strip()


def history(root: Path) -> History:
    if find_tool("git") is None:
        return History(False, False, False)
    code, out = _git(root, "rev-parse", "--is-inside-work-tree")
    if code != 0 or out != "true":
        return History(True, False, False)
    _, shallow = _git(root, "rev-parse", "--is-shallow-repository")
    return History(True, True, shallow == "true")


def has_commit(root: Path, sha: str) -> bool:
    code, _ = _git(root, "cat-file", "-e", f"{sha}^{{commit}}")
    return code == 0
