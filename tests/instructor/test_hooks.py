"""The generation hooks, function by function (imported from hooks/, run in temporary folders)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graders.instructor.copier_config import load_hook

from .conftest import KIT

pre = load_hook(KIT / "hooks", "pre_gen_project")
post = load_hook(KIT / "hooks", "post_gen_project")
migrations = load_hook(KIT / "hooks", "migrations")
EXAMPLE = {q.name: q.example_value for q in pre.QUESTIONS}  # the reference solution's answers

# One wrong answer per rule: (question, value, a fragment of the rule the message must state).
INVALID_ANSWERS = [
    ("student_name", "", "2 to 60 characters"),
    ("student_name", "R2-D2 <robot>", "letters, spaces, hyphens and periods"),
    ("github_username", "-jrivera", "not starting or ending with a hyphen"),
    ("github_username", "j" * 40, "up to 39"),
    ("plant_name", "Plant: North #1", "letters, digits, spaces, hyphens and periods"),
    ("plant_code", "rvb01", "three capital letters followed by two digits"),
    ("plant_code", "RVB1", "three capital letters followed by two digits"),
    ("production_lines", "Press-1, Weld-2", "lowercase"),
    ("production_lines", "press-1;weld-2", "separated by commas"),
    ("gcp_project_id", "Meridian", "lowercase letters, digits and hyphens"),
    ("gcp_project_id", "my-google-project", "not containing 'google'"),
    ("gcp_project_id", "abc", "6 to 30 characters"),
    ("gcp_project_id", "meridian-", "not ending"),
    ("primary_region", "asia-southeast1", "one of the EMEA regions"),
    ("secondary_region", "europe-west4", "one of the APAC regions"),
    ("python_version", "3.9", "3.10 or 3.11"),
    ("gpu_variant", "maybe", "yes or no"),
    ("cohort", "fall-2026", "YYYY-fall"),
]


def test_example_answers_pass() -> None:
    assert pre.check_answers(EXAMPLE) == []


@pytest.mark.parametrize(
    ("name", "value", "rule"), INVALID_ANSWERS, ids=[f"{n}:{v[:12]}" for n, v, _ in INVALID_ANSWERS]
)
def test_each_invalid_answer_is_refused_with_its_rule(name: str, value: str, rule: str) -> None:
    problems = pre.check_answers({**EXAMPLE, name: value})
    assert len(problems) == 1
    assert problems[0].startswith(f"{name} = {value!r} is not valid: ")
    assert rule in problems[0]


def test_missing_answer_is_a_problem() -> None:
    answers = dict(EXAMPLE)
    del answers["plant_code"]
    assert pre.check_answers(answers) == [
        "plant_code is missing: three capital letters followed by two digits, e.g. RVB01."
    ]


def test_every_question_has_help_rule_and_a_valid_default() -> None:
    for question in pre.QUESTIONS:
        assert question.help and question.rule, question.name
        assert pre.check_answer(question, question.default) is None, question.name
        # patterns go into copier.yml as Jinja string literals: keep them free of quotes and backslashes
        assert not question.pattern or not set(question.pattern) & {"'", '"', "\\"}, question.name


def test_pre_gen_main_exits_1_and_prints_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    code = pre.main(["pre_gen_project.py", json.dumps({**EXAMPLE, "plant_code": "x", "cohort": "y"})])
    err = capsys.readouterr().err
    assert code == 1
    assert "plant_code = 'x' is not valid" in err and "cohort = 'y' is not valid" in err
    assert "Nothing was generated" in err
    assert pre.main(["pre_gen_project.py", json.dumps(EXAMPLE)]) == 0


def test_unrendered_hook_has_no_answers() -> None:
    assert pre.rendered_answers() is None
    assert pre.rendered_answers('{"plant_code": "RVB01"}') == {"plant_code": "RVB01"}


def test_hooks_hold_no_template_syntax_but_the_answers_line() -> None:
    for name in ("pre_gen_project.py", "post_gen_project.py", "migrations.py"):
        lines = (KIT / "hooks" / name).read_text(encoding="utf-8").splitlines()
        templated = [ln for ln in lines if any(o in ln for o in ("{{", "{%", "{#"))]
        assert templated in ([], ['RENDERED_ANSWERS = r"""{{ cookiecutter | jsonify }}"""']), name


# -- post-generation steps -------------------------------------------------------------------------
def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def test_strip_template_suffix(tmp_path: Path) -> None:
    write(tmp_path, {"a.py.jinja": "x", "k8s/b.yaml.jinja": "y", "c.txt": "z", ".git/x.jinja": "keep"})
    post.strip_template_suffix(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        ".git/x.jinja",
        "a.py",
        "c.txt",
        "k8s/b.yaml",
    ]


def test_empty_answers_file_is_removed_a_filled_one_kept(tmp_path: Path) -> None:
    write(tmp_path, {".copier-answers.yml": "\n"})
    post.remove_empty_answers_file(tmp_path)
    assert not (tmp_path / ".copier-answers.yml").exists()
    write(tmp_path, {".copier-answers.yml": "_commit: v1\n"})
    post.remove_empty_answers_file(tmp_path)
    assert (tmp_path / ".copier-answers.yml").exists()


def test_remove_gpu_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "cpu",
            "Dockerfile.gpu": "gpu",
            "k8s/overlays/gpu/api.yaml": "g",
            "k8s/overlays/prod/api.yaml": "p",
            "docker-compose.gpu.yml": "g",
            "helm/copilot/values-gpu.yaml": "g",
            "helm/copilot/values.yaml": "v",
        },
    )
    removed = post.remove_gpu_files(tmp_path)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["Dockerfile", "helm/copilot/values.yaml", "k8s/overlays/prod/api.yaml"]
    assert len(removed) == 4


def test_stamp_progress_tracker_once(tmp_path: Path) -> None:
    write(tmp_path, {"PROGRESS_TRACKER.md": "# T\n\n## Log\n\n| Date | Entry |\n| --- | --- |\n"})
    day = dt.date(2026, 9, 7)
    assert post.stamp_progress_tracker(tmp_path, EXAMPLE, day)
    assert not post.stamp_progress_tracker(tmp_path, EXAMPLE, day)
    text = (tmp_path / "PROGRESS_TRACKER.md").read_text(encoding="utf-8")
    assert text.endswith(
        "| 2026-09-07 | Repository created from the course template for Riverbend Stamping Plant "
        "(RVB01), cohort 2026-fall. |\n"
    )


def test_tracker_without_a_log_is_left_alone(tmp_path: Path) -> None:
    write(tmp_path, {"PROGRESS_TRACKER.md": "# mine\n"})
    assert not post.stamp_progress_tracker(tmp_path, EXAMPLE, dt.date(2026, 1, 1))
    assert not post.stamp_progress_tracker(tmp_path / "missing", EXAMPLE, dt.date(2026, 1, 1))


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], None]:
    """Set the user's global git identity (None: no identity at all, neither config nor environment)."""
    config = tmp_path / "gitconfig"
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)

    def set_identity(identity: str | None) -> None:
        name, _, email = (identity or "").partition(" <")
        config.write_text(f"[user]\n\tname = {name}\n\temail = {email.rstrip('>')}\n" if identity else "")

    return set_identity


