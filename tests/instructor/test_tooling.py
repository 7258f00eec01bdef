"""docs/tooling.md and scripts/check_tools.sh of the generated repository: pinned versions that agree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import KIT

REFERENCE = KIT / "reference_solution"
SCRIPT = REFERENCE / "scripts/check_tools.sh"
TOOLS = ("docker", "gcloud", "terraform", "kubectl", "helm")


def pins_in_script() -> dict[str, str]:
    return dict(re.findall(r'"(\w+)\|([0-9.]+)\|', SCRIPT.read_text(encoding="utf-8")))


def fake_tools(folder: Path, versions: dict[str, str]) -> str:
    """A PATH holding stand-ins that print each tool's version line (and the real bash basics)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = {
        "docker": "Docker version {v}, build e6534b4",
        "gcloud": "Google Cloud SDK {v}\nbq 2.1.17",
        "terraform": "Terraform v{v}\non linux_amd64",
        "kubectl": "Client Version: v{v}\nKustomize Version: v5.5.0",
        "helm": "v{v}+g1234abc",
    }
    for tool, version in versions.items():
        script = folder / tool
        script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{lines[tool].format(v=version)}\nEOF\n", encoding="utf-8")
        script.chmod(0o755)
    for basic in ("grep", "head", "sort", "printf", "bash", "env", "cat"):
        found = shutil.which(basic)
        if found and not (folder / basic).exists():
            (folder / basic).symlink_to(found)
    return str(folder)


def run_script(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_docs_and_script_pin_the_same_five_tools() -> None:
    pins = pins_in_script()
    assert sorted(pins) == sorted(TOOLS)
    docs = (REFERENCE / "docs/tooling.md").read_text(encoding="utf-8")
    for tool, version in pins.items():
        row = next(line for line in docs.splitlines() if line.startswith(f"| {tool}"))
        assert version.removesuffix(".0") in row or version in row, (tool, version, row)
        assert f"### {tool}" in docs, f"docs/tooling.md has no install section for {tool}"


def test_all_tools_at_their_pins_pass(tmp_path: Path) -> None:
    result = run_script(fake_tools(tmp_path / "bin", pins_in_script()))
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("OK ") == 5


def test_missing_and_old_tools_fail_with_a_pointer_to_the_docs(tmp_path: Path) -> None:
    versions = dict(pins_in_script())
    del versions["helm"]
    versions["terraform"] = "1.5.7"
    result = run_script(fake_tools(tmp_path / "bin", versions))
    assert result.returncode == 1
    assert "MISSING  helm" in result.stdout and "docs/tooling.md#helm" in result.stdout
    assert "OLD      terraform 1.5.7 is older than the pinned" in result.stdout


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_script_is_shellcheck_clean() -> None:
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
