"""Unit tests of the lab07 grader's parts: the HCL-to-conftest conversion, the Rego adapter, the
policies in both input shapes, the cost recomputation and the checkov curation."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from graders.lab07 import cost, rego
from graders.lab07.checkov_scan import CURATED_CHECKS, EXCLUDED_CHECKS, scan
from graders.lab07.hcl import HclSyntaxError, parse
from graders.lab07.policy_cases import load_cases
from graders.lab07.project import load_project
from graders.sdk import Submission

KIT = Path(__file__).resolve().parents[2]
REFERENCE = KIT / "reference_solution"
REFERENCE_POLICIES = REFERENCE / "policy"
INSTRUCTOR_POLICIES = KIT / "graders" / "lab07" / "policies"


def _policies(folder: Path) -> list[rego.PolicyFile]:
    return [
        rego.PolicyFile(str(p.relative_to(KIT)), p.read_text(encoding="utf-8")) for p in sorted(folder.rglob("*.rego"))
    ]


# -- HCL in conftest's input shape ---------------------------------------------------------------------
# tmccombs/hcl2json's own conversion test (convert/convert_test.go), in its current semantics: every
# block body is wrapped in a list, and source text that starts with a type keyword stays unwrapped.
HCL2JSON_INPUT = """
locals {
	test3 = 1 + 2
	test1 = "hello"
	test2 = 5
	arr = [1, 2, 3, 4]
	hyphen-test = 3
	temp = "${1 + 2} %{if local.test2 < 3}\\"4\\n\\"%{endif}"
	temp2 = "${"hi"} there"
		quoted = "\\"quoted\\""
		squoted = "'quoted'"
	x = -10
	y = -x
	z = -(1 + 4)
}

locals {
	other = {
		num = local.test2 + 5
		thing = [for x in local.arr: x * 2]
		"${local.test3}" = 4
		3 = 1
		"local.test1" = 89
		"a.b.c[\\"hi\\"][3].*" = 3
		loop = "This has a for loop: %{for x in local.arr}x,%{endfor}"
		a.b.c = "True"
	}
}

locals {
	heredoc = <<-EOF
		This is a heredoc template.
		It references ${local.other.3}
	EOF
	simple = "${4 - 2}"
	cond = test3 > 2 ? 1: 0
	heredoc2 = <<EOF
		Another heredoc, that
		doesn't remove indentation
		${local.other.3}
		%{if true ? false : true}"gotcha"\\n%{else}4%{endif}
	EOF
}

data "terraform_remote_state" "remote" {
	backend = "s3"

	config = {
		profile = var.profile
		region  = var.region
		bucket  = "mybucket"
		key     = "mykey"
	}
}

variable "profile" {}

