"""Lab 03 fixtures: the Dockerfiles and the merged Compose configuration of each environment.

Everything expensive (parsing, merging, linting) happens once per grading run here; a problem
building a fixture (a missing override file, a required variable without a value) fails every check
that needs it, with the same feedback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from graders.lab03 import compose_project, dockerfile, healthcheck, linters
from graders.lab03.compose_project import ComposeConfig
from graders.sdk import CheckFailed, Submission, SubmissionFileError, fail
from graders.sdk.copilot import start_copilot

MAIN_DOCKERFILE = "Dockerfile"
DOCKERFILE_NAMES = ("Dockerfile", "Dockerfile.*", "*.Dockerfile")


@pytest.fixture(scope="session")
def dockerfile_texts(submission: Submission) -> dict[str, str]:
    """Every Dockerfile at the repository root (Dockerfile first), path -> text."""
    if not submission.is_file(MAIN_DOCKERFILE):
        fail(f"{MAIN_DOCKERFILE} is missing at the repository root: write the image's Dockerfile there")
    variants = {p for pattern in DOCKERFILE_NAMES for p in submission.glob(pattern)} - {MAIN_DOCKERFILE}
    names = [MAIN_DOCKERFILE, *sorted(variants)]
    return {name: submission.read_text(name) for name in names if not name.endswith((".dockerignore", ".md"))}


@pytest.fixture(scope="session")
def dockerfiles(dockerfile_texts: dict[str, str]) -> dict[str, dockerfile.Dockerfile]:
    return {rel: dockerfile.parse(text, rel) for rel, text in dockerfile_texts.items()}


@pytest.fixture(scope="session")
def hadolint_findings(dockerfile_texts: dict[str, str]) -> list[linters.Finding]:
    return linters.hadolint(dockerfile_texts)


@pytest.fixture(scope="session")
def checkov_findings(dockerfile_texts: dict[str, str]) -> list[linters.Finding]:
    return linters.checkov(dockerfile_texts)


@pytest.fixture(scope="session")
def api_port(
    submission: Submission, student_python: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, str]]:
    """Port of the student's running API for the HEALTHCHECK to call, and a note when a stand-in
    answers instead because the API does not start."""
    with contextlib.ExitStack() as stack:
        workdir = tmp_path_factory.mktemp("lab03-api")
        try:
            service = stack.enter_context(start_copilot(submission, student_python, workdir))
            port, note = int(urlsplit(service.base_url).port or 0), ""
        except (CheckFailed, SubmissionFileError):
            port = stack.enter_context(healthcheck.standin())
            note = "your API did not start here, so a stand-in answering /healthz like it took its place"
        yield port, note


def _environment(submission: Submission, name: str) -> ComposeConfig:
    config = compose_project.build(submission, compose_project.ENVIRONMENTS[name])
    override = config.environment.override
    if not config.override_services():
        fail(
            f"{override} overrides no service yet: {config.label} is just the base file. "
            f"Add the {name} settings for the services there.",
            override,
        )
    return config


@pytest.fixture(scope="session")
def dev_config(submission: Submission) -> ComposeConfig:
    return _environment(submission, "development")


@pytest.fixture(scope="session")
def staging_config(submission: Submission) -> ComposeConfig:
    return _environment(submission, "staging")


@pytest.fixture(scope="session")
def prod_config(submission: Submission) -> ComposeConfig:
    return _environment(submission, "production")
