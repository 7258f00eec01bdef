"""Lab 07: checkov's Terraform checks, curated for what the lab builds."""

from __future__ import annotations

from graders.lab07 import sections
from graders.lab07.checkov_scan import scan
from graders.lab07.project import TERRAFORM_DIR, TerraformProject, require_assignment
from graders.sdk import Submission, check, fail, skip


@check(
    points=5, name="checkov finds no problem in the curated Terraform checks", section=sections.MODULES, timeout=90
)
def test_checkov(submission: Submission, project: TerraformProject) -> None:
    require_assignment(project)
    try:
        import checkov  # noqa: F401
    except ImportError:
        skip("checkov is not installed where the grader runs (pip install checkov), so this check could not run")
    files = {path: submission.read_text(path) for path in project.documents if path.endswith((".tf", ".tfvars"))}
    report = scan(files, TERRAFORM_DIR)
    if report.parsing_errors:
        fail(f"checkov could not parse {', '.join(report.parsing_errors)}", report.parsing_errors[0])
    if report.failed:
        shown = "; ".join(f"{f.check_id} ({f.check_name}) on {f.resource} at {f.location}" for f in report.failed[:6])
        more = f" (and {len(report.failed) - 6} more)" if len(report.failed) > 6 else ""
        fail(f"{len(report.failed)} checkov finding(s): {shown}{more}", report.failed[0].location)
