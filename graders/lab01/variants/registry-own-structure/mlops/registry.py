"""The MLflow Model Registry side of the lifecycle: versions tagged by plant and production line, and
the ``champion`` alias that the service serves (``COPILOT_MODEL_URI=models:/<name>@champion``).

The alias is the release switch, so it moves only for a candidate that meets every acceptance
criterion in ``params.yaml`` *and* beats the current champion on the same evaluation set; every
candidate is still registered (with its tags), so the registry keeps the full history an auditor
asks for, including the versions that were not promoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.config import PlantProfile

WEIGHTS_FILE = "inspection-cnn.pt"
MODEL_ARTIFACT_PATH = "model"
# The metric a candidate must beat the champion on (both measured on the current evaluation set).
PRIMARY_METRIC = "accuracy"


class RegistryError(Exception):
    """A registry operation failed; the message names the model, version or alias."""


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def version_tags(profile: PlantProfile, lines: Sequence[str], extra: dict[str, str]) -> dict[str, str]:
    """Tags of a new model version: where it may run (plant, production lines) plus ``extra`` facts."""
    allowed = set(profile.plant.production_lines)
    chosen = list(dict.fromkeys(lines))  # keep the order given, drop repeats
    if not chosen or not allowed.issuperset(chosen):
        bad = ", ".join(line for line in chosen if line not in allowed) or "none given"
        raise RegistryError(f"--line must name lines of {profile.plant.code} in config/plant.yaml (got: {bad})")
    tags = dict(extra)
    tags["plant"] = profile.plant.code
    tags["production_line"] = ", ".join(chosen)
    return tags


def register(client: Any, name: str, run_id: str, source: str, tags: dict[str, str], description: str) -> Any:
    """Register the run's model artefacts as a new version of ``name`` (created on first use), with ``tags``."""
    from mlflow.exceptions import MlflowException, RestException

    try:
        client.create_registered_model(name, description="Inspection CNN of the Manufacturing Copilot")
    except (RestException, MlflowException) as exc:
        if "RESOURCE_ALREADY_EXISTS" not in str(getattr(exc, "error_code", "")) and "already exists" not in str(exc):
            raise
    version = client.create_model_version(name=name, source=source, run_id=run_id, description=description)
    for key, value in tags.items():
        client.set_model_version_tag(name, version.version, key, value)
    return client.get_model_version(name, version.version)


def champion(client: Any, name: str, alias: str) -> Any | None:
    """The version the alias points to, or None when there is none yet."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def decide(candidate: dict[str, float], champion_score: float | None, minimums: dict[str, float]) -> Decision:
    """Whether the candidate becomes champion: it meets every acceptance criterion and beats the champion."""
    below = {
        metric: (candidate.get(metric, 0.0), minimum)
        for metric, minimum in minimums.items()
        if candidate.get(metric, 0.0) < minimum
    }
    if below:
        return Decision(False, "below the acceptance criteria: " + ", ".join(
            f"{metric} {value} < {minimum}" for metric, (value, minimum) in below.items()
        ))
    score = candidate[PRIMARY_METRIC]
    beats = champion_score is None or score > champion_score
    if not beats:
        return Decision(False, f"{PRIMARY_METRIC} {score} is not above the champion's {champion_score}")
    return Decision(True, f"accepted; {PRIMARY_METRIC} {score} vs champion {champion_score}")


def promote(client: Any, name: str, alias: str, version: str) -> None:
    """Point ``alias`` at ``version`` (the service picks it up at its next start)."""
    client.set_registered_model_alias(name=name, alias=alias, version=str(version))


def download_weights(uri: str, dest: Path | None = None) -> Path:
    """Local path of the weights file of a registry URI such as ``models:/inspection-cnn@champion``.

    The store is ``MLFLOW_TRACKING_URI``'s, else the repository's own SQLite store.
    """
    from mlops.params import repo_root
    from mlops.tracking import configure

    configure(repo_root())
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dest) if dest else None))
    except MlflowException as exc:
        raise RegistryError(f"{uri}: {exc.message}") from None
    weights = local / WEIGHTS_FILE if local.is_dir() else local
    if not weights.is_file():
        raise RegistryError(f"{uri}: the version's artefacts hold no {WEIGHTS_FILE}")
    return weights
