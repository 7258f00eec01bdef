"""Unit tests of the Lab 05 grader's helpers: the Actions expression evaluator, matrix expansion and
check names, Trivy invocations and the trigger/condition scenarios."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.lab05 import scenarios, workflow
from graders.lab05.expressions import UNKNOWN, ExpressionError, condition_holds, evaluate
from graders.lab05.workflow import Job, Step, Workflow
from graders.sdk import find_tool

REFERENCE = Path(__file__).resolve().parents[2] / "reference_solution"
PUSH_MAIN = scenarios.PUSH_MAIN.context()
PR = scenarios.PULL_REQUEST.context()


# -- expressions -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "context", "expected"),
    [
        ("github.ref == 'refs/heads/main'", PUSH_MAIN, True),
        ("${{ github.ref == 'refs/heads/main' }}", PR, False),
        ("github.event_name == 'push' && github.ref == 'refs/heads/main'", PUSH_MAIN, True),
        ("github.event_name == 'push' && github.ref == 'refs/heads/main'", PR, False),
        ("github.ref_name == 'MAIN'", PUSH_MAIN, True),  # string comparison ignores case
        ("startsWith(github.ref, 'refs/heads/')", PR, False),
        ("contains(fromJSON('[\"push\", \"schedule\"]'), github.event_name)", PUSH_MAIN, True),
        ("!(github.event_name == 'pull_request')", PR, False),
        ("github.event.pull_request.base.ref == 'main'", PR, True),
        ("github.event.pull_request == null", PUSH_MAIN, True),
        ("always() && github.ref == 'refs/heads/main'", PUSH_MAIN, True),
        ("failure()", PUSH_MAIN, False),
        ("vars.DEPLOY_ENABLED == 'true'", PUSH_MAIN, UNKNOWN),
        ("vars.DEPLOY_ENABLED == 'true' && github.event_name == 'pull_request'", PUSH_MAIN, False),
        ("vars.DEPLOY_ENABLED == 'true' || github.ref == 'refs/heads/main'", PUSH_MAIN, True),
        ("github.actor == 'jrivera-mfg'", PUSH_MAIN, UNKNOWN),
        ("format('{0}-{1}', 'a', 'b') == 'a-b'", PUSH_MAIN, True),
        ("1 < 2 && '3' == 3", PUSH_MAIN, True),
    ],
)
def test_condition_holds(expression: str, context: dict[str, Any], expected: object) -> None:
    assert condition_holds(expression, context) is expected


def test_or_returns_an_operand_like_actions() -> None:
    assert evaluate("github.head_ref || github.ref", PR) == "feature/new-prompt"
    assert evaluate("github.head_ref || github.ref", PUSH_MAIN) == "refs/heads/main"


@pytest.mark.parametrize("broken", ["github.ref ==", "(github.ref", "github.ref = 'x'", "'unterminated"])
def test_broken_expressions_raise(broken: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(broken, PUSH_MAIN)


# -- matrices and check names ------------------------------------------------------------------------
def test_expand_matrix_follows_include_and_exclude() -> None:
    matrix = {
        "os": ["ubuntu-24.04", "windows-2022"],
        "python": ["3.10", "3.11"],
        "exclude": [{"os": "windows-2022", "python": "3.10"}],
        "include": [{"os": "ubuntu-24.04", "coverage": True}, {"os": "macos-14", "python": "3.11"}],
    }
    assert workflow.expand_matrix(matrix) == [
        {"os": "ubuntu-24.04", "python": "3.10", "coverage": True},
        {"os": "ubuntu-24.04", "python": "3.11", "coverage": True},
        {"os": "windows-2022", "python": "3.11"},
        {"os": "macos-14", "python": "3.11"},
    ]
    assert workflow.expand_matrix("${{ fromJSON(needs.plan.outputs.matrix) }}") is None


def _job(raw: dict[str, Any], job_id: str = "test") -> Job:
    return Job(job_id, raw, [Step(i, s) for i, s in enumerate(raw.get("steps", []))])


def test_check_names_match_what_github_reports() -> None:
    matrix = {"strategy": {"matrix": {"python": ["3.10", "3.11"], "os": ["ubuntu-24.04"]}}}
    assert workflow.check_names(_job(matrix)) == ["test (3.10, ubuntu-24.04)", "test (3.11, ubuntu-24.04)"]
    named = {**matrix, "name": "unit (py${{ matrix.python }}) on ${{ matrix.os }}"}
    assert workflow.check_names(_job(named))[0] == "unit (py3.10) on ubuntu-24.04"
    assert workflow.check_names(_job({"name": "deploy ${{ inputs.env }}"})) == ["deploy *"]
    assert workflow.check_names(_job({})) == ["test"]


# -- Trivy ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("step", "kind", "gates"),
    [
        ({"uses": "aquasecurity/trivy-action@x", "with": {"image-ref": "img", "severity": "HIGH,CRITICAL",
                                                          "exit-code": "1"}}, "image", True),
        ({"uses": "aquasecurity/trivy-action@x", "with": {"image-ref": "img", "severity": "CRITICAL"}}, "image",
         False),
        ({"uses": "aquasecurity/trivy-action@x", "with": {"scan-type": "config", "severity": "CRITICAL",
                                                          "exit-code": 1}}, "iac", True),
        ({"uses": "aquasecurity/trivy-action@x", "continue-on-error": True,
          "with": {"scan-type": "config", "severity": "CRITICAL", "exit-code": "1"}}, "iac", False),
        ({"run": "trivy image --exit-code 1 --severity CRITICAL \\\n  registry/app:1.0"}, "image", True),
        ({"run": "trivy fs --scanners misconfig --severity=CRITICAL --exit-code=1 ."}, "iac", True),
        ({"run": "trivy fs --scanners vuln --exit-code 1 --severity CRITICAL ."}, "other", True),
    ],
)
def test_trivy_invocations(step: dict[str, Any], kind: str, gates: bool) -> None:
    (scan,) = workflow.trivy_scans(_job({"steps": [step]}, "scan"))
    assert scan.kind == kind
    assert scan.fails_on_critical is gates


def test_parse_uses() -> None:
    ref = workflow.parse_uses("github/codeql-action/upload-sarif@" + "a" * 40)
    assert ref is not None and ref.name == "github/codeql-action/upload-sarif" and ref.pinned and ref.first_party
    assert workflow.parse_uses("./.github/actions/setup") is None
    short = workflow.parse_uses("aquasecurity/trivy-action@ed142fd")
    assert short is not None and not short.pinned and not short.first_party


# -- scenarios ---------------------------------------------------------------------------------------------
def _workflow(text: str) -> Workflow:
    raw = yaml.safe_load(text)
    jobs = {jid: _job(job, jid) for jid, job in raw["jobs"].items()}
    return Workflow("w.yml", raw, jobs)


def test_triggers_and_needs_decide_whether_a_job_runs() -> None:
    flow = _workflow(
        """
