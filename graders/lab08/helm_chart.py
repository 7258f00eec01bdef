"""The student's Helm chart: finding it, merging values the way Helm does, and running Helm.

Helm runs from the ``helm`` binary when it is installed, else from Helm's Go SDK bundled in the
``helm-python-sdk`` wheel (``helm_python``), in a subprocess (``helm_sdk_runner``) so that a Go
runtime never shares the grader's process and its signal handlers. With neither, the checks fall
back to what Helm's lint rules check without rendering, and say so.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from graders.lab08.k8s_manifests import Manifest, parse_rendered
from graders.lab08.tooling import KUBERNETES_VERSION, copy_tree
from graders.sdk import Submission, SubmissionFileError, find_tool, run_tool

HELM_DIR = "helm"
RELEASE_NAME = "copilot"
REQUIRED_VALUES = ("values.yaml", "values-staging.yaml", "values-prod.yaml")
# Helm's chartfile rule: a SemVer 2 version.
SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
VALUES_REFERENCE = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


@dataclass
class Chart:
    directory: str
    metadata: dict[str, Any]
    values_files: list[str]
    templates: list[str]

    def path(self, name: str) -> str:
        return posixpath.join(self.directory, name)


def find_charts(submission: Submission) -> list[str]:
    return sorted(posixpath.dirname(p) for p in submission.glob("helm/*/Chart.yaml"))


def load_chart(submission: Submission, directory: str) -> Chart:
    metadata = submission.load_yaml(posixpath.join(directory, "Chart.yaml"))
    if not isinstance(metadata, dict):
        raise SubmissionFileError(f"{directory}/Chart.yaml must be a mapping (apiVersion, name, version ...)")
    files = list(submission.walk(directory))
    values = sorted(
        posixpath.basename(p)
        for p in files
        if posixpath.dirname(p) == directory and re.fullmatch(r"values(-[a-z0-9]+)?\.ya?ml", posixpath.basename(p))
    )
    templates = [p for p in files if p.startswith(posixpath.join(directory, "templates") + "/")]
    return Chart(directory, metadata, values, templates)


def coalesce(defaults: Any, overrides: Any) -> Any:
    """Helm's values merge: maps merge key by key, anything else replaces, and null deletes the key."""
    if not isinstance(defaults, dict) or not isinstance(overrides, dict):
        return copy.deepcopy(overrides)
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = coalesce(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def schema_validator(schema: Any) -> jsonschema.protocols.Validator:
    """A validator for the schema's declared draft (Draft 7 when it declares none, as Helm 3 assumes)."""
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    return cls(schema)


def schema_problems(validator: jsonschema.protocols.Validator, values: Any) -> list[str]:
    problems = []
    for error in sorted(validator.iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path]):
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{where}: {error.message}")
    return problems


def undefined_value_references(submission: Submission, chart: Chart, values: dict[str, Any]) -> list[str]:
    """``.Values.a.b`` paths in templates whose parent is missing from values.yaml.

    Helm stops with "nil pointer evaluating interface {}.b" when ``a`` is missing, so these are
    render failures that can be found without rendering.
    """
    problems = []
    for template in chart.templates:
        try:
            text = submission.read_text(template)
        except SubmissionFileError as exc:
            problems.append(str(exc))
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for match in VALUES_REFERENCE.finditer(line):
                parts = match.group(1).strip(".").split(".")
                node: Any = values
                for depth, part in enumerate(parts[:-1]):
                    if not isinstance(node, dict) or part not in node:
                        problems.append(
                            f"{template}:{number}: .Values.{'.'.join(parts)} needs "
                            f"{'.'.join(parts[: depth + 1])} in values.yaml"
                        )
                        break
                    node = node[part]
    return problems


# -- running Helm ---------------------------------------------------------------------------------
@dataclass
class HelmRun:
    """Helm's verdict per values file: lint errors and the rendered objects."""

    backend: str
    lint_errors: dict[str, list[str]] = field(default_factory=dict)
    rendered: dict[str, list[Manifest]] = field(default_factory=dict)
    render_errors: dict[str, str] = field(default_factory=dict)
    failure: str | None = None


def helm_backend() -> str | None:
    if find_tool("helm"):
        return "helm"
    if importlib.util.find_spec("helm_python") is not None:
        return "helm-python-sdk"
    return None


def run_helm(submission: Submission, chart: Chart, namespace: str, workdir: Path) -> HelmRun | None:
    """Lint and render the chart with every values file; None when no Helm is available."""
    backend = helm_backend()
    if backend is None:
        return None
    copy_tree(submission, chart.directory, workdir)
    chart_dir = workdir / chart.directory
    if backend == "helm":
        return _run_binary(chart, chart_dir, namespace)
    return _run_sdk(chart, chart_dir, namespace)


def _run_binary(chart: Chart, chart_dir: Path, namespace: str) -> HelmRun:
    helm = find_tool("helm") or "helm"
    run = HelmRun("helm")
    kube = ["--kube-version", KUBERNETES_VERSION]
    for values in chart.values_files:
        extra = [] if values == "values.yaml" else ["-f", str(chart_dir / values)]
        lint = run_tool([helm, "lint", "--strict", str(chart_dir), *extra, *kube], cwd=chart_dir, timeout=60)
        if lint.returncode != 0:
            run.lint_errors[values] = [ln for ln in lint.output.splitlines() if "[ERROR]" in ln or "[WARNING]" in ln]
            run.lint_errors[values] = run.lint_errors[values] or [lint.tail(5)]
        rendered = run_tool(
            [helm, "template", RELEASE_NAME, str(chart_dir), "--namespace", namespace, *extra, *kube],
            cwd=chart_dir,
            timeout=60,
        )
        source = f"helm template -f {chart.path(values)}"
        if rendered.returncode != 0:
            run.render_errors[values] = rendered.tail(5)
            continue
        try:
            run.rendered[values] = parse_rendered(source, rendered.stdout)
        except ValueError as exc:
            run.render_errors[values] = str(exc)
    return run


def _run_sdk(chart: Chart, chart_dir: Path, namespace: str) -> HelmRun:
    run = HelmRun("helm-python-sdk")
    out = chart_dir.parent / "helm-sdk-result.json"
    command = [sys.executable, "-m", "graders.lab08.helm_sdk_runner", str(out), str(chart_dir), namespace]
    result = run_tool([*command, *chart.values_files], cwd=chart_dir, timeout=90)
    if result.returncode != 0 or result.timed_out or not out.is_file():
        run.failure = f"Helm (helm-python-sdk) could not run: {result.tail(5)}"
        return run
    try:
        payload = json.loads(out.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        run.failure = "Helm (helm-python-sdk) wrote an unreadable result"
        return run
    for values, outcome in payload.items():
        if outcome.get("lint_errors"):
            run.lint_errors[values] = outcome["lint_errors"]
        if outcome.get("render_error"):
            run.render_errors[values] = outcome["render_error"]
        elif outcome.get("manifests") is not None:
            try:
                run.rendered[values] = parse_rendered(f"helm template -f {chart.path(values)}", outcome["manifests"])
            except ValueError as exc:
                run.render_errors[values] = str(exc)
    return run
