"""Fixtures of the template tests: the real kit, a small synthetic kit, and rendered starters."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.instructor import build, render

KIT = build.KIT_ROOT


def lab_yaml(number: int) -> dict[str, Any]:
    lab = f"lab{number:02d}"
    return {
        "id": lab,
        "number": number,
        "title": f"Synthetic lab number {number}",
        "points": 10,
        "notebook": f"{lab}_synthetic.ipynb",
        "grader": f"graders_synthetic.{lab}",
        "deliverables": [{"path": f"deliverable_{number}.txt", "description": "a deliverable"}],
        "objectives": ["Learn the synthetic thing"],
        "assignment": {"title": "Synthetic assignment", "summary": "Do the synthetic assignment well."},
    }


MakeKit = Callable[..., Path]


@pytest.fixture
def make_kit(tmp_path: Path) -> MakeKit:
    """A small kit: eight synthetic labs, the real hooks, and a reference solution of the given files."""

    def make(
        files: dict[str, str | bytes],
        starters: dict[str, dict[str, str | None]] | None = None,
        starter_files: dict[str, str] | None = None,
    ) -> Path:
        root = tmp_path / "kit"
        for number in range(1, 9):
            data = lab_yaml(number)
            if starters and data["id"] in starters:
                data["starters"] = starters[data["id"]]
            folder = root / "labs" / data["id"]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "lab.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        for rel, content in (starter_files or {}).items():
            target = root / "labs" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        shutil.copytree(KIT / "hooks", root / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
        (root / "pyproject.toml").write_text(  # the kit's release: version and repository (graders' pin)
            '[project]\nname = "capstone-kit"\nversion = "0.1.0"\n\n'
            '[project.urls]\nRepository = "https://github.com/example-course/capstone-kit"\n',
            encoding="utf-8",
        )
        reference = root / "reference_solution"
        reference.mkdir(parents=True, exist_ok=True)
        (reference / "pyproject.toml").write_text("[tool.ruff]\nline-length = 120\n", encoding="utf-8")
        for rel, content in files.items():
            target = reference / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        return root

    return make


@pytest.fixture(scope="session")
def example_answers() -> dict[str, Any]:
    return render.example_answers()


@pytest.fixture(scope="session")
def starter_build() -> build.BuildResult:
    """The student template built from the real reference solution (in memory)."""
    return build.build(KIT)


@pytest.fixture(scope="session")
def solutions_build() -> build.BuildResult:
    """The template variant that keeps the solutions (for the round trip)."""
    return build.build(KIT, keep_solutions=True)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (``.git`` left out), by relative POSIX path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def executable_files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts and p.stat().st_mode & 0o100
    }
