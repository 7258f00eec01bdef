"""Lab 02 fixtures: the student's Copilot, started once per grading run, and the plant data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graders.lab02.http_helpers import AuditReader
from graders.lab02.plant_data import PlantData, load_plant_data
from graders.sdk import Submission
from graders.sdk.copilot import CopilotService, start_copilot


@pytest.fixture(scope="session")
def plant_data(submission: Submission) -> PlantData:
    return load_plant_data(submission)


@pytest.fixture(scope="session")
def copilot(
    submission: Submission, student_python: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CopilotService]:
    with start_copilot(submission, student_python, tmp_path_factory.mktemp("lab02-copilot"), probes=True) as service:
        yield service


@pytest.fixture(scope="session")
def audit(copilot: CopilotService) -> AuditReader:
    return AuditReader(copilot)
