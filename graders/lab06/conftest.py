"""Lab 06 fixtures: the service definitions, the deploy script and the runbook, each read once per run."""

from __future__ import annotations

import pytest

from graders.lab06.knative import ServiceSet, load_services
from graders.lab06.plant_data import PlantData, load_plant_data
from graders.sdk import Submission


@pytest.fixture(scope="session")
def services(submission: Submission) -> ServiceSet:
    return load_services(submission)


@pytest.fixture(scope="session")
def plant_data(submission: Submission) -> PlantData:
    return load_plant_data(submission)
