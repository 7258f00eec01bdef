"""Lab metadata: loading and validating ``labs/labNN/lab.yaml``.

The lab catalogue is the single source for points, titles and deliverables. A checkout reads it
from ``labs/`` beside the ``graders`` package; an installed wheel carries a copy in
``graders/_labs`` (see ``pyproject.toml``).
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).with_name("lab.schema.json")
GRADERS_DIR = Path(__file__).resolve().parent.parent


class LabMetadataError(Exception):
    """A lab.yaml that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Deliverable:
    path: str
    description: str


@dataclass(frozen=True)
class Lab:
    id: str
    number: int
    title: str
    points: float
    notebook: str
    grader: str
    directory: Path
    deliverables: tuple[Deliverable, ...]
    objectives: tuple[str, ...]
    assignment_title: str
    assignment_summary: str
    timeout_s: float = 300.0
    grading_cost: float = 1.0
    starters: dict[str, str | None] = field(default_factory=dict)
    references: tuple[str, ...] = ()

    @property
    def notebook_path(self) -> Path:
        return self.directory / self.notebook

    @property
    def student_notebook(self) -> str:
        """Where the notebook lives in a student's repo."""
        return f"notebooks/{self.notebook}"

    def grader_dir(self) -> Path | None:
        """The directory of the grader package, or None when the package is not installed yet."""
        try:
            spec = importlib.util.find_spec(self.grader)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations)))


def default_labs_dir() -> Path:
    packaged = GRADERS_DIR / "_labs"
    if packaged.is_dir():
        return packaged
    return GRADERS_DIR.parent / "labs"


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"field '{where}': {error.message}"


def load_lab(path: Path) -> Lab:
    """Load and validate one lab.yaml; raise LabMetadataError naming file and field on any problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabMetadataError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise LabMetadataError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise LabMetadataError(f"{path}: expected a mapping of lab fields, got {type(data).__name__}")
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(data), key=lambda e: e.path)
    if errors:
        listed = "; ".join(_describe(e) for e in errors[:5])
        raise LabMetadataError(f"{path}: {listed}")
    if data["id"] != path.parent.name:
        raise LabMetadataError(
            f"{path}: field 'id' is {data['id']!r} but the folder is {path.parent.name!r}; make them match"
        )
    if data["id"] != f"lab{data['number']:02d}":
        raise LabMetadataError(f"{path}: field 'number' ({data['number']}) does not match id {data['id']!r}")
    return Lab(
        id=data["id"],
        number=data["number"],
        title=data["title"],
        points=float(data["points"]),
        notebook=data["notebook"],
        grader=data["grader"],
        directory=path.parent,
        deliverables=tuple(Deliverable(d["path"], d["description"]) for d in data["deliverables"]),
        objectives=tuple(data["objectives"]),
        assignment_title=data["assignment"]["title"],
        assignment_summary=data["assignment"]["summary"],
        timeout_s=float(data.get("timeout_s", 300)),
        grading_cost=float(data.get("grading_cost", 1)),
        starters=dict(data.get("starters") or {}),
        references=tuple(data.get("references") or ()),
    )


def load_catalog(labs_dir: Path | None = None) -> list[Lab]:
    """All labs under ``labs_dir``, in id order."""
    root = labs_dir or default_labs_dir()
    files = sorted(root.glob("lab*/lab.yaml"))
    if not files:
        raise LabMetadataError(f"{root}: no lab*/lab.yaml files found")
    return [load_lab(f) for f in files]


def select(catalog: list[Lab], ids: list[str] | None) -> list[Lab]:
    """The labs named by ``ids`` (all when None); an unknown id is an error that lists the valid ones."""
    if not ids:
        return list(catalog)
    known = {lab.id: lab for lab in catalog}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise LabMetadataError(f"unknown lab id(s): {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    return [known[i] for i in sorted(set(ids))]
