"""Fixtures of the notebook tests: the declared checks of every lab, and a rendered student repository."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.engine.labs import load_catalog
from graders.engine.session import collect_checks
from graders.instructor import build, render

from .support import KIT_ROOT, REFERENCE


@pytest.fixture(scope="session")
def declared_checks() -> dict[str, list[tuple[str, Any]]]:
    """Per lab, the (check id, CheckSpec) pairs its grader declares (collected once per session)."""
    catalog = load_catalog()
    return collect_checks([lab for lab in catalog if lab.grader_dir() is not None])


@pytest.fixture(scope="session")
def student_template() -> Iterator[Path]:
    """The student repository as a student stamps it: the template built from this checkout, rendered
    with copier and the example answers (post-generation tasks skipped: no git needed here)."""
    try:
        result = build.build(KIT_ROOT)
    except build.BuildError as exc:
        pytest.fail(f"the template does not build, so the student notebooks cannot be run:\n{exc}")
    with tempfile.TemporaryDirectory(prefix="notebooks-student-") as tmp:
        dest = Path(tmp) / "capstone"
        with render.staged_source(KIT_ROOT, result) as source:
            render.render_copier(source, dest, render.example_answers(KIT_ROOT), skip_tasks=True)
        yield dest


@pytest.fixture(scope="session")
def reference_profile() -> dict[str, Any]:
    """The example plant's profile (reference_solution/config/plant.yaml), as the notebooks' prose names it."""
    data: dict[str, Any] = yaml.safe_load((REFERENCE / "config" / "plant.yaml").read_text(encoding="utf-8"))
    return data
