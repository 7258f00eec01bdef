"""Lab 05 release checks: audit evidence uploaded as artefacts, and a deploy gated to main and staging."""

from __future__ import annotations

import fnmatch
import re

from graders.lab05 import scenarios, sections, workflow
from graders.lab05.expressions import UNKNOWN
from graders.lab05.severity import require_severe
from graders.lab05.workflow import Job, Step, Workflow
from graders.sdk import Checklist, Submission, check

UPLOAD = "actions/upload-artifact"
SBOM_FORMATS = ("cyclonedx", "spdx", "spdx-json", "github")
NAMED_BY_COMMIT = re.compile(r"\$\{\{[^}]*\bsha\b[^}]*\}\}|\$\{\{[^}]*\.sha\s*\}\}")
JUNIT = re.compile(r"--junit-?xml[= ]\s*(\S+)")
COV_XML = re.compile(r"--cov-report[= ]\s*xml(?::(\S+))?")
# Evidence written by the step that fails the job: its upload must run after a failure.
RUNS_AFTER_FAILURE = ("JUnit test report", "scan results")
COVERAGE_XML = re.compile(r"\bcoverage\s+xml\b(?:.*?-o\s+(\S+))?")


def _paths(step: Step) -> list[str]:
    value = step.input("path", "")
    lines = [p.strip() for p in str(value).splitlines()]
    return [p.removeprefix("./") for p in lines if p and not p.startswith("!")]


def _covers(step: Step, produced: str | None) -> bool:
    """Whether an upload step's ``path:`` includes the file a tool wrote (a parent folder or a glob counts)."""
    if produced is None:
        return True
    produced = produced.strip("'\"").removeprefix("./")
    for path in _paths(step):
        folder = path.rstrip("/")
        if produced == path or produced.startswith(folder + "/") or fnmatch.fnmatch(produced, path):
            return True
    return False


def _uploads(job: Job) -> list[Step]:
    return job.steps_using(UPLOAD)


def _evidence(pipeline: Workflow) -> dict[str, tuple[Job | None, list[Step], str]]:
    """Evidence kind -> (producing job, the uploads in it that carry it, how to fix it when missing)."""
    found: dict[str, tuple[Job | None, list[Step], str]] = {}
    tests = next((j for j in pipeline.jobs.values() if workflow.is_test(j) and JUNIT.search(j.run_text)), None)
    junit = JUNIT.search(tests.run_text).group(1) if tests else None  # type: ignore[union-attr]
    found["JUnit test report"] = (
        tests, [s for s in _uploads(tests) if _covers(s, junit)] if tests else [],
        "run pytest with --junitxml=reports/junit.xml and upload it from the test job",
    )
    cov_job = next((j for j in pipeline.jobs.values() if COV_XML.search(j.run_text) or COVERAGE_XML.search(j.run_text)),
                   None)
    cov_file = None
    if cov_job is not None:
        match = COV_XML.search(cov_job.run_text) or COVERAGE_XML.search(cov_job.run_text)
        cov_file = (match.group(1) if match else None) or "coverage.xml"
    found["coverage report"] = (
        cov_job, [s for s in _uploads(cov_job) if _covers(s, cov_file)] if cov_job else [],
        "write an XML coverage report (pytest --cov --cov-report=xml:reports/coverage.xml) and upload it",
    )
    sbom_job, sbom_uploads = None, []
    for job in pipeline.jobs.values():
        outputs = [s.output for s in workflow.trivy_scans(job) if s.fmt.lower() in SBOM_FORMATS and s.output]
        self_uploading = [s for s in job.steps_using("anchore/sbom-action") if s.input("upload-artifact", True)
                          not in (False, "false")]
        if outputs or self_uploading or job.runs_command(r"\bsyft\b"):
            sbom_job = job
            sbom_uploads = self_uploading + [s for s in _uploads(job) if any(_covers(s, o) for o in outputs)]
            if sbom_uploads:
                break
    found["SBOM"] = (
        sbom_job, sbom_uploads,
        "generate an SBOM of the image (Trivy with format: cyclonedx, or anchore/sbom-action) and upload it",
    )
    scan_job, scan_uploads = None, []
    for job in pipeline.jobs.values():
        outputs = [s.output for s in workflow.trivy_scans(job) if s.output and s.fmt.lower() not in SBOM_FORMATS]
        if outputs:
            scan_job = job
            scan_uploads = [s for s in _uploads(job) if any(_covers(s, o) for o in outputs)]
            if scan_uploads:
                break
    found["scan results"] = (scan_job, scan_uploads,
                             "write Trivy's findings to a file (output: reports/trivy-image.sarif) and upload it")
    deploy = next(iter(pipeline.jobs_where(workflow.is_deploy)), None)
    release = [s for s in _uploads(deploy) if "release" in f"{s.input('name', '')} {s.input('path', '')}".lower()] \
        if deploy else []
    found["release record"] = (deploy, release,
                               "write a release record (commit, image digest, approver, run URL) in the deploy job "
                               "and upload it as an artefact named release-record-<sha>")
    return found


