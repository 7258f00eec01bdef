"""Every Kubernetes document of the submission, with the file and line it came from.

A file that cannot be parsed is recorded, not raised: the schema check reports it while the other
checks still grade the files that do parse. Kustomize's own files (``kustomization.yaml`` and the
patches it names) are not Kubernetes objects; they are graded through ``kubectl kustomize``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from graders.sdk import Submission, SubmissionFileError, safe_yaml

K8S_DIR = "k8s"
BLUE_GREEN_DIR = "k8s/blue-green"
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object: ``source`` is a file path or the command that rendered it."""

    source: str
    index: int
    doc: dict[str, Any]
    line: int | None = None

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.doc.get("apiVersion", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.doc.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", "<unnamed>"))

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.doc.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name} ({self.where})"


@dataclass
class ManifestSet:
    manifests: list[Manifest] = field(default_factory=list)
    errors: list[SubmissionFileError] = field(default_factory=list)
    kustomization_dirs: list[str] = field(default_factory=list)
    kustomize_inputs: set[str] = field(default_factory=set)

    def of_kind(self, kind: str, under: str | None = None) -> list[Manifest]:
        return [m for m in self.manifests if m.kind == kind and (under is None or _is_under(m.source, under))]

    def outside(self, folder: str) -> list[Manifest]:
        return [m for m in self.manifests if not _is_under(m.source, folder)]

    @property
    def files(self) -> list[str]:
        return sorted({m.source for m in self.manifests})


def _is_under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _document_lines(text: str) -> list[int]:
    """1-based first line of each non-empty document (the file already passed the alias-bomb check)."""
    loader = safe_yaml.SafeLoader(text)
    lines = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None and not (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
                lines.append(node.start_mark.line + 1)
    except yaml.YAMLError:
        return []
    finally:
        loader.dispose()
    return lines


def _kustomize_inputs(submission: Submission, path: str, data: Any) -> set[str]:
    """Files a kustomization patches (partial objects that are not valid on their own)."""
    if not isinstance(data, dict):
        return set()
    base = posixpath.dirname(path)
    named: list[str] = []
    for key in ("patches", "patchesJson6902"):
        for entry in data.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                named.append(entry["path"])
    for entry in data.get("patchesStrategicMerge") or []:
        if isinstance(entry, str) and "\n" not in entry:
            named.append(entry)
    return {posixpath.normpath(posixpath.join(base, n)) for n in named}


def yaml_files(submission: Submission, under: str = K8S_DIR) -> list[str]:
    return [p for p in submission.walk(under) if p.endswith(YAML_SUFFIXES)]


def load_manifests(submission: Submission, under: str = K8S_DIR) -> ManifestSet:
    result = ManifestSet()
    files = yaml_files(submission, under)
    for path in files:
        if posixpath.basename(path) in KUSTOMIZATION_NAMES:
            result.kustomization_dirs.append(posixpath.dirname(path))
            try:
                result.kustomize_inputs |= _kustomize_inputs(submission, path, submission.load_yaml(path))
            except SubmissionFileError as exc:
                result.errors.append(exc)
    for path in files:
        if posixpath.basename(path) in KUSTOMIZATION_NAMES or path in result.kustomize_inputs:
            continue
        try:
            docs = submission.load_yaml_all(path)
        except SubmissionFileError as exc:
            result.errors.append(exc)
            continue
        lines = _document_lines(submission.read_text(path))
        for index, doc in enumerate(docs):
            line = lines[index] if index < len(lines) else None
            if not isinstance(doc, dict):
                result.errors.append(
                    SubmissionFileError(
                        f"{path}:{line or 1}: document {index + 1} is a {type(doc).__name__}, not a Kubernetes object "
                        "(a mapping with apiVersion, kind and metadata)",
                        path,
                        line,
                    )
                )
                continue
            if doc.get("kind") in ("Kustomization", "Component"):
                continue
            result.manifests.append(Manifest(path, index, doc, line))
    return result


def parse_rendered(source: str, text: str) -> list[Manifest]:
    """Objects printed by a renderer (kubectl kustomize, helm template); raises ValueError if unreadable."""
    docs = safe_yaml.load_all(text, source)
    return [Manifest(source, i, d) for i, d in enumerate(docs) if isinstance(d, dict)]


def pod_template(manifest: Manifest) -> dict[str, Any]:
    template = manifest.spec.get("template")
    return template if isinstance(template, dict) else {}


def pod_spec(manifest: Manifest) -> dict[str, Any]:
    spec = pod_template(manifest).get("spec")
    return spec if isinstance(spec, dict) else {}


def pod_labels(manifest: Manifest) -> dict[str, str]:
    meta = pod_template(manifest).get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def containers(manifest: Manifest) -> list[dict[str, Any]]:
    found = pod_spec(manifest).get("containers")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def workloads(manifests: Iterable[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m.kind in WORKLOAD_KINDS]
