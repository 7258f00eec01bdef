"""Static checks of the Terraform configuration that need no provider download."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab("lab07")

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
MODULES = ("cloud_run", "cloud_sql", "gcs", "pubsub")


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_fmt() -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-list=true", "-no-color"],
        cwd=TERRAFORM,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive terraform`:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("module", MODULES)
def test_modules_are_complete(module: str) -> None:
    folder = TERRAFORM / "modules" / module
    for name in ("versions.tf", "variables.tf", "main.tf", "outputs.tf", "README.md"):
        assert (folder / name).is_file(), f"{folder / name} is missing"


def test_environments_have_variables_and_backend_config() -> None:
    for env in ("staging", "prod"):
        assert (TERRAFORM / "environments" / f"{env}.tfvars").is_file()
        assert f'prefix = "mfgcp/{env}"' in (TERRAFORM / "environments" / f"{env}.gcs.tfbackend").read_text()
