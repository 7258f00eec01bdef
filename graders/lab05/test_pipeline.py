"""Lab 05 checks of the pipeline's shape: valid workflows, the job graph, the test matrix, run hygiene."""

from __future__ import annotations

from typing import Any

import pytest

from graders.lab05 import linting, sections, workflow
from graders.lab05.severity import require_severe
from graders.lab05.workflow import Job, Workflow
from graders.sdk import Checklist, Submission, check, fail, partial

PYTHONS = ("3.10", "3.11")
OS_FAMILIES = {"ubuntu": "Linux", "windows": "Windows", "macos": "macOS"}


@check(points=3, name="Every workflow validates against the GitHub workflow schema", section=sections.WORKFLOW)
def test_workflows_valid(submission: Submission, tmp_path_factory: pytest.TempPathFactory) -> None:
    paths = workflow.workflow_files(submission)
    if not paths:
        fail(f"no workflow files under {workflow.WORKFLOW_DIR}/: add the pipeline as {workflow.MAIN_WORKFLOW}")
    workdir = tmp_path_factory.mktemp("lab05-workflows")
    staged, problems = linting.stage(submission, paths, workdir)
    if staged:
        problems += linting.check_jsonschema(submission, staged, workdir)
        lint = linting.actionlint(staged, workdir)
        problems += lint or []
    else:
        lint = None
    if problems:
        listed = "\n".join(f"- {p.location}: {p.message}" for p in problems[: linting.MAX_PROBLEMS])
        more = f"\n(and {len(problems) - linting.MAX_PROBLEMS} more)" if len(problems) > linting.MAX_PROBLEMS else ""
        tools = "check-jsonschema (vendor.github-workflows)" + (" and actionlint" if lint is not None else "")
        fail(f"{tools} found problems GitHub would reject:\n{listed}{more}", problems[0].location)
    if lint is None:
        # Passing, with a note: the schema ran, actionlint could not (never pretend it did).
        partial(1.0, "Validated with check-jsonschema's GitHub workflow schema; actionlint is not installed here, "
                "so expression and `needs` typing were checked only by the structural checks of this lab.")


@check(points=3, name="Runs are serialised and every job has a timeout", section=sections.WORKFLOW)
def test_hygiene(pipeline: Workflow, submission: Submission, checklist: Checklist) -> None:
    concurrency = pipeline.raw.get("concurrency")
    group = concurrency.get("group") if isinstance(concurrency, dict) else concurrency
    checklist.require(
        bool(group),
        "set a workflow-level `concurrency:` group (e.g. per branch or pull request) so two runs of the same "
        "ref never deploy over each other",
        pipeline.path,
    )
    untimed = [job.id for job in pipeline.jobs.values() if "uses" not in job.raw and "timeout-minutes" not in job.raw]
    checklist.require(
        not untimed,
        f"give every job a `timeout-minutes:` (missing on: {', '.join(untimed)}); the default is 6 hours of "
        "runner time when a step hangs",
        pipeline.job_line(submission, untimed[0]) if untimed else None,
    )


@check(points=7, name="The job graph makes the gates real (deploy needs test, build and scan)",
       section=sections.WORKFLOW)
