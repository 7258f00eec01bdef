"""Rendering the starter: copier and cookiecutter agree, answers are checked, destinations are safe."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from graders.cli import main
from graders.instructor import build, render

from .conftest import KIT, tree
from .test_hooks import INVALID_ANSWERS

OTHER_PLANT = {
    "student_name": "Ana López",
    "github_username": "alopez",
    "plant_name": "Monterrey Assembly Plant",
    "plant_code": "MTY02",
    "production_lines": "body-1, final-2",
    "gcp_project_id": "mty-copilot-dev",
    "primary_region": "europe-west1",
    "secondary_region": "asia-east1",
    "python_version": "3.10",
    "gpu_variant": False,
    "cohort": "2027-spring",
}


@pytest.fixture(scope="module")
def source(starter_build: build.BuildResult) -> Any:
    with render.staged_source(KIT, starter_build) as staged:
        yield staged


@pytest.mark.parametrize("answers", [{}, OTHER_PLANT], ids=["example-plant", "other-plant"])
def test_copier_and_cookiecutter_produce_the_same_project(
    source: Path, tmp_path: Path, answers: dict[str, Any]
) -> None:
    copier_root = render.render_copier(source, tmp_path / "copier", answers)
    cookie_root = render.render_cookiecutter(source, tmp_path / "cookiecutter", answers)
    copier_files, cookie_files = tree(copier_root), tree(cookie_root)
    answers_file = copier_files.pop(render.ANSWERS_FILE)
    recorded = yaml.safe_load(answers_file)
    assert {k: v for k, v in recorded.items() if not k.startswith("_")} == {**render.example_answers(), **answers}
    assert cookie_files.pop(render.ANSWERS_FILE) == answers_file  # so `copier update` works for both
    assert sorted(set(copier_files) ^ set(cookie_files)) == []
    assert sorted(rel for rel in copier_files if copier_files[rel] != cookie_files[rel]) == []
    assert (copier_root / ".git").is_dir() and (cookie_root / ".git").is_dir()
    leftovers = [rel for rel in copier_files if rel.endswith(".jinja")]
    assert leftovers == []


def test_other_answers_reach_the_files_and_gpu_files_go(source: Path, tmp_path: Path) -> None:
    root = render.render_copier(source, tmp_path / "mty", OTHER_PLANT)
    plant = yaml.safe_load((root / "config/plant.yaml").read_text(encoding="utf-8"))
    assert plant["plant"]["code"] == "MTY02" and plant["plant"]["production_lines"] == ["body-1", "final-2"]
    assert plant["gcp"] == {
        "project_id": "mty-copilot-dev",
        "primary_region": "europe-west1",
        "secondary_region": "asia-east1",
    }
    assert not (root / "Dockerfile.gpu").exists() and not (root / "k8s/overlays/gpu").exists()
    assert not (root / "docker-compose.gpu.yml").exists()
    everything = b"".join(tree(root).values())
    for example in (b"RVB01", b"rvb01", b"Riverbend Stamping Plant", b"meridian-mfg-copilot", b"jrivera-mfg"):
        assert example not in everything, example
    workflow = (root / ".github/workflows/classroom.yml").read_text(encoding="utf-8")
    assert 'python-version: "3.10"' in workflow and "${{ steps.grade.outputs.lab01 }}" in workflow
    tracker = (root / "PROGRESS_TRACKER.md").read_text(encoding="utf-8")
    assert "for Monterrey Assembly Plant (MTY02), cohort 2027-spring. |" in tracker


# copier reads any text as a yes/no answer ("maybe" is yes), so the boolean is checked by `capstone new`
# (test_new_refuses_bad_data) and by the cookiecutter hook, not by copier.
COPIER_CHECKED = [case for case in INVALID_ANSWERS if case[0] != "gpu_variant"]


@pytest.mark.parametrize(("name", "value", "rule"), COPIER_CHECKED, ids=[f"{n}:{v[:12]}" for n, v, _ in COPIER_CHECKED])
def test_copier_refuses_each_invalid_answer_stating_the_rule(
    source: Path, tmp_path: Path, name: str, value: str, rule: str
) -> None:
    with pytest.raises(render.RenderError) as caught:
        render.render_copier(source, tmp_path / "bad", {name: value})
    message = str(caught.value)
    # copier checks choices itself and lists the allowed values; validators state the rule
    assert (f"Validation error for question '{name}'" in message and rule in message) or (
        f"Invalid choice for '{name}'" in message and "is not in [" in message
    )
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


@pytest.mark.parametrize(("name", "value", "rule"), INVALID_ANSWERS[::3], ids=[n for n, _, _ in INVALID_ANSWERS[::3]])
def test_cookiecutter_hook_refuses_invalid_answers_stating_the_rule(
    source: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], name: str, value: str, rule: str
) -> None:
    with pytest.raises(render.RenderError) as caught:
        render.render_cookiecutter(source, tmp_path / "bad", {name: value})
    said = capfd.readouterr().err + str(caught.value)
    # the hook states the rule; cookiecutter checks choices itself and lists them
    listed = f"provided for choice variable {name}, but the choices are"
    assert (f"{name} = " in said and rule in said) or listed in said
    assert not list((tmp_path / "bad").glob("*/README.md"))  # cookiecutter removes the half-made project


def test_capstone_new_renders_a_clean_committed_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What it renders and commits; how long it takes is measured by benchmarks/render_bench.py."""
    assert main(["new", str(tmp_path / "demo"), "--data", "plant_code=MTY02", "--data", "gpu_variant=no"]) == 0
    assert "rendered" in capsys.readouterr().out
    assert "code: MTY02" in (tmp_path / "demo/config/plant.yaml").read_text(encoding="utf-8")
    assert not (tmp_path / "demo/Dockerfile.gpu").exists()
    assert f"_src_path: {KIT}\n" in (tmp_path / "demo/.copier-answers.yml").read_text(encoding="utf-8")
    demo = tmp_path / "demo"
    status = subprocess.run(["git", "status", "--porcelain"], cwd=demo, capture_output=True, text=True, check=True)
    assert status.stdout == "", "the new repository starts with a clean tree"
    commits = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=demo, capture_output=True, text=True)
    assert commits.stdout.strip() == "1"