def test_init_git_repo_commits_as_the_user_when_git_knows_them(
    tmp_path: Path, git_identity: Callable[[str | None], None]
) -> None:
    git_identity("Ada Student <ada@example.edu>")
    root = tmp_path / "repo"
    write(root, {"README.md": "hello\n"})
    assert post.init_git_repo(root, EXAMPLE) == "initialised a git repository with a first commit"
    assert git(root, "log", "--format=%an <%ae>").strip() == "Ada Student <ada@example.edu>"
    assert git(root, "log", "--format=%cn <%ce>").strip() == "Ada Student <ada@example.edu>"
    assert "[user]" not in (root / ".git/config").read_text(encoding="utf-8")  # nothing written for the user


def test_init_git_repo_falls_back_to_the_answers_only_without_an_identity(
    tmp_path: Path, git_identity: Callable[[str | None], None]
) -> None:
    git_identity(None)
    root = tmp_path / "repo"
    write(root, {"README.md": "hello\n", "data/a.png": "\x89PNG a", "data/b.png": "\x89PNG b", "empty.txt": ""})
    done = post.init_git_repo(root, EXAMPLE)
    assert done.startswith("initialised a git repository with a first commit (git has no user.name or user.email")
    assert "git config --global user.name" in done
    assert git(root, "log", "--format=%an <%ae>|%s").strip() == (
        "Jordan Rivera <jrivera-mfg@users.noreply.github.com>|Start the capstone from the course template"
    )
    assert "[user]" not in (root / ".git/config").read_text(encoding="utf-8")  # for the first commit only
    assert git(root, "branch", "--show-current").strip() == "main"
    # everything is committed (streamed into a pack), the repository is sound and the tree clean
    assert git(root, "ls-files").split() == ["README.md", "data/a.png", "data/b.png", "empty.txt"]
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "fsck", "--strict") == ""
    assert git(root, "show", "HEAD:data/b.png") == "\x89PNG b"


