"""The answer combinations the generated-repository tests use, derived from the questions themselves.

A boolean's two values, every choice of a choice question that changes files and two region pairs
make the option matrix (test_matrix.py renders and lints each). The generated repository's own
``make setup && make test`` runs once (test_setup.py), on ``FULL_RUN_ANSWERS``: the file set that
differs from the reference solution's (no GPU files), with every value unlike the example plant's.
The other file set, the GPU files included, is the reference solution's own, whose suite ``make
test-reference`` runs; its rendered values are the example plant's, which the reference carries too.
"""

from __future__ import annotations

import itertools
from typing import Any

from graders.instructor import copier_config

from .conftest import KIT

pre = copier_config.load_hook(KIT / "hooks", "pre_gen_project")
post = copier_config.load_hook(KIT / "hooks", "post_gen_project")
QUESTIONS = {q.name: q for q in pre.QUESTIONS}


def _region_pairs() -> list[tuple[str, str]]:
    primary, secondary = list(QUESTIONS["primary_region"].choices), list(QUESTIONS["secondary_region"].choices)
    return [(primary[0], secondary[0]), (primary[-1], secondary[-1])]


COMBINATIONS = [
    {"gpu_variant": gpu, "python_version": python, "primary_region": regions[0], "secondary_region": regions[1]}
    for gpu, python, regions in itertools.product(
        [True, False], list(QUESTIONS["python_version"].choices), _region_pairs()
    )
]
IDS = [
    f"gpu:{'yes' if c['gpu_variant'] else 'no'}-python:{c['python_version']}-"
    f"regions:{c['primary_region']}+{c['secondary_region']}"
    for c in COMBINATIONS
]
# Long answers too, so that no line of the generated repo only fits the example plant's short values.
LONG_ANSWERS = {
    "student_name": "Maximiliane Ramírez-Oyelaran",
    "github_username": "maximiliane-ramirez-oyelaran",
    "plant_name": "Saint Louis Heavy Press and Final Assembly Plant",
    "plant_code": "STL07",
    "production_lines": "press-line-1, body-weld-2, paint-shop-3, final-assembly-4",
    "gcp_project_id": "stl-heavy-press-copilot-prd",
    "cohort": "2027-spring",
}


def _is_default(combination: dict[str, Any]) -> bool:
    return all(QUESTIONS[name].default == value for name, value in combination.items())


def _full_run_combination() -> dict[str, Any]:
    """The file set the reference solution lacks (a boolean file option away from the default), with
    the region pair the defaults do not use."""
    defaults = {name: QUESTIONS[name].default for name in ("gpu_variant", "primary_region", "secondary_region")}
    return next(
        c
        for c in COMBINATIONS
        if c["gpu_variant"] != defaults["gpu_variant"]
        and (c["primary_region"], c["secondary_region"]) != (defaults["primary_region"], defaults["secondary_region"])
        and not _is_default(c)
    )


FULL_RUN_COMBINATION = _full_run_combination()
FULL_RUN_ANSWERS = {**LONG_ANSWERS, **FULL_RUN_COMBINATION}
