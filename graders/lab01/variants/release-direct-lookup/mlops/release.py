"""Write the audit record of a release: ``releases/<release id>.json``.

    python -m mlops.release --approver "Priya Nair (quality engineering)" --change-request CR-2026-0142

The record cites the model version the ``champion`` alias points to, the git commit and the DVC data
versions it was built from, its evaluation against the acceptance criteria in ``params.yaml``, and
who approved it under which change request. It is validated against
``mlops/schemas/release-record.schema.json`` before it is written; a champion that fails the
acceptance criteria, was trained on other data than the repository holds, or a tree with uncommitted
changes, is refused. ``docs/iso9001-audit-checklist.md`` says which clause each field answers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from common.config import PlantConfigError, PlantProfile, load_plant_profile
from mlops import registry
from mlops.data_version import DataVersionError, versions
from mlops.dataset import EVAL_DIR, TRAIN_DIR
from mlops.evaluation import acceptance
from mlops.gitinfo import Commit, head
from mlops.params import CHANGE_REQUEST_PATTERN, Params, ParamsError, load_params, repo_root
from mlops.tracking import configure

RELEASES_DIR = "releases"
SCHEMA = Path(__file__).with_name("schemas") / "release-record.schema.json"


class ReleaseError(Exception):
    """The release cannot be recorded; the message says why and what to do."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlops.release", description=__doc__.splitlines()[0])
    parser.add_argument("--approver", required=True, help="who approved the release (name and role)")
    parser.add_argument("--change-request", required=True, help="the change request id, e.g. CR-2026-0142")
    parser.add_argument("--commit", help="the released commit (default: HEAD, which must have no uncommitted changes)")
    parser.add_argument("--out", type=Path, default=None, help=f"folder for the record (default: {RELEASES_DIR}/)")
    return parser


def released_commit(root: Path, explicit: str | None) -> Commit:
    """The commit the release cites: ``--commit`` (must exist) or a clean HEAD."""
    if explicit:
        git = shutil.which("git")
        found = git and subprocess.run(
            [git, "rev-parse", "--verify", "--quiet", f"{explicit}^{{commit}}"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if not found or found.returncode != 0:
            raise ReleaseError(f"commit {explicit} is not in this repository's history")
        return Commit(found.stdout.strip(), False)
    commit = head(root)
    if commit is None:
        raise ReleaseError("not a git repository (or git is not installed): a release must cite a commit")
    if commit.dirty:
        raise ReleaseError("tracked files have uncommitted changes: commit them, then record the release")
    return commit


def build_record(
    client: Any,
    params: Params,
    profile: PlantProfile,
    data_versions: dict[str, str],
    commit: Commit,
    approver: str,
    change_request: str,
    now: datetime,
) -> dict[str, Any]:
    """The release record of the current champion, as the schema describes it."""
    from mlflow.exceptions import MlflowException

    model = params.registry.model_name
    try:
        champion = client.get_model_version_by_alias(model, params.registry.alias)
    except MlflowException:
        raise ReleaseError(
            f"{model} has no '{params.registry.alias}' version yet: train and register one first"
        ) from None
    run_data = client.get_run(champion.run_id).data
    if (run_data.params.get("dataset.train_version"), run_data.params.get("dataset.eval_version")) != (
        data_versions[TRAIN_DIR],
        data_versions[EVAL_DIR],
    ):
        raise ReleaseError(f"{model} v{champion.version} was not trained on the data this commit holds")
    measured = {key: value for key, value in run_data.metrics.items() if key != "train_seconds"}
    results = acceptance(measured, params.acceptance)
    failing = [r for r in results if not r.passed]
    if failing:
        raise ReleaseError(f"{model} v{champion.version} fails: " + ", ".join(r.metric for r in failing))

    record: dict[str, Any] = {"schema_version": 1}
    record["release_id"] = "rel-{:%Y%m%d}-{}-v{}".format(now, model, champion.version)
    record["date"] = now.strftime("%Y-%m-%d")
    record["created_at"] = now.replace(microsecond=0).isoformat()
    record["plant"] = {"code": profile.plant.code, "production_lines": [*profile.plant.production_lines]}
    record["model"] = {
        "name": model,
        "version": int(champion.version),
        "alias": params.registry.alias,
        "run_id": champion.run_id,
        "uri": f"models:/{model}/{champion.version}",
        "tags": {key: champion.tags[key] for key in sorted(champion.tags)},
    }
    record["data"] = {
        "train": {"path": TRAIN_DIR, "md5": data_versions[TRAIN_DIR]},
        "eval": {"path": EVAL_DIR, "md5": data_versions[EVAL_DIR]},
    }
    record["evaluation"] = {
        "metrics": dict(sorted(measured.items())),
        "acceptance": [r.as_dict() for r in results],
        "passed": True,
    }
    record["git"] = {"commit": commit.sha, "dirty": commit.dirty}
    record["approval"] = {"change_request": change_request, "approver": approver}
    return record


def validate(record: dict[str, Any]) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        json.loads(SCHEMA.read_text(encoding="utf-8")), format_checker=jsonschema.FormatChecker()
    )
    errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        shown = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(record)'}: {e.message}" for e in errors[:5])
        raise ReleaseError(f"the record does not match {SCHEMA.name}: {shown}")


def write(record: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['release_id']}.json"
    if path.exists():
        raise ReleaseError(f"{path} exists: a release record is never overwritten")
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    import re

    args = _parser().parse_args(argv)
    try:
        if not re.match(CHANGE_REQUEST_PATTERN, args.change_request):
            raise ReleaseError(f"change request {args.change_request!r} does not look like CR-2026-0142")
        root = repo_root()
        params = load_params(root)
        profile = load_plant_profile(root / "config" / "plant.yaml")
        data_versions = {path: md5 for path, md5 in versions(root).items() if path in (TRAIN_DIR, EVAL_DIR)}
        commit = released_commit(root, args.commit)
        configure(root)
        from mlflow import MlflowClient

        now = datetime.now(timezone.utc)
        record = build_record(
            MlflowClient(), params, profile, data_versions, commit, args.approver.strip(), args.change_request, now
        )
        validate(record)
        path = write(record, args.out or root / RELEASES_DIR)
    except (ReleaseError, ParamsError, PlantConfigError, DataVersionError, registry.RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path.relative_to(root) if path.is_relative_to(root) else path}")
    print(f"release {record['release_id']}: {record['model']['uri']} from commit {record['git']['commit'][:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
