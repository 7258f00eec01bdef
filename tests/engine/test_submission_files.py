"""Hostile or broken files in a submission get clear feedback, quickly, never a crash or a hang."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from graders.sdk.submission import Submission, SubmissionFileError

BILLION_LAUGHS = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
    f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "ok.yaml").write_text("services:\n  api:\n    image: copilot:1.2.3\n")
    return root


def test_symlink_to_a_file_outside_the_submission_is_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "grader-secret.txt"
    secret.write_text("token")
    (repo / "notes.md").symlink_to(secret)
    with pytest.raises(SubmissionFileError, match=r"symbolic link to .* outside the repository") as err:
        Submission(repo).read_text("notes.md")
    assert "commit the file itself" in str(err.value)


def test_symlinked_folder_escape_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.yaml").write_text("a: 1\n")
    (repo / "config").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SubmissionFileError, match="outside the repository"):
        Submission(repo).load_yaml("config/x.yaml")
    assert "config/x.yaml" not in Submission(repo).glob("**/*.yaml")


def test_symlink_inside_the_submission_is_fine(repo: Path) -> None:
    (repo / "alias.yaml").symlink_to(repo / "ok.yaml")
    assert Submission(repo).load_yaml("alias.yaml")["services"]["api"]["image"] == "copilot:1.2.3"


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "a/../../x"])
def test_paths_cannot_leave_the_submission(repo: Path, path: str) -> None:
    with pytest.raises(SubmissionFileError, match=r"inside the repository|may not leave"):
        Submission(repo).read_text(path)


def test_billion_laughs_is_rejected_quickly(repo: Path) -> None:
    (repo / "bomb.yaml").write_text(BILLION_LAUGHS)
    started = time.perf_counter()
    with pytest.raises(SubmissionFileError, match="billion laughs") as err:
        Submission(repo).load_yaml("bomb.yaml")
    assert time.perf_counter() - started < 5  # expanding it would take minutes and gigabytes
    assert "bomb.yaml" in str(err.value)


def test_reasonable_anchors_still_load(repo: Path) -> None:
    (repo / "compose.yaml").write_text(
        "x-common: &common\n  restart: always\nservices:\n  api:\n    <<: *common\n  worker:\n    <<: *common\n"
    )
    data = Submission(repo).load_yaml("compose.yaml")
    assert data["services"]["worker"]["restart"] == "always"


def test_200_megabyte_file_is_rejected_without_reading_it(repo: Path) -> None:
    big = repo / "model.bin"
    with big.open("wb") as fh:  # sparse: costs no disk and no time to create
        fh.truncate(200 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(SubmissionFileError, match=r"209\.7 MB, over the grader's limit") as err:
        Submission(repo).read_text("model.bin")
    assert time.perf_counter() - started < 5  # reading it would take seconds and 200 MB
    assert "model.bin" in str(err.value)


def test_invalid_utf8_names_file_line_and_fix(repo: Path) -> None:
    (repo / "runbook.md").write_bytes(b"# Runbook\nline two\ncaf\xe9 latin-1\n")
    with pytest.raises(SubmissionFileError) as err:
        Submission(repo).read_text("runbook.md")
    message = str(err.value)
    assert message.startswith("runbook.md:3 is not valid UTF-8")
    assert "re-save the file with UTF-8 encoding" in message
    assert err.value.location == "runbook.md:3"


def test_yaml_syntax_error_names_the_line(repo: Path) -> None:
    (repo / "broken.yaml").write_text("services:\n  api:\n    image: [unclosed\n  worker: {}\n")
    with pytest.raises(SubmissionFileError, match=r"^broken.yaml:\d+ is not valid YAML") as err:
        Submission(repo).load_yaml("broken.yaml")
    assert err.value.line is not None


def test_json_syntax_error_names_the_line(repo: Path) -> None:
    (repo / "dash.json").write_text('{\n  "a": 1,\n  "b": \n}\n')
    with pytest.raises(SubmissionFileError, match=r"^dash.json:4 is not valid JSON"):
        Submission(repo).load_json("dash.json")


def test_deeply_nested_json_is_refused_not_crashed(repo: Path) -> None:
    (repo / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SubmissionFileError, match="nested too deeply"):
        Submission(repo).load_json("deep.json")


def test_missing_file_says_what_to_create(repo: Path) -> None:
    with pytest.raises(SubmissionFileError, match=r"docs/runbook\.md is missing: create it"):
        Submission(repo).read_text("docs/runbook.md")


def test_binary_file_is_not_text(repo: Path) -> None:
    (repo / "image.md").write_bytes(b"\x00\x01\x02")
    with pytest.raises(SubmissionFileError, match="looks binary"):
        Submission(repo).read_text("image.md")


def test_glob_walks_sorted_and_skips_environments(repo: Path) -> None:
    for rel in ["k8s/b.yaml", "k8s/a.yaml", "k8s/blue-green/x.yaml", ".venv/lib/y.yaml", "node_modules/z.yaml"]:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("a: 1\n")
    sub = Submission(repo)
    assert sub.glob("k8s/**/*.yaml") == ["k8s/a.yaml", "k8s/b.yaml", "k8s/blue-green/x.yaml"]
    assert sub.glob("k8s/*.yaml") == ["k8s/a.yaml", "k8s/b.yaml"]
    assert sub.glob("*.yaml") == ["ok.yaml"]


def test_yaml_line_locates_keys_for_feedback(repo: Path) -> None:
    assert Submission(repo).yaml_line("ok.yaml", ["services", "api", "image"]) == 3


def test_copy_to_skips_links_that_leave_the_submission(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x")
    (repo / "leak").symlink_to(tmp_path / "secret")
    dest = Submission(repo).copy_to(tmp_path / "copy")
    assert (dest / "ok.yaml").exists()
    assert not os.path.lexists(dest / "leak")


def test_engine_turns_file_problems_into_feedback(grade, tmp_path: Path) -> None:
    root = tmp_path / "sub"
    root.mkdir()
    (root / "config.yaml").write_text(BILLION_LAUGHS)
    (root / "notes.md").write_bytes(b"\xff\xfe")
    report = grade(root, labs=["lab01"])
    config = report.check("lab01.config_keys")
    assert config.status.value == "failed" and "billion laughs" in config.feedback
    notes = report.check("lab01.notes")
    assert notes.status.value == "failed" and "not valid UTF-8" in notes.feedback


def test_copy_folder_to_copies_one_folder_and_skips_an_outside_link(repo: Path, tmp_path: Path) -> None:
    (repo / "scripts" / "lib").mkdir(parents=True)
    (repo / "scripts" / "run.py").write_text("print('hi')\n")
    (repo / "scripts" / "lib" / "util.py").write_text("X = 1\n")
    secret = tmp_path / "grader-secret.txt"
    secret.write_text("token")
    (repo / "scripts" / "leak.txt").symlink_to(secret)
    dest = tmp_path / "scratch"
    Submission(repo).copy_folder_to("scripts", dest)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "scripts/lib/util.py",
        "scripts/run.py",
    ]
    assert not (dest / "ok.yaml").exists()
