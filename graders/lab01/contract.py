"""What Lab 01 asks of the student's repository: file paths, entry points, and the answers the checks
compare against, read from the student's own ``params.yaml`` and ``config/plant.yaml``.

The grader never imports student code: these files are parsed as data through the submission.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from graders.sdk import Submission, SubmissionFileError

PARAMS = "params.yaml"
PLANT = "config/plant.yaml"
DVC_PIPELINE = "dvc.yaml"
DVC_LOCK = "dvc.lock"
TRAIN_DIR = "data/inspection/train"
EVAL_DIR = "data/inspection/eval"
DATASETS = (TRAIN_DIR, EVAL_DIR)
TRAIN_MODULE = "mlops.train_register"
RELEASE_MODULE = "mlops.release"
TRAIN_SCRIPT = "mlops/train_register.py"
RELEASE_SCRIPT = "mlops/release.py"
RELEASES_DIR = "releases"
RELEASE_SCHEMA = "mlops/schemas/release-record.schema.json"
SCORECARD = "docs/mlops-readiness-scorecard.yaml"
SCORECARD_MD = "docs/mlops-readiness-scorecard.md"
SCORECARD_SCHEMA = "mlops/schemas/scorecard.schema.json"
DEFAULT_CLASSES = ("ok", "scratch", "dent", "corrosion")
PRIMARY_METRIC = "accuracy"
# Tag names the lab documents (the first) and the spellings also accepted.
PLANT_TAGS = ("plant", "plant_code")
LINE_TAGS = ("production_line", "production_lines", "line")


@dataclass(frozen=True)
class Registry:
    """The student's answers in params.yaml (``registry:`` and ``acceptance:``)."""

    experiment: str
    model_name: str
    alias: str
    acceptance: dict[str, float]


@dataclass(frozen=True)
class Plant:
    code: str
    lines: tuple[str, ...]


def _mapping(value: object, where: str, hint: str) -> dict:
    if not isinstance(value, dict):
        raise SubmissionFileError(f"{where} is missing or not a mapping: {hint}", PARAMS)
    return value


def registry(submission: Submission) -> Registry:
    data = _mapping(submission.load_yaml(PARAMS), PARAMS, "the pipeline's parameters live there")
    reg = _mapping(
        data.get("registry"), f"{PARAMS}: registry", "give the experiment, model_name and alias used by MLflow"
    )
    line = submission.yaml_line(PARAMS, ["registry"])
    names = {}
    for key in ("experiment", "model_name"):
        value = reg.get(key)
        if not isinstance(value, str) or not value.strip():
            raise SubmissionFileError(f"{PARAMS}: registry.{key} must be a non-empty string", PARAMS, line)
        names[key] = value.strip()
    alias = reg.get("alias", "champion")
    if not isinstance(alias, str) or not alias.strip():
        raise SubmissionFileError(f"{PARAMS}: registry.alias must be a non-empty string", PARAMS, line)
    raw = _mapping(
        data.get("acceptance"), f"{PARAMS}: acceptance", "map each metric to its minimum, e.g. accuracy: 0.95"
    )
    acceptance: dict[str, float] = {}
    for metric, minimum in raw.items():
        if isinstance(minimum, bool) or not isinstance(minimum, (int, float)):
            raise SubmissionFileError(
                f"{PARAMS}: acceptance.{metric} must be a number (the metric's minimum), got {minimum!r}",
                PARAMS,
                submission.yaml_line(PARAMS, ["acceptance", str(metric)]),
            )
        acceptance[str(metric)] = float(minimum)
    if PRIMARY_METRIC not in acceptance:
        raise SubmissionFileError(
            f"{PARAMS}: acceptance has no minimum for {PRIMARY_METRIC}; the champion must reach one",
            PARAMS,
            submission.yaml_line(PARAMS, ["acceptance"]),
        )
    return Registry(names["experiment"], names["model_name"], alias.strip(), acceptance)


def plant(submission: Submission) -> Plant:
    data = submission.load_yaml(PLANT)
    section = data.get("plant") if isinstance(data, dict) else None
    code = section.get("code") if isinstance(section, dict) else None
    lines = section.get("production_lines") if isinstance(section, dict) else None
    if not isinstance(code, str) or not isinstance(lines, list) or not lines:
        raise SubmissionFileError(f"{PLANT}: expected plant.code and a non-empty plant.production_lines list", PLANT)
    return Plant(code, tuple(str(line) for line in lines))


def classes(submission: Submission) -> tuple[str, ...]:
    """The classes of the evaluation set (its labels.csv), in first-seen order; the lab's four otherwise."""
    rel = f"{EVAL_DIR}/labels.csv"
    if not submission.is_file(rel):
        return DEFAULT_CLASSES
    found: list[str] = []
    for row in csv.DictReader(io.StringIO(submission.read_text(rel))):
        label = (row.get("label") or "").strip()
        if label and label not in found:
            found.append(label)
    return tuple(found) or DEFAULT_CLASSES
