"""Lab 05 assignment checks: the pull request checklist and the workflow job that runs the docs gate."""

from __future__ import annotations

import re

from graders.lab05 import scenarios, sections, shell_semantics
from graders.lab05.task_list import task_items
from graders.lab05.workflow import Workflow
from graders.sdk import CheckFailed, Checklist, Submission, check, fail

TEMPLATE_PATHS = (
    ".github/pull_request_template.md",
    ".github/PULL_REQUEST_TEMPLATE.md",
    "pull_request_template.md",
    "docs/pull_request_template.md",
)
# What a regulated-plant pull request must confirm, and how an item may say it.
CHECKLIST_ITEMS = (
    ("model card", re.compile(r"model[\s_-]*card", re.IGNORECASE)),
    ("runbook", re.compile(r"run[\s_-]*book", re.IGNORECASE)),
    ("tests", re.compile(r"\btest", re.IGNORECASE)),
    ("security review", re.compile(r"secur|vulnerab|\bsecrets?\b", re.IGNORECASE)),
    ("change request id", re.compile(r"change[\s_-]*(request|ticket)|\bCR\b", re.IGNORECASE)),
    ("rollback plan", re.compile(r"roll[\s_-]*back", re.IGNORECASE)),
)


def _template_path(submission: Submission) -> str:
    found: str | None = next((p for p in TEMPLATE_PATHS if submission.is_file(p)), None)
    if found is None:
        folder = ".github/PULL_REQUEST_TEMPLATE"
        found = next(iter(sorted(submission.glob(f"{folder}/*.md", under=folder))), None)
    if found is None:
        raise CheckFailed(
            "no pull request template: write .github/pull_request_template.md with the change-control checklist",
            TEMPLATE_PATHS[0],
        )
    return found


@check(points=8, name="The PR template's checklist covers model card, runbook, tests, security, CR id, rollback",
       section=sections.LAB, assignment=True)
def test_pr_template(submission: Submission, checklist: Checklist) -> None:
    path = _template_path(submission)
    items = task_items(submission.read_text(path))
    if not items:
        fail(
            f"{path} has no checklist: write each requirement as a Markdown task item (`- [ ] ...` or "
            "`1. [ ] ...`) so reviewers tick it (items inside <!-- comments --> or code blocks do not show on the "
            "pull request)",
            path,
        )
    for label, pattern in CHECKLIST_ITEMS:
        checklist.require(
            any(pattern.search(item) for item in items),
            f"{path}: no checklist item for the {label} (add `- [ ] ...` mentioning it)",
            path,
        )


@check(points=4, name="A workflow job runs the PR docs gate on every pull request's changed files",
       section=sections.LAB, assignment=True)
def test_gate_job(pipeline: Workflow, submission: Submission, checklist: Checklist) -> None:
    jobs = [job for job in pipeline.jobs.values() if "check_pr_docs.py" in job.run_text]
    if not jobs:
        fail(
            f"no job in {pipeline.path} runs scripts/check_pr_docs.py: add a job for pull requests that lists the "
            "changed files (git diff --name-status) and runs the gate on them",
            pipeline.path,
        )
    job = jobs[0]
    runs = scenarios.job_runs(pipeline, job, scenarios.PULL_REQUEST)
    checklist.require(
        runs is True,
        f"job '{job.id}' does not run for pull requests into main: trigger the workflow on `pull_request` and "
        "keep the job's `if:`/`needs:` from skipping it",
        pipeline.job_line(submission, job.id),
        weight=2,
    )
    script = re.sub(r"\\\n\s*", " ", job.run_text)  # one line per command, continuations joined
    name_status = re.search(r"\bgit\s+diff\b[^\n]*--name-status", script) is not None
    # --name-only drops what the gate needs: a rename's old path and whether a document was deleted.
    name_only = re.search(r"\bgit\s+diff\b[^\n]*--name-only", script) is not None
    action = any("changed-files" in step.uses for step in job.steps)
    checklist.require(
        name_status or action,
        f"job '{job.id}' lists the changes with `git diff --name-only`, which shows a renamed file only under its "
        "new path (moving model code out of its folder escapes the gate) and a deleted model card like an edited "
        "one: use `git diff --name-status --find-renames \"$BASE_SHA...HEAD\" > changed.txt`"
        if name_only
        else f"job '{job.id}' must give the gate the pull request's changed files, e.g. "
        "`git diff --name-status --find-renames \"$BASE_SHA...HEAD\" > changed.txt` (checkout with fetch-depth: 0)",
        pipeline.job_line(submission, job.id, "steps"),
    )
    # Semantics, not presence: the diff must span the whole pull request, and the gate's verdict must fail the job.
    diff_step = next((s for s in job.steps if shell_semantics.GIT_DIFF.search(s.run)), None)
    range_problem = shell_semantics.diff_range_problem(job.run_text)
    checklist.require(
        range_problem is None,
        f"job '{job.id}': {range_problem}; diff against the pull request's base "
        '(`git diff --name-status --find-renames "${BASE_SHA}...HEAD"`, fetch-depth: 0)',
        pipeline.job_line(submission, job.id, "steps", diff_step.index) if diff_step else None,
    )
    gate_steps = [s for s in job.steps if "check_pr_docs.py" in s.run]
    problems = [(s, p) for s in gate_steps if (p := shell_semantics.gate_step_problem(pipeline, job, s))]
    checklist.require(
        not problems,
        f"job '{job.id}', step '{problems[0][0].label}': {problems[0][1]}" if problems else "",
        pipeline.job_line(submission, job.id, "steps", problems[0][0].index) if problems else None,
    )
