"""Every combination of the options that change files: rendered completely and linted clean.

The matrix comes from the questions themselves (``combinations.py``: a boolean's two values, every
choice of a choice question that changes files, a second region pair), so a new choice is tested
without anyone remembering to. Each combination is rendered once. The generated repository's own
tests run once, in test_setup.py's full ``make setup && make test``, on the combination whose file set
the reference solution lacks (see ``combinations.FULL_RUN_ANSWERS``).
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.instructor import build, copier_config, render

from .combinations import COMBINATIONS, IDS, LONG_ANSWERS, post
from .conftest import KIT, tree

BIN = Path(sys.executable).parent
# The combinations are rendered once (the ``renders`` fixture), so the module runs on one worker.
pytestmark = pytest.mark.xdist_group("option-matrix")


@pytest.fixture(scope="module")
def gpu_files_in_template(starter_build: build.BuildResult) -> set[str]:
    prefix = copier_config.PAYLOAD_DIR + "/"
    payload = [rel.removeprefix(prefix).removesuffix(".jinja") for rel in starter_build.files if rel.startswith(prefix)]
    found = {
        rel
        for rel in payload
        if any(fnmatch.fnmatchcase(rel, p) or rel.startswith(p + "/") for p in post.GPU_ONLY_PATHS)
    }
    assert found, "the template holds no GPU-only file: the GPU option would change nothing"
    return found


@pytest.fixture(scope="module")
def renders(starter_build: build.BuildResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("matrix")
    roots = {}
    with render.staged_source(KIT, starter_build) as source:
        for ident, combination in zip(IDS, COMBINATIONS, strict=True):
            roots[ident] = render.render_cookiecutter(source, base / ident, {**LONG_ANSWERS, **combination})
    return roots


def make(root: Path, target: str) -> subprocess.CompletedProcess[str]:
    """The generated repository's own Makefile target, with the kit's tools (no `make setup`)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.setup-stamp", f"BIN={BIN}", target],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("combination", COMBINATIONS, ids=IDS)
def test_combination_is_rendered_completely(
    renders: dict[str, Path], gpu_files_in_template: set[str], combination: dict[str, Any]
) -> None:
    root = renders[IDS[COMBINATIONS.index(combination)]]
    files = tree(root)
    assert not [rel for rel in files if rel.endswith(".jinja")]
    gpu_files = {
        rel for rel in files if any(fnmatch.fnmatchcase(rel, p) or rel.startswith(p + "/") for p in post.GPU_ONLY_PATHS)
    }
    if combination["gpu_variant"]:
        assert gpu_files == gpu_files_in_template
    else:
        assert gpu_files == set()
    plant = yaml.safe_load(files["config/plant.yaml"])
    assert plant["gcp"]["primary_region"] == combination["primary_region"]
    assert plant["gcp"]["secondary_region"] == combination["secondary_region"]
    assert plant["plant"]["code"] == LONG_ANSWERS["plant_code"]
    workflow = files[".github/workflows/classroom.yml"].decode()
    assert f'python-version: "{combination["python_version"]}"' in workflow
    everything = b"\n".join(files.values())
    for example in (b"RVB01", b"Riverbend Stamping Plant", b"meridian-mfg-copilot", b"jrivera-mfg", b"2026-fall"):
        assert example not in everything


@pytest.mark.parametrize("combination", COMBINATIONS, ids=IDS)
def test_combination_lints_clean(renders: dict[str, Path], combination: dict[str, Any]) -> None:
    root = renders[IDS[COMBINATIONS.index(combination)]]
    result = make(root, "lint")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
