"""Reading the scenario's snapshots the way the checks need them, with feedback that says which run
of the student's program produced (or failed to produce) what."""

from __future__ import annotations

from graders.lab01 import contract
from graders.lab01.scenario import Run, Scenario
from graders.lab01.store import RunInfo, Snapshot, VersionInfo
from graders.sdk import GraderError, fail


def readable(snapshot: Snapshot | None, step: Run) -> Snapshot:
    """The snapshot taken after ``step``; a store the grader cannot read is a grader error, not the student's."""
    if snapshot is None:
        raise GraderError(f"the tracking store after {step.shown!r} was not inspected")
    if snapshot.error:
        raise GraderError(f"after {step.describe()}\n{snapshot.error}")
    return snapshot


def experiment_runs(scenario: Scenario) -> tuple[Snapshot, list[RunInfo]]:
    """The candidate store and the runs of the lab's experiment in it (failing when there are none)."""
    snap = readable(scenario.store_candidate, scenario.candidate)
    name = scenario.registry.experiment
    if not snap.experiment_found:
        others = ", ".join(repr(e) for e in snap.experiments if e != "Default")
        hint = (
            f"Experiments in the store: {others}. Log the runs to that experiment."
            if others
            else "The store is empty: the grader points MLFLOW_TRACKING_URI at a fresh store for each run, so "
            "the program must not set another tracking URI when that variable is set."
        )
        fail(
            f"no MLflow experiment named {name!r} (registry.experiment in {contract.PARAMS}) after "
            f"{scenario.candidate.describe()}\n{hint}",
            contract.TRAIN_SCRIPT,
        )
    if not snap.runs:
        fail(f"the experiment {name!r} has no runs after {scenario.candidate.describe()}", contract.TRAIN_SCRIPT)
    return snap, snap.runs


def main_run(snap: Snapshot) -> RunInfo:
    """The run behind the newest registered version, else the run that logged the most metrics."""
    newest = snap.newest_version
    if newest is not None and snap.run(newest.run_id) is not None:
        found = snap.run(newest.run_id)
        assert found is not None
        return found
    return max(snap.runs, key=lambda r: (len(r.metrics), len(r.params)))


def registered(snapshot: Snapshot, step: Run, model: str) -> list[VersionInfo]:
    """The versions of the lab's model in a store, failing with the run's output when there are none."""
    if not snapshot.model_found or not snapshot.versions:
        others = ", ".join(repr(m) for m in snapshot.models) or "none"
        fail(
            f"no version of the registered model {model!r} (registry.model_name in {contract.PARAMS}) after "
            f"{step.describe()}\nRegistered models in the store: {others}. Register every candidate the run "
            "trains, promoted or not.",
            contract.TRAIN_SCRIPT,
        )
    return snapshot.versions


def metric_text(run: RunInfo | None, metric: str = contract.PRIMARY_METRIC) -> str:
    if run is None or metric not in run.metrics:
        return f"no {metric} metric"
    return f"{metric} {run.metrics[metric]:g}"
