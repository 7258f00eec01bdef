"""The readiness scorecard: the repository's card is valid, and its Markdown is the rendered YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops import scorecard
from tests.conftest import REPO

pytestmark = pytest.mark.lab("lab01")


def test_the_repositorys_scorecard_is_valid_and_rendered() -> None:
    card = scorecard.load(REPO)
    assert scorecard.problems(REPO, card) == []
    assert (REPO / scorecard.RENDERED).read_text(encoding="utf-8") == scorecard.render(card)
    assert {d["id"] for d in card["dimensions"]} == set(scorecard.LEVEL_EVIDENCE)


def test_problems_name_the_dimension_and_the_fix(tmp_path: Path) -> None:
    card = scorecard.load(REPO)
    card["dimensions"] = card["dimensions"][1:]
    card["dimensions"][0]["evidence"] = ["no/such/file.py"]
    card["dimensions"][1]["level"], card["dimensions"][1]["next_action"] = 1, ""
    found = scorecard.problems(REPO, card)
    assert "dimension versioning is missing" in found
    assert "reproducibility: evidence no/such/file.py does not exist" in found
    assert "experiment_tracking: level 1 is below 3, so it needs a next action" in found
    assert any(p.startswith("dimensions: ") for p in found)  # the schema wants nine entries


def test_check_mode_reports_a_stale_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "plant.yaml").write_text((REPO / "config" / "plant.yaml").read_text())
    (tmp_path / "docs").mkdir()
    (tmp_path / scorecard.SCORECARD).write_text((REPO / scorecard.SCORECARD).read_text())
    monkeypatch.setenv("COPILOT_PLANT_CONFIG", str(tmp_path / "config" / "plant.yaml"))
    assert scorecard.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    scorecard.main([])
    assert (tmp_path / scorecard.RENDERED).is_file()