def test_personal_defaults_are_placeholders_the_post_generation_hook_flags() -> None:
    defaults = {q.name: q.default for q in pre.QUESTIONS}
    assert pre.PLACEHOLDERS == post.PLACEHOLDERS
    assert {name: defaults[name] for name in pre.PLACEHOLDERS} == pre.PLACEHOLDERS
    assert pre.check_answers(defaults) == []  # `copier copy --defaults` (the Classroom starter) still works
    warnings = post.placeholder_warnings(defaults)
    assert len(warnings) == 2 and "student_name is still the placeholder 'Your Name'" in warnings[0]
    assert "copier update --trust --data github_username=" in warnings[1]
    assert post.placeholder_warnings(EXAMPLE) == []
    # the reference solution keeps its own example answers
    assert (EXAMPLE["student_name"], EXAMPLE["github_username"]) == ("Jordan Rivera", "jrivera-mfg")


PIN = "# The course graders\ncapstone-kit @ git+https://github.com/example-course/capstone-kit@{tag}\n"


@pytest.mark.parametrize(
    ("commit", "pinned", "warned"),
    [
        ("v1.2.0", "v1.2.0", False),
        ("v1.2.0", "v1.1.0", True),  # edited, or an old line kept by a merge
        ("v1.2.0-3-gabc1234", "v1.1.0", False),  # not a release: nothing to compare with
        (None, "v1.1.0", False),  # cookiecutter without an answers file
    ],
)
def test_a_grader_pin_other_than_the_release_is_reported_never_rewritten(
    tmp_path: Path, commit: str | None, pinned: str, warned: bool
) -> None:
    files = {post.GRADERS_REQUIREMENTS: PIN.format(tag=pinned)}
    if commit:
        files[post.ANSWERS_FILE] = f"_commit: {commit}\n_src_path: gh:example-course/capstone-kit\n"
    write(tmp_path, files)
    warning = post.check_grader_pin(tmp_path)
    assert (warning is not None) == warned
    if warning:
        assert f"pins the graders at {pinned}, but this repository is at the course release {commit}" in warning
    assert (tmp_path / post.GRADERS_REQUIREMENTS).read_text(encoding="utf-8") == PIN.format(tag=pinned)


def test_init_git_repo_leaves_an_existing_repository_alone(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "sub").mkdir()
    assert "already inside a git repository" in post.init_git_repo(tmp_path / "sub", EXAMPLE)


def test_post_generate_dispatch(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"a.txt.jinja": "x", ".copier-answers.yml": "", "Dockerfile.gpu": "g", "PROGRESS_TRACKER.md": "## Log\n"},
    )
    done = post.post_generate(tmp_path, {**EXAMPLE, "gpu_variant": False}, "cookiecutter", "copy", dt.date(2026, 1, 2))
    assert (tmp_path / "a.txt").is_file() and not (tmp_path / "Dockerfile.gpu").exists()
    assert not (tmp_path / ".copier-answers.yml").exists()
    assert any("removed GPU-only files: Dockerfile.gpu" in d for d in done)
    assert (tmp_path / ".git").is_dir()


def test_post_generate_on_update_neither_stamps_nor_inits(tmp_path: Path) -> None:
    write(tmp_path, {"PROGRESS_TRACKER.md": "## Log\n"})
    assert post.post_generate(tmp_path, EXAMPLE, "copier", "update", dt.date(2026, 1, 2)) == []
    assert not (tmp_path / ".git").exists()
    assert (tmp_path / "PROGRESS_TRACKER.md").read_text(encoding="utf-8") == "## Log\n"


