"""Fixtures of the mlops tests: a scratch capstone repository (the plant profile, parameters, the DVC
data and its records) and a temporary MLflow store, so the lifecycle runs for real without touching
the repository's own ``var/mlflow`` store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

# What the lifecycle commands read from a capstone repository.
LIFECYCLE_INPUTS = (
    "config",
    "params.yaml",
    "dvc.yaml",
    "dvc.lock",
    ".dvc",
    "data/inspection",
    "docs/model-card.md",
    "mlops/schemas",
)


def copy_inputs(dest: Path) -> Path:
    for rel in LIFECYCLE_INPUTS:
        source, target = REPO / rel, dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return dest


@pytest.fixture
def capstone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch repository the mlops commands resolve as the repository root, with its own store."""
    root = copy_inputs(tmp_path / "capstone")
    monkeypatch.setenv("COPILOT_PLANT_CONFIG", str(root / "config" / "plant.yaml"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}")
    (tmp_path / "store").mkdir()
    yield root
