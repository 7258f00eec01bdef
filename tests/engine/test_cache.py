"""The kit's test cache of lab results: a hit only for an identical tree, grader and mutant; off by default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graders.engine import mutants, session
from graders.engine.cache import ENV, GradeCache
from graders.engine.labs import Lab
from graders.engine.session import grade_labs

from .conftest import SUBMISSIONS, scores


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(ENV, str(folder))
    return folder


@pytest.fixture
def graded_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The trees that were really graded (not answered from the cache)."""
    calls: list[Path] = []
    real = session._grade_uncached

    def counting(root: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(root)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(session, "_grade_uncached", counting)
    return calls


Copy = Callable[..., Path]


def test_an_identical_tree_is_graded_once(
    lab01: Lab, submission_copy: Copy, cache_dir: Path, graded_calls: list[Path]
) -> None:
    first = grade_labs(submission_copy("good", "a"), [lab01], cacheable=True)
    second = grade_labs(submission_copy("good", "b"), [lab01], cacheable=True)  # same content, another folder
    assert len(graded_calls) == 1
    assert scores(first) == scores(second)


def test_one_changed_byte_is_graded_again(
    lab01: Lab, submission_copy: Copy, cache_dir: Path, graded_calls: list[Path]
) -> None:
    grade_labs(submission_copy("good", "a"), [lab01], cacheable=True)
    changed = submission_copy("good", "b")
    config = changed / "config.yaml"
    config.write_text(config.read_text() + " ")
    grade_labs(changed, [lab01], cacheable=True)
    assert len(graded_calls) == 2


def test_nothing_is_cached_without_the_switch(
    lab01: Lab, submission_copy: Copy, monkeypatch: pytest.MonkeyPatch, graded_calls: list[Path]
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert GradeCache.from_env() is None
    root = submission_copy("good", "a")
    grade_labs(root, [lab01], cacheable=True)
    grade_labs(root, [lab01], cacheable=True)
    assert len(graded_calls) == 2


def test_a_cached_mutant_needs_no_copy_and_each_mutant_has_its_own_entry(
    lab01: Lab, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, graded_calls: list[Path]
) -> None:
    loaded = {m.id: m for m in mutants.load_mutants(lab01)}
    first = mutants.grade_mutant(loaded["region-missing"], SUBMISSIONS / "good", lab01)

    def no_copy(*args: Any) -> Path:
        raise AssertionError("a cached mutant was copied")

    with monkeypatch.context() as patch:
        patch.setattr(mutants, "copy_reference", no_copy)
        again = mutants.grade_mutant(loaded["region-missing"], SUBMISSIONS / "good", lab01)
    other = mutants.grade_mutant(loaded["silent-hello"], SUBMISSIONS / "good", lab01)
    assert len(graded_calls) == 2
    assert [(c.id, c.status) for c in again.checks] == [(c.id, c.status) for c in first.checks]
    assert again.score == first.score != other.score
