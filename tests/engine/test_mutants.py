"""The mutant mechanism: declarative edits of a reference, and the judgement "caught"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from graders.engine import mutants
from graders.engine.labs import Lab
from graders.engine.model import CheckResult, LabResult, Status

from .conftest import SUBMISSIONS


@pytest.fixture(scope="module")
def baseline(lab01: Lab) -> float:
    from graders.engine.session import grade_labs

    return grade_labs(SUBMISSIONS / "good", [lab01]).lab("lab01").score


def test_mutants_load_from_the_grader_package(lab01: Lab) -> None:
    loaded = {m.id: m for m in mutants.load_mutants(lab01)}
    assert set(loaded) == {"region-missing", "one-line-only", "silent-hello", "no-readme-no-notes", "harmless"}
    assert loaded["region-missing"].edits[0].kind == "yaml_delete"


@pytest.mark.parametrize("mutant_id", ["region-missing", "one-line-only", "silent-hello", "no-readme-no-notes"])
def test_realistic_mutants_are_caught(lab01: Lab, baseline: float, mutant_id: str) -> None:
    mutant = next(m for m in mutants.load_mutants(lab01) if m.id == mutant_id)
    outcome = mutants.run_mutant(mutant, SUBMISSIONS / "good", lab01, baseline)
    assert outcome.caught, outcome.message
    assert outcome.score < baseline


def test_a_mutant_no_check_notices_is_reported_not_caught(lab01: Lab, baseline: float) -> None:
    mutant = next(m for m in mutants.load_mutants(lab01) if m.id == "harmless")
    outcome = mutants.run_mutant(mutant, SUBMISSIONS / "good", lab01, baseline)
    assert not outcome.caught
    assert outcome.message == "still passing: lab01.notes"


def test_reference_is_never_modified(lab01: Lab, baseline: float) -> None:
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


def test_must_fail_ids_are_checked_against_the_lab() -> None:
    result = LabResult("lab01", "t", [CheckResult("lab01.a", "a", 1, 0, Status.FAILED)])
    mutant = mutants.Mutant("m", "lab01", "", (), ("lab01.typo",))
    outcome = mutants.judge(mutant, result, baseline_score=1)
    assert not outcome.caught and "unknown check id(s) in must_fail: lab01.typo" in outcome.message


def test_caught_requires_a_score_drop() -> None:
    result = LabResult("lab01", "t", [CheckResult("lab01.a", "a", 1, 1, Status.FAILED)])
    outcome = mutants.judge(mutants.Mutant("m", "lab01", "", (), ("lab01.a",)), result, baseline_score=1)
    assert not outcome.caught and outcome.message == "the lab score did not drop"