on:
  push: {branches: [main, "release/**"]}
  pull_request:
jobs:
  gate: {if: "github.event_name == 'pull_request'", runs-on: x, steps: []}
  test: {runs-on: x, steps: []}
  deploy: {needs: [test], if: "github.ref == 'refs/heads/main'", runs-on: x, steps: []}
  after-gate: {needs: [gate], runs-on: x, steps: []}
  cleanup: {needs: [gate], if: "${{ always() }}", runs-on: x, steps: []}
"""
    )
    runs = {s.id: {j: scenarios.job_runs(flow, flow.jobs[j], s) for j in flow.jobs} for s in scenarios.ALL}
    assert runs["push-main"] == {"gate": False, "test": True, "deploy": True, "after-gate": False, "cleanup": True}
    assert runs["push-branch"]["test"] is False  # push is limited to main and release/**
    assert runs["pull-request"] == {"gate": True, "test": True, "deploy": False, "after-gate": True, "cleanup": True}
    assert not any(runs["dispatch-branch"].values())  # no workflow_dispatch trigger


# -- the reference workflows, validated by the real tool directly --------------------------------------
def test_reference_workflows_pass_the_workflow_schema() -> None:
    tool = find_tool("check-jsonschema") or shutil.which("check-jsonschema")
    assert tool, "check-jsonschema is a kit dependency"
    files = sorted(str(p) for p in (REFERENCE / ".github" / "workflows").glob("*.yml"))
    assert any(f.endswith("main.yml") for f in files)
    result = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", *files],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    dependabot = REFERENCE / ".github" / "dependabot.yml"
    result = subprocess.run([tool, "--builtin-schema", "vendor.dependabot", str(dependabot)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
