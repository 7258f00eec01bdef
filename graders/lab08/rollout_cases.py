"""The deployment-status fixtures of the rollout checks (fixtures/rollout/cases.yaml) and verdict parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from graders.sdk import safe_yaml

FIXTURES = Path(__file__).with_name("fixtures") / "rollout"
FAKE_KUBECTL = FIXTURES / "fake_kubectl.py"
SCRIPT = "scripts/rollout_status.py"
SEVERITY = {"complete": 0, "progressing": 1, "failed": 2}
VERDICT_LINE = re.compile(r"^\s*(complete|progressing|failed)\b", re.IGNORECASE | re.MULTILINE)
# An error line on standard error: "failed: ..." or kubectl's "error: ..." (never a traceback's indented code).
ERROR_LINE = re.compile(r"^(?:error:\s*)?(complete|progressing|failed)\b", re.IGNORECASE | re.MULTILINE)
# `kubectl rollout status`'s own messages for a Deployment (DeploymentStatusViewer.Status).
KUBECTL_WORDING = (
    ("complete", re.compile(r"\bsuccessfully rolled out\b", re.IGNORECASE)),
    ("progressing", re.compile(r"^\s*Waiting for (?:deployment|rollout)\b", re.IGNORECASE | re.MULTILINE)),
    ("failed", re.compile(r"\bexceeded its progress deadline\b", re.IGNORECASE)),
)


@dataclass(frozen=True)
class Case:
    id: str
    file: Path
    verdict: str | None
    exit_code: int
    rule: str
    stdin: bool = False


@dataclass(frozen=True)
class WatchCase:
    id: str
    sequence: tuple[Path, ...]
    exit_code: int
    min_polls: int


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = safe_yaml.load((FIXTURES / "cases.yaml").read_text(encoding="utf-8"), "cases.yaml")
    return data


def cases() -> list[Case]:
    return [
        Case(c["id"], FIXTURES / c["file"], c["verdict"], c["exit_code"], c["rule"], bool(c.get("stdin")))
        for c in _data()["cases"]
    ]


def malformed() -> Case:
    m = _data()["malformed"]
    return Case(m["id"], FIXTURES / m["file"], None, m["exit_code"], m["rule"])


def watch_cases() -> list[WatchCase]:
    return [
        WatchCase(w["id"], tuple(FIXTURES / f for f in w["sequence"]), w["exit_code"], w["min_polls"])
        for w in _data()["watch"]
    ]


def verdict_of(output: str, errors: str = "") -> str | None:
    """The most severe verdict the script reported, on standard output or (for errors) standard error.

    A verdict is a line starting with complete, progressing or failed, or kubectl's own wording for it
    (``Waiting for deployment ...``, ``deployment "x" successfully rolled out``, ``error: deployment "x"
    exceeded its progress deadline``), so a script that prints exactly what kubectl prints is understood.
    """
    found = [m.lower() for m in VERDICT_LINE.findall(output)]
    found += [m.lower() for m in ERROR_LINE.findall(errors)]
    found += [verdict for verdict, pattern in KUBECTL_WORDING if pattern.search(output) or pattern.search(errors)]
    return max(found, key=SEVERITY.__getitem__) if found else None
