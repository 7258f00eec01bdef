"""Lab 07 policy-as-code checks: the instructor's policies on the student's configuration, the
student's own policies on their configuration and on known inputs, and their Rego unit tests."""

from __future__ import annotations

from typing import Any

from graders.lab07 import sections
from graders.lab07.policy_cases import PolicyCase, topics
from graders.lab07.project import STUDENT_POLICY_DIR, TERRAFORM_DIR, TerraformProject, require_assignment
from graders.lab07.rego import PolicyError, PolicyFile, RegoEngine, Verdict
from graders.lab07.resolve import resolve_locals
from graders.sdk import check, fail, partial

SECTION = sections.POLICY


def _project_inputs(project: TerraformProject) -> list[tuple[str, Any]]:
    """Every .tf and .tfvars file in conftest's HCL2 shape, as `conftest test terraform/` reads them."""
    return [(path, doc.data) for path, doc in sorted(project.documents.items()) if path.endswith((".tf", ".tfvars"))]


def _resolved_inputs(project: TerraformProject) -> list[tuple[str, Any]]:
    """The same files with their module's local values substituted (what Terraform would build)."""
    inputs = _project_inputs(project)
    resolved = resolve_locals(dict(inputs))
    return [(path, resolved[path]) for path, _ in inputs]


def _evaluate(
    engine: RegoEngine, policies: list[PolicyFile], inputs: list[tuple[str, Any]], owner: str
) -> list[Verdict]:
    try:
        return engine.evaluate(policies, inputs)
    except PolicyError as exc:
        fail(
            f"{owner} could not be evaluated ({engine.name}): {exc}",
            STUDENT_POLICY_DIR if owner == "Your policies" else None,
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _require_policies(policies: list[PolicyFile]) -> None:
    if not policies:
        fail(
            f"No .rego files under {STUDENT_POLICY_DIR}/: write the lab's policies there (package main, deny rules)",
            STUDENT_POLICY_DIR,
        )


@check(points=10, name="The instructor's policies pass on your configuration", section=SECTION)
def test_instructor_policies(
    project: TerraformProject, rego_engine: RegoEngine, instructor_policies: list[PolicyFile]
) -> None:
    require_assignment(project)
    verdicts = _evaluate(rego_engine, instructor_policies, _resolved_inputs(project), "The instructor's policies")
    denied = [(v.input_name, msg) for v in verdicts for msg in v.failures]
    if denied:
        shown = "; ".join(f"{path}: {msg}" for path, msg in denied[:6])
        more = f" (and {len(denied) - 6} more)" if len(denied) > 6 else ""
        fail(f"{len(denied)} policy violation(s) in {TERRAFORM_DIR}/: {shown}{more}", denied[0][0])


@check(points=4, name="Your policies pass on your own configuration", section=SECTION)
def test_student_policies_pass(
    project: TerraformProject, rego_engine: RegoEngine, student_policies: list[PolicyFile]
) -> None:
    _require_policies(student_policies)
    require_assignment(project)
    verdicts = _evaluate(rego_engine, student_policies, _project_inputs(project), "Your policies")
    denied = [(v.input_name, msg) for v in verdicts for msg in v.failures]
    if denied:
        shown = "; ".join(f"{path}: {msg}" for path, msg in denied[:5])
        fail(
            f"`conftest test {TERRAFORM_DIR} -p {STUDENT_POLICY_DIR}` would fail: {shown}. Fix the configuration, "
            "or the policy if it is wrong",
            denied[0][0],
        )


@check(
    points=10,
    name="Your policies deny known-bad inputs and allow known-good ones (HCL and plan JSON)",
    section=SECTION,
    assignment=True,
)
def test_student_policies_discriminate(
    rego_engine: RegoEngine, student_policies: list[PolicyFile], policy_cases: list[PolicyCase]
) -> None:
    _require_policies(student_policies)
    inputs = [(f"{case.name}|{item.name}", item.document) for case in policy_cases for item in case.inputs]
    verdicts = {v.input_name: v for v in _evaluate(rego_engine, student_policies, inputs, "Your policies")}
    missed, wrongly_denied = [], []
    bad = [c for c in policy_cases if c.expect == "deny"]
    good = [c for c in policy_cases if c.expect == "allow"]
    caught = 0
    for case in bad:
        silent = [i for i in case.inputs if not verdicts[f"{case.name}|{i.name}"].failures]
        if silent:
            shapes = " and ".join(sorted({i.shape for i in silent}))
            missed.append(f"{case.what} [{case.topic}] ({shapes})")
        else:
            caught += 1
    denied_good = 0
    for case in good:
        hits = [(i, verdicts[f"{case.name}|{i.name}"].failures) for i in case.inputs]
        hits = [(i, f) for i, f in hits if f]
        if hits:
            denied_good += 1
            item, failures = hits[0]
            wrongly_denied.append(f'{case.what} ({item.shape}): "{failures[0]}"')
    fraction = (caught / len(bad)) * (1 - denied_good / len(good))
    if fraction >= 1.0:
        return
    parts = []
    if missed:
        names = topics()
        wanted = sorted({c.topic for c in bad if any(c.what in m for m in missed)})
        parts.append(f"Not denied: {'; '.join(missed)}. Rules to cover: {'; '.join(names.get(t, t) for t in wanted)}")
    if wrongly_denied:
        parts.append(f"Denied although compliant: {'; '.join(wrongly_denied)}")
    partial(fraction, ". ".join(parts), STUDENT_POLICY_DIR)


@check(points=5, name="Your Rego unit tests pass (conftest verify)", section=SECTION, assignment=True)
def test_rego_unit_tests(rego_engine: RegoEngine, student_policies: list[PolicyFile]) -> None:
    _require_policies(student_policies)
    try:
        outcomes = rego_engine.run_tests(student_policies)
    except PolicyError as exc:
        fail(f"Your policies could not be tested ({rego_engine.name}): {exc}", STUDENT_POLICY_DIR)
    ran = [o for o in outcomes if o.status != "skipped"]
    if not ran:
        fail(
            f"No Rego unit tests: add test_* rules in {STUDENT_POLICY_DIR}/*_test.rego that run your deny rules "
            "on inputs that must and must not be denied",
            STUDENT_POLICY_DIR,
        )
    failed = [o for o in ran if o.status != "passed"]
    if failed:
        listed = "; ".join(f"data.{o.package}.{o.name}" + (f" ({o.detail})" if o.detail else "") for o in failed[:8])
        more = f" and {len(failed) - 8} more" if len(failed) > 8 else ""
        # A failing test fails `conftest verify` in CI: at most half the points, scaled by the passing share.
        partial(
            0.5 * (len(ran) - len(failed)) / len(ran),
            f"{len(failed)} of {len(ran)} Rego unit tests fail: {listed}{more}",
            STUDENT_POLICY_DIR,
        )
