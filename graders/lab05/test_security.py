"""Lab 05 security checks: token permissions, keyless cloud auth, pinned actions and the Trivy gates."""

from __future__ import annotations

import re
from typing import Any

from graders.lab05 import sections, workflow
from graders.lab05.severity import require_severe
from graders.lab05.workflow import Job, Workflow
from graders.sdk import Checklist, Submission, check, fail, partial

# Long-lived credentials that must never reach a workflow: JSON keys, key files, keys passed as secrets.
KEY_PATTERNS = (
    (re.compile(r"^\s*credentials_json\s*:", re.MULTILINE), "`credentials_json:` (a service-account JSON key)"),
    (re.compile(r"--key-file\b"), "`gcloud auth activate-service-account --key-file` (a JSON key)"),
    (re.compile(r"GOOGLE_APPLICATION_CREDENTIALS\s*:\s*\$\{\{\s*secrets\."), "a key file from a secret"),
    (re.compile(r"secrets\.[A-Z0-9_]*(SA_KEY|SERVICE_ACCOUNT_KEY|SERVICE_ACCOUNT_JSON|GCP_KEY|JSON_KEY|"
                r"GCP_CREDENTIALS|GOOGLE_CREDENTIALS)\b", re.IGNORECASE), "a service-account key stored as a secret"),
    (re.compile(r'"private_key"\s*:'), "an embedded private key"),
)
SECRET_MANAGER_ACTION = "google-github-actions/get-secretmanager-secrets"
SARIF_UPLOAD = "github/codeql-action/upload-sarif"
# Write scopes this pipeline can justify, and the step that justifies each.
JUSTIFIED_WRITES = {
    "id-token": ("an OIDC login step (google-github-actions/auth)", workflow.OIDC_ACTIONS),
    "security-events": ("a SARIF upload (github/codeql-action/upload-sarif)", (SARIF_UPLOAD,)),
}


def _effective(job: Job, pipeline: Workflow) -> object:
    return job.permissions if job.permissions is not None else pipeline.permissions


@check(points=6, name="Token permissions are least-privilege and granted per job", section=sections.OIDC)
def test_permissions_scoped(pipeline: Workflow, submission: Submission, checklist: Checklist) -> None:
    top = pipeline.permissions
    line = submission.yaml_line(pipeline.path, ["permissions"])
    top_where = f"{pipeline.path}:{line}" if line else pipeline.path
    if top is None:
        fail(
            f"{pipeline.path} has no workflow-level `permissions:`, so every job gets the repository's default "
            "token (read-write in many repositories): set `permissions: {}` (or `contents: read`) and grant write "
            "scopes only on the jobs that need them",
            top_where,
        )
    top_writes = workflow.write_scopes(top)
    granted = "write-all" if "*" in top_writes else ", ".join(sorted(top_writes))
    require_severe(
        checklist,
        not top_writes,
        f"workflow-level `permissions:` grants write access ({granted}): keep the default read-only and grant "
        "write scopes only to the job that needs them",
        top_where,
    )
    for job in pipeline.jobs.values():
        writes = workflow.write_scopes(job.permissions)
        where = pipeline.job_line(submission, job.id, "permissions")
        if "*" in writes:
            require_severe(checklist, False, f"job '{job.id}' uses `permissions: write-all`: list only the scopes "
                           "it needs", where)
            continue
        for scope in sorted(writes):
            if scope in JUSTIFIED_WRITES:
                need, actions = JUSTIFIED_WRITES[scope]
                require_severe(
                    checklist,
                    bool(job.steps_using(*actions)),
                    f"job '{job.id}' has `{scope}: write` but no {need}: remove it from this job",
                    where,
                )
            else:
                require_severe(checklist, False, f"job '{job.id}' has `{scope}: write`, which this pipeline does "
                               "not need", where)


@check(points=7, name="GCP access through OIDC and Workload Identity Federation, no keys",
       section=sections.OIDC)
