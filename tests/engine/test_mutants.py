"""The mutant and variant mechanism: overlays and declarative edits of a reference, the judgements
"caught" (mutants) and "at full marks" (variants), and ``capstone variant add``."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from graders.engine import mutants, variants
from graders.engine.labs import Lab
from graders.engine.model import CheckResult, LabResult, Status
from graders.instructor import variant_add

from .conftest import SUBMISSIONS


@pytest.fixture(scope="module")
def baseline(lab01: Lab) -> LabResult:
    from graders.engine.session import grade_labs

    return grade_labs(SUBMISSIONS / "good", [lab01]).lab("lab01")


def test_mutants_load_from_the_grader_package(lab01: Lab) -> None:
    loaded = {m.id: m for m in mutants.load_mutants(lab01)}
    assert set(loaded) == {
        "region-missing", "one-line-only", "silent-hello", "no-readme-no-notes", "harmless", "hello-to-stderr"
    }
    assert loaded["region-missing"].edits[0].kind == "yaml_delete"
    assert loaded["hello-to-stderr"].overlay is not None and not loaded["hello-to-stderr"].edits


@pytest.mark.parametrize(
    "mutant_id", ["region-missing", "one-line-only", "silent-hello", "no-readme-no-notes", "hello-to-stderr"]
)
def test_realistic_mutants_are_caught(lab01: Lab, baseline: LabResult, mutant_id: str) -> None:
    mutant = next(m for m in mutants.load_mutants(lab01) if m.id == mutant_id)
    outcome = mutants.run_mutant(mutant, SUBMISSIONS / "good", lab01, baseline)
    assert outcome.caught, outcome.message
    assert outcome.score < baseline.score


def test_a_mutant_no_check_notices_is_reported_not_caught(lab01: Lab, baseline: LabResult) -> None:
    mutant = next(m for m in mutants.load_mutants(lab01) if m.id == "harmless")
    outcome = mutants.run_mutant(mutant, SUBMISSIONS / "good", lab01, baseline)
    assert not outcome.caught
    assert outcome.message == "still passing: lab01.notes"


def test_reference_is_never_modified(lab01: Lab, baseline: LabResult) -> None:
    before = (SUBMISSIONS / "good" / "config.yaml").read_text()
    for mutant in mutants.load_mutants(lab01):
        mutants.run_mutant(mutant, SUBMISSIONS / "good", lab01, baseline)
    assert (SUBMISSIONS / "good" / "config.yaml").read_text() == before
    assert (SUBMISSIONS / "good" / "README.md").exists()


def _edit(tmp_path: Path, raw: dict) -> Path:
    edit = mutants._parse_edit(raw, "test")
    mutants.apply_edit(tmp_path, edit)
    return tmp_path / raw["file"]


def test_yaml_set_with_where_picks_the_matching_document(tmp_path: Path) -> None:
    (tmp_path / "k.yaml").write_text(
        "kind: Service\nmetadata: {name: api}\n---\nkind: Deployment\nmetadata: {name: green}\n"
        "spec:\n  template:\n    spec:\n      containers:\n      - image: api:1.2\n"
    )
    path = _edit(tmp_path, {"file": "k.yaml", "where": {"kind": "Deployment"},
                            "yaml_set": {"path": "spec.template.spec.containers[0].image", "value": "api:latest"}})
    docs = list(yaml.safe_load_all(path.read_text()))
    assert docs[1]["spec"]["template"]["spec"]["containers"][0]["image"] == "api:latest"
    assert docs[0] == {"kind": "Service", "metadata": {"name": "api"}}


def test_json_set_and_delete(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text(json.dumps({"templating": {"list": [{"name": "plant"}]}, "title": "x"}))
    _edit(tmp_path, {"file": "d.json", "json_delete": "templating.list[0]"})
    path = _edit(tmp_path, {"file": "d.json", "json_set": {"path": "title", "value": "y"}})
    assert json.loads(path.read_text()) == {"templating": {"list": []}, "title": "y"}


def test_stale_replace_is_an_error_naming_mutant_and_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    mutant = mutants.Mutant("stale", "lab01", "", (mutants._parse_edit({"file": "a.py", "replace": "y = 2"}, "t"),),
                            ("lab01.x",))
    with pytest.raises(mutants.MutantError, match=r"mutant lab01/stale edit 0: a\.py: expected 1 occurrence"):
        mutants.apply(mutant, tmp_path)


def test_edit_of_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(mutants.MutantError, match="does not exist in the reference solution"):
        _edit(tmp_path, {"file": "nope.yaml", "yaml_delete": "a"})


def test_edit_needs_exactly_one_kind() -> None:
    with pytest.raises(mutants.MutantError, match="exactly one of"):
        mutants._parse_edit({"file": "a", "replace": "x", "regex": "y"}, "here")


def _full(*ids: str) -> LabResult:
    """A baseline: every check passed with its one point."""
    return LabResult("lab01", "t", [CheckResult(i, i, 1, 1, Status.PASSED) for i in ids])


def test_must_fail_ids_are_checked_against_the_lab() -> None:
    result = LabResult("lab01", "t", [CheckResult("lab01.a", "a", 1, 0, Status.FAILED)])
    mutant = mutants.Mutant("m", "lab01", "", (), ("lab01.typo",))
    outcome = mutants.judge(mutant, result, _full("lab01.a"))
    assert not outcome.caught and "unknown check id(s) in must_fail: lab01.typo" in outcome.message


def test_caught_requires_a_score_drop() -> None:
    result = LabResult("lab01", "t", [CheckResult("lab01.a", "a", 1, 1, Status.FAILED)])
    outcome = mutants.judge(mutants.Mutant("m", "lab01", "", (), ("lab01.a",)), result, _full("lab01.a"))
    assert not outcome.caught and outcome.message == "the lab score did not drop"


# -- overlays -------------------------------------------------------------------------------------------
def _yaml_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grader" / "variants.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_overlay_files_replace_the_reference_then_edits_apply(tmp_path: Path) -> None:
    overlay = tmp_path / "grader" / "variants" / "v"
    (overlay / "src").mkdir(parents=True)
    (overlay / "src" / "a.py").write_text("new = 1\n")
    (overlay / "src" / "__pycache__").mkdir()
    (overlay / "src" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("old = 1\n")
    (root / "b.txt").write_text("keep\n")
    change = variants.Variant("v", "lab01", "d", (mutants._parse_edit({"file": "src/a.py", "append": "x = 2\n"}, "t"),),
                              overlay)
    mutants.apply(change, root)
    assert (root / "src" / "a.py").read_text() == "new = 1\nx = 2\n"
    assert (root / "b.txt").read_text() == "keep\n" and not (root / "src" / "__pycache__").exists()


def test_fingerprint_follows_the_overlay_content(tmp_path: Path) -> None:
    overlay = tmp_path / "o"
    overlay.mkdir()
    (overlay / "a.txt").write_text("1")
    change = variants.Variant("v", "lab01", "d", (), overlay)
    before = mutants.fingerprint(change)
    (overlay / "a.txt").write_text("2")
    assert mutants.fingerprint(change) != before
    assert before != mutants.fingerprint(mutants.Mutant("v", "lab01", "d", (), ("lab01.x",), overlay))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  - id: v\n    description: d\n    overlay: variants/no\n", "overlay folder 'variants/no' does not exist"),
        ("  - id: v\n    description: d\n    overlay: ../../etc\n", "leaves the grader package"),
        ("  - id: v\n    description: d\n", "give an 'overlay' folder, 'edits' or both"),
        ("  - id: v\n    overlay: variants/v\n", "a variant needs a 'description'"),
        ("  - id: v\n    description: d\n    edits: [{file: a, write: x}]\n  - id: v\n    description: e\n"
         "    edits: [{file: a, write: y}]\n", "duplicate id 'v'"),
    ],
)
def test_invalid_variant_entries_name_the_file_and_the_fix(tmp_path: Path, entry: str, message: str) -> None:
    path = _yaml_file(tmp_path, "variants:\n" + entry)
    (path.parent / "variants" / "v").mkdir(parents=True)
    (path.parent / "variants" / "v" / "f.txt").write_text("x")
    lab = _lab_at(path.parent)
    with pytest.raises(mutants.MutantError, match=re.escape(message)):
        variants.load_variants(lab)


def _lab_at(grader: Path) -> Lab:
    """A Lab whose grader package is ``grader`` (only grader_dir() is used by the loaders)."""

    class _Lab:
        id = "lab01"

        @staticmethod
        def grader_dir() -> Path:
            return grader

    return _Lab()  # type: ignore[return-value]


# -- variants ---------------------------------------------------------------------------------------------
def test_variants_load_from_the_grader_package(lab01: Lab) -> None:
    loaded = {v.id: v for v in variants.load_variants(lab01)}
    assert set(loaded) == {"block-style-config", "greeting-function"}
    assert loaded["greeting-function"].edits[0].kind == "append"
    readme = (lab01.grader_dir() / "variants" / "README.md").read_text()  # type: ignore[operator]
    assert all(f"- {variant_id}: " in readme for variant_id in loaded)


@pytest.mark.parametrize("variant_id", ["block-style-config", "greeting-function"])
def test_correct_variants_are_at_full_marks(lab01: Lab, variant_id: str) -> None:
    """greeting-function ships tests/test_hello.py that fails if collected: variant folders are not checks."""
    variant = next(v for v in variants.load_variants(lab01) if v.id == variant_id)
    outcome = variants.run_variant(variant, SUBMISSIONS / "good", lab01)
    assert outcome.full_marks, outcome.message
    assert outcome.score == outcome.max_score == 12


def test_a_variant_that_loses_points_names_the_check_and_its_feedback(lab01: Lab, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("plant: RVB01\nlines: [press-1, weld-2]\n")
    outcome = variants.run_variant(variants.Variant("no-region", "lab01", "d", (), tmp_path), SUBMISSIONS / "good",
                                   lab01)
    assert not outcome.full_marks and outcome.score < outcome.max_score
    assert outcome.message.startswith("scored ") and "lab01.config_keys (failed" in outcome.message
    assert "config.yaml needs a 'region' key" in outcome.message


# -- capstone variant add ---------------------------------------------------------------------------------
@pytest.fixture
def grader_copy(tmp_path: Path, lab01: Lab) -> Iterator[Lab]:
    """lab01 of the fixture labs with its grader package copied, so adding a variant writes to the copy."""
    package = tmp_path / "pkgs" / "copied_graders"
    shutil.copytree(lab01.grader_dir(), package / "lab01")  # type: ignore[arg-type]
    (package / "__init__.py").write_text("")
    sys.path.insert(0, str(package.parent))
    yield dataclasses.replace(lab01, grader="copied_graders.lab01")
    sys.path.remove(str(package.parent))
    for name in [m for m in sys.modules if m.startswith("copied_graders")]:
        del sys.modules[name]


def test_variant_add_copies_the_differing_lab_files_and_registers_them(
    grader_copy: Lab, submission_copy: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    submission = submission_copy("good")
    (submission / "config.yaml").write_text("plant: RVB01\nregion: europe-west4\nlines:\n- press-1\n- weld-2\n")
    (submission / "hello.py").write_text("print('hello')  # single quotes\n")
    (submission / "notes.md").write_text("other notes\n")  # not a lab file of the fixture lab
    added = variant_add.add_variant(grader_copy, SUBMISSIONS / "good", submission, "list-block",
                                    "lines as a block list", extra=["hello.py"])
    grader = grader_copy.grader_dir()
    assert grader is not None and added.files == ["config.yaml", "hello.py"]
    assert (grader / "variants/list-block/config.yaml").read_text().endswith("- weld-2\n")
    assert not (grader / "variants/list-block/notes.md").exists()
    loaded = {v.id: v for v in variants.load_variants(grader_copy)}
    assert loaded["list-block"].description == "lines as a block list" and len(loaded) == 3
    assert "# Correct answers in other forms" in (grader / "variants.yaml").read_text()  # comments kept
    assert (grader / "variants/README.md").read_text().endswith("- list-block: lines as a block list\n")
    outcome = variants.run_variant(loaded["list-block"], SUBMISSIONS / "good", grader_copy)
    assert outcome.full_marks, outcome.message


def test_variant_add_refuses_a_taken_id_and_a_submission_without_changes(
    grader_copy: Lab, submission_copy: Callable[[str], Path]
) -> None:
    submission = submission_copy("good")
    with pytest.raises(variant_add.VariantAddError, match="nothing to add"):
        variant_add.add_variant(grader_copy, SUBMISSIONS / "good", submission, "same", "identical")
    (submission / "config.yaml").write_text("plant: X\n")
    with pytest.raises(variant_add.VariantAddError, match="already has a variant 'block-style-config'"):
        variant_add.add_variant(grader_copy, SUBMISSIONS / "good", submission, "block-style-config", "again")
    with pytest.raises(variant_add.VariantAddError, match="lowercase letters"):
        variant_add.add_variant(grader_copy, SUBMISSIONS / "good", submission, "Bad Id", "x")


def test_variant_add_creates_the_files_of_a_lab_without_variants(
    grader_copy: Lab, submission_copy: Callable[[str], Path]
) -> None:
    grader = grader_copy.grader_dir()
    assert grader is not None
    (grader / "variants.yaml").unlink()
    shutil.rmtree(grader / "variants")
    submission = submission_copy("good")
    (submission / "config.yaml").write_text("{plant: RVB01, region: europe-west4, lines: [press-1, weld-2]}\n")
    variant_add.add_variant(grader_copy, SUBMISSIONS / "good", submission, "flow", "one flow mapping")
    assert [v.id for v in variants.load_variants(grader_copy)] == ["flow"]
    assert (grader / "variants/README.md").read_text().startswith("# lab01 variants")


def test_capstone_variant_add_grades_the_new_variant(
    grader_copy: Lab, submission_copy: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from graders.cli import main

    kit = tmp_path / "kit"
    shutil.copytree(grader_copy.directory, kit / "labs" / "lab01")
    lab_yaml = kit / "labs" / "lab01" / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text().replace("fixture_graders.lab01", "copied_graders.lab01"))
    shutil.copytree(SUBMISSIONS / "good", kit / "reference_solution")
    submission = submission_copy("good")
    (submission / "config.yaml").write_text("plant: RVB01\nregion: europe-west4\nlines: [press-1]\n")
    argv = ["variant", "add", "lab01", str(submission), "--id", "one-line", "--description", "one line", "--kit"]
    assert main([*argv, str(kit)]) == 1
    out = capsys.readouterr().out
    assert "added lab01 variant one-line" in out and "  config.yaml\n" in out
    assert "lab01: 11/12: NOT at full marks (a grader bug to fix):" in out
    assert "lab01.lines (failed, 1/2: config.yaml lists one production line" in out
    assert main(["variant", "add", "lab01", str(submission), "--id", "one-line", "--description", "x", "--kit",
                 str(kit)]) == 1
    assert "already has a variant 'one-line'" in capsys.readouterr().err
