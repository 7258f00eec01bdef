"""lab.yaml is validated against its schema, and a bad file gets a message naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graders.engine.labs import LabMetadataError, load_catalog, load_lab, select

from .conftest import FIXTURE_LABS

KIT_LABS = Path(__file__).resolve().parents[2] / "labs"


def _write(tmp_path: Path, data: dict, folder: str = "lab03") -> Path:
    path = tmp_path / folder / "lab.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def valid() -> dict:
    return yaml.safe_load((KIT_LABS / "lab03" / "lab.yaml").read_text())


def test_the_eight_course_labs_are_valid() -> None:
    labs = load_catalog(KIT_LABS)
    assert [lab.id for lab in labs] == [f"lab0{i}" for i in range(1, 9)]
    assert all(lab.points > 0 and lab.deliverables and lab.objectives for lab in labs)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("points", -5, "field 'points': -5 is less than or equal to the minimum of 0"),
        ("id", "lab9", "field 'id': 'lab9' does not match"),
        ("notebook", "notes.txt", "field 'notebook'"),
        ("deliverables", [], "field 'deliverables': [] should be non-empty"),
        ("grader", "graders lab03", "field 'grader'"),
        ("surprise", 1, "Additional properties are not allowed ('surprise' was unexpected)"),
    ],
)
def test_bad_field_is_named(tmp_path: Path, valid: dict, field: str, value: object, expected: str) -> None:
    valid[field] = value
    with pytest.raises(LabMetadataError) as err:
        load_lab(_write(tmp_path, valid))
    assert expected in str(err.value)
    assert "lab03/lab.yaml" in str(err.value)


def test_missing_required_field_is_named(tmp_path: Path, valid: dict) -> None:
    del valid["title"]
    with pytest.raises(LabMetadataError, match="'title' is a required property"):
        load_lab(_write(tmp_path, valid))


def test_deliverable_paths_may_not_leave_the_repo(tmp_path: Path, valid: dict) -> None:
    valid["deliverables"][0]["path"] = "../outside"
    with pytest.raises(LabMetadataError, match=r"field 'deliverables\.0\.path'"):
        load_lab(_write(tmp_path, valid))


def test_id_must_match_folder(tmp_path: Path, valid: dict) -> None:
    with pytest.raises(LabMetadataError, match="but the folder is 'lab04'"):
        load_lab(_write(tmp_path, valid, folder="lab04"))


def test_broken_yaml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "lab03" / "lab.yaml"
    path.parent.mkdir()
    path.write_text("id: lab03\n  title: [\n")
    with pytest.raises(LabMetadataError, match=r"lab\.yaml: not valid YAML"):
        load_lab(path)


def test_select_unknown_lab_lists_the_valid_ones() -> None:
    catalog = load_catalog(FIXTURE_LABS)
    with pytest.raises(LabMetadataError, match="unknown lab id\\(s\\): lab09; choose from lab01, lab02"):
        select(catalog, ["lab09"])
    assert [lab.id for lab in select(catalog, ["lab02", "lab01", "lab02"])] == ["lab01", "lab02"]
