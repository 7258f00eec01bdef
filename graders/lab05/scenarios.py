"""Events a workflow may run for, and whether a given job runs for each of them.

The deploy and gate checks ask behavioural questions ("does deploy run for a pull request?") rather
than looking for one spelling of an ``if:``; these scenarios answer them from the workflow's
triggers, each job's condition and its ``needs`` (a job whose dependency was skipped is skipped too,
unless its condition uses ``always()``).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from graders.lab05.expressions import UNKNOWN, condition_holds
from graders.lab05.workflow import Job, Step, Workflow

STATUS_OVERRIDES = ("always()", "failure()", "cancelled()")


@dataclass(frozen=True)
class Scenario:
    id: str
    description: str
    event: str
    ref: str
    base_ref: str = ""

    @property
    def branch(self) -> str:
        return self.base_ref or self.ref.removeprefix("refs/heads/")

    def context(self) -> dict[str, Any]:
        ref_name = self.ref.removeprefix("refs/heads/").removeprefix("refs/pull/")
        if self.event == "pull_request":
            payload: dict[str, Any] = {
                "pull_request": {"base": {"ref": self.base_ref, "*": UNKNOWN}, "head": {"ref": "feature/new-prompt",
                                 "*": UNKNOWN}, "number": 7, "*": UNKNOWN},
                "*": UNKNOWN,
            }
        else:
            payload = {"ref": self.ref, "pull_request": None, "*": UNKNOWN}
        github = {
            "event_name": self.event,
            "ref": self.ref,
            "ref_name": ref_name,
            "ref_type": "branch",
            "base_ref": self.base_ref,
            "head_ref": "feature/new-prompt" if self.event == "pull_request" else "",
            "event": payload,
            "*": UNKNOWN,
        }
        return {"github": github}


PUSH_MAIN = Scenario("push-main", "a push to main", "push", "refs/heads/main")
PUSH_BRANCH = Scenario("push-branch", "a push to a feature branch", "push", "refs/heads/feature/new-prompt")
PULL_REQUEST = Scenario("pull-request", "a pull request into main", "pull_request", "refs/pull/7/merge", "main")
DISPATCH_BRANCH = Scenario("dispatch-branch", "a manual run on a feature branch", "workflow_dispatch",
                           "refs/heads/feature/new-prompt")
ALL = (PUSH_MAIN, PUSH_BRANCH, PULL_REQUEST, DISPATCH_BRANCH)


def _branch_filter(config: Any, branch: str) -> bool:
    if not isinstance(config, dict):
        return True
    include, ignore = config.get("branches"), config.get("branches-ignore")
    if include is None and ignore is None and ("tags" in config or "tags-ignore" in config):
        return False  # only tag pushes trigger it
    if isinstance(include, str):
        include = [include]
    if isinstance(ignore, str):
        ignore = [ignore]
    if include is not None:
        matched = False
        for pattern in include:
            negated = str(pattern).startswith("!")
            if fnmatch.fnmatchcase(branch, str(pattern).lstrip("!")):
                matched = not negated
        return matched
    if ignore is not None:
        return not any(fnmatch.fnmatchcase(branch, str(p)) for p in ignore)
    return True


def fires(workflow: Workflow, scenario: Scenario) -> bool:
    """Whether the workflow's ``on:`` triggers start a run for the scenario (path filters assumed to match)."""
    triggers = workflow.triggers
    if scenario.event not in triggers:
        return False
    if scenario.event == "workflow_dispatch":
        return True
    return _branch_filter(triggers[scenario.event], scenario.branch)


def job_runs(workflow: Workflow, job: Job, scenario: Scenario, _seen: frozenset[str] = frozenset()) -> Any:
    """True, False or UNKNOWN: whether ``job`` runs for ``scenario`` when everything before it succeeds."""
    if not fires(workflow, scenario) or job.id in _seen:
        return False
    condition = job.condition
    overrides = isinstance(condition, str) and any(s in condition.replace(" ", "") for s in STATUS_OVERRIDES)
    if not overrides:
        for need in job.needs:
            upstream = workflow.jobs.get(need)
            if upstream is None:
                return False
            ran = job_runs(workflow, upstream, scenario, _seen | {job.id})
            if ran is not True:
                return ran
    return condition_holds(condition, scenario.context())


def step_runs_after_failure(step: Step) -> bool:
    """Whether a step still runs once an earlier step of its job failed (``always()``, ``!cancelled()``).

    A step's implicit condition is ``success()``; ``failure()`` alone would skip it on a passing run.
    """
    condition = str(step.raw.get("if", "")).replace(" ", "")
    if "always()" in condition or "!cancelled()" in condition:
        return True
    return "failure()" in condition and "success()" in condition
