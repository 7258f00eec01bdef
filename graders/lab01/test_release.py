"""Release records: the student's release script writes a valid, consistent record of the champion,
and the records committed in releases/ are valid and cite commits of the repository's history."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from graders.lab01 import contract, dvc_hashes, git_history, release_record, sections, views
from graders.lab01.scenario import APPROVER, CHANGE_REQUEST, Scenario
from graders.sdk import Checklist, Submission, check, fail, partial, skip

TIMEOUT_S = 400.0
MAX_RECORDS = 50


def _produced(scenario: Scenario) -> tuple[str, dict[str, Any]]:
    """The one record the release run wrote, failing with the run's output otherwise."""
    if scenario.release_skipped:
        skip(scenario.release_skipped)
    step = scenario.release
    records = scenario.release_records
    if not records:
        fail(f"{step.describe()}\nIt wrote no record to {contract.RELEASES_DIR}/.", contract.RELEASE_SCRIPT)
    if len(records) > 1:
        fail(f"`{step.shown}` wrote {len(records)} records ({', '.join(records)}); one release, one record")
    name, record = next(iter(records.items()))
    if not isinstance(record, dict):
        fail(f"{contract.RELEASES_DIR}/{name}, written by `{step.shown}`: {record}", contract.RELEASE_SCRIPT)
    return name, record


def _close(a: object, b: object) -> bool:
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, abs_tol=1e-6)


@check(
    points=12,
    name="The release script writes a valid record of the champion",
    section=sections.AUDIT,
    assignment=True,
    timeout=TIMEOUT_S,
)
def test_release_script(
    mlflow_scenario: Scenario, submission: Submission, plant: contract.Plant, checklist: Checklist
) -> None:
    name, record = _produced(mlflow_scenario)
    where = contract.RELEASE_SCRIPT
    problems = release_record.schema_problems(record)
    checklist.require(
        not problems,
        f"{name} does not match the release record schema ({contract.RELEASE_SCHEMA}): " + "; ".join(problems),
        where,
        weight=3,
    )

    def get(dotted: str) -> Any:
        return release_record.get(record, dotted)

    # The release ran after `--weak` registered a newer version that is not the champion.
    snap = views.readable(mlflow_scenario.store_worse, mlflow_scenario.release)
    reg = mlflow_scenario.registry
    champion = snap.version(snap.alias_version)
    newest = snap.newest_version
    hint = (
        f"; version {newest.version} is only the newest (registered by `{mlflow_scenario.worse.shown}`, not promoted)"
        if newest is not None and get("model.version") == newest.version and newest is not champion
        else ""
    )
    checklist.require(
        get("model.name") == reg.model_name and champion is not None and get("model.version") == champion.version,
        f"{name} names model {get('model.name')!r} version {get('model.version')!r}; the {reg.alias!r} alias points "
        f"to {reg.model_name!r} version {snap.alias_version}{hint}: release the version the alias points to "
        "(MlflowClient.get_model_version_by_alias), not the newest one",
        where,
    )
    pinned = release_record.pinning_problem(record)
    checklist.require(pinned is None, f"{name}: {pinned}", where, weight=3)
    run = snap.run(champion.run_id) if champion else None
    metrics = get("evaluation.metrics") or {}
    wrong = [
        f"{metric} {metrics.get(metric) if isinstance(metrics, dict) else None} (run: {run.metrics.get(metric)})"
        for metric in reg.acceptance
        if run is not None
        and not _close(metrics.get(metric) if isinstance(metrics, dict) else None, run.metrics.get(metric))
    ]
    checklist.require(
        run is not None and not wrong,
        f"{name}: evaluation.metrics must repeat the champion run's values; differs for {', '.join(wrong)}",
        where,
    )
    criteria = {c.get("metric"): c for c in get("evaluation.acceptance") or [] if isinstance(c, dict)}
    missing = [m for m, minimum in reg.acceptance.items() if not _close(criteria.get(m, {}).get("minimum"), minimum)]
    checklist.require(
        not missing,
        f"{name}: evaluation.acceptance must list every criterion of {contract.PARAMS} with its minimum; missing or "
        f"different: {', '.join(missing)}",
        where,
    )
    recorded = {r.path: r.md5 for r in dvc_hashes.recorded(submission)}
    cited = {contract.TRAIN_DIR: get("data.train.md5"), contract.EVAL_DIR: get("data.eval.md5")}
    differs = [f"{p}: {cited[p]} (DVC: {recorded.get(p)})" for p in cited if cited[p] != recorded.get(p)]
    checklist.require(not differs, f"{name}: data versions differ from DVC's: {'; '.join(differs)}", where)
    checklist.require(
        get("git.commit") == mlflow_scenario.release_commit,
        f"{name} cites commit {get('git.commit')!r}; the release ran at commit {mlflow_scenario.release_commit} "
        "(`git rev-parse HEAD`)",
        where,
    )
    checklist.require(
        get("approval.approver") == APPROVER and get("approval.change_request") == CHANGE_REQUEST,
        f"{name} records approver {get('approval.approver')!r} and change request "
        f"{get('approval.change_request')!r}; `{mlflow_scenario.release.shown}` passed {APPROVER!r} and "
        f"{CHANGE_REQUEST}",
        where,
    )
    today = datetime.now(timezone.utc).date()
    allowed = {(today + timedelta(days=d)).isoformat() for d in (-1, 0, 1)}
    checklist.require(get("date") in allowed, f"{name} is dated {get('date')!r}, not today ({today})", where)
    checklist.require(
        get("plant.code") == plant.code,
        f"{name} names plant {get('plant.code')!r}; {contract.PLANT} says {plant.code}",
        where,
    )


