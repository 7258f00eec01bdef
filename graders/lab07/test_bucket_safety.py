"""Lab 07: what the documents bucket does with the plant's data in production.

Judged on values, not text: force_destroy as production's variables make it, lifecycle rules by the
objects their condition matches, names by whether they differ per region, IAM by where it is
granted and to whom (see :mod:`graders.lab07.bucket_safety`).
"""

from __future__ import annotations

from graders.lab07 import bucket_safety, sections
from graders.lab07.project import TerraformProject, require_assignment
from graders.sdk import check, fail


def _fail_on(problems: list[tuple[str, str]]) -> None:
    if problems:
        fail("; ".join(message for message, _ in problems), problems[0][1])


@check(
    points=6,
    name="Production documents cannot be deleted by Terraform or a lifecycle rule",
    section=sections.LAB,
    assignment=True,
)
def test_bucket_not_destroyable(project: TerraformProject) -> None:
    require_assignment(project)
    _fail_on(bucket_safety.force_destroy_problems(project) + bucket_safety.lifecycle_problems(project))


@check(points=3, name="Bucket names differ per region (they are global)", section=sections.LAB, assignment=True)
def test_bucket_names_per_region(project: TerraformProject) -> None:
    require_assignment(project)
    _fail_on(bucket_safety.region_name_problems(project))


@check(
    points=6,
    name="Storage access is granted on the bucket, never to everyone or on the project",
    section=sections.LAB,
)
def test_bucket_access(project: TerraformProject) -> None:
    require_assignment(project)
    _fail_on(bucket_safety.iam_problems(project))
