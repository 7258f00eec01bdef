"""MLflow tracking: the candidate run logs its parameters, per-class and overall metrics, the DVC
versions of its data, and its artefacts (confusion matrix image, model card excerpt)."""

from __future__ import annotations

from graders.lab01 import contract, dvc_hashes, sections, views
from graders.lab01.scenario import Scenario
from graders.sdk import Checklist, Submission, check, fail

MIN_PARAMS = 4
TIMEOUT_S = 400.0


@check(
    points=3,
    name="The training run logs its parameters and per-class metrics",
    section=sections.MLFLOW,
    timeout=TIMEOUT_S,
)
def test_training_run_logged(mlflow_scenario: Scenario, classes: tuple[str, ...], checklist: Checklist) -> None:
    snap, _ = views.experiment_runs(mlflow_scenario)
    run = views.main_run(snap)
    where = contract.TRAIN_SCRIPT
    shown = f"run {run.run_id[:8]} ({run.name or 'unnamed'})"
    checklist.require(
        len(run.params) >= MIN_PARAMS,
        f"{shown} logs {len(run.params)} parameter(s); log every training parameter (epochs, batch size, learning "
        f"rate, seed ... at least {MIN_PARAMS}) with mlflow.log_params",
        where,
    )
    checklist.require(
        any("epoch" in key.lower() for key in run.params),
        f"{shown} has no epochs parameter among {sorted(run.params)[:8]}",
        where,
    )
    checklist.require(
        contract.PRIMARY_METRIC in run.metrics,
        f"{shown} has no overall '{contract.PRIMARY_METRIC}' metric (metrics: {sorted(run.metrics)[:8]})",
        where,
    )
    missing = [c for c in classes if not any(c in key.lower() for key in run.metrics)]
    checklist.require(
        not missing,
        f"{shown} has no per-class metric for {', '.join(missing)}; log e.g. recall_<class> for every class of "
        f"{contract.EVAL_DIR}/labels.csv",
        where,
    )


def _dataset_versions(submission: Submission) -> dict[str, str]:
    recorded = {r.path: r.md5 for r in dvc_hashes.recorded(submission) if r.md5}
    missing = [path for path in contract.DATASETS if path not in recorded]
    if missing:
        fail(
            f"{', '.join(missing)} has no version recorded by DVC (a .dvc file or a dvc.yaml stage output in "
            f"{contract.DVC_LOCK}), so the run cannot cite it",
            contract.DVC_LOCK,
        )
    return {path: recorded[path] for path in contract.DATASETS}


@check(
    points=2,
    name="The training run records the DVC versions of its data",
    section=sections.VERSIONING,
    timeout=TIMEOUT_S,
)
def test_dataset_version_logged(mlflow_scenario: Scenario, submission: Submission, checklist: Checklist) -> None:
    versions = _dataset_versions(submission)
    snap, _ = views.experiment_runs(mlflow_scenario)
    run = views.main_run(snap)
    values = run.values()
    for path, md5 in versions.items():
        checklist.require(
            any(md5.removesuffix(".dir") in value for value in values),
            f"run {run.run_id[:8]} does not record the version of {path} ({md5}, as DVC recorded it) in a parameter "
            "or tag; log it (e.g. mlflow.log_param('dataset.eval_version', ...))",
            contract.TRAIN_SCRIPT,
        )


@check(
    points=2,
    name="The training run logs the confusion matrix and a model card excerpt",
    section=sections.MLFLOW,
    timeout=TIMEOUT_S,
)
def test_artifacts_logged(mlflow_scenario: Scenario, checklist: Checklist) -> None:
    snap, _ = views.experiment_runs(mlflow_scenario)
    run = views.main_run(snap)
    shown = ", ".join(run.artifacts[:8]) or "none"
    checklist.require(
        any(a.lower().endswith((".png", ".svg", ".jpg")) for a in run.artifacts),
        f"run {run.run_id[:8]} logs no image artefact (the confusion matrix, drawn with matplotlib); "
        f"artefacts: {shown}",
        contract.TRAIN_SCRIPT,
    )
    checklist.require(
        any(a.lower().endswith(".md") for a in run.artifacts),
        f"run {run.run_id[:8]} logs no Markdown artefact (the model card excerpt); artefacts: {shown}",
        contract.TRAIN_SCRIPT,
    )
