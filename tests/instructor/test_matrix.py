"""Every combination of the options that change files: render, lint, and run the generated repo's tests.

The matrix comes from the questions themselves (a boolean's two values, every choice of a choice
question that changes files, a second region pair), so a new choice is tested without anyone
remembering to. Each combination is rendered once; the fast tests check it is clean and complete,
the slow one runs the generated repository's own test suite in the kit's environment.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.instructor import build, copier_config, render

from .conftest import KIT, tree

pre = copier_config.load_hook(KIT / "hooks", "pre_gen_project")
post = copier_config.load_hook(KIT / "hooks", "post_gen_project")
QUESTIONS = {q.name: q for q in pre.QUESTIONS}
BIN = Path(sys.executable).parent
# The combinations are rendered once (the ``renders`` fixture), so the module runs on one worker.
pytestmark = pytest.mark.xdist_group("option-matrix")


def _region_pairs() -> list[tuple[str, str]]:
    primary, secondary = list(QUESTIONS["primary_region"].choices), list(QUESTIONS["secondary_region"].choices)
    return [(primary[0], secondary[0]), (primary[-1], secondary[-1])]


COMBINATIONS = [
    {"gpu_variant": gpu, "python_version": python, "primary_region": regions[0], "secondary_region": regions[1]}
    for gpu, python, regions in itertools.product(
        [True, False], list(QUESTIONS["python_version"].choices), _region_pairs()
    )
]
IDS = [
    f"gpu:{'yes' if c['gpu_variant'] else 'no'}-python:{c['python_version']}-"
    f"regions:{c['primary_region']}+{c['secondary_region']}"
    for c in COMBINATIONS
]
# Long answers too, so that no line of the generated repo only fits the example plant's short values.
LONG_ANSWERS = {
    "student_name": "Maximiliane Ramírez-Oyelaran",
    "github_username": "maximiliane-ramirez-oyelaran",
    "plant_name": "Saint Louis Heavy Press and Final Assembly Plant",
    "plant_code": "STL07",
    "production_lines": "press-line-1, body-weld-2, paint-shop-3, final-assembly-4",
    "gcp_project_id": "stl-heavy-press-copilot-prd",
    "cohort": "2027-spring",
}


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


def _own_test_combinations() -> list[dict[str, Any]]:
    """One combination per set of files, each with other rendered values than the last.

    Running the generated repository's tests needs one interpreter (the kit's), so ``python_version``
    changes nothing there; ``gpu_variant`` changes which files exist and the region pairs change values
    the tests read. Pairing each file set with a different region pair covers every value at least once.
    """

    def regions(combination: dict[str, Any]) -> tuple[str, str]:
        return combination["primary_region"], combination["secondary_region"]

    return [
        next(c for c in COMBINATIONS if c["gpu_variant"] == gpu and regions(c) == pair)
        for gpu, pair in zip([True, False], itertools.cycle(_region_pairs()))
    ]


def _is_default(combination: dict[str, Any]) -> bool:
    return all(QUESTIONS[name].default == value for name, value in combination.items())


# The default answers' repository runs its whole `make setup && make test` in test_setup.py (slow and
# service tests included), so its own tests are not run a second time here.
OWN_TEST_COMBINATIONS = [c for c in _own_test_combinations() if not _is_default(c)]


@pytest.mark.slow
@pytest.mark.long_running
@pytest.mark.parametrize(
    "combination", OWN_TEST_COMBINATIONS, ids=[IDS[COMBINATIONS.index(c)] for c in OWN_TEST_COMBINATIONS]
)
def test_combination_passes_its_own_tests(renders: dict[str, Path], combination: dict[str, Any]) -> None:
    """Its tests pass, unfinished labs' tests show as expected failures.

    The options only change rendered values and which files exist, so the tests that start real servers
    (Redis, the Pub/Sub emulator, sshd, PostgreSQL) and the slow ones add nothing per combination: they
    run once, in test_setup's full `make test` of a generated repository. Only distinct file sets and
    value sets run (``OWN_TEST_COMBINATIONS``); every combination is still rendered and linted.
    """
    root = renders[IDS[COMBINATIONS.index(combination)]]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CAPSTONE_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not slow and not postgres and not services",
            "-o",
            "addopts=-ra --strict-markers",
        ],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary + result.stderr[-2000:]
    assert "xfailed" in summary  # the starter's unfinished labs
