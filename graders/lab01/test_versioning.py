"""Data versioning with DVC: the pipeline's stages, and recorded hashes that match the data."""

from __future__ import annotations

from typing import Any

from graders.lab01 import contract, dvc_hashes, sections
from graders.sdk import Checklist, Submission, check, fail


def _cmd(stage: dict[str, Any]) -> str:
    cmd = stage.get("cmd")
    return " ".join(str(c) for c in cmd) if isinstance(cmd, list) else str(cmd or "")


def _paths(entries: object) -> set[str]:
    """Paths of a stage's deps or outs (plain strings or one-key mappings with options)."""
    found: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str):
            found.add(entry.rstrip("/"))
        elif isinstance(entry, dict):
            found.update(str(k).rstrip("/") for k in entry)
    return found


@check(points=2, name="dvc.yaml has the generate, train/register and release stages", section=sections.VERSIONING)
def test_dvc_pipeline(submission: Submission, checklist: Checklist) -> None:
    data = submission.load_yaml(contract.DVC_PIPELINE)
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict) or not stages:
        fail(f"{contract.DVC_PIPELINE} has no stages: declare the generate, train/register and release stages")
        return
    bodies = {name: body for name, body in stages.items() if isinstance(body, dict)}
    without_cmd = [name for name, body in stages.items() if not isinstance(body, dict) or not _cmd(body).strip()]
    checklist.require(
        not without_cmd, f"stage(s) without a cmd: {', '.join(map(str, without_cmd))}", contract.DVC_PIPELINE
    )
    producers = [n for n, b in bodies.items() if contract.TRAIN_DIR in _paths(b.get("outs"))]
    checklist.require(
        bool(producers),
        f"no stage has {contract.TRAIN_DIR} among its outs: the generate stage produces the training data",
        contract.DVC_PIPELINE,
    )
    trainers = [n for n, b in bodies.items() if contract.TRAIN_MODULE in _cmd(b) or contract.TRAIN_SCRIPT in _cmd(b)]
    checklist.require(
        bool(trainers),
        f"no stage runs `python -m {contract.TRAIN_MODULE}` (the train/register stage)",
        contract.DVC_PIPELINE,
    )
    for name in trainers[:1]:
        missing = [p for p in contract.DATASETS if p not in _paths(bodies[name].get("deps"))]
        checklist.require(
            not missing,
            f"stage {name} does not list {', '.join(missing)} in its deps, so DVC cannot tell when the data changed",
            contract.DVC_PIPELINE,
        )
    checklist.require(
        any(contract.RELEASE_MODULE in _cmd(b) or contract.RELEASE_SCRIPT in _cmd(b) for b in bodies.values()),
        f"no stage runs `python -m {contract.RELEASE_MODULE}` (the release stage)",
        contract.DVC_PIPELINE,
    )
    checklist.require(
        submission.is_file(".dvc/config"),
        "the repository is not a DVC project (.dvc/config is missing): run `dvc init` and commit .dvc/",
        ".dvc/config",
    )


@check(points=2, name="The hashes in .dvc files and dvc.lock match the data", section=sections.VERSIONING)
def test_dvc_hashes_match(submission: Submission, checklist: Checklist) -> None:
    recorded = dvc_hashes.recorded(submission)
    covered = {r.path for r in recorded}
    for path in contract.DATASETS:
        checklist.require(
            path in covered,
            f"{path} is not tracked by DVC: `dvc add {path}` (a .dvc file) or declare it as a stage output in "
            f"{contract.DVC_PIPELINE}",
            contract.DVC_LOCK,
        )
    if not any(r.source.endswith(".dvc") for r in recorded):
        checklist.require(False, "no .dvc file: track the frozen evaluation set with `dvc add`", contract.EVAL_DIR)
    budget = dvc_hashes.Budget()
    for rec in recorded:
        measured = dvc_hashes.measure(submission, rec.path, budget)
        if measured is None:
            checklist.require(
                False,
                f"{rec.source} records {rec.path}, which is not in the repository; commit the data (the lab keeps "
                "it in git with `cache: false`) or remove the stale entry",
                rec.source,
            )
        elif rec.md5 is None:
            checklist.require(False, f"{rec.source} records no md5 for {rec.path}; run `dvc commit`", rec.source)
        else:
            checklist.require(
                measured.md5 == rec.md5,
                f"{rec.source} records {rec.path} as {rec.md5}, but its files hash to {measured.md5}: the data "
                "changed without a new version; `dvc commit` (or `dvc repro`) records it, `git checkout` restores it",
                rec.source,
            )