@check(points=6, name="Audit evidence is uploaded as artefacts, named by commit, with a retention period",
       section=sections.EVIDENCE)
def test_evidence_uploaded(pipeline: Workflow, submission: Submission, checklist: Checklist) -> None:
    evidence = _evidence(pipeline)
    uploads: list[tuple[Job, Step]] = []
    for kind, (job, steps, fix) in evidence.items():
        checklist.require(steps, f"{kind} is not uploaded as an artefact: {fix}",
                          pipeline.job_line(submission, job.id) if job else pipeline.path)
        uploads += [(job, s) for s in steps if job is not None]
    unretained = [(j, s) for j, s in uploads if s.input("retention-days") in (None, "")]
    checklist.require(
        uploads and not unretained,
        "set `retention-days:` on every evidence upload so the audit trail's lifetime is a decision, not a default"
        + (f" (missing in job '{unretained[0][0].id}', step '{unretained[0][1].label}')" if unretained else ""),
        pipeline.job_line(submission, unretained[0][0].id, "steps", unretained[0][1].index) if unretained else None,
    )
    # The run an auditor asks about is the failed one: evidence of a failing step must still be uploaded.
    skipped_on_failure = [
        (kind, job, s) for kind in RUNS_AFTER_FAILURE for job, steps, _ in [evidence[kind]] if job is not None
        for s in steps if not scenarios.step_runs_after_failure(s)
    ]
    checklist.require(
        not skipped_on_failure,
        (f"the {skipped_on_failure[0][0]} upload in job '{skipped_on_failure[0][1].id}' "
         f"(step '{skipped_on_failure[0][2].label}') has no `if: always()`: a step is skipped once a step before it "
         "failed, so a failing test or scan run leaves no evidence; add `if: always()` (or `!cancelled()`)")
        if skipped_on_failure else "",
        pipeline.job_line(submission, skipped_on_failure[0][1].id, "steps", skipped_on_failure[0][2].index)
        if skipped_on_failure else None,
    )
    unnamed = [(j, s) for j, s in uploads if not NAMED_BY_COMMIT.search(str(s.input("name", "")))]
    checklist.require(
        uploads and not unnamed,
        "name every evidence artefact by commit (e.g. `name: test-results-${{ github.sha }}`) so an auditor can find "
        "the evidence of a release" + (f" (job '{unnamed[0][0].id}', step '{unnamed[0][1].label}')" if unnamed else ""),
        pipeline.job_line(submission, unnamed[0][0].id, "steps", unnamed[0][1].index) if unnamed else None,
    )


@check(points=6, name="Deploy runs only from main, into the protected staging environment",
       section=sections.GOVERNANCE)
def test_deploy_gated(deploy_job: Job, pipeline: Workflow, submission: Submission, checklist: Checklist) -> None:
    require_severe(
        checklist,
        deploy_job.environment == "staging",
        f"deploy job '{deploy_job.id}' must run in the `staging` environment (`environment: staging`), whose "
        f"required reviewers approve each deploy (it has: {deploy_job.environment or 'no environment'})",
        pipeline.job_line(submission, deploy_job.id, "environment"),
    )
    where = pipeline.job_line(submission, deploy_job.id, "if")
    on_main = scenarios.job_runs(pipeline, deploy_job, scenarios.PUSH_MAIN)
    checklist.require(
        on_main is True,
        f"deploy job '{deploy_job.id}' would not run for a push to main"
        + (" (its condition uses values the grader cannot know; compare github.ref with 'refs/heads/main')"
           if on_main is UNKNOWN else " (check its `if:`, its `needs:` and the workflow's `on:` triggers)"),
        where,
    )
    leaks = []
    for scenario in (scenarios.PUSH_BRANCH, scenarios.PULL_REQUEST, scenarios.DISPATCH_BRANCH):
        runs = scenarios.job_runs(pipeline, deploy_job, scenario)
        if runs is not False:
            leaks.append(scenario.description + (" (cannot tell)" if runs is UNKNOWN else ""))
    require_severe(
        checklist,
        not leaks,
        f"deploy job '{deploy_job.id}' also runs for {', '.join(leaks)}: limit it to main with "
        "`if: github.event_name == 'push' && github.ref == 'refs/heads/main'`",
        where,
    )
