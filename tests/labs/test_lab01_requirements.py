"""Lab 01's grader parts added for its requirement map, tested without playing the MLflow scenario:
the empty store the runs start from is the store a program would have made, release records pin a
version, and the "every criterion" case (run 6) fails exactly one criterion other than the first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graders.lab01 import contract, release_record, scenario, store


def _dump(database: Path) -> list[tuple[str, ...]]:
    """Every row of every table, sorted, without the times a store records."""
    import sqlite3

    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows = []
        for table in tables:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            kept = [c for c in columns if "time" not in c]
            rows += [(table, *map(str, r)) for r in db.execute(f"SELECT {', '.join(kept)} FROM {table}")]
    return sorted(rows)


def test_a_copy_of_the_empty_store_is_the_store_a_program_makes(tmp_path: Path) -> None:
    """Experiment 0 gets the program's own artefact root, as in a store the program created itself."""
    empty = store.make_empty(tmp_path / "template")
    assert empty is not None
    store.start_from(empty, tmp_path / "copied")
    program = "import sys; from mlflow import MlflowClient; MlflowClient(sys.argv[1]).create_experiment('lab')"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    (tmp_path / "cwd").mkdir()
    for name in ("fresh", "copied"):
        (tmp_path / name).mkdir(exist_ok=True)
        uri = f"sqlite:///{tmp_path / name / 'mlflow.db'}"
        subprocess.run([sys.executable, "-c", program, uri], cwd=tmp_path / "cwd", env=env, check=True, timeout=120)
    fresh, copied = _dump(tmp_path / "fresh" / "mlflow.db"), _dump(tmp_path / "copied" / "mlflow.db")
    assert fresh == copied
    assert any(row[0] == "experiments" and str(tmp_path / "cwd" / "mlruns" / "0") in row for row in copied)


def test_no_empty_store_leaves_the_folder_to_the_program(tmp_path: Path) -> None:
    store.start_from(None, tmp_path / "store")
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("uri", "pinned"),
    [
        ("models:/inspection-cnn/3", True),
        ("models:/inspection-cnn/3/", True),
        ("models:/inspection-cnn@champion", False),
        ("models:/inspection-cnn/latest", False),
        ("models:/inspection-cnn/2", False),
    ],
)
def test_a_release_record_pins_its_version_by_number(uri: str, pinned: bool) -> None:
    record = {"model": {"name": "inspection-cnn", "version": 3, "uri": uri}}
    problem = release_record.pinning_problem(record)
    assert (problem is None) is pinned, problem
    if problem:
        assert "models:/inspection-cnn/3" in problem and "alias" in problem


def _weak(metrics: dict[str, float]) -> store.Snapshot:
    run = store.RunInfo("r1", "weak", "FINISHED", {}, metrics, {})
    return store.Snapshot("sqlite:///x", runs=[run], versions=[store.VersionInfo(1, "r1", "", {})], model_found=True)


def _registry(acceptance: dict[str, float]) -> contract.Registry:
    return contract.Registry("inspection-cnn", "inspection-cnn", "champion", acceptance)


def test_the_one_criterion_case_keeps_a_criterion_other_than_the_first() -> None:
    registry = _registry({"accuracy": 0.95, "min_class_recall": 0.9, "macro_f1": 0.9})
    # macro_f1 (the last) is already below its minimum: the student's own minimum is kept.
    weak = _weak({"accuracy": 0.6, "min_class_recall": 0.3, "macro_f1": 0.5})
    minimums, why = scenario._one_criterion(registry, weak)
    assert why is None and minimums == {"accuracy": 0.0, "min_class_recall": 0.0, "macro_f1": 0.9}
    # The weak model meets min_class_recall's minimum: a minimum above its value, below 1, is set.
    two = _registry({"accuracy": 0.95, "min_class_recall": 0.2})
    minimums, why = scenario._one_criterion(two, _weak({"accuracy": 0.6, "min_class_recall": 0.3}))
    assert why is None and minimums is not None
    assert minimums["accuracy"] == 0.0 and 0.3 < minimums["min_class_recall"] < 1


@pytest.mark.parametrize(
    ("acceptance", "metrics", "reason"),
    [
        ({"accuracy": 0.95}, {"accuracy": 0.5}, "single acceptance criterion"),
        ({"accuracy": 0.95, "min_class_recall": 0.9}, {"accuracy": 0.5, "min_class_recall": 1.0}, "no value below 1"),
    ],
)
def test_the_one_criterion_case_says_why_it_cannot_be_played(
    acceptance: dict[str, float], metrics: dict[str, float], reason: str
) -> None:
    minimums, why = scenario._one_criterion(_registry(acceptance), _weak(metrics))
    assert minimums is None and why is not None and reason in why


def test_acceptance_minimums_are_written_into_the_copy(tmp_path: Path) -> None:
    params = {"registry": {"model_name": "m"}, "acceptance": {"accuracy": 0.95, "min_class_recall": 0.9}}
    (tmp_path / contract.PARAMS).write_text(yaml.safe_dump(params), encoding="utf-8")
    assert scenario._lower_acceptance(tmp_path, {"min_class_recall": 0.9}) == ["accuracy", "min_class_recall"]
    written = yaml.safe_load((tmp_path / contract.PARAMS).read_text(encoding="utf-8"))
    assert written["acceptance"] == {"accuracy": 0.0, "min_class_recall": 0.9}
    assert written["registry"] == {"model_name": "m"}


def test_a_process_migrates_one_empty_store_and_copies_it_after(tmp_path: Path) -> None:
    """The second grading in a process starts from the first one's migrated bytes, in its own file."""
    first, second = store.make_empty(tmp_path / "first"), store.make_empty(tmp_path / "second")
    assert first is not None and second is not None and first != second
    assert second.read_bytes() == first.read_bytes() and _dump(second) == _dump(first)


def _registered_store(folder: Path) -> str:
    """A store with one registered version of model ``m`` (alias unset), made by this MLflow."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.create_run(client.create_experiment("lab", artifact_location=str(folder / "art")))
    client.create_registered_model("m")
    client.create_model_version("m", f"runs:/{run.info.run_id}/model", run.info.run_id)
    return uri


def test_an_isolated_snapshot_reads_a_copy_and_leaves_the_store_alone(tmp_path: Path) -> None:
    """Another MLflow version than the student's would migrate the store it opens: it opens a copy."""
    uri = _registered_store(tmp_path)
    database = tmp_path / "mlflow.db"
    before = (database.read_bytes(), database.stat().st_mtime_ns)
    isolated, direct = store.take(uri, "lab", "m", "champion", isolated=True), store.take(uri, "lab", "m", "champion")
    assert isolated.error is None and isolated.uri == uri
    assert [v.version for v in isolated.versions] == [v.version for v in direct.versions] == [1]
    assert isolated.experiment_found and isolated.model_found and isolated.alias_version is None
    assert (database.read_bytes(), database.stat().st_mtime_ns) == before


def test_the_alias_is_set_by_the_students_mlflow_when_it_is_another_version(tmp_path: Path) -> None:
    uri = _registered_store(tmp_path)
    assert store.set_alias(uri, "m", "champion", 1, python=sys.executable) is None
    assert store.take(uri, "lab", "m", "champion").alias_version == 1
    problem = store.set_alias(uri, "m", "champion", 7, python=sys.executable)  # no version 7
    assert problem is not None and "tracking store" in problem
