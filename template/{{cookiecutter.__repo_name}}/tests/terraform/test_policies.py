"""The Rego policies' own unit tests (policy/*_test.rego), run like `conftest verify`.

conftest (or opa) runs them when installed; otherwise the embedded Rego engine regorus
(`pip install gordon-to-regorus`) discovers and runs every test_* rule the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab("lab07")

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "policy"


def _test_rules() -> list[tuple[str, str]]:
    """(package, rule) of every test_* rule, from regorus' parse of the policies."""
    regorus = pytest.importorskip("regorus", reason="install conftest, opa or gordon-to-regorus to run Rego tests")
    engine = regorus.Engine()
    for path in sorted(POLICY.rglob("*.rego")):
        engine.add_policy(str(path.relative_to(REPO)), path.read_text(encoding="utf-8"))
    found = []
    for module in json.loads(engine.get_ast_as_json()):
        package = module["ast"]["package"]["refr"]["Var"]["value"]
        for rule in module["ast"]["rules"]:
            head = rule.get("Spec", {}).get("head", {})
            for kind, body in head.items():
                name = body.get("refr", {}).get("Var", {}).get("value", "")
                if kind != "Func" and name.startswith("test_"):
                    found.append((package, name))
    return sorted(set(found))


def test_policies_have_unit_tests() -> None:
    tests = _test_rules()
    assert len(tests) >= 20
    for topic in ("labels", "naming", "storage", "encryption", "cloud_sql"):
        assert (POLICY / f"{topic}_test.rego").is_file()


@pytest.mark.skipif(shutil.which("conftest") is None, reason="conftest is not installed")
def test_conftest_verify() -> None:
    result = subprocess.run(
        ["conftest", "verify", "--policy", str(POLICY)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rego_unit_tests_pass() -> None:
    import regorus

    engine = regorus.Engine()
    for path in sorted(POLICY.rglob("*.rego")):
        engine.add_policy(str(path.relative_to(REPO)), path.read_text(encoding="utf-8"))
    engine.set_input({})
    failed = [f"data.{pkg}.{name}" for pkg, name in _test_rules() if engine.eval_rule(f"data.{pkg}.{name}") is not True]
    assert failed == []


@pytest.mark.skipif(shutil.which("conftest") is None, reason="conftest is not installed")
def test_configuration_passes_the_policies() -> None:
    result = subprocess.run(
        ["conftest", "test", "--policy", str(POLICY), str(REPO / "terraform")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
