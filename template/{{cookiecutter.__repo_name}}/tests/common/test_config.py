"""The plant profile: loading, validation and the messages for a broken file."""

from pathlib import Path

import pytest

from common.config import PlantConfigError, find_profile, load_plant_profile, parse_profile
from tests.conftest import REPO


def test_the_repository_profile_is_valid() -> None:
    profile = load_plant_profile(REPO / "config" / "plant.yaml")
    assert profile.plant.code in profile.plant_codes
    assert profile.plant_codes[0] == profile.plant.code
    assert len(profile.plant.production_lines) >= 1
    assert profile.other_plants, "a second plant is needed for cross-plant access tests"


def test_found_from_a_subfolder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COPILOT_PLANT_CONFIG", raising=False)
    assert find_profile(REPO / "src").resolve() == (REPO / "config" / "plant.yaml").resolve()


def test_environment_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "p.yaml"
    target.write_text((REPO / "config" / "plant.yaml").read_text())
    monkeypatch.setenv("COPILOT_PLANT_CONFIG", str(target))
    assert find_profile() == target


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("code: ", "code: x", 1), "plant.code"),
        (lambda t: t.replace("capstone: true", "capstone: false"), "capstone: true"),
        (lambda t: t.replace("production_lines: [", "production_lines: [Bad Line, "), "production line"),
        (lambda t: t + "\nsurprise: 1\n", "surprise"),
        (lambda t: "plant: [unclosed", "not valid YAML"),
    ],
    ids=["bad-code", "no-capstone-plant", "bad-line", "unknown-key", "broken-yaml"],
)
def test_invalid_profiles_name_the_field(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    text = edit((REPO / "config" / "plant.yaml").read_text())
    with pytest.raises(PlantConfigError, match=r"config/plant\.yaml") as excinfo:
        parse_profile(text)
    assert message in str(excinfo.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlantConfigError, match="not found"):
        load_plant_profile(tmp_path / "nope.yaml")