def test_oidc_no_keys(pipeline: Workflow, submission: Submission, checklist: Checklist) -> None:
    auth_jobs = [
        (job, step) for job in pipeline.jobs.values() for step in job.steps_using("google-github-actions/auth")
    ]
    if not auth_jobs:
        fail(
            "no step authenticates to Google Cloud: in the deploy job, use google-github-actions/auth with "
            "`workload_identity_provider` and `service_account` (Workload Identity Federation, no JSON key) and "
            "give that job `permissions: id-token: write`",
            pipeline.path,
        )
    for job, step in auth_jobs:
        where = pipeline.job_line(submission, job.id, "steps", step.index)
        require_severe(
            checklist,
            step.input("workload_identity_provider"),
            f"the google-github-actions/auth step of job '{job.id}' has no `workload_identity_provider`: federate "
            "the GitHub OIDC token instead of using a key",
            where,
        )
        granted_scopes = workflow.write_scopes(_effective(job, pipeline))
        checklist.require(
            bool({"id-token", "*"} & granted_scopes),
            f"job '{job.id}' authenticates with OIDC but lacks `permissions: id-token: write`, so GitHub will not "
            "issue it a token",
            pipeline.job_line(submission, job.id, "permissions"),
        )
    leaks = []
    for path in workflow.workflow_files(submission):
        text = submission.read_text(path)
        for pattern, what in KEY_PATTERNS:
            match = pattern.search(text)
            if match:
                line = text.count("\n", 0, match.start()) + 1
                leaks.append((f"{path}:{line}", what))
    require_severe(
        checklist,
        not leaks,
        "long-lived credentials in a workflow: " + "; ".join(f"{what} at {where}" for where, what in leaks)
        + ". Use Workload Identity Federation (no keys) instead",
        leaks[0][0] if leaks else None,
    )
    reads_secrets = any(
        job.steps_using(SECRET_MANAGER_ACTION) or job.runs_command(r"\bgcloud\s+secrets\s+versions\s+access\b")
        for job, _ in auth_jobs
    )
    checklist.require(
        reads_secrets,
        "read deploy-time secrets from GCP Secret Manager in the authenticated job "
        f"({SECRET_MANAGER_ACTION} or `gcloud secrets versions access`), not from repository secrets",
        pipeline.path,
    )


@check(points=5, name="Third-party actions are pinned to a full commit SHA", section=sections.WORKFLOW)
def test_actions_pinned(pipeline: Workflow, submission: Submission) -> None:
    third_party: list[tuple[str, str]] = []  # (reference, file:line)
    first_party: list[tuple[str, str]] = []
    any_third_party = False
    for job in pipeline.jobs.values():
        refs: list[tuple[Any, list[str | int]]] = [(s.raw.get("uses"), ["steps", s.index, "uses"]) for s in job.steps]
        refs.append((job.raw.get("uses"), ["uses"]))
        for value, keys in refs:
            where = pipeline.job_line(submission, job.id, *keys)
            if isinstance(value, str) and value.startswith("docker://") and "@sha256:" not in value:
                third_party.append((value, where))
            action = workflow.parse_uses(value)
            if action is not None and not action.first_party:
                any_third_party = True
            if action is not None and not action.pinned:
                (first_party if action.first_party else third_party).append((action.raw, where))
    advice = ("pin each to the full 40-character commit SHA of a release and keep the version as a comment, "
              "e.g. `uses: owner/action@<sha> # v1.2.3`; a tag or branch can be moved to malicious code")

    def listed(refs: list[tuple[str, str]]) -> str:
        return "; ".join(f"{ref} ({where})" for ref, where in refs)

    if third_party:
        fail(f"third-party actions are not pinned to a commit SHA: {listed(third_party)}. {advice}", third_party[0][1])
    if first_party and not any_third_party:
        fail(f"actions are referenced by tag: {listed(first_party)}. {advice} (GitHub's own actions included; the "
             "pipeline's third-party actions, Trivy and Google auth, need it most)", first_party[0][1])
    if first_party:
        partial(0.5, f"GitHub's own actions are referenced by tag: {listed(first_party)}. Tags can move; {advice} "
                "(half credit: the third-party actions are pinned)", first_party[0][1])


@check(points=7, name="Trivy scans the image and the IaC, fails on CRITICAL and uploads SARIF",
       section=sections.WORKFLOW)
def test_trivy_gates(pipeline: Workflow, submission: Submission, checklist: Checklist) -> None:
    scans = [scan for job in pipeline.jobs.values() for scan in workflow.trivy_scans(job)]
    if not scans:
        fail("no Trivy scan in the pipeline: add aquasecurity/trivy-action steps for the image (scan-type: image) "
             "and the IaC (scan-type: config)", pipeline.path)
    for kind, label in (("image", "the container image"), ("iac", "the IaC (Terraform, Kubernetes, Dockerfile)")):
        of_kind = [s for s in scans if s.kind == kind]
        checklist.require(of_kind, f"no Trivy scan of {label}: add one with scan-type: "
                          f"{'image' if kind == 'image' else 'config'}", pipeline.path)
        gating = [s for s in of_kind if s.fails_on_critical]
        example = of_kind[0] if of_kind else None
        where = pipeline.job_line(submission, example.job, "steps", example.step.index) if example else pipeline.path
        require_severe(
            checklist,
            gating and not any(pipeline.jobs[s.job].raw.get("continue-on-error") for s in gating),
            f"no Trivy scan of {label} fails the pipeline on CRITICAL findings: set `severity` to include CRITICAL "
            "and `exit-code: \"1\"` (the action's default exit code is 0), without continue-on-error",
            where,
        )
    sarif_jobs = {s.job for s in scans if s.fmt == "sarif" and s.output}
    uploaded = [jid for jid in sarif_jobs if pipeline.jobs[jid].steps_using(SARIF_UPLOAD)]
    checklist.require(
        uploaded,
        "write Trivy's results as SARIF (format: sarif, output: FILE) and upload them with "
        "github/codeql-action/upload-sarif in the same job, so findings appear in code scanning",
        pipeline.path,
    )