def test_job_graph(pipeline: Workflow, submission: Submission, checklist: Checklist) -> None:
    roles = {
        "lint": workflow.is_lint,
        "test": workflow.is_test,
        "build": workflow.is_build,
        "scan": workflow.is_scan,
        "deploy": workflow.is_deploy,
    }
    found = {role: pipeline.jobs_where(predicate) for role, predicate in roles.items()}
    hints = {
        "lint": "a job that runs ruff",
        "test": "a job that runs pytest",
        "build": "a job that builds the image (docker/build-push-action or docker build)",
        "scan": "a job that runs Trivy",
        "deploy": "a job that deploys to Cloud Run",
    }
    missing = [role for role, jobs in found.items() if not jobs]
    if "deploy" in missing:
        fail(
            f"{pipeline.path} has no deploy job yet, so nothing is gated. Missing: "
            + "; ".join(f"{role} ({hints[role]})" for role in missing)
            + ". The deploy job must need the test, build and scan jobs.",
            pipeline.path,
        )
    for role in missing:
        checklist.require(False, f"no {role} job: add {hints[role]}", pipeline.path)
    unknown = [(job.id, n) for job in pipeline.jobs.values() for n in job.needs if n not in pipeline.jobs]
    checklist.require(
        not unknown,
        "`needs:` names jobs that do not exist: " + ", ".join(f"{j} needs {n}" for j, n in unknown),
        pipeline.job_line(submission, unknown[0][0], "needs") if unknown else None,
    )
    if not found["deploy"]:
        return
    deploy = found["deploy"][0]
    before = pipeline.ancestors(deploy.id) | {deploy.id}
    for role in ("test", "build", "scan"):
        jobs = found[role]
        ok = any(job.id in before for job in jobs)
        require_severe(
            checklist,
            ok or not jobs,
            f"deploy job '{deploy.id}' does not need the {role} job"
            + (f" '{jobs[0].id}'" if jobs else "")
            + f": add it to `needs:` (directly or through another job) so a failing {role} stops the deploy",
            pipeline.job_line(submission, deploy.id, "needs"),
        )
    condition = deploy.condition if isinstance(deploy.condition, str) else ""
    bypass = next((s for s in ("always()", "!cancelled()", "failure()") if s in condition.replace(" ", "")), None)
    require_severe(
        checklist,
        bypass is None and not deploy.raw.get("continue-on-error"),
        f"deploy job '{deploy.id}' runs even when a job it needs failed (`{bypass or 'continue-on-error'}`): "
        "drop it so the needed jobs gate the deploy",
        pipeline.job_line(submission, deploy.id, "if"),
    )


def _matrix_key(value: object) -> str | None:
    match = workflow.MATRIX_REF.search(str(value)) if value is not None else None
    return match.group(1) if match else None


def _os_family(label: object) -> str | None:
    text = str(label).lower()
    return next((family for prefix, family in OS_FAMILIES.items() if text.startswith(prefix)), None)


@check(points=5, name="Tests run on Python 3.10 and 3.11 and on at least two operating systems",
       section=sections.MATRIX)
def test_python_matrix(test_job: Job, pipeline: Workflow, submission: Submission, checklist: Checklist) -> None:
    where = pipeline.job_line(submission, test_job.id, "strategy")
    expanded = workflow.expand_matrix(test_job.matrix)
    if isinstance(test_job.matrix, str) or (test_job.matrix is not None and expanded is None):
        fail(
            f"test job '{test_job.id}' computes its matrix at run time ({str(test_job.matrix)[:80]}): write the "
            "Python versions and operating systems out in `strategy.matrix` so reviewers (and this check) see them",
            where,
        )
    if test_job.matrix is None or expanded is None or expanded == [{}]:
        fail(
            f"test job '{test_job.id}' has no `strategy.matrix`: test on Python 3.10 and 3.11 and on at least two "
            "operating systems (e.g. os: [ubuntu-24.04, windows-2022], python-version: [\"3.10\", \"3.11\"])",
            where,
        )
    combos: list[dict[str, Any]] = expanded or []
    setups = test_job.steps_using("actions/setup-python")
    py_key = _matrix_key(setups[0].input("python-version")) if setups else None
    os_key = _matrix_key(test_job.raw.get("runs-on"))
    checklist.require(
        py_key is not None and os_key is not None,
        f"test job '{test_job.id}' must use the matrix: `runs-on: ${{{{ matrix.os }}}}` and actions/setup-python "
        "with `python-version: ${{ matrix.python-version }}`",
        where,
    )
    raw_versions = [c.get(py_key) for c in combos if py_key and py_key in c]
    floats = sorted({v for v in raw_versions if isinstance(v, float)})
    versions = {str(v) for v in raw_versions}
    for wanted in PYTHONS:
        hint = ""
        if wanted not in versions and 3.1 in floats and wanted == "3.10":
            hint = " (3.10 written without quotes is the number 3.1 in YAML: quote it, \"3.10\")"
        checklist.require(
            wanted in versions,
            f"the test matrix does not run Python {wanted}{hint} (it has: {', '.join(sorted(versions)) or 'none'})",
            where,
        )
    families = {_os_family(c.get(os_key)) for c in combos if os_key and os_key in c} - {None}
    checklist.require(
        len(families) >= 2,
        "the test matrix must cover at least two operating systems (Linux plus Windows or macOS) for the client "
        f"tooling; it covers: {', '.join(sorted(f for f in families if f)) or 'one'}",
        where,
    )
