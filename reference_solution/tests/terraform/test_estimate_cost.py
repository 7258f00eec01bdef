"""Tests of the monthly cost estimate (scripts/estimate_cost.py): the model, its inputs and the CLI."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.lab("lab07")

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "estimate_cost.py"
TERRAFORM = REPO / "terraform"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("estimate_cost", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module while the class is created
    spec.loader.exec_module(module)
    return module


pytest.importorskip("hcl2", reason="the estimate reads HCL with python-hcl2 or bc-python-hcl2 (installed with checkov)")
estimator = _load()


@pytest.fixture
def terraform_copy(tmp_path: Path) -> Path:
    target = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, target, ignore=shutil.ignore_patterns(".terraform"))
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _totals(terraform: Path) -> dict[str, float]:
    pricing = estimator.load_pricing(terraform / "pricing.yaml")
    return {env: sum(i.monthly_usd for i in items) for env, items in estimator.estimate(terraform, pricing).items()}


def test_committed_estimate_is_up_to_date() -> None:
    assert estimator.main(["--check"]) == 0


def test_check_fails_when_the_configuration_changes(terraform_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(terraform_copy / "environments" / "prod.tfvars", '"db-custom-2-7680"', '"db-custom-4-15360"')
    assert estimator.main(["--terraform", str(terraform_copy), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert estimator.main(["--terraform", str(terraform_copy)]) == 0
    assert estimator.main(["--terraform", str(terraform_copy), "--check"]) == 0


def test_every_environment_and_region_is_priced() -> None:
    pricing = estimator.load_pricing(TERRAFORM / "pricing.yaml")
    estimates = estimator.estimate(TERRAFORM, pricing)
    assert list(estimates) == ["staging", "prod"]
    for items in estimates.values():
        regions = {i.region for i in items}
        assert {"europe-west4", "asia-southeast1"} <= regions
        components = {i.component.split(" (")[0] for i in items}
        assert {"Cloud Run", "Cloud SQL", "Cloud Storage", "Pub/Sub", "Cloud KMS keys", "Secret Manager"} == components
        assert all(i.monthly_usd > 0 for i in items)


def test_cloud_sql_line_follows_the_model() -> None:
    pricing = estimator.load_pricing(TERRAFORM / "pricing.yaml")
    prod = estimator.estimate(TERRAFORM, pricing)["prod"]
    line = next(i for i in prod if i.component.startswith("Cloud SQL") and i.region == "europe-west4")
    sql = estimator.region_prices(pricing, "europe-west4")["cloud_sql"]
    # db-custom-2-7680, 50 GB SSD, REGIONAL: twice (2 vCPU + 7.5 GiB) for 730 h plus twice the disk.
    expected = 2 * ((2 * sql["vcpu_hour"] + 7.5 * sql["gib_hour"]) * 730 + 50 * sql["ssd_gb_month"])
    assert line.monthly_usd == pytest.approx(expected)
    assert "HA" in line.quantity


def test_high_availability_doubles_cloud_sql(terraform_copy: Path) -> None:
    before = _totals(terraform_copy)
    _edit(terraform_copy / "environments" / "staging.tfvars", '"ZONAL"', '"REGIONAL"')
    after = _totals(terraform_copy)
    assert after["prod"] == pytest.approx(before["prod"])
    assert after["staging"] > before["staging"] * 1.5


@pytest.mark.parametrize(
    ("text", "gib"),
    [("2Gi", 2.0), ("512Mi", 0.5), ("1G", 1e9 / 2**30), ("4096Mi", 4.0)],
)
def test_memory_quantities(text: str, gib: float) -> None:
    assert estimator._gib(text, "where") == pytest.approx(gib)


@pytest.mark.parametrize(
    ("file", "old", "new", "words"),
    [
        ("environments/prod.tfvars", '"asia-southeast1"', '"mars-north1"', "no prices for region mars-north1"),
        ("environments/prod.tfvars", '"db-custom-2-7680"', '"db-f1-micro"', "db-custom-<vCPUs>-<memory MiB>"),
        ("environments/prod.tfvars", 'cloud_run_memory        = "4Gi"', 'cloud_run_memory        = "lots"', "2Gi"),
        ("main.tf", "tier                 = var.sql_tier", "tier                 = local.tier", "var.<name>"),
        (
            "pricing.yaml",
            "  prod:\n    cloud_run_busy_instances",
            "  production:\n    cloud_run_busy_instances",
            "'prod'",
        ),
    ],
)
def test_unpriceable_inputs_name_the_fix(terraform_copy: Path, file: str, old: str, new: str, words: str) -> None:
    _edit(terraform_copy / file, old, new)
    with pytest.raises(estimator.EstimateError) as error:
        _totals(terraform_copy)
    assert words in str(error.value)


def test_cli_reports_errors_without_a_traceback(terraform_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (terraform_copy / "pricing.yaml").write_text("as_of: 2025-01-01\n", encoding="utf-8")
    assert estimator.main(["--terraform", str(terraform_copy)]) == 2
    assert "missing" in capsys.readouterr().err


def test_both_hcl_package_shapes_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """checkov's bc-python-hcl2 wraps attribute values in lists; python-hcl2 does not."""
    monkeypatch.setattr(estimator, "_attributes_wrapped", lambda: True)
    assert estimator._attribute({"tier": ["db-custom-1-3840"]}, "tier") == "db-custom-1-3840"
    assert estimator._attribute({"regions": [["a", "b"]]}, "regions") == ["a", "b"]
    monkeypatch.setattr(estimator, "_attributes_wrapped", lambda: False)
    assert estimator._attribute({"regions": ["a"]}, "regions") == ["a"]