variable "region" {
	default = "us-east-1"
}
"""

HCL2JSON_OUTPUT: dict[str, Any] = {
    "data": {
        "terraform_remote_state": {
            "remote": [
                {
                    "backend": "s3",
                    "config": {
                        "bucket": "mybucket",
                        "key": "mykey",
                        "profile": "${var.profile}",
                        "region": "${var.region}",
                    },
                }
            ]
        }
    },
    "locals": [
        {
            "arr": [1, 2, 3, 4],
            "hyphen-test": 3,
            "quoted": '"quoted"',
            "squoted": "'quoted'",
            "temp": '${1 + 2} %{if local.test2 < 3}"4\n"%{endif}',
            "temp2": "hi there",
            "test1": "hello",
            "test2": 5,
            "test3": "${1 + 2}",
            "x": -10,
            "y": "${-x}",
            "z": "${-(1 + 4)}",
        },
        {
            "other": {
                "${local.test3}": 4,
                "3": 1,
                "a.b.c": "True",
                'a.b.c["hi"][3].*': 3,
                "local.test1": 89,
                "loop": "This has a for loop: %{for x in local.arr}x,%{endfor}",
                "num": "${local.test2 + 5}",
                "thing": "${[for x in local.arr: x * 2]}",
            }
        },
        {
            "cond": "${test3 > 2 ? 1: 0}",
            "heredoc": "This is a heredoc template.\nIt references ${local.other.3}\n",
            "heredoc2": "\t\tAnother heredoc, that\n\t\tdoesn't remove indentation\n\t\t${local.other.3}\n"
            '\t\t%{if true ? false : true}"gotcha"\\n%{else}4%{endif}\n',
            "simple": "${4 - 2}",
        },
    ],
    "variable": {"profile": [{}], "region": [{"default": "us-east-1"}]},
}


def test_conversion_matches_hcl2json() -> None:
    assert parse(HCL2JSON_INPUT, "test.tf").data == HCL2JSON_OUTPUT


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('resource "a" "b" {\n  x = 1\n}\n', {"resource": {"a": {"b": [{"x": 1}]}}}),
        (
            'terraform {\n  backend "gcs" {\n    bucket = "s"\n  }\n}\n',
            {"terraform": [{"backend": {"gcs": [{"bucket": "s"}]}}]},
        ),
        ('provider "g" {\n  a = 1\n}\nprovider "g" {\n  a = 2\n}\n', {"provider": {"g": [{"a": 1}, {"a": 2}]}}),
        ('variable "v" {\n  type = map(string)\n}\n', {"variable": {"v": [{"type": "map(string)"}]}}),
        ("x = string\n", {"x": "string"}),
        ("x = setting.key\n", {"x": "setting.key"}),  # hcl2json's type-keyword prefix test, kept as it is
        ('x = "${var.a}"\n', {"x": "${var.a}"}),
        ('x = "${true}"\n', {"x": True}),
        ('x = "a-${var.b}-c"\n', {"x": "a-${var.b}-c"}),
        ('x = "a-${ var.b }"\n', {"x": "a-${var.b}"}),
        ("x = lower(var.a) # comment\n", {"x": "${lower(var.a)}"}),
        ("x = !true\n", {"x": False}),
        ("x = null\n", {"x": None}),
        ("x = 1.5\n", {"x": 1.5}),
        ('x = { a = var.b, "c" = 1 }\n', {"x": {"a": "${var.b}", "c": 1}}),
        ('x = "$${literal}"\n', {"x": "${literal}"}),
        (
            'm "a" {\n  dynamic "d" {\n    for_each = var.x\n    content {\n      v = d.value\n    }\n  }\n}\n',
            {"m": {"a": [{"dynamic": {"d": [{"content": [{"v": "${d.value}"}], "for_each": "${var.x}"}]}}]}},
        ),
    ],
)
def test_conversion_cases(source: str, expected: dict[str, Any]) -> None:
    assert parse(source, "case.tf").data == expected


def test_line_index_locates_blocks_and_attributes() -> None:
    doc = parse('variable "a" {\n  type = string\n}\n\nresource "t" "n" {\n  name = "x"\n}\n', "f.tf")
    assert doc.location("variable", "a") == "f.tf:1"
    assert doc.location("variable", "a", "type") == "f.tf:2"
    assert doc.location("resource", "t", "n", "name") == "f.tf:6"


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ('resource "a" "b" {\n  name = "x"\n', 1, "never closed"),
        ("a = 1\nb = \n", 2, "unexpected"),
        ('a = "unterminated\n', 1, "unexpected character"),
        ("a = 1\na = 2\n", 2, "set twice"),
    ],
)
def test_syntax_errors_name_file_and_line(source: str, line: int, words: str) -> None:
    with pytest.raises(HclSyntaxError) as error:
        parse(source, "terraform/bad.tf")
    assert error.value.line == line
    assert words in error.value.message
    assert str(error.value).startswith(f"terraform/bad.tf:{line}: ")


def test_every_reference_file_converts() -> None:
    project = load_project(Submission(REFERENCE))
    assert not project.errors and not project.unreadable
    assert len(project.documents) >= 25
    assert project.assignment_written()


# -- the Rego adapter and conftest's conventions -----------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ("deny", "failure"),
        ("violation", "failure"),
        ("deny_public_bucket", "failure"),
        ("violation_labels", "failure"),
        ("warn", "warning"),
        ("warn_versioning", "warning"),
        ("denied", None),
        ("deny_", None),
        ("test_deny", None),
        ("warning", None),
        ("allow", None),
    ],
)
def test_rule_names_follow_conftest(rule: str, kind: str | None) -> None:
    policy = rego.PolicyFile("p.rego", f'package main\nimport rego.v1\n{rule} contains "m" if input.x\n')
    verdict = rego.RegorusEngine().evaluate([policy], [("input", {"x": True})])[0]
    assert (verdict.failures, verdict.warnings) == {
        "failure": (["m"], []),
        "warning": ([], ["m"]),
        None: ([], []),
    }[kind]


def test_messages_as_conftest_reports_them() -> None:
    assert rego.messages({"b", "a"}, "deny") in (["a", "b"], ["b", "a"])
    assert rego.messages([{"msg": "with metadata", "details": {}}], "deny") == ["with metadata"]
    assert rego.messages(True, "deny_x") == ["deny_x is true"]
    assert rego.messages(None, "deny") == [] and rego.messages(False, "deny") == []


def test_only_the_namespace_is_evaluated() -> None:
    policies = [
        rego.PolicyFile("main.rego", 'package main\nimport rego.v1\ndeny contains "main" if true\n'),
        rego.PolicyFile("other.rego", 'package other\nimport rego.v1\ndeny contains "other" if true\n'),
    ]
    engine = rego.RegorusEngine()
    assert engine.evaluate(policies, [("i", {})])[0].failures == ["main"]
    assert engine.evaluate(policies, [("i", {})], namespace="other")[0].failures == ["other"]


def test_rego_v0_policies_are_accepted() -> None:
    policy = rego.PolicyFile("v0.rego", 'package main\ndeny[msg] {\n  input.public\n  msg := "public"\n}\n')
    assert rego.RegorusEngine().evaluate([policy], [("i", {"public": True})])[0].failures == ["public"]


def test_broken_policy_is_reported_with_file_and_line() -> None:
    policy = rego.PolicyFile(
        "policy/bad.rego", "package main\nimport rego.v1\ndeny contains msg if {\n  input.x ==\n}\n"
    )
    with pytest.raises(rego.PolicyError) as error:
        rego.RegorusEngine().evaluate([policy], [("i", {})])
    assert "policy/bad.rego:5" in str(error.value)
    assert "backtrace" not in str(error.value).lower()


def test_unit_tests_are_discovered_like_conftest_verify() -> None:
    policy = rego.PolicyFile(
        "t.rego",
        "package main\nimport rego.v1\n"
        'deny contains "x" if input.bad\n'
        'test_denies if { count(deny) == 1 with input as {"bad": true} }\n'
        "test_broken if { count(deny) == 1 with input as {} }\n"
        "todo_test_later if { false }\n"
        "helper(x) := x\n",
    )
    outcomes = {o.name: o.status for o in rego.RegorusEngine().run_tests([policy])}
    assert outcomes == {"test_denies": "passed", "test_broken": "failed", "todo_test_later": "skipped"}


def test_default_engine_prefers_conftest_then_opa(monkeypatch: pytest.MonkeyPatch) -> None:
    tools: dict[str, str | None] = {"conftest": "/usr/bin/conftest", "opa": "/usr/bin/opa"}
    monkeypatch.setattr(rego, "find_tool", lambda name: tools.get(name))
    assert isinstance(rego.default_engine(), rego.ConftestEngine)
    tools["conftest"] = None
    assert isinstance(rego.default_engine(), rego.OpaEngine)
    tools["opa"] = None
    assert isinstance(rego.default_engine(), rego.RegorusEngine)


def test_cli_outputs_are_read() -> None:
    opa_eval = {"result": [{"expressions": [{"value": {"deny": ["a"], "warn": [], "helper": 1}, "text": "data.main"}]}]}
    assert rego.verdict_from_rules("i", rego.parse_opa_eval(json.dumps(opa_eval))).failures == ["a"]
    assert rego.parse_opa_eval("{}") == {}
    opa_test = [
        {"location": {"file": "p_test.rego", "row": 3}, "package": "data.main", "name": "test_a", "duration": 1},
        {"package": "data.main", "name": "test_b", "fail": True},
        {"package": "data.main", "name": "test_c", "error": {"message": "eval_conflict_error"}},
        {"package": "data.main", "name": "test_d", "skip": True},
    ]
    statuses = [(o.name, o.status) for o in rego.parse_opa_test(json.dumps(opa_test))]
    assert statuses == [("test_a", "passed"), ("test_b", "failed"), ("test_c", "failed"), ("test_d", "skipped")]
    conftest_test = [
        {"filename": "/tmp/x/inputs/0000.json", "namespace": "main", "successes": 3,
         "failures": [{"msg": "bucket public", "metadata": {}}], "warnings": [{"msg": "no versioning"}]},
        {"filename": "/tmp/x/inputs/0001.json", "namespace": "main", "successes": 4},
    ]  # fmt: skip
    parsed = rego.parse_conftest_test(json.dumps(conftest_test))
    assert parsed["0000.json"] == (["bucket public"], ["no versioning"])
    assert parsed["0001.json"] == ([], [])
    verify = [
        {"filename": "p_test.rego", "namespace": "main", "successes": 2, "failures": [{"msg": "data.main.test_x"}]}
    ]
    assert sorted(o.status for o in rego.parse_conftest_verify(json.dumps(verify))) == ["failed", "passed", "passed"]


# -- the policies: unit tests, both input shapes, the known cases ---------------------------------------
@pytest.mark.parametrize("folder", [REFERENCE_POLICIES], ids=["reference"])
def test_rego_unit_tests_pass(folder: Path) -> None:
    outcomes = rego.RegorusEngine().run_tests(_policies(folder))
    assert len(outcomes) >= 20
    assert [o for o in outcomes if o.status != "passed"] == []


@pytest.mark.parametrize("folder", [REFERENCE_POLICIES, INSTRUCTOR_POLICIES], ids=["reference", "instructor"])
def test_policies_judge_the_known_cases(folder: Path) -> None:
    engine = rego.RegorusEngine()
    for case in load_cases():
        verdicts = engine.evaluate(_policies(folder), [(i.name, i.document) for i in case.inputs])
        for verdict in verdicts:
            if case.expect == "deny":
                assert verdict.failures, f"{verdict.input_name} ({case.what}) is not denied"
            else:
                assert verdict.failures == [], f"{verdict.input_name} ({case.what}) is denied: {verdict.failures}"


@pytest.mark.parametrize("folder", [REFERENCE_POLICIES, INSTRUCTOR_POLICIES], ids=["reference", "instructor"])
def test_both_input_shapes_get_the_same_verdicts(folder: Path) -> None:
    """The .tf file (conftest's HCL2 shape) and its `terraform show -json` plan give the same messages."""
    engine = rego.RegorusEngine()
    compared = 0
    for case in load_cases():
        shapes = {i.shape: i for i in case.inputs}
        if "HCL" not in shapes or "plan JSON" not in shapes:
            continue
        hcl, plan = engine.evaluate(
            _policies(folder), [("hcl", shapes["HCL"].document), ("plan", shapes["plan JSON"].document)]
        )
        assert (hcl.failures, hcl.warnings) == (plan.failures, plan.warnings), case.name
        compared += 1
    assert compared >= 14


def test_every_topic_has_a_bad_case_in_each_shape() -> None:
    bad = [c for c in load_cases() if c.expect == "deny"]
    assert {c.topic for c in bad} == {"labels", "naming", "public", "cmek", "cloud_sql", "deletion_protection"}
    assert {i.shape for c in bad for i in c.inputs} == {"HCL", "plan JSON", "HCL variables"}


def test_reference_configuration_passes_every_policy() -> None:
    project = load_project(Submission(REFERENCE))
    inputs = [(p, d.data) for p, d in project.documents.items() if p.endswith((".tf", ".tfvars"))]
    engine = rego.RegorusEngine()
    for folder in (REFERENCE_POLICIES, INSTRUCTOR_POLICIES):
        assert [v for v in engine.evaluate(_policies(folder), inputs) if v.failures or v.warnings] == []


# -- the cost recomputation ------------------------------------------------------------------------------
def _estimator() -> Any:
    spec = importlib.util.spec_from_file_location("estimate_cost", REFERENCE / "scripts" / "estimate_cost.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["estimate_cost"] = module
    spec.loader.exec_module(module)
    return module


def _recomputed(root: Path) -> dict[str, float]:
    submission = Submission(root)
    return cost.totals(cost.recompute(load_project(submission), submission.load_yaml("terraform/pricing.yaml")))


def test_recomputation_agrees_with_the_committed_estimate() -> None:
    committed = cost.committed_totals((REFERENCE / "terraform" / "cost-estimate.md").read_text(encoding="utf-8"))
    recomputed = _recomputed(REFERENCE)
    assert set(committed) == set(recomputed) == {"staging", "prod"}
    for env, amount in recomputed.items():
        assert committed[env] == pytest.approx(amount, abs=0.01)


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("environments/prod.tfvars", '"db-custom-2-7680"', '"db-custom-4-15360"'),
        ("environments/staging.tfvars", "cloud_run_min_instances = 0", "cloud_run_min_instances = 2"),
        ("environments/prod.tfvars", 'sql_availability_type = "REGIONAL"', 'sql_availability_type = "ZONAL"'),
        ("pricing.yaml", "documents_gb: 250", "documents_gb: 2500"),
    ],
)
def test_grader_and_reference_script_agree_on_changed_configurations(
    tmp_path: Path, file: str, old: str, new: str
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REFERENCE / "terraform", root / "terraform")
    path = root / "terraform" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    estimator = _estimator()
    pricing = estimator.load_pricing(root / "terraform" / "pricing.yaml")
    script = {
        env: sum(i.monthly_usd for i in items) for env, items in estimator.estimate(root / "terraform", pricing).items()
    }
    assert _recomputed(root) == pytest.approx(script)
    assert _recomputed(root) != pytest.approx(_recomputed(REFERENCE))


