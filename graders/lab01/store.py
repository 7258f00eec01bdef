"""A read-only snapshot of an MLflow tracking store, taken with the grader's own ``MlflowClient``.

The student's program wrote the store; the grader reads it as data. Snapshots are plain dataclasses,
so the checks compare values and never call MLflow themselves, and a store the grader cannot read
(another MLflow version's schema, a corrupt file) becomes ``error`` with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_RUNS = 50
MAX_VERSIONS = 50
MAX_ARTIFACTS = 200
MAX_ARTIFACT_DEPTH = 4
SQLITE = "sqlite:///"  # the scheme of every store the scenario makes (one SQLite file per store)
# The bytes of the first empty store this process migrated: the next grading in the same process (a
# class batch's warm worker, `capstone verify`'s pool) copies them instead of migrating again.
_EMPTY_DATABASE: list[bytes] = []
_EMPTY_LOCK = threading.Lock()


@dataclass
class RunInfo:
    run_id: str
    name: str
    status: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    artifacts: list[str] = field(default_factory=list)

    def values(self) -> set[str]:
        """Every parameter and (non-system) tag value: where a logged dataset version can be."""
        tags = {v for k, v in self.tags.items() if not k.startswith("mlflow.")}
        return set(self.params.values()) | tags


@dataclass
class VersionInfo:
    version: int
    run_id: str
    source: str
    tags: dict[str, str]


@dataclass
class Snapshot:
    uri: str
    experiment_found: bool = False
    experiments: list[str] = field(default_factory=list)
    runs: list[RunInfo] = field(default_factory=list)  # of the lab's experiment, oldest first
    model_found: bool = False
    models: list[str] = field(default_factory=list)
    versions: list[VersionInfo] = field(default_factory=list)  # oldest first
    alias_version: int | None = None
    error: str | None = None

    def run(self, run_id: str) -> RunInfo | None:
        return next((r for r in self.runs if r.run_id == run_id), None)

    def version(self, number: int | None) -> VersionInfo | None:
        return next((v for v in self.versions if v.version == number), None)

    @property
    def newest_version(self) -> VersionInfo | None:
        return self.versions[-1] if self.versions else None


def _client(uri: str) -> Any:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def warm_up() -> None:
    """Import MLflow ahead of the first snapshot (about a second, spent while student programs run)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    try:
        import mlflow.store.model_registry.sqlalchemy_store
        import mlflow.store.tracking.sqlalchemy_store  # noqa: F401
    except ImportError:
        return  # take() reports it


def make_empty(folder: Path) -> Path | None:
    """An empty store's database, migrated by the grader's MLflow; None when it could not be made.

    A fresh SQLite store runs every MLflow schema migration (1-2 s of CPU, and a disk sync per
    migration); a copy of this one starts the student's runs without them. A process migrates once:
    the grader's MLflow does not change while it runs, and the file holds nothing of any grading's
    (no experiment, no artefact root), so later gradings start from a copy of its bytes. Experiment 0 is left
    out: MLflow creates it when a program first opens a store without it, with that program's
    artefact root and time, exactly as in a store the program made itself.
    """
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "mlflow.db"
    with _EMPTY_LOCK:
        if _EMPTY_DATABASE:
            database.write_bytes(_EMPTY_DATABASE[0])
            return database
        made = _migrate_empty(folder, database)
        if made is not None:
            _EMPTY_DATABASE.append(made.read_bytes())
        return made


def _migrate_empty(folder: Path, database: Path) -> Path | None:
    uri = f"{SQLITE}{database}"
    loggers = [logging.getLogger(name) for name in ("mlflow.store.db.utils", "alembic")]
    levels = [logger.level for logger in loggers]
    try:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        import sqlalchemy
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        for logger in loggers:  # the migrations' progress lines are not the grader's output
            logger.setLevel(logging.WARNING)
        tracking = SqlAlchemyStore(uri, str(folder / "mlruns"))
        with tracking.engine.begin() as connection:
            connection.execute(sqlalchemy.text("DELETE FROM experiments WHERE experiment_id = 0"))
        tracking.engine.dispose()
    except Exception:  # no MLflow, an unwritable folder: the programs make their own stores
        return None
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    return database if database.is_file() else None


def start_from(empty: Path | None, uri_folder: Path) -> None:
    """Put a copy of the empty store ``empty`` (from :func:`make_empty`) in ``uri_folder``, when there is one."""
    if empty is not None:
        uri_folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(empty, uri_folder / empty.name)


def _artifacts(client: Any, run_id: str) -> list[str]:
    found: list[str] = []
    pending: list[tuple[str | None, int]] = [(None, 0)]
    while pending and len(found) < MAX_ARTIFACTS:
        path, depth = pending.pop()
        for item in client.list_artifacts(run_id, path):
            if item.is_dir:
                if depth < MAX_ARTIFACT_DEPTH:
                    pending.append((item.path, depth + 1))
            else:
                found.append(item.path)
    return sorted(found)


