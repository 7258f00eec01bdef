"""The pipeline's parameters (``params.yaml``): DVC records them per stage, MLflow logs them per run.

One typed model, so a typo in a key or a value of the wrong type stops the pipeline with the file and
the field named, before any training starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.config import find_profile

PARAMS_FILE = "params.yaml"
# MLflow registry names: letters, digits, dot, dash, underscore.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ALIAS_PATTERN = r"^[a-z][a-z0-9_-]*$"
CHANGE_REQUEST_PATTERN = r"^CR-[0-9]{4}-[0-9]{4}$"


class ParamsError(Exception):
    """params.yaml is missing or invalid; the message names the file and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(_Model):
    image_size: int = Field(ge=8, le=256)
    train_per_class: int = Field(ge=1)
    train_seed: int
    eval_per_class: int = Field(ge=1)
    eval_seed: int


class TrainParams(_Model):
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    seed: int
    threads: int = Field(1, ge=1)


class WeakParams(_Model):
    epochs: int = Field(ge=1)
    train_per_class: int = Field(ge=1)


class RegistryParams(_Model):
    experiment: str = Field(min_length=1)
    model_name: str = Field(pattern=NAME_PATTERN)
    alias: str = Field("champion", pattern=ALIAS_PATTERN)


class ReleaseParams(_Model):
    approver: str = Field(min_length=3)
    change_request: str = Field(pattern=CHANGE_REQUEST_PATTERN)


class Params(_Model):
    data: DataParams
    train: TrainParams
    weak: WeakParams
    registry: RegistryParams
    acceptance: dict[str, float] = Field(min_length=1)
    release: ReleaseParams

    def flat(self, *sections: str) -> dict[str, Any]:
        """``section.key`` -> value for the named sections (what MLflow logs as run parameters)."""
        out: dict[str, Any] = {}
        for section in sections:
            values = self.acceptance if section == "acceptance" else getattr(self, section).model_dump()
            out.update({f"{section}.{key}": value for key, value in values.items()})
        return out


def repo_root() -> Path:
    """The capstone repository: the folder that holds ``config/plant.yaml``."""
    return find_profile().resolve().parent.parent


def load_params(root: Path | None = None) -> Params:
    path = (root or repo_root()) / PARAMS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParamsError(f"{path}: not found; the pipeline's parameters live in {PARAMS_FILE}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping with data, train, weak, registry, acceptance and release")
    try:
        return Params.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in err['loc']) or '(top level)'}': {err['msg']}" for err in exc.errors()[:5]
        )
        raise ParamsError(f"{path}: {problems}") from None
