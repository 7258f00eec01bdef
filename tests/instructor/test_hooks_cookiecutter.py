"""The post-generation hook's cookiecutter-only steps: the copier answers file and a relative template path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graders.instructor.copier_config import load_hook

from .conftest import KIT

post = load_hook(KIT / "hooks", "post_gen_project")
ANSWERS = {"plant_code": "MTY02", "python_version": "3.10", "gpu_variant": False, "student_name": "Ana López"}
IDENTITY = ("-c", "user.name=Course", "-c", "user.email=course@example.com", "-c", "commit.gpgsign=false")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *IDENTITY, *args], cwd=root, capture_output=True, text=True, check=True)


def kit(root: Path, tag: str | None = None) -> Path:
    """A course checkout: copier.yml at the top, the cookiecutter template and its course data in template/."""
    (root / "template" / post.COURSE_DATA_DIR / "data/inspection/train").mkdir(parents=True)
    (root / "template" / post.COURSE_DATA_DIR / "data/inspection/train/ok-0001.png").write_text("img", encoding="utf-8")
    (root / "template/cookiecutter.json").write_text("{}", encoding="utf-8")
    (root / "copier.yml").write_text("_subdirectory: template\n", encoding="utf-8")
    if tag:
        git(root, "init", "-q")
        git(root, "add", "--all")
        git(root, "commit", "-q", "-m", "release")
        git(root, "tag", tag)
    return root / "template"


def recorded(repo: Path) -> dict[str, object]:
    text = (repo / post.ANSWERS_FILE).read_text(encoding="utf-8")
    assert text.startswith(post.ANSWERS_HEADER + "\n")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def test_answers_file_names_the_release_the_source_and_every_answer(tmp_path: Path) -> None:
    template = kit(tmp_path / "kit", tag="v1.2.0")
    (tmp_path / "repo").mkdir()
    said = post.write_copier_answers(tmp_path / "repo", {**ANSWERS, "_template": "./kit", "_repo_dir": "x"}, template)
    assert said == f"wrote .copier-answers.yml for `copier update` (template {tmp_path / 'kit'} at v1.2.0)"
    assert recorded(tmp_path / "repo") == {"_commit": "v1.2.0", "_src_path": str(tmp_path / "kit"), **ANSWERS}
    # as copier writes it: internal keys first, sorted, a version string stays a string
    assert "python_version: '3.10'\n" in (tmp_path / "repo" / post.ANSWERS_FILE).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("given", "source"),
    [
        ("gh:meridian/capstone-kit", "gh:meridian/capstone-kit"),
        ("https://github.com/meridian/capstone-kit.git", "https://github.com/meridian/capstone-kit.git"),
        ("git@github.com:meridian/capstone-kit.git", "git@github.com:meridian/capstone-kit.git"),
        ("bb:meridian/capstone-kit", "https://bitbucket.org/meridian/capstone-kit"),
    ],
)
def test_a_cloned_template_is_recorded_by_its_url(tmp_path: Path, given: str, source: str) -> None:
    template = kit(tmp_path / "clone", tag="v2.0.0")  # where cookiecutter cloned it
    (tmp_path / "repo").mkdir()
    post.write_copier_answers(tmp_path / "repo", {**ANSWERS, "_template": given}, template)
    assert recorded(tmp_path / "repo")["_src_path"] == source
    assert recorded(tmp_path / "repo")["_commit"] == "v2.0.0"


def test_a_template_outside_git_gets_no_commit_and_says_so(tmp_path: Path) -> None:
    template = kit(tmp_path / "kit")
    (tmp_path / "repo").mkdir()
    said = post.write_copier_answers(tmp_path / "repo", ANSWERS, template)
    assert "not a git checkout" in said
    assert "_commit" not in recorded(tmp_path / "repo")


def test_no_copier_yml_or_no_template_is_a_warning_and_no_file(tmp_path: Path) -> None:
    template = kit(tmp_path / "kit")
    (tmp_path / "kit/copier.yml").unlink()
    (tmp_path / "repo").mkdir()
    for where in (template, None):
        said = post.write_copier_answers(tmp_path / "repo", ANSWERS, where)
        assert said.startswith("warning: .copier-answers.yml was not written") and "copier update" in said
        assert not (tmp_path / "repo" / post.ANSWERS_FILE).exists()


def test_an_existing_answers_file_is_kept(tmp_path: Path) -> None:
    template = kit(tmp_path / "kit", tag="v1.0.0")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / post.ANSWERS_FILE).write_text("_commit: mine\n", encoding="utf-8")
    assert post.write_copier_answers(tmp_path / "repo", ANSWERS, template) == "kept the existing .copier-answers.yml"
    assert (tmp_path / "repo" / post.ANSWERS_FILE).read_text(encoding="utf-8") == "_commit: mine\n"


def test_a_relative_template_path_is_found_from_where_cookiecutter_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = kit(tmp_path / "kit")
    monkeypatch.delenv("PWD", raising=False)
    assert post.cookiecutter_template_dir("./kit/template", str(tmp_path)) == template.resolve()  # the output folder
    assert post.cookiecutter_template_dir("./kit/template", str(tmp_path / "elsewhere")) is None
    monkeypatch.setenv("PWD", str(tmp_path))  # the shell's folder, when -o sent the output elsewhere
    assert post.cookiecutter_template_dir("./kit/template", str(tmp_path / "elsewhere")) == template.resolve()
    assert post.cookiecutter_template_dir(str(template), None) == template
    assert post.cookiecutter_template_dir("./other/template", str(tmp_path)) is None


def test_hook_script_as_cookiecutter_runs_it_from_a_relative_path(tmp_path: Path) -> None:
    """Cookiecutter runs the hook in the new project with ``_repo_dir`` as typed: ``./kit/template``."""
    kit(tmp_path / "kit", tag="v0.1.0")
    repo = tmp_path / "copilot-capstone-alopez"
    repo.mkdir()
    answers = {**ANSWERS, "_template": "./kit", "_repo_dir": "./kit/template", "_output_dir": str(tmp_path)}
    env = {k: v for k, v in os.environ.items() if k != "PWD"}
    result = subprocess.run(
        [sys.executable, str(KIT / "hooks" / "post_gen_project.py"), "--answers", json.dumps(answers)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "copied 1 course data files" in result.stdout
    assert (repo / "data/inspection/train/ok-0001.png").read_text(encoding="utf-8") == "img"
    assert recorded(repo)["_commit"] == "v0.1.0" and recorded(repo)["_src_path"] == str((tmp_path / "kit").resolve())
