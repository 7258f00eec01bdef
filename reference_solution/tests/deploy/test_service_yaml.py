"""The Cloud Run service definitions agree with Cloud Run's rules, the service's settings and the IAM grants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from copilot.core.config import Settings

pytestmark = pytest.mark.lab("lab06")

REPO = Path(__file__).resolve().parents[2]
CLOUDRUN = REPO / "deploy" / "cloudrun"
SERVICES = {"api": CLOUDRUN / "service-api.yaml", "worker": CLOUDRUN / "service-worker.yaml"}
COST_LABELS = {"plant", "environment", "component", "cost_center", "owner"}
# Set by the platform or read by client libraries, not by Settings.
PLATFORM_ENV = {"GOOGLE_CLOUD_PROJECT"}


def load(account: str) -> dict[str, Any]:
    path = SERVICES[account]
    if not path.exists() and account != "api":
        pytest.skip(f"{path.name} is not written (the worker's service is optional in Lab 06)")
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def container(doc: dict[str, Any]) -> dict[str, Any]:
    [only] = doc["spec"]["template"]["spec"]["containers"]
    return dict(only)


def grants() -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {"api": set(), "worker": set()}
    for line in (CLOUDRUN / "iam-roles.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            account, scope, role, _ = line.split(None, 3)
            found[account].add((scope, role))
    return found


@pytest.mark.parametrize("account", SERVICES)
def test_knative_service_shape(account: str) -> None:
    doc = load(account)
    assert doc["apiVersion"] == "serving.knative.dev/v1" and doc["kind"] == "Service"
    name = doc["metadata"]["name"]
    assert doc["spec"]["template"]["metadata"]["name"].startswith(name + "-"), "Cloud Run revision name prefix"
    assert set(doc["metadata"]["labels"]) >= COST_LABELS
    assert set(doc["spec"]["template"]["metadata"]["labels"]) >= COST_LABELS
    registry = "europe-west4-docker.pkg.dev/meridian-mfg-copilot/copilot/"
    assert container(doc)["image"].startswith(registry)
    assert not container(doc)["image"].endswith(":latest")


@pytest.mark.parametrize("account", SERVICES)
def test_traffic_adds_up_to_100(account: str) -> None:
    traffic = load(account)["spec"]["traffic"]
    assert sum(entry["percent"] for entry in traffic) == 100


def test_the_new_api_revision_is_a_tagged_canary_without_traffic() -> None:
    doc = load("api")
    new = doc["spec"]["template"]["metadata"]["name"]
    by_tag = {entry["tag"]: entry for entry in doc["spec"]["traffic"]}
    assert by_tag["canary"] == {"revisionName": new, "percent": 0, "tag": "canary"}
    assert by_tag["stable"]["percent"] == 100 and by_tag["stable"]["revisionName"] != new


@pytest.mark.parametrize("account", SERVICES)
def test_secrets_only_by_reference_and_readable_by_the_account(account: str) -> None:
    doc = load(account)
    env = container(doc)["env"]
    secret_names = {"COPILOT_JWT_SECRET", "DATABASE_URL", "COPILOT_LLM_API_KEY"}
    literal = [e["name"] for e in env if e["name"] in secret_names and "value" in e]
    assert literal == []
    mounted = {e["valueFrom"]["secretKeyRef"]["name"] for e in env if "valueFrom" in e}
    assert mounted, "the JWT secret and database URL come from Secret Manager"
    for secret in mounted:
        assert (f"secret:{secret}", "roles/secretmanager.secretAccessor") in grants()[account]
    versions = [e["valueFrom"]["secretKeyRef"]["key"] for e in env if "valueFrom" in e]
    assert all(v.isdigit() for v in versions), "pinned secret versions, so a rollback rolls the secret back too"


@pytest.mark.parametrize("account", SERVICES)
def test_every_environment_variable_is_a_setting(account: str) -> None:
    aliases = {
        str(choice).upper()
        for field in Settings.model_fields.values()
        for choice in getattr(field.validation_alias, "choices", [])
    }
    unknown = [e["name"] for e in container(load(account))["env"] if e["name"] not in aliases | PLATFORM_ENV]
    assert unknown == []


@pytest.mark.parametrize("account", SERVICES)
def test_dedicated_service_account_and_bucket_access(account: str) -> None:
    doc = load(account)
    email = doc["spec"]["template"]["spec"]["serviceAccountName"]
    assert email == f"mfgcp-prod-copilot-{account}@meridian-mfg-copilot.iam.gserviceaccount.com"
    data_dir = next(e["value"] for e in container(doc)["env"] if e["name"] == "COPILOT_DATA_DIR")
    bucket = data_dir.removeprefix("gs://").split("/")[0]
    assert (f"bucket:{bucket}", "roles/storage.objectViewer") in grants()[account]


@pytest.mark.parametrize("account", SERVICES)
def test_probes_limits_and_scaling(account: str) -> None:
    doc = load(account)
    spec = container(doc)
    assert {"cpu", "memory"} <= set(spec["resources"]["limits"])
    assert "startupProbe" in spec and "livenessProbe" in spec
    annotations = doc["spec"]["template"]["metadata"]["annotations"]
    low, high = annotations["autoscaling.knative.dev/minScale"], annotations["autoscaling.knative.dev/maxScale"]
    assert 1 <= int(low) <= int(high)
    instance_prefix = "meridian-mfg-copilot:europe-west4:"
    assert annotations["run.googleapis.com/cloudsql-instances"].startswith(instance_prefix)
    assert annotations["run.googleapis.com/vpc-access-egress"] == "private-ranges-only"


def test_api_probes_use_the_health_endpoints() -> None:
    spec = container(load("api"))
    assert spec["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_worker_keeps_cpu_between_requests() -> None:
    annotations = load("worker")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["run.googleapis.com/cpu-throttling"] == "false"
    assert load("worker")["metadata"]["annotations"]["run.googleapis.com/ingress"] == "internal"
