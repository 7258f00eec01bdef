"""Whole-file starters: what replaces (or leaves out) a reference file or folder in the student template.

Labs name them in lab.yaml (``starters:``, a path under ``labs/labNN/starters/`` or null); the kit
has its own for the files no lab owns (:data:`graders.instructor.kit_files.KIT_STARTERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graders.engine.labs import Lab
from graders.instructor.layout import BuildError


@dataclass(frozen=True)
class Starter:
    target: str  # path in the student repo (a file or a folder)
    source: Path | None  # file or folder under labs/labNN/starters/, None: leave the target out
    owner: str  # "lab03/lab.yaml" or "kit"


def lab_starters(labs: list[Lab]) -> list[Starter]:
    result = []
    for lab in labs:
        for target, value in lab.starters.items():
            where = f"{lab.directory.name}/lab.yaml"
            if value is None:
                result.append(Starter(target.rstrip("/"), None, where))
                continue
            rel = value.removeprefix("starters/")
            source = lab.directory / "starters" / rel
            if not source.exists():
                missing = f"labs/{lab.id}/starters/{rel}"
                raise BuildError([f"labs/{where}: starters: {target!r} -> {value!r}, but {missing} does not exist"])
            result.append(Starter(target.rstrip("/"), source, where))
    return result


def starter_for(rel: str, starters: list[Starter]) -> Starter | None:
    matches = [s for s in starters if rel == s.target or rel.startswith(s.target + "/")]
    return max(matches, key=lambda s: len(s.target)) if matches else None


def starter_files(starter: Starter) -> dict[str, Path]:
    if starter.source is None:
        return {}
    if starter.source.is_file():
        return {starter.target: starter.source}
    return {
        f"{starter.target}/{p.relative_to(starter.source).as_posix()}": p
        for p in sorted(starter.source.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
