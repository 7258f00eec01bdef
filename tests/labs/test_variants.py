"""Every lab's variants (correct answers in other forms, ``graders/labNN/variants.yaml``) keep full marks.

Derived from the catalogue, so a variant added to any lab is graded here without a new test. Each
variant is graded through the test run's grade cache, so the ``capstone verify`` test after the suite
reads the result instead of grading it again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from graders.engine import mutants, variants
from graders.engine.cache import GradeCache
from graders.engine.labs import Lab, load_catalog
from graders.engine.model import LabResult

from .conftest import REFERENCE

CATALOG = load_catalog()
INSTALLED = [pytest.param(lab, id=lab.id) for lab in CATALOG if lab.grader_dir() is not None]
README_LINE = re.compile(r"^- (?P<id>[a-z0-9][a-z0-9-]*): \S", re.MULTILINE)


def _changed_files(variant: variants.Variant) -> list[str]:
    overlay = mutants.overlay_files(variant.overlay) if variant.overlay is not None else []
    return overlay + [edit.file for edit in variant.edits]


def _all_variants() -> list[object]:
    """One param per variant of every lab; grading one starts the lab's real tools (10-50 s), so all are slow."""
    return [
        pytest.param(lab, variant, id=f"{lab.id}-{variant.id}", marks=[pytest.mark.slow])
        for lab in CATALOG
        if lab.grader_dir() is not None
        for variant in variants.load_variants(lab)
    ]


@pytest.mark.parametrize("lab", INSTALLED)
def test_variants_load_and_each_has_its_readme_line(lab: Lab) -> None:
    found = variants.load_variants(lab)  # raises MutantError naming file and entry
    if not found:
        return
    readme = lab.grader_dir() / variants.FOLDER / "README.md"  # type: ignore[operator]
    assert readme.is_file(), f"{lab.id}: {readme} is missing (one line per variant: '- <id>: how it differs')"
    listed = set(README_LINE.findall(readme.read_text(encoding="utf-8")))
    missing = sorted({v.id for v in found} - listed)
    assert not missing, f"{lab.id}: variants without a line in {readme.name}: {missing}"


@pytest.mark.parametrize("lab", INSTALLED)
def test_variant_edits_apply_and_overlays_stay_inside_the_repository(lab: Lab, tmp_path: Path) -> None:
    """Each overlay file lands at a repository path; each edit still finds its text (on copies of the files)."""
    import shutil

    for variant in variants.load_variants(lab):
        copy = tmp_path / variant.id
        for rel in {edit.file for edit in variant.edits}:
            if (REFERENCE / rel).is_file():
                (copy / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REFERENCE / rel, copy / rel)
        copy.mkdir(exist_ok=True)
        mutants.apply(variant, copy)
        assert all((copy / rel).resolve().is_relative_to(copy.resolve()) for rel in _changed_files(variant))


@pytest.mark.parametrize(("lab", "variant"), _all_variants())
def test_variant_scores_full_marks(
    lab: Lab, variant: variants.Variant, reference_grade: Callable[[str], LabResult], grade_cache: GradeCache
) -> None:
    assert reference_grade(lab.id).score == reference_grade(lab.id).max_score, "the reference lost points first"
    outcome = variants.run_variant(variant, REFERENCE, lab, cache=grade_cache)
    assert outcome.full_marks, f"{lab.id} variant {variant.id} ({variant.description}): {outcome.message}"