def _committed(submission: Submission) -> list[str]:
    return submission.glob(f"{contract.RELEASES_DIR}/*.json")[:MAX_RECORDS]


@check(
    points=7,
    name="Committed release records are valid and cite commits in the git history",
    section=sections.AUDIT,
    assignment=True,
)
def test_release_records_committed(
    submission: Submission, registry_answers: contract.Registry, checklist: Checklist
) -> None:
    paths = _committed(submission)
    if not paths:
        fail(
            f"{contract.RELEASES_DIR}/ holds no release record: run `python -m {contract.RELEASE_MODULE} "
            "--approver ... --change-request CR-...` after promoting a champion and commit the record it writes",
            contract.RELEASES_DIR,
        )
    history = git_history.history(submission.root)
    unverifiable = history.why_unverifiable()
    not_in_shallow_clone: list[str] = []
    for rel in paths:
        record = submission.load_json(rel)
        problems = release_record.schema_problems(record)
        checklist.require(not problems, f"{rel} does not match the release record schema: {'; '.join(problems)}", rel)
        checklist.require(
            release_record.get(record, "model.name") == registry_answers.model_name,
            f"{rel} names model {release_record.get(record, 'model.name')!r}, not {registry_answers.model_name!r} "
            f"(registry.model_name in {contract.PARAMS})",
            rel,
        )
        pinned = release_record.pinning_problem(record)
        checklist.require(pinned is None, f"{rel}: {pinned}", rel)
        sha = release_record.get(record, "git.commit")
        if not isinstance(sha, str) or problems:
            continue
        if unverifiable:
            checklist.require(False, f"{rel}: {unverifiable}", rel)
        elif not git_history.has_commit(submission.root, sha):
            if history.shallow:  # the clone may simply not reach back that far
                not_in_shallow_clone.append(f"{rel} ({sha[:12]})")
                continue
            checklist.require(False, f"{rel} cites commit {sha}, which is not in this repository's history", rel)
    if not_in_shallow_clone and not checklist.problems:
        partial(
            1.0,
            "Not verified: this is a shallow clone, which does not hold the commit(s) of "
            f"{', '.join(not_in_shallow_clone)}; clone with the full history (actions/checkout with fetch-depth: 0) "
            "to have them checked.",
        )
