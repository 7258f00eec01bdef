"""Train the inspection CNN on the DVC-versioned dataset, log the run to MLflow and register the model.

    python -m mlops.train_register                 # a candidate: train, log, register, promote if it earns it
    python -m mlops.train_register --weak          # a deliberately weak candidate (params.yaml `weak`)
    python -m mlops.train_register --line press-1  # a version for one production line only

Every run logs its parameters, per-class and overall metrics, the DVC versions of its training and
evaluation data, the confusion matrix and a model card excerpt, then registers a model version
tagged with the plant and production line(s) from ``config/plant.yaml``. The ``champion`` alias
moves only when the new version meets the acceptance criteria and beats the champion re-measured
on the same evaluation set. Tracking store: ``MLFLOW_TRACKING_URI``, else ``var/mlflow/mlflow.db``.

Exit status: 0 when the run was logged and registered (promoted or not), 1 when it could not be.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common.config import PlantConfigError, load_plant_profile
from mlops import registry
from mlops.data_version import DataVersionError, versions
from mlops.dataset import EVAL_DIR, TRAIN_DIR, DatasetError, Split, load_split
from mlops.evaluation import acceptance, classification_metrics, confusion_matrix, plot_confusion, predict
from mlops.gitinfo import head
from mlops.model_card import excerpt
from mlops.params import Params, ParamsError, load_params, repo_root
from mlops.tracking import configure, experiment_id


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlops.train_register", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weak",
        action="store_true",
        help="train a deliberately weak candidate (params.yaml `weak`); it is logged and registered, never promoted",
    )
    parser.add_argument(
        "--line",
        action="append",
        default=[],
        help="production line the version is for (repeatable; default: every line in config/plant.yaml)",
    )
    return parser


def _data_versions(root: Path) -> dict[str, str]:
    found = versions(root)
    missing = [path for path in (TRAIN_DIR, EVAL_DIR) if path not in found]
    if missing:
        raise DataVersionError(
            f"{', '.join(missing)} not versioned: add the folder to DVC (a .dvc file or a dvc.yaml stage output)"
        )
    return {path: found[path] for path in (TRAIN_DIR, EVAL_DIR)}


def _effective_params(params: Params, weak: bool) -> dict[str, Any]:
    logged = params.flat("data", "train", "registry", "acceptance")
    if weak:
        logged["data.train_per_class"] = params.weak.train_per_class
        logged["train.epochs"] = params.weak.epochs
    return logged


def _champion_score(client: Any, params: Params, current: Any, evaluation: Split, workdir: Path) -> float | None:
    """The champion's accuracy re-measured on the current evaluation set (its logged value as a fallback)."""
    if current is None:
        return None
    from copilot.vision.model import load_bundle

    try:
        weights = registry.download_weights(f"models:/{params.registry.model_name}/{current.version}", workdir)
        predictions = predict(load_bundle(weights).model, evaluation.images)
        return round(float((predictions == evaluation.labels).mean()), 4)
    except (registry.RegistryError, OSError, RuntimeError, ValueError) as exc:
        logged = client.get_run(current.run_id).data.metrics.get(registry.PRIMARY_METRIC)
        print(f"note: champion version {current.version} could not be re-evaluated ({exc}); using its logged value")
        return None if logged is None else float(logged)