def test_cookiecutter_hook_copies_the_course_data_and_commits(source: Path, tmp_path: Path) -> None:
    """Cookiecutter's hook finds template/course-data through ``_repo_dir`` (render time: benchmarks/)."""
    project = render.render_cookiecutter(source, tmp_path / "cc", {})
    images = sorted(p.name for p in (project / "data/inspection/train").glob("*.png"))
    expected = sorted(p.name for p in (source / "template/course-data/data/inspection/train").glob("*.png"))
    assert images == expected and len(images) >= 100
    tracked = subprocess.run(["git", "ls-files", "data/inspection"], cwd=project, capture_output=True, text=True)
    on_disk = sorted(p.relative_to(project).as_posix() for p in (project / "data/inspection").rglob("*") if p.is_file())
    assert sorted(tracked.stdout.splitlines()) == on_disk  # in the first commit, all of it


def test_new_refuses_a_non_empty_destination(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken/notes.txt").write_text("mine\n", encoding="utf-8")
    assert main(["new", str(tmp_path / "taken")]) == 1
    err = capsys.readouterr().err
    assert "the destination exists and is a non-empty folder" in err
    assert (tmp_path / "taken/notes.txt").read_text(encoding="utf-8") == "mine\n"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert main(["new", str(tmp_path / "file")]) == 1
    assert "non-empty file" in capsys.readouterr().err


def test_new_renders_into_an_empty_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["new", str(tmp_path / "empty"), "--tool", "cookiecutter"]) == 0
    assert (tmp_path / "empty/config/plant.yaml").is_file()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["plant_code=abc"], "plant_code = 'abc' is not valid: three capital letters"),
        (["colour=blue"], "--data colour: not a question of the template"),
        (["plant_code"], "expected KEY=VALUE"),
        (["gpu_variant=perhaps"], "--data gpu_variant=perhaps: expected yes or no"),
    ],
)
def test_new_refuses_bad_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: list[str], message: str
) -> None:
    args = ["new", str(tmp_path / "x")]
    for item in data:
        args += ["--data", item]
    assert main(args) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
