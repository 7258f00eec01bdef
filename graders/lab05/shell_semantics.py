"""What a workflow's shell steps do, not just which commands they name.

A step that "has git diff" can still hand the gate the wrong change set (the last commit only, or
the empty working tree of a fresh checkout), and a step that runs the gate can still pass whatever
the gate says: GitHub runs a ``run:`` step without a ``shell:`` as ``bash -e {0}``, without
``pipefail``, so ``gate | tee report`` takes tee's exit status and a failing gate goes green.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from graders.lab05.workflow import Job, Step, Workflow

GIT_DIFF = re.compile(r"\bgit\s+diff\b([^\n|;&>]*)")
# A revision that names the pull request's base: the event's base SHA, the base branch, main, a merge base.
BASE_REVISION = re.compile(
    r"base[._-]?(sha|ref)|BASE|github\.base_ref|origin/|\bmain\b|merge-base|\$\{?\w*(BASE|TARGET)\w*\}?",
    re.IGNORECASE,
)
# Revisions relative to HEAD only: the last commit(s) of the branch, not the whole pull request.
HEAD_ONLY = re.compile(r"^(HEAD|@)([~^]\d*)*(\.\.\.?((HEAD|@)([~^]\d*)*)?)?$")
# The gate's exit status lost: `|| true`, `|| exit 0`, `; true` after it.
SWALLOWED = re.compile(r"check_pr_docs\.py[^\n]*\|\|\s*(true|exit\s+0|:)\b")
PIPEFAIL = re.compile(r"\bset\s+-[a-zA-Z]*o\s+pipefail\b|\bset\s+-o\s+pipefail\b|\bPIPESTATUS\b")
# GitHub's `shell:` keywords that run with pipefail (https://docs.github.com/actions: defaults.run.shell).
PIPEFAIL_SHELLS = ("bash", "pwsh", "powershell")


def _joined(script: str) -> str:
    """One line per command: backslash continuations joined."""
    return re.sub(r"\\\n\s*", " ", script)


def diff_revisions(script: str) -> list[list[str]]:
    """The revision arguments of every ``git diff`` in a script (options and paths after ``--`` dropped)."""
    found = []
    for match in GIT_DIFF.finditer(_joined(script)):
        try:
            words = shlex.split(match.group(1), posix=True)
        except ValueError:
            words = match.group(1).split()
        revisions: list[str] = []
        for word in words:
            if word == "--":
                break
            if not word.startswith("-"):
                revisions.append(word)
        found.append(revisions)
    return found


def diff_range_problem(script: str) -> str | None:
    """Why the ``git diff`` commands of a script do not list the pull request's changes, or None."""
    diffs = diff_revisions(script)
    if not diffs:
        return None
    for revisions in diffs:
        if any(BASE_REVISION.search(r) for r in revisions):
            return None
    revisions = diffs[0]
    if not revisions:
        return (
            "`git diff` without a revision compares the working tree with the index: in a fresh checkout that is "
            "an empty change set, so the gate passes every pull request"
        )
    if all(HEAD_ONLY.match(r) for r in revisions):
        return (
            f"`git diff {' '.join(revisions)}` lists the changes of the last commit(s) only: a guarded file changed "
            "in an earlier commit of the pull request escapes the gate"
        )
    return (
        f"`git diff {' '.join(revisions)}` does not compare with the pull request's base: diff against it, e.g. "
        '`"${BASE_SHA}...HEAD"` with `BASE_SHA: ${{ github.event.pull_request.base.sha }}`'
    )


def _configured_shell(raw: Any) -> str | None:
    defaults = raw.get("defaults") if isinstance(raw, dict) else None
    run = defaults.get("run") if isinstance(defaults, dict) else None
    shell = run.get("shell") if isinstance(run, dict) else None
    return str(shell) if shell else None


def effective_shell(pipeline: Workflow, job: Job, step: Step) -> str | None:
    """The step's ``shell:``, else the job's then the workflow's ``defaults.run.shell`` (None: GitHub's default)."""
    shell = step.raw.get("shell")
    return str(shell) if shell else _configured_shell(job.raw) or _configured_shell(pipeline.raw)


def has_pipefail(shell: str | None, script: str) -> bool:
    """Whether a failure on the left of a pipe fails the step."""
    if PIPEFAIL.search(script):
        return True
    if shell is None:  # `bash -e {0}` on Linux and macOS runners
        return False
    words = shell.split()
    if len(words) == 1:
        return words[0] in PIPEFAIL_SHELLS
    return "pipefail" in shell


def gate_step_problem(pipeline: Workflow, job: Job, step: Step) -> str | None:
    """Why the exit status of the gate in this step does not fail the step, or None."""
    script = _joined(step.run)
    if SWALLOWED.search(script):
        return "the gate's exit status is discarded (`|| true`): a pull request without docs passes"
    piped = re.search(r"check_pr_docs\.py[^\n|]*\|(?!\|)", script) is not None
    if piped and not has_pipefail(effective_shell(pipeline, job, step), script):
        return (
            "the gate's output is piped (`| tee ...`) in a shell without pipefail (a `run:` step without `shell:` "
            "runs `bash -e {0}`), so the step takes the exit status of the last command and a failing gate passes: "
            "set `shell: bash` (bash -eo pipefail) on the step or in `defaults.run`, or `set -o pipefail` first"
        )
    return None