def run(args: argparse.Namespace) -> int:
    root = repo_root()
    params = load_params(root)
    profile = load_plant_profile(root / "config" / "plant.yaml")
    lines = tuple(args.line) or profile.plant.production_lines
    kind = "weak" if args.weak else "candidate"
    data_versions = _data_versions(root)
    training, evaluation = load_split(root / TRAIN_DIR), load_split(root / EVAL_DIR)
    if args.weak:
        training = training.per_class(params.weak.train_per_class)

    import torch  # imported once the inputs are known to be good: a mistake there fails in a second

    from copilot.vision.model import save_bundle
    from copilot.vision.train import TrainConfig, train

    torch.set_num_threads(params.train.threads)
    config = TrainConfig(
        train_per_class=len(training) // len(training.classes),
        eval_per_class=len(evaluation) // len(evaluation.classes),
        epochs=params.weak.epochs if args.weak else params.train.epochs,
        batch_size=params.train.batch_size,
        learning_rate=params.train.learning_rate,
        seed=params.train.seed,
        version=f"{params.registry.model_name}-{kind}",
    )
    started = time.perf_counter()
    bundle = train(config, log=False, data=(training.images, training.labels, evaluation.images, evaluation.labels))
    train_seconds = time.perf_counter() - started
    confusion = confusion_matrix(evaluation.labels, predict(bundle.model, evaluation.images), len(evaluation.classes))
    metrics = classification_metrics(confusion, evaluation.classes)
    criteria = acceptance(metrics, params.acceptance)

    uri = configure(root)
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(tracking_uri=uri)
    name, alias = params.registry.model_name, params.registry.alias
    commit = head(root)
    logged = _effective_params(params, args.weak)
    experiment = experiment_id(client, params.registry.experiment, uri)

    # The client API: the run is created, written to and closed explicitly (no active-run context).
    run = client.create_run(experiment, run_name=kind)
    run_id = run.info.run_id
    status = "FAILED"
    try:
        now_ms = int(time.time() * 1000)
        all_params = {
            **logged,
            "dataset.train_version": data_versions[TRAIN_DIR],
            "dataset.eval_version": data_versions[EVAL_DIR],
        }
        run_tags = {
            "run_kind": kind,
            "plant": profile.plant.code,
            "production_line": ",".join(lines),
            "dataset_version": data_versions[EVAL_DIR],
        }
        if commit:
            run_tags.update(git_commit=commit.sha, git_dirty=str(commit.dirty).lower())
        all_metrics = {**metrics, "train_seconds": round(train_seconds, 3)}
        client.log_batch(
            run_id,
            metrics=[Metric(key, float(value), now_ms, 0) for key, value in all_metrics.items()],
            params=[Param(key, str(value)) for key, value in all_params.items()],
            tags=[RunTag(key, value) for key, value in run_tags.items()],
        )
        with tempfile.TemporaryDirectory(prefix="train-register-") as tmp:
            workdir = Path(tmp)
            save_bundle(bundle, workdir / registry.WEIGHTS_FILE)
            client.log_artifact(run_id, str(workdir / registry.WEIGHTS_FILE), registry.MODEL_ARTIFACT_PATH)
            title = f"{name} {kind}: accuracy {metrics['accuracy']}"
            figure = plot_confusion(confusion, evaluation.classes, workdir / "confusion_matrix.png", title)
            client.log_artifact(run_id, str(figure), "evaluation")
            client.log_dict(
                run_id,
                {"classes": list(evaluation.classes), "matrix": confusion.tolist()},
                "evaluation/confusion_matrix.json",
            )
            card = excerpt(root, name, profile.plant.code, lines, data_versions, metrics, criteria, logged)
            client.log_text(run_id, card, "model_card.md")

            version_tags = registry.version_tags(
                profile,
                lines,
                {
                    "dataset_version": data_versions[EVAL_DIR],
                    "train_data_version": data_versions[TRAIN_DIR],
                    "run_kind": kind,
                    **({"git_commit": commit.sha} if commit else {}),
                },
            )
            source = f"{run.info.artifact_uri}/{registry.MODEL_ARTIFACT_PATH}"
            version = registry.register(client, name, run_id, source, version_tags, f"{kind} run {run_id}")
            current = registry.champion(client, name, alias)
            decision = registry.decide(
                metrics, _champion_score(client, params, current, evaluation, workdir), params.acceptance
            )
            if decision.promote:
                registry.promote(client, name, alias, version.version)
            client.set_model_version_tag(name, version.version, "promotion", decision.reason)
            client.set_tag(run_id, "promotion", decision.reason)
        status = "FINISHED"
    finally:
        client.set_terminated(run_id, status)

    verdict = "; ".join(f"{c.metric} {c.value} (min {c.minimum}) {'pass' if c.passed else 'FAIL'}" for c in criteria)
    print(f"run {run_id} logged to experiment '{params.registry.experiment}' at {uri}")
    print(f"{kind}: {verdict}; trained in {train_seconds:.1f} s")
    print(f"registered {name} version {version.version} for {profile.plant.code} ({', '.join(lines)})")
    outcome = "now" if decision.promote else "not"
    print(f"version {version.version} is {outcome} the {alias}: {decision.reason}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except (ParamsError, PlantConfigError, DataVersionError, DatasetError, registry.RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
