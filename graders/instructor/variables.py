"""The example plant's values and the template variables they become.

The reference solution is written for the example plant (ARCHITECTURE.md, "The example plant").
The build replaces each example value by a Jinja expression over the ``cookiecutter`` namespace,
which copier (through a computed answer) and cookiecutter both provide. Substitution is one pass
over the text with the longest values first, so no value is replaced inside another; a file that
holds a variable gets its own ``{{``, ``{%`` and ``{#`` escaped first, so payload braces (GitHub
Actions, Helm, Prometheus, Grafana) come out of the render untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

NAMESPACE = "cookiecutter"
JINJA_OPENERS = ("{{", "{%", "{#")


@dataclass(frozen=True)
class Variable:
    """An example value and the expression it becomes.

    ``pattern``: None for a literal value; otherwise a regex whose group ``value`` is replaced (for
    values too common to replace everywhere, such as the Python version). ``files``: fnmatch
    patterns on the file name the rule is limited to (None: every file).
    """

    name: str
    example: str
    expression: str
    pattern: str | None = None
    files: tuple[str, ...] | None = None
    in_paths: bool = True

    def applies_to(self, path: str) -> bool:
        if self.files is None:
            return True
        name = PurePosixPath(path).name
        return any(fnmatchcase(name, f) for f in self.files)


def _var(name: str) -> str:
    return "{{ " + NAMESPACE + "." + name + " }}"


# Order does not matter for literals (the longest match wins); contextual rules are listed after.
VARIABLES: tuple[Variable, ...] = (
    Variable("plant_name", "Riverbend Stamping Plant", _var("plant_name")),
    Variable("production_lines", "press-1, weld-2, paint-3", _var("production_lines")),
    Variable("gcp_project_id", "meridian-mfg-copilot", _var("gcp_project_id")),
    Variable("primary_region", "europe-west4", _var("primary_region")),
    Variable("secondary_region", "asia-southeast1", _var("secondary_region")),
    Variable("student_name", "Jordan Rivera", _var("student_name")),
    Variable("github_username", "jrivera-mfg", _var("github_username")),
    Variable("cohort", "2026-fall", _var("cohort")),
    Variable("plant_code", "RVB01", _var("plant_code")),
    # Lowercase plant code in resource names and labels. In file names the filter is avoided (a "|"
    # cannot appear in a Windows path), through the computed __plant_slug answer.
    Variable("plant_slug", "rvb01", "{{ " + NAMESPACE + ".plant_code | lower }}"),
    # The Python version of the student's own environment, CI and grader: `.python-version`, the
    # `python-version:` of workflows (a matrix list is left alone), PYTHON_VERSION= settings. Container
    # base images keep the reference's pinned interpreter.
    Variable(
        "python_version",
        "3.11",
        _var("python_version"),
        r"(?<=PYTHON_VERSION=)(?P<value>3\.11)\b",
        files=("Makefile", "*.mk", "*.sh", ".env*", "*.yml", "*.yaml"),
    ),
    Variable("python_version", "3.11", _var("python_version"), r"(?<=python-version: \")(?P<value>3\.11)(?=\")"),
    Variable("python_version", "3.11", _var("python_version"), r"(?<=python-version: ')(?P<value>3\.11)(?=')"),
    Variable("python_version", "3.11", _var("python_version"), r"(?m)(?<=python-version: )(?P<value>3\.11)$"),
    Variable(
        "python_version", "3.11", _var("python_version"), r"\A(?P<value>3\.11)(?=\n?\Z)", files=(".python-version",)
    ),
)
PATH_EXPRESSIONS = {"plant_slug": "{{ " + NAMESPACE + ".__plant_slug }}"}


@dataclass(frozen=True)
class Substitution:
    start: int
    end: int
    variable: Variable


def _literal_regex(variables: tuple[Variable, ...]) -> re.Pattern[str]:
    literals = sorted({v.example for v in variables if v.pattern is None}, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in literals))


_LITERALS = _literal_regex(VARIABLES)
_BY_EXAMPLE = {v.example: v for v in VARIABLES if v.pattern is None}


def find(text: str, path: str) -> list[Substitution]:
    """Every example value in ``text`` that becomes a variable, left to right, without overlaps."""
    found = [Substitution(m.start(), m.end(), _BY_EXAMPLE[m.group(0)]) for m in _LITERALS.finditer(text)]
    for variable in VARIABLES:
        if variable.pattern is None or not variable.applies_to(path):
            continue
        for m in re.finditer(variable.pattern, text):
            found.append(Substitution(m.start("value"), m.end("value"), variable))
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    result: list[Substitution] = []
    for sub in found:
        if not result or sub.start >= result[-1].end:
            result.append(sub)
    return result


def escape_jinja(text: str) -> str:
    """``text`` with every Jinja opener printed by an expression, so a render returns it unchanged."""
    out = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in JINJA_OPENERS:
            out.append("{{ '" + pair + "' }}")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def templatize(text: str, path: str) -> tuple[str, set[str]]:
    """``text`` as a template (escaped, then example values replaced) and the variables it uses.

    Returns the text unchanged and an empty set when it holds no example value.
    """
    subs = find(text, path)
    if not subs:
        return text, set()
    out = []
    cursor = 0
    for sub in subs:
        out.append(escape_jinja(text[cursor : sub.start]))
        out.append(sub.variable.expression)
        cursor = sub.end
    out.append(escape_jinja(text[cursor:]))
    return "".join(out), {s.variable.name for s in subs}


def templatize_path(path: str) -> str:
    """A relative path with example values in its parts replaced (no filters: paths must stay portable)."""
    subs = [s for s in find(path, path) if s.variable.in_paths and s.variable.pattern is None]
    if not subs:
        return path
    out = []
    cursor = 0
    for sub in subs:
        out.append(path[cursor : sub.start])
        out.append(PATH_EXPRESSIONS.get(sub.variable.name, sub.variable.expression))
        cursor = sub.end
    out.append(path[cursor:])
    return "".join(out)


def overflowing_lines(text: str, path: str, longest: dict[str, int], limit: int) -> list[tuple[int, int, int, str]]:
    """Lines that fit ``limit`` with the example values but not with the longest valid answers.

    Returns ``(line number, columns now, columns at worst, variable names)`` for each such line.
    """
    found = []
    offset = 0
    subs = find(text, path)
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        end = offset + len(line)
        inside = [s for s in subs if offset <= s.start < end]
        if inside:
            width = len(line.rstrip("\r\n"))
            worst = width + sum(max(0, longest.get(s.variable.name, 0) - (s.end - s.start)) for s in inside)
            if width <= limit < worst:
                found.append((number, width, worst, ", ".join(sorted({s.variable.name for s in inside}))))
        offset = end
    return found
