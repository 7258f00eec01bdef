"""The real tools behind the lab08 checks: kubectl kustomize, checkov and the CRD schemas.

Each runs once per grading session (the conftest caches the results) and reports what it could
not do instead of pretending: a missing kubectl is named in the feedback of the checks that use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from graders.lab08.k8s_manifests import K8S_DIR, Manifest, parse_rendered
from graders.sdk import Submission, find_tool, run_tool

# The Kubernetes version every manifest is validated against (GKE's regular channel, 2026).
KUBERNETES_VERSION = "1.33.0"
SCHEMA_DIR = Path(__file__).with_name("schemas")
# (apiVersion group, kind) -> schema file shipped with the grader.
CRD_SCHEMAS = {
    ("keda.sh", "ScaledObject"): "keda.sh_scaledobject_v1alpha1.json",
    ("security.istio.io", "PeerAuthentication"): "security.istio.io_peerauthentication_v1.json",
    ("security.istio.io", "AuthorizationPolicy"): "security.istio.io_authorizationpolicy_v1.json",
}
CRD_VERSIONS = {"keda.sh": ("v1alpha1",), "security.istio.io": ("v1", "v1beta1")}

# checkov's Kubernetes checks that Notebook 08 teaches; the rest (API-server flags, RBAC, digests) do not apply.
CHECKOV_CHECKS = {
    "CKV_K8S_8": "a liveness probe",
    "CKV_K8S_9": "a readiness probe",
    "CKV_K8S_10": "a CPU request",
    "CKV_K8S_11": "a CPU limit",
    "CKV_K8S_12": "a memory request",
    "CKV_K8S_13": "a memory limit",
    "CKV_K8S_14": "an image tag that is pinned (not latest or blank)",
    "CKV_K8S_16": "no privileged container",
    "CKV_K8S_20": "allowPrivilegeEscalation: false",
    "CKV_K8S_21": "a namespace other than default",
    "CKV_K8S_22": "readOnlyRootFilesystem: true",
    "CKV_K8S_23": "runAsNonRoot: true",
    "CKV_K8S_28": "the NET_RAW capability dropped",
    "CKV_K8S_29": "a pod securityContext",
    "CKV_K8S_30": "a container securityContext",
    "CKV_K8S_31": "the RuntimeDefault seccomp profile",
    "CKV_K8S_37": "capabilities dropped (drop: [ALL])",
    "CKV_K8S_38": "automountServiceAccountToken: false where the pod needs no token",
    "CKV_K8S_40": "a high UID (runAsUser >= 10000)",
}


# -- schemas --------------------------------------------------------------------------------------
def kubernetes_schema_errors(doc: dict[str, Any]) -> tuple[str | None, bool]:
    """(problem, known): problem is None when valid; known is False when no schema exists for the kind."""
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "(top level)"
        return f"{path}: {exc.message}", True
    except kubernetes_validate.SchemaNotFoundError:
        return None, False
    except (KeyError, TypeError, AttributeError):
        return "apiVersion and kind must both be set (strings)", True
    return None, True


def crd_key(manifest: Manifest) -> tuple[str, str] | None:
    group = manifest.api_version.rpartition("/")[0]
    key = (group, manifest.kind)
    if key in CRD_SCHEMAS:
        return key
    return None


@cache
def _crd_validator(filename: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / filename).read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def crd_schema_errors(manifest: Manifest) -> list[str]:
    key = crd_key(manifest)
    if key is None:
        return [f"no CRD schema for {manifest.api_version} {manifest.kind}"]
    group, _, version = manifest.api_version.rpartition("/")
    problems = []
    if version not in CRD_VERSIONS[group]:
        problems.append(f"apiVersion {manifest.api_version}: {group} serves {', '.join(CRD_VERSIONS[group])}")
    validator = _crd_validator(CRD_SCHEMAS[key])
    for error in sorted(validator.iter_errors(manifest.doc), key=lambda e: list(e.path)):
        path = ".".join(str(p) for p in error.path) or "(top level)"
        problems.append(f"{path}: {error.message}")
    return problems[:5]


# -- kustomize ------------------------------------------------------------------------------------
@dataclass
class KustomizeBuild:
    directory: str
    manifests: list[Manifest] = field(default_factory=list)
    error: str | None = None

    @property
    def command(self) -> str:
        return f"kubectl kustomize {self.directory}"


def copy_tree(submission: Submission, under: str, dest: Path) -> Path:
    """Copy ``under`` through the Submission (size caps, no symlink escapes) for tools that read files."""
    for rel in submission.walk(under):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(submission.read_bytes(rel))
    return dest


def kustomize_builds(submission: Submission, directories: list[str], workdir: Path) -> list[KustomizeBuild] | None:
    """``kubectl kustomize`` of every kustomization folder; None when kubectl is not installed."""
    kubectl = find_tool("kubectl")
    if kubectl is None or not directories:
        return None if kubectl is None else []
    copy_tree(submission, K8S_DIR, workdir)
    builds = []
    for directory in sorted(directories):
        build = KustomizeBuild(directory)
        result = run_tool([kubectl, "kustomize", directory], cwd=workdir, timeout=60)
        if result.timed_out:
            build.error = f"`{build.command}` did not finish within 60 s (remote bases are not allowed here)"
        elif result.returncode != 0:
            build.error = f"`{build.command}` failed: {result.tail(5)}"
        else:
            try:
                build.manifests = parse_rendered(build.command, result.stdout)
            except (ValueError, yaml.YAMLError) as exc:
                build.error = f"`{build.command}` printed YAML that cannot be read: {exc}"
        builds.append(build)
    return builds


# -- checkov --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckovFinding:
    check_id: str
    resource: str
    source: str


def checkov_scan(manifests: list[Manifest], workdir: Path) -> tuple[list[CheckovFinding], int]:
    """Run checkov's curated Kubernetes checks once over ``manifests``; (failures, number of passes)."""
    from checkov.kubernetes.runner import Runner  # slow import (~1 s): only when this check runs
    from checkov.runner_filter import RunnerFilter

    sources: dict[str, str] = {}
    workdir.mkdir(parents=True, exist_ok=True)
    for i, manifest in enumerate(manifests):
        name = f"m{i:03d}.yaml"
        sources[name] = manifest.where
        (workdir / name).write_text(yaml.safe_dump(manifest.doc, sort_keys=False), encoding="utf-8")
    reports = Runner().run(
        root_folder=str(workdir),
        runner_filter=RunnerFilter(framework=["kubernetes"], checks=list(CHECKOV_CHECKS)),
    )
    report = reports[0] if isinstance(reports, list) else reports
    findings = [
        CheckovFinding(c.check_id, c.resource, sources.get(Path(c.file_path).name, c.file_path))
        for c in report.failed_checks
    ]
    return findings, len(report.passed_checks)
