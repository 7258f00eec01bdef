"""Lab 01 fixtures: the student's answers (params.yaml, config/plant.yaml) and one play of the MLflow
scenario (graders.lab01.scenario), shared by every check that reads the tracking stores.

A problem building a fixture (a missing entry point, an unreadable params.yaml) fails every check
that needs it with the same feedback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.lab01 import contract, scenario
from graders.sdk import Submission, fail


@pytest.fixture(scope="session")
def registry_answers(submission: Submission) -> contract.Registry:
    return contract.registry(submission)


@pytest.fixture(scope="session")
def plant(submission: Submission) -> contract.Plant:
    return contract.plant(submission)


@pytest.fixture(scope="session")
def classes(submission: Submission) -> tuple[str, ...]:
    return contract.classes(submission)


@pytest.fixture(scope="session")
def mlflow_scenario(
    submission: Submission,
    student_python: str,
    registry_answers: contract.Registry,
    tmp_path_factory: pytest.TempPathFactory,
) -> scenario.Scenario:
    if not submission.is_file(contract.TRAIN_SCRIPT):
        fail(
            f"{contract.TRAIN_SCRIPT} is missing: `python -m {contract.TRAIN_MODULE}` trains, logs and registers the "
            "model (the lab's starter has it)",
            contract.TRAIN_SCRIPT,
        )
    workdir: Path = tmp_path_factory.mktemp("lab01-mlflow")
    return scenario.play(submission, student_python, workdir, registry_answers)