def take(uri: str, experiment: str, model: str, alias: str, isolated: bool = False) -> Snapshot:
    """What the store at ``uri`` holds for the lab's experiment and registered model.

    ``isolated`` (the student's MLflow is another version than the grader's): read a copy of the
    database. Opening a store that lacks a table of its own schema makes MLflow migrate it in place,
    and the student's next program, on the older version, would then refuse the store it made.
    """
    if not isolated or not uri.startswith(SQLITE):
        return _take(uri, experiment, model, alias)
    database = Path(uri.removeprefix(SQLITE))
    with tempfile.TemporaryDirectory(prefix="capstone-store-") as scratch:
        copy = Path(scratch) / database.name
        if database.is_file():
            shutil.copyfile(database, copy)
        snap = _take(f"{SQLITE}{copy}", experiment, model, alias)
    snap.uri = uri
    return snap


def _take(uri: str, experiment: str, model: str, alias: str) -> Snapshot:
    snap = Snapshot(uri)
    try:
        from mlflow.exceptions import MlflowException
    except ImportError:
        snap.error = "MLflow is not installed in the grader's environment; reinstall the course graders"
        return snap
    try:
        client = _client(uri)
        snap.experiments = sorted(e.name for e in client.search_experiments(max_results=100))
        found = client.get_experiment_by_name(experiment)
        if found is not None:
            snap.experiment_found = True
            order = ["attributes.start_time ASC"]
            runs = client.search_runs([found.experiment_id], max_results=MAX_RUNS, order_by=order)
            for r in runs:
                snap.runs.append(
                    RunInfo(
                        r.info.run_id,
                        r.info.run_name or "",
                        r.info.status,
                        dict(r.data.params),
                        dict(r.data.metrics),
                        dict(r.data.tags),
                        _artifacts(client, r.info.run_id),
                    )
                )
        snap.models = sorted(m.name for m in client.search_registered_models(max_results=100))
        if model in snap.models:
            snap.model_found = True
            versions = client.search_model_versions(f"name = '{model.replace(chr(39), '')}'", max_results=MAX_VERSIONS)
            snap.versions = sorted(
                (VersionInfo(int(v.version), v.run_id or "", v.source or "", dict(v.tags or {})) for v in versions),
                key=lambda v: v.version,
            )
            try:
                snap.alias_version = int(client.get_model_version_by_alias(model, alias).version)
            except MlflowException:
                snap.alias_version = None
    except MlflowException as exc:
        snap.error = _explain(str(exc.message))
    except Exception as exc:  # a corrupt or foreign store: SQLAlchemy, OSError ...
        snap.error = _explain(f"{type(exc).__name__}: {exc}")
    return snap


def set_alias(uri: str, model: str, alias: str, version: int, python: str | None = None) -> str | None:
    """Point ``alias`` at ``version`` (the grader sets up a champion); why it could not, or None.

    With ``python`` (the student's interpreter, whose MLflow is not the grader's version) the write is
    made by that MLflow, running this file, so the store keeps the schema the student's programs use.
    """
    if python is not None:
        return _set_alias_in(python, uri, model, alias, version)
    try:
        _client(uri).set_registered_model_alias(model, alias, str(version))
    except Exception as exc:  # MlflowException, a foreign schema, a corrupt file
        return _explain(f"{type(exc).__name__}: {exc}")
    return None


def _explain(message: str) -> str:
    text = message.strip().splitlines()[0][:300] if message.strip() else "unknown error"
    if "schema" in message.lower() or "revision" in message.lower():
        import mlflow

        return (
            f"the tracking store written by your program could not be read by the grader's MLflow "
            f"{mlflow.__version__} ({text}); your environment has a newer MLflow than the graders: install "
            f"mlflow=={mlflow.__version__} in it (or ask your instructor to update the graders)"
        )
    return f"the grader could not read the tracking store ({text})"


_ANSWER = "capstone-store-answer: "


def _set_alias_in(python: str, uri: str, model: str, alias: str, version: int) -> str | None:
    from graders.sdk import process

    # run_path, not ``python store.py``: the script's folder (the grader's modules) stays off sys.path.
    code = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    args = [python, "-c", code, str(Path(__file__).resolve()), "set-alias", uri, model, alias, str(version)]
    env = {"MLFLOW_DISABLE_TELEMETRY": "true"}
    try:
        result = process.run(args, cwd=Path(uri.removeprefix(SQLITE)).parent, timeout=120, env=env)
    except Exception as exc:  # could not start the interpreter, timed out
        return f"the grader could not set the alias with your environment's MLflow ({exc})"
    answers = [line.removeprefix(_ANSWER) for line in result.stdout.splitlines() if line.startswith(_ANSWER)]
    if not result.ok or not answers:
        return f"the grader could not set the alias with your environment's MLflow ({result.tail(3)})"
    problem = json.loads(answers[-1])
    return problem if isinstance(problem, str) else None


def _main(argv: list[str]) -> int:
    """``set-alias URI MODEL ALIAS VERSION`` in another interpreter's MLflow (needs nothing of the grader's)."""
    if len(argv) != 5 or argv[0] != "set-alias":
        print("usage: store.py set-alias URI MODEL ALIAS VERSION", file=sys.stderr)
        return 2
    uri, model, alias, version = argv[1:]
    print(_ANSWER + json.dumps(set_alias(uri, model, alias, int(version))))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
