"""The Helm chart: every values file satisfies values.schema.json, and the chart renders the plain manifests.

Rendering needs Helm: the `helm` binary, or Helm's Go SDK from the helm-python-sdk wheel. Where
neither is installed the render tests are skipped with that reason (the schema tests still run).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.lab("lab08")  # the chart is compared with lab08's manifests

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "copilot"
K8S = REPO / "k8s"
NAMESPACE = "copilot-rvb01"
VALUES_FILES = ("values.yaml", "values-staging.yaml", "values-prod.yaml")
# Labels only Helm adds (who manages the object); selectors never carry them.
HELM_ONLY_LABELS = ("app.kubernetes.io/managed-by", "helm.sh/chart")


def coalesce(defaults: Any, overrides: Any) -> Any:
    """Helm's merge of a values file over values.yaml: maps merge, null deletes a key."""
    if not isinstance(defaults, dict) or not isinstance(overrides, dict):
        return copy.deepcopy(overrides)
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = coalesce(merged.get(key), value) if isinstance(value, dict) else copy.deepcopy(value)
    return merged


def _values(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CHART / name).read_text(encoding="utf-8")) or {}
    return data


@pytest.mark.parametrize("name", VALUES_FILES)
def test_values_file_satisfies_the_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(coalesce(_values("values.yaml"), _values(name)))


def test_schema_rejects_latest_and_missing_requests() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft7Validator(json.loads((CHART / "values.schema.json").read_text(encoding="utf-8")))
    values = _values("values.yaml")
    assert list(validator.iter_errors(coalesce(values, {"image": {"tag": "latest"}})))
    assert list(validator.iter_errors(coalesce(values, {"api": {"resources": {"requests": None}}})))
    assert list(validator.iter_errors(coalesce(values, {"istio": {"mtlsMode": "PERMISSIVE"}})))


def _render(values: dict[str, Any] | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    helm = shutil.which("helm")
    if helm:
        args = [helm, "template", "copilot", str(CHART), "--namespace", NAMESPACE]
        if values:
            override = CHART.parent / ".render-values.json"
            override.write_text(json.dumps(values))
            args += ["-f", str(override)]
        try:
            text = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout
        finally:
            if values:
                override.unlink()
    elif importlib.util.find_spec("helm_python") is not None:
        import helm_python

        rendered = helm_python.Chart.load(str(CHART)).render(values, name="copilot", namespace=NAMESPACE)
        text = "\n---\n".join(t for p, t in sorted(rendered.items()) if not p.endswith("NOTES.txt"))
    else:
        pytest.skip("Helm is not installed (neither the helm binary nor helm-python-sdk): chart rendering not tested")
    objects = {}
    for doc in yaml.safe_load_all(text):
        if doc:
            labels = doc["metadata"].get("labels", {})
            for key in HELM_ONLY_LABELS:
                labels.pop(key, None)
            objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def _kustomize(folder: str) -> dict[tuple[str, str], dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: no plain manifests to compare the chart with")
    text = subprocess.run(
        [kubectl, "kustomize", str(K8S / folder)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(text) if d and d["kind"] != "Namespace"}


def test_default_values_render_the_plain_manifests() -> None:
    assert _render() == _kustomize("base")


def test_gpu_values_render_the_gpu_overlay() -> None:
    assert _render({"api": {"gpu": {"enabled": True}}}) == _kustomize("overlays/gpu")


@pytest.mark.parametrize("name", VALUES_FILES[1:])
def test_environment_values_render(name: str) -> None:
    rendered = _render(_values(name))
    deployment = rendered[("Deployment", "copilot-api")]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
        ":" + _values(name)["image"]["tag"]
    )
