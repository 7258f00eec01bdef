"""The Lab 01 lifecycle end to end against a real (temporary) SQLite tracking store: a weak candidate
is registered but not promoted, the candidate becomes champion, a worse one leaves the alias alone,
the release script records the champion, and the service loads ``models:/<name>@champion``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mlops import release, train_register
from mlops.params import load_params

pytestmark = [pytest.mark.lab("lab01"), pytest.mark.slow]
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]


def _store(capstone: Path) -> tuple[object, object]:
    from mlflow import MlflowClient

    params = load_params(capstone)
    return MlflowClient(), params


def _versions(client: object, name: str) -> list[object]:
    return sorted(client.search_model_versions(f"name = '{name}'"), key=lambda v: int(v.version))  # type: ignore[attr-defined]


def _alias(client: object, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)  # type: ignore[attr-defined]
    except MlflowException:
        return None


def test_weak_candidate_champion_worse_candidate_release_and_serving(
    capstone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train_register.main(["--weak"]) == 0
    client, params = _store(capstone)
    name, alias = params.registry.model_name, params.registry.alias  # type: ignore[attr-defined]
    weak = _versions(client, name)
    assert len(weak) == 1 and _alias(client, name, alias) is None
    assert weak[0].tags["plant"] == "RVB01" and weak[0].tags["run_kind"] == "weak"
    assert "fails the acceptance criteria" in weak[0].tags["promotion"]

    assert train_register.main([]) == 0
    candidate = _versions(client, name)[-1]
    assert _alias(client, name, alias) == str(candidate.version) == "2"
    run = client.get_run(candidate.run_id)  # type: ignore[attr-defined]
    assert run.data.metrics["accuracy"] >= params.acceptance["accuracy"]  # type: ignore[attr-defined]
    assert {"recall_dent", "f1_corrosion", "min_class_recall"} <= set(run.data.metrics)
    assert run.data.params["dataset.eval_version"].endswith(".dir")
    artifacts = {a.path for a in client.list_artifacts(candidate.run_id)}  # type: ignore[attr-defined]
    assert {"model", "evaluation", "model_card.md"} <= artifacts
    card = client.download_artifacts(candidate.run_id, "model_card.md")  # type: ignore[attr-defined]
    assert "Intended use" in Path(card).read_text(encoding="utf-8")

    assert train_register.main(["--line", "press-1"]) == 0  # the same model again: a tie does not promote
    again = _versions(client, name)[-1]
    assert again.tags["production_line"] == "press-1"
    assert _alias(client, name, alias) == "2"
    assert "does not beat the champion" in again.tags["promotion"]

    subprocess.run(["git", "init", "-q"], cwd=capstone, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=capstone, check=True)
    subprocess.run([*GIT, "commit", "-qm", "capstone"], cwd=capstone, check=True)
    assert release.main(["--approver", "Priya Nair (QE)", "--change-request", "CR-2026-0999"]) == 0
    records = list((capstone / "releases").glob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text(encoding="utf-8"))
    release.validate(record)
    assert record["model"]["version"] == 2 and record["approval"]["change_request"] == "CR-2026-0999"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=capstone, capture_output=True, text=True).stdout.strip()
    assert record["git"] == {"commit": head, "dirty": False}
    assert all(c["passed"] for c in record["evaluation"]["acceptance"])
    capsys.readouterr()
    assert release.main(["--approver", "Priya Nair (QE)", "--change-request", "CR-2026-0999"]) == 1
    assert "is never overwritten" in capsys.readouterr().err

    from copilot.vision.classifier import VisionClassifier, resolve_model_uri

    weights = resolve_model_uri(f"models:/{name}@{alias}")
    assert weights.name == "inspection-cnn.pt" and weights.is_file()
    classifier = VisionClassifier(f"models:/{name}@{alias}", device="cpu")
    classifier.load_sync()
    assert classifier.version == f"{name}-candidate" and classifier.image_size == params.data.image_size  # type: ignore[attr-defined]


def test_release_refuses_without_a_champion_or_with_uncommitted_changes(
    capstone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert release.main(["--approver", "Priya Nair (QE)", "--change-request", "CR-2026-0999"]) == 1
    assert "a release must cite a commit" in capsys.readouterr().err
    subprocess.run(["git", "init", "-q"], cwd=capstone, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=capstone, check=True)
    subprocess.run([*GIT, "commit", "-qm", "capstone"], cwd=capstone, check=True)
    assert release.main(["--approver", "Priya Nair (QE)", "--change-request", "CR-2026-0999"]) == 1
    assert "no version of inspection-cnn has the alias champion" in capsys.readouterr().err
    (capstone / "params.yaml").write_text((capstone / "params.yaml").read_text() + "\n# edited\n")
    assert release.main(["--approver", "Priya Nair (QE)", "--change-request", "CR-2026-0999"]) == 1
    assert "uncommitted changes" in capsys.readouterr().err
    assert release.main(["--approver", "x", "--change-request", "142"]) == 1
    assert "does not look like CR-2026-0142" in capsys.readouterr().err


def test_stale_data_stops_training_before_anything_is_logged(
    capstone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = capstone / "data" / "inspection" / "eval" / "labels.csv"
    labels.write_text(labels.read_text().replace("dent-0002.png,dent", "dent-0002.png,scratch"))
    assert train_register.main([]) == 1
    err = capsys.readouterr().err
    assert "stale data versions" in err and "data/inspection/eval.dvc" in err
    assert not (capstone.parent / "store" / "mlflow.db").exists()


def test_unknown_model_uri_is_a_clear_service_error(capstone: Path) -> None:
    from copilot.vision.classifier import ModelUnavailable, resolve_model_uri

    with pytest.raises(ModelUnavailable, match="Registered Model with name=no-such-model not found"):
        resolve_model_uri("models:/no-such-model@champion")
