"""Data versions: DVC 3's hashes, recomputed, and the records that must match them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops import data_version
from mlops.data_version import DataVersionError, Measured, measure, problems, recorded, versions
from tests.conftest import REPO


def test_folder_hash_is_dvcs(tmp_path: Path) -> None:
    """The value DVC's own test suite asserts for a folder holding the files foo and bar."""
    (tmp_path / "d").mkdir()
    for name in ("foo", "bar"):
        (tmp_path / "d" / name).write_text(name, encoding="utf-8")
    assert measure(tmp_path / "d") == Measured("5ea40360f5b4ec688df672a4db9c17d1.dir", 6, 2)
    assert measure(tmp_path / "d" / "foo").md5 == "acbd18db4cc2f85cedef654fccc4a4d8"


def test_the_repositorys_records_match_its_data() -> None:
    paths = {rec.path: rec for rec in recorded(REPO)}
    assert {"data/inspection/train", "data/inspection/eval"} <= set(paths)
    assert paths["data/inspection/eval"].source == "data/inspection/eval.dvc"
    assert paths["data/inspection/train"].source == "dvc.lock (stage generate)"
    assert problems(REPO) == []
    assert versions(REPO)["data/inspection/eval"].endswith(".dir")


def test_a_changed_file_makes_the_record_stale(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "data" / "inspection", root / "data" / "inspection")
    shutil.copy2(REPO / "dvc.lock", root / "dvc.lock")
    labels = root / "data" / "inspection" / "eval" / "labels.csv"
    labels.write_text(labels.read_text(encoding="utf-8").replace("dent-0002.png,dent", "dent-0002.png,scratch"))
    found = problems(root)
    assert len(found) == 1 and found[0].startswith("data/inspection/eval.dvc: data/inspection/eval hashes to")
    with pytest.raises(DataVersionError, match="dvc commit"):
        versions(root)


def test_a_missing_folder_and_a_broken_record_are_named(tmp_path: Path) -> None:
    (tmp_path / "gone.dvc").write_text("outs:\n- path: gone\n  md5: 0123456789abcdef0123456789abcdef.dir\n")
    assert problems(tmp_path) == ["gone.dvc: gone does not exist"]
    (tmp_path / "bad.dvc").write_text("outs: [unclosed\n")
    with pytest.raises(DataVersionError, match=r"bad\.dvc: not valid YAML"):
        recorded(tmp_path)


def test_cli_lists_versions_and_checks(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_PLANT_CONFIG", str(REPO / "config" / "plant.yaml"))
    assert data_version.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert "data/inspection/eval  (data/inspection/eval.dvc)" in out and "STALE" not in out
