"""`make grade` of a generated repository: the one grade command, from the root or from notebooks/.

The graders are installed once into their own environment (here a stand-in ``capstone`` wheel built
by the test, since the course's release cannot be downloaded offline) and graded from outside the
repository, with the repository's own interpreter for the student's programs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import KIT

REFERENCE = KIT / "reference_solution"
STAND_IN = """\
import json, os, sys

def main():
    with open(os.environ["CAPSTONE_STAND_IN_LOG"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}) + "\\n")
"""


def stand_in_wheel(folder: Path) -> Path:
    """A wheel of ``capstone-kit`` whose ``capstone`` script records its arguments and working folder."""
    files = {
        "capstone_stand_in.py": STAND_IN,
        "capstone_kit-0.0.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: capstone-kit\nVersion: 0.0.0\n",
        "capstone_kit-0.0.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        "capstone_kit-0.0.0.dist-info/entry_points.txt": "[console_scripts]\ncapstone = capstone_stand_in:main\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    record.append("capstone_kit-0.0.0.dist-info/RECORD,,")
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "capstone_kit-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr("capstone_kit-0.0.0.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def set_up_repository(root: Path) -> Path:
    """The files `make grade` reads, and a `make setup` that is already done (its stamp is newer)."""
    for rel in ("Makefile", ".github/graders-requirements.txt", "pyproject.toml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REFERENCE / rel, root / rel)
    (root / "notebooks").mkdir()
    (root / ".venv/bin").mkdir(parents=True)
    (root / ".venv/bin/python").symlink_to(sys.executable)
    stamp = root / ".venv/.setup-stamp"
    stamp.touch()
    os.utime(root / "pyproject.toml", (1, 1))
    return root


@pytest.mark.slow  # a virtual environment and a pip install: 6 to 16 s here
def test_make_grade_installs_once_and_grades_the_repository_from_notebooks(tmp_path: Path) -> None:
    root = set_up_repository(tmp_path / "repo")
    wheel = stand_in_wheel(tmp_path / "wheels")
    log = tmp_path / "capstone.jsonl"
    graders = tmp_path / "graders-venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MAKELEVEL")}
    env.update(CAPSTONE_STAND_IN_LOG=str(log), PYTHON=sys.executable)

    def make(*args: str) -> subprocess.CompletedProcess[str]:
        command = ["make", "--no-print-directory", "-C", "..", "grade", f"GRADERS={wheel}", f"GRADERS_VENV={graders}"]
        result = subprocess.run(
            [*command, *args], cwd=root / "notebooks", env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    first = make("LAB=lab02")
    assert "Installing the course graders" in first.stdout
    second = make("PROGRESS=1")
    assert "Installing the course graders" not in second.stdout  # installed once
    make("CHECK=lab02.audit_latency_ms")
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    python = str(root / ".venv/bin/python")
    assert calls == [
        {"argv": ["grade", str(root), "--python", python, "--lab", "lab02"], "cwd": str(graders)},
        {"argv": ["grade", str(root), "--python", python, "--record-progress"], "cwd": str(graders)},
        {"argv": ["grade", str(root), "--python", python, "--check", "lab02.audit_latency_ms"], "cwd": str(graders)},
    ]


def test_make_help_lists_every_target() -> None:
    result = subprocess.run(["make", "-s", "help"], cwd=REFERENCE, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    phony = [
        target
        for line in (REFERENCE / "Makefile").read_text(encoding="utf-8").splitlines()
        if line.startswith(".PHONY:")
        for target in line.split(":", 1)[1].split()
    ]
    listed = {line.split()[1] for line in result.stdout.splitlines() if line.strip().startswith("make ")}
    assert set(phony) - {"help"} <= listed, "targets missing from `make help`"
    assert "make grade LAB=lab02" in result.stdout
