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
    ("candidate", "champion", "promote"),
    [
        ({"accuracy": 0.97, "min_class_recall": 0.93}, None, True),
        ({"accuracy": 0.97, "min_class_recall": 0.93}, 0.96, True),
        ({"accuracy": 0.97, "min_class_recall": 0.93}, 0.97, False),
        ({"accuracy": 0.96, "min_class_recall": 0.93}, 0.98, False),
        ({"accuracy": 0.40, "min_class_recall": 0.10}, None, False),
        ({"accuracy": 0.99, "min_class_recall": 0.80}, 0.50, False),
        ({"accuracy": 0.99}, None, False),
    ],
)
def test_the_alias_moves_only_for_a_better_accepted_candidate(
    candidate: dict[str, float], champion: float | None, promote: bool
) -> None:
    """The decision is the rule; the reason (the version's `promotion` tag) is yours to word."""
    decision = decide(candidate, champion, MINIMUMS)
    assert decision.promote is promote
    assert isinstance(decision.reason, str) and decision.reason.strip(), "say why it was or was not promoted"
