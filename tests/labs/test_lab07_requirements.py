"""Lab 07 checks that judge what the configuration does, tested both ways: force_destroy evaluated for
production, lifecycle rules by the objects they match, names per region, IAM by where and to whom,
and the known policy inputs each needing their own rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders.lab07 import bucket_safety, rego, tf_values
from graders.lab07.policy_cases import load_cases
from graders.lab07.project import TerraformProject, load_project
from graders.sdk import Submission

KIT = Path(__file__).resolve().parents[2]
REFERENCE = KIT / "reference_solution"
INSTRUCTOR_POLICIES = KIT / "graders" / "lab07" / "policies"
MODULE_MAIN = "terraform/modules/gcs/main.tf"
ROOT_MAIN = "terraform/main.tf"
NONCURRENT_CONDITION = (
    'days_since_noncurrent_time = var.noncurrent_version_retention_days\n      with_state                 = "ARCHIVED"'
)


def _project(tmp_path: Path, edits: dict[str, tuple[str, str]] | None = None) -> TerraformProject:
    root = tmp_path / "submission"
    shutil.copytree(REFERENCE / "terraform", root / "terraform")
    for path, (old, new) in (edits or {}).items():
        target = root / path
        text = target.read_text(encoding="utf-8")
        assert old in text, f"{path} no longer contains {old!r}"
        target.write_text(text.replace(old, new), encoding="utf-8")
    return load_project(Submission(root))


def _all_problems(project: TerraformProject) -> list[tuple[str, str]]:
    return [
        *bucket_safety.force_destroy_problems(project),
        *bucket_safety.lifecycle_problems(project),
        *bucket_safety.region_name_problems(project),
        *bucket_safety.iam_problems(project),
    ]


# -- expression values ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "variables", "expected"),
    [
        ("${!var.deletion_protection}", {"deletion_protection": True}, False),
        ('${var.environment != "prod"}', {"environment": "prod"}, False),
        ('${var.environment == "staging" ? true : false}', {"environment": "staging"}, True),
        ("${var.a || var.b}", {"a": False}, tf_values.UNKNOWN),
        ("${var.a || var.b}", {"b": True}, True),
        ("${var.a && var.b}", {"a": False}, False),
        (True, {}, True),
        ("${length(var.x) > 0}", {"x": []}, tf_values.UNKNOWN),
        ("${var.missing}", {}, tf_values.UNKNOWN),
    ],
)
def test_expression_values(value: object, variables: dict, expected: object) -> None:
    assert tf_values.evaluate(value, variables) == expected


# -- the reference and the lab's variants pass -------------------------------------------------------
def test_reference_has_no_bucket_problem(tmp_path: Path) -> None:
    assert _all_problems(_project(tmp_path)) == []


@pytest.mark.parametrize(
    "edits",
    [
        # staging-only force_destroy written as a comparison instead of the negated flag
        {
            ROOT_MAIN: (
                "force_destroy        = !var.deletion_protection",
                'force_destroy        = var.environment != "prod"',
            )
        },
        # noncurrent versions expired by count instead of by age
        {MODULE_MAIN: ("days_since_noncurrent_time = var.noncurrent_version_retention_days", "num_newer_versions = 3")},
        # a validation that refuses public members mentions them without granting anything
        {
            "terraform/modules/gcs/variables.tf": (
                'description = "IAM members (serviceAccount:..., group:...) that read and write objects."',
                'description = "IAM members that read and write objects (never allUsers)."',
            )
        },
    ],
    ids=["force-destroy-by-environment", "lifecycle-by-version-count", "public-member-in-description"],
)
def test_correct_variants_pass(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> None:
    assert _all_problems(_project(tmp_path, edits)) == []


# -- realistic mistakes fail with feedback that names the fix ----------------------------------------
@pytest.mark.parametrize(
    ("edits", "judge", "says"),
    [
        (
            {ROOT_MAIN: ("force_destroy        = !var.deletion_protection", "force_destroy        = true")},
            bucket_safety.force_destroy_problems,
            "force_destroy",
        ),
        (
            {MODULE_MAIN: ("force_destroy = var.force_destroy", "force_destroy = true")},
            bucket_safety.force_destroy_problems,
            "terraform destroy",
        ),
        (
            {
                MODULE_MAIN: (
                    NONCURRENT_CONDITION,
                    'age        = 30\n      with_state = "ANY"',
                )
            },
            bucket_safety.lifecycle_problems,
            "live version",
        ),
        (
            {
                ROOT_MAIN: (
                    "name_prefix          = local.region_prefix[each.key]",
                    'name_prefix          = "mfgcp-prod"',
                )
            },
            bucket_safety.region_name_problems,
            "same in every region",
        ),
        (
            {
                ROOT_MAIN: (
                    "name_prefix          = local.region_prefix[each.key]",
                    "name_prefix          = local.name_prefix",
                )
            },
            bucket_safety.region_name_problems,
            "global",
        ),
        (
            {
                "terraform/iam.tf": (
                    '"roles/cloudtrace.agent",',
                    '"roles/cloudtrace.agent",\n    "roles/storage.objectViewer",',
                )
            },
            bucket_safety.iam_problems,
            "on the whole project",
        ),
        (
            {
                ROOT_MAIN: (
                    '  object_admin_members = ["serviceAccount:${google_service_account.copilot.email}"]\n',
                    '  object_admin_members = ["serviceAccount:${google_service_account.copilot.email}"]\n'
                    '  object_viewer_members = ["allAuthenticatedUsers"]\n',
                )
            },
            bucket_safety.iam_problems,
            "allAuthenticatedUsers",
        ),
        (
            {"terraform/environments/prod.tfvars": ("deletion_protection = true", "deletion_protection = false")},
            bucket_safety.force_destroy_problems,
            "prod",
        ),
    ],
    ids=[
        "root-force-destroy",
        "module-force-destroy",
        "lifecycle-by-age",
        "fixed-name",
        "environment-prefix",
        "storage-role-on-project",
        "any-google-account",
        "prod-protection-off",
    ],
)
def test_realistic_mistakes_fail(tmp_path: Path, edits: dict[str, tuple[str, str]], judge: object, says: str) -> None:
    problems = judge(_project(tmp_path, edits))  # type: ignore[operator]
    assert problems, "the mistake was not found"
    assert says in problems[0][0]


# -- known policy inputs: each bad case needs the rule of its own topic ---------------------------------
def _instructor() -> list[rego.PolicyFile]:
    return [rego.PolicyFile(p.name, p.read_text(encoding="utf-8")) for p in sorted(INSTRUCTOR_POLICIES.glob("*.rego"))]


@pytest.mark.parametrize("case", [c for c in load_cases() if c.expect == "deny"], ids=lambda c: c.name)
def test_bad_input_breaks_its_topic_only(case: object) -> None:
    """No rule is masked by another: a bad case denied for another topic would pass a policy set lacking its rule."""
    verdicts = rego.RegorusEngine().evaluate(_instructor(), [(i.name, i.document) for i in case.inputs])  # type: ignore[attr-defined]
    for verdict in verdicts:
        topics = {message.split("]", 1)[0].lstrip("[") for message in verdict.failures}
        assert topics == {case.topic}, f"{verdict.input_name}: denied for {sorted(topics)}, expected only {case.topic}"  # type: ignore[attr-defined]


def test_regorus_rules_are_queried_one_by_one() -> None:
    """regorus 0.13's whole-namespace query drops deny messages that a per-rule query returns."""
    policies = [
        rego.PolicyFile(str(p), p.read_text(encoding="utf-8"))
        for p in sorted((REFERENCE / "policy").rglob("*.rego"))
        if not p.name.endswith("_test.rego")
    ]
    case = next(c for c in load_cases() if c.name == "labels_missing_cost_center")
    verdicts = rego.RegorusEngine().evaluate(policies, [(i.name, i.document) for i in case.inputs])
    assert all(v.failures for v in verdicts), [v.input_name for v in verdicts if not v.failures]
