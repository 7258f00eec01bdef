"""MLflow Model Registry: every candidate is registered from the run that logged its evidence, tagged
with the plant and production line(s) of config/plant.yaml; the champion alias moves only for a
version that meets the acceptance criteria and beats the champion.

The scenario (graders.lab01.scenario) plays five training runs: ``--weak`` on a fresh store (the
threshold guard), the candidate on another fresh store (registration and promotion), then, with every
acceptance minimum lowered to 0, ``--weak`` again on the candidate's store (worse than the champion)
and ``--weak --line <line>`` on the first store once the grader made its weak version the champion
(equal to it: a tie does not beat the champion; the version is for that one line), and ``--weak`` on
a third fresh store with every minimum 0 but one criterion other than the first, which the weak model
fails (the criteria apply all together).
"""

from __future__ import annotations

from graders.lab01 import contract, sections, views
from graders.lab01.scenario import Scenario
from graders.lab01.store import Snapshot
from graders.sdk import Checklist, check, fail

TIMEOUT_S = 400.0


@check(
    points=9,
    name="Each candidate is registered from the run that logged its metrics",
    section=sections.MLFLOW,
    assignment=True,
    timeout=TIMEOUT_S,
)
def test_model_registered(mlflow_scenario: Scenario, checklist: Checklist) -> None:
    snap = views.readable(mlflow_scenario.store_candidate, mlflow_scenario.candidate)
    versions = views.registered(snap, mlflow_scenario.candidate, mlflow_scenario.registry.model_name)
    newest = versions[-1]
    run = snap.run(newest.run_id)
    checklist.require(
        run is not None,
        f"version {newest.version} names run {newest.run_id or '(none)'}, which is not a run of the experiment "
        f"{mlflow_scenario.registry.experiment!r}; register the model from the run that trained it",
        contract.TRAIN_SCRIPT,
    )
    checklist.require(
        run is not None and contract.PRIMARY_METRIC in run.metrics and bool(run.params),
        f"the run of version {newest.version} has no '{contract.PRIMARY_METRIC}' metric or no parameters: log the "
        "metrics and parameters in the same run the model is registered from, not in another run",
        contract.TRAIN_SCRIPT,
    )
    checklist.require(
        bool(newest.source),
        f"version {newest.version} has no source: register it from the run's model artefacts",
        contract.TRAIN_SCRIPT,
    )