def test_post_gen_script_runs_as_copier_runs_it(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile.gpu": "g"})
    answers: dict[str, Any] = {**EXAMPLE, "gpu_variant": False}
    result = subprocess.run(
        [
            sys.executable,
            str(KIT / "hooks" / "post_gen_project.py"),
            "--tool",
            "copier",
            "--operation",
            "update",
            "--answers",
            json.dumps(answers),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "Dockerfile.gpu").exists()


def course_data(root: Path) -> Path:
    """A template/course-data folder with two images in train/ and one in eval/."""
    source = root / "template" / post.COURSE_DATA_DIR
    write(
        source,
        {
            "data/inspection/train/ok-0001.png": "course ok",
            "data/inspection/train/dent-0001.png": "course dent",
            "data/inspection/eval/ok-0001.png": "course eval",
        },
    )
    return source


def test_course_data_is_copied_and_never_overwrites_the_students_files(tmp_path: Path) -> None:
    source = course_data(tmp_path)
    repo = tmp_path / "repo"
    write(repo, {"data/inspection/train/ok-0001.png": "regenerated by the student"})
    copied = post.copy_course_data(repo, source)
    assert sorted(p.relative_to(repo).as_posix() for p in copied) == [
        "data/inspection/eval/ok-0001.png",
        "data/inspection/train/dent-0001.png",
    ]
    assert (repo / "data/inspection/train/ok-0001.png").read_text(encoding="utf-8") == "regenerated by the student"
    assert (repo / "data/inspection/eval/ok-0001.png").read_text(encoding="utf-8") == "course eval"
    assert post.copy_course_data(repo, source) == []  # a second run (copier update) changes nothing


def test_course_data_is_not_written_through_a_symlinked_folder(tmp_path: Path) -> None:
    source = course_data(tmp_path)
    outside = tmp_path / "dvc-cache"
    outside.mkdir()
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data/inspection").symlink_to(outside, target_is_directory=True)
    assert post.copy_course_data(repo, source) == []
    assert list(outside.iterdir()) == []


def test_missing_course_data_is_reported_with_the_fix(tmp_path: Path) -> None:
    gone = tmp_path / "template" / post.COURSE_DATA_DIR
    (tmp_path / "repo").mkdir()
    done = post.post_generate(tmp_path / "repo", EXAMPLE, "copier", "copy", dt.date(2026, 1, 2), gone)
    assert any(
        d.startswith("warning: the course data (data/inspection/train, data/inspection/eval) was not copied")
        and f"{gone} does not exist" in d
        and "course-data/ folder" in d
        for d in done
    )
    # an old cookiecutter gives no template folder: said too; on update nothing is said
    (tmp_path / "old").mkdir()
    done = post.post_generate(tmp_path / "old", EXAMPLE, "cookiecutter", "copy", dt.date(2026, 1, 2))
    assert any("the tool did not say where the template is" in d for d in done)
    assert post.post_generate(tmp_path / "old", EXAMPLE, "copier", "update", dt.date(2026, 1, 2)) == []


def test_post_gen_script_copies_course_data_for_both_tools(tmp_path: Path) -> None:
    source = course_data(tmp_path)
    script = str(KIT / "hooks" / "post_gen_project.py")
    runs = {
        "copier": [
            *("--tool", "copier", "--operation", "update"),
            *("--answers", json.dumps(EXAMPLE), "--course-data", str(source)),
        ],
        # cookiecutter's answers name its template folder; the course data sits beside the payload
        "cookiecutter": ["--answers", json.dumps({**EXAMPLE, "_repo_dir": str(source.parent)})],
    }
    for tool, args in runs.items():
        repo = tmp_path / tool
        repo.mkdir()
        result = subprocess.run(
            [sys.executable, script, *args], cwd=repo, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "copied 3 course data files" in result.stdout, tool
        assert (repo / "data/inspection/train/dent-0001.png").read_text(encoding="utf-8") == "course dent"


def test_migrations_move_the_students_file(tmp_path: Path) -> None:
    write(tmp_path, {"docs/old.md": "mine\n", "docs/new.md": "template\n"})
    renames = (migrations.Rename("v0.2.0", "docs/old.md", "docs/new.md"), migrations.Rename("v0.3.0", "x", "y"))
    assert migrations.apply_renames(tmp_path, "v0.2.0", renames) == ["docs/old.md -> docs/new.md"]
    assert (tmp_path / "docs/new.md").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "docs/old.md").exists()
    assert migrations.apply_renames(tmp_path, "v0.2.0", renames) == []
    assert migrations.versions(renames) == ["v0.2.0", "v0.3.0"]
