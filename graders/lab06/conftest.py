"""Lab 06 fixtures: the service definitions, the deploy script and the runbook, each read once per run."""

from __future__ import annotations

import pytest

from graders.lab06.knative import ServiceSet, load_services
from graders.lab06.plant_data import PlantData, load_plant_data
from graders.sdk import Submission

# Notebook 06 headings that feedback points to.
SECTION_ARCHITECTURE = "Infrastructure diagram: VPC, Cloud SQL, Cloud Storage and Cloud Run"
SECTION_SERVICE = "Cloud Run service YAML: revisions, probes and limits"
SECTION_IAM = "Deployment commands with gcloud: IAM roles and service accounts"
SECTION_SECRETS = "Secrets and key management: Secret Manager and CMEK"
SECTION_CANARY = "Traffic splitting for canary releases"
SECTION_LAB = "Lab: deployment runbook with rollback plan and smoke tests"


@pytest.fixture(scope="session")
def services(submission: Submission) -> ServiceSet:
    return load_services(submission)


@pytest.fixture(scope="session")
def plant_data(submission: Submission) -> PlantData:
    return load_plant_data(submission)
