"""The known-good and known-bad inputs a student's policies are run against (``policy_inputs/``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from graders.lab07.hcl import parse
from graders.sdk import safe_yaml

CASES_DIR = Path(__file__).resolve().parent / "policy_inputs"
SHAPES = {".tf": "HCL", ".tfvars": "HCL variables", ".json": "plan JSON"}


@dataclass(frozen=True)
class PolicyInput:
    """One file of a case: its name, its shape and the document conftest would evaluate."""

    name: str
    shape: str
    document: Any


@dataclass(frozen=True)
class PolicyCase:
    name: str
    expect: str  # "allow" or "deny"
    topic: str
    what: str
    inputs: tuple[PolicyInput, ...]


def _read(path: Path) -> PolicyInput:
    text = path.read_text(encoding="utf-8")
    name = f"{path.parent.name}/{path.name}"
    if path.suffix == ".json":
        return PolicyInput(name, SHAPES[".json"], json.loads(text))
    return PolicyInput(name, SHAPES[path.suffix], parse(text, name).data)


def _cases_file() -> dict[str, Any]:
    path = CASES_DIR / "cases.yaml"
    data = safe_yaml.load(path.read_text(encoding="utf-8"), str(path))
    return data if isinstance(data, dict) else {}


@cache
def load_cases() -> list[PolicyCase]:
    meta = _cases_file()
    cases = []
    for expect, folder in (("deny", "bad"), ("allow", "good")):
        for stem, info in meta[folder].items():
            files = sorted(p for p in (CASES_DIR / folder).glob(f"{stem}.*") if p.name.split(".", 1)[0] == stem)
            if not files:
                raise FileNotFoundError(f"{CASES_DIR / folder}: no input files for case {stem!r}")
            cases.append(
                PolicyCase(stem, expect, str(info.get("topic", "")), str(info["what"]), tuple(_read(p) for p in files))
            )
    return cases


def topics() -> dict[str, str]:
    data = _cases_file()
    return {str(k): str(v) for k, v in data["topics"].items()}
