"""Every third-party module the graders import is provided by a declared dependency of ``capstone-kit``.

The Classroom workflow and ``make grade`` install the graders alone (``pip install capstone-kit``),
so a module that only reaches the kit's development environment through another package's
dependencies breaks grading there: the lab that imports it becomes an ``error``. This test reads
every module under ``graders/`` (imports anywhere in the file, by their top-level name) and maps
each to the distributions that provide it in this environment.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KIT = Path(__file__).resolve().parents[2]
GRADERS = KIT / "graders"

# Imports that a graders-only install may lack, each guarded where it is imported (inside a function,
# behind an ImportError handler or a find_spec test) and each with the fallback that makes that safe.
OPTIONAL_IMPORTS = {
    "helm_python": "extra `helm` (helm-python-sdk): lab08 renders charts with it only when "
    "importlib.util.find_spec finds it, else with a helm binary or by structure (lab08/helm_chart.py)",
    "jupytext": "extra `dev`: `capstone rubric` (instructors) says to install the dev extras when it is missing",
    "ruff": "extra `dev`: `capstone build` (instructors) falls back to a ruff on PATH (instructor/starter_lint.py)",
}


@dataclass(frozen=True)
class Import:
    module: str  # top-level name
    file: str  # relative to the kit
    line: int
    top_level: bool  # executed when the module is imported, outside any try block


def _imports(path: Path, root: Path = KIT) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(root).as_posix()
    found: list[Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module]
            found.extend(Import(name.split(".")[0], rel, child.lineno, top_level) for name in names)
            nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Try))
            visit(child, top_level and not nested)

    visit(tree, True)
    return found


# Whole-file answers in the student's project (its own imports), never imported by the graders
# (``norecursedirs`` of graders/engine/pytest.ini).
ANSWER_FOLDERS = {"variants", "mutants"}


def third_party_imports(folder: Path = GRADERS, root: Path = KIT) -> list[Import]:
    """Imports under ``folder`` that are neither the standard library nor the graders themselves."""
    return [
        imp
        for path in sorted(folder.rglob("*.py"))
        if not ANSWER_FOLDERS & set(path.relative_to(folder).parts)
        for imp in _imports(path, root)
        if imp.module not in sys.stdlib_module_names and imp.module != "graders"
    ]


def declared_distributions(pyproject: Path = KIT / "pyproject.toml") -> set[str]:
    """Canonical names of ``[project].dependencies`` (the graders-only install), markers ignored."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(Requirement(spec).name) for spec in project["dependencies"]}


def undeclared(imports: list[Import], declared: set[str], provided_by: dict[str, list[str]]) -> list[str]:
    """One message per module that no declared distribution provides (allow-listed modules excepted)."""
    problems: dict[str, str] = {}
    for imp in imports:
        if imp.module in OPTIONAL_IMPORTS or imp.module in problems:
            continue
        # A requirement whose marker excludes this Python (tomli on 3.11+) is not installed here: then
        # the import name is taken as the distribution name.
        distributions = {canonicalize_name(d) for d in provided_by.get(imp.module, [])} or {
            canonicalize_name(imp.module)
        }
        if distributions & declared:
            continue
        source = ", ".join(sorted(distributions))
        problems[imp.module] = (
            f"{imp.file}:{imp.line} imports `{imp.module}` (from {source}), which is not a dependency of "
            "capstone-kit: add the distribution to [project].dependencies in pyproject.toml, or guard the "
            "import and add it to OPTIONAL_IMPORTS with the reason"
        )
    return list(problems.values())


def test_every_third_party_import_of_the_graders_is_a_declared_dependency() -> None:
    problems = undeclared(third_party_imports(), declared_distributions(), packages_distributions())
    assert not problems, "\n".join(problems)


def test_optional_imports_are_guarded_and_still_used() -> None:
    imports = third_party_imports()
    used = {imp.module for imp in imports}
    assert not set(OPTIONAL_IMPORTS) - used, f"stale OPTIONAL_IMPORTS entries: {set(OPTIONAL_IMPORTS) - used}"
    unguarded = [f"{i.file}:{i.line} {i.module}" for i in imports if i.module in OPTIONAL_IMPORTS and i.top_level]
    assert not unguarded, f"optional imports at module level (importing the module fails without them): {unguarded}"


def test_an_undeclared_import_is_named_with_its_file(tmp_path: Path) -> None:
    module = tmp_path / "graders" / "lab04" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text("import json\n\nimport httpx\nfrom prometheus_client.parser import x\n", encoding="utf-8")
    answer = tmp_path / "graders" / "lab04" / "variants" / "other-metrics" / "src" / "app.py"
    answer.parent.mkdir(parents=True)
    answer.write_text("import copilot\n", encoding="utf-8")  # the student's project, not the grader's
    imports = third_party_imports(tmp_path / "graders", root=tmp_path)
    provided_by = {"httpx": ["httpx"], "prometheus_client": ["prometheus_client"]}
    problems = undeclared(imports, {"httpx"}, provided_by)
    assert len(problems) == 1
    assert problems[0].startswith("graders/lab04/probe.py:4 imports `prometheus_client` (from prometheus-client)")
    assert undeclared(imports, {"httpx", "prometheus-client"}, provided_by) == []


@pytest.mark.parametrize(
    ("source", "top_level"),
    [
        ("import helm_python\n", True),
        ("def f():\n    import helm_python\n", False),
        ("try:\n    import helm_python\nexcept ImportError:\n    pass\n", False),
    ],
)
def test_module_level_imports_are_told_from_guarded_ones(tmp_path: Path, source: str, top_level: bool) -> None:
    module = tmp_path / "m.py"
    module.write_text(source, encoding="utf-8")
    assert [i.top_level for i in _imports(module, root=tmp_path)] == [top_level]