def _tag(tags: dict[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    return next(((name, tags[name]) for name in names if tags.get(name)), None)


@check(
    points=10,
    name="Versions are tagged with the plant and production line from config/plant.yaml",
    section=sections.REGISTRY,
    assignment=True,
    timeout=TIMEOUT_S,
)
def test_version_tags(mlflow_scenario: Scenario, plant: contract.Plant, checklist: Checklist) -> None:
    stores: list[tuple[Snapshot, str]] = []
    for snap, step in (
        (mlflow_scenario.store_weak, mlflow_scenario.weak_first),
        (mlflow_scenario.store_worse, mlflow_scenario.worse),
    ):
        readable = views.readable(snap, step)
        if readable.versions:
            stores.append((readable, step.shown))
    if not stores:
        views.registered(
            views.readable(mlflow_scenario.store_candidate, mlflow_scenario.candidate),
            mlflow_scenario.candidate,
            mlflow_scenario.registry.model_name,
        )
    lines = ", ".join(plant.lines)
    _line_option_tags(mlflow_scenario, checklist)
    for snap, shown in stores:
        for version in snap.versions:
            label = f"version {version.version} (after `{shown}`)"
            found = _tag(version.tags, contract.PLANT_TAGS)
            checklist.require(
                found is not None and found[1] == plant.code,
                f"{label} has tag plant={found[1] if found else '(missing)'}; expected plant={plant.code}, the "
                f"plant.code of {contract.PLANT} (read it through common.config, never hard-code it)",
                contract.TRAIN_SCRIPT,
            )
            line = _tag(version.tags, contract.LINE_TAGS)
            values = [v.strip() for v in line[1].split(",")] if line else []
            checklist.require(
                bool(values) and all(v in plant.lines for v in values),
                f"{label} has tag production_line={line[1] if line else '(missing)'}; expected one or more of "
                f"{lines} (plant.production_lines of {contract.PLANT}), comma-separated",
                contract.TRAIN_SCRIPT,
            )


def _line_option_tags(scenario: Scenario, checklist: Checklist) -> None:
    """The version registered by ``--line X`` is tagged with X alone, not every line of config/plant.yaml."""
    step, line = scenario.tie, scenario.tie_line
    if step is None or scenario.store_tie is None or scenario.store_weak is None:
        return  # no run 1 version to build on: the checks on run 1 say why
    before = {v.version for v in scenario.store_weak.versions}
    added = [v for v in views.readable(scenario.store_tie, step).versions if v.version not in before]
    if not added:
        checklist.require(False, f"`{step.shown}` registered no version; {step.describe()}", contract.TRAIN_SCRIPT)
        return
    found = _tag(added[-1].tags, contract.LINE_TAGS)
    values = [v.strip() for v in found[1].split(",")] if found else []
    checklist.require(
        values == [line],
        f"version {added[-1].version} (after `{step.shown}`) has tag production_line="
        f"{found[1] if found else '(missing)'}; expected production_line={line}: a version registered with "
        "`--line` is for the line(s) given on the command line only (every line of the plant only without `--line`)",
        contract.TRAIN_SCRIPT,
    )


def _meets(run_metrics: dict[str, float], acceptance: dict[str, float]) -> list[str]:
    return [
        f"{metric} {run_metrics.get(metric, 'not logged')} < {minimum:g}"
        for metric, minimum in acceptance.items()
        if not isinstance(run_metrics.get(metric), float) or run_metrics[metric] < minimum
    ]


@check(
    points=10,
    name="The candidate becomes champion and meets the acceptance criteria",
    section=sections.REGISTRY,
    assignment=True,
    timeout=TIMEOUT_S,
)
def test_champion_meets_threshold(mlflow_scenario: Scenario) -> None:
    snap = views.readable(mlflow_scenario.store_candidate, mlflow_scenario.candidate)
    versions = views.registered(snap, mlflow_scenario.candidate, mlflow_scenario.registry.model_name)
    alias, acceptance = mlflow_scenario.registry.alias, mlflow_scenario.registry.acceptance
    criteria = ", ".join(f"{m} >= {v:g}" for m, v in acceptance.items())
    newest = versions[-1]
    if snap.alias_version is None:
        fail(
            f"after {mlflow_scenario.candidate.describe()}\nno version has the alias {alias!r}. Version "
            f"{newest.version} ({views.metric_text(snap.run(newest.run_id))}) is the only candidate in a fresh store: "
            f"when it meets the acceptance criteria ({criteria}) move the alias to it "
            "(MlflowClient.set_registered_model_alias)",
            contract.TRAIN_SCRIPT,
        )
    champion = snap.version(snap.alias_version)
    run = snap.run(champion.run_id) if champion else None
    if run is None:
        fail(f"the alias {alias!r} points to version {snap.alias_version}, whose run has no metrics in the experiment")
        return
    failing = _meets(run.metrics, acceptance)
    if failing:
        fail(
            f"the alias {alias!r} points to version {snap.alias_version}, which fails the acceptance criteria of "
            f"{contract.PARAMS} ({'; '.join(failing)}); a champion must meet all of them",
            contract.PARAMS,
        )


@check(
    points=9,
    name="A candidate below the acceptance criteria never becomes champion",
    section=sections.REGISTRY,
    assignment=True,
    timeout=TIMEOUT_S,
)
def test_weak_run_not_promoted(mlflow_scenario: Scenario, checklist: Checklist) -> None:
    """Two cases, half the points each: the weak candidate, and one that fails a single criterion (not the first)."""
    _weak_not_promoted(mlflow_scenario, checklist)
    _every_criterion_applied(mlflow_scenario, checklist)


def _weak_not_promoted(scenario: Scenario, checklist: Checklist) -> None:
    step = scenario.weak_first
    snap = views.readable(scenario.store_weak, step)
    versions = views.registered(snap, step, scenario.registry.model_name)
    problem = ""
    if snap.alias_version is not None:
        champion = snap.version(snap.alias_version)
        run = snap.run(champion.run_id) if champion else None
        criteria = ", ".join(f"{m} >= {v:g}" for m, v in scenario.registry.acceptance.items())
        problem = (
            f"`{step.shown}` on an empty registry moved the alias {scenario.registry.alias!r} to version "
            f"{snap.alias_version} ({views.metric_text(run)}), a deliberately weak model. Check the acceptance "
            f"criteria of {contract.PARAMS} ({criteria}) before moving the alias, even when there is no champion yet"
        )
    elif not step.ok:
        problem = f"the weak candidate (version {versions[-1].version}) was registered, but {step.describe()}"
    checklist.require(not problem, problem, contract.TRAIN_SCRIPT)


def _every_criterion_applied(scenario: Scenario, checklist: Checklist) -> None:
    step = scenario.one_criterion
    if step is None:
        single = scenario.one_criterion_skipped and "single acceptance criterion" in scenario.one_criterion_skipped
        checklist.require(
            bool(single),
            f"the case of a candidate failing one criterion could not be played: {scenario.one_criterion_skipped}",
            contract.TRAIN_SCRIPT,
        )
        return
    snap = views.readable(scenario.store_one_criterion, step)
    problem = ""
    if snap.alias_version is not None:
        minimums = scenario.one_criterion_minimums
        strict = [f"{m} >= {v:g}" for m, v in minimums.items() if v > 0]
        champion = snap.version(snap.alias_version)
        run = snap.run(champion.run_id) if champion else None
        logged = ", ".join(f"{m} {run.metrics.get(m)}" for m in minimums) if run else "no metrics"
        problem = (
            f"with the acceptance minimums of {contract.PARAMS} set to {minimums}, `{step.shown}` on an empty "
            f"registry moved the alias {scenario.registry.alias!r} to version {snap.alias_version} ({logged}), "
            f"which fails {', '.join(strict)}. A candidate must meet every criterion together (all, not any, and "
            "not only the first or the accuracy) before the alias moves"
        )
    checklist.require(not problem, problem, contract.TRAIN_SCRIPT)


@check(
    points=9,
    name="A candidate that does not beat the champion leaves the alias in place",
    section=sections.REGISTRY,
    assignment=True,
    timeout=TIMEOUT_S,
)
def test_worse_run_keeps_champion(mlflow_scenario: Scenario, checklist: Checklist) -> None:
    """Two cases, half the points each: a worse candidate, and one that only ties the champion."""
    _worse_keeps_champion(mlflow_scenario, checklist)
    _tie_keeps_champion(mlflow_scenario, checklist)


def _worse_keeps_champion(mlflow_scenario: Scenario, checklist: Checklist) -> None:
    before = views.readable(mlflow_scenario.store_candidate, mlflow_scenario.candidate)
    step = mlflow_scenario.worse
    after = views.readable(mlflow_scenario.store_worse, step)
    alias = mlflow_scenario.registry.alias
    if before.alias_version is None:
        checklist.require(
            False,
            f"no version had the alias {alias!r} after `{mlflow_scenario.candidate.shown}`, so there was no champion "
            "to keep; see the check on the candidate becoming champion",
            contract.TRAIN_SCRIPT,
        )
        return
    lowered = ", ".join(mlflow_scenario.lowered) or "none found"
    if len(after.versions) <= len(before.versions):
        checklist.require(
            False,
            f"`{step.shown}` (with the acceptance minimums in {contract.PARAMS} set to 0: {lowered}) registered no new "
            f"version; {step.describe()}",
            contract.TRAIN_SCRIPT,
        )
        return
    if after.alias_version != before.alias_version:
        champion, moved = after.version(before.alias_version), after.version(after.alias_version)
        checklist.require(
            False,
            f"`{step.shown}`, with the acceptance minimums in {contract.PARAMS} set to 0 ({lowered}), moved the alias "
            f"{alias!r} from version {before.alias_version} "
            f"({views.metric_text(after.run(champion.run_id) if champion else None)}) to version "
            f"{after.alias_version} ({views.metric_text(after.run(moved.run_id) if moved else None)}). Move it only "
            f"when the candidate beats the champion's {contract.PRIMARY_METRIC} on the same evaluation set",
            contract.TRAIN_SCRIPT,
        )
        return
    checklist.require(True, "a worse candidate left the alias in place")


def _tie_keeps_champion(scenario: Scenario, checklist: Checklist) -> None:
    alias, step = scenario.registry.alias, scenario.tie
    if step is None or scenario.store_tie is None or scenario.store_weak is None:
        checklist.require(False, f"the tie case could not be played: {scenario.tie_skipped}", contract.TRAIN_SCRIPT)
        return
    champion = scenario.store_weak.versions[0].version
    after = views.readable(scenario.store_tie, step)
    if len(after.versions) <= len(scenario.store_weak.versions):
        checklist.require(False, f"`{step.shown}` registered no new version; {step.describe()}", contract.TRAIN_SCRIPT)
        return
    moved, held = after.version(after.alias_version), after.version(champion)
    checklist.require(
        after.alias_version == champion,
        f"`{step.shown}` trained with the same seed and data as version {champion} "
        f"({views.metric_text(after.run(held.run_id) if held else None)}), which the grader had made the {alias!r}, "
        f"and moved the alias to version {after.alias_version} "
        f"({views.metric_text(after.run(moved.run_id) if moved else None)}). A tie does not beat the champion: "
        f"move the alias only when the candidate's {contract.PRIMARY_METRIC} is strictly greater (`>`, not `>=`)",
        contract.TRAIN_SCRIPT,
    )
