"""Course updates reach students without losing their work (``copier update`` between two tagged releases).

A temporary course repository holds the template at v0.1.0; a student stamps their repository from
it and commits work in several lab files. The course then releases v0.2.0 (a reworded prompt where
the student also wrote, new lines elsewhere, a new file, a changed progress sheet) and the student
updates. No student line may be lost, the new content must arrive, the overlapping edit must
surface as a conflict that the generated pre-commit hook refuses, and student-owned files stay theirs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from graders.instructor import build, copier_config, render

from .conftest import KIT

# One worker builds the updated repository once for the module's tests (its fixture takes about 30 s).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("copier-update")]
PAYLOAD = copier_config.PAYLOAD_DIR
PIN = ".github/graders-requirements.txt"


def git(root: Path, *args: str) -> str:
    command = [
        "git",
        "-c",
        "user.name=Course Team",
        "-c",
        "user.email=course@example.com",
        "-c",
        "commit.gpgsign=false",
    ]
    result = subprocess.run([*command, *args], cwd=root, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def release(course: Path, tag: str) -> None:
    git(course, "add", "--all")
    git(course, "commit", "-q", "-m", f"Release {tag}")
    git(course, "tag", tag)


def todo_files(payload: Path, count: int) -> list[str]:
    """Plain (not rendered) starter files with a TODO(labNN) line well inside them, from different labs."""
    chosen: dict[str, str] = {}
    for path in sorted(payload.rglob("*")):
        if not path.is_file() or path.suffix in (".jinja", ".ipynb", ".json") or "notebooks" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for i, line in enumerate(lines):
            if "TODO(lab" in line and 3 <= i <= len(lines) - 8:
                lab = line.split("TODO(", 1)[1][:5]
                chosen.setdefault(lab, path.relative_to(payload).as_posix())
                break
    assert len(chosen) >= count, f"need TODO prompts of {count} labs in the starter, found {sorted(chosen)}"
    return [chosen[lab] for lab in sorted(chosen)[:count]]


def replace_todo_line(path: Path, new: str) -> str:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "TODO(lab" in line)
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    comment = "<!-- " if path.suffix == ".md" else "# "
    closing = " -->" if path.suffix == ".md" else ""
    replaced = f"{indent}{comment}{new}{closing}\n"
    lines[index] = replaced
    path.write_text("".join(lines), encoding="utf-8")
    return replaced.strip()


@pytest.fixture(scope="module")
def updated(starter_build: build.BuildResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("update")
    course = build.stage_template(KIT, base / "course", starter_build)
    payload = course / "template" / PAYLOAD
    git(course, "init", "-q", "-b", "main")
    release(course, "v0.1.0")

    student = base / "student"
    copier.run_copy(str(course), str(student), vcs_ref="v0.1.0", defaults=True, unsafe=True, quiet=True)
    pinned_at_copy = (student / PIN).read_text(encoding="utf-8")
    overlap, merged, appended = todo_files(payload, 3)
    student_lines = {
        overlap: replace_todo_line(student / overlap, "student: my own answer to this prompt"),
        merged: replace_todo_line(student / merged, "student: solved it this way"),
    }
    with (student / appended).open("a", encoding="utf-8") as fh:
        fh.write("# student: a note at the end\n")
    student_lines[appended] = "# student: a note at the end"
    # lab01: the student regenerates one training image and drops another (DVC tracks the data)
    images = sorted((student / "data/inspection/train").glob("*.png"))
    regenerated, dropped = images[0], images[1]
    regenerated.write_bytes(b"\x89PNG student's regenerated image")
    dropped.unlink()
    progress = student / "capstone-progress.csv"
    progress.write_text(progress.read_text(encoding="utf-8").replace("lab01,", "lab01 (done),", 1), encoding="utf-8")
    git(student, "add", "--all")
    git(student, "commit", "-q", "-m", "My work")

    # v0.2.0: reword the prompt the student rewrote (overlap), add a line far from the student's edit,
    # add a file, and change the student-owned progress sheet.
    course_lines = {overlap: replace_todo_line(payload / overlap, "course v0.2.0: a clearer prompt")}
    with (payload / merged).open("a", encoding="utf-8") as fh:
        fh.write("# course v0.2.0: a line added at the end\n")
    course_lines[merged] = "# course v0.2.0: a line added at the end"
    (payload / "docs").mkdir(exist_ok=True)
    (payload / "docs/course-notes-v2.md").write_text("# New in v0.2.0\n", encoding="utf-8")
    sheet = payload / "capstone-progress.csv"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "extra,row,from,the,course,\n", encoding="utf-8")
    # the graders' pin, as `capstone build` renders it from the kit's pyproject.toml at version 0.2.0
    pin = payload / PIN
    pin.write_text(pin.read_text(encoding="utf-8").replace("@v0.1.0", "@v0.2.0"), encoding="utf-8")
    course_data = course / "template" / "course-data" / "data/inspection/train"
    (course_data / regenerated.name).write_bytes(b"\x89PNG the course's new version")
    (course_data / "scratch-9999.png").write_bytes(b"\x89PNG an image added in v0.2.0")
    release(course, "v0.2.0")

    copier.run_update(
        str(student), vcs_ref="v0.2.0", defaults=True, overwrite=True, unsafe=True, quiet=True, conflict="inline"
    )
    return {
        "student": student,
        "overlap": overlap,
        "merged": merged,
        "appended": appended,
        "student_lines": student_lines,
        "course_lines": course_lines,
        "regenerated": regenerated,
        "dropped": dropped,
        "pinned_at_copy": pinned_at_copy,
    }


def test_no_student_line_is_lost(updated: dict[str, Any]) -> None:
    for rel, line in updated["student_lines"].items():
        assert line in (updated["student"] / rel).read_text(encoding="utf-8"), rel


def test_new_template_content_arrives(updated: dict[str, Any]) -> None:
    student = updated["student"]
    merged = (student / updated["merged"]).read_text(encoding="utf-8")
    assert updated["course_lines"][updated["merged"]] in merged
    assert "<<<<<<<" not in merged  # far-apart edits merge cleanly
    assert (student / "docs/course-notes-v2.md").read_text(encoding="utf-8") == "# New in v0.2.0\n"
    assert yaml.safe_load((student / render.ANSWERS_FILE).read_text(encoding="utf-8"))["_commit"] == "v0.2.0"


def test_overlapping_edits_surface_as_conflicts(updated: dict[str, Any]) -> None:
    text = (updated["student"] / updated["overlap"]).read_text(encoding="utf-8")
    assert "<<<<<<< before updating" in text and ">>>>>>> after updating" in text
    assert updated["course_lines"][updated["overlap"]] in text  # both sides are shown


def test_the_pre_commit_hook_refuses_leftover_conflict_markers(updated: dict[str, Any]) -> None:
    student = updated["student"]
    config = yaml.safe_load((student / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert hooks["check-merge-conflict"].get("args") == ["--assume-in-merge"]
    check = [sys.executable, "-m", "pre_commit_hooks.check_merge_conflict", "--assume-in-merge"]
    run = subprocess.run([*check, updated["overlap"]], cwd=student, capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "Merge conflict string" in run.stdout
    clean = subprocess.run([*check, updated["merged"]], cwd=student, capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stdout


def test_student_owned_files_are_never_overwritten(updated: dict[str, Any]) -> None:
    sheet = (updated["student"] / "capstone-progress.csv").read_text(encoding="utf-8")
    assert "lab01 (done)," in sheet and "from,the,course" not in sheet


def test_course_data_stays_the_students(updated: dict[str, Any]) -> None:
    """The images are the student's once copied: kept as regenerated, not brought back; new ones arrive."""
    assert updated["regenerated"].read_bytes() == b"\x89PNG student's regenerated image"
    assert not updated["dropped"].exists()
    added = updated["student"] / "data/inspection/train/scratch-9999.png"
    assert added.read_bytes() == b"\x89PNG an image added in v0.2.0"
    assert not list(updated["student"].glob("data/inspection/train/*.rej"))


def test_the_graders_pin_follows_the_release(updated: dict[str, Any]) -> None:
    """`make grade` and Classroom install the graders of the release the repository is at, copy and update."""
    assert updated["pinned_at_copy"].rstrip().endswith("@v0.1.0")
    assert (updated["student"] / PIN).read_text(encoding="utf-8").rstrip().endswith("@v0.2.0")
