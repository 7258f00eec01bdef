"""The registry rules students write in Lab 01: version tags from the plant profile, and the guard on
the champion alias (acceptance criteria first, then the comparison with the champion)."""

from __future__ import annotations

import pytest

from common.config import PlantProfile
from mlops.registry import RegistryError, decide, version_tags

pytestmark = pytest.mark.lab("lab01")
MINIMUMS = {"accuracy": 0.95, "min_class_recall": 0.9}


def test_tags_name_the_plant_and_its_lines(profile: PlantProfile) -> None:
    tags = version_tags(profile, profile.plant.production_lines, {"run_kind": "candidate"})
    assert tags["plant"] == profile.plant.code
    assert tags["production_line"] == ",".join(profile.plant.production_lines)
    assert tags["run_kind"] == "candidate"
    one = profile.plant.production_lines[0]
    assert version_tags(profile, (one,), {})["production_line"] == one


def test_a_line_of_another_plant_is_refused(profile: PlantProfile) -> None:
    with pytest.raises(RegistryError, match="not lines of"):
        version_tags(profile, ("body-1",), {})


@pytest.mark.parametrize(
    ("candidate", "champion", "promote", "reason"),
    [
        ({"accuracy": 0.97, "min_class_recall": 0.93}, None, True, "beats no champion yet"),
        ({"accuracy": 0.97, "min_class_recall": 0.93}, 0.96, True, "beats champion 0.96"),
        ({"accuracy": 0.97, "min_class_recall": 0.93}, 0.97, False, "does not beat"),
        ({"accuracy": 0.96, "min_class_recall": 0.93}, 0.98, False, "does not beat"),
        ({"accuracy": 0.40, "min_class_recall": 0.10}, None, False, "fails the acceptance criteria"),
        ({"accuracy": 0.99, "min_class_recall": 0.80}, 0.50, False, "min_class_recall 0.8 < 0.9"),
        ({"accuracy": 0.99}, None, False, "min_class_recall None < 0.9"),
    ],
)
def test_the_alias_moves_only_for_a_better_accepted_candidate(
    candidate: dict[str, float], champion: float | None, promote: bool, reason: str
) -> None:
    decision = decide(candidate, champion, MINIMUMS)
    assert decision.promote is promote
    assert reason in decision.reason
