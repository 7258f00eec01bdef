"""Example values become variables; payload braces survive a render by either tool's Jinja."""

from __future__ import annotations

from typing import Any

import pytest
from cookiecutter.environment import StrictEnvironment
from jinja2.sandbox import SandboxedEnvironment

from graders.instructor import variables

PAYLOADS = {
    "github-actions.yml": "run: echo ${{ github.sha }} ${{secrets.TOKEN}}\nif: ${{ always() }}\n",
    "helm-deployment.yaml": "image: {{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.Version }}\n"
    "{{- if .Values.gpu }}\n{{- end }}\n{{/* a comment */}}\n",
    "prometheus-rules.yml": "summary: 'High error rate on {{ $labels.instance }}: {{ $value | humanizePercentage }}'\n",
    "grafana.json": '{"legendFormat": "{{instance}} {{route}}"}\n',
    "alertmanager.tmpl": '{{ define "copilot.title" }}{% raw %}x{% endraw %} {# not a comment #}{{ end }}\n',
    "edge.txt": "{{{ triple }}} {{{{ quad }}}} {%- strip -%} {#}\n",
}
ANSWERS = {
    "plant_name": "Monterrey Assembly Plant",
    "plant_code": "MTY02",
    "production_lines": "body-1, final-2",
    "gcp_project_id": "mty-copilot-dev",
    "primary_region": "europe-west1",
    "secondary_region": "asia-east1",
    "student_name": "Ana López",
    "github_username": "alopez",
    "cohort": "2027-spring",
    "python_version": "3.10",
    "__plant_slug": "mty02",
}


def render_copier(template: str, context: dict[str, Any]) -> str:
    env = SandboxedEnvironment(keep_trailing_newline=True)  # what copier renders with
    return env.from_string(template).render(cookiecutter=context)


def render_cookiecutter(template: str, context: dict[str, Any]) -> str:
    env = StrictEnvironment(context={"cookiecutter": {}}, keep_trailing_newline=True)
    return env.from_string(template).render(cookiecutter=context)


EXAMPLE = {v.name: v.example for v in variables.VARIABLES} | {"__plant_slug": "rvb01"}


@pytest.mark.parametrize("render", [render_copier, render_cookiecutter], ids=["copier", "cookiecutter"])
@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_braces_come_out_untouched(name: str, render: Any) -> None:
    text = PAYLOADS[name] + "plant: RVB01 in europe-west4\n"
    templated, used = variables.templatize(text, name)
    assert used == {"plant_code", "primary_region"}
    assert render(templated, EXAMPLE) == text


@pytest.mark.parametrize("render", [render_copier, render_cookiecutter], ids=["copier", "cookiecutter"])
def test_answers_replace_the_example_values(render: Any) -> None:
    text = (
        "name: Riverbend Stamping Plant\ncode: RVB01\nlabel: copilot-rvb01\nlines: [press-1, weld-2, paint-3]\n"
        "project: meridian-mfg-copilot\nregions: [europe-west4, asia-southeast1]\nowner: Jordan Rivera (@jrivera-mfg)\n"
        "cohort: 2026-fall\n"
    )
    templated, _ = variables.templatize(text, "config/plant.yaml")
    assert render(templated, ANSWERS) == (
        "name: Monterrey Assembly Plant\ncode: MTY02\nlabel: copilot-mty02\nlines: [body-1, final-2]\n"
        "project: mty-copilot-dev\nregions: [europe-west1, asia-east1]\n"
        "owner: Ana López (@alopez)\ncohort: 2027-spring\n"
    )


def test_longest_value_wins_and_nothing_is_replaced_twice() -> None:
    templated, used = variables.templatize("Riverbend Stamping Plant (RVB01)\n", "README.md")
    assert templated == "{{ cookiecutter.plant_name }} ({{ cookiecutter.plant_code }})\n"
    assert used == {"plant_name", "plant_code"}


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        (
            ".github/workflows/main.yml",
            'python-version: "3.11"\n',
            'python-version: "{{ cookiecutter.python_version }}"\n',
        ),
        (".github/workflows/main.yml", "python-version: 3.11\n", "python-version: {{ cookiecutter.python_version }}\n"),
        (".python-version", "3.11\n", "{{ cookiecutter.python_version }}\n"),
        ("Makefile", "PYTHON_VERSION=3.11\n", "PYTHON_VERSION={{ cookiecutter.python_version }}\n"),
    ],
)
def test_python_version_is_replaced_only_where_it_names_the_interpreter(path: str, text: str, expected: str) -> None:
    assert variables.templatize(text, path)[0] == expected


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (".github/workflows/main.yml", 'python-version: ["3.10", "3.11"]\n'),
        ("Dockerfile", "FROM python:3.11.11-slim-bookworm\n"),
        ("docs/notes.md", "Python 3.11 or later\n"),
        ("Dockerfile", "ARG PYTHON_VERSION=3.11\n"),
    ],
)
def test_python_version_elsewhere_is_left_alone(path: str, text: str) -> None:
    assert variables.templatize(text, path) == (text, set())


def test_file_without_example_values_is_not_a_template() -> None:
    text = "run: ${{ github.sha }}\n"
    assert variables.templatize(text, "ci.yml") == (text, set())


def test_paths_use_the_filter_free_slug() -> None:
    assert variables.templatize_path("data/rvb01/RVB01-PRS-101.json") == (
        "data/{{ cookiecutter.__plant_slug }}/{{ cookiecutter.plant_code }}-PRS-101.json"
    )
