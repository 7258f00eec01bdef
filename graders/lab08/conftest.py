"""Session fixtures of the lab08 grader: each real tool runs once and its result is shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.lab08 import helm_chart, tooling
from graders.lab08.k8s_manifests import BLUE_GREEN_DIR, Manifest, ManifestSet, load_manifests
from graders.sdk import Submission, SubmissionFileError

NAMESPACE_FALLBACK = "default"


@pytest.fixture(scope="session")
def manifest_set(submission: Submission) -> ManifestSet:
    return load_manifests(submission)


@pytest.fixture(scope="session")
def kustomize_builds(
    submission: Submission, manifest_set: ManifestSet, tmp_path_factory: pytest.TempPathFactory
) -> list[tooling.KustomizeBuild] | None:
    return tooling.kustomize_builds(submission, manifest_set.kustomization_dirs, tmp_path_factory.mktemp("kustomize"))


@pytest.fixture(scope="session")
def overlay_manifests(kustomize_builds: list[tooling.KustomizeBuild] | None) -> list[Manifest]:
    """Objects that only exist after kustomize: what overlays patch (bases repeat the plain files)."""
    found: list[Manifest] = []
    for build in kustomize_builds or []:
        if "/overlays/" in f"/{build.directory}/" or build.directory.startswith("overlays"):
            found.extend(build.manifests)
    return found


@pytest.fixture(scope="session")
def checkov_findings(
    manifest_set: ManifestSet, overlay_manifests: list[Manifest], tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[tooling.CheckovFinding], int]:
    workloads = [*manifest_set.manifests, *overlay_manifests]
    return tooling.checkov_scan(workloads, tmp_path_factory.mktemp("checkov"))


@pytest.fixture(scope="session")
def plant_namespace(manifest_set: ManifestSet) -> str:
    namespaces = [m.metadata.get("namespace") for m in manifest_set.outside(BLUE_GREEN_DIR)]
    named = [str(n) for n in namespaces if n]
    return max(set(named), key=named.count) if named else NAMESPACE_FALLBACK


@pytest.fixture(scope="session")
def chart(submission: Submission) -> helm_chart.Chart:
    charts = helm_chart.find_charts(submission)
    if not charts:
        raise SubmissionFileError(
            "no Helm chart found: create helm/copilot/ with Chart.yaml, values files, values.schema.json and "
            "templates/",
            "helm/copilot/Chart.yaml",
        )
    return helm_chart.load_chart(submission, charts[0])


@pytest.fixture(scope="session")
def helm_run(
    submission: Submission, chart: helm_chart.Chart, plant_namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> helm_chart.HelmRun | None:
    return helm_chart.run_helm(submission, chart, plant_namespace, Path(tmp_path_factory.mktemp("helm")))
