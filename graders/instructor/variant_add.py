"""``capstone variant add``: turn a real submission's correct answer into a variant of its lab.

When a student's correct answer loses points, the fix is in the grader, and the answer itself should
stay in the kit as proof. This copies the lab's files that differ from the reference (its
``deliverables`` in ``lab.yaml``, the files holding its ``BEGIN SOLUTION labNN`` regions, and any
``extra`` path) into ``graders/labNN/variants/<id>/``, appends the ``variants.yaml`` entry and the
README line, so ``capstone verify`` grades it from then on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from graders.engine import variants
from graders.engine.labs import Lab
from graders.engine.mutants import COPY_IGNORE, MutantError

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_MARKER_SCAN_BYTES = 1_000_000
YAML_HEADER = "# Correct answers in other forms; each must score full marks for its lab.\nvariants:\n"
README_HEADER = (
    "# {lab} variants\n\nCorrect answers in other forms; `capstone verify` requires each to score full marks.\n"
    "Files are at their repository paths under `<id>/`.\n\n"
)


class VariantAddError(Exception):
    """A variant that cannot be added; the message says why and what to do."""


@dataclass
class Added:
    variant_id: str
    folder: Path
    files: list[str]
    unchanged_missing: list[str] = field(default_factory=list)  # lab files absent from the submission


def _files_under(root: Path, rel: str) -> list[str]:
    """``rel`` itself when it is a file of ``root``, the files below it when it is a folder."""
    path = root / rel
    if path.is_file():
        return [rel]
    if not path.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        skipped = set(COPY_IGNORE(dirpath, dirnames + filenames))
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        found += [(Path(dirpath) / n).relative_to(root).as_posix() for n in filenames if n not in skipped]
    return sorted(found)


def solution_files(reference: Path, lab_id: str) -> list[str]:
    """Reference files that hold a ``BEGIN SOLUTION <lab>`` region (the lab's TODOs in the starter)."""
    marker = f"BEGIN SOLUTION {lab_id}".encode()
    found = []
    for rel in _files_under(reference, "."):
        path = reference / rel
        if path.stat().st_size <= MAX_MARKER_SCAN_BYTES and marker in path.read_bytes():
            found.append(Path(rel).as_posix())
    return sorted(found)


def lab_files(lab: Lab, reference: Path, submission: Path, extra: list[str]) -> list[str]:
    """Every repository path the lab's answer may live in, in both trees."""
    roots = [d.path.rstrip("/") for d in lab.deliverables] + list(extra)
    paths = {p for rel in roots for root in (reference, submission) for p in _files_under(root, rel)}
    return sorted(paths | set(solution_files(reference, lab.id)))


def differing_files(lab: Lab, reference: Path, submission: Path, extra: list[str]) -> tuple[list[str], list[str]]:
    """(files of the submission that differ from or are absent in the reference, lab files it lacks)."""
    differ, missing = [], []
    for rel in lab_files(lab, reference, submission, extra):
        mine, theirs = submission / rel, reference / rel
        if not mine.is_file() or mine.is_symlink():
            if theirs.is_file():
                missing.append(rel)
            continue
        if not theirs.is_file() or mine.read_bytes() != theirs.read_bytes():
            differ.append(rel)
    return differ, missing


def _append_entry(path: Path, variant_id: str, description: str) -> None:
    """Append to variants.yaml as text (its comments stay), then prove it still loads."""
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    existing = yaml.safe_load(before) if before.strip() else None
    if not isinstance(existing, dict) or not existing.get("variants"):
        text = YAML_HEADER
        indent = "  "
    else:
        text = before if before.endswith("\n") else before + "\n"
        match = re.search(r"^([ \t]*)- id:", before, flags=re.MULTILINE)
        indent = match.group(1) if match else "  "
    text += (
        f"{indent}- id: {variant_id}\n"
        f"{indent}  description: {json.dumps(description)}\n"
        f"{indent}  overlay: {variants.FOLDER}/{variant_id}\n"
    )
    data = yaml.safe_load(text)
    if not any(isinstance(v, dict) and v.get("id") == variant_id for v in data.get("variants") or []):
        raise VariantAddError(f"{path}: could not append the entry (unusual layout); add it by hand")
    path.write_text(text, encoding="utf-8")


def _append_readme(path: Path, lab_id: str, variant_id: str, description: str) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else README_HEADER.format(lab=lab_id)
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + f"- {variant_id}: {' '.join(description.split())}\n", encoding="utf-8")


def add_variant(
    lab: Lab, reference: Path, submission: Path, variant_id: str, description: str, extra: list[str] | None = None
) -> Added:
    """Copy the submission's differing lab files into a new variant and register it."""
    grader = lab.grader_dir()
    if grader is None:
        raise VariantAddError(f"{lab.id} has no grader suite ({lab.grader}) to add a variant to")
    if not ID_PATTERN.match(variant_id):
        raise VariantAddError(f"--id {variant_id!r}: use lowercase letters, digits and '-' (e.g. pure-asgi-audit)")
    if not description.strip():
        raise VariantAddError("--description: say in one line how this answer differs from the reference")
    if not submission.is_dir():
        raise VariantAddError(f"{submission} is not a folder")
    try:
        known = {v.id for v in variants.load_variants(lab)}
    except MutantError as exc:
        raise VariantAddError(f"fix {variants.FILE_NAME} first: {exc}") from None
    folder = grader / variants.FOLDER / variant_id
    if variant_id in known or folder.exists():
        raise VariantAddError(f"{lab.id} already has a variant {variant_id!r}: choose another --id")
    differ, missing = differing_files(lab, reference, submission, extra or [])
    if not differ:
        raise VariantAddError(
            f"the submission's {lab.id} files equal the reference's: nothing to add "
            "(name other changed files with --file PATH)"
        )
    for rel in differ:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(submission / rel, folder / rel)  # the mode too: a script stays executable
    _append_entry(grader / variants.FILE_NAME, variant_id, description.strip())
    _append_readme(grader / variants.FOLDER / "README.md", lab.id, variant_id, description)
    return Added(variant_id, folder, differ, missing)


def find_variant(lab: Lab, variant_id: str) -> variants.Variant:
    return next(v for v in variants.load_variants(lab) if v.id == variant_id)
