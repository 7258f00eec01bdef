"""Validating workflow files with the ecosystem's own tools.

``check-jsonschema --builtin-schema vendor.github-workflows`` (SchemaStore's workflow schema, bundled
with check-jsonschema) is always available where the grader is installed: one CLI call validates every
file in about 0.2 s and parses YAML the way GitHub does (``on:`` stays a string key). actionlint adds
type checking of expressions and ``needs`` when it is on PATH; it is optional because no package
registry the kit can reach ships its binary, and the feedback says when it was not run.

Files are copied out of the submission first (size-capped, no symlink escapes, alias bombs refused by
:class:`~graders.sdk.Submission`), so the tools only ever read the copies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from graders.sdk import GraderError, Submission, SubmissionFileError, find_tool, run_tool

WORKFLOW_SCHEMA = "vendor.github-workflows"
MAX_PROBLEMS = 6


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


def stage(submission: Submission, paths: list[str], dest: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Copy the workflows that parse safely into ``dest``; unreadable ones become problems."""
    staged: dict[str, Path] = {}
    problems: list[Problem] = []
    for rel in paths:
        try:
            submission.load_yaml(rel)  # refuses broken YAML and alias bombs before any tool sees the file
            text = submission.read_text(rel)
        except SubmissionFileError as exc:
            problems.append(Problem(rel, str(exc), exc.line))
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        staged[rel] = target
    return staged, problems


def _json_path_to_keys(path: str) -> list[str | int]:
    keys: list[str | int] = []
    for part in path.lstrip("$").strip(".").replace("[", ".").replace("]", "").split("."):
        if part:
            keys.append(int(part) if part.isdigit() else part)
    return keys


def check_jsonschema(submission: Submission, staged: dict[str, Path], cwd: Path) -> list[Problem]:
    """Schema problems of every staged workflow, from one check-jsonschema run."""
    tool = find_tool("check-jsonschema")
    if tool is None:
        raise GraderError("check-jsonschema is not installed where the grader runs (pip install check-jsonschema)")
    by_copy = {str(p): rel for rel, p in staged.items()}
    result = run_tool(
        [tool, "--builtin-schema", WORKFLOW_SCHEMA, "--output-format", "json", *by_copy], cwd=cwd, timeout=60
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise GraderError(
            f"check-jsonschema gave no readable report (exit {result.returncode}): {result.tail()}"
        ) from None
    problems = []
    for error in report.get("errors", []):
        rel = by_copy.get(error.get("filename", ""), error.get("filename", "?"))
        best = error.get("best_deep_match") or error.get("best_match") or error
        where = best.get("path", "$")
        keys = _json_path_to_keys(where)
        line = submission.yaml_line(rel, keys) if keys else None
        message = str(best.get("message", "does not match the schema"))
        message = message if len(message) <= 240 else message[:240] + "..."
        shown = ".".join(str(k) for k in keys) or "(top level)"
        problems.append(Problem(rel, f"{shown}: {message}", line))
    for parse_error in report.get("parse_errors", []):
        rel = by_copy.get(parse_error.get("filename", ""), "?")
        problems.append(Problem(rel, f"could not be parsed: {parse_error.get('message', '')}"))
    return problems


def actionlint(staged: dict[str, Path], cwd: Path) -> list[Problem] | None:
    """actionlint's findings, or None when actionlint is not installed."""
    tool = find_tool("actionlint")
    if tool is None:
        return None
    by_copy = {str(p): rel for rel, p in staged.items()}
    result = run_tool([tool, "-format", "{{json .}}", "-no-color", *by_copy], cwd=cwd, timeout=60)
    try:
        findings = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        raise GraderError(f"actionlint gave no readable report (exit {result.returncode}): {result.tail()}") from None
    return [
        Problem(by_copy.get(f.get("filepath", ""), f.get("filepath", "?")), f"{f.get('message')} [{f.get('kind')}]",
                f.get("line"))
        for f in findings
    ]