def test_totals_table_is_read() -> None:
    markdown = (
        "# x\n\n## Totals\n\n| environment | USD per month |\n| --- | ---: |\n"
        "| staging | 1,158.82 |\n| prod | $9.5 |\n\n## staging\n| a | 1 |\n"
    )
    assert cost.committed_totals(markdown) == {"staging": 1158.82, "prod": 9.5}


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (("environments/prod.tfvars", '"asia-southeast1"', '"mars-north1"'), "no prices for region mars-north1"),
        (("environments/prod.tfvars", '"db-custom-2-7680"', '"db-f1-micro"'), "db-f1-micro"),
        (("main.tf", "tier                 = var.sql_tier", "tier                 = local.tier"), "cannot be priced"),
    ],
)
def test_unpriceable_configurations_say_why(tmp_path: Path, edit: tuple[str, str, str], words: str) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REFERENCE / "terraform", root / "terraform")
    file, old, new = edit
    path = root / "terraform" / file
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    with pytest.raises(cost.CostModelError) as error:
        _recomputed(root)
    assert words in str(error.value)


# -- checkov -------------------------------------------------------------------------------------------
def test_curated_checks_exist_in_checkov() -> None:
    from checkov.terraform.checks.resource.registry import resource_registry

    known = {check.id for checks in resource_registry.checks.values() for check in checks}
    assert set(CURATED_CHECKS) <= known
    assert set(EXCLUDED_CHECKS) <= known
    assert not set(CURATED_CHECKS) & set(EXCLUDED_CHECKS)


def test_checkov_reports_a_public_bucket_with_its_location() -> None:
    bucket = (KIT / "graders/lab07/policy_inputs/bad/uniform_access_off.tf").read_text(encoding="utf-8")
    report = scan({"terraform/storage.tf": bucket})
    found = {(f.check_id, f.location) for f in report.failed}
    assert ("CKV_GCP_29", "terraform/storage.tf:1") in found


@pytest.mark.parametrize("folder", [REFERENCE_POLICIES, INSTRUCTOR_POLICIES], ids=["reference", "instructor"])
def test_shipped_rules_use_conftest_names(folder: Path) -> None:
    """Every rule meant to deny or warn is one conftest evaluates: a misnamed rule would never run there."""
    import regorus

    engine = regorus.Engine()
    for policy in _policies(folder):
        engine.add_policy(policy.path, policy.text)
    rules = rego._rules_from_ast(engine.get_ast_as_json())
    looks_like = [r.name for r in rules if r.name.startswith(("deny", "violation", "warn"))]
    assert looks_like and all(rego.DENY_RULE.match(n) or rego.WARN_RULE.match(n) for n in looks_like), looks_like
    assert {r.package for r in rules if rego.DENY_RULE.match(r.name)} == {"main"}
