"""The grade cache: a hit only for an identical tree, lab and mutant; used only when a caller passes one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graders.engine import mutants, session
from graders.engine.cache import GradeCache, cached_grade, user_cache_dir
from graders.engine.labs import Lab

from .conftest import SUBMISSIONS, scores


@pytest.fixture
def cache(tmp_path: Path) -> GradeCache:
    return GradeCache(tmp_path / "cache")


@pytest.fixture
def graded_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The trees that were really graded (not answered from the cache)."""
    calls: list[Path] = []
    real = session.grade_labs

    def counting(root: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(root)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(session, "grade_labs", counting)
    return calls


Copy = Callable[..., Path]


def test_an_identical_tree_is_graded_once(
    lab01: Lab, submission_copy: Copy, cache: GradeCache, graded_calls: list[Path]
) -> None:
    first = cached_grade(cache, submission_copy("good", "a"), [lab01])
    second = cached_grade(cache, submission_copy("good", "b"), [lab01])  # same content, another folder
    assert len(graded_calls) == 1
    assert scores(first) == scores(second)


def test_one_changed_byte_is_graded_again(
    lab01: Lab, submission_copy: Copy, cache: GradeCache, graded_calls: list[Path]
) -> None:
    cached_grade(cache, submission_copy("good", "a"), [lab01])
    changed = submission_copy("good", "b")
    config = changed / "config.yaml"
    config.write_text(config.read_text() + " ")
    cached_grade(cache, changed, [lab01])
    assert len(graded_calls) == 2


def test_tool_caches_in_the_tree_are_not_part_of_its_key(
    lab01: Lab, submission_copy: Copy, cache: GradeCache, graded_calls: list[Path]
) -> None:
    """Running the reference's own tests (hypothesis's example database, bytecode) keeps its grades."""
    cached_grade(cache, submission_copy("good", "a"), [lab01])
    again = submission_copy("good", "b")
    for tool_cache in (".hypothesis/examples/0a", "__pycache__/hello.cpython-311.pyc"):
        (again / tool_cache).parent.mkdir(parents=True)
        (again / tool_cache).write_bytes(b"\0")
    cached_grade(cache, again, [lab01])
    assert len(graded_calls) == 1


def test_nothing_is_cached_without_a_cache(lab01: Lab, submission_copy: Copy, graded_calls: list[Path]) -> None:
    root = submission_copy("good", "a")
    cached_grade(None, root, [lab01])
    cached_grade(None, root, [lab01])
    assert len(graded_calls) == 2


def test_grade_labs_has_no_cache_switch() -> None:
    """Students' grading never reads a cache: the product API takes none and reads no environment switch."""
    import inspect

    assert "cacheable" not in inspect.signature(session.grade_labs).parameters
    assert "CAPSTONE_GRADE_CACHE" not in Path(session.__file__).read_text(encoding="utf-8")


def test_an_edit_to_one_lab_changes_only_its_keys(
    fixture_labs: list[Lab], tmp_path: Path, cache: GradeCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lab's key covers its own metadata and grader, not another lab's: editing one re-grades that lab only."""
    import dataclasses
    import shutil

    lab01, lab02 = (next(lab for lab in fixture_labs if lab.id == i) for i in ("lab01", "lab02"))
    before = {lab.id: cache.key(SUBMISSIONS / "good", lab, None) for lab in (lab01, lab02)}
    edited = tmp_path / "lab02"
    shutil.copytree(lab02.directory, edited)
    (edited / "lab.yaml").write_text((edited / "lab.yaml").read_text() + "\n# edited\n")
    after = cache.key(SUBMISSIONS / "good", dataclasses.replace(lab02, directory=edited), None)
    assert after != before["lab02"]
    assert cache.key(SUBMISSIONS / "good", lab01, None) == before["lab01"]


def test_a_truncated_entry_is_graded_again(
    lab01: Lab, submission_copy: Copy, cache: GradeCache, graded_calls: list[Path]
) -> None:
    root = submission_copy("good", "a")
    cached_grade(cache, root, [lab01])
    for entry in cache.directory.glob("*.json"):
        entry.write_text('{"id": ')
    cached_grade(cache, root, [lab01])
    assert len(graded_calls) == 2


def test_the_user_cache_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache_dir() == tmp_path / "capstone-kit" / "grades"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache_dir() == Path.home() / ".cache" / "capstone-kit" / "grades"


def test_a_cached_mutant_needs_no_copy_and_each_mutant_has_its_own_entry(
    lab01: Lab, cache: GradeCache, monkeypatch: pytest.MonkeyPatch, graded_calls: list[Path]
) -> None:
    loaded = {m.id: m for m in mutants.load_mutants(lab01)}
    first = mutants.grade_change(loaded["region-missing"], SUBMISSIONS / "good", lab01, cache=cache)

    def no_copy(*args: Any) -> Path:
        raise AssertionError("a cached mutant was copied")

    with monkeypatch.context() as patch:
        patch.setattr(mutants, "copy_reference", no_copy)
        again = mutants.grade_change(loaded["region-missing"], SUBMISSIONS / "good", lab01, cache=cache)
    other = mutants.grade_change(loaded["silent-hello"], SUBMISSIONS / "good", lab01, cache=cache)
    assert len(graded_calls) == 2
    assert [(c.id, c.status) for c in again.checks] == [(c.id, c.status) for c in first.checks]
    assert again.score == first.score != other.score
