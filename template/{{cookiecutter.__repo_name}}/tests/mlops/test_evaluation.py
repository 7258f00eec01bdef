"""Evaluation metrics and acceptance criteria: what decides whether a version may become champion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlops.evaluation import acceptance, classification_metrics, confusion_matrix, plot_confusion

CLASSES = ("ok", "scratch", "dent", "corrosion")


def test_metrics_from_a_known_confusion_matrix() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    predictions = np.array([0, 0, 1, 2, 2, 2, 3, 0])
    confusion = confusion_matrix(labels, predictions, 4)
    assert confusion.tolist() == [[2, 0, 0, 0], [0, 1, 1, 0], [0, 0, 2, 0], [1, 0, 0, 1]]
    metrics = classification_metrics(confusion, CLASSES)
    assert metrics["accuracy"] == 0.75
    assert metrics["recall_scratch"] == 0.5 and metrics["precision_ok"] == pytest.approx(0.6667)
    assert metrics["min_class_recall"] == 0.5
    assert metrics["f1_dent"] == 0.8
    assert {f"{kind}_{c}" for kind in ("precision", "recall", "f1") for c in CLASSES} <= set(metrics)


def test_a_class_never_predicted_scores_zero_not_nan() -> None:
    metrics = classification_metrics(confusion_matrix(np.array([0, 1]), np.array([0, 0]), 2), ("ok", "dent"))
    assert metrics["precision_dent"] == 0.0 and metrics["f1_dent"] == 0.0


def test_acceptance_criteria() -> None:
    criteria = acceptance({"accuracy": 0.96, "min_class_recall": 0.85}, {"accuracy": 0.95, "min_class_recall": 0.9})
    assert [c.passed for c in criteria] == [True, False]
    missing = acceptance({}, {"macro_f1": 0.8})[0]
    assert not missing.passed and missing.as_dict() == {
        "metric": "macro_f1",
        "minimum": 0.8,
        "value": None,
        "passed": False,
    }


def test_confusion_matrix_plot_is_a_png(tmp_path: Path) -> None:
    path = plot_confusion(np.eye(4, dtype=int) * 5, CLASSES, tmp_path / "cm.png", "test")
    assert path.read_bytes().startswith(b"\x89PNG")
