"""The Helm chart: Helm's chart rules, values.schema.json over every values file, lint and render."""

from __future__ import annotations

import posixpath
import re

from graders.lab08 import helm_chart, sections, tooling
from graders.lab08.helm_chart import REQUIRED_VALUES, SEMVER, Chart, HelmRun
from graders.sdk import Checklist, Submission, SubmissionFileError, check, fail, partial

# Kinds the chart's templates must produce (the same resources as the plain manifests).
CHART_KINDS = (
    "Deployment",
    "Service",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "ScaledObject",
    "NetworkPolicy",
    "PeerAuthentication",
    "AuthorizationPolicy",
)


@check(4, "Helm chart structure: Chart.yaml, values files, schema, templates and NOTES.txt", section=sections.HELM)
def test_helm_chart_structure(submission: Submission, chart: Chart, checklist: Checklist) -> None:
    meta = chart.metadata
    where = chart.path("Chart.yaml")
    checklist.require(meta.get("apiVersion") == "v2", f"{where}: apiVersion must be v2 (Helm 3 charts)", where)
    checklist.require(
        meta.get("name") == posixpath.basename(chart.directory),
        f"{where}: name {meta.get('name')!r} must match its folder name {posixpath.basename(chart.directory)!r}",
        where,
    )
    checklist.require(
        SEMVER.match(str(meta.get("version", ""))),
        f"{where}: version {meta.get('version')!r} must be a SemVer 2 version such as 0.8.0",
        where,
    )
    checklist.require(meta.get("appVersion"), f"{where}: set appVersion to the image version the chart deploys", where)
    for name in (*REQUIRED_VALUES, "values.schema.json", "templates/NOTES.txt"):
        checklist.require(submission.is_file(chart.path(name)), f"{chart.path(name)} is missing", chart.path(name))
    kinds: set[str] = set()
    for template in chart.templates:
        if template.endswith((".yaml", ".yml", ".tpl")):
            kinds |= set(re.findall(r"(?m)^kind:\s*(\w+)", submission.read_text(template)))
    missing = [k for k in CHART_KINDS if k not in kinds]
    checklist.require(
        not missing,
        f"{chart.path('templates')}/ has no template for {', '.join(missing)}: template every resource of the "
        "plain manifests",
        chart.path("templates"),
    )


@check(
    6, "Every values file satisfies values.schema.json (merged over values.yaml, as Helm does)", section=sections.HELM
)
def test_helm_values_schema(submission: Submission, chart: Chart, checklist: Checklist) -> None:
    schema_path = chart.path("values.schema.json")
    schema = submission.load_json(schema_path)
    try:
        validator = helm_chart.schema_validator(schema)
    except Exception as exc:  # jsonschema.SchemaError and friends: the schema itself is wrong
        fail(f"{schema_path} is not a valid JSON Schema: {str(exc).splitlines()[0]}", schema_path)
    defaults = submission.load_yaml(chart.path("values.yaml"))
    if not isinstance(defaults, dict):
        fail(f"{chart.path('values.yaml')} must be a mapping of values", chart.path("values.yaml"))
    declared = set((schema.get("properties") or {}) if isinstance(schema, dict) else {})
    undeclared = sorted(set(defaults) - declared)
    checklist.require(
        not undeclared,
        f"{schema_path} does not describe the top-level values {', '.join(undeclared)}: give each a type (and "
        "constraints) under 'properties'",
        schema_path,
    )
    for name in chart.values_files:
        path = chart.path(name)
        try:
            overrides = defaults if name == "values.yaml" else submission.load_yaml(path) or {}
        except SubmissionFileError as exc:
            checklist.require(False, str(exc), path)
            continue
        if not isinstance(overrides, dict):
            checklist.require(False, f"{path} must be a mapping of values", path)
            continue
        merged = helm_chart.coalesce(defaults, overrides)
        problems = helm_chart.schema_problems(validator, merged)
        line = submission.yaml_line(path, problems[0].split(":")[0].split(".")) if problems else None  # type: ignore[arg-type]
        checklist.require(
            not problems,
            f"{path} breaks {schema_path}: {'; '.join(problems[:3])}",
            f"{path}:{line}" if line else path,
        )


@check(3, "helm lint --strict and helm template succeed for every values file", section=sections.HELM)
def test_helm_render(submission: Submission, chart: Chart, helm_run: HelmRun | None, checklist: Checklist) -> None:
    if helm_run is None:
        defaults = submission.load_yaml(chart.path("values.yaml")) or {}
        problems = helm_chart.undefined_value_references(
            submission, chart, defaults if isinstance(defaults, dict) else {}
        )
        for issue in problems[:5]:
            checklist.require(False, issue, issue.split(": ")[0])
        if not problems:
            partial(
                1.0,
                "Helm is not installed here (neither the helm binary nor helm-python-sdk), so the chart was not "
                "linted or rendered; every .Values reference in the templates was checked against values.yaml instead",
            )
        return
    if helm_run.failure:
        fail(helm_run.failure)
    for name in chart.values_files:
        path = chart.path(name)
        errors = helm_run.lint_errors.get(name, [])
        checklist.require(not errors, f"helm lint --strict with {path}: {'; '.join(errors[:3])}", path)
        if name in helm_run.render_errors:
            checklist.require(False, f"helm template with {path} failed: {helm_run.render_errors[name]}", path)
            continue
        rendered = helm_run.rendered.get(name, [])
        kinds = {m.kind for m in rendered}
        missing = [k for k in ("Deployment", "Service") if k not in kinds]
        checklist.require(not missing, f"helm template with {path} renders no {', '.join(missing)}", path)
        invalid = []
        for manifest in rendered:
            problem: str | None
            if tooling.crd_key(manifest) is not None:
                problems = tooling.crd_schema_errors(manifest)
                problem = "; ".join(problems) if problems else None
            else:
                problem, _ = tooling.kubernetes_schema_errors(manifest.doc)
            if problem:
                invalid.append(f"{manifest.kind} {manifest.name}: {problem}")
        checklist.require(
            not invalid, f"helm template with {path} renders invalid objects: {'; '.join(invalid[:3])}", path
        )
